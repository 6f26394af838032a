import { closeSync, fdatasync, fdatasyncSync, fsyncSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Clock } from '../../application/ports/clock.port.js';
import type {
  AppendResult,
  EventMetadata,
  EventStore,
  ExpectedRevision,
  NewEvent,
  ReadStreamResult,
  RecordedEvent,
  SubscribeOptions,
  Subscription,
} from '../../application/ports/event-store.port.js';
import { ConcurrencyError } from '../../domain/shared/errors.js';
import { systemClock } from '../system-clock.js';

export interface SqliteEventStoreOptions {
  /** A file path (its directory is created), or `':memory:'` for a private in-memory store. */
  readonly filename: string;
  /** How often an idle subscription looks for events appended by another process (ms). Default 1000. */
  readonly pollIntervalMs?: number;
  readonly clock?: Clock;
  /**
   * Called when the WAL could not be synced. The store then refuses every further append (after a failed fsync the
   * kernel may have dropped the pages, and a retry that "succeeds" proves nothing): the process must be restarted.
   */
  readonly onSyncError?: (error: Error) => void;
}

interface PendingAppend {
  readonly streamName: string;
  readonly events: readonly NewEvent[];
  readonly expected: ExpectedRevision;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
}

/** Events a subscription reads from the database at a time, so a long catch-up never sits in memory whole. */
const BATCH_SIZE = 500;

// `position` is AUTOINCREMENT so that a position is never reused, even after the last row is deleted.
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS events (
    position    INTEGER PRIMARY KEY AUTOINCREMENT,
    stream_name TEXT    NOT NULL,
    revision    INTEGER NOT NULL,
    id          TEXT    NOT NULL,
    type        TEXT    NOT NULL,
    data        TEXT    NOT NULL CHECK (json_valid(data)),
    metadata    TEXT    NOT NULL CHECK (json_valid(metadata)),
    recorded_at TEXT    NOT NULL,
    UNIQUE (stream_name, revision)
  );
  CREATE INDEX IF NOT EXISTS events_by_type ON events (type, position);
`;

const COLUMNS = `position, stream_name AS streamName, revision, id, type, data, metadata, recorded_at AS recordedAt`;

interface EventRow {
  readonly position: bigint;
  readonly streamName: string;
  readonly revision: bigint;
  readonly id: string;
  readonly type: string;
  readonly data: string;
  readonly metadata: string;
  readonly recordedAt: string;
}

interface OpenSubscription {
  wake(): void;
  close(): Promise<void>;
}

/** The embedded event store: one SQLite file, one `events` table. See docs/decisions/0002-embedded-event-store.md. */
export function createSqliteEventStore(options: SqliteEventStoreOptions): EventStore {
  const { filename, pollIntervalMs = 1_000, clock = systemClock } = options;
  if (filename !== ':memory:') mkdirSync(dirname(filename), { recursive: true });

  const db = new Database(filename);
  db.pragma('journal_mode = WAL');
  // Commits do not sync; the store syncs the WAL itself, off the event loop, once per group of commits (below).
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  // Positions and revisions come back as bigint, as the port has them.
  db.defaultSafeIntegers(true);
  db.exec(SCHEMA);

  const selectLastRevision = db.prepare<[string], { revision: bigint | null }>(
    'SELECT MAX(revision) AS revision FROM events WHERE stream_name = ?',
  );
  const insert = db.prepare<[string, bigint, string, string, string, string, string], { position: bigint }>(
    `INSERT INTO events (stream_name, revision, id, type, data, metadata, recorded_at)
     VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING position`,
  );
  const selectStream = db.prepare<[string], EventRow>(
    `SELECT ${COLUMNS} FROM events WHERE stream_name = ? ORDER BY revision`,
  );
  const selectAfter = db.prepare<[bigint, bigint, number], EventRow>(
    `SELECT ${COLUMNS} FROM events WHERE position > ? AND position <= ? ORDER BY position LIMIT ?`,
  );
  const selectAfterOfTypes = db.prepare<[bigint, bigint, string, number], EventRow>(
    `SELECT ${COLUMNS} FROM events
     WHERE position > ? AND position <= ? AND type IN (SELECT value FROM json_each(?)) ORDER BY position LIMIT ?`,
  );
  const selectHead = db.prepare<[], { position: bigint | null }>('SELECT MAX(position) AS position FROM events');
  const head = (): bigint => selectHead.get()?.position ?? -1n;

  // One append: the check and the inserts. Called inside the group's transaction, where better-sqlite3 makes it a
  // savepoint, so a failed check undoes this append only.
  const appendOne = db.transaction(
    (streamName: string, events: readonly NewEvent[], expected: ExpectedRevision): AppendResult => {
      const current = selectLastRevision.get(streamName)?.revision ?? null;
      if (!matches(expected, current)) {
        throw new ConcurrencyError('wrong-expected-revision', `Stream ${streamName} is not at the expected revision.`, {
          streamName,
          expectedRevision: String(expected),
          actualRevision: current === null ? 'no_stream' : String(current),
        });
      }
      const recordedAt = clock.now().toISOString();
      let revision = current ?? -1n;
      let position = -1n;
      for (const event of events) {
        revision += 1n;
        const row = insert.get(
          streamName,
          revision,
          event.id,
          event.type,
          JSON.stringify(event.data),
          JSON.stringify(event.metadata),
          recordedAt,
        );
        position = row!.position; // RETURNING always gives the inserted row
      }
      return { nextExpectedRevision: revision, position };
    },
  );
  // Group commit: the appends made in one turn of the event loop share one transaction and one WAL sync. IMMEDIATE
  // takes the write lock up front, so a writer in another process cannot slip in between a check and its insert;
  // UNIQUE(stream_name, revision) is the backstop.
  const commitGroup = db.transaction((group: readonly PendingAppend[]): (AppendResult | { error: unknown })[] =>
    group.map(({ streamName, events, expected }) => {
      try {
        return appendOne(streamName, events, expected);
      } catch (error) {
        return { error };
      }
    }),
  ).immediate;

  // Durability without blocking the event loop: after a group commits (without a sync), the WAL file is synced in
  // the thread pool, and the group's appends are acknowledged, and shown to subscribers, only once it has been.
  // A sync covers every commit made before it started, whichever connection or process made it. See
  // docs/decisions/0002-embedded-event-store.md.
  const inMemory = filename === ':memory:' || filename === '';
  const walFd = inMemory ? undefined : openSync(`${filename}-wal`, 'r');
  if (walFd !== undefined) {
    fdatasyncSync(walFd);
    const dirFd = openSync(dirname(filename), 'r');
    try {
      fsyncSync(dirFd); // the -wal file's directory entry
    } finally {
      closeSync(dirFd);
    }
  }
  /** Events up to here are on disk (or were in the file when it was opened): what subscribers may see. */
  let durable = head();
  let syncWanted = durable;
  let syncing = false;
  /** Set by a failed WAL sync: nothing written since can be promised durable, so no append is accepted any more. */
  let syncFailure: Error | undefined;
  const durableWaiters: { position: bigint; resolve: () => void; reject: (error: unknown) => void }[] = [];
  const subscriptions = new Set<OpenSubscription>();

  const madeDurable = (position: bigint) => {
    if (position > durable) durable = position;
    const ready = durableWaiters.filter((waiter) => waiter.position <= durable);
    if (ready.length > 0) {
      durableWaiters.splice(0, durableWaiters.length, ...durableWaiters.filter((waiter) => waiter.position > durable));
      for (const waiter of ready) waiter.resolve();
    }
    // Subscribers a turn later: the appender carries on first, as before group commit (a request that reacts to its
    // own events inline, such as the waitlist allocation after a cancellation, runs ahead of the consumer that
    // reacts to the same events; both are correct either way, but the answer can then say what happened).
    setImmediate(() => {
      for (const subscription of subscriptions) subscription.wake();
    });
  };
  const sync = () => {
    if (syncing || syncFailure || syncWanted <= durable) return;
    if (walFd === undefined) {
      madeDurable(syncWanted);
      return;
    }
    syncing = true;
    const target = syncWanted;
    fdatasync(walFd, (error) => {
      syncing = false;
      if (error) {
        syncFailure = new Error(`the event store could not sync its write-ahead log: ${error.message}`);
        options.onSyncError?.(error);
        for (const waiter of durableWaiters.splice(0)) waiter.reject(syncFailure);
      } else {
        madeDurable(target);
      }
      sync();
    });
  };
  const whenDurable = (position: bigint) =>
    new Promise<void>((resolve, reject) => {
      if (position <= durable) return resolve();
      if (syncFailure) return reject(syncFailure);
      durableWaiters.push({ position, resolve, reject });
      if (position > syncWanted) syncWanted = position;
      sync();
    });

  let pending: PendingAppend[] = [];
  const flush = () => {
    const group = pending;
    pending = [];
    let results: (AppendResult | { error: unknown })[];
    try {
      results = commitGroup(group);
    } catch (error) {
      for (const append of group) append.reject(error);
      return;
    }
    results.forEach((result, i) => {
      const append = group[i]!;
      if ('error' in result) append.reject(result.error);
      else whenDurable(result.position).then(() => append.resolve(result), append.reject);
    });
  };

  /** Only durable events are read from the log: nothing acts on an event a power cut could still take back. */
  const readAfter = (after: bigint, limit: number, eventTypes?: readonly string[]): RecordedEvent[] => {
    const rows = eventTypes
      ? selectAfterOfTypes.all(after, durable, JSON.stringify(eventTypes), limit)
      : selectAfter.all(after, durable, limit);
    return rows.map(toRecordedEvent);
  };

  /** Appends by other processes (or store objects) are found by looking; they are synced here before they show. */
  const lookForOthers = () => {
    const last = head();
    if (last > syncWanted) syncWanted = last;
    sync();
  };

  const subscribeToAll = ({ after = -1n, eventTypes }: SubscribeOptions = {}): Subscription => {
    let checkpoint = after;
    let closed = false;
    let resume = () => {};

    // Resolves on an append through this store, on close(), or after the poll interval: a writer in another
    // process has no way to tell us, so an idle subscription looks again now and then.
    /** True when woken, false when the poll interval passed. */
    const changed = () =>
      new Promise<boolean>((resolve) => {
        const done = (woken: boolean) => {
          clearTimeout(timer);
          resume = () => {};
          resolve(woken);
        };
        const timer = setTimeout(() => done(false), pollIntervalMs);
        resume = () => done(true);
      });

    async function* deliver(): AsyncGenerator<RecordedEvent> {
      while (!closed) {
        // The read and the wait are set up in the same tick, so an append in this process cannot fall between.
        const batch = readAfter(checkpoint, BATCH_SIZE, eventTypes);
        if (batch.length === 0 && !(await changed())) lookForOthers();
        for (const event of batch) {
          if (closed) return;
          checkpoint = event.position;
          yield event;
        }
      }
    }

    const close = async () => {
      closed = true;
      subscriptions.delete(entry);
      resume();
    };
    const entry: OpenSubscription = { wake: () => resume(), close };
    subscriptions.add(entry);
    const events = deliver();
    return { close, [Symbol.asyncIterator]: () => events };
  };

  return {
    appendToStream(streamName, events, expectedRevision) {
      if (events.length === 0) return Promise.reject(new RangeError('appendToStream needs at least one event'));
      if (syncFailure) return Promise.reject(syncFailure);
      return new Promise<AppendResult>((resolve, reject) => {
        if (pending.length === 0) setImmediate(flush);
        pending.push({ streamName, events, expected: expectedRevision, resolve, reject });
      });
    },
    async readStream(streamName): Promise<ReadStreamResult> {
      const events = selectStream.all(streamName).map(toRecordedEvent);
      return { events, revision: events.at(-1)?.revision ?? 'no_stream' };
    },
    async readAll({ after = -1n, limit, eventTypes } = {}) {
      // SQLite reads a negative LIMIT as "no limit".
      return readAfter(after, limit ?? -1, eventTypes);
    },
    async headPosition() {
      return head();
    },
    subscribeToAll,
    async ping() {
      if (syncFailure) throw syncFailure;
      db.prepare('SELECT 1').get();
    },
    async close() {
      while (pending.length > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      await whenDurable(syncWanted).catch(() => undefined);
      await Promise.all([...subscriptions].map((subscription) => subscription.close()));
      if (walFd !== undefined) closeSync(walFd);
      db.close();
    },
  };
}

function matches(expected: ExpectedRevision, current: bigint | null): boolean {
  if (expected === 'any') return true;
  if (expected === 'no_stream') return current === null;
  return current === expected;
}

function toRecordedEvent(row: EventRow): RecordedEvent {
  return {
    ...row,
    data: JSON.parse(row.data) as Record<string, unknown>,
    metadata: JSON.parse(row.metadata) as EventMetadata,
  };
}
