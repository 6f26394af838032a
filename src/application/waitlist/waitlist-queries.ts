import { describeAsOf, eventsAsOf, type AsOf } from '../as-of.js';
import { invalid, requireInstant } from '../../domain/catalog/validation.js';
import { NotFoundError } from '../../domain/shared/errors.js';
import { waitlistStreamName } from '../../domain/waitlist/waitlist.decider.js';
import { historyOf, type HistoryEntry } from '../booking/reservation-search.js';
import type { EventStore } from '../ports/event-store.port.js';
import type { FieldCondition, ReadModelStore, StoredDocument } from '../ports/read-model-store.port.js';
import { deliveriesProjection, type DeliveryDocument } from '../projections/deliveries.projection.js';
import { physicalCollection } from '../projections/projection.js';
import { waitlistsProjection, type WaitlistDocument } from '../projections/waitlists.projection.js';
import { waitlistEntriesProjection, type WaitlistEntryDocument } from '../projections/waitlist-entries.projection.js';

export interface WaitlistFilter {
  readonly serviceId?: string;
  readonly status?: 'open' | 'closed';
  readonly from?: string;
  readonly to?: string;
  readonly limit?: number;
}

export interface WaitlistSummary {
  readonly waitlistId: string;
  readonly serviceId: string;
  readonly serviceName: string;
  readonly locationId: string;
  readonly locationName: string;
  readonly timeZone: string;
  readonly start: string;
  readonly end: string;
  readonly status: 'open' | 'closed';
  readonly waiting: number;
  readonly offered: number;
  readonly booked: number;
}

/** Waitlists of the tenant, soonest slot first (the read model: a moment behind at most). */
export async function listWaitlists(
  readModels: ReadModelStore,
  tenantId: string,
  filter: WaitlistFilter,
): Promise<WaitlistSummary[]> {
  const start: Record<string, string> = {};
  if (filter.from !== undefined) start.$gte = requireInstant('from', filter.from);
  if (filter.to !== undefined) start.$lt = requireInstant('to', filter.to);
  if (start.$gte !== undefined && start.$lt !== undefined && start.$gte >= start.$lt) {
    throw invalid('to', 'after-from', 'to must be after from.');
  }
  const docs = await readModels.find<WaitlistDocument & StoredDocument>(
    physicalCollection(waitlistsProjection),
    {
      tenantId,
      ...(filter.serviceId !== undefined ? { serviceId: filter.serviceId } : {}),
      ...(filter.status !== undefined ? { status: filter.status } : {}),
      ...(Object.keys(start).length > 0 ? { start: start as FieldCondition } : {}),
    },
    { sort: { field: 'start', direction: 1 }, limit: filter.limit ?? 50 },
  );
  return docs.map((doc) => ({
    waitlistId: doc.waitlistId,
    serviceId: doc.serviceId,
    serviceName: doc.serviceName,
    locationId: doc.locationId,
    locationName: doc.locationName,
    timeZone: doc.timeZone,
    start: doc.start,
    end: doc.end,
    status: doc.status,
    waiting: doc.waiting,
    offered: doc.offered,
    booked: doc.booked,
  }));
}

/** The deliveries about one waitlist entry, oldest first (its audit trail). */
export async function listWaitlistNotifications(
  readModels: ReadModelStore,
  tenantId: string,
  entryId: string,
): Promise<DeliveryDocument[]> {
  return readModels.find<DeliveryDocument & StoredDocument>(
    physicalCollection(deliveriesProjection),
    { tenantId, waitlistEntryId: entryId },
    { sort: { field: 'requestedAt', direction: 1 }, limit: 1000 },
  );
}

/** Every event of one waitlist, oldest first, as an auditor reads them. 404 when it does not exist. */
export async function getWaitlistHistory(
  eventStore: EventStore,
  tenantId: string,
  waitlistId: string,
  asOf?: AsOf,
): Promise<{ revision: bigint; events: HistoryEntry[] }> {
  const stream = await eventStore.readStream(waitlistStreamName(tenantId, waitlistId));
  const events = eventsAsOf(stream.events, asOf);
  const revision = events.at(-1)?.revision;
  if (revision === undefined) {
    throw new NotFoundError('waitlist-not-found', `Waitlist ${waitlistId} does not exist.`, {
      waitlistId,
      ...(asOf && stream.revision !== 'no_stream'
        ? { detail: `Waitlist ${waitlistId} did not exist yet at ${describeAsOf(asOf)}.` }
        : {}),
    });
  }
  return { revision, events: historyOf(events) };
}

/** Open offers of a customer's phone number, newest first (for an SMS reply). */
export async function openOffersOfPhone(
  readModels: ReadModelStore,
  tenantId: string,
  phone: string,
): Promise<{ waitlistId: string; offerId: string }[]> {
  const docs = await readModels.find<WaitlistEntryDocument & StoredDocument>(
    physicalCollection(waitlistEntriesProjection),
    { tenantId, customerPhone: phone, status: 'offered' },
    { sort: { field: 'updatedAt', direction: -1 }, limit: 10 },
  );
  return docs
    .filter((doc) => doc.offerId !== null && doc.offerStatus === 'open')
    .map((doc) => ({ waitlistId: doc.waitlistId, offerId: doc.offerId! }));
}
