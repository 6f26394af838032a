import type { DeliveryEvent } from '../../domain/notification/index.js';
import { DELIVERY_EVENT_TYPES } from '../../domain/notification/index.js';
import type { Projection } from './projection.js';

/** One row per delivery: the audit trail's summary, queried by reservation, customer, status, channel and date. */
export interface DeliveryDocument extends Record<string, unknown> {
  tenantId: string;
  notificationId: string;
  reservationId: string | null;
  customerId: string | null;
  /** Messages about a waitlist entry. Absent in documents built before waitlists (read as null). */
  waitlistEntryId?: string | null;
  /** The workflow that planned it; null before workflows and for messages staff wrote. */
  workflowId?: string | null;
  /** Deliveries of a campaign (bulk message). Absent in documents built before campaigns (read as null). */
  campaignId?: string | null;
  kind: string;
  channel: 'email' | 'sms';
  recipientType: string;
  /** Never the address itself. */
  maskedRecipient: string | null;
  /** Email subject, or the first line of an SMS. */
  summary: string | null;
  status: string;
  skipReason: string | null;
  smsEncoding: string | null;
  smsParts: number | null;
  cost: number;
  attempts: number;
  providerMessageId: string | null;
  lastError: string | null;
  causationEventId: string;
  causedAt: string | null;
  requestedAt: string;
  /** Deferred to the end of quiet hours: not sent before then. */
  notBefore?: string | null;
  sentAt: string | null;
  deliveredAt: string | null;
  finishedAt: string | null;
  /** ms from the causing event to the provider accepting the message. */
  latencyToSentMs: number | null;
  latencyToDeliveredMs: number | null;
  /** Every status with its time, in order: the proof of who was told what, when. */
  history: { status: string; at: string; eventId: string; attempt?: number; detail?: string }[];
  day: string;
}

export function deliveryDocumentId(tenantId: string, notificationId: string): string {
  return `${tenantId}:${notificationId}`;
}

const firstLine = (text: string) => text.split('\n', 1)[0]!.slice(0, 160);
const ms = (from: string | null, to: string) => (from ? Math.max(0, Date.parse(to) - Date.parse(from)) : null);

type Step = (
  status: string,
  at: string,
  extra?: { attempt?: number; detail?: string },
) => DeliveryDocument['history'][number];

/** A failed attempt (retrying) or a final failure: the error becomes the last error and a step of the history. */
function failedWith(
  doc: DeliveryDocument,
  step: Step,
  status: string,
  data: { at: string; error: string; attempt?: number },
  finished: boolean,
): DeliveryDocument {
  return {
    ...doc,
    status,
    lastError: data.error,
    ...(finished ? { finishedAt: data.at } : {}),
    history: [
      ...doc.history,
      step(status, data.at, { ...(data.attempt !== undefined ? { attempt: data.attempt } : {}), detail: data.error }),
    ],
  };
}

export const deliveriesProjection: Projection<DeliveryDocument> = {
  name: 'deliveries',
  version: 1,
  collection: 'deliveries',
  eventTypes: DELIVERY_EVENT_TYPES,
  indexes: [
    ['tenantId', 'reservationId', 'requestedAt'],
    ['tenantId', 'customerId', 'requestedAt'],
    ['tenantId', 'waitlistEntryId', 'requestedAt'],
    ['tenantId', 'campaignId', 'channel', 'status'],
    ['tenantId', 'campaignId', 'requestedAt'],
    ['tenantId', 'status', 'requestedAt'],
    ['tenantId', 'channel', 'requestedAt'],
    ['tenantId', 'providerMessageId'],
  ],
  documentId: (event) =>
    deliveryDocumentId(event.metadata.tenantId, String((event.data as { notificationId?: unknown }).notificationId)),
  evolve(doc, recorded) {
    const event = { type: recorded.type, data: recorded.data } as DeliveryEvent;
    const step = (status: string, at: string, extra: { attempt?: number; detail?: string } = {}) => ({
      status,
      at,
      eventId: recorded.id,
      ...extra,
    });
    switch (event.type) {
      case 'NotificationRequested': {
        const d = event.data;
        return {
          tenantId: d.tenantId,
          notificationId: d.notificationId,
          reservationId: d.reservationId ?? null,
          customerId: d.customerId ?? null,
          waitlistEntryId: d.waitlistEntryId ?? null,
          workflowId: d.workflowId ?? null,
          campaignId: d.campaignId ?? null,
          kind: d.kind,
          channel: d.channel,
          recipientType: d.recipient.type,
          maskedRecipient: d.maskedRecipient,
          summary: d.content.subject ?? firstLine(d.content.text),
          status: 'requested',
          skipReason: null,
          smsEncoding: d.sms?.encoding ?? null,
          smsParts: d.sms?.parts ?? null,
          cost: d.cost ?? 0,
          attempts: 0,
          providerMessageId: null,
          lastError: null,
          causationEventId: d.causationEventId,
          causedAt: d.causedAt ?? null,
          requestedAt: d.requestedAt,
          notBefore: d.notBefore ?? null,
          sentAt: null,
          deliveredAt: null,
          finishedAt: null,
          latencyToSentMs: null,
          latencyToDeliveredMs: null,
          history: [step('requested', d.requestedAt)],
          day: d.requestedAt.slice(0, 10),
        };
      }
      case 'NotificationSkipped': {
        const d = event.data;
        const base: DeliveryDocument = doc ?? {
          tenantId: d.tenantId,
          notificationId: d.notificationId,
          reservationId: d.reservationId ?? null,
          customerId: d.customerId ?? null,
          waitlistEntryId: d.waitlistEntryId ?? null,
          workflowId: d.workflowId ?? null,
          campaignId: d.campaignId ?? null,
          kind: d.kind,
          channel: d.channel,
          recipientType: d.recipientType,
          maskedRecipient: d.maskedRecipient ?? null,
          summary: null,
          status: 'skipped',
          skipReason: d.reason,
          smsEncoding: null,
          smsParts: null,
          cost: 0,
          attempts: 0,
          providerMessageId: null,
          lastError: null,
          causationEventId: d.causationEventId,
          causedAt: null,
          requestedAt: d.skippedAt,
          sentAt: null,
          deliveredAt: null,
          finishedAt: null,
          latencyToSentMs: null,
          latencyToDeliveredMs: null,
          history: [],
          day: d.skippedAt.slice(0, 10),
        };
        return {
          ...base,
          status: 'skipped',
          skipReason: d.reason,
          finishedAt: d.skippedAt,
          history: [
            ...base.history,
            step('skipped', d.skippedAt, d.detail ? { detail: `${d.reason}: ${d.detail}` } : { detail: d.reason }),
          ],
        };
      }
    }
    if (!doc) return null;
    switch (event.type) {
      case 'NotificationAttemptStarted':
        return {
          ...doc,
          status: 'sending',
          attempts: doc.attempts + 1,
          history: [...doc.history, step('sending', event.data.at, { attempt: event.data.attempt })],
        };
      case 'NotificationSent':
        return {
          ...doc,
          status: 'sent',
          providerMessageId: event.data.providerMessageId,
          sentAt: event.data.at,
          latencyToSentMs: ms(doc.causedAt ?? doc.requestedAt, event.data.at),
          history: [...doc.history, step('sent', event.data.at, { attempt: event.data.attempt })],
        };
      case 'NotificationAttemptFailed':
        return failedWith(doc, step, 'retrying', event.data, false);
      case 'NotificationFailed':
        return failedWith(doc, step, 'failed', event.data, true);
      case 'NotificationDeadLettered':
        return failedWith(doc, step, 'dead-lettered', event.data, true);
      case 'NotificationDelivered':
        return {
          ...doc,
          status: 'delivered',
          deliveredAt: event.data.at,
          finishedAt: event.data.at,
          latencyToDeliveredMs: ms(doc.causedAt ?? doc.requestedAt, event.data.at),
          history: [...doc.history, step('delivered', event.data.at)],
        };
      case 'NotificationUndelivered':
      case 'NotificationBounced': {
        const status = event.type === 'NotificationBounced' ? 'bounced' : 'undelivered';
        return {
          ...doc,
          status,
          lastError: event.data.error ?? doc.lastError,
          finishedAt: event.data.at,
          history: [...doc.history, step(status, event.data.at, event.data.error ? { detail: event.data.error } : {})],
        };
      }
      case 'NotificationResendRequested':
        return {
          ...doc,
          status: 'requested',
          finishedAt: null,
          history: [...doc.history, step('resend-requested', event.data.at, { detail: `by ${event.data.by}` })],
        };
      default:
        return doc;
    }
  },
};
