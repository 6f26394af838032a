import type { EventStore, RecordedEvent } from '../ports/event-store.port.js';
import type { ReadModelStore } from '../ports/read-model-store.port.js';
import { decodePosition, encodePosition } from '../ports/read-model-store.port.js';
import type { Logger } from '../ports/logger.port.js';

export const CHECKPOINTS = 'checkpoints';

/** Something that consumes the global log in order: a projection or a process manager. */
export interface EventConsumer {
  /** Unique and stable: the checkpoint is stored under this name. */
  readonly name: string;
  /** Event types it handles; others advance the checkpoint without a call. */
  readonly eventTypes: ReadonlySet<string>;
  /** Must be idempotent: after a crash, events since the last checkpoint are delivered again. */
  handle(event: RecordedEvent): Promise<void>;
  /** Events handled at once (different streams only). Default 1: strictly in order. */
  readonly concurrency?: number;
}

export interface RunningSubscriber {
  readonly name: string;
  /** Global position of the last event handled (or skipped), -1n before the first. */
  position(): bigint;
  /** Resolves once every event up to `position` has been handled. */
  waitFor(position: bigint, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface SubscriberDeps {
  readonly eventStore: EventStore;
  readonly readModels: ReadModelStore;
  readonly logger: Logger;
  /** How often the checkpoint is written at most (ms). Redelivery after a crash is harmless, so this is a trade-off. */
  readonly checkpointIntervalMs?: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function loadCheckpoint(readModels: ReadModelStore, name: string): Promise<bigint | undefined> {
  const doc = await readModels.get<{ _id: string; position?: string }>(CHECKPOINTS, name);
  return decodePosition(doc?.position);
}

/**
 * Runs a consumer from its stored checkpoint: catch-up, then live. A handler error is logged and retried with
 * backoff (the consumer never skips an event); the checkpoint is stored after handling, so a crash redelivers
 * at most the events since the last store.
 */
export async function startSubscriber(deps: SubscriberDeps, consumer: EventConsumer): Promise<RunningSubscriber> {
  const interval = deps.checkpointIntervalMs ?? 100;
  const concurrency = Math.max(1, consumer.concurrency ?? 1);
  let current = (await loadCheckpoint(deps.readModels, consumer.name)) ?? -1n;
  let saved = current;
  let stopped = false;
  let lastSave = 0;
  const waiters = new Set<{ position: bigint; resolve: () => void }>();
  const subscription = deps.eventStore.subscribeToAll(current >= 0n ? { after: current } : {});

  const saveCheckpoint = async () => {
    if (saved === current) return;
    const position = current;
    await deps.readModels.put(CHECKPOINTS, { _id: consumer.name, position: encodePosition(position) });
    saved = position;
    lastSave = Date.now();
  };

  const advance = (position: bigint) => {
    current = position;
    for (const waiter of waiters) {
      if (waiter.position <= current) {
        waiters.delete(waiter);
        waiter.resolve();
      }
    }
  };

  /** True once handled; false when stopped before it could be (the event must then stay unacknowledged). */
  const handleWithRetry = async (event: RecordedEvent): Promise<boolean> => {
    for (let attempt = 0; !stopped; attempt++) {
      try {
        await consumer.handle(event);
        return true;
      } catch (error) {
        deps.logger.error(
          { consumer: consumer.name, eventId: event.id, type: event.type, attempt, err: describe(error) },
          'event handler failed; retrying',
        );
        await sleep(Math.min(5_000, 50 * 2 ** attempt));
      }
    }
    return false;
  };

  // Events in delivery order; the checkpoint advances over the done prefix only, so with concurrency a crash
  // still redelivers every event whose handling had not finished.
  const window: { position: bigint; done: boolean }[] = [];
  const busyStreams = new Set<string>();
  let slotFreed: (() => void) | undefined;
  const settle = () => {
    while (window[0]?.done) advance(window.shift()!.position);
    slotFreed?.();
  };

  const loop = (async () => {
    for await (const event of subscription) {
      if (stopped) break;
      const entry = { position: event.position, done: false };
      window.push(entry);
      if (consumer.eventTypes.has(event.type)) {
        // Per-stream order is kept: an event waits while an earlier one of its stream is in flight.
        while (!stopped && (busyStreams.size >= concurrency || busyStreams.has(event.streamName))) {
          await new Promise<void>((resolve) => (slotFreed = resolve));
        }
        if (stopped) break;
        busyStreams.add(event.streamName);
        const work = handleWithRetry(event).then((handled) => {
          busyStreams.delete(event.streamName);
          entry.done = handled;
          settle();
        });
        if (concurrency === 1) await work;
      } else {
        entry.done = true;
        settle();
      }
      if (Date.now() - lastSave >= interval) await saveCheckpoint();
    }
    while (busyStreams.size > 0) await new Promise<void>((resolve) => (slotFreed = resolve));
  })().catch((error: unknown) => {
    if (!stopped) deps.logger.error({ consumer: consumer.name, err: describe(error) }, 'subscription ended');
  });

  // Persist the tail of a burst even when no further event arrives.
  const timer = setInterval(() => {
    if (!stopped) void saveCheckpoint().catch(() => undefined);
  }, interval);
  timer.unref();

  return {
    name: consumer.name,
    position: () => current,
    waitFor(position, timeoutMs = 10_000) {
      if (current >= position) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const waiter = { position, resolve: () => (clearTimeout(timeout), resolve()) };
        const timeout = setTimeout(() => {
          waiters.delete(waiter);
          reject(
            new Error(`${consumer.name} did not reach position ${position} within ${timeoutMs} ms (at ${current})`),
          );
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await subscription.close();
      await loop;
      await saveCheckpoint();
    },
  };
}

export function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
