import type { ReservationDetails, ReservationEvent } from '../../domain/booking/reservation.decider.js';
import type { RecordedEvent } from '../ports/event-store.port.js';
import type { Projection } from './projection.js';

export const RESERVATION_EVENT_TYPES: readonly ReservationEvent['type'][] = [
  'ReservationRequested',
  'ReservationConfirmed',
  'ReservationCancelled',
  'ReservationDeclined',
  'ReservationDeleted',
  'ReservationMarkedNotTaken',
  'ReservationCompleted',
  'ReservationHoldExpired',
  'ReservationRescheduled',
  'PaymentRecorded',
];

/** "What is the state of reservation X?" and "which reservations match this filter?" */
export interface ReservationDocument extends Record<string, unknown> {
  tenantId: string;
  reservationId: string;
  status: string;
  source: 'internal' | 'external';
  customer: ReservationDetails['customer'];
  customerKey: string | null;
  serviceId: string | null;
  serviceName: string;
  resourceId: string | null;
  locationId: string | null;
  location: ReservationDetails['location'];
  start: string;
  end: string;
  partySize: number;
  payments: { paymentId: string; amount: number; currency: string; recordedAt: string }[];
  /** Stream revision of the last event folded in: the ETag. */
  revision: number;
  createdAt: string;
  updatedAt: string;
  statusReason?: string;
  /** Came from the waitlist (offer accepted or seat assigned); kept whatever the waitlist's settings. */
  origin?: ReservationDetails['origin'];
  /** The short code (absent on reservations recorded before codes existed). */
  code?: string;
}

const STATUS_BY_EVENT: Partial<Record<ReservationEvent['type'], string>> = {
  ReservationCancelled: 'cancelled',
  ReservationDeclined: 'declined',
  ReservationDeleted: 'deleted',
  ReservationMarkedNotTaken: 'not-taken',
  ReservationCompleted: 'completed',
  ReservationHoldExpired: 'expired',
};

export function reservationDocumentId(tenantId: string, reservationId: string): string {
  return `${tenantId}:${reservationId}`;
}

/** A customer is matched by id when the booking system gave one, else by email, else by phone. */
export function customerKeyOf(customer: ReservationDetails['customer']): string | null {
  if (customer.id) return `id:${customer.id}`;
  if (customer.email) return `email:${customer.email.toLowerCase()}`;
  if (customer.phone) return `phone:${customer.phone}`;
  return null;
}

function created(event: RecordedEvent, details: ReservationDetails, status: string): ReservationDocument {
  return {
    tenantId: event.metadata.tenantId,
    reservationId: details.reservationId,
    status,
    source: details.source,
    customer: details.customer,
    customerKey: customerKeyOf(details.customer),
    serviceId: details.serviceId,
    serviceName: details.serviceName,
    resourceId: details.resourceId,
    locationId: details.locationId,
    location: details.location,
    start: details.start,
    end: details.end,
    partySize: details.partySize,
    payments: [],
    revision: Number(event.revision),
    createdAt: event.recordedAt,
    updatedAt: event.recordedAt,
    ...(details.origin ? { origin: details.origin } : {}),
    ...(details.code ? { code: details.code } : {}),
  };
}

export const reservationDetailsProjection: Projection<ReservationDocument> = {
  name: 'reservation-details',
  version: 1,
  collection: 'reservations',
  eventTypes: RESERVATION_EVENT_TYPES,
  indexes: [
    ['tenantId', 'start'],
    ['tenantId', 'status', 'start'],
    ['tenantId', 'customerKey'],
    ['tenantId', 'serviceId', 'start'],
    ['tenantId', 'resourceId', 'start'],
    ['tenantId', 'locationId', 'start'],
    ['tenantId', 'customer.id'],
    ['tenantId', 'customer.email'],
    ['tenantId', 'customer.phone'],
  ],
  documentId: (event) => {
    const reservationId = (event.data as { reservationId?: unknown }).reservationId;
    return typeof reservationId === 'string' ? reservationDocumentId(event.metadata.tenantId, reservationId) : null;
  },
  evolve(doc, recorded) {
    const event = { type: recorded.type, data: recorded.data } as ReservationEvent;
    const touch = (next: ReservationDocument): ReservationDocument => ({
      ...next,
      revision: Number(recorded.revision),
      updatedAt: recorded.recordedAt,
    });
    switch (event.type) {
      case 'ReservationRequested':
        return doc ? touch({ ...doc, status: 'requested' }) : created(recorded, event.data.reservation, 'requested');
      case 'ReservationConfirmed':
        return doc ? touch({ ...doc, status: 'confirmed' }) : created(recorded, event.data.reservation, 'confirmed');
      case 'ReservationRescheduled':
        return doc
          ? touch({
              ...doc,
              start: event.data.new.start,
              end: event.data.new.end,
              resourceId: event.data.new.resourceId,
            })
          : null;
      case 'PaymentRecorded':
        return doc
          ? touch({
              ...doc,
              payments: [
                ...doc.payments,
                {
                  paymentId: event.data.paymentId,
                  amount: event.data.amount,
                  currency: event.data.currency,
                  recordedAt: event.data.recordedAt,
                },
              ],
            })
          : null;
      default: {
        const status = STATUS_BY_EVENT[event.type];
        if (!doc || !status) return doc;
        const reason = (event.data as { reason?: unknown }).reason;
        return touch({ ...doc, status, ...(typeof reason === 'string' && reason ? { statusReason: reason } : {}) });
      }
    }
  },
};
