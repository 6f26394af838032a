import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  getDelivery,
  listDeliveries,
  listSentSms,
  resendDelivery,
  type PageKey,
  type StoredDelivery,
} from '../../../application/notifications/delivery-admin.js';
import type { DeliveryDocument } from '../../../application/projections/deliveries.projection.js';
import { commandContext, requireRole } from '../auth.js';
import type { HttpDeps } from '../http-deps.js';
import { HttpProblem, problem } from '../problem.js';
import { asOfOf, asOfQuery, id, json, problems } from '../schemas/common.js';
import {
  deliveryDetailSchema,
  deliveryListQuerySchema,
  deliveryListSchema,
  resendResultSchema,
  sentSmsQuerySchema,
  sentSmsSchema,
} from '../schemas/settings.js';
import type { deliveryRecordSchema } from '../schemas/settings.js';

/** Opaque to clients: where the previous page ended, as base64url JSON. */
function encodeCursor(key: PageKey | undefined): string | null {
  return key ? Buffer.from(JSON.stringify([key.at, key.id]), 'utf8').toString('base64url') : null;
}

function decodeCursor(cursor: string | undefined): PageKey | undefined {
  if (cursor === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(parsed) &&
      parsed.length === 2 &&
      typeof parsed[0] === 'string' &&
      typeof parsed[1] === 'string'
    ) {
      return { at: parsed[0], id: parsed[1] };
    }
  } catch {
    // fall through to the problem below
  }
  throw new HttpProblem(
    problem(400, 'invalid-cursor', 'The cursor is not one this service returned.', {
      errors: [{ field: 'querystring.cursor', message: 'invalid cursor' }],
    }),
  );
}

/** Instants are stored as UTC `toISOString()`; a client's `+02:00` must compare as the same instant. */
const utc = (instant: string | undefined) => (instant === undefined ? undefined : new Date(instant).toISOString());

function record(doc: DeliveryDocument): z.infer<typeof deliveryRecordSchema> {
  return {
    notificationId: doc.notificationId,
    reservationId: doc.reservationId,
    customerId: doc.customerId,
    workflowId: doc.workflowId ?? null,
    campaignId: doc.campaignId ?? null,
    kind: doc.kind,
    channel: doc.channel,
    // The provider of the latest attempt: after a failover, the one that sent it (null before any attempt).
    provider: doc.provider ?? null,
    recipientType: doc.recipientType,
    maskedRecipient: doc.maskedRecipient,
    summary: doc.summary,
    status: doc.status,
    skipReason: doc.skipReason,
    smsEncoding: doc.smsEncoding,
    smsParts: doc.smsParts,
    cost: doc.cost,
    attempts: doc.attempts,
    providerMessageId: doc.providerMessageId,
    lastError: doc.lastError,
    causationEventId: doc.causationEventId,
    causedAt: doc.causedAt,
    requestedAt: doc.requestedAt,
    notBefore: doc.notBefore ?? null,
    sentAt: doc.sentAt,
    deliveredAt: doc.deliveredAt,
    finishedAt: doc.finishedAt,
    latencyToSentMs: doc.latencyToSentMs,
    latencyToDeliveredMs: doc.latencyToDeliveredMs,
    history: doc.history,
  };
}

const params = z.object({ notificationId: id });

/**
 * The delivery audit trail for staff: lists with filters (dead letters are `status=dead-lettered`), one delivery
 * with its history and audit entries, the staff re-send, and the sent-SMS log. Tenant-scoped: another tenant's
 * delivery does not exist for the caller (404).
 */
export function deliveriesRoutes(deps: HttpDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/deliveries',
      {
        schema: {
          operationId: 'listDeliveries',
          tags: ['notifications'],
          summary:
            'Deliveries, newest first, filtered; status=dead-lettered lists the dead letters. Cursor pagination.',
          querystring: deliveryListQuerySchema,
          response: { 200: json(deliveryListSchema, 'One page of deliveries.'), ...problems(403) },
        },
      },
      async (request) => {
        const principal = requireRole(request, 'admin', 'staff');
        const { cursor, from, to, ...filters } = request.query;
        const page = await listDeliveries(deps.readModels, principal.tenantId, {
          ...filters,
          ...(from !== undefined ? { from: utc(from) } : {}),
          ...(to !== undefined ? { to: utc(to) } : {}),
          ...(cursor !== undefined ? { after: decodeCursor(cursor) } : {}),
        });
        return { items: page.items.map(record), nextCursor: encodeCursor(page.next) };
      },
    );

    app.get(
      '/deliveries/:notificationId',
      {
        schema: {
          operationId: 'getDelivery',
          tags: ['notifications'],
          summary:
            'One delivery: its status history and the append-only audit entries of every recorded event; with asOf, as it was at a revision of its notification stream or an instant.',
          params,
          querystring: asOfQuery,
          response: { 200: json(deliveryDetailSchema, 'The delivery.'), ...problems(403, 404) },
        },
      },
      async (request) => {
        const principal = requireRole(request, 'admin', 'staff');
        const { delivery, audit } = await getDelivery(
          deps.readModels,
          deps.eventStore,
          principal.tenantId,
          request.params.notificationId,
          asOfOf(request.query),
        );
        return {
          ...record(delivery),
          audit: audit.map((entry) => ({
            eventId: entry.eventId,
            type: entry.type,
            at: entry.at,
            recordedAt: entry.recordedAt,
            position: entry.position,
            actor: entry.actor,
            causationId: entry.causationId,
            correlationId: entry.correlationId,
            detail: entry.detail,
          })),
        };
      },
    );

    app.post(
      '/deliveries/:notificationId/resend',
      {
        schema: {
          operationId: 'resendDelivery',
          tags: ['notifications'],
          summary:
            'Send a failed or dead-lettered delivery again (a new round, charged again). 409 when not re-sendable.',
          description:
            'Only deliveries the provider never accepted can be re-sent: failed before acceptance, or dead-lettered. ' +
            'One already accepted (sent, delivered, undelivered...) or skipped is a 409; one already pending again is a 202 ' +
            'that changes nothing. Out of credits for the new round is a 409 insufficient-credits.',
          params,
          response: {
            202: json(resendResultSchema, 'A new round is requested (or already was).', { Location: true }),
            ...problems(403, 404, 409),
          },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin', 'staff');
        const { notificationId } = request.params;
        const result = await resendDelivery(deps, commandContext(principal, request.id), notificationId);
        return reply
          .code(202)
          .header('location', `/v1/deliveries/${notificationId}`)
          .send({ notificationId, ...result });
      },
    );

    app.get(
      '/sms/sent',
      {
        schema: {
          operationId: 'listSentSms',
          tags: ['notifications'],
          summary: 'The sent-SMS log: every SMS the provider accepted, newest first, with parts, encoding and cost.',
          querystring: sentSmsQuerySchema,
          response: { 200: json(sentSmsSchema, 'One page of the log.'), ...problems(403) },
        },
      },
      async (request) => {
        const principal = requireRole(request, 'admin', 'staff');
        const { cursor, from, to, limit } = request.query;
        const page = await listSentSms(deps.readModels, principal.tenantId, {
          limit,
          ...(from !== undefined ? { from: utc(from) } : {}),
          ...(to !== undefined ? { to: utc(to) } : {}),
          ...(cursor !== undefined ? { after: decodeCursor(cursor) } : {}),
        });
        return {
          items: page.items.map((doc: StoredDelivery) => ({
            notificationId: doc.notificationId,
            reservationId: doc.reservationId,
            kind: doc.kind,
            recipientType: doc.recipientType,
            maskedRecipient: doc.maskedRecipient,
            parts: doc.smsParts,
            encoding: doc.smsEncoding,
            cost: doc.cost,
            status: doc.status,
            providerMessageId: doc.providerMessageId,
            sentAt: doc.sentAt ?? '',
            deliveredAt: doc.deliveredAt,
          })),
          nextCursor: encodeCursor(page.next),
        };
      },
    );
  };
}
