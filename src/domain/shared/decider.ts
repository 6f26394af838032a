/** A domain event as the decider sees it: a type and a JSON-safe payload. */
export interface DomainEvent<Type extends string = string, Data extends object = object> {
  readonly type: Type;
  readonly data: Data;
}

/** A command: imperative type, JSON-safe payload. Time and new ids arrive inside the command. */
export interface Command<Type extends string = string, Data extends object = object> {
  readonly type: Type;
  readonly data: Data;
}

/**
 * The Decider pattern: `decide` turns a command and the current state into new events (or throws a typed
 * DomainError); `evolve` folds one event into the state. Both are pure. A command whose outcome is already in the
 * state returns `[]`, so resending it is harmless.
 */
export interface Decider<C extends Command, S, E extends DomainEvent> {
  decide(command: C, state: S): E[];
  evolve(state: S, event: E): S;
  initialState(): S;
}

export function fold<S, E extends DomainEvent>(
  decider: Pick<Decider<never, S, E>, 'evolve' | 'initialState'>,
  events: readonly E[],
): S {
  return events.reduce((state, event) => decider.evolve(state, event), decider.initialState());
}
