import {
  reservationDecider,
  type Customer,
  type ReservationDetails,
  type ReservationEvent,
  type ReservationState,
} from '../../domain/booking/reservation.decider.js';
import type { BlockedKinds, CustomerPreferencesEvent } from '../../domain/notification/index.js';
import { toDomainEvent } from '../command-handler.js';
import type { EventStore, RecordedEvent } from '../ports/event-store.port.js';
import type { IdSource } from '../ports/id-source.port.js';
import type { ReadModelStore } from '../ports/read-model-store.port.js';
import type { EventConsumer } from '../subscriptions/checkpointed-subscriber.js';
import { customerRefOf } from '../notifications/notification-settings.js';
import { projectionConsumer, type Projection } from './projection.js';
import { RESERVATION_EVENT_TYPES } from './reservation-details.projection.js';

/**
 * "Which customers do we have, and who are they?" — staff search and filter them (name, email, phone, tags, last
 * visit, number of reservations), and send manual and bulk messages to them. One document per customer ref (the
 * booking system's customer id, else derived from email or phone: `customerRefOf`), with their contact (from their
 * latest reservation), preferences and tags (their `customer-` stream) and a line per reservation.
 *
 * A cancellation names no customer, so the consumer first reads the reservation's stream up to the event (the
 * event store, never another read model) and hands the projection the event with the reservation as it was then
 * (`asOf`) and its customer ref. Evolve stays a pure function of that enriched event; a rebuild replays the same.
 */

export const CUSTOMER_PREFERENCE_EVENT_TYPES: readonly CustomerPreferencesEvent['type'][] = [
  'CustomerPreferencesChanged',
  'CustomerSmsOptedOut',
  'CustomerSmsOptedIn',
  'CustomerTagsChanged',
];

/** Statuses of a reservation that was made and not called off: they count as reservations. */
const COUNTED = new Set(['requested', 'confirmed', 'completed', 'not-taken']);
/** Statuses in which the customer came (or is booked to come): the latest start is the last visit. */
const VISITED = new Set(['confirmed', 'completed']);

export interface CustomerReservationLine {
  readonly reservationId: string;
  readonly code: string | null;
  readonly status: string;
  readonly serviceId: string | null;
  readonly serviceName: string;
  readonly locationId: string | null;
  readonly start: string;
  readonly end: string;
}

export interface CustomerDocument extends Record<string, unknown> {
  tenantId: string;
  customerRef: string;
  /** The booking system's id, when its reservations carry one. */
  customerId: string | null;
  name: string | null;
  email: string | null;
  phone: string | null;
  locale: string | null;
  tags: string[];
  /** Lower-case tags: what the `tag` filter matches. */
  tagKeys: string[];
  blocked: { email: string[]; sms: string[] };
  smsOptedOut: boolean;
  reservations: CustomerReservationLine[];
  /** Reservations made and not called off (requested, confirmed, completed, not taken). */
  reservationCount: number;
  /** Start of the latest confirmed or completed reservation (a booked future visit counts), or null. */
  lastVisitAt: string | null;
  /** Normalised words of name, email and phone, with their prefixes: what `query` matches. */
  search: string[];
  /** The name as the list sorts it (accents folded, lower case). */
  sortName: string;
  updatedAt: string;
}

/** The event as the projection sees it: a reservation event carries the reservation as it was, and its ref. */
interface EnrichedReservationData {
  readonly customerRef?: string;
  readonly asOf?: { readonly status: string; readonly reservation: ReservationDetails };
}

export function customerDocumentId(tenantId: string, customerRef: string): string {
  return `${tenantId}:${customerRef}`;
}

/** Lower case, accents folded (`Dvořák` → `dvorak`): how names are compared and searched. */
export function foldText(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

const MAX_TOKEN = 30;

/** Words and their prefixes (2+ characters); an email whole and by its parts; a phone by its digits and endings. */
export function searchTokens(customer: {
  name?: string | null;
  email?: string | null;
  phone?: string | null;
}): string[] {
  const tokens = new Set<string>();
  const prefixes = (word: string) => {
    for (let n = 2; n <= Math.min(word.length, MAX_TOKEN); n++) tokens.add(word.slice(0, n));
    if (word.length === 1) tokens.add(word);
  };
  for (const word of foldText(customer.name ?? '').split(/[^\p{L}\p{N}]+/u)) if (word) prefixes(word);
  if (customer.email) {
    const email = foldText(customer.email.trim());
    tokens.add(email);
    const [local = '', domain = ''] = email.split('@');
    prefixes(local);
    for (const word of local.split(/[^\p{L}\p{N}]+/u)) if (word) prefixes(word);
    if (domain) tokens.add(domain);
  }
  if (customer.phone) {
    const digits = customer.phone.replace(/\D/g, '');
    tokens.add(digits);
    for (let n = 4; n < digits.length; n++) tokens.add(digits.slice(-n));
  }
  return [...tokens].sort();
}

/** What a search query becomes: the tokens a matching customer must all have. */
export function queryTokens(query: string): string[] {
  const trimmed = query.trim();
  if (/^\+?[\d\s().-]{4,}$/.test(trimmed)) return [trimmed.replace(/\D/g, '')];
  if (trimmed.includes('@')) return [foldText(trimmed).slice(0, 254)];
  return [
    ...new Set(
      foldText(trimmed)
        .split(/[^\p{L}\p{N}]+/u)
        .filter(Boolean)
        .map((word) => word.slice(0, MAX_TOKEN)),
    ),
  ];
}

function emptyDocument(tenantId: string, customerRef: string, at: string): CustomerDocument {
  return {
    tenantId,
    customerRef,
    customerId: null,
    name: null,
    email: null,
    phone: null,
    locale: null,
    tags: [],
    tagKeys: [],
    blocked: { email: [], sms: [] },
    smsOptedOut: false,
    reservations: [],
    reservationCount: 0,
    lastVisitAt: null,
    search: [],
    sortName: '',
    updatedAt: at,
  };
}

function withDerived(doc: CustomerDocument): CustomerDocument {
  const visits = doc.reservations.filter((line) => VISITED.has(line.status)).map((line) => line.start);
  return {
    ...doc,
    reservationCount: doc.reservations.filter((line) => COUNTED.has(line.status)).length,
    lastVisitAt: visits.length > 0 ? visits.reduce((a, b) => (Date.parse(a) >= Date.parse(b) ? a : b)) : null,
    search: searchTokens(doc),
    sortName: foldText(doc.name ?? ''),
    tagKeys: doc.tags.map((tag) => tag.toLowerCase()),
  };
}

function contactOf(customer: Customer): Pick<CustomerDocument, 'customerId' | 'name' | 'email' | 'phone' | 'locale'> {
  return {
    customerId: customer.id ?? null,
    name: customer.name,
    email: customer.email ?? null,
    phone: customer.phone ?? null,
    locale: customer.locale,
  };
}

export const customersProjection: Projection<CustomerDocument> = {
  name: 'customers',
  version: 1,
  collection: 'customers',
  eventTypes: [...RESERVATION_EVENT_TYPES, ...CUSTOMER_PREFERENCE_EVENT_TYPES],
  indexes: [
    ['tenantId', 'sortName'],
    ['tenantId', 'customerRef'],
    ['tenantId', 'search'],
    ['tenantId', 'tagKeys'],
    ['tenantId', 'lastVisitAt'],
    ['tenantId', 'reservationCount'],
  ],
  documentId(event) {
    const tenantId = event.metadata.tenantId;
    if ((CUSTOMER_PREFERENCE_EVENT_TYPES as readonly string[]).includes(event.type)) {
      const ref = (event.data as { customerId?: unknown }).customerId;
      return typeof ref === 'string' ? customerDocumentId(tenantId, ref) : null;
    }
    const ref = (event.data as EnrichedReservationData).customerRef;
    return typeof ref === 'string' ? customerDocumentId(tenantId, ref) : null;
  },
  evolve(doc, event) {
    const tenantId = event.metadata.tenantId;
    if ((CUSTOMER_PREFERENCE_EVENT_TYPES as readonly string[]).includes(event.type)) {
      const change = toDomainEvent<CustomerPreferencesEvent>(event);
      const current = doc ?? emptyDocument(tenantId, change.data.customerId, event.recordedAt);
      const touched = { ...current, updatedAt: event.recordedAt };
      switch (change.type) {
        case 'CustomerPreferencesChanged': {
          const blocked = change.data.blocked as BlockedKinds;
          return withDerived({ ...touched, blocked: { email: [...blocked.email], sms: [...blocked.sms] } });
        }
        case 'CustomerSmsOptedOut':
          return withDerived({ ...touched, smsOptedOut: true });
        case 'CustomerSmsOptedIn':
          return withDerived({ ...touched, smsOptedOut: false });
        case 'CustomerTagsChanged':
          return withDerived({ ...touched, tags: [...change.data.tags] });
        default:
          return doc;
      }
    }
    const { customerRef, asOf } = event.data as EnrichedReservationData;
    if (!customerRef || !asOf) return doc;
    const reservation = asOf.reservation;
    const current = doc ?? emptyDocument(tenantId, customerRef, event.recordedAt);
    const line: CustomerReservationLine = {
      reservationId: reservation.reservationId,
      code: reservation.code ?? null,
      status: asOf.status,
      serviceId: reservation.serviceId,
      serviceName: reservation.serviceName,
      locationId: reservation.locationId,
      start: reservation.start,
      end: reservation.end,
    };
    const others = current.reservations.filter((known) => known.reservationId !== line.reservationId);
    const known = others.length !== current.reservations.length;
    return withDerived({
      ...current,
      // The contact of the latest reservation recorded: a customer's new email replaces the old one.
      ...(known ? {} : contactOf(reservation.customer)),
      ...(current.name === null ? contactOf(reservation.customer) : {}),
      reservations: [...others, line].sort((a, b) => Date.parse(a.start) - Date.parse(b.start)),
      updatedAt: event.recordedAt,
    });
  },
};

function foldUpTo(events: readonly RecordedEvent[], revision: bigint): ReservationState {
  let state = reservationDecider.initialState();
  for (const recorded of events) {
    if (recorded.revision > revision) break;
    state = reservationDecider.evolve(state, toDomainEvent<ReservationEvent>(recorded));
  }
  return state;
}

/**
 * The customers projection as a checkpointed consumer: reservation events are enriched with the reservation as of
 * the event (read from its stream) and its customer ref, then applied with the same guarded writes as any
 * projection.
 */
export function customersConsumer(deps: {
  readonly eventStore: EventStore;
  readonly readModels: ReadModelStore;
  readonly ids: IdSource;
}): EventConsumer {
  const inner = projectionConsumer(deps.readModels, customersProjection as unknown as Projection);
  return {
    ...inner,
    async handle(event) {
      if ((CUSTOMER_PREFERENCE_EVENT_TYPES as readonly string[]).includes(event.type)) return inner.handle(event);
      const { events } = await deps.eventStore.readStream(event.streamName);
      const state = foldUpTo(events, event.revision);
      if (state.status === 'none') return;
      const customerRef = customerRefOf(deps.ids, event.metadata.tenantId, state.reservation.customer);
      if (!customerRef) return;
      const enriched: EnrichedReservationData = {
        customerRef,
        asOf: { status: state.status, reservation: state.reservation },
      };
      await inner.handle({ ...event, data: { ...event.data, ...enriched } });
    },
  };
}
