/**
 * Read-model store port: MongoDB (official driver) or the embedded SQLite store, one contract suite
 * (test/integration/read-model-store.contract.ts).
 *
 * Documents are plain JSON objects with a string `_id`. Every write made by a projection carries the global
 * position of the event that caused it; a write whose position is not greater than the document's stored position
 * changes nothing. That guard makes a redelivered event harmless.
 */

export type Primitive = string | number | boolean | null;

/** Conditions on one field (dotted paths reach into nested objects). */
export type FieldCondition =
  | Primitive
  | {
      $eq?: Primitive;
      $ne?: Primitive;
      $in?: Primitive[];
      $gt?: Primitive;
      $gte?: Primitive;
      $lt?: Primitive;
      $lte?: Primitive;
      $exists?: boolean;
    };

/** A conjunction of field conditions: the portable subset both adapters implement. */
export type Filter = Readonly<Record<string, FieldCondition>>;

export interface FindOptions {
  /** Field to sort by, then `_id` as a tie-breaker (same direction). */
  readonly sort?: { readonly field: string; readonly direction: 1 | -1 };
  readonly limit?: number;
  readonly skip?: number;
}

export interface StoredDocument {
  readonly _id: string;
  /** The guard: zero-padded global position of the last event written into this document. */
  readonly _position?: string;
  readonly [key: string]: unknown;
}

/** One guarded write of a batch: the same meaning as a `putGuarded` call. */
export interface GuardedWrite {
  readonly collection: string;
  readonly id: string;
  /** The document, or null for a guarded delete (a tombstone). */
  readonly doc: Record<string, unknown> | null;
  readonly position: bigint;
}

/** One write of a projection's batch in one collection: as `putGuarded(collection, id, doc, position)`. */
export interface ProjectionWrite {
  readonly id: string;
  readonly doc: Record<string, unknown> | null;
  readonly position: bigint;
}

/** What a batch of projection writes starts from: the document (null when absent or deleted) and its guard. */
export interface GuardedState {
  readonly doc: StoredDocument | null;
  /** The stored `_position`, a tombstone's included; undefined when nothing was ever written under the id. */
  readonly position: bigint | undefined;
}

/** A row as `scan` returns it: a document, or the tombstone of a guarded delete (`_deleted: true`, no fields). */
export type ScannedDocument = StoredDocument & { readonly _deleted?: true };

export interface ReadModelStore {
  get<T extends StoredDocument>(collection: string, id: string): Promise<T | null>;
  /** The documents of these ids with their guard positions, in one round trip (ids absent from the map: none). */
  getForUpdate(collection: string, ids: readonly string[]): Promise<Map<string, GuardedState>>;
  /**
   * Writes `doc` (or deletes the document when `doc` is null) only if the stored document is absent or its
   * `_position` is lower than `position`. Returns whether it wrote.
   */
  putGuarded(collection: string, id: string, doc: Record<string, unknown> | null, position: bigint): Promise<boolean>;
  /**
   * `putGuarded` for many documents of one collection at once (one transaction on SQLite, one bulk write on
   * MongoDB), each with its own guard; at most one write per id. Returns how many wrote.
   */
  putGuardedBatch(collection: string, writes: readonly ProjectionWrite[]): Promise<number>;
  /**
   * Many `putGuarded` writes at once: one transaction (SQLite) or one bulk request (MongoDB) instead of a round trip
   * each. Each write is guarded on its own, exactly as `putGuarded`; at most one write per (collection, id).
   * The projection rebuild writes a batch of events' documents with it.
   */
  putGuardedMany(writes: readonly GuardedWrite[]): Promise<void>;
  /**
   * Rows of a collection in `_id` order (byte order of the UTF-8 id), tombstones included, after `after`: the
   * read-model verification walks two stores side by side with it.
   */
  scan(collection: string, options: { readonly after?: string; readonly limit: number }): Promise<ScannedDocument[]>;
  /** Unguarded upsert for documents that are not projections: checkpoints, and the loss-tolerant `api_key_usage`. */
  put(collection: string, doc: StoredDocument): Promise<void>;
  /** Inserts only if absent; returns false when a document with that `_id` exists. */
  insertIfAbsent(collection: string, doc: StoredDocument): Promise<boolean>;
  delete(collection: string, id: string): Promise<void>;
  find<T extends StoredDocument>(collection: string, filter: Filter, options?: FindOptions): Promise<T[]>;
  count(collection: string, filter: Filter): Promise<number>;
  /** Creates a (non-unique) index on the given fields; harmless when it exists. */
  ensureIndex(collection: string, fields: readonly string[]): Promise<void>;
  /** Drops every document of the collection (projection rebuild). */
  dropCollection(collection: string): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Positions are stored as 20-digit zero-padded decimals so that string order equals numeric order in every store. */
export function encodePosition(position: bigint): string {
  return position < 0n ? '-' : position.toString().padStart(20, '0');
}

export function decodePosition(encoded: string | undefined): bigint | undefined {
  if (encoded === undefined || encoded === '-') return undefined;
  return BigInt(encoded);
}
