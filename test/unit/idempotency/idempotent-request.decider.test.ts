import { describe, expect, it } from 'vitest';
import {
  idempotentRequestDecider,
  idempotentRequestStreamName,
  type IdempotentRequestEvent,
  type StartIdempotentRequest,
  type StoredResponse,
} from '../../../src/domain/idempotency/idempotent-request.decider.js';
import { IllegalStateError } from '../../../src/domain/shared/errors.js';
import { deciderSpec } from '../support/decider-spec.js';

const spec = deciderSpec(idempotentRequestDecider);
const T0 = '2030-01-01T09:00:00.000Z';
const start = (now = T0, requestHash = 'h1'): StartIdempotentRequest => ({
  type: 'StartIdempotentRequest',
  data: { requestHash, now, staleAfterMs: 60_000 },
});
const started = (attempt = 1, startedAt = T0): IdempotentRequestEvent => ({
  type: 'IdempotentRequestStarted',
  data: { requestHash: 'h1', attempt, startedAt },
});
const response: StoredResponse = { statusCode: 201, contentType: 'application/json', payload: '{"ok":true}' };
const completed: IdempotentRequestEvent = {
  type: 'IdempotentRequestCompleted',
  data: { attempt: 1, response, completedAt: T0 },
};

describe('idempotent request decider', () => {
  it('the first attempt starts; a finished one is replayed (nothing decided), another request under the key is refused', () => {
    spec.given([]).when(start()).then([started()], { resendDecidesNothing: false });
    const done = spec.given([started(), completed]);
    done.when(start()).thenNothing();
    expect(done.state).toEqual({ status: 'done', requestHash: 'h1', response });
    done.when(start(T0, 'h2')).thenThrows(IllegalStateError, { code: 'idempotency-key-reused' });
  });

  it('a retry while the first still runs is refused; once that attempt is stale, the retry takes over', () => {
    spec.given([started()]).when(start('2030-01-01T09:00:30.000Z')).thenThrows(IllegalStateError, {
      code: 'idempotency-key-in-progress',
    });
    spec
      .given([started()])
      .when(start('2030-01-01T09:01:00.001Z'))
      .then([started(2, '2030-01-01T09:01:00.001Z')], { resendDecidesNothing: false });
  });

  it('a failed attempt frees the key; the first answer wins over a late one', () => {
    const abandoned: IdempotentRequestEvent = {
      type: 'IdempotentRequestAbandoned',
      data: { attempt: 1, statusCode: 409, abandonedAt: T0 },
    };
    spec
      .given([started()])
      .when({ type: 'AbandonIdempotentRequest', data: { attempt: 1, statusCode: 409, now: T0 } })
      .then([abandoned]);
    spec
      .given([started(), abandoned])
      .when(start())
      .then([started(2)], { resendDecidesNothing: false });
    spec
      .given([started(), completed])
      .when({
        type: 'CompleteIdempotentRequest',
        data: { attempt: 2, response: { ...response, payload: 'late' }, now: T0 },
      })
      .thenNothing();
    // An abandon from a superseded attempt does not free the key under the attempt that took over.
    spec
      .given([started(), started(2)])
      .when({ type: 'AbandonIdempotentRequest', data: { attempt: 1, statusCode: 500, now: T0 } })
      .thenNothing();
    expect(idempotentRequestStreamName('acme', 'ab12')).toBe('idempotency-acme+ab12');
  });
});
