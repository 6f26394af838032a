import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  campaignDeliveryCounts,
  cancelCampaign,
  createCampaign,
  previewBulk,
  requireCampaign,
  type CampaignDeps,
} from '../../../application/messages/campaigns.js';
import { sendManualMessage } from '../../../application/messages/manual-messages.js';
import { physicalCollection } from '../../../application/projections/projection.js';
import { campaignsProjection, type CampaignDocument } from '../../../application/projections/campaigns.projection.js';
import type { StoredDocument } from '../../../application/ports/read-model-store.port.js';
import type { CampaignAudience, CampaignMessage, CampaignState } from '../../../domain/campaign/campaign.decider.js';
import type { DeliveryState } from '../../../domain/notification/index.js';
import { commandContext, requireRole } from '../auth.js';
import type { HttpDeps } from '../http-deps.js';
import { etagFor } from '../conditional.js';
import { id, idempotencyKeyHeader, json, problems } from '../schemas/common.js';
import {
  bulkPreviewResultSchema,
  bulkPreviewSchema,
  campaignCancelSchema,
  campaignCreateSchema,
  campaignListSchema,
  campaignSchema,
  manualMessageResultSchema,
  manualMessageSchema,
  placeholdersNote,
} from '../schemas/messages.js';

const DEFAULT_THROTTLE = { sms: 30, email: 50 } as const;

function messageView(notificationId: string, state: DeliveryState): z.infer<typeof manualMessageResultSchema> {
  if (state.status === 'none') throw new Error('message not recorded');
  if (state.status === 'skipped') {
    const identity = state.identity;
    return {
      messageId: notificationId,
      channel: identity.channel,
      status: 'skipped',
      kind: identity.kind,
      maskedRecipient: identity.maskedRecipient ?? null,
      reservationId: identity.reservationId ?? null,
      customerRef: identity.customerId ?? null,
      cost: 0,
      sms: null,
    };
  }
  const d = state.delivery;
  return {
    messageId: notificationId,
    channel: d.channel,
    status: state.status,
    kind: d.kind,
    maskedRecipient: d.maskedRecipient,
    reservationId: d.reservationId ?? null,
    customerRef: d.customerId ?? null,
    cost: d.cost ?? 0,
    sms: d.sms ? { encoding: d.sms.encoding, parts: d.sms.parts } : null,
  };
}

/**
 * Messages staff write: one to a customer or a reservation's customer, and bulk messages sent as tracked campaigns
 * (preview first, then send; progress while it runs; cancel). Every message is a delivery in the audit trail.
 */
export function messageRoutes(deps: HttpDeps): FastifyPluginAsyncZod {
  const campaignDeps: CampaignDeps = {
    eventStore: deps.eventStore,
    ids: deps.ids,
    clock: deps.clock,
    readModels: deps.readModels,
    throttle: deps.messaging?.throttle ?? DEFAULT_THROTTLE,
  };

  const campaignView = async (
    tenantId: string,
    state: Exclude<CampaignState, { status: 'none' }>,
    revision: bigint,
  ): Promise<z.infer<typeof campaignSchema>> => {
    const counts = await campaignDeliveryCounts(
      deps.readModels,
      tenantId,
      state.campaign.campaignId,
      state.campaign.channels,
    );
    const progress: Record<string, z.infer<typeof campaignSchema>['progress'][string]> = {};
    for (const channel of state.campaign.channels) {
      const p = 'progress' in state ? state.progress?.[channel] : undefined;
      const running = state.status === 'running' && p !== undefined && p.next < state.recipients.length;
      progress[channel] = {
        recipients: state.recipients.length,
        processed: p?.next ?? 0,
        requested: p?.requested ?? 0,
        skipped: p?.skipped ?? 0,
        throttlePerSecond: ('throttle' in state ? state.throttle?.[channel] : undefined) ?? null,
        nextBatchAt: running ? (p?.nextAt ?? null) : null,
        deliveries: counts[channel] ?? {},
      };
    }
    return {
      campaignId: state.campaign.campaignId,
      name: state.campaign.name,
      status: state.status,
      audience: state.campaign.audience as unknown as Record<string, unknown>,
      channels: [...state.campaign.channels],
      recipientCount: state.recipients.length,
      progress,
      createdAt: state.createdAt,
      createdBy: state.createdBy,
      startedAt: ('startedAt' in state ? state.startedAt : undefined) ?? null,
      completedAt: state.status === 'completed' ? state.completedAt : null,
      cancelledAt: state.status === 'cancelled' ? state.cancelledAt : null,
      revision: Number(revision),
    };
  };

  return async (app) => {
    app.post(
      '/messages',
      {
        schema: {
          operationId: 'sendMessage',
          tags: ['messages'],
          summary: 'Send a message staff wrote to one customer, or to the customer of one reservation (email or SMS).',
          description:
            `${placeholdersNote} Charged per the price list (an SMS per part, a hand-sent email at emailManual). ` +
            '409 with nothing sent or charged when the customer has no contact on the channel, opted out of SMS or ' +
            'blocked messages from staff there, or the credits do not cover it. The same messageId (or ' +
            'Idempotency-Key) again answers the message already sent (200).',
          headers: z.object({ 'idempotency-key': idempotencyKeyHeader }).loose(),
          body: manualMessageSchema,
          response: {
            201: json(manualMessageResultSchema, 'Sent: its delivery (Location).', { Location: true }),
            200: json(manualMessageResultSchema, 'The message already sent with this messageId.', { Location: true }),
            ...problems(400, 401, 403, 404, 409, 413, 415, 422),
          },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin', 'staff');
        const key = request.headers['idempotency-key'];
        const result = await sendManualMessage(
          { ...campaignDeps, ...(deps.messaging?.maxAttempts ? { maxAttempts: deps.messaging.maxAttempts } : {}) },
          commandContext(principal, request.id),
          request.body,
          typeof key === 'string' ? key : undefined,
        );
        return reply
          .code(result.created ? 201 : 200)
          .header('location', `/v1/deliveries/${result.notificationId}`)
          .send(messageView(result.notificationId, result.state));
      },
    );

    app.post(
      '/messages/bulk/preview',
      {
        schema: {
          operationId: 'previewBulkMessage',
          tags: ['messages'],
          summary:
            'Before sending a bulk message: recipients, channel mix, SMS parts, credit cost, who is left out and why.',
          description: `${placeholdersNote} Nothing changes. POST /v1/campaigns with the same audience and message sends it.`,
          body: bulkPreviewSchema,
          response: {
            200: json(bulkPreviewResultSchema, 'Who would get the message, and what it would cost.'),
            ...problems(400, 401, 403, 413, 415),
          },
        },
      },
      async (request) => {
        const principal = requireRole(request, 'admin', 'staff');
        const preview = await previewBulk(campaignDeps, principal.tenantId, {
          audience: request.body.audience as CampaignAudience,
          message: request.body.message as CampaignMessage,
        });
        return preview as unknown as z.infer<typeof bulkPreviewResultSchema>;
      },
    );

    app.post(
      '/campaigns',
      {
        schema: {
          operationId: 'createCampaign',
          tags: ['messages'],
          summary: 'Send a bulk message as a tracked campaign: recipients fixed now, sent throttled, cancellable.',
          description:
            `${placeholdersNote} The recipients are decided at creation and recorded with the campaign; each gets ` +
            'one delivery per channel (preferences and opt-outs are checked again when it is sent, and a left-out ' +
            'recipient is recorded as skipped with the reason). SMS and email go out at most at the configured rate ' +
            '(CAMPAIGN_SMS_PER_SECOND, CAMPAIGN_EMAIL_PER_SECOND). 409 insufficient-credits when the credits do not ' +
            'cover it. Idempotent: the same campaignId, or the same Idempotency-Key, never sends twice.',
          headers: z.object({ 'idempotency-key': idempotencyKeyHeader }).loose(),
          body: campaignCreateSchema,
          response: {
            201: json(campaignSchema, 'The campaign, created and starting.', { Location: true, ETag: true }),
            200: json(campaignSchema, 'The campaign already created with this id or key.', {
              Location: true,
              ETag: true,
            }),
            ...problems(400, 401, 403, 409, 413, 415, 422),
          },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin', 'staff');
        const key = request.headers['idempotency-key'];
        const campaignId =
          request.body.campaignId ??
          (typeof key === 'string'
            ? deps.ids.derive('campaign', principal.tenantId, 'idempotency-key', key)
            : deps.ids.newId());
        const { created } = await createCampaign(campaignDeps, commandContext(principal, request.id), campaignId, {
          name: request.body.name,
          audience: request.body.audience as CampaignAudience,
          message: request.body.message as CampaignMessage,
        });
        const { state, revision } = await requireCampaign(deps.eventStore, principal.tenantId, campaignId);
        return reply
          .code(created ? 201 : 200)
          .header('location', `/v1/campaigns/${campaignId}`)
          .header('etag', etagFor(revision))
          .send(await campaignView(principal.tenantId, state, revision));
      },
    );

    app.get(
      '/campaigns',
      {
        schema: {
          operationId: 'listCampaigns',
          tags: ['messages'],
          summary: 'Campaigns, newest first.',
          querystring: z.strictObject({ limit: z.coerce.number().int().min(1).max(200).default(50) }),
          response: { 200: json(campaignListSchema, 'Campaigns, newest first.'), ...problems(400, 401, 403) },
        },
      },
      async (request) => {
        const principal = requireRole(request, 'admin', 'staff');
        const docs = await deps.readModels.find<CampaignDocument & StoredDocument>(
          physicalCollection(campaignsProjection),
          { tenantId: principal.tenantId },
          { sort: { field: 'createdAt', direction: -1 }, limit: request.query.limit },
        );
        return {
          items: docs.map((doc) => ({
            campaignId: doc.campaignId,
            name: doc.name,
            status: doc.status,
            channels: doc.channels,
            recipientCount: doc.recipientCount,
            createdAt: doc.createdAt,
            completedAt: doc.completedAt,
            cancelledAt: doc.cancelledAt,
          })),
        };
      },
    );

    const params = z.object({ campaignId: id });

    app.get(
      '/campaigns/:campaignId',
      {
        schema: {
          operationId: 'getCampaign',
          tags: ['messages'],
          summary: 'A campaign and its progress per channel while it runs (processed, requested, skipped, by status).',
          description: 'The deliveries of the campaign: GET /v1/deliveries?campaignId=...',
          params,
          response: {
            200: json(campaignSchema, 'The campaign and its progress.', { ETag: true }),
            ...problems(400, 401, 403, 404),
          },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin', 'staff');
        const { state, revision } = await requireCampaign(
          deps.eventStore,
          principal.tenantId,
          request.params.campaignId,
        );
        return reply.header('etag', etagFor(revision)).send(await campaignView(principal.tenantId, state, revision));
      },
    );

    app.post(
      '/campaigns/:campaignId/cancel',
      {
        schema: {
          operationId: 'cancelCampaign',
          tags: ['messages'],
          summary: 'Stop a campaign: no further recipients are sent to (those already requested still go out).',
          params,
          body: campaignCancelSchema.optional(),
          response: {
            200: json(campaignSchema, 'The campaign, cancelled.', { ETag: true }),
            ...problems(400, 401, 403, 404, 409, 415),
          },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin', 'staff');
        await cancelCampaign(
          campaignDeps,
          commandContext(principal, request.id),
          request.params.campaignId,
          request.body?.reason,
        );
        const { state, revision } = await requireCampaign(
          deps.eventStore,
          principal.tenantId,
          request.params.campaignId,
        );
        return reply.header('etag', etagFor(revision)).send(await campaignView(principal.tenantId, state, revision));
      },
    );
  };
}
