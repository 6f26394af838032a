import type { EventStore } from '../ports/event-store.port.js';
import { encodePosition, type GuardedWrite, type ReadModelStore } from '../ports/read-model-store.port.js';
import { CHECKPOINTS } from '../subscriptions/checkpointed-subscriber.js';
import { physicalCollection, projectionConsumerName, type Projection, type ProjectionDocument } from './projection.js';

export interface RebuildProgress {
  /** Global position of the last event read. */
  readonly position: bigint;
  /** The position the rebuild goes to. */
  readonly head: bigint;
  /** Events read so far (all types). */
  readonly events: number;
}

export interface RebuildOptions {
  readonly eventStore: EventStore;
  /** A fresh store: the rebuild is its only writer. */
  readonly target: ReadModelStore;
  readonly projections: readonly Projection[];
  /** Rebuild up to this global position (default: the head of the log when the rebuild starts). */
  readonly upTo?: bigint;
  /** Events read and written per transaction. */
  readonly batchSize?: number;
  /** Documents kept in memory between batches (the most recently used), so a busy stream is not read back each batch. */
  readonly cachedDocuments?: number;
  /**
   * The target was empty when the rebuild began (the rebuild command checks it): a document the rebuild has never
   * written cannot be there, so a cache miss on it is not read back (most documents are new: one read saved per
   * document). Default false: every miss is read.
   */
  readonly freshTarget?: boolean;
  readonly onProgress?: (progress: RebuildProgress) => void;
}

export interface RebuildResult {
  readonly head: bigint;
  readonly events: number;
  /** Document writes (documents and tombstones), after folding each batch's events per document. */
  readonly writes: number;
}

interface Cached {
  /** The document as readers see it (null: absent or deleted). */
  doc: ProjectionDocument | null;
  /** Position of the last write, when the document has a row. */
  position: bigint | undefined;
  dirty: boolean;
}

/**
 * Rebuilds projections from the event store into a fresh read-model store, with the projections' own `evolve` and
 * the same meaning as the live consumers (projectionConsumer): a document's row is written when `evolve` gives a
 * document, or a tombstone when it deletes one that was visible; nothing when it was absent and stays absent. Each
 * row carries the position of the last event that wrote it, as live. Not the live path, so that it can be fast:
 * the log is read in batches; documents are evolved in memory (a bounded LRU cache, misses read from the target);
 * every batch's changed documents are written in one `putGuardedMany` — one transaction, no round trip per event.
 * At the end each projection's checkpoint is stored at the rebuilt position, so that Herald started on this store
 * continues from there.
 */
export async function rebuildProjections(options: RebuildOptions): Promise<RebuildResult> {
  const { eventStore, target, projections } = options;
  const batchSize = options.batchSize ?? 5_000;
  const maxCached = options.cachedDocuments ?? 10_000;
  const head = options.upTo ?? (await eventStore.headPosition());
  const byType = new Map<string, { projection: Projection; collection: string }[]>();
  for (const projection of projections) {
    const entry = { projection, collection: physicalCollection(projection) };
    for (const type of projection.eventTypes) {
      const list = byType.get(type) ?? [];
      list.push(entry);
      byType.set(type, list);
    }
  }

  const cache = new Map<string, Cached>();
  const keyOf = (collection: string, id: string) => `${collection}\u0000${id}`;
  /** A cached document, moved to the end of the map (the map's order is the LRU order). */
  const touch = (collection: string, id: string): Cached | undefined => {
    const key = keyOf(collection, id);
    const hit = cache.get(key);
    if (hit) {
      cache.delete(key);
      cache.set(key, hit);
    }
    return hit;
  };
  // Hashes of the keys written and then evicted from the cache: only those can be in a fresh target. A collision
  // only costs a read that finds nothing.
  const evicted = new Set<number>();
  const load = async (collection: string, id: string): Promise<Cached> => {
    const key = keyOf(collection, id);
    if (options.freshTarget && !evicted.has(hashOf(key))) {
      const entry: Cached = { doc: null, position: undefined, dirty: false };
      cache.set(key, entry);
      return entry;
    }
    const stored = await target.get<ProjectionDocument & { _id: string; _position?: string }>(collection, id);
    const entry: Cached = stored
      ? { doc: withoutStoreFields(stored), position: BigInt(stored._position ?? '0'), dirty: false }
      : { doc: null, position: undefined, dirty: false };
    cache.set(keyOf(collection, id), entry);
    return entry;
  };

  let after = -1n;
  let events = 0;
  let writes = 0;
  const changed: { collection: string; id: string; entry: Cached }[] = [];
  while (after < head) {
    const batch = await eventStore.readAll({ after, limit: batchSize });
    if (batch.length === 0) break;
    for (const event of batch) {
      if (event.position > head) break;
      after = event.position;
      events++;
      const handlers = byType.get(event.type);
      if (!handlers) continue;
      for (const { projection, collection } of handlers) {
        const id = projection.documentId(event);
        if (id === null) continue;
        const entry = touch(collection, id) ?? (await load(collection, id));
        const next = projection.evolve(entry.doc as never, event);
        if (next === null && entry.doc === null) continue;
        entry.doc = next;
        entry.position = event.position;
        if (!entry.dirty) {
          entry.dirty = true;
          changed.push({ collection, id, entry });
        }
      }
    }
    const rows: GuardedWrite[] = changed.map(({ collection, id, entry }) => {
      entry.dirty = false;
      return { collection, id, doc: entry.doc, position: entry.position! };
    });
    changed.length = 0;
    // In key order: neighbouring rows of the store's B-tree are written together (ids are mostly random UUIDs).
    rows.sort((a, b) =>
      a.collection < b.collection ? -1 : a.collection > b.collection ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
    );
    await target.putGuardedMany(rows);
    writes += rows.length;
    // Evicted only once written: every cached document is clean here.
    for (const [key, entry] of cache) {
      if (cache.size <= maxCached) break;
      if (entry.position !== undefined) evicted.add(hashOf(key));
      cache.delete(key);
    }
    options.onProgress?.({ position: after, head, events });
    if (batch.length < batchSize) break;
  }

  for (const projection of projections) {
    await target.put(CHECKPOINTS, { _id: projectionConsumerName(projection), position: encodePosition(after) });
  }
  return { head: after, events, writes };
}

/** FNV-1a, 32 bits: a compact stand-in for a key in the set of evicted keys. */
function hashOf(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function withoutStoreFields(doc: Record<string, unknown>): ProjectionDocument {
  const { _id: _ignoredId, _position: _ignoredPosition, ...rest } = doc;
  return rest as ProjectionDocument;
}
