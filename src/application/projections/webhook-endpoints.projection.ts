import {
  WEBHOOK_ENDPOINT_EVENT_TYPES,
  type WebhookEndpointEvent,
  type WebhookPauseReason,
} from '../../domain/webhooks/webhook-endpoint.decider.js';
import type { Projection } from './projection.js';

/**
 * "Which webhook endpoints does this tenant have?" — the list route, the outbox's lookup of a tenant's endpoints for
 * each published event, and the start-up sweep (endpoints with undelivered events get their sender woken). The
 * deliveries and the secret stay in the endpoint's stream.
 */
export interface WebhookEndpointDocument extends Record<string, unknown> {
  tenantId: string;
  endpointId: string;
  url: string;
  eventTypes: string[] | null;
  description: string;
  status: 'active' | 'paused' | 'deleted';
  pausedAt: string | null;
  pauseReason: WebhookPauseReason | null;
  pauseDetail: string | null;
  undelivered: number;
  /** Global position of the creation: the endpoint receives events recorded after it, never before. */
  createdPosition: string;
  createdAt: string;
  updatedAt: string;
}

export const webhookEndpointsProjection: Projection<WebhookEndpointDocument> = {
  name: 'webhook-endpoints',
  version: 1,
  collection: 'webhook_endpoints',
  eventTypes: WEBHOOK_ENDPOINT_EVENT_TYPES,
  indexes: [['tenantId', 'createdAt'], ['status']],
  documentId: (event) => {
    const endpointId = (event.data as { endpointId?: unknown }).endpointId;
    return typeof endpointId === 'string' ? `${event.metadata.tenantId}:${endpointId}` : null;
  },
  evolve(doc, recorded) {
    const event = { type: recorded.type, data: recorded.data } as WebhookEndpointEvent;
    if (event.type === 'WebhookEndpointCreated') {
      return {
        tenantId: event.data.tenantId,
        endpointId: event.data.endpointId,
        url: event.data.url,
        eventTypes: event.data.eventTypes === null ? null : [...event.data.eventTypes],
        description: event.data.description,
        status: 'active',
        pausedAt: null,
        pauseReason: null,
        pauseDetail: null,
        undelivered: 0,
        createdPosition: recorded.position.toString(),
        createdAt: event.data.at,
        updatedAt: event.data.at,
      };
    }
    if (!doc) return null;
    switch (event.type) {
      case 'WebhookEndpointUpdated':
        return {
          ...doc,
          ...(event.data.url !== undefined ? { url: event.data.url } : {}),
          ...(event.data.eventTypes !== undefined
            ? { eventTypes: event.data.eventTypes === null ? null : [...event.data.eventTypes] }
            : {}),
          ...(event.data.description !== undefined ? { description: event.data.description } : {}),
          updatedAt: event.data.at,
        };
      case 'WebhookSecretRotated':
        return { ...doc, updatedAt: event.data.at };
      case 'WebhookEndpointPaused':
        return {
          ...doc,
          status: 'paused',
          pausedAt: event.data.at,
          pauseReason: event.data.reason,
          pauseDetail: event.data.detail,
        };
      case 'WebhookEndpointResumed':
        return { ...doc, status: 'active', pausedAt: null, pauseReason: null, pauseDetail: null };
      case 'WebhookEndpointDeleted':
        return { ...doc, status: 'deleted', updatedAt: event.data.at };
      case 'WebhookEventQueued':
      case 'WebhookDeliveriesReplayed':
        return {
          ...doc,
          undelivered: doc.undelivered + (event.type === 'WebhookEventQueued' ? 1 : event.data.deliveryIds.length),
        };
      case 'WebhookDeliveryAttempted':
        return event.data.delivered ? { ...doc, undelivered: Math.max(0, doc.undelivered - 1) } : doc;
      default:
        return doc;
    }
  },
};
