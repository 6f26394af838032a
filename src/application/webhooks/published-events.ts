import { parseCompoundStreamName } from '../../domain/catalog/stream-name.js';
import type { WebhookPayload } from '../../domain/webhooks/webhook-endpoint.decider.js';
import type { RecordedEvent } from '../ports/event-store.port.js';

/**
 * The domain events a tenant's webhook endpoints receive: what happens to its reservations and waitlists — facts its
 * own systems (a CRM, a Zap) act on. Notifications, credentials, keys, staff accounts and settings are not published.
 * The customer details in these payloads are those the tenant's own booking holds already.
 */
export const PUBLISHED_EVENT_TYPES: readonly string[] = [
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
  'WaitlistEntryJoined',
  'WaitlistEntryLeft',
  'WaitlistEntryRemoved',
  'WaitlistOfferMade',
  'WaitlistSeatAssigned',
  'WaitlistOfferAccepted',
  'WaitlistOfferDeclined',
  'WaitlistOfferExpired',
  'WaitlistOfferWithdrawn',
  'WaitlistExhausted',
  'WaitlistClosed',
];

/** Keys never sent, at any depth (defence in depth: no published payload is meant to carry one). */
const WITHHELD = /secret|token|password|sealed|credential|hash/i;

function withhold(value: unknown, depth = 0): unknown {
  if (depth > 20 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => withhold(item, depth + 1));
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .filter(([key]) => !WITHHELD.test(key))
      .map(([key, item]) => [key, withhold(item, depth + 1)]),
  );
}

/** `{type, timestamp, data}`: the event's payload, with the id of its aggregate (`reservationId`, `waitlistId`). */
export function webhookPayload(event: RecordedEvent): WebhookPayload {
  const stream = parseCompoundStreamName(event.streamName);
  const ids: Record<string, string> = {};
  if (stream?.category === 'reservation' && stream.ids[0]) ids.reservationId = stream.ids[0];
  if (stream?.category === 'waitlist' && stream.ids[0]) ids.waitlistId = stream.ids[0];
  return {
    type: event.type,
    timestamp: event.recordedAt,
    data: { ...ids, ...(withhold(event.data) as Record<string, unknown>) },
  };
}
