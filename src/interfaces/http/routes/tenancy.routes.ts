import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { TenantView } from '../../../application/tenancy/tenancy.js';
import { commandContext, operatorOf, requireRole } from '../auth.js';
import type { HttpDeps } from '../http-deps.js';
import { etagFor } from '../conditional.js';
import { id, json, problems } from '../schemas/common.js';
import {
  apiKeyListQuery,
  apiKeySchema,
  createApiKeySchema,
  createTenantSchema,
  deactivateQuery,
  newApiKeySchema,
  revokeQuery,
  rotateApiKeySchema,
  rotatedApiKeySchema,
  tenantListQuery,
  tenantSchema,
} from '../schemas/tenancy.js';

const tenantParams = z.object({ tenantId: id });
const keyParams = z.object({ keyId: id });

const withoutIdempotency =
  'The answer carries the secret, which Herald does not keep: Idempotency-Key is not honoured here (a retry creates ' +
  'another key; revoke the one whose secret you never saw).';

/**
 * Tenants (the operator's) and API keys (each tenant's admins'). Every change is an event with the caller as its
 * actor (`operator:<id>` or `apikey:<id>`), so an auditor sees who created, rotated or revoked which key.
 */
export function tenancyRoutes(deps: HttpDeps): FastifyPluginAsyncZod {
  return async (app) => {
    const { tenancy } = deps;
    const sendTenant = (reply: { header(name: string, value: string): unknown }, tenant: TenantView) => {
      reply.header('etag', etagFor(BigInt(tenant.revision)));
      return tenant;
    };

    app.post(
      '/tenants',
      {
        config: { operator: true },
        schema: {
          tags: ['tenants'],
          operationId: 'createTenant',
          summary: 'Create a tenant (operator). 201 when created, 200 when it already exists as described.',
          description:
            'The name, default locale, time zone and sender of a new tenant. Its default locale and sender are the ' +
            "tenant's notification defaults until its admins change the notification settings. Create its first " +
            'admin key with POST /v1/tenants/{tenantId}/api-keys.',
          body: createTenantSchema,
          response: {
            201: json(tenantSchema, 'Created.', { ETag: true, Location: true }),
            200: json(tenantSchema, 'It exists already, as described.', { ETag: true, Location: true }),
            ...problems(403, 409),
          },
        },
      },
      async (request, reply) => {
        const operator = operatorOf(request);
        const tenantId = request.body.tenantId ?? deps.ids.newId();
        const { tenant, created } = await tenancy.createTenant(
          { tenantId, actor: operator.actor, correlationId: request.id },
          { ...request.body, tenantId },
        );
        reply.code(created ? 201 : 200).header('location', `/v1/tenants/${tenantId}`);
        return sendTenant(reply, tenant);
      },
    );

    app.get(
      '/tenants',
      {
        config: { operator: true },
        schema: {
          tags: ['tenants'],
          operationId: 'listTenants',
          summary: 'The tenants (operator), oldest first; deactivated ones with includeDeactivated=true.',
          querystring: tenantListQuery,
          response: { 200: json(z.object({ items: z.array(tenantSchema) }), 'The tenants.'), ...problems(403) },
        },
      },
      async (request) => ({
        items: await tenancy.listTenants({ includeDeactivated: request.query.includeDeactivated }),
      }),
    );

    app.get(
      '/tenants/:tenantId',
      {
        config: { operator: true },
        schema: {
          tags: ['tenants'],
          operationId: 'getTenant',
          summary: 'One tenant (operator).',
          params: tenantParams,
          response: { 200: json(tenantSchema, 'The tenant.', { ETag: true }), ...problems(403, 404) },
        },
      },
      async (request, reply) => sendTenant(reply, await tenancy.getTenant(request.params.tenantId)),
    );

    app.delete(
      '/tenants/:tenantId',
      {
        config: { operator: true },
        schema: {
          tags: ['tenants'],
          operationId: 'deactivateTenant',
          summary: 'Deactivate a tenant (operator): every key of it stops working at once. Its data stays.',
          params: tenantParams,
          querystring: deactivateQuery,
          response: { 200: json(tenantSchema, 'The tenant, now deactivated.', { ETag: true }), ...problems(403, 404) },
        },
      },
      async (request, reply) => {
        const operator = operatorOf(request);
        const tenant = await tenancy.deactivateTenant(
          { tenantId: request.params.tenantId, actor: operator.actor, correlationId: request.id },
          request.params.tenantId,
          request.query.reason,
        );
        return sendTenant(reply, tenant);
      },
    );

    app.post(
      '/tenants/:tenantId/api-keys',
      {
        config: { operator: true, idempotent: false },
        schema: {
          tags: ['tenants'],
          operationId: 'createTenantApiKey',
          summary: "Create an API key in a tenant (operator): how a new tenant's first admin gets a key.",
          description: withoutIdempotency,
          params: tenantParams,
          body: createApiKeySchema,
          response: {
            201: json(newApiKeySchema, 'The key; its secret is shown this once.', { 'Cache-Control': true }),
            ...problems(403, 404, 409),
          },
        },
      },
      async (request, reply) => {
        const operator = operatorOf(request);
        const { key, secret } = await tenancy.createKey(
          { tenantId: request.params.tenantId, actor: operator.actor, correlationId: request.id },
          request.body,
        );
        return reply
          .code(201)
          .header('cache-control', 'no-store')
          .send({ ...key, secret });
      },
    );

    app.post(
      '/api-keys',
      {
        config: { idempotent: false },
        schema: {
          tags: ['api-keys'],
          operationId: 'createApiKey',
          summary: "Create an API key in the caller's tenant (admin). The secret is in this answer only.",
          description: withoutIdempotency,
          body: createApiKeySchema,
          response: {
            201: json(newApiKeySchema, 'The key; its secret is shown this once.', {
              Location: true,
              'Cache-Control': true,
            }),
            ...problems(403, 409),
          },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin');
        const { key, secret } = await tenancy.createKey(commandContext(principal, request.id), request.body);
        return reply
          .code(201)
          .header('location', `/v1/api-keys/${key.keyId}`)
          .header('cache-control', 'no-store')
          .send({ ...key, secret });
      },
    );

    app.get(
      '/api-keys',
      {
        schema: {
          tags: ['api-keys'],
          operationId: 'listApiKeys',
          summary: "The tenant's API keys (admin), oldest first, with their last use; revoked ones on request.",
          querystring: apiKeyListQuery,
          response: { 200: json(z.object({ items: z.array(apiKeySchema) }), 'The keys.'), ...problems(403) },
        },
      },
      async (request) => {
        const principal = requireRole(request, 'admin');
        return {
          items: await tenancy.listKeys(principal.tenantId, { includeRevoked: request.query.includeRevoked }),
        };
      },
    );

    app.get(
      '/api-keys/:keyId',
      {
        schema: {
          tags: ['api-keys'],
          operationId: 'getApiKey',
          summary: 'One API key of the tenant (admin).',
          params: keyParams,
          response: { 200: json(apiKeySchema, 'The key (never its secret).'), ...problems(403, 404) },
        },
      },
      async (request) => {
        const principal = requireRole(request, 'admin');
        return tenancy.getKey(principal.tenantId, request.params.keyId);
      },
    );

    app.delete(
      '/api-keys/:keyId',
      {
        schema: {
          tags: ['api-keys'],
          operationId: 'revokeApiKey',
          summary: 'Revoke an API key (admin): it stops working at once. Revoking it again changes nothing.',
          params: keyParams,
          querystring: revokeQuery,
          response: { 200: json(apiKeySchema, 'The key, now revoked.'), ...problems(403, 404) },
        },
      },
      async (request) => {
        const principal = requireRole(request, 'admin');
        return tenancy.revokeKey(commandContext(principal, request.id), request.params.keyId, request.query.reason);
      },
    );

    app.post(
      '/api-keys/:keyId/rotate',
      {
        config: { idempotent: false },
        schema: {
          tags: ['api-keys'],
          operationId: 'rotateApiKey',
          summary:
            'Rotate an API key (admin): a new key with the same role and name; the old one keeps working for ' +
            'overlapSeconds (0 to 7 days), then stops.',
          description: withoutIdempotency,
          params: keyParams,
          body: rotateApiKeySchema,
          response: {
            201: json(rotatedApiKeySchema, 'The new key; its secret is shown this once.', {
              Location: true,
              'Cache-Control': true,
            }),
            ...problems(403, 404, 409),
          },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin');
        const { key, secret, previous } = await tenancy.rotateKey(
          commandContext(principal, request.id),
          request.params.keyId,
          request.body.overlapSeconds,
        );
        return reply
          .code(201)
          .header('location', `/v1/api-keys/${key.keyId}`)
          .header('cache-control', 'no-store')
          .send({ ...key, secret, previous });
      },
    );
  };
}
