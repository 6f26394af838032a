import fastifySwagger, { type SwaggerTransform, type SwaggerTransformObject } from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { z } from 'zod';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Unknown query parameters are ignored instead of refused (see refuseUnknownQueryParameters). */
    ignoreUnknownQuery?: boolean;
  }
}
import {
  idempotencyKeyHeader,
  problemResponse,
  RESPONSE_HEADERS,
  type DocumentedResponse,
  type ResponseHeader,
} from './schemas/common.js';

/*
 * The OpenAPI document is a contract: clients are generated from it and schemathesis fuzzes the server against it.
 * Conventions (docs/api-conventions.md):
 * - every operation has a camelCase `schema.operationId` (verbNoun: createReservation, listDeliveries);
 * - a route declares its answers with `json(schema, description, headers)` and the problems its own handler raises
 *   with `problems(403, 404, ...)`; everything cross-cutting is added here, from what the route is, so the document
 *   cannot forget what a hook does to every route.
 */

type RouteSchema = {
  hide?: boolean;
  security?: readonly Record<string, readonly string[]>[];
  headers?: unknown;
  response?: Record<string | number, unknown>;
  [key: string]: unknown;
};

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const RESPONSE_HEADERS_EXTENSION = 'x-herald-response-headers';

function isDocumentedResponse(value: unknown): value is DocumentedResponse<Record<string, { schema: z.ZodType }>> {
  return typeof value === 'object' && value !== null && 'content' in value && 'description' in value;
}

/**
 * The responses and request headers every route gets from the hooks it passes through (onRoute):
 * - 400 (malformed URL, query, header or body) and 500 on every operation; `security: []` on public ones;
 * - authenticated routes: 401 and 429 (with Retry-After);
 * - routes taking a body (POST, PUT, PATCH, DELETE): 413 and 415;
 * - If-Match routes (`headers: ifMatchHeaders`): 412;
 * - authenticated POSTs (registerIdempotency): the `Idempotency-Key` header, 409 (the first request with the key
 *   is still running), 422 (the key was used with another body) and `Idempotent-Replayed` on every 2xx — except
 *   routes that answer a secret (`config.idempotent: false`), which do not honour the header.
 * Idempotent: fastify runs it again for the HEAD route of a GET.
 */
export function applyHttpConventions(route: RouteOptions): void {
  const schema = route.schema as RouteSchema | undefined;
  if (!schema || schema.hide) return;
  const methods = [route.method].flat().map((method) => method.toUpperCase());
  const authenticated = route.config?.public !== true;
  const takesBody = methods.some((method) => BODY_METHODS.has(method));
  // Routes that answer a secret opt out (`config.idempotent: false`): a stored answer would keep the secret.
  const idempotent =
    authenticated &&
    methods.includes('POST') &&
    (route.config as { idempotent?: boolean } | undefined)?.idempotent !== false;
  const headers = schema.headers instanceof z.ZodObject ? schema.headers : undefined;
  const conditional = headers !== undefined && 'if-match' in headers.shape;

  const response: Record<string, unknown> = { ...schema.response };
  const add = (status: number) => {
    if (!(status in response)) response[status] = problemResponse(status);
  };
  add(400);
  if (authenticated) [401, 429].forEach(add);
  if (conditional) add(412);
  if (takesBody) [413, 415].forEach(add);
  if (idempotent) [409, 422].forEach(add);
  add(500);

  let requestHeaders = schema.headers;
  if (idempotent) {
    for (const [status, answer] of Object.entries(response)) {
      if (!/^2\d\d$/.test(status) || !isDocumentedResponse(answer)) continue;
      response[status] = {
        ...answer,
        headers: { ...answer.headers, 'Idempotent-Replayed': RESPONSE_HEADERS['Idempotent-Replayed'] },
      };
    }
    if (!headers) requestHeaders = z.object({ 'idempotency-key': idempotencyKeyHeader }).loose();
    else if (!('idempotency-key' in headers.shape)) {
      requestHeaders = headers.extend({ 'idempotency-key': idempotencyKeyHeader });
    }
  }
  route.schema = {
    ...schema,
    // A public route needs no key: say so, or it inherits the document's security requirement.
    ...(authenticated ? {} : { security: schema.security ?? [] }),
    response,
    ...(requestHeaders ? { headers: requestHeaders } : {}),
  };
}

/**
 * Unknown query parameters are refused (400 problem+json naming each), never ignored: a client that sends `asOf` to
 * a route that does not know it must not get the current state as if it were the old one. Applied to every route as
 * it is added (onRoute), so a new route cannot forget it: a route without a query schema takes none, a loose query
 * object becomes strict. Two kinds of route keep ignoring them, on purpose (docs/decisions/0016-strict-query-and-as-of.md):
 * Swagger UI's pages (`/docs`), and routes whose `config.ignoreUnknownQuery` is true — the claim page that customers
 * open from an email or SMS, whose link mail clients and link checkers decorate with tracking parameters.
 */
export function refuseUnknownQueryParameters(route: RouteOptions): void {
  if (route.url.startsWith('/docs')) return;
  if (route.config?.ignoreUnknownQuery === true) return;
  const schema = route.schema as RouteSchema | undefined;
  const query = schema?.querystring;
  if (query === undefined) {
    // A route without any schema stays out of the document (as it was): only the query rule is added.
    route.schema = { ...(schema ?? { hide: true }), querystring: z.strictObject({}) };
  } else if (query instanceof z.ZodObject && !isStrict(query)) {
    route.schema = { ...schema, querystring: query.strict() };
  } else if (!(query instanceof z.ZodObject)) {
    throw new TypeError(`${route.url}: a querystring schema must be a zod object, so unknown parameters are refused`);
  }
}

function isStrict(schema: z.ZodObject): boolean {
  const catchall = (schema._zod.def as { catchall?: z.ZodType }).catchall;
  return catchall instanceof z.ZodNever;
}

/** fastify-type-provider-zod's route transform, keeping the response headers it drops (moved in place below). */
const transformRoute: SwaggerTransform = (input) => {
  const result = jsonSchemaTransform(input as Parameters<typeof jsonSchemaTransform>[0]);
  const response = (input.schema as RouteSchema | undefined)?.response;
  if (!response || !result.schema || (result.schema as RouteSchema).hide) return result;
  const headers: Record<string, Record<string, ResponseHeader>> = {};
  for (const [status, answer] of Object.entries(response)) {
    if (isDocumentedResponse(answer) && answer.headers) headers[status] = answer.headers;
  }
  // @fastify/swagger copies `x-` keys of a route schema onto the operation; transformDocument moves them home.
  if (Object.keys(headers).length > 0) (result.schema as RouteSchema)[RESPONSE_HEADERS_EXTENSION] = headers;
  return result;
};

type JsonObject = Record<string, unknown>;
type OpenApiDocument = JsonObject & {
  paths?: Record<string, Record<string, JsonObject & { responses?: Record<string, JsonObject> }>>;
  components?: JsonObject & { schemas?: Record<string, unknown> };
};

const SCHEMA_REF = '#/components/schemas/';

function refsIn(value: unknown, found: Set<string>): void {
  if (Array.isArray(value)) value.forEach((item) => refsIn(item, found));
  else if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && typeof child === 'string' && child.startsWith(SCHEMA_REF)) {
        found.add(child.slice(SCHEMA_REF.length));
      } else refsIn(child, found);
    }
  }
}

function renameRefs(value: unknown, names: ReadonlyMap<string, string>): unknown {
  if (Array.isArray(value)) return value.map((item) => renameRefs(item, names));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, child]) => {
      if (key === '$ref' && typeof child === 'string' && child.startsWith(SCHEMA_REF)) {
        const name = child.slice(SCHEMA_REF.length);
        return [key, `${SCHEMA_REF}${names.get(name) ?? name}`];
      }
      return [key, renameRefs(child, names)];
    }),
  );
}

/**
 * One component per named schema. fastify-type-provider-zod emits every registered schema twice, as `X` (how
 * responses show it) and `XInput` (how requests send it), used or not. Keep what the operations reference; an
 * `XInput` becomes `X` when `X` is not used or is the same schema. Only a schema that really reads differently as
 * input and output keeps its `Input` twin (the OpenAPI test refuses that: give the input schema its own id).
 */
export function withSingleComponents(document: OpenApiDocument): OpenApiDocument {
  const schemas = document.components?.schemas ?? {};
  const used = new Set<string>();
  refsIn(document.paths, used);
  for (let pending = [...used]; pending.length > 0;) {
    const next = new Set<string>();
    for (const name of pending) refsIn(schemas[name], next);
    pending = [...next].filter((name) => !used.has(name));
    pending.forEach((name) => used.add(name));
  }

  const names = new Map<string, string>();
  for (const name of used) {
    if (name.endsWith('Input') && schemas[name] !== undefined) names.set(name, name.slice(0, -'Input'.length));
  }
  // A twin merges only if it equals its output form once every merged twin is renamed; repeat until stable.
  for (let changed = true; changed;) {
    changed = false;
    for (const [input, output] of names) {
      if (!used.has(output)) continue;
      const same =
        JSON.stringify(renameRefs(schemas[input], names)) === JSON.stringify(renameRefs(schemas[output], names));
      if (!same) {
        names.delete(input);
        changed = true;
      }
    }
  }

  const kept: Record<string, unknown> = {};
  for (const name of [...used].sort()) {
    const target = names.get(name) ?? name;
    if (kept[target] === undefined && schemas[name] !== undefined) kept[target] = renameRefs(schemas[name], names);
  }
  return {
    ...(renameRefs(document, names) as OpenApiDocument),
    components: { ...document.components, schemas: Object.fromEntries(Object.entries(kept).sort()) },
  };
}

const transformDocument: SwaggerTransformObject = (input) => {
  const document = jsonSchemaTransformObject(input) as OpenApiDocument;
  for (const pathItem of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(pathItem)) {
      const headers = operation[RESPONSE_HEADERS_EXTENSION] as Record<string, JsonObject> | undefined;
      if (!headers) continue;
      delete operation[RESPONSE_HEADERS_EXTENSION];
      for (const [status, byName] of Object.entries(headers)) {
        const answer = operation.responses?.[status];
        if (answer) answer.headers = byName;
      }
    }
  }
  return withSingleComponents(document) as ReturnType<SwaggerTransformObject>;
};

/**
 * The OpenAPI 3.1 document at /openapi.json (built from the routes' zod schemas) and Swagger UI at /docs. Call it
 * before any route is registered: the conventions are applied as routes are added.
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/docs')) route.config = { ...(route.config as object), public: true };
  });
  app.addHook('onRoute', refuseUnknownQueryParameters);
  app.addHook('onRoute', applyHttpConventions);
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Herald',
        version: '0.1.0',
        description:
          'Customer communication for reservation systems: confirmations, reminders, waitlists and a delivery audit ' +
          'trail. Every error is an RFC 9457 application/problem+json document (the `Problem` schema).',
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API key.' },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
          metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN (GET /metrics only).' },
        },
      },
      security: [{ bearerAuth: [] }, { apiKey: [] }],
    },
    transform: transformRoute,
    transformObject: transformDocument,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: true } });
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
}
