import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  getWebhookEndpoint,
  listWebhookDeliveries,
  listWebhookEndpoints,
  pauseWebhookEndpoint,
  replayWebhookDeliveries,
  resumeWebhookEndpoint,
  rotateWebhookSecret,
  updateWebhookEndpoint,
} from '../../../application/webhooks/webhook-endpoints.js';
import { commandContext, requireRole } from '../auth.js';
import type { HttpDeps } from '../http-deps.js';
import { HttpProblem, problem } from '../problem.js';
import { empty, json, problems } from '../schemas/common.js';
import {
  webhookDeliveriesQuery,
  webhookDeliveryParams,
  webhookDeliverySchema,
  webhookEndpointInputSchema,
  webhookEndpointParams,
  webhookEndpointPatchSchema,
  webhookEndpointSchema,
  webhookEndpointWithSecretSchema,
  webhookReplayInputSchema,
} from '../schemas/webhooks.js';

/**
 * Outgoing webhook endpoints (admin only). The signing secret is returned once, by create and rotate, with
 * Cache-Control: no-store; it is sealed in the event store and never returned or logged again.
 */
export function webhookRoutes(deps: HttpDeps): FastifyPluginAsyncZod {
  return async (app) => {
    const webhooks = () => {
      if (!deps.webhooks)
        throw new HttpProblem(problem(503, 'webhooks-unavailable', 'Webhooks are not available here.'));
      return deps.webhooks;
    };
    const tags = ['webhooks'];
    const replayed = z.object({ replayed: z.number().int() });

    app.get(
      '/webhook-endpoints',
      {
        schema: {
          operationId: 'listWebhookEndpoints',
          tags,
          summary: 'Your webhook endpoints.',
          response: {
            200: json(z.object({ items: z.array(webhookEndpointSchema) }), 'The endpoints.'),
            ...problems(403),
          },
        },
      },
      async (request) => {
        const principal = requireRole(request, 'admin');
        return { items: await listWebhookEndpoints(webhooks().readModels, principal.tenantId) };
      },
    );

    app.post(
      '/webhook-endpoints',
      {
        // The answer carries the secret: it must not be stored as an idempotency record.
        config: { idempotent: false },
        schema: {
          operationId: 'createWebhookEndpoint',
          description:
            'The answer carries the signing secret, which Herald keeps only sealed: Idempotency-Key is not honoured ' +
            'here (a retry creates another endpoint; delete the one whose secret you never saw).',
          tags,
          summary: 'Add an endpoint; the answer holds its signing secret, once.',
          body: webhookEndpointInputSchema,
          response: {
            201: json(webhookEndpointWithSecretSchema, 'Created; keep the secret now.', {
              'Cache-Control': true,
              Location: true,
            }),
            ...problems(400, 403),
          },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin');
        const created = await createWebhookEndpoint(webhooks(), commandContext(principal, request.id), request.body);
        return reply
          .code(201)
          .header('cache-control', 'no-store')
          .header('location', `/v1/webhook-endpoints/${created.endpoint.id}`)
          .send(created);
      },
    );

    app.get(
      '/webhook-endpoints/:endpointId',
      {
        schema: {
          operationId: 'getWebhookEndpoint',
          tags,
          summary: 'One endpoint: its settings and state (never its secret).',
          params: webhookEndpointParams,
          response: { 200: json(webhookEndpointSchema, 'The endpoint.'), ...problems(403, 404) },
        },
      },
      async (request) => {
        const principal = requireRole(request, 'admin');
        return (await getWebhookEndpoint(deps.eventStore, principal.tenantId, request.params.endpointId)).view;
      },
    );

    app.patch(
      '/webhook-endpoints/:endpointId',
      {
        schema: {
          operationId: 'updateWebhookEndpoint',
          tags,
          summary: 'Change the URL, the event types or the description.',
          params: webhookEndpointParams,
          body: webhookEndpointPatchSchema,
          response: { 200: json(webhookEndpointSchema, 'The endpoint now.'), ...problems(400, 403, 404) },
        },
      },
      async (request) => {
        const principal = requireRole(request, 'admin');
        const body = request.body;
        return updateWebhookEndpoint(webhooks(), commandContext(principal, request.id), request.params.endpointId, {
          ...(body.url !== undefined ? { url: body.url } : {}),
          ...(body.eventTypes !== undefined ? { eventTypes: body.eventTypes } : {}),
          ...(body.description !== undefined ? { description: body.description } : {}),
        });
      },
    );

    app.delete(
      '/webhook-endpoints/:endpointId',
      {
        schema: {
          operationId: 'deleteWebhookEndpoint',
          tags,
          summary: 'Remove an endpoint: nothing more is sent to it.',
          params: webhookEndpointParams,
          response: { 204: empty('Deleted (or there was nothing to delete).'), ...problems(403) },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin');
        await deleteWebhookEndpoint(webhooks(), commandContext(principal, request.id), request.params.endpointId);
        return reply.code(204).send();
      },
    );

    app.post(
      '/webhook-endpoints/:endpointId/pause',
      {
        schema: {
          operationId: 'pauseWebhookEndpoint',
          tags,
          summary: 'Stop sending; events keep being queued.',
          params: webhookEndpointParams,
          response: { 200: json(webhookEndpointSchema, 'The endpoint, paused.'), ...problems(403, 404) },
        },
      },
      async (request) => {
        const principal = requireRole(request, 'admin');
        return pauseWebhookEndpoint(webhooks(), commandContext(principal, request.id), request.params.endpointId);
      },
    );

    app.post(
      '/webhook-endpoints/:endpointId/resume',
      {
        schema: {
          operationId: 'resumeWebhookEndpoint',
          tags,
          summary: 'Send again, from the first undelivered event.',
          params: webhookEndpointParams,
          response: { 200: json(webhookEndpointSchema, 'The endpoint, active.'), ...problems(403, 404) },
        },
      },
      async (request) => {
        const principal = requireRole(request, 'admin');
        return resumeWebhookEndpoint(webhooks(), commandContext(principal, request.id), request.params.endpointId);
      },
    );

    app.post(
      '/webhook-endpoints/:endpointId/rotate-secret',
      {
        config: { idempotent: false },
        schema: {
          operationId: 'rotateWebhookSecret',
          description:
            'The answer carries the new secret, which Herald keeps only sealed: Idempotency-Key is not honoured here ' +
            '(a retry rotates again; the last answer holds the secret in use).',
          tags,
          summary: 'A new signing secret, shown once; the old one signs nothing from now on.',
          params: webhookEndpointParams,
          response: {
            200: json(webhookEndpointWithSecretSchema, 'The new secret.', { 'Cache-Control': true }),
            ...problems(403, 404),
          },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin');
        const rotated = await rotateWebhookSecret(
          webhooks(),
          commandContext(principal, request.id),
          request.params.endpointId,
        );
        return reply.header('cache-control', 'no-store').send(rotated);
      },
    );

    app.get(
      '/webhook-endpoints/:endpointId/deliveries',
      {
        schema: {
          operationId: 'listWebhookDeliveries',
          tags,
          summary: 'The endpoint’s audit: deliveries, newest first, with every attempt.',
          params: webhookEndpointParams,
          querystring: webhookDeliveriesQuery,
          response: {
            200: json(z.object({ items: z.array(webhookDeliverySchema) }), 'The deliveries.'),
            ...problems(403, 404),
          },
        },
      },
      async (request) => {
        const principal = requireRole(request, 'admin');
        await getWebhookEndpoint(deps.eventStore, principal.tenantId, request.params.endpointId);
        return {
          items: await listWebhookDeliveries(deps.eventStore, principal.tenantId, request.params.endpointId, {
            limit: request.query.limit,
          }),
        };
      },
    );

    app.post(
      '/webhook-endpoints/:endpointId/deliveries/:deliveryId/replay',
      {
        schema: {
          operationId: 'replayWebhookDelivery',
          tags,
          summary: 'Send a delivered event again, with the same webhook-id.',
          params: webhookDeliveryParams,
          response: { 202: json(replayed, 'Queued again.'), ...problems(403, 404, 409) },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin');
        const result = await replayWebhookDeliveries(
          webhooks(),
          commandContext(principal, request.id),
          request.params.endpointId,
          {
            deliveryId: request.params.deliveryId,
          },
        );
        return reply.code(202).send(result);
      },
    );

    app.post(
      '/webhook-endpoints/:endpointId/replay',
      {
        schema: {
          operationId: 'replayWebhookDeliveries',
          tags,
          summary: 'Send again every delivered event recorded at or after an instant, in order.',
          params: webhookEndpointParams,
          body: webhookReplayInputSchema,
          response: { 202: json(replayed, 'Queued again.'), ...problems(400, 403, 404) },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin');
        const result = await replayWebhookDeliveries(
          webhooks(),
          commandContext(principal, request.id),
          request.params.endpointId,
          {
            from: request.body.from,
          },
        );
        return reply.code(202).send(result);
      },
    );
  };
}
