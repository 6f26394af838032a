import { expect } from 'vitest';
import type { Command, Decider, DomainEvent } from '../../../src/domain/shared/decider.js';
import { fold } from '../../../src/domain/shared/decider.js';
import type { DomainError } from '../../../src/domain/shared/errors.js';

type ErrorClass = abstract new (...args: never[]) => DomainError;

/**
 * given(events).when(command).then(events | error) for a decider. `then` also folds the new events, so an
 * expectation on the resulting state can follow with `thenState`.
 */
export function specFor<C extends Command, S, E extends DomainEvent>(decider: Decider<C, S, E>) {
  return {
    given(events: readonly E[] = []) {
      const state = fold(decider, events);
      return {
        when(command: C) {
          const run = () => decider.decide(command, state);
          return {
            then(expected: readonly E[]): S {
              const actual = run();
              expect(actual).toEqual(expected);
              return actual.reduce((s, e) => decider.evolve(s, e), state);
            },
            thenNothing(): void {
              expect(run()).toEqual([]);
            },
            thenThrows(errorClass: ErrorClass, code?: string): DomainError {
              let caught: unknown;
              try {
                run();
              } catch (error) {
                caught = error;
              }
              expect(caught, 'expected the command to be refused').toBeInstanceOf(errorClass);
              if (code !== undefined) expect((caught as DomainError).code).toBe(code);
              return caught as DomainError;
            },
            /** Decides, folds, and hands the new state to the assertion. */
            thenState(assert: (state: S, events: readonly E[]) => void): void {
              const events = run();
              assert(
                events.reduce((s, e) => decider.evolve(s, e), state),
                events,
              );
            },
          };
        },
      };
    },
  };
}
