import { mkdirSync } from 'node:fs';
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
  const selectAfter = db.prepare<[bigint, number], EventRow>(
    `SELECT ${COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?`,
  );
  const selectAfterOfTypes = db.prepare<[bigint, string, number], EventRow>(
    `SELECT ${COLUMNS} FROM events
     WHERE position > ? AND type IN (SELECT value FROM json_each(?)) ORDER BY position LIMIT ?`,
  );
  const selectHead = db.prepare<[], { position: bigint | null }>('SELECT MAX(position) AS position FROM events');

  // The check and the inserts share one transaction; IMMEDIATE takes the write lock up front, so a writer in
  // another process cannot slip in between the check and the insert. UNIQUE(stream_name, revision) is the backstop.
  const append = db.transaction(
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
  ).immediate;

  const readAfter = (after: bigint, limit: number, eventTypes?: readonly string[]): RecordedEvent[] => {
    const rows = eventTypes
      ? selectAfterOfTypes.all(after, JSON.stringify(eventTypes), limit)
      : selectAfter.all(after, limit);
    return rows.map(toRecordedEvent);
  };

  const subscriptions = new Set<OpenSubscription>();

  const subscribeToAll = ({ after = -1n, eventTypes }: SubscribeOptions = {}): Subscription => {
    let checkpoint = after;
    let closed = false;
    let resume = () => {};

    // Resolves on an append through this store, on close(), or after the poll interval: a writer in another
    // process has no way to tell us, so an idle subscription looks again now and then.
    const changed = () =>
      new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          resume = () => {};
          resolve();
        };
        const timer = setTimeout(done, pollIntervalMs);
        resume = done;
      });

    async function* deliver(): AsyncGenerator<RecordedEvent> {
      while (!closed) {
        // The read and the wait are set up in the same tick, so an append in this process cannot fall between.
        const batch = readAfter(checkpoint, BATCH_SIZE, eventTypes);
        if (batch.length === 0) await changed();
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
    async appendToStream(streamName, events, expectedRevision) {
      if (events.length === 0) throw new RangeError('appendToStream needs at least one event');
      const result = append(streamName, events, expectedRevision);
      for (const subscription of subscriptions) subscription.wake();
      return result;
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
      return selectHead.get()?.position ?? -1n;
    },
    subscribeToAll,
    async ping() {
      db.prepare('SELECT 1').get();
    },
    async close() {
      await Promise.all([...subscriptions].map((subscription) => subscription.close()));
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
