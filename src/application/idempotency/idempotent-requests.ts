import {
  idempotentRequestDecider,
  idempotentRequestStreamName,
  type StoredResponse,
} from '../../domain/idempotency/idempotent-request.decider.js';
import { handleCommand, type CommandContext } from '../command-handler.js';
import type { Clock } from '../ports/clock.port.js';
import type { EventStore } from '../ports/event-store.port.js';
import type { IdSource } from '../ports/id-source.port.js';

/** An attempt that has not answered after this long died mid-request; a retry takes over. */
export const STALE_AFTER_MS = 60_000;

export interface IdempotentRequestsDeps {
  readonly eventStore: EventStore;
  readonly ids: IdSource;
  readonly clock: Clock;
}

export type Begin =
  /** This attempt runs the request; report its answer with complete() or abandon(). */
  | { readonly outcome: 'run'; readonly attempt: number }
  /** An earlier attempt answered: send this instead of running the request. */
  | { readonly outcome: 'replay'; readonly response: StoredResponse };

/**
 * Idempotency records kept in the event store (decision 0010), one stream per (tenant, route, key). Typed errors:
 * `idempotency-key-reused` (another request under the key) and `idempotency-key-in-progress`, both IllegalStateError.
 */
export function createIdempotentRequests(deps: IdempotentRequestsDeps) {
  const now = () => deps.clock.now().toISOString();
  return {
    async begin(context: CommandContext, requestId: string, requestHash: string): Promise<Begin> {
      const result = await handleCommand(
        deps,
        idempotentRequestStreamName(context.tenantId, requestId),
        idempotentRequestDecider,
        { type: 'StartIdempotentRequest', data: { requestHash, now: now(), staleAfterMs: STALE_AFTER_MS } },
        context,
      );
      const { state } = result;
      if (state.status === 'done') return { outcome: 'replay', response: state.response };
      if (state.status !== 'in-progress') throw new Error('idempotent request did not start');
      return { outcome: 'run', attempt: state.attempt };
    },
    async complete(context: CommandContext, requestId: string, attempt: number, response: StoredResponse) {
      await handleCommand(
        deps,
        idempotentRequestStreamName(context.tenantId, requestId),
        idempotentRequestDecider,
        { type: 'CompleteIdempotentRequest', data: { attempt, response, now: now() } },
        context,
      );
    },
    async abandon(context: CommandContext, requestId: string, attempt: number, statusCode: number) {
      await handleCommand(
        deps,
        idempotentRequestStreamName(context.tenantId, requestId),
        idempotentRequestDecider,
        { type: 'AbandonIdempotentRequest', data: { attempt, statusCode, now: now() } },
        context,
      );
    },
  };
}

export type IdempotentRequests = ReturnType<typeof createIdempotentRequests>;
