import { createHash, type Hash } from 'node:crypto';
import type { ReadModelStore, ScannedDocument } from '../../application/ports/read-model-store.port.js';
import { physicalCollection, type Projection } from '../../application/projections/projection.js';

/** One document that reads differently in the two stores. */
export interface Difference {
  readonly collection: string;
  readonly id: string;
  /** `only-rebuilt`: the live store lacks it; `only-live`: the events do not produce it; `fields`: both have it. */
  readonly kind: 'only-rebuilt' | 'only-live' | 'fields';
  /** Dotted paths of the fields that differ (`history.2.status`); empty for a missing document. */
  readonly fields: readonly string[];
}

export interface CollectionVerification {
  readonly collection: string;
  /** Documents compared (present on either side, not skipped). */
  readonly compared: number;
  /** Live documents written after the rebuilt position (the service kept working): not comparable, not compared. */
  readonly skipped: number;
  /** SHA-256 over the compared documents (id and canonical JSON, in id order) of each side; equal when no difference. */
  readonly rebuiltDigest: string;
  readonly liveDigest: string;
  readonly differenceCount: number;
  /** The first `maxListed` differences. */
  readonly differences: readonly Difference[];
}

export interface VerificationOptions {
  readonly live: ReadModelStore;
  readonly rebuilt: ReadModelStore;
  readonly projections: readonly Projection[];
  /** The global position the rebuilt store was built to. */
  readonly rebuiltAt: bigint;
  readonly maxListed?: number;
  readonly pageSize?: number;
}

/**
 * Compares the projections of two read-model stores document by document, walking both in id order. Only what
 * projections derive from events is compared: checkpoints (progress, not state), `api_key_usage` (last-use times,
 * not from events) and the scheduler's jobs are not. Store fields are compared too (`_position`: the event that
 * last wrote the document), tombstones are not (a reader cannot see them; a live tombstone newer than the rebuilt
 * position only marks the document as changed since).
 *
 * A live row whose position is beyond `rebuiltAt` was written by an event the rebuild did not read: skipped, and
 * counted. The caller makes sure the live projections have reached `rebuiltAt` first (their checkpoints), or a
 * projection that lags would show its lag as differences.
 */
export async function verifyReadModels(options: VerificationOptions): Promise<CollectionVerification[]> {
  const reports: CollectionVerification[] = [];
  for (const projection of options.projections) {
    reports.push(await verifyCollection(options, physicalCollection(projection)));
  }
  return reports;
}

async function verifyCollection(options: VerificationOptions, collection: string): Promise<CollectionVerification> {
  const maxListed = options.maxListed ?? 20;
  const pageSize = options.pageSize ?? 1_000;
  const liveRows = pages(options.live, collection, pageSize);
  const rebuiltRows = pages(options.rebuilt, collection, pageSize);
  const rebuiltHash = createHash('sha256');
  const liveHash = createHash('sha256');
  const differences: Difference[] = [];
  let differenceCount = 0;
  let compared = 0;
  let skipped = 0;

  let live = await liveRows.next();
  let rebuilt = await rebuiltRows.next();
  while (!live.done || !rebuilt.done) {
    const order = live.done ? 1 : rebuilt.done ? -1 : compareIds(live.value._id, rebuilt.value._id);
    const liveRow = order <= 0 ? (live.value as ScannedDocument) : undefined;
    const rebuiltRow = order >= 0 ? (rebuilt.value as ScannedDocument) : undefined;
    const id = (liveRow ?? rebuiltRow)!._id;
    if (liveRow?._position !== undefined && BigInt(liveRow._position) > options.rebuiltAt) {
      skipped++;
    } else {
      const liveDoc = visible(liveRow);
      const rebuiltDoc = visible(rebuiltRow);
      if (liveDoc || rebuiltDoc) {
        compared++;
        const liveJson = liveDoc ? canonicalJson(liveDoc) : undefined;
        const rebuiltJson = rebuiltDoc ? canonicalJson(rebuiltDoc) : undefined;
        addToDigest(liveHash, id, liveJson);
        addToDigest(rebuiltHash, id, rebuiltJson);
        if (liveJson !== rebuiltJson) {
          differenceCount++;
          if (differences.length < maxListed) {
            differences.push(
              !liveDoc
                ? { collection, id, kind: 'only-rebuilt', fields: [] }
                : !rebuiltDoc
                  ? { collection, id, kind: 'only-live', fields: [] }
                  : { collection, id, kind: 'fields', fields: differingPaths(liveDoc, rebuiltDoc) },
            );
          }
        }
      }
    }
    if (order <= 0) live = await liveRows.next();
    if (order >= 0) rebuilt = await rebuiltRows.next();
  }
  return {
    collection,
    compared,
    skipped,
    rebuiltDigest: rebuiltHash.digest('hex'),
    liveDigest: liveHash.digest('hex'),
    differenceCount,
    differences,
  };
}

async function* pages(store: ReadModelStore, collection: string, pageSize: number): AsyncGenerator<ScannedDocument> {
  let after: string | undefined;
  for (;;) {
    const page = await store.scan(collection, { ...(after !== undefined ? { after } : {}), limit: pageSize });
    yield* page;
    if (page.length < pageSize) return;
    after = page.at(-1)!._id;
  }
}

/** The stores' order: bytes of the UTF-8 id (SQLite's BINARY collation, MongoDB's simple one). */
function compareIds(a: string, b: string): number {
  return a === b ? 0 : Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function visible(row: ScannedDocument | undefined): Record<string, unknown> | undefined {
  return row === undefined || row._deleted === true ? undefined : row;
}

function addToDigest(hash: Hash, id: string, json: string | undefined): void {
  // Length-prefixed, so that no two different sequences of documents hash the same bytes.
  const part = `${id}\u0000${json ?? ''}`;
  hash.update(`${Buffer.byteLength(part)}:${part}`);
}

/** JSON with object keys sorted at every level: the same document gives the same text in every store. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
  );
}

/** The dotted paths at which two JSON values differ (array elements by index). */
export function differingPaths(a: unknown, b: unknown, prefix = ''): string[] {
  if (canonicalJson(a) === canonicalJson(b)) return [];
  const bothObjects =
    a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b);
  if (!bothObjects) return [prefix || '(document)'];
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  const paths: string[] = [];
  for (const key of [...keys].sort()) {
    paths.push(
      ...differingPaths(
        (a as Record<string, unknown>)[key],
        (b as Record<string, unknown>)[key],
        prefix ? `${prefix}.${key}` : key,
      ),
    );
  }
  return paths;
}
