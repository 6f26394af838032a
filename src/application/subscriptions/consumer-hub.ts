import type { EventStore, RecordedEvent, Subscription } from '../ports/event-store.port.js';
import type { LeaseStore } from '../ports/lease-store.port.js';
import type { Logger } from '../ports/logger.port.js';
import type { ReadModelStore } from '../ports/read-model-store.port.js';
import { decodePosition, encodePosition } from '../ports/read-model-store.port.js';

export const CHECKPOINTS = 'checkpoints';

/** Something that consumes the global log in order: a projection or a process manager. */
export interface EventConsumer {
  /** Unique and stable: the checkpoint is stored under this name. */
  readonly name: string;
  /** Event types it handles; others advance the checkpoint without a call. */
  readonly eventTypes: ReadonlySet<string>;
  /** Must be idempotent: after a crash, events since the last checkpoint are delivered again. */
  handle(event: RecordedEvent): Promise<void>;
  /**
   * Several events at once, in log order (a projection writes them in one transaction). Same contract as `handle`
   * for each; a throw redelivers them all.
   */
  handleBatch?(events: readonly RecordedEvent[]): Promise<void>;
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

export async function loadCheckpoint(readModels: ReadModelStore, name: string): Promise<bigint | undefined> {
  const doc = await readModels.get<{ _id: string; position?: string }>(CHECKPOINTS, name);
  return decodePosition(doc?.position);
}

export function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * Where a consumer stands in this process:
 * - `live`: fed by the hub's one reader of the log;
 * - `catching-up`: reading the log on its own (by event type) until it reaches the hub's reader, then live;
 * - `standby`: another instance holds its lease;
 * - `stopped`.
 */
export type ConsumerState = 'live' | 'catching-up' | 'standby' | 'stopped';

export interface ConsumerStatus {
  readonly name: string;
  readonly state: ConsumerState;
  /** Global position of the last event handled (or passed over) here; -1n before the first or while standing by. */
  readonly position: bigint;
}

/** Single ownership of consumers across instances (docs/decisions/0020-consumer-leases.md). */
export interface HubLeases {
  readonly store: LeaseStore;
  /** This instance: recorded as the holder. */
  readonly owner: string;
  /** A lease not renewed for this long may be taken by another instance. */
  readonly ttlMs: number;
  /** How often leases are renewed and free ones looked for; well under ttlMs. */
  readonly renewEveryMs: number;
}

export interface ConsumerHubDeps extends SubscriberDeps {
  /** Events queued for one consumer before the reader waits for it: bounds memory. Default 1 000. */
  readonly maxQueued?: number;
  /** Events a batch consumer (a projection) is handed at once, and a catch-up read's page. Default 500. */
  readonly batchSize?: number;
  /** Absent: every consumer runs in this process. */
  readonly leases?: HubLeases;
  readonly now?: () => number;
}

export interface ConsumerHub {
  /** Starts every consumer (or, with leases, those whose lease this instance gets). */
  start(): Promise<void>;
  /** Consumers running here, for readiness and waiting on positions. */
  running(): readonly RunningSubscriber[];
  /** Every consumer, with where it stands here: for lag metrics and operations. */
  status(): readonly ConsumerStatus[];
  /** Resolves once every consumer running here has handled every event up to `position`. */
  waitFor(position: bigint, timeoutMs?: number): Promise<void>;
  /** Called when this instance starts running `name` (after a start or a lease taken over), once it is live. */
  onLive(name: string, listener: () => void): void;
  stop(): Promise<void>;
}

type Item = RecordedEvent | { readonly skipTo: bigint };
const isEvent = (item: Item): item is RecordedEvent => 'type' in item;
const positionOf = (item: Item): bigint => (isEvent(item) ? item.position : item.skipTo);

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Start the shared reader at the lowest checkpoint when they are this close; otherwise laggards catch up alone. */
const SHARED_START_SPREAD = 5_000n;

/**
 * Runs many consumers over the global log with one reader (docs/benchmarks.md, "one reader"): each event is read
 * and parsed once and handed to the consumers that handle its type, each in its own queue with its own checkpoint.
 * A consumer far behind (a new projection version, a lease just taken over) reads on its own, filtered by its event
 * types, until it reaches the shared reader, then joins it. A consumer with `handleBatch` gets its queued events at
 * once (a projection writes them in one transaction); the others get them one by one, `concurrency` at a time with
 * the order of each stream kept. A slow consumer holds back the reader once `maxQueued` events wait for it, never
 * memory.
 */
export function createConsumerHub(deps: ConsumerHubDeps, consumers: readonly EventConsumer[]): ConsumerHub {
  const interval = deps.checkpointIntervalMs ?? 100;
  const maxQueued = Math.max(1, deps.maxQueued ?? 1_000);
  const batchSize = Math.max(1, deps.batchSize ?? 500);
  const now = deps.now ?? Date.now;
  const names = new Set<string>();
  for (const consumer of consumers) {
    if (names.has(consumer.name)) throw new Error(`two consumers named ${consumer.name}`);
    names.add(consumer.name);
  }

  /** Lanes running here, by consumer name. */
  const lanes = new Map<string, Lane>();
  const liveListeners = new Map<string, (() => void)[]>();
  let subscription: Subscription | undefined;
  let reader: Promise<void> | undefined;
  /** Position of the last event the shared reader handed out: a live lane has seen everything up to it. */
  let cursor = -1n;
  let stopped = false;
  let leaseTimer: NodeJS.Timeout | undefined;
  let checkpointTimer: NodeJS.Timeout | undefined;
  let leaseRound: Promise<void> = Promise.resolve();

  class Lane implements RunningSubscriber {
    readonly name: string;
    state: ConsumerState = 'catching-up';
    private readonly queue: Item[] = [];
    /** Everything up to here has been queued (as an event or a skip) or handled. */
    private queuedTo: bigint;
    /** Everything up to here has been read for this lane (queued or passed over). */
    scanned: bigint;
    private current: bigint;
    private saved: bigint;
    private lastSave = 0;
    private saving: Promise<void> | undefined;
    private halted = false;
    private wake: (() => void) | undefined;
    private drained: (() => void) | undefined;
    private readonly waiters = new Set<{ position: bigint; resolve: () => void }>();
    private readonly window: { position: bigint; done: boolean }[] = [];
    private readonly busyStreams = new Set<string>();
    private slotFreed: (() => void) | undefined;
    private busyBatch = false;
    private worker: Promise<void> | undefined;
    private catchUp: Promise<void> | undefined;

    constructor(
      readonly consumer: EventConsumer,
      checkpoint: bigint,
    ) {
      this.name = consumer.name;
      this.queuedTo = checkpoint;
      this.scanned = checkpoint;
      this.current = checkpoint;
      this.saved = checkpoint;
    }

    position(): bigint {
      return this.current;
    }

    get full(): boolean {
      return this.queue.length >= maxQueued;
    }

    /** The shared reader's (or the catch-up read's) next event; synchronous, so no event falls between lanes. */
    offer(event: RecordedEvent): void {
      if (event.position <= this.scanned) return;
      const before = this.scanned;
      this.scanned = event.position;
      if (this.consumer.eventTypes.has(event.type)) {
        if (before > this.queuedTo) this.queue.push({ skipTo: before });
        this.queue.push(event);
        this.queuedTo = event.position;
        this.wake?.();
      } else if (this.idle()) {
        this.queuedTo = event.position;
        this.advance(event.position);
      }
    }

    /** Everything up to `position` was read and none of it is for this lane. */
    passOver(position: bigint): void {
      if (position <= this.scanned) return;
      this.scanned = position;
      if (this.idle()) {
        this.queuedTo = position;
        this.advance(position);
      } else {
        this.wake?.();
      }
    }

    /** Resolves when the queue has room again (or the lane stops). */
    roomAvailable(): Promise<void> {
      if (!this.full || this.halted) return Promise.resolve();
      return new Promise<void>((resolve) => (this.drained = resolve));
    }

    private idle(): boolean {
      return this.queue.length === 0 && this.window.length === 0 && !this.busyBatch;
    }

    private advance(position: bigint): void {
      if (position <= this.current) return;
      this.current = position;
      for (const waiter of this.waiters) {
        if (waiter.position <= position) {
          this.waiters.delete(waiter);
          waiter.resolve();
        }
      }
      if (now() - this.lastSave >= interval) void this.saveCheckpoint();
    }

    async saveCheckpoint(): Promise<void> {
      while (this.saving) await this.saving;
      if (this.saved >= this.current) return;
      const position = this.current;
      this.lastSave = now();
      this.saving = deps.readModels
        .put(CHECKPOINTS, { _id: this.name, position: encodePosition(position) })
        .then(() => {
          this.saved = position;
        })
        .catch((error: unknown) =>
          deps.logger.warn({ consumer: this.name, err: describe(error) }, 'checkpoint not saved; retried later'),
        )
        .finally(() => {
          this.saving = undefined;
        });
      await this.saving;
    }

    start(): void {
      this.worker = this.work().catch((error: unknown) => {
        if (!this.halted) deps.logger.error({ consumer: this.name, err: describe(error) }, 'consumer ended');
      });
    }

    /** Reads on its own from its checkpoint until it reaches the shared reader's cursor, then goes live. */
    startCatchUp(): void {
      this.catchUp = (async () => {
        const eventTypes = [...this.consumer.eventTypes];
        while (!this.halted) {
          const target = cursor;
          if (this.scanned >= target && reader !== undefined) {
            this.state = 'live';
            notifyLive(this.name);
            return;
          }
          const page = await deps.eventStore.readAll({ after: this.scanned, limit: batchSize, eventTypes });
          if (this.halted) return;
          for (const event of page) this.offer(event);
          // A short page read everything the store had, which includes all the shared reader had seen.
          if (page.length < batchSize) this.passOver(target);
          await this.roomAvailable();
        }
      })().catch((error: unknown) => {
        if (this.halted) return;
        deps.logger.error({ consumer: this.name, err: describe(error) }, 'catch-up read failed; retrying');
        return sleep(1_000).then(() => {
          if (!this.halted) this.startCatchUp();
        });
      });
    }

    private next(): Item | undefined {
      const item = this.queue.shift();
      if (this.drained && this.queue.length <= maxQueued / 2) {
        const resolve = this.drained;
        this.drained = undefined;
        resolve();
      }
      return item;
    }

    private async work(): Promise<void> {
      const concurrency = Math.max(1, this.consumer.concurrency ?? 1);
      const batched = this.consumer.handleBatch !== undefined;
      while (!this.halted) {
        if (this.queue.length === 0) {
          if (this.window.length === 0 && this.scanned > this.queuedTo) {
            this.queuedTo = this.scanned;
            this.advance(this.scanned);
          }
          await new Promise<void>((resolve) => (this.wake = resolve));
          this.wake = undefined;
          continue;
        }
        if (batched) {
          const items: Item[] = [];
          while (items.length < batchSize && this.queue.length > 0) items.push(this.next()!);
          const events = items.filter(isEvent);
          this.busyBatch = true;
          const handled = events.length === 0 || (await this.withRetry(events));
          this.busyBatch = false;
          if (!handled) return;
          this.advance(positionOf(items[items.length - 1]!));
          continue;
        }
        const item = this.next()!;
        const entry = { position: positionOf(item), done: !isEvent(item) };
        this.window.push(entry);
        if (!isEvent(item)) {
          this.settle();
          continue;
        }
        // Per-stream order is kept: an event waits while an earlier one of its stream is in flight.
        while (!this.halted && (this.busyStreams.size >= concurrency || this.busyStreams.has(item.streamName))) {
          await new Promise<void>((resolve) => (this.slotFreed = resolve));
        }
        if (this.halted) return;
        this.busyStreams.add(item.streamName);
        const work = this.withRetry([item]).then((handled) => {
          this.busyStreams.delete(item.streamName);
          entry.done = handled;
          this.settle();
        });
        if (concurrency === 1) await work;
      }
    }

    private settle(): void {
      while (this.window[0]?.done) this.advance(this.window.shift()!.position);
      if (this.window.length === 0 && this.queue.length === 0 && this.scanned > this.queuedTo) {
        this.queuedTo = this.scanned;
        this.advance(this.scanned);
      }
      const freed = this.slotFreed;
      this.slotFreed = undefined;
      freed?.();
    }

    /** True once handled; false when halted first (the events then stay unacknowledged). */
    private async withRetry(events: readonly RecordedEvent[]): Promise<boolean> {
      for (let attempt = 0; !this.halted; attempt++) {
        try {
          if (events.length === 1 || !this.consumer.handleBatch) {
            for (const event of events) await this.consumer.handle(event);
          } else {
            await this.consumer.handleBatch(events);
          }
          return true;
        } catch (error) {
          const first = events[0]!;
          deps.logger.error(
            {
              consumer: this.name,
              eventId: first.id,
              type: first.type,
              events: events.length,
              attempt,
              err: describe(error),
            },
            'event handler failed; retrying',
          );
          await sleep(Math.min(5_000, 50 * 2 ** attempt));
        }
      }
      return false;
    }

    waitFor(position: bigint, timeoutMs = 10_000): Promise<void> {
      if (this.current >= position) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const waiter = { position, resolve: () => (clearTimeout(timeout), resolve()) };
        const timeout = setTimeout(() => {
          this.waiters.delete(waiter);
          reject(
            new Error(`${this.name} did not reach position ${position} within ${timeoutMs} ms (at ${this.current})`),
          );
        }, timeoutMs);
        this.waiters.add(waiter);
      });
    }

    /**
     * Stops taking events; waits for handlers in flight. `keepCheckpoint`: store the position reached (a graceful
     * stop) — not after a lost lease, whose new holder may be further on.
     */
    async halt(keepCheckpoint: boolean): Promise<void> {
      this.halted = true;
      this.state = 'stopped';
      this.wake?.();
      this.drained?.();
      this.slotFreed?.();
      await this.catchUp;
      await this.worker;
      while (this.busyStreams.size > 0) await new Promise<void>((resolve) => (this.slotFreed = resolve));
      if (keepCheckpoint) await this.saveCheckpoint();
    }

    async stop(): Promise<void> {
      lanes.delete(this.name);
      await this.halt(true);
    }
  }

  const notifyLive = (name: string) => {
    for (const listener of liveListeners.get(name) ?? []) {
      try {
        listener();
      } catch (error) {
        deps.logger.error({ consumer: name, err: describe(error) }, 'live listener failed');
      }
    }
  };

  const byName = new Map(consumers.map((consumer) => [consumer.name, consumer]));

  /** Loads the checkpoint and starts the lane: live if the shared reader has not passed it, else catching up. */
  const activate = async (name: string): Promise<void> => {
    const consumer = byName.get(name)!;
    const checkpoint = (await loadCheckpoint(deps.readModels, name)) ?? -1n;
    if (stopped || lanes.has(name)) return;
    const lane = new Lane(consumer, checkpoint);
    lanes.set(name, lane);
    lane.start();
    if (reader !== undefined && checkpoint >= cursor) {
      lane.state = 'live';
      notifyLive(name);
    } else if (reader !== undefined) {
      lane.startCatchUp();
    }
  };

  const deactivate = async (name: string, keepCheckpoint: boolean): Promise<void> => {
    const lane = lanes.get(name);
    if (!lane) return;
    lanes.delete(name);
    await lane.halt(keepCheckpoint);
  };

  /** The shared reader: one subscription, each event offered to every live lane. */
  const startReader = (after: bigint): void => {
    cursor = after;
    subscription = deps.eventStore.subscribeToAll(after >= 0n ? { after } : {});
    const iterator = subscription;
    reader = (async () => {
      for await (const event of iterator) {
        if (stopped) break;
        cursor = event.position;
        let full: Lane | undefined;
        for (const lane of lanes.values()) {
          if (lane.state !== 'live') continue;
          lane.offer(event);
          if (lane.full) full = lane;
        }
        if (full) {
          for (const lane of lanes.values()) if (lane.state === 'live' && lane.full) await lane.roomAvailable();
        }
      }
    })().catch((error: unknown) => {
      if (!stopped) deps.logger.error({ err: describe(error) }, 'the log reader ended');
    });
  };

  /** With leases: renews what this instance holds, takes what is free, lets go of what it lost. */
  const leaseTick = async (leases: HubLeases): Promise<void> => {
    // The instance's own heartbeat: others look at it before touching a delivery attempt this instance started.
    await leases.store
      .acquire(`instance:${leases.owner}`, leases.owner, leases.ttlMs)
      .catch((error: unknown) => deps.logger.warn({ err: describe(error) }, 'instance heartbeat not renewed'));
    for (const name of byName.keys()) {
      if (stopped) return;
      let held: boolean;
      try {
        held = await leases.store.acquire(`consumer:${name}`, leases.owner, leases.ttlMs);
      } catch (error) {
        deps.logger.warn({ consumer: name, err: describe(error) }, 'lease store unreachable');
        held = false;
        // Self-fencing: without a renewal this instance cannot know it still holds the lease.
      }
      const lane = lanes.get(name);
      if (held && !lane) {
        deps.logger.info({ consumer: name, owner: leases.owner }, 'consumer lease taken');
        await activate(name);
      } else if (!held && lane) {
        deps.logger.warn({ consumer: name, owner: leases.owner }, 'consumer lease lost; stopping it here');
        // Not awaited: its handlers in flight may take a while, and the other leases must be renewed meanwhile.
        void deactivate(name, false);
      }
    }
  };

  return {
    async start() {
      // Persists the tail of a burst even when no further event arrives.
      checkpointTimer = setInterval(() => {
        for (const lane of lanes.values()) void lane.saveCheckpoint();
      }, interval);
      checkpointTimer.unref();
      if (deps.leases) {
        const leases = deps.leases;
        // The shared reader starts at the head: consumers taken over later catch up from their checkpoints.
        startReader(await deps.eventStore.headPosition());
        await leaseTick(leases);
        const tick = () => {
          leaseRound = leaseRound.then(() => leaseTick(leases)).catch(() => undefined);
        };
        leaseTimer = setInterval(tick, leases.renewEveryMs);
        leaseTimer.unref();
        return;
      }
      const checkpoints = await Promise.all(
        consumers.map(async (c) => [c, (await loadCheckpoint(deps.readModels, c.name)) ?? -1n] as const),
      );
      if (checkpoints.length === 0) return;
      const positions = checkpoints.map(([, p]) => p);
      const highest = positions.reduce((a, b) => (a > b ? a : b));
      const lowest = positions.reduce((a, b) => (a < b ? a : b));
      const start = highest - lowest <= SHARED_START_SPREAD ? lowest : highest;
      for (const [consumer, checkpoint] of checkpoints) {
        const lane = new Lane(consumer, checkpoint);
        lanes.set(consumer.name, lane);
        lane.start();
        lane.state = checkpoint >= start ? 'live' : 'catching-up';
      }
      startReader(start);
      for (const lane of lanes.values()) {
        if (lane.state === 'live') notifyLive(lane.name);
        else lane.startCatchUp();
      }
    },

    running: () => [...lanes.values()],

    status: () =>
      consumers.map((consumer) => {
        const lane = lanes.get(consumer.name);
        return lane
          ? { name: consumer.name, state: lane.state, position: lane.position() }
          : { name: consumer.name, state: stopped ? 'stopped' : 'standby', position: -1n };
      }),

    async waitFor(position, timeoutMs = 10_000) {
      await Promise.all([...lanes.values()].map((lane) => lane.waitFor(position, timeoutMs)));
    },

    onLive(name, listener) {
      liveListeners.set(name, [...(liveListeners.get(name) ?? []), listener]);
      if (lanes.get(name)?.state === 'live') listener();
    },

    async stop() {
      stopped = true;
      if (leaseTimer) clearInterval(leaseTimer);
      if (checkpointTimer) clearInterval(checkpointTimer);
      await leaseRound;
      await subscription?.close();
      await reader;
      const held = [...lanes.keys()];
      await Promise.all([...lanes.values()].map((lane) => lane.stop()));
      if (deps.leases) {
        const { store, owner } = deps.leases;
        // Handed back at once, so another instance takes over without waiting for the lease to run out.
        await Promise.all(
          [...held.map((name) => `consumer:${name}`), `instance:${owner}`].map((lease) =>
            store.release(lease, owner).catch(() => undefined),
          ),
        );
      }
    },
  };
}

/**
 * Resolves once the consumer `name` has handled everything up to `position`: here if it runs here, else as its
 * stored checkpoint shows (another instance runs it). Rejects after `timeoutMs`.
 */
export async function waitForCheckpoint(
  hub: Pick<ConsumerHub, 'running'>,
  readModels: ReadModelStore,
  name: string,
  position: bigint,
  timeoutMs: number,
  cancelled: () => boolean = () => false,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const local = hub.running().find((lane) => lane.name === name);
    if (local) return local.waitFor(position, Math.max(1, deadline - Date.now()));
    if (((await loadCheckpoint(readModels, name)) ?? -1n) >= position || cancelled()) return;
    if (Date.now() >= deadline) throw new Error(`${name} did not reach position ${position} within ${timeoutMs} ms`);
    await sleep(200);
  }
}
