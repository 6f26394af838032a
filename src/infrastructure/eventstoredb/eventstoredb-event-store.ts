import { setTimeout as sleep } from 'node:timers/promises';
import {
  ANY,
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  NO_STREAM,
  START,
  StreamNotFoundError,
  WrongExpectedVersionError,
  eventTypeFilter,
  excludeSystemEvents,
  jsonEvent,
} from '@eventstore/db-client';
import type {
  AllStreamRecordedEvent,
  AllStreamSubscription,
  AppendExpectedRevision,
  Direction,
  Position,
  ReadPosition,
  RecordedEvent as EsdbRecordedEvent,
} from '@eventstore/db-client';
import type {
  EventMetadata,
  EventStore,
  ExpectedRevision,
  ReadStreamResult,
  RecordedEvent,
  SubscribeOptions,
  Subscription,
} from '../../application/ports/event-store.port.js';
import type { Logger } from '../../application/ports/logger.port.js';
import { ConcurrencyError } from '../../domain/shared/errors.js';

export interface EventStoreDbEventStoreOptions {
  /** `esdb://host:2113?tls=false` and the like. */
  readonly connectionString: string;
  readonly logger: Logger;
}

/*
 * Positions. The port's `position` is the commit position of an event in $all. Events appended through gRPC are
 * written as implicit transactions, whose commit and prepare positions are the same number, so a bigint checkpoint
 * `p` resumes exactly from `{ commit: p, prepare: p }`. (Only the legacy TCP API wrote explicit transactions, where
 * several events share a commit position; Herald never writes those.) Within one subscription the full
 * `Position` of the last delivered event is kept and used to resubscribe, so a reconnect is exact regardless.
 */

/** Events per round trip when reading $all: the 6.x client cannot filter reads server-side, so we page and filter. */
const PAGE_SIZE = 500;
const MAX_BACKOFF_MS = 5_000;
/** Servers that read a stream from the index have no log position to give: they send -1 as an unsigned 64-bit. */
const UNKNOWN_POSITION = 2n ** 64n - 1n;

export function createEventStoreDbEventStore(options: EventStoreDbEventStoreOptions): EventStore {
  const { logger } = options;
  const client = EventStoreDBClient.connectionString(options.connectionString);
  const subscriptions = new Set<Subscription>();

  /** $all strictly after (or before) `from`, page by page, system events left out. */
  async function* scanAll(direction: Direction, from: ReadPosition): AsyncGenerator<AllStreamRecordedEvent> {
    let cursor = from;
    for (;;) {
      let count = 0;
      const page = client.readAll({ direction, fromPosition: cursor, maxCount: PAGE_SIZE });
      try {
        for await (const { event } of page) {
          count += 1;
          // A read includes the record at its starting position: the previous page's last event, or `after`.
          if (!event || (typeof cursor !== 'string' && samePosition(event.position, cursor))) continue;
          cursor = event.position;
          if (isUserEvent(event)) yield event;
        }
      } finally {
        // A caller that stops early would otherwise leave the call open until the server has sent the whole page.
        await page.cancel();
      }
      if (count < PAGE_SIZE) return;
    }
  }

  const subscribeToAll = ({ after, eventTypes }: SubscribeOptions = {}): Subscription => {
    const filter = eventTypes ? eventTypeFilter({ regex: exactly(eventTypes) }) : excludeSystemEvents();
    let from = startingAfter(after);
    let closed = false;
    let current: AllStreamSubscription | undefined;
    const stopped = new AbortController();

    async function* deliver(): AsyncGenerator<RecordedEvent> {
      let failures = 0;
      while (!closed) {
        const subscription = client.subscribeToAll({ fromPosition: from, filter });
        current = subscription;
        try {
          for await (const resolved of subscription) {
            if (!resolved.event || !isUserEvent(resolved.event)) continue;
            from = resolved.event.position;
            failures = 0;
            yield toRecordedEvent(resolved.event);
          }
        } catch (error) {
          if (closed) return;
          logger.warn({ err: describeError(error), from: positionText(from) }, 'event store subscription dropped');
        } finally {
          await subscription.unsubscribe();
        }
        if (closed) return;
        failures += 1;
        await sleep(Math.min(MAX_BACKOFF_MS, 100 * 2 ** failures), undefined, { signal: stopped.signal }).catch(
          () => undefined,
        );
      }
    }

    const events = deliver();
    const subscription: Subscription = {
      async close() {
        closed = true;
        subscriptions.delete(subscription);
        stopped.abort();
        await current?.unsubscribe();
        // Ends a pending `for await` on the client's stream even if the cancellation never reaches it,
        // so our own pending next() resolves with done.
        current?.destroy();
      },
      [Symbol.asyncIterator]: () => events,
    };
    subscriptions.add(subscription);
    return subscription;
  };

  return {
    async appendToStream(streamName, events, expectedRevision) {
      if (events.length === 0) throw new RangeError('appendToStream needs at least one event');
      try {
        const result = await client.appendToStream(
          streamName,
          events.map(({ id, type, data, metadata }) => jsonEvent({ id, type, data, metadata })),
          { expectedRevision: toEsdbRevision(expectedRevision) },
        );
        // The server may answer `no_position`; -1n then, as for an empty log.
        return { nextExpectedRevision: result.nextExpectedRevision, position: result.position?.commit ?? -1n };
      } catch (error) {
        if (error instanceof WrongExpectedVersionError) {
          throw new ConcurrencyError(
            'wrong-expected-revision',
            `Stream ${streamName} is not at the expected revision.`,
            {
              streamName,
              expectedRevision: String(error.expectedVersion),
              actualRevision: String(error.actualVersion),
            },
          );
        }
        throw error;
      }
    },

    async readStream(streamName): Promise<ReadStreamResult> {
      const events: RecordedEvent[] = [];
      try {
        for await (const resolved of client.readStream(streamName)) {
          if (resolved.event) events.push(toRecordedEvent(resolved.event));
        }
      } catch (error) {
        if (error instanceof StreamNotFoundError) return { events: [], revision: 'no_stream' };
        throw error;
      }
      return { events, revision: events.at(-1)?.revision ?? 'no_stream' };
    },

    async readAll({ after, limit = Number.POSITIVE_INFINITY, eventTypes } = {}) {
      const events: RecordedEvent[] = [];
      if (limit <= 0) return events;
      for await (const event of scanAll(FORWARDS, startingAfter(after))) {
        if (eventTypes && !eventTypes.includes(event.type)) continue;
        events.push(toRecordedEvent(event));
        if (events.length >= limit) break;
      }
      return events;
    },

    async headPosition() {
      // The last record of $all is often a system event (projection links, $metadata): skip back to ours.
      for await (const event of scanAll(BACKWARDS, END)) return event.position.commit;
      return -1n;
    },

    subscribeToAll,

    async ping() {
      await client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1 }).toArray();
    },

    async close() {
      await Promise.all([...subscriptions].map((subscription) => subscription.close()));
      await client.dispose();
    },
  };
}

function toEsdbRevision(expected: ExpectedRevision): AppendExpectedRevision {
  if (expected === 'no_stream') return NO_STREAM;
  if (expected === 'any') return ANY;
  return expected;
}

function startingAfter(after: bigint | undefined): Position | typeof START {
  return after === undefined || after < 0n ? START : { commit: after, prepare: after };
}

function samePosition(a: Position, b: Position): boolean {
  return a.commit === b.commit && a.prepare === b.prepare;
}

function isUserEvent(event: EsdbRecordedEvent): boolean {
  return !event.type.startsWith('$') && !event.streamId.startsWith('$');
}

/** A server-side filter matching exactly these types (a prefix filter would also match `<Type>V2`). */
function exactly(types: readonly string[]): string {
  return `^(?:${types.map((type) => type.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$`;
}

// Herald writes JSON events only, so `data` and `metadata` are parsed JSON objects.
function toRecordedEvent(event: EsdbRecordedEvent): RecordedEvent {
  const commit = event.position?.commit;
  return {
    id: event.id,
    streamName: event.streamId,
    type: event.type,
    data: event.data as Record<string, unknown>,
    metadata: event.metadata as EventMetadata,
    revision: event.revision,
    position: commit === undefined || commit === UNKNOWN_POSITION ? -1n : commit,
    recordedAt: event.created.toISOString(),
  };
}

function positionText(position: ReadPosition): string {
  return typeof position === 'string' ? position : `${position.commit}/${position.prepare}`;
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
