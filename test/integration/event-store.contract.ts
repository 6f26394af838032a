import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type {
  EventStore,
  NewEvent,
  RecordedEvent,
  Subscription,
} from '../../src/application/ports/event-store.port.js';
import { ConcurrencyError } from '../../src/domain/shared/errors.js';

/**
 * The behaviour every EventStore adapter must have. Stream names are unique per test and every assertion about
 * the global log looks only at this test's streams, so the suite also runs against a shared EventStoreDB.
 */
export function eventStoreContract(name: string, factory: () => Promise<EventStore>): void {
  describe(`EventStore contract: ${name}`, () => {
    let store: EventStore;

    beforeEach(async () => {
      const opened = await factory();
      store = opened;
      return () => opened.close();
    });

    it('reads back appended events in order, with data and metadata intact', async () => {
      const stream = streamName();
      const events = [
        newEvent('ContractReservationRequested', { seats: 2, guest: { id: 'g-1' }, tags: ['window'] }),
        newEvent('ContractReservationConfirmed', { at: '2025-01-01T10:00:00.000Z' }),
        newEvent('ContractNotificationDelivered', {}),
      ];

      const result = await store.appendToStream(stream, events, 'no_stream');
      const read = await store.readStream(stream);

      expect(result.nextExpectedRevision).toBe(2n);
      expect(read.revision).toBe(2n);
      expect(
        read.events.map(({ id, streamName, type, data, metadata }) => ({ id, streamName, type, data, metadata })),
      ).toEqual(events.map((event) => ({ ...event, streamName: stream })));
      for (const event of read.events) expect(Number.isNaN(Date.parse(event.recordedAt))).toBe(false);
    });

    it('numbers revisions from 0 in each stream and reports a missing stream as no_stream', async () => {
      const stream = streamName();
      await store.appendToStream(stream, [newEvent(), newEvent()], 'no_stream');
      const result = await store.appendToStream(stream, [newEvent()], 1n);

      expect(result.nextExpectedRevision).toBe(2n);
      expect((await store.readStream(stream)).events.map((event) => event.revision)).toEqual([0n, 1n, 2n]);
      expect(await store.readStream(streamName())).toEqual({ events: [], revision: 'no_stream' });
    });

    it("rejects 'no_stream' when the stream exists", async () => {
      const stream = streamName();
      await store.appendToStream(stream, [newEvent()], 'no_stream');

      await expect(store.appendToStream(stream, [newEvent()], 'no_stream')).rejects.toBeInstanceOf(ConcurrencyError);
      expect((await store.readStream(stream)).events).toHaveLength(1);
    });

    it('rejects a stale revision and appends none of the events', async () => {
      const stream = streamName();
      await store.appendToStream(stream, [newEvent(), newEvent()], 'no_stream');

      const stale = store.appendToStream(stream, [newEvent(), newEvent()], 0n);
      await expect(stale).rejects.toBeInstanceOf(ConcurrencyError);
      await expect(stale).rejects.toMatchObject({ code: 'wrong-expected-revision' });
      await expect(store.appendToStream(streamName(), [newEvent()], 0n)).rejects.toBeInstanceOf(ConcurrencyError);
      expect(await store.readStream(stream)).toMatchObject({ revision: 1n, events: { length: 2 } });
    });

    it('lets exactly one of two concurrent appends at the same revision win', async () => {
      const stream = streamName();
      await store.appendToStream(stream, [newEvent()], 'no_stream');

      for (let revision = 0n; revision < 5n; revision++) {
        const outcomes = await Promise.allSettled([
          store.appendToStream(stream, [newEvent()], revision),
          store.appendToStream(stream, [newEvent()], revision),
        ]);
        expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
        const [lost] = outcomes.filter((outcome) => outcome.status === 'rejected');
        expect(lost?.reason).toBeInstanceOf(ConcurrencyError);
      }
      expect((await store.readStream(stream)).events.map((event) => event.revision)).toEqual([0n, 1n, 2n, 3n, 4n, 5n]);
    });

    it('reads the global log after a position, up to a limit, optionally by type', async () => {
      const [first, second] = [streamName(), streamName()];
      const before = await store.headPosition();
      await store.appendToStream(first, [newEvent('ContractAlpha'), newEvent('ContractBeta')], 'no_stream');
      await store.appendToStream(second, [newEvent('ContractAlpha')], 'no_stream');
      const mine = (events: RecordedEvent[]) => events.filter((event) => [first, second].includes(event.streamName));

      const all = mine(await store.readAll({ after: before }));
      expect(all.map((event) => [event.streamName, event.revision])).toEqual([
        [first, 0n],
        [first, 1n],
        [second, 0n],
      ]);
      // Events of one append are contiguous in the log, so nobody else's event can come between these two.
      expect(await store.readAll({ after: all[0]!.position, limit: 1 })).toEqual([all[1]]);
      expect(mine(await store.readAll({ after: all[0]!.position }))).toEqual(all.slice(1));
      expect(mine(await store.readAll({ after: before, eventTypes: ['ContractBeta'] }))).toEqual([all[1]]);
    });

    it('gives every event a global position greater than any before it, across streams', async () => {
      const streams = [streamName(), streamName(), streamName()];
      const before = await store.headPosition();
      const appended: bigint[] = [];
      for (let round = 0; round < 3; round++) {
        for (const stream of streams) {
          appended.push((await store.appendToStream(stream, [newEvent()], 'any')).position);
        }
      }

      const read = (await store.readAll({ after: before })).filter((event) => streams.includes(event.streamName));
      expect(read.map((event) => event.position)).toEqual(appended);
      expect(appended[0]! > before).toBe(true);
      for (let i = 1; i < appended.length; i++) expect(appended[i]! > appended[i - 1]!).toBe(true);
    });

    it('reports the head position: the position of the last event appended', async () => {
      const stream = streamName();
      const before = await store.headPosition();
      const result = await store.appendToStream(stream, [newEvent(), newEvent()], 'no_stream');
      const after = await store.headPosition();
      const last = (await store.readAll({ after: before })).filter(inStreams(stream)).at(-1);

      expect(result.position > before).toBe(true);
      // Another writer on a shared server may have moved the head further already.
      expect(after >= result.position).toBe(true);
      expect(last?.position).toBe(result.position);
    });

    describe('subscribeToAll', () => {
      it('catches up on history, then delivers live appends', async () => {
        const [history, live] = [streamName(), streamName()];
        const before = await store.headPosition();
        await store.appendToStream(history, [newEvent(), newEvent()], 'no_stream');
        const subscription = store.subscribeToAll({ after: before });
        const events = subscription[Symbol.asyncIterator]();

        const caughtUp = await receive(events, 2, inStreams(history));
        await store.appendToStream(live, [newEvent()], 'no_stream');
        const delivered = await receive(events, 1, inStreams(live));
        await subscription.close();

        expect(caughtUp.map((event) => event.revision)).toEqual([0n, 1n]);
        expect(delivered.map((event) => event.streamName)).toEqual([live]);
        expect(delivered[0]!.position > caughtUp[1]!.position).toBe(true);
      });

      it('resumes after a checkpoint without delivering earlier events again', async () => {
        const stream = streamName();
        const before = await store.headPosition();
        await store.appendToStream(stream, [newEvent(), newEvent(), newEvent()], 'no_stream');
        const written = (await store.readAll({ after: before })).filter(inStreams(stream));
        const checkpoint = written[1]!.position;
        const subscription = store.subscribeToAll({ after: checkpoint });
        const seen: RecordedEvent[] = [];

        const [resumed] = await receive(subscription[Symbol.asyncIterator](), 1, (event) => {
          seen.push(event);
          return inStreams(stream)(event);
        });
        await subscription.close();

        expect(resumed?.id).toBe(written[2]!.id);
        expect(seen.every((event) => event.position > checkpoint)).toBe(true);
      });

      it('delivers only the requested event types', async () => {
        const stream = streamName();
        const before = await store.headPosition();
        await store.appendToStream(
          stream,
          [newEvent('ContractAlpha'), newEvent('ContractBeta'), newEvent('ContractAlpha')],
          'no_stream',
        );
        const subscription = store.subscribeToAll({ after: before, eventTypes: ['ContractBeta'] });
        const events = subscription[Symbol.asyncIterator]();

        const [beta] = await receive(events, 1, inStreams(stream));
        await store.appendToStream(stream, [newEvent('ContractAlpha'), newEvent('ContractBeta')], 2n);
        const [liveBeta] = await receive(events, 1, inStreams(stream));
        await subscription.close();

        expect([beta?.revision, liveBeta?.revision]).toEqual([1n, 4n]);
        expect([beta?.type, liveBeta?.type]).toEqual(['ContractBeta', 'ContractBeta']);
      });

      it('ends the iteration on close(), resolving a pending next() with done', async () => {
        const subscription = store.subscribeToAll({ after: await store.headPosition() });
        const events = subscription[Symbol.asyncIterator]();
        const pending = events.next();

        await subscription.close();

        expect(await within(pending, 5_000)).toEqual({ done: true, value: undefined });
        expect(await within(events.next(), 5_000)).toMatchObject({ done: true });
      });

      it('ends a for-await loop on close()', async () => {
        const stream = streamName();
        const subscription: Subscription = store.subscribeToAll({ after: await store.headPosition() });
        const consumed = (async () => {
          const seen: RecordedEvent[] = [];
          for await (const event of subscription) {
            if (event.streamName === stream) seen.push(event);
            if (seen.length === 1) void subscription.close();
          }
          return seen;
        })();

        await store.appendToStream(stream, [newEvent()], 'no_stream');

        expect(await within(consumed, 5_000)).toHaveLength(1);
      });
    });
  });
}

function streamName(): string {
  return `contract-${randomUUID()}`;
}

function newEvent(type = 'ContractEventRecorded', data: Record<string, unknown> = { note: 'x' }): NewEvent {
  return {
    id: randomUUID(),
    type,
    data,
    metadata: { tenantId: 'tenant-contract', correlationId: randomUUID(), actor: 'system:contract-test' },
  };
}

function inStreams(...streams: string[]): (event: RecordedEvent) => boolean {
  return (event) => streams.includes(event.streamName);
}

/** Pulls events until `count` of them pass `keep`. Waits on delivery, bounded by `timeoutMs`, never on a sleep. */
async function receive(
  events: AsyncIterator<RecordedEvent>,
  count: number,
  keep: (event: RecordedEvent) => boolean,
  timeoutMs = 5_000,
): Promise<RecordedEvent[]> {
  const deadline = Date.now() + timeoutMs;
  const kept: RecordedEvent[] = [];
  while (kept.length < count) {
    const result = await within(events.next(), deadline - Date.now());
    if (result.done) throw new Error(`subscription ended after ${kept.length} of ${count} events`);
    if (keep(result.value)) kept.push(result.value);
  }
  return kept;
}

function within<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`nothing arrived within ${timeoutMs} ms`)), Math.max(0, timeoutMs));
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
