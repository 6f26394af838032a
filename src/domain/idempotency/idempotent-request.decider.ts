import { compoundStreamName } from '../catalog/stream-name.js';
import { requireId, requireInstant, requireInteger, requireText } from '../catalog/validation.js';
import type { Command, Decider, DomainEvent } from '../shared/decider.js';
import { IllegalStateError } from '../shared/errors.js';

/**
 * One client request sent with an `Idempotency-Key` (decision 0010): the first answer is kept with the events and
 * replayed to a retry with the same key and request, so a retried POST never runs twice — not even after the read
 * models were rebuilt. Appending `IdempotentRequestStarted` under optimistic concurrency is the atomic "insert if
 * absent": of two concurrent first attempts, one appends, the other re-reads and sees it in progress.
 */
export interface StoredResponse {
  readonly statusCode: number;
  readonly contentType: string;
  readonly location?: string;
  readonly etag?: string;
  /** The body exactly as sent. */
  readonly payload: string;
}

export type IdempotentRequestState =
  | { readonly status: 'none' }
  | {
      readonly status: 'in-progress';
      readonly requestHash: string;
      readonly attempt: number;
      readonly startedAt: string;
    }
  | { readonly status: 'done'; readonly requestHash: string; readonly response: StoredResponse }
  /** The last attempt failed (not a 2xx): it changed nothing, so the key is free for a retry. */
  | { readonly status: 'abandoned'; readonly requestHash: string; readonly attempt: number };

export type StartIdempotentRequest = Command<
  'StartIdempotentRequest',
  {
    readonly requestHash: string;
    readonly now: string;
    /** An attempt started longer ago than this died before it answered: a retry may take over. */
    readonly staleAfterMs: number;
  }
>;
export type CompleteIdempotentRequest = Command<
  'CompleteIdempotentRequest',
  { readonly attempt: number; readonly response: StoredResponse; readonly now: string }
>;
export type AbandonIdempotentRequest = Command<
  'AbandonIdempotentRequest',
  { readonly attempt: number; readonly statusCode: number; readonly now: string }
>;
export type IdempotentRequestCommand = StartIdempotentRequest | CompleteIdempotentRequest | AbandonIdempotentRequest;

export type IdempotentRequestStarted = DomainEvent<
  'IdempotentRequestStarted',
  { readonly requestHash: string; readonly attempt: number; readonly startedAt: string }
>;
export type IdempotentRequestCompleted = DomainEvent<
  'IdempotentRequestCompleted',
  { readonly attempt: number; readonly response: StoredResponse; readonly completedAt: string }
>;
export type IdempotentRequestAbandoned = DomainEvent<
  'IdempotentRequestAbandoned',
  { readonly attempt: number; readonly statusCode: number; readonly abandonedAt: string }
>;
export type IdempotentRequestEvent = IdempotentRequestStarted | IdempotentRequestCompleted | IdempotentRequestAbandoned;

/** `idempotency-<tenant>+<requestId>`; the request id is a digest of the route and the client's key. */
export function idempotentRequestStreamName(tenantId: string, requestId: string): string {
  return compoundStreamName('idempotency', tenantId, requireId('requestId', requestId));
}

function decide(command: IdempotentRequestCommand, state: IdempotentRequestState): IdempotentRequestEvent[] {
  switch (command.type) {
    case 'StartIdempotentRequest': {
      const now = requireInstant('now', command.data.now);
      const requestHash = requireText('requestHash', command.data.requestHash, 128);
      if (state.status !== 'none' && state.requestHash !== requestHash) {
        throw new IllegalStateError(
          'idempotency-key-reused',
          'This Idempotency-Key was used with a different request.',
        );
      }
      if (state.status === 'done') return []; // the caller replays state.response
      if (state.status === 'in-progress') {
        const stale = Date.parse(now) - Date.parse(state.startedAt) > command.data.staleAfterMs;
        if (!stale) {
          throw new IllegalStateError(
            'idempotency-key-in-progress',
            'A request with this Idempotency-Key is still being processed.',
          );
        }
      }
      const attempt = state.status === 'none' ? 1 : state.attempt + 1;
      return [{ type: 'IdempotentRequestStarted', data: { requestHash, attempt, startedAt: now } }];
    }
    case 'CompleteIdempotentRequest': {
      const now = requireInstant('now', command.data.now);
      const attempt = requireInteger('attempt', command.data.attempt, 1, Number.MAX_SAFE_INTEGER);
      // Whichever attempt answers first is the answer; a late one (after a stale take-over) is not stored again.
      if (state.status !== 'in-progress') return [];
      return [
        { type: 'IdempotentRequestCompleted', data: { attempt, response: command.data.response, completedAt: now } },
      ];
    }
    case 'AbandonIdempotentRequest': {
      const now = requireInstant('now', command.data.now);
      if (state.status !== 'in-progress' || state.attempt !== command.data.attempt) return [];
      return [
        {
          type: 'IdempotentRequestAbandoned',
          data: { attempt: state.attempt, statusCode: command.data.statusCode, abandonedAt: now },
        },
      ];
    }
  }
}

function evolve(state: IdempotentRequestState, event: IdempotentRequestEvent): IdempotentRequestState {
  switch (event.type) {
    case 'IdempotentRequestStarted':
      return {
        status: 'in-progress',
        requestHash: event.data.requestHash,
        attempt: event.data.attempt,
        startedAt: event.data.startedAt,
      };
    case 'IdempotentRequestCompleted':
      return state.status === 'none'
        ? state
        : { status: 'done', requestHash: state.requestHash, response: event.data.response };
    case 'IdempotentRequestAbandoned':
      return state.status === 'none' || state.status === 'done'
        ? state
        : { status: 'abandoned', requestHash: state.requestHash, attempt: event.data.attempt };
  }
}

export const idempotentRequestDecider: Decider<
  IdempotentRequestCommand,
  IdempotentRequestState,
  IdempotentRequestEvent
> = {
  decide,
  evolve,
  initialState: () => ({ status: 'none' }),
};
