import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createIdempotentRequests } from '../../application/idempotency/idempotent-requests.js';
import type { Clock } from '../../application/ports/clock.port.js';
import type { EventStore } from '../../application/ports/event-store.port.js';
import type { IdSource } from '../../application/ports/id-source.port.js';
import { IllegalStateError } from '../../domain/shared/errors.js';
import { commandContext } from './auth.js';
import { HttpProblem, problem } from './problem.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set while this request runs under an Idempotency-Key: where its answer is recorded. */
    idempotentAttempt?: { readonly requestId: string; readonly attempt: number };
  }
  interface FastifyContextConfig {
    /** false: the answer must not be stored (it carries a secret), so Idempotency-Key is not honoured. */
    idempotent?: boolean;
  }
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * `Idempotency-Key` on POST: the first successful answer is recorded in the event store (decision 0010) and replayed
 * for a retry with the same key and body (header `Idempotent-Replayed: true`), without running the handler again,
 * so nothing is appended or sent twice — also after the read models were deleted and rebuilt. The same key with
 * another body is 422; a retry while the first is still running is 409. A failed request is recorded as abandoned:
 * it changed nothing, so running it again is safe.
 */
export function registerIdempotency(
  app: FastifyInstance,
  deps: { readonly eventStore: EventStore; readonly ids: IdSource; readonly clock: Clock },
): void {
  const requests = createIdempotentRequests(deps);

  app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    const key = request.headers['idempotency-key'];
    if (request.method !== 'POST' || typeof key !== 'string' || !request.principal) return;
    if (request.routeOptions.config?.idempotent === false) return;
    if (key.length < 1 || key.length > 255) {
      throw new HttpProblem(problem(400, 'invalid-idempotency-key', 'Idempotency-Key must be 1 to 255 characters.'));
    }
    const context = commandContext(request.principal, request.id);
    const requestId = sha256(`${request.routeOptions.url}\u001f${key}`);
    const requestHash = sha256(`${request.url}\u001f${JSON.stringify(request.body ?? null)}`);
    let begun;
    try {
      begun = await requests.begin(context, requestId, requestHash);
    } catch (error) {
      if (error instanceof IllegalStateError && error.code === 'idempotency-key-reused') {
        throw new HttpProblem(problem(422, error.code, error.message));
      }
      if (error instanceof IllegalStateError && error.code === 'idempotency-key-in-progress') {
        throw new HttpProblem(problem(409, error.code, error.message));
      }
      throw error;
    }
    if (begun.outcome === 'run') {
      request.idempotentAttempt = { requestId, attempt: begun.attempt };
      return;
    }
    const { response } = begun;
    reply.header('idempotent-replayed', 'true');
    if (response.location) reply.header('location', response.location);
    if (response.etag) reply.header('etag', response.etag);
    reply.header('content-type', response.contentType);
    return reply.code(response.statusCode).send(response.payload);
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const running = request.idempotentAttempt;
    if (!running || !request.principal) return payload;
    request.idempotentAttempt = undefined;
    const context = commandContext(request.principal, request.id);
    if (reply.statusCode >= 200 && reply.statusCode < 300) {
      await requests.complete(context, running.requestId, running.attempt, {
        statusCode: reply.statusCode,
        contentType: String(reply.getHeader('content-type') ?? 'application/json; charset=utf-8'),
        payload: typeof payload === 'string' ? payload : '',
        ...(reply.getHeader('location') ? { location: String(reply.getHeader('location')) } : {}),
        ...(reply.getHeader('etag') ? { etag: String(reply.getHeader('etag')) } : {}),
      });
    } else {
      await requests.abandon(context, running.requestId, running.attempt, reply.statusCode);
    }
    return payload;
  });
}
