import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { DomainError } from '../../domain/shared/errors.js';

/** RFC 9457 problem details. `type` URIs are stable per error code. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  code?: string;
  errors?: { field: string; message: string }[];
  [extension: string]: unknown;
}

export const PROBLEM_BASE = 'https://herald.dev/problems/';

const RESERVED = new Set(['type', 'title', 'status', 'code', 'instance']);

export function problem(status: number, code: string, title: string, extra: Partial<Problem> = {}): Problem {
  // Extension members never override the standard ones (a domain error's details may well contain `status`).
  const extensions = Object.fromEntries(Object.entries(extra).filter(([key]) => !RESERVED.has(key)));
  return {
    type: `${PROBLEM_BASE}${code}`,
    title,
    status,
    code,
    ...extensions,
    ...(extra.instance ? { instance: extra.instance } : {}),
  };
}

const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';
const pathOf = (url: string) => url.split('?')[0] ?? url;

export function sendProblem(reply: FastifyReply, request: FastifyRequest, body: Problem): FastifyReply {
  return reply
    .code(body.status)
    .header('content-type', PROBLEM_CONTENT_TYPE)
    .send({ ...body, instance: body.instance ?? pathOf(request.url) });
}

/**
 * fastify's `frameworkErrors`: a request refused before it reached a route (malformed percent-encoding in the path,
 * an over-long path segment). No route schema applies, so the problem is serialized here.
 */
export function answerFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const body =
    error.code === 'FST_ERR_BAD_URL'
      ? problem(400, 'malformed-url', 'The URL is not valid.', {
          detail: 'The path has a malformed percent-encoding.',
        })
      : error.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? problem(414, 'path-segment-too-long', 'A path segment is too long.')
        : problem(400, 'bad-request', 'The request is not valid.', { detail: error.message });
  void reply
    .code(body.status)
    .header('content-type', PROBLEM_CONTENT_TYPE)
    .send(JSON.stringify({ ...body, instance: pathOf(request.url) }));
}

/**
 * The HTTP server's `clientError`: the request could not even be parsed (a malformed request line, header or
 * Content-Length; headers over the size limit; a request not received in time), so there is no request to answer
 * through fastify. The answer is written to the socket as it is closed.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const body =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? problem(408, 'request-timeout', 'The request was not received in time.')
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? problem(431, 'headers-too-large', 'The request headers are too large.')
        : problem(400, 'malformed-request', 'The request is not valid HTTP.', {
            detail: 'The request line, a header or the Content-Length could not be parsed.',
          });
  const payload = JSON.stringify(body);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${body.status} ${STATUS_CODES[body.status]}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
        `Content-Length: ${Buffer.byteLength(payload)}\r\nConnection: close\r\n\r\n${payload}`,
    );
  }
  socket.destroy(error);
}

/** The media types a route accepts: its `consumes`, or JSON. */
function acceptedMediaTypes(request: FastifyRequest): string {
  const consumes = (request.routeOptions.schema as { consumes?: string[] } | undefined)?.consumes;
  return (consumes?.length ? consumes : ['application/json']).join(', ');
}

/** Thrown by route handlers for HTTP-level refusals (auth, preconditions) that are not domain rules. */
export class HttpProblem extends Error {
  constructor(readonly problem: Problem) {
    super(problem.title);
  }
}

/** A domain error's `status` detail is the aggregate's status, not the HTTP one: keep it as `currentStatus`. */
function renameReserved(details: Record<string, unknown>): Record<string, unknown> {
  const { status, ...rest } = details;
  return status === undefined ? rest : { ...rest, currentStatus: status };
}

const DOMAIN_STATUS: Record<DomainError['kind'], number> = {
  validation: 400,
  'not-found': 404,
  'illegal-state': 409,
  concurrency: 412,
};

function fieldPath(instancePath: string | undefined, params: Record<string, unknown> | undefined): string {
  const path = (instancePath ?? '').replace(/^\//, '').replaceAll('/', '.');
  const missing = typeof params?.missingProperty === 'string' ? params.missingProperty : undefined;
  return [path, missing].filter(Boolean).join('.') || '(root)';
}

/** Maps every error once, to problem+json. Unknown errors are 500 without internals. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof HttpProblem) return sendProblem(reply, request, error.problem);
    if (error instanceof DomainError) {
      const status = DOMAIN_STATUS[error.kind];
      return sendProblem(
        reply,
        request,
        problem(status, error.code, error.message, { detail: error.message, ...renameReserved(error.details) }),
      );
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const where = error.validationContext ?? 'body';
      const errors = error.validation.flatMap((issue) => {
        const params = issue.params as Record<string, unknown>;
        const at = `${where}.${fieldPath(issue.instancePath, params)}`.replace(/\.\(root\)$/, '');
        // A strict object's unknown members, one error each, named: `querystring.asOf: unknown parameter`.
        if (issue.keyword === 'unrecognized_keys' && Array.isArray(params.keys)) {
          const what = where === 'querystring' ? 'parameter' : where === 'headers' ? 'header' : 'member';
          return params.keys.map((key) => ({ field: `${at}.${String(key)}`, message: `unknown ${what}` }));
        }
        return [{ field: at, message: issue.message ?? 'invalid' }];
      });
      return sendProblem(
        reply,
        request,
        problem(400, 'validation-failed', 'The request is not valid.', {
          detail: errors.map((e) => `${e.field}: ${e.message}`).join('; '),
          errors,
        }),
      );
    }
    if (isResponseSerializationError(error)) {
      request.log.error({ err: error.cause.issues }, 'response did not match its schema');
      return sendProblem(reply, request, problem(500, 'internal', 'Internal server error.'));
    }
    switch (error.code) {
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return sendProblem(
          reply,
          request,
          problem(400, 'malformed-json', 'The body is not valid JSON.', { detail: error.message }),
        );
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return sendProblem(
          reply,
          request,
          problem(413, 'body-too-large', 'The body is too large.', {
            detail: `This route accepts at most ${request.routeOptions.bodyLimit ?? app.initialConfig.bodyLimit} bytes.`,
          }),
        );
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': {
        const sent = request.headers['content-type'];
        return sendProblem(
          reply,
          request,
          problem(415, 'unsupported-media-type', `Send ${acceptedMediaTypes(request)}.`, {
            detail:
              sent === undefined
                ? 'The request has a body but no Content-Type.'
                : `Content-Type ${JSON.stringify(sent)} is not accepted here.`,
          }),
        );
      }
      case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
        return sendProblem(
          reply,
          request,
          problem(400, 'invalid-content-length', 'The body does not have the length Content-Length announced.'),
        );
    }
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      return sendProblem(reply, request, problem(error.statusCode, 'bad-request', error.message));
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(reply, request, problem(500, 'internal', 'Internal server error.'));
  });

  // A path that exists with other methods is a 405 naming them (RFC 9110 §15.5.6), any other a 404. Answered in
  // onRequest, before fastify looks at the body of a method it does not route (QUERY without a Content-Type).
  const allowedMethods = routeMethodsByPath(app);
  const notFound = (request: FastifyRequest, reply: FastifyReply) => {
    const path = pathOf(request.url);
    const allowed = allowedMethods(path);
    if (allowed.length === 0) {
      return sendProblem(reply, request, problem(404, 'route-not-found', `No route ${request.method} ${path}.`));
    }
    return sendProblem(
      reply.header('allow', allowed.join(', ')),
      request,
      problem(405, 'method-not-allowed', `${request.method} is not allowed on ${path}.`, { allowed }),
    );
  };
  app.addHook('onRequest', async (request, reply) => (request.is404 ? notFound(request, reply) : undefined));
  app.setNotFoundHandler(notFound);
}

/** The methods routed for a concrete path, from the routes registered after this call (onRoute). */
function routeMethodsByPath(app: FastifyInstance): (path: string) => string[] {
  const routes: { pattern: RegExp; methods: string[] }[] = [];
  app.addHook('onRoute', (route) => {
    const pattern = new RegExp(
      `^${route.url
        .split('/')
        .map((segment) =>
          segment.startsWith(':') ? '[^/]+' : segment === '*' ? '.*' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
        )
        .join('/')}$`,
    );
    routes.push({ pattern, methods: [route.method].flat().map((method) => method.toUpperCase()) });
  });
  return (path) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      return [];
    }
    const methods = new Set(routes.filter(({ pattern }) => pattern.test(decoded)).flatMap(({ methods }) => methods));
    return [...methods].sort();
  };
}
