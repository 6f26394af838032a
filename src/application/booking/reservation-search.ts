import type { AsOf } from '../as-of.js';
import { invalid, requireInstant } from '../../domain/catalog/validation.js';
import type { EventStore, RecordedEvent } from '../ports/event-store.port.js';
import type { FieldCondition, ReadModelStore } from '../ports/read-model-store.port.js';
import { physicalCollection } from '../projections/projection.js';
import {
  reservationDetailsProjection,
  type ReservationDocument,
} from '../projections/reservation-details.projection.js';
import { getReservation } from '../reservations/reservation-queries.js';

export interface ReservationFilter {
  /** One status or several. */
  readonly status?: readonly string[];
  /** Reservations starting in `[from, to)`. */
  readonly from?: string;
  readonly to?: string;
  /** The customer's id, email or E.164 phone (or an explicit `id:` / `email:` / `phone:` key). */
  readonly customer?: string;
  readonly serviceId?: string;
  readonly resourceId?: string;
  readonly locationId?: string;
}

export interface ReservationPage {
  readonly items: ReservationDocument[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  readonly nextCursor: string | null;
}

export const MAX_PAGE_SIZE = 200;

/** The read-model condition for what a user typed as the customer: an email, an E.164 phone, or the customer id. */
export function customerCondition(customer: string): Record<string, FieldCondition> {
  const value = customer.trim();
  if (value.includes('@')) return { 'customer.email': { $in: [...new Set([value, value.toLowerCase()])] } };
  if (/^\+\d{7,15}$/.test(value)) return { 'customer.phone': value };
  return { 'customer.id': value };
}

/** Opaque cursor: the (start, _id) of the last item of a page, in the sort order of the list. */
export function encodeCursor(start: string, id: string): string {
  return Buffer.from(JSON.stringify([start, id]), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): { start: string; id: string } {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && typeof parsed[0] === 'string' && typeof parsed[1] === 'string') {
      return { start: parsed[0], id: parsed[1] };
    }
  } catch {
    // fall through
  }
  throw invalid('cursor', 'cursor', 'cursor must be a value returned as nextCursor.');
}

/**
 * Reservations by status, time, customer, service, resource and location, ordered by start then id, a page at a
 * time. Keyset pagination: a page starts after the (start, id) of the previous page's last item, so inserts
 * between requests neither repeat nor skip items already passed.
 */
export async function listReservations(
  readModels: ReadModelStore,
  tenantId: string,
  filter: ReservationFilter,
  page: { cursor?: string; limit?: number } = {},
): Promise<ReservationPage> {
  const limit = Math.min(MAX_PAGE_SIZE, Math.max(1, page.limit ?? 50));
  const base: Record<string, FieldCondition> = { tenantId };
  if (filter.status && filter.status.length > 0) base.status = { $in: [...filter.status] };
  if (filter.customer) Object.assign(base, customerCondition(filter.customer));
  if (filter.serviceId) base.serviceId = filter.serviceId;
  if (filter.resourceId) base.resourceId = filter.resourceId;
  if (filter.locationId) base.locationId = filter.locationId;
  const from = filter.from !== undefined ? requireInstant('from', filter.from) : undefined;
  const to = filter.to !== undefined ? requireInstant('to', filter.to) : undefined;
  if (from && to && to <= from) throw invalid('to', 'after-from', 'to must be after from.');

  const collection = physicalCollection(reservationDetailsProjection);
  type Stored = ReservationDocument & { _id: string; _position?: string };
  const found: Stored[] = [];
  let startCondition: Exclude<FieldCondition, string | number | boolean | null> = {
    ...(from ? { $gte: from } : {}),
    ...(to ? { $lt: to } : {}),
  };
  if (page.cursor) {
    const after = decodeCursor(page.cursor);
    // Same start, later id; then later starts. The store's filters are conjunctions, so two queries.
    found.push(
      ...(await readModels.find<Stored>(
        collection,
        { ...base, start: after.start, _id: { $gt: after.id } },
        { sort: { field: '_id', direction: 1 }, limit: limit + 1 },
      )),
    );
    startCondition = { ...startCondition, $gt: after.start };
    delete startCondition.$gte;
  }
  if (found.length <= limit) {
    found.push(
      ...(await readModels.find<Stored>(
        collection,
        { ...base, ...(Object.keys(startCondition).length > 0 ? { start: startCondition } : {}) },
        { sort: { field: 'start', direction: 1 }, limit: limit + 1 - found.length },
      )),
    );
  }
  const items = found.slice(0, limit);
  const last = items.at(-1);
  const nextCursor = found.length > limit && last ? encodeCursor(last.start, last._id) : null;
  return {
    items: items.map(({ _id: _ignoredId, _position: _ignoredPosition, ...doc }) => doc as ReservationDocument),
    nextCursor,
  };
}

export interface HistoryEntry {
  readonly eventId: string;
  readonly revision: number;
  readonly type: string;
  readonly data: Record<string, unknown>;
  readonly metadata: { actor: string | null; causationId: string | null; correlationId: string | null };
  readonly recordedAt: string;
}

/** Events of a stream as an auditor reads them: who did it, what caused it, when. */
export function historyOf(events: readonly RecordedEvent[]): HistoryEntry[] {
  const text = (value: unknown) => (typeof value === 'string' ? value : null);
  return events.map((event) => ({
    eventId: event.id,
    revision: Number(event.revision),
    type: event.type,
    data: event.data,
    metadata: {
      actor: text(event.metadata.actor),
      causationId: text(event.metadata.causationId),
      correlationId: text(event.metadata.correlationId),
    },
    recordedAt: event.recordedAt,
  }));
}

/**
 * Every event of one reservation, oldest first, as an auditor reads them. 404 when it does not exist. With `asOf`,
 * the events up to that point only.
 */
export async function getReservationHistory(
  eventStore: EventStore,
  tenantId: string,
  reservationId: string,
  asOf?: AsOf,
): Promise<{ revision: bigint; events: HistoryEntry[] }> {
  const { revision, events } = await getReservation(eventStore, tenantId, reservationId, asOf);
  return { revision, events: historyOf(events) };
}
