import type { Command, Decider, DomainEvent } from '../domain/shared/decider.js';
import { ConcurrencyError } from '../domain/shared/errors.js';
import type { EventMetadata, EventStore, NewEvent, RecordedEvent } from './ports/event-store.port.js';
import type { IdSource } from './ports/id-source.port.js';

export interface CommandContext {
  readonly tenantId: string;
  readonly actor: string;
  /** The Herald process that acted, where it matters who (a delivery attempt in flight). */
  readonly instance?: string;
  readonly correlationId?: string;
  readonly causationId?: string;
}

/**
 * If-Match, as the application sees it: the revision the client last saw, or the revisions it accepts (any one of
 * them; an empty list accepts none).
 */
export type ExpectedRevision = bigint | readonly bigint[];

/** Whether a stream at `revision` satisfies the client's expectation. A stream that does not exist never does. */
export function isExpectedRevision(revision: bigint | 'no_stream', expected: ExpectedRevision): boolean {
  if (revision === 'no_stream') return false;
  return typeof expected === 'bigint' ? revision === expected : expected.includes(revision);
}

/** The 412 of a write whose If-Match no longer holds. */
export function staleRevision(revision: bigint | 'no_stream', expected: ExpectedRevision): ConcurrencyError {
  const named = typeof expected === 'bigint' ? [expected] : expected;
  const message =
    named.length === 1
      ? `The resource changed since revision ${named[0]}.`
      : named.length === 0
        ? 'If-Match names no revision this service issued.'
        : `The resource is at none of the revisions ${named.join(', ')}.`;
  return new ConcurrencyError('stale-revision', message, {
    currentRevision: revision === 'no_stream' ? null : revision.toString(),
  });
}

export interface HandleOptions<S = unknown> {
  /**
   * The stream as the caller just read or wrote it: decided on without reading it again. A conflict (the stream
   * moved on) re-reads as usual.
   */
  readonly from?: { readonly state: S; readonly revision: bigint | 'no_stream' };
  /** The revision(s) the client accepts (If-Match). A mismatch is a ConcurrencyError, never retried. */
  readonly expectedRevision?: ExpectedRevision;
  /** Derive the new events' ids from this key (UUID v5) so that a retried effect produces the same ids. */
  readonly idempotencyKey?: string;
  readonly maxRetries?: number;
}

export interface HandleResult<S> {
  readonly state: S;
  readonly newEvents: readonly NewEvent[];
  /** Revision of the stream after the command (`'no_stream'` if nothing was ever written). */
  readonly revision: bigint | 'no_stream';
  readonly position?: bigint;
}

export interface CommandHandlerDeps {
  readonly eventStore: EventStore;
  readonly ids: IdSource;
}

export function buildMetadata(context: CommandContext): EventMetadata {
  return {
    tenantId: context.tenantId,
    actor: context.actor,
    ...(context.correlationId ? { correlationId: context.correlationId } : {}),
    ...(context.causationId ? { causationId: context.causationId } : {}),
    ...(context.instance ? { instance: context.instance } : {}),
  };
}

export function toDomainEvent<E extends DomainEvent>(recorded: RecordedEvent): E {
  return { type: recorded.type, data: recorded.data } as unknown as E;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Commands on one stream in this process run one after another (a contended slot would otherwise make concurrent
 * commands conflict and retry, docs/benchmarks.md). The next command decides on the outcome of the previous one
 * without reading the stream again, but only once that outcome is certain: its append acknowledged. It never decides
 * on an append still in flight: that append can still fail (a writer outside this queue — the waitlist allocation's
 * `appendDecided`, another process — got in first), and then a refusal decided on it (`offer-expired` for an expiry
 * that never happened) is never checked by anything, and an append decided on it passes the revision check whenever
 * the other writer appended as many events, on a stream that holds something else
 * (test/unit/application/command-handler.test.ts). A failed append leaves nothing: the next command reads the stream.
 * So nothing may wait, inside a command's append, for another command on the same stream in this process.
 */
interface StreamTail {
  /** Resolves when the last command queued on the stream lets the next one go, with what it left. */
  last: Promise<Known | undefined>;
  /** Commands waiting or running on the stream; the tail is dropped when none is left. */
  pending: number;
}
interface Known {
  readonly decider: object;
  readonly state: unknown;
  readonly revision: bigint | 'no_stream';
}
const streamTails = new WeakMap<EventStore, Map<string, StreamTail>>();

async function onStream<T>(
  eventStore: EventStore,
  streamName: string,
  run: (known: Known | undefined, release: (known?: Known) => void) => Promise<T>,
): Promise<T> {
  let tails = streamTails.get(eventStore);
  if (!tails) streamTails.set(eventStore, (tails = new Map()));
  let tail = tails.get(streamName);
  if (!tail) tails.set(streamName, (tail = { last: Promise.resolve(undefined), pending: 0 }));
  const previous = tail.last;
  let release!: (known?: Known) => void;
  tail.last = new Promise<Known | undefined>((resolve) => (release = resolve));
  tail.pending += 1;
  let done = false;
  const letGo = (next?: Known) => {
    if (done) return;
    done = true;
    release(next);
  };
  try {
    return await run(await previous, letGo);
  } finally {
    letGo();
    tail.pending -= 1;
    if (tail.pending === 0) tails.delete(streamName);
  }
}

/**
 * Read the stream, fold, decide, append with the revision just read. On a version conflict caused by another
 * writer, retry a few times with backoff; a conflict with the client's own expected revision is returned as is.
 */
export async function handleCommand<C extends Command, S, E extends DomainEvent>(
  deps: CommandHandlerDeps,
  streamName: string,
  decider: Decider<C, S, E>,
  command: C,
  context: CommandContext,
  options: HandleOptions<S> = {},
): Promise<HandleResult<S>> {
  const maxRetries = options.maxRetries ?? 5;
  return onStream(deps.eventStore, streamName, async (known, release) => {
    for (let attempt = 0; ; attempt++) {
      let state: S;
      let revision: bigint | 'no_stream';
      if (attempt === 0 && known?.decider === decider) {
        ({ revision } = known);
        state = known.state as S;
      } else if (attempt === 0 && options.from) {
        ({ state, revision } = options.from);
      } else {
        const read = await deps.eventStore.readStream(streamName);
        revision = read.revision;
        state = decider.initialState();
        for (const event of read.events) state = decider.evolve(state, toDomainEvent<E>(event));
      }
      if (options.expectedRevision !== undefined && !isExpectedRevision(revision, options.expectedRevision)) {
        throw staleRevision(revision, options.expectedRevision);
      }
      const decided = decider.decide(command, state);
      if (decided.length === 0) {
        release({ decider, state, revision });
        return { state, newEvents: [], revision };
      }

      const metadata = buildMetadata(context);
      const newEvents: NewEvent[] = decided.map((event, index) => ({
        id: options.idempotencyKey
          ? deps.ids.derive(options.idempotencyKey, streamName, String(index))
          : deps.ids.newId(),
        type: event.type,
        data: event.data as Record<string, unknown>,
        metadata,
      }));
      let next = state;
      for (const event of decided) next = decider.evolve(next, event);
      const appending = deps.eventStore.appendToStream(
        streamName,
        newEvents,
        revision === 'no_stream' ? 'no_stream' : revision,
      );
      try {
        const result = await appending;
        release({ decider, state: next, revision: result.nextExpectedRevision });
        return { state: next, newEvents, revision: result.nextExpectedRevision, position: result.position };
      } catch (error) {
        // The next command must not build on an append that failed: it reads the stream itself.
        release();
        if (!(error instanceof ConcurrencyError) || options.expectedRevision !== undefined || attempt >= maxRetries) {
          throw error;
        }
        await sleep(Math.min(200, 5 * 2 ** attempt) * (0.5 + Math.random() / 2));
      }
    }
  });
}

/** Reads and folds a stream without deciding anything (queries, process managers). */
export async function loadAggregate<S, E extends DomainEvent>(
  eventStore: EventStore,
  streamName: string,
  decider: Pick<Decider<never, S, E>, 'evolve' | 'initialState'>,
): Promise<{ state: S; revision: bigint | 'no_stream'; events: RecordedEvent[] }> {
  const { events, revision } = await eventStore.readStream(streamName);
  let state = decider.initialState();
  for (const event of events) state = decider.evolve(state, toDomainEvent<E>(event));
  return { state, revision, events };
}

/**
 * Appends events already decided from a state read at `revision` (the caller did work between deciding and
 * appending, e.g. took seats on another stream). A ConcurrencyError means the stream moved on: decide again.
 */
export async function appendDecided<E extends DomainEvent>(
  deps: CommandHandlerDeps,
  streamName: string,
  events: readonly E[],
  revision: bigint | 'no_stream',
  context: CommandContext,
): Promise<{ newEvents: NewEvent[]; revision: bigint; position: bigint }> {
  const metadata = buildMetadata(context);
  const newEvents: NewEvent[] = events.map((event) => ({
    id: deps.ids.newId(),
    type: event.type,
    data: event.data as Record<string, unknown>,
    metadata,
  }));
  const result = await deps.eventStore.appendToStream(streamName, newEvents, revision);
  return { newEvents, revision: result.nextExpectedRevision, position: result.position };
}
