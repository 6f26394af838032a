import { expect } from 'vitest';
import type { Command, Decider, DomainEvent } from '../../../src/domain/shared/decider.js';
import { fold } from '../../../src/domain/shared/decider.js';
import type { DomainError } from '../../../src/domain/shared/errors.js';

type ErrorClass = abstract new (...args: never[]) => DomainError;

export interface ThenOptions {
  /**
   * After the expected events are applied, sending the same command again must decide nothing (house rule:
   * resending is harmless). On by default; switch off for commands that are legitimately not repeatable.
   */
  readonly resendDecidesNothing?: boolean;
}

/**
 * given(events).when(command).then(events | error) for a decider.
 *
 *   const spec = deciderSpec(reservationDecider);
 *   spec.given([requested]).when(confirm).then([confirmed]);
 *   spec.given([cancelled]).when(confirm).thenThrows(IllegalStateError, { code: 'reservation-not-confirmable' });
 *
 * `then` also checks that the events fold without throwing and returns the state after them.
 */
export function deciderSpec<C extends Command, S, E extends DomainEvent>(decider: Decider<C, S, E>) {
  return {
    given(events: readonly E[] = []) {
      const state = fold(decider, events);
      return {
        state,
        when(command: C) {
          const decide = () => decider.decide(command, state);
          return {
            then(expected: readonly E[], options: ThenOptions = {}): S {
              const actual = decide();
              expect(actual).toEqual(expected);
              const after = actual.reduce((current, event) => decider.evolve(current, event), state);
              if (options.resendDecidesNothing ?? true) expect(decider.decide(command, after)).toEqual([]);
              return after;
            },
            thenNothing(): void {
              expect(decide()).toEqual([]);
            },
            thenThrows(
              errorClass: ErrorClass,
              match: { code?: string; details?: Record<string, unknown> } = {},
            ): DomainError {
              let caught: unknown;
              let events: E[] | undefined;
              try {
                events = decide();
              } catch (error) {
                caught = error;
              }
              if (events !== undefined)
                expect.fail(`expected ${errorClass.name}, got events ${JSON.stringify(events)}`);
              expect(caught).toBeInstanceOf(errorClass);
              const domainError = caught as DomainError;
              if (match.code !== undefined) expect(domainError.code).toBe(match.code);
              if (match.details !== undefined) expect(domainError.details).toMatchObject(match.details);
              return domainError;
            },
          };
        },
      };
    },
  };
}
