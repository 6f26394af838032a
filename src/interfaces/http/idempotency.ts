import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ReadModelStore, StoredDocument } from '../../application/ports/read-model-store.port.js';
import { HttpProblem, problem } from './problem.js';

const COLLECTION = 'idempotency_keys';
const STALE_AFTER_MS = 60_000;

interface IdempotencyRecord extends StoredDocument {
  tenantId: string;
  requestHash: string;
  state: 'in-progress' | 'done';
  statusCode?: number;
  contentType?: string;
  location?: string;
  etag?: string;
  payload?: string;
  createdAt: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    idempotencyRecordId?: string;
  }
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * `Idempotency-Key` on POST: the first successful answer is stored and replayed for a retry with the same key and
 * body (header `Idempotent-Replayed: true`), without running the handler again, so nothing is appended twice.
 * The same key with another body is 422; a retry while the first is still running is 409. Failed requests are
 * not stored: they changed nothing, so running them again is safe.
 */
export function registerIdempotency(app: FastifyInstance, store: ReadModelStore, now: () => Date): void {
  app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    const key = request.headers['idempotency-key'];
    if (request.method !== 'POST' || typeof key !== 'string' || !request.principal) return;
    if (key.length < 1 || key.length > 255) {
      throw new HttpProblem(problem(400, 'invalid-idempotency-key', 'Idempotency-Key must be 1 to 255 characters.'));
    }
    const tenantId = request.principal.tenantId;
    const id = sha256(`${tenantId}\u001f${request.routeOptions.url}\u001f${key}`);
    const requestHash = sha256(`${request.url}\u001f${JSON.stringify(request.body ?? null)}`);
    const fresh: IdempotencyRecord = {
      _id: id,
      tenantId,
      requestHash,
      state: 'in-progress',
      createdAt: now().toISOString(),
    };
    if (await store.insertIfAbsent(COLLECTION, fresh)) {
      request.idempotencyRecordId = id;
      return;
    }
    const existing = await store.get<IdempotencyRecord>(COLLECTION, id);
    if (!existing) throw new HttpProblem(problem(409, 'idempotency-key-in-use', 'Retry the request.'));
    if (existing.requestHash !== requestHash) {
      throw new HttpProblem(
        problem(422, 'idempotency-key-reused', 'This Idempotency-Key was used with a different request.'),
      );
    }
    if (existing.state !== 'done' && now().getTime() - Date.parse(existing.createdAt) > STALE_AFTER_MS) {
      // The first attempt died mid-request (its answer was never stored): let this one run.
      await store.put(COLLECTION, fresh);
      request.idempotencyRecordId = id;
      return;
    }
    if (existing.state !== 'done') {
      throw new HttpProblem(
        problem(409, 'idempotency-key-in-progress', 'A request with this Idempotency-Key is still being processed.'),
      );
    }
    reply.header('idempotent-replayed', 'true');
    if (existing.location) reply.header('location', existing.location);
    if (existing.etag) reply.header('etag', existing.etag);
    reply.header('content-type', existing.contentType ?? 'application/json; charset=utf-8');
    return reply.code(existing.statusCode ?? 200).send(existing.payload ?? '');
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const id = request.idempotencyRecordId;
    if (!id || !request.principal) return payload;
    if (reply.statusCode >= 200 && reply.statusCode < 300) {
      const record: IdempotencyRecord = {
        _id: id,
        tenantId: request.principal.tenantId,
        requestHash: sha256(`${request.url}\u001f${JSON.stringify(request.body ?? null)}`),
        state: 'done',
        statusCode: reply.statusCode,
        contentType: String(reply.getHeader('content-type') ?? 'application/json; charset=utf-8'),
        createdAt: now().toISOString(),
        ...(typeof payload === 'string' ? { payload } : {}),
        ...(reply.getHeader('location') ? { location: String(reply.getHeader('location')) } : {}),
        ...(reply.getHeader('etag') ? { etag: String(reply.getHeader('etag')) } : {}),
      };
      await store.put(COLLECTION, record);
    } else {
      await store.delete(COLLECTION, id);
    }
    return payload;
  });
}
