import { DELIVERY_EVENT_TYPES } from '../../domain/notification/index.js';
import type { Projection } from './projection.js';

/**
 * The delivery audit trail as auditors read it: append-only, one entry per recorded notification event, keyed by
 * the event id. Message bodies and recipient addresses stay in the event store; entries carry ids, the masked
 * recipient and outcomes.
 */
export interface AuditEntryDocument extends Record<string, unknown> {
  tenantId: string;
  eventId: string;
  notificationId: string;
  type: string;
  at: string;
  recordedAt: string;
  position: string;
  actor: string | null;
  causationId: string | null;
  correlationId: string | null;
  detail: Record<string, unknown>;
}

const OMIT = new Set(['content', 'recipient', 'notificationId', 'tenantId']);

export const notificationAuditLogProjection: Projection<AuditEntryDocument> = {
  name: 'notification-audit-log',
  version: 1,
  collection: 'notification_audit',
  eventTypes: DELIVERY_EVENT_TYPES,
  indexes: [
    ['tenantId', 'notificationId', 'position'],
    ['tenantId', 'recordedAt'],
  ],
  documentId: (event) => `${event.metadata.tenantId}:${event.id}`,
  evolve(existing, event) {
    if (existing) return existing; // append-only: an entry never changes
    const data = event.data as Record<string, unknown>;
    const str = (value: unknown) => (typeof value === 'string' ? value : null);
    return {
      tenantId: event.metadata.tenantId,
      eventId: event.id,
      notificationId: String(data.notificationId),
      type: event.type,
      at: str(data.at) ?? str(data.requestedAt) ?? str(data.skippedAt) ?? event.recordedAt,
      recordedAt: event.recordedAt,
      position: event.position.toString().padStart(20, '0'),
      actor: str(event.metadata.actor),
      causationId: str(event.metadata.causationId),
      correlationId: str(event.metadata.correlationId),
      detail: Object.fromEntries(Object.entries(data).filter(([key]) => !OMIT.has(key))),
    };
  },
};
