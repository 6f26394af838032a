import type { Decider, DomainEvent } from '../domain/shared/decider.js';
import { NotFoundError } from '../domain/shared/errors.js';
import { toDomainEvent } from './command-handler.js';
import type { RecordedEvent } from './ports/event-store.port.js';

/**
 * A point in a stream's past, for auditors: a stream revision (the n-th event, 0-based, as in ETags and histories),
 * or an instant (every event the store had recorded by then). States as of a point are folded from the stream's
 * events with the aggregate's own `evolve`, never read from a read model.
 */
export type AsOf = { readonly revision: bigint } | { readonly time: string };

/** `asOf` as clients send it: digits are a revision, anything else must be an ISO-8601 instant with a zone offset. */
export function parseAsOf(value: string): AsOf | undefined {
  if (/^(0|[1-9]\d{0,17})$/.test(value)) return { revision: BigInt(value) };
  const match = /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.exec(
    value,
  );
  if (!match) return undefined;
  // Date.parse rolls 2030-02-30 over to March 2nd: the calendar day must exist.
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const calendar = new Date(Date.UTC(year, month - 1, day));
  if (calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : { time: new Date(ms).toISOString() };
}

export function describeAsOf(asOf: AsOf): string {
  return 'revision' in asOf ? `revision ${asOf.revision}` : asOf.time;
}

/**
 * The prefix of a stream's events up to `asOf` (all of them without one). A revision the stream has not reached is a
 * 404 `revision-not-found` (an auditor asking for revision 9 of a 5-event stream must not get revision 4 unawares);
 * an instant before the first event gives no events, which the caller answers as "did not exist then".
 */
export function eventsAsOf(events: readonly RecordedEvent[], asOf: AsOf | undefined): RecordedEvent[] {
  if (asOf === undefined) return [...events];
  if ('revision' in asOf) {
    const last = events.at(-1)?.revision;
    if (last !== undefined && asOf.revision > last) {
      throw new NotFoundError('revision-not-found', `The stream has no revision ${asOf.revision} (it is at ${last}).`, {
        asOf: asOf.revision.toString(),
        currentRevision: last.toString(),
      });
    }
    return events.filter((event) => event.revision <= asOf.revision);
  }
  const at = Date.parse(asOf.time);
  return events.filter((event) => Date.parse(event.recordedAt) <= at);
}

/** Folds the events (up to `asOf`) with the decider's `evolve`: the aggregate as it was then, and its revision. */
export function foldAsOf<S, E extends DomainEvent>(
  events: readonly RecordedEvent[],
  decider: Pick<Decider<never, S, E>, 'evolve' | 'initialState'>,
  asOf: AsOf | undefined,
): { state: S; revision: bigint | 'no_stream'; events: RecordedEvent[] } {
  const prefix = eventsAsOf(events, asOf);
  let state = decider.initialState();
  for (const event of prefix) state = decider.evolve(state, toDomainEvent<E>(event));
  return { state, revision: prefix.at(-1)?.revision ?? 'no_stream', events: prefix };
}
