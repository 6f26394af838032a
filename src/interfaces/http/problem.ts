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

export function sendProblem(reply: FastifyReply, request: FastifyRequest, body: Problem): FastifyReply {
  return reply
    .code(body.status)
    .header('content-type', 'application/problem+json; charset=utf-8')
    .send({ ...body, instance: body.instance ?? request.url.split('?')[0] });
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
      const errors = error.validation.map((issue) => ({
        field: `${where}.${fieldPath(issue.instancePath, issue.params as Record<string, unknown>)}`.replace(
          /\.\(root\)$/,
          '',
        ),
        message: issue.message ?? 'invalid',
      }));
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
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return sendProblem(
          reply,
          request,
          problem(415, 'unsupported-media-type', 'Send application/json.', { detail: error.message }),
        );
    }
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      return sendProblem(reply, request, problem(error.statusCode, 'bad-request', error.message));
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(reply, request, problem(500, 'internal', 'Internal server error.'));
  });

  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      request,
      problem(404, 'route-not-found', `No route ${request.method} ${request.url.split('?')[0]}.`),
    ),
  );
}
