/**
 * Event store port. Two adapters implement it and pass one contract suite (test/integration/event-store.contract.ts):
 * EventStoreDB (`@eventstore/db-client`) and the embedded SQLite store.
 *
 * Positions are bigints, as in EventStoreDB: `revision` is the 0-based index of an event in its stream,
 * `position` its place in the global log, which only grows.
 */

/** Metadata every event carries; added by the command handler the same way everywhere. */
export interface EventMetadata {
  readonly tenantId: string;
  readonly correlationId?: string;
  readonly causationId?: string;
  /** Who did it: `apikey:<id>`, `system:<process-manager>`, `customer`... */
  readonly actor?: string;
  readonly [key: string]: unknown;
}

/** An event to append. `id` is a UUID chosen by the writer. */
export interface NewEvent {
  readonly id: string;
  readonly type: string;
  readonly data: Record<string, unknown>;
  readonly metadata: EventMetadata;
}

/** An event as stored. */
export interface RecordedEvent {
  readonly id: string;
  readonly streamName: string;
  readonly type: string;
  readonly data: Record<string, unknown>;
  readonly metadata: EventMetadata;
  readonly revision: bigint;
  readonly position: bigint;
  /** ISO-8601 instant at which the store recorded it. */
  readonly recordedAt: string;
}

/**
 * - `'no_stream'`: the stream must not exist yet.
 * - `'any'`: no check. Only for streams with a single writer by construction (never to get past a conflict).
 * - bigint: the revision of the last event in the stream, as just read.
 */
export type ExpectedRevision = 'no_stream' | 'any' | bigint;

export interface AppendResult {
  /** Revision of the last event now in the stream. */
  readonly nextExpectedRevision: bigint;
  /** Global position of the last appended event. */
  readonly position: bigint;
}

export interface ReadStreamResult {
  readonly events: RecordedEvent[];
  /** Revision of the last event, or `'no_stream'` when the stream does not exist. */
  readonly revision: bigint | 'no_stream';
}

export interface SubscribeOptions {
  /** Deliver events with a global position strictly greater than this. Omit to start from the beginning. */
  readonly after?: bigint;
  /** Only these event types (filtered server-side where the adapter can). System events are never delivered. */
  readonly eventTypes?: readonly string[];
}

/** A catch-up subscription: first the history after the checkpoint, then live events, in global order. */
export interface Subscription extends AsyncIterable<RecordedEvent> {
  /** Ends the iteration; pending `next()` calls resolve with `done`. */
  close(): Promise<void>;
}

export interface EventStore {
  /**
   * Appends atomically. Throws `ConcurrencyError` (from src/domain/shared/errors) when the stream's revision
   * is not `expectedRevision`.
   */
  appendToStream(
    streamName: string,
    events: readonly NewEvent[],
    expectedRevision: ExpectedRevision,
  ): Promise<AppendResult>;
  /** Reads a whole stream in order. A missing stream gives `{ events: [], revision: 'no_stream' }`. */
  readStream(streamName: string): Promise<ReadStreamResult>;
  /** Reads up to `limit` events of the global log with a position strictly greater than `after`. */
  readAll(options?: { after?: bigint; limit?: number; eventTypes?: readonly string[] }): Promise<RecordedEvent[]>;
  /** The position of the last event in the global log (`-1n` when empty). */
  headPosition(): Promise<bigint>;
  /** Catch-up subscription to the global log. Survives dropped connections by resubscribing from the last event delivered. */
  subscribeToAll(options?: SubscribeOptions): Subscription;
  /** Checks the store can be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
