import type {
  EventStore,
  RecordedEvent,
  SubscribeOptions,
  Subscription,
} from '../../../src/application/ports/event-store.port.js';
import type { Logger } from '../../../src/application/ports/logger.port.js';
import type {
  GuardedState,
  ProjectionWrite,
  ReadModelStore,
  StoredDocument,
} from '../../../src/application/ports/read-model-store.port.js';
import { decodePosition, encodePosition } from '../../../src/application/ports/read-model-store.port.js';

/**
 * In-memory ReadModelStore with the port's guard semantics: `putGuarded` writes only when the stored `_position`
 * (kept as a tombstone after a delete, as the real adapters do) is lower than the event's. Only what projections
 * and subscribers use is implemented.
 */
export class InMemoryReadModels implements ReadModelStore {
  private readonly rows = new Map<string, { doc: StoredDocument | null; position?: string }>();
  /** Calls of `putGuarded`, whether they wrote or not. */
  guardedCalls = 0;
  /** Called before an unguarded `put` lands (checkpoints are written that way). */
  onPut: ((collection: string, doc: StoredDocument) => void) | undefined;

  private key(collection: string, id: string) {
    return `${collection}\u0000${id}`;
  }

  async get<T extends StoredDocument>(collection: string, id: string): Promise<T | null> {
    const doc = this.rows.get(this.key(collection, id))?.doc;
    return doc ? (structuredClone(doc) as T) : null;
  }

  async putGuarded(
    collection: string,
    id: string,
    doc: Record<string, unknown> | null,
    position: bigint,
  ): Promise<boolean> {
    this.guardedCalls++;
    const encoded = encodePosition(position);
    const row = this.rows.get(this.key(collection, id));
    if (row?.position !== undefined && row.position >= encoded) return false;
    const stored = doc === null ? null : { ...structuredClone(doc), _id: id, _position: encoded };
    this.rows.set(this.key(collection, id), { doc: stored, position: encoded });
    return true;
  }

  async getForUpdate(collection: string, ids: readonly string[]): Promise<Map<string, GuardedState>> {
    const found = new Map<string, GuardedState>();
    for (const id of ids) {
      const row = this.rows.get(this.key(collection, id));
      if (row)
        found.set(id, { doc: row.doc ? structuredClone(row.doc) : null, position: decodePosition(row.position) });
    }
    return found;
  }

  async putGuardedBatch(collection: string, writes: readonly ProjectionWrite[]): Promise<number> {
    let written = 0;
    for (const { id, doc, position } of writes) if (await this.putGuarded(collection, id, doc, position)) written++;
    return written;
  }

  async putGuardedMany(
    writes: readonly { collection: string; id: string; doc: Record<string, unknown> | null; position: bigint }[],
  ): Promise<void> {
    for (const write of writes) await this.putGuarded(write.collection, write.id, write.doc, write.position);
  }

  scan(): never {
    throw new Error('scan is not part of this fake');
  }

  async put(collection: string, doc: StoredDocument): Promise<void> {
    this.onPut?.(collection, doc);
    this.rows.set(this.key(collection, doc._id), {
      doc: structuredClone(doc),
      ...(doc._position !== undefined ? { position: doc._position } : {}),
    });
  }

  async insertIfAbsent(collection: string, doc: StoredDocument): Promise<boolean> {
    if (this.rows.get(this.key(collection, doc._id))?.doc) return false;
    await this.put(collection, doc);
    return true;
  }

  async delete(collection: string, id: string): Promise<void> {
    this.rows.delete(this.key(collection, id));
  }

  /** Everything stored, tombstones included, for before/after comparisons. */
  snapshot(): unknown {
    return structuredClone([...this.rows.entries()]);
  }

  find(): never {
    throw new Error('find is not part of this fake');
  }
  count(): never {
    throw new Error('count is not part of this fake');
  }
  async ensureIndex(): Promise<void> {}
  async dropCollection(): Promise<void> {}
  async ping(): Promise<void> {}
  async close(): Promise<void> {}
}

/**
 * An event store whose global log is a script: `subscribeToAll` delivers what is appended (honouring `after`),
 * then waits for more, until closed. Nothing else is implemented.
 */
export class ScriptedEventStore implements EventStore {
  private readonly log: RecordedEvent[] = [];
  private readonly revisions = new Map<string, bigint>();
  private readonly wakeUps = new Set<() => void>();
  readonly subscriptions: SubscribeOptions[] = [];

  /** Appends an event of `type` to `streamName` at the next global position (1, 2, 3...). */
  append(streamName: string, type = 'Tick', data: Record<string, unknown> = {}): RecordedEvent {
    const revision = (this.revisions.get(streamName) ?? -1n) + 1n;
    this.revisions.set(streamName, revision);
    const position = BigInt(this.log.length + 1);
    const event: RecordedEvent = {
      id: `evt-${position}`,
      streamName,
      type,
      data,
      metadata: { tenantId: 'tenant-1' },
      revision,
      position,
      recordedAt: new Date(Date.UTC(2030, 0, 1, 0, 0, Number(position))).toISOString(),
    };
    this.log.push(event);
    for (const wake of [...this.wakeUps]) wake();
    return event;
  }

  subscribeToAll(options: SubscribeOptions = {}): Subscription {
    this.subscriptions.push(options);
    let closed = false;
    let wake: (() => void) | undefined;
    const log = this.log;
    const wakeUps = this.wakeUps;
    async function* events(): AsyncGenerator<RecordedEvent> {
      let next = 0;
      while (!closed) {
        const event = log[next];
        if (event === undefined) {
          await new Promise<void>((resolve) => {
            wake = resolve;
            wakeUps.add(resolve);
          });
          if (wake) wakeUps.delete(wake);
          continue;
        }
        next++;
        if (options.after !== undefined && event.position <= options.after) continue;
        yield event;
      }
    }
    const iterable = events();
    return {
      [Symbol.asyncIterator]: () => iterable,
      async close() {
        closed = true;
        wake?.();
      },
    };
  }

  appendToStream(): never {
    throw new Error('appendToStream is not part of this fake');
  }
  readStream(): never {
    throw new Error('readStream is not part of this fake');
  }
  readAll(): never {
    throw new Error('readAll is not part of this fake');
  }
  async headPosition(): Promise<bigint> {
    return BigInt(this.log.length);
  }
  async ping(): Promise<void> {}
  async close(): Promise<void> {}
}

export class RecordingLogger implements Logger {
  readonly entries: { level: string; fields: Record<string, unknown>; message: string }[] = [];
  info(fields: Record<string, unknown>, message: string) {
    this.entries.push({ level: 'info', fields, message });
  }
  warn(fields: Record<string, unknown>, message: string) {
    this.entries.push({ level: 'warn', fields, message });
  }
  error(fields: Record<string, unknown>, message: string) {
    this.entries.push({ level: 'error', fields, message });
  }
  debug(fields: Record<string, unknown>, message: string) {
    this.entries.push({ level: 'debug', fields, message });
  }
}

/** Lets every pending promise callback and I/O turn run (the fakes above never touch timers). */
export const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Turns of the event loop until `condition` holds; fails after many turns instead of hanging. */
export async function until(condition: () => boolean, what: string, turns = 10_000): Promise<void> {
  for (let turn = 0; turn < turns; turn++) {
    if (condition()) return;
    await nextTurn();
  }
  throw new Error(`gave up waiting until ${what}`);
}

export interface Gate {
  readonly promise: Promise<void>;
  open(): void;
}

export function gate(): Gate {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}
