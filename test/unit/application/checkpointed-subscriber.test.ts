import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RecordedEvent } from '../../../src/application/ports/event-store.port.js';
import { decodePosition, encodePosition } from '../../../src/application/ports/read-model-store.port.js';
import {
  CHECKPOINTS,
  loadCheckpoint,
  startSubscriber,
  type EventConsumer,
  type RunningSubscriber,
} from '../../../src/application/subscriptions/checkpointed-subscriber.js';
import {
  gate as newGate,
  InMemoryReadModels,
  nextTurn,
  RecordingLogger,
  ScriptedEventStore,
  until,
  type Gate,
} from './fakes.js';

const NAME = 'test-consumer';
const running: RunningSubscriber[] = [];
const gates: Gate[] = [];

/** A handler gate that is opened after the test at the latest, so a failed assertion cannot hang the cleanup. */
function gate(): Gate {
  const created = newGate();
  gates.push(created);
  return created;
}

afterEach(async () => {
  vi.useRealTimers();
  for (const held of gates.splice(0)) held.open();
  await Promise.all(running.splice(0).map((subscriber) => subscriber.stop()));
});

function setup() {
  const eventStore = new ScriptedEventStore();
  const readModels = new InMemoryReadModels();
  const logger = new RecordingLogger();
  return {
    eventStore,
    readModels,
    logger,
    async start(consumer: Omit<EventConsumer, 'name' | 'eventTypes'>, checkpointIntervalMs = 10) {
      const subscriber = await startSubscriber(
        { eventStore, readModels, logger, checkpointIntervalMs },
        { name: NAME, eventTypes: new Set(['Tick']), ...consumer },
      );
      running.push(subscriber);
      return subscriber;
    },
    stop(subscriber: RunningSubscriber) {
      running.splice(running.indexOf(subscriber), 1);
      return subscriber.stop();
    },
  };
}

/** Fakes setTimeout/setInterval/Date only: promise callbacks and setImmediate stay real. */
const fakeTimers = () =>
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });

/** Records every checkpoint write that passes an event whose handler had not finished. */
function watchCheckpoints(readModels: InMemoryReadModels, handled: RecordedEvent[], finished: Set<bigint>) {
  const violations: string[] = [];
  readModels.onPut = (collection, doc) => {
    if (collection !== CHECKPOINTS) return;
    const position = decodePosition(doc.position as string) ?? -1n;
    const passed = handled.filter((e) => e.position <= position && !finished.has(e.position));
    if (passed.length > 0)
      violations.push(`checkpoint ${position} passes unfinished ${passed.map((e) => e.position).join(',')}`);
  };
  return violations;
}

const storedCheckpoint = (readModels: InMemoryReadModels) => loadCheckpoint(readModels, NAME);

describe('startSubscriber', () => {
  it('handles the events of one stream in order and never two at once, with the concurrency allowed', async () => {
    const { eventStore, start } = setup();
    const streams = ['a', 'a', 'b', 'a', 'c', 'b', 'd', 'e', 'a', 'c', 'f', 'b', 'a', 'e', 'g', 'a'];
    for (const stream of streams) eventStore.append(stream);

    const inFlight: { event: RecordedEvent; done: Gate }[] = [];
    const busy = new Set<string>();
    const overlaps: string[] = [];
    const order = new Map<string, bigint[]>();
    let maxInFlight = 0;
    const subscriber = await start({
      concurrency: 4,
      async handle(event) {
        if (busy.has(event.streamName)) overlaps.push(`${event.streamName}@${event.revision}`);
        busy.add(event.streamName);
        const done = gate();
        inFlight.push({ event, done });
        maxInFlight = Math.max(maxInFlight, inFlight.length);
        await done.promise;
        busy.delete(event.streamName);
        order.set(event.streamName, [...(order.get(event.streamName) ?? []), event.revision]);
      },
    });

    // Finish the most recently started handler first: the order most likely to overtake an earlier event.
    for (let finished = 0; finished < streams.length; finished++) {
      await until(() => inFlight.length > 0, 'a handler runs');
      await nextTurn();
      inFlight.pop()!.done.open();
    }
    await subscriber.waitFor(BigInt(streams.length));

    expect(overlaps).toEqual([]);
    expect(maxInFlight).toBe(4);
    for (const [stream, revisions] of order) {
      const count = streams.filter((s) => s === stream).length;
      expect(revisions, `stream ${stream}`).toEqual([...Array(count).keys()].map(BigInt));
    }
  });

  it('handles strictly one at a time without a concurrency', async () => {
    const { eventStore, start } = setup();
    for (const stream of ['a', 'b', 'c']) eventStore.append(stream);
    let inFlight = 0;
    let maxInFlight = 0;
    const subscriber = await start({
      async handle() {
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        await nextTurn();
        inFlight--;
      },
    });
    await subscriber.waitFor(3n);
    expect(maxInFlight).toBe(1);
  });

  it('never saves a checkpoint past a handler that has not finished, while later ones finish', async () => {
    fakeTimers();
    const { eventStore, readModels, start, stop } = setup();
    const events = ['a', 'b', 'c', 'd', 'e', 'f'].map((stream) => eventStore.append(stream));
    const slow = gate();
    const finished = new Set<bigint>();
    const violations = watchCheckpoints(readModels, events, finished);
    const subscriber = await start({
      concurrency: 4,
      async handle(event) {
        if (event.position === 2n) await slow.promise;
        finished.add(event.position);
      },
    });

    await until(() => [1n, 3n, 4n, 5n, 6n].every((p) => finished.has(p)), 'every other handler finished');
    await vi.advanceTimersByTimeAsync(1_000); // a hundred checkpoint intervals
    expect(subscriber.position()).toBe(1n);
    expect(await storedCheckpoint(readModels)).toBe(1n);

    slow.open();
    await subscriber.waitFor(6n);
    await vi.advanceTimersByTimeAsync(10);
    expect(await storedCheckpoint(readModels)).toBe(6n);
    await stop(subscriber);
    expect(violations).toEqual([]);
  });

  it('resumes after the stored checkpoint', async () => {
    const { eventStore, readModels, start } = setup();
    for (const stream of ['a', 'b', 'c', 'd']) eventStore.append(stream);
    await readModels.put(CHECKPOINTS, { _id: NAME, position: encodePosition(2n) });
    const seen: bigint[] = [];

    const subscriber = await start({
      async handle(event) {
        seen.push(event.position);
      },
    });
    await subscriber.waitFor(4n);

    expect(eventStore.subscriptions).toEqual([{ after: 2n }]);
    expect(seen).toEqual([3n, 4n]);
  });

  describe('a throwing handler', () => {
    it('is retried with backoff until it succeeds, and the events after it wait', async () => {
      fakeTimers();
      const { eventStore, logger, start } = setup();
      for (const stream of ['a', 'b', 'c']) eventStore.append(stream);
      const calls: bigint[] = [];
      let failures = 2;
      const subscriber = await start({
        async handle(event) {
          calls.push(event.position);
          if (event.position === 2n && failures-- > 0) throw new Error('database unavailable');
        },
      });

      await until(() => calls.length === 2, 'the first attempt failed');
      await vi.advanceTimersByTimeAsync(49);
      expect(calls).toEqual([1n, 2n]);
      expect(subscriber.position()).toBe(1n);

      await vi.advanceTimersByTimeAsync(1 + 100); // 50 ms, then 100 ms
      await subscriber.waitFor(3n);

      expect(calls).toEqual([1n, 2n, 2n, 2n, 3n]);
      const errors = logger.entries.filter((e) => e.level === 'error');
      expect(errors.map((e) => [e.fields.eventId, e.fields.attempt])).toEqual([
        ['evt-2', 0],
        ['evt-2', 1],
      ]);
    });

    it('is not skipped when the subscriber stops while it is retrying: it comes again after a restart', async () => {
      fakeTimers();
      const { eventStore, readModels, start, stop } = setup();
      for (const stream of ['a', 'b', 'c']) eventStore.append(stream);
      let failing = true;
      const calls: bigint[] = [];
      const handle = async (event: RecordedEvent) => {
        calls.push(event.position);
        if (event.position === 2n && failing) throw new Error('database unavailable');
      };
      const first = await start({ handle });
      await until(() => calls.length === 2, 'the first attempt failed');

      const stopping = stop(first);
      await vi.advanceTimersByTimeAsync(5_000);
      await stopping;
      expect(await storedCheckpoint(readModels)).toBe(1n);

      failing = false;
      const second = await start({ handle });
      await second.waitFor(3n);
      expect(calls.slice(-2)).toEqual([2n, 3n]);
    });
  });

  describe('waitFor', () => {
    it('resolves once every event up to the position has been handled', async () => {
      const { eventStore, start } = setup();
      for (const stream of ['a', 'b', 'c']) eventStore.append(stream);
      const third = gate();
      const subscriber = await start({
        async handle(event) {
          if (event.position === 3n) await third.promise;
        },
      });

      await subscriber.waitFor(2n);
      let reached = false;
      const waiting = subscriber.waitFor(3n).then(() => (reached = true));
      await until(() => subscriber.position() === 2n, 'position 2');
      await nextTurn();
      expect(reached).toBe(false);

      third.open();
      await waiting;
      expect(subscriber.position()).toBe(3n);
      await expect(subscriber.waitFor(1n)).resolves.toBeUndefined();
    });

    it('counts events of other types as reached without handling them', async () => {
      const { eventStore, start } = setup();
      eventStore.append('a');
      eventStore.append('b', 'SomethingElse');
      const handled: bigint[] = [];
      const subscriber = await start({
        async handle(event) {
          handled.push(event.position);
        },
      });

      await subscriber.waitFor(2n);
      expect(handled).toEqual([1n]);

      eventStore.append('c', 'SomethingElse');
      await subscriber.waitFor(3n);
    });

    it('rejects when the position is not reached in time', async () => {
      fakeTimers();
      const { eventStore, start } = setup();
      eventStore.append('a');
      const subscriber = await start({ async handle() {} });
      await subscriber.waitFor(1n);

      const late = expect(subscriber.waitFor(5n, 1_000)).rejects.toThrow(/did not reach position 5/);
      await vi.advanceTimersByTimeAsync(1_000);
      await late;
    });
  });

  it('property: the checkpoint never passes an event whose handler has not finished', async () => {
    const script = fc.array(
      fc.record({
        stream: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
        handled: fc.constantFrom(true, true, true, false),
        steps: fc.integer({ min: 0, max: 3 }),
      }),
      { minLength: 1, maxLength: 25 },
    );
    await fc.assert(
      fc.asyncProperty(script, fc.integer({ min: 1, max: 5 }), fc.scheduler(), async (events, concurrency, s) => {
        const { eventStore, readModels, start, stop } = setup();
        const recorded = events.map((e) => eventStore.append(e.stream, e.handled ? 'Tick' : 'Other'));
        const steps = new Map(recorded.map((event, i) => [event.position, events[i]!.steps]));
        const handled = recorded.filter((e) => e.type === 'Tick');
        const finished = new Set<bigint>();
        const violations = watchCheckpoints(readModels, handled, finished);
        const busy = new Set<string>();
        const order = new Map<string, bigint[]>();

        const subscriber = await start(
          {
            concurrency,
            async handle(event) {
              if (busy.has(event.streamName)) violations.push(`two at once on ${event.streamName}`);
              busy.add(event.streamName);
              // A handler takes a random number of steps; the scheduler interleaves the steps of all handlers.
              for (let i = 0; i < steps.get(event.position)!; i++) await s.schedule(Promise.resolve(), `${event.id}`);
              busy.delete(event.streamName);
              order.set(event.streamName, [...(order.get(event.streamName) ?? []), event.revision]);
              finished.add(event.position);
            },
          },
          0,
        );
        const checkPosition = () => {
          const position = subscriber.position();
          const passed = handled.filter((e) => e.position <= position && !finished.has(e.position));
          if (passed.length > 0) violations.push(`position ${position} passes unfinished ${passed[0]!.position}`);
        };

        const act = async (step: () => Promise<unknown>) => {
          await step();
          checkPosition();
        };
        await s.waitFor(subscriber.waitFor(BigInt(recorded.length), 2_000), act);
        // Stopping waits for handlers still in flight (none, unless the subscriber reported the position early).
        await s.waitFor(stop(subscriber), act);

        expect(violations).toEqual([]);
        expect(finished).toEqual(new Set(handled.map((e) => e.position)));
        expect(await storedCheckpoint(readModels)).toBe(BigInt(recorded.length));
        for (const [stream, revisions] of order) {
          expect(revisions, stream).toEqual(handled.filter((e) => e.streamName === stream).map((e) => e.revision));
        }
      }),
      { numRuns: 150 },
    );
  });
});
