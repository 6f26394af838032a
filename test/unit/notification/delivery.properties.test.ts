import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type {
  DeliveryCommand,
  DeliveryEvent,
  DeliveryState,
} from '../../../src/domain/notification/delivery.decider.js';
import { deliveryDecider } from '../../../src/domain/notification/delivery.decider.js';
import { DomainError } from '../../../src/domain/shared/errors.js';
import { NOTIFICATION_ID, requestSms } from './delivery-fixtures.js';

/**
 * Random command sequences, including the duplicates, reorderings and stale jobs that restarts and redelivered
 * events produce. Actions are abstract ("start the next attempt", "report a failure of the previous one", "repeat
 * the last command") and become concrete commands against the state at hand, so long histories are reached.
 * Refused commands (typed DomainErrors) are dropped, as the command handler would.
 */
type Action =
  | { readonly kind: 'request' | 'skip' | 'resend' | 'repeat' }
  | { readonly kind: 'start'; readonly delta: number }
  | { readonly kind: 'fail'; readonly delta: number; readonly transient: boolean }
  | { readonly kind: 'accept'; readonly providerMessageId: string }
  | {
      readonly kind: 'status';
      readonly status: 'sent' | 'delivered' | 'undelivered' | 'failed' | 'bounced';
      readonly providerMessageId: string;
    };

const MAX_ATTEMPTS = 2;
const providerId = fc.constantFrom('SM1', 'SM1', 'SM2');
const delta = fc.constantFrom(1, 1, 1, 0, -1, 2);
const action: fc.Arbitrary<Action> = fc.oneof(
  { arbitrary: fc.constant({ kind: 'request' as const }), weight: 1 },
  { arbitrary: fc.constant({ kind: 'skip' as const }), weight: 1 },
  { arbitrary: fc.constant({ kind: 'resend' as const }), weight: 1 },
  { arbitrary: fc.constant({ kind: 'repeat' as const }), weight: 2 },
  { arbitrary: delta.map((d) => ({ kind: 'start' as const, delta: d })), weight: 4 },
  {
    arbitrary: fc
      .record({ delta: fc.constantFrom(0, 0, 0, -1, 1), transient: fc.constantFrom(true, true, false) })
      .map((r) => ({ kind: 'fail' as const, ...r })),
    weight: 3,
  },
  { arbitrary: providerId.map((id) => ({ kind: 'accept' as const, providerMessageId: id })), weight: 2 },
  {
    arbitrary: fc
      .record({
        status: fc.constantFrom('sent', 'delivered', 'undelivered', 'failed', 'bounced'),
        providerMessageId: providerId,
      })
      .map((r) => ({ kind: 'status' as const, ...r })),
    weight: 2,
  },
);
const commands = fc
  .tuple(fc.boolean(), fc.array(action, { minLength: 1, maxLength: 60 }))
  .map(([startWithRequest, list]) => (startWithRequest ? [{ kind: 'request' as const }, ...list] : list));

function attemptsOf(state: DeliveryState): number {
  return 'attempts' in state ? state.attempts : 0;
}

function concrete(
  a: Action,
  state: DeliveryState,
  last: DeliveryCommand | undefined,
  at: string,
): DeliveryCommand | undefined {
  switch (a.kind) {
    case 'request':
      return requestSms({ maxAttempts: MAX_ATTEMPTS });
    case 'skip':
      return {
        type: 'SkipNotification',
        data: {
          reason: 'insufficient-credits',
          skippedAt: at,
          identity: {
            notificationId: NOTIFICATION_ID,
            tenantId: 'tenant-1',
            kind: 'reservation-confirmed',
            channel: 'sms',
            recipientType: 'customer',
            causationEventId: 'evt-100',
          },
        },
      };
    case 'resend':
      return { type: 'Resend', data: { by: 'staff-1', at } };
    case 'repeat':
      return last;
    case 'start':
      return { type: 'StartAttempt', data: { attempt: Math.max(1, attemptsOf(state) + a.delta), at } };
    case 'fail':
      return {
        type: 'RecordAttemptFailed',
        data: {
          attempt: Math.max(1, attemptsOf(state) + a.delta),
          error: a.transient ? 'HTTP 503' : '21211',
          transient: a.transient,
          at,
        },
      };
    case 'accept':
      return { type: 'RecordProviderAccepted', data: { providerMessageId: a.providerMessageId, at } };
    case 'status':
      return { type: 'RecordProviderStatus', data: { status: a.status, providerMessageId: a.providerMessageId, at } };
  }
}

interface Step {
  readonly before: DeliveryState;
  readonly event: DeliveryEvent;
  readonly after: DeliveryState;
}

interface Decision {
  readonly command: DeliveryCommand;
  readonly state: DeliveryState;
  readonly events: DeliveryEvent[];
}

function run(actions: readonly Action[]): {
  steps: Step[];
  history: DeliveryEvent[];
  decisions: Decision[];
  final: DeliveryState;
} {
  let state = deliveryDecider.initialState();
  const steps: Step[] = [];
  const history: DeliveryEvent[] = [];
  const decisions: Decision[] = [];
  let last: DeliveryCommand | undefined;
  for (const [index, a] of actions.entries()) {
    const cmd = concrete(a, state, last, new Date(Date.UTC(2025, 2, 1, 10) + index * 1000).toISOString());
    if (cmd === undefined) continue;
    last = cmd;
    let events: DeliveryEvent[];
    try {
      events = deliveryDecider.decide(cmd, state);
    } catch (error) {
      // Only typed refusals: anything else is a bug.
      expect(error).toBeInstanceOf(DomainError);
      continue;
    }
    decisions.push({ command: cmd, state, events });
    for (const event of events) {
      const after = deliveryDecider.evolve(state, event);
      steps.push({ before: state, event, after });
      history.push(event);
      state = after;
    }
  }
  return { steps, history, decisions, final: state };
}

/** Progress of a delivery: 0 nothing, 1 waiting, 2 sending, 3 attempt outcome known / accepted, 4 provider final. */
function rank(state: DeliveryState): number {
  switch (state.status) {
    case 'none':
      return 0;
    case 'requested':
      return 1;
    case 'sending':
      return 2;
    case 'sent':
    case 'dead-lettered':
      return 3;
    case 'failed':
      return state.stage === 'attempt' ? 3 : 4;
    case 'delivered':
    case 'undelivered':
    case 'bounced':
      return 4;
    case 'skipped':
      return 5;
  }
}

function providerMessageIdOf(state: DeliveryState): string | undefined {
  return 'providerMessageId' in state ? state.providerMessageId : undefined;
}

describe('Delivery (properties)', () => {
  it('explores every status and event (so that the properties below are not vacuous)', () => {
    const statuses = new Set<string>();
    const eventTypes = new Set<string>();
    for (const actions of fc.sample(commands, { numRuns: 3000, seed: 42 })) {
      const { steps, final } = run(actions);
      statuses.add(final.status);
      for (const step of steps) {
        statuses.add(step.after.status);
        eventTypes.add(step.event.type);
      }
    }
    expect([...statuses].sort()).toEqual(
      [
        'bounced',
        'dead-lettered',
        'delivered',
        'failed',
        'none',
        'requested',
        'sending',
        'sent',
        'skipped',
        'undelivered',
      ].sort(),
    );
    expect(eventTypes.size).toBe(11);
  });

  it('never records two NotificationSent, whatever arrives in whatever order', () => {
    fc.assert(
      fc.property(commands, (list) => {
        const { history } = run(list);
        expect(history.filter((e) => e.type === 'NotificationSent').length).toBeLessThanOrEqual(1);
      }),
      { numRuns: 2000 },
    );
  });

  it('never moves backward: only a retry or a staff re-send returns to requested; acceptance is never undone', () => {
    fc.assert(
      fc.property(commands, (list) => {
        for (const { before, event, after } of run(list).steps) {
          const retry =
            event.type === 'NotificationAttemptFailed' && before.status === 'sending' && after.status === 'requested';
          const resend = event.type === 'NotificationResendRequested';
          if (!retry && !resend)
            expect(rank(after), `${before.status} -(${event.type})-> ${after.status}`).toBeGreaterThanOrEqual(
              rank(before),
            );
          const acceptedBefore = providerMessageIdOf(before);
          if (acceptedBefore !== undefined) {
            expect(providerMessageIdOf(after)).toBe(acceptedBefore);
            expect(resend).toBe(false);
          }
          if (rank(before) === 4) expect(after.status).toBe(before.status);
          if (before.status === 'skipped') expect(after).toEqual(before);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('never starts more attempts in a round than allowed', () => {
    fc.assert(
      fc.property(commands, (list) => {
        let inRound = 0;
        for (const event of run(list).history) {
          if (event.type === 'NotificationResendRequested') inRound = 0;
          if (event.type === 'NotificationAttemptStarted') {
            inRound++;
            expect(event.data.attempt).toBe(inRound);
            expect(inRound).toBeLessThanOrEqual(MAX_ATTEMPTS);
          }
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('makes every accepted command harmless to repeat, and decides the same way twice', () => {
    fc.assert(
      fc.property(commands, (list) => {
        for (const { command: cmd, state, events } of run(list).decisions) {
          expect(deliveryDecider.decide(cmd, state)).toEqual(events);
          const next = events.reduce(deliveryDecider.evolve, state);
          expect(deliveryDecider.decide(cmd, next)).toEqual([]);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
