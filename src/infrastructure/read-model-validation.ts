import type { FindOptions, Primitive, StoredDocument } from '../application/ports/read-model-store.port.js';

/**
 * What every ReadModelStore adapter checks before it touches its store, shared so that MongoDB and SQLite reject
 * the same names, paths, values and documents (the read-model contract suite runs against both).
 */

/** The tombstone marker of a guarded delete: never a document field, never filtered on. */
export const RESERVED_FIELD = '_deleted';

const FIELD_PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;
const COLLECTION_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,119}$/;

export function checkCollectionName(name: string): string {
  if (!COLLECTION_NAME.test(name) || name.startsWith('system.'))
    throw new TypeError(`invalid collection name: ${JSON.stringify(name)}`);
  return name;
}

export function checkFieldPath(path: string): string {
  if (!FIELD_PATH.test(path)) throw new TypeError(`invalid field path: ${JSON.stringify(path)}`);
  if (path === RESERVED_FIELD || path.startsWith(`${RESERVED_FIELD}.`))
    throw new TypeError(`${RESERVED_FIELD} is reserved`);
  return path;
}

export function checkId(id: unknown): string {
  if (typeof id !== 'string' || id === '') throw new TypeError('_id must be a non-empty string');
  return id;
}

export function checkPrimitive(value: unknown, where: string): Primitive {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  throw new TypeError(`${where}: expected a string, finite number, boolean or null`);
}

export function checkPaging(options: FindOptions): { skip: number; limit: number | undefined } {
  const { skip = 0, limit } = options;
  if (!Number.isSafeInteger(skip) || skip < 0) throw new RangeError('skip must be a non-negative integer');
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 0))
    throw new RangeError('limit must be a non-negative integer');
  return { skip, limit };
}

/**
 * Documents are JSON values in every store: the same document reads back the same from MongoDB and SQLite
 * (no Date or undefined surviving in one store and not in the other).
 */
export function toJsonDocument(doc: Record<string, unknown>): Record<string, unknown> {
  const json = JSON.parse(JSON.stringify(doc)) as Record<string, unknown>;
  if (RESERVED_FIELD in json) throw new TypeError(`${RESERVED_FIELD} is reserved`);
  return json;
}

export function toStoredDocument(doc: StoredDocument): StoredDocument {
  checkId(doc._id);
  if (doc._position !== undefined && typeof doc._position !== 'string')
    throw new TypeError('_position must be a string');
  return toJsonDocument(doc) as StoredDocument;
}
