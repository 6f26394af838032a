import { z } from 'zod';
import {
  MAX_WEBHOOK_DESCRIPTION,
  MAX_WEBHOOK_EVENT_TYPES,
  MAX_WEBHOOK_URL,
} from '../../../domain/webhooks/webhook-endpoint.decider.js';
import { PUBLISHED_EVENT_TYPES } from '../../../application/webhooks/published-events.js';
import { id, instant, line } from './common.js';

const eventType = z.enum(PUBLISHED_EVENT_TYPES as [string, ...string[]]);
const url = z
  .string()
  .min(1)
  .max(MAX_WEBHOOK_URL)
  .describe('https, a public address (checked again at each connection).');
const eventTypes = z
  .array(eventType)
  .min(1)
  .max(MAX_WEBHOOK_EVENT_TYPES)
  .nullable()
  .describe('The event types sent; null: every published type.');

export const webhookEndpointParams = z.object({ endpointId: id });
export const webhookDeliveryParams = z.object({
  endpointId: z.uuid(),
  deliveryId: z.string().regex(/^msg_[0-9a-f]{32}$/),
});

export const webhookEndpointInputSchema = z
  .strictObject({
    url,
    eventTypes: eventTypes.default(null),
    description: line(MAX_WEBHOOK_DESCRIPTION).default(''),
  })
  .meta({ id: 'NewWebhookEndpoint' });

export const webhookEndpointPatchSchema = z
  .strictObject({
    url: url.optional(),
    eventTypes: eventTypes.optional(),
    description: line(MAX_WEBHOOK_DESCRIPTION).optional(),
  })
  .meta({ id: 'WebhookEndpointPatch' });

export const webhookEndpointSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    eventTypes: z.array(z.string()).readonly().nullable(),
    description: z.string(),
    status: z.enum(['active', 'paused']),
    pausedAt: z.string().nullable(),
    pauseReason: z
      .enum(['manual', 'failing', 'gone'])
      .nullable()
      .describe('failing / gone: paused by Herald; admins were alerted.'),
    pauseDetail: z.string().nullable(),
    undelivered: z.number().int().describe('Events queued and not delivered yet; a resume continues with the first.'),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'WebhookEndpoint' });

export const webhookEndpointWithSecretSchema = z
  .object({
    endpoint: webhookEndpointSchema,
    secret: z.string().describe('whsec_ + base64: shown once, now; verify webhook-signature with it.'),
  })
  .meta({ id: 'WebhookEndpointSecret' });

export const webhookDeliverySchema = z
  .object({
    id: z.string().describe('The webhook-id header: the same on every attempt and replay.'),
    eventId: z.string(),
    eventType: z.string(),
    eventTimestamp: z.string(),
    status: z.enum(['pending', 'delivered']),
    queuedAt: z.string(),
    deliveredAt: z.string().nullable(),
    nextAttemptAt: z.string().nullable(),
    attempts: z
      .array(
        z.object({
          attempt: z.number().int(),
          at: z.string(),
          status: z.number().int().nullable(),
          error: z.string().nullable(),
          durationMs: z.number(),
          delivered: z.boolean(),
          nextAttemptAt: z.string().nullable(),
        }),
      )
      .readonly(),
  })
  .meta({ id: 'WebhookDelivery' });

export const webhookDeliveriesQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(500).default(100) });

export const webhookReplayInputSchema = z
  .strictObject({ from: instant.describe('Re-send every delivered event recorded at or after this instant.') })
  .meta({ id: 'WebhookReplay' });
