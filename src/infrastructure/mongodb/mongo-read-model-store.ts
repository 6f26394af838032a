import {
  MongoBulkWriteError,
  MongoClient,
  MongoServerError,
  type AnyBulkWriteOperation,
  type Db,
  type Document,
  type MongoClientOptions,
  type Sort,
} from 'mongodb';
import {
  decodePosition,
  encodePosition,
  type FieldCondition,
  type GuardedState,
  type Filter,
  type FindOptions,
  type ReadModelStore,
  type StoredDocument,
} from '../../application/ports/read-model-store.port.js';
import {
  checkCollectionName,
  checkFieldPath,
  checkId,
  checkPaging,
  checkPrimitive,
  RESERVED_FIELD,
  toJsonDocument,
  toStoredDocument,
} from '../read-model-validation.js';

/**
 * ReadModelStore on MongoDB (official driver).
 *
 * A guarded delete leaves a tombstone `{ _id, _position, _deleted: true }` instead of removing the document, so that
 * a redelivered older event cannot bring a deleted document back. Reads never return tombstones; a projection
 * rebuild (dropCollection) removes them. Analysts reading the collections directly should filter on
 * `_deleted: { $exists: false }`.
 */
export type MongoReadModelStoreOptions =
  | { readonly url: string; readonly database: string; readonly clientOptions?: MongoClientOptions }
  /** A client shared with other adapters (Agenda): close() leaves it open. */
  | { readonly client: MongoClient; readonly database: string }
  | { readonly db: Db };

/** How documents look to the driver: string ids, never ObjectIds. */
interface Row {
  _id: string;
  [field: string]: unknown;
}

const TOMBSTONE = RESERVED_FIELD;
const NOT_TOMBSTONE = { [TOMBSTONE]: { $exists: false } } as const;
const DUPLICATE_KEY = 11000;
const NAMESPACE_NOT_FOUND = 26;
/** See putGuarded: the second duplicate-key error is the definitive "not written". */
const UPSERT_ATTEMPTS = 2;

export async function createMongoReadModelStore(options: MongoReadModelStoreOptions): Promise<ReadModelStore> {
  let ownedClient: MongoClient | undefined;
  let db: Db;
  if ('db' in options) {
    db = options.db;
  } else if ('client' in options) {
    db = options.client.db(options.database);
  } else {
    ownedClient = new MongoClient(options.url, options.clientOptions);
    await ownedClient.connect();
    db = ownedClient.db(options.database);
  }

  const collectionOf = (name: string) => db.collection<Row>(checkCollectionName(name));

  const putGuarded = async (
    collection: string,
    id: string,
    doc: Record<string, unknown> | null,
    position: bigint,
  ): Promise<boolean> => {
    const { filter, replacement } = guardedReplacement(id, doc, position);
    // One conditional write: it matches only a document with a lower (or no) position, and otherwise tries to
    // insert, which the unique _id turns into a duplicate-key error, meaning "a newer or equal write is there".
    // The error is also what a racing first insert of the same _id produces, so it is tried once more: that
    // attempt compares with the document that now exists and either replaces it or fails for good.
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await collectionOf(collection).replaceOne(filter as Document, replacement, { upsert: true });
        return result.matchedCount + result.upsertedCount > 0;
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        if (attempt >= UPSERT_ATTEMPTS) return false;
      }
    }
  };

  const store: ReadModelStore = {
    async get<T extends StoredDocument>(collection: string, id: string): Promise<T | null> {
      const doc = await collectionOf(collection).findOne({ _id: checkId(id) });
      return doc === null || doc[TOMBSTONE] !== undefined ? null : (doc as unknown as T);
    },

    async getForUpdate(collection, ids) {
      const found = new Map<string, GuardedState>();
      if (ids.length === 0) return found;
      const rows = await collectionOf(collection)
        .find({ _id: { $in: ids.map((id) => checkId(id)) } })
        .toArray();
      for (const row of rows) {
        found.set(row._id, {
          doc: row[TOMBSTONE] !== undefined ? null : (row as unknown as StoredDocument),
          position: decodePosition(typeof row._position === 'string' ? row._position : undefined),
        });
      }
      return found;
    },

    async putGuardedBatch(collection, writes) {
      if (writes.length === 0) return 0;
      const operations: AnyBulkWriteOperation<Row>[] = writes.map(({ id, doc, position }) => {
        const { filter, replacement } = guardedReplacement(id, doc, position);
        return { replaceOne: { filter: filter as Document, replacement, upsert: true } };
      });
      try {
        const result = await collectionOf(collection).bulkWrite(operations, { ordered: false });
        return result.matchedCount + result.upsertedCount;
      } catch (error) {
        if (!(error instanceof MongoBulkWriteError)) throw error;
        const errors = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
        if (errors.some((e) => e.code !== DUPLICATE_KEY)) throw error;
        // Duplicate keys mean "not newer" or a racing first insert: settle those one by one, as putGuarded does.
        let written = error.result.matchedCount + error.result.upsertedCount;
        for (const failed of errors) {
          const write = writes[failed.index]!;
          if (await putGuarded(collection, write.id, write.doc, write.position)) written += 1;
        }
        return written;
      }
    },

    putGuarded,

    async putGuardedMany(writes) {
      const byCollection = new Map<string, { id: string; doc: Row; encoded: string }[]>();
      for (const { collection, id, doc, position } of writes) {
        const encoded = encodePosition(position);
        const replacement: Row =
          doc === null
            ? { _id: checkId(id), _position: encoded, [TOMBSTONE]: true }
            : { ...toJsonDocument(doc), _id: checkId(id), _position: encoded };
        const name = checkCollectionName(collection);
        let list = byCollection.get(name);
        if (!list) byCollection.set(name, (list = []));
        list.push({ id, doc: replacement, encoded });
      }
      for (const [name, list] of byCollection) {
        const operations = list.map(({ id, doc, encoded }) => ({
          replaceOne: {
            filter: { _id: id, $or: [{ _position: { $lt: encoded } }, { _position: { $exists: false } }] } as Document,
            replacement: doc,
            upsert: true,
          },
        }));
        try {
          await collectionOf(name).bulkWrite(operations, { ordered: false });
        } catch (error) {
          // As in putGuarded: a duplicate key means "a newer or equal write is there" or a racing first insert;
          // those writes are tried once more on their own, which settles either case.
          if (!(error instanceof MongoBulkWriteError)) throw error;
          const failed = [error.writeErrors].flat();
          if (failed.some((writeError) => writeError.code !== DUPLICATE_KEY)) throw error;
          for (const writeError of failed) {
            const write = list[writeError.index]!;
            const { _id: _ignored, _position: _ignoredPosition, [TOMBSTONE]: tombstone, ...fields } = write.doc;
            await store.putGuarded(name, write.id, tombstone ? null : fields, BigInt(write.encoded));
          }
        }
      }
    },

    async scan(collection, { after, limit }) {
      checkPaging({ limit });
      if (limit === 0) return [];
      const rows = await collectionOf(collection)
        .find(after === undefined ? {} : { _id: { $gt: after } })
        .sort({ _id: 1 })
        .limit(limit)
        .toArray();
      return rows.map((row) =>
        row[TOMBSTONE] !== undefined
          ? {
              _id: row._id,
              ...(typeof row._position === 'string' ? { _position: row._position } : {}),
              _deleted: true as const,
            }
          : (row as StoredDocument),
      );
    },

    async put(collection, doc) {
      const stored = toStoredDocument(doc) as Row;
      await collectionOf(collection).replaceOne({ _id: stored._id }, stored, { upsert: true });
    },

    async insertIfAbsent(collection, doc) {
      const stored = toStoredDocument(doc) as Row;
      try {
        await collectionOf(collection).insertOne(stored);
        return true;
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
      }
      // A tombstone is absent for every reader: replace it, but only it.
      const result = await collectionOf(collection).replaceOne(
        { _id: stored._id, [TOMBSTONE]: true } as Document,
        stored,
      );
      return result.matchedCount > 0;
    },

    async delete(collection, id) {
      await collectionOf(collection).deleteOne({ _id: checkId(id) });
    },

    async find<T extends StoredDocument>(collection: string, filter: Filter, options: FindOptions = {}): Promise<T[]> {
      const { skip, limit } = checkPaging(options);
      if (limit === 0) return [];
      let cursor = collectionOf(collection).find(toMongoFilter(filter)).sort(toMongoSort(options.sort));
      if (skip > 0) cursor = cursor.skip(skip);
      if (limit !== undefined) cursor = cursor.limit(limit);
      return (await cursor.toArray()) as unknown as T[];
    },

    async count(collection, filter) {
      return collectionOf(collection).countDocuments(toMongoFilter(filter));
    },

    async ensureIndex(collection, fields) {
      if (fields.length === 0) throw new TypeError('ensureIndex needs at least one field');
      const spec: Record<string, 1> = {};
      for (const field of fields) spec[checkFieldPath(field)] = 1;
      await collectionOf(collection).createIndex(spec);
    },

    async dropCollection(collection) {
      try {
        await collectionOf(collection).drop();
      } catch (error) {
        // MongoDB before 7.0 answers NamespaceNotFound; mongo-java-server sends the same message without a code.
        const notFound =
          error instanceof MongoServerError && (error.code === NAMESPACE_NOT_FOUND || error.errmsg === 'ns not found');
        if (!notFound) throw error;
      }
    },

    async ping() {
      await db.command({ ping: 1 });
    },

    async close() {
      await ownedClient?.close();
    },
  };
  return store;
}

/** A write that only replaces a document with a lower (or no) position; see putGuarded. */
function guardedReplacement(id: string, doc: Record<string, unknown> | null, position: bigint) {
  const encoded = encodePosition(position);
  const replacement: Row =
    doc === null
      ? { _id: checkId(id), _position: encoded, [TOMBSTONE]: true }
      : { ...toJsonDocument(doc), _id: checkId(id), _position: encoded };
  const filter = { _id: id, $or: [{ _position: { $lt: encoded } }, { _position: { $exists: false } }] };
  return { filter, replacement };
}

function isDuplicateKey(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === DUPLICATE_KEY;
}

// --- Portable filter translation; the validation is the SQLite adapter's too, so both reject the same filters. ---

const OPERATORS = new Set(['$eq', '$ne', '$in', '$gt', '$gte', '$lt', '$lte', '$exists']);

function toMongoFilter(filter: Filter): Document {
  const mongo: Document = {};
  const more: Document[] = [];
  for (const [path, condition] of Object.entries(filter)) {
    const [first, ...rest] = toMongoConditions(checkFieldPath(path), condition);
    mongo[path] = first;
    for (const clause of rest) more.push({ [path]: clause });
  }
  return { ...mongo, ...NOT_TOMBSTONE, ...(more.length > 0 ? { $and: more } : {}) };
}

/** One operator object for the field, plus clauses that must stay apart because they reuse an operator. */
function toMongoConditions(path: string, condition: FieldCondition): Document[] {
  if (condition === null || typeof condition !== 'object') return [{ $eq: checkPrimitive(condition, path) }];
  const entries = Object.entries(condition).filter(([, value]) => value !== undefined);
  if (entries.length === 0) throw new TypeError(`${path}: empty condition`);
  const mongo: Document = {};
  const apart: Document[] = [];
  for (const [operator, operand] of entries) {
    if (!OPERATORS.has(operator)) throw new TypeError(`${path}: unsupported operator ${operator}`);
    if (operator === '$exists') {
      if (typeof operand !== 'boolean') throw new TypeError(`${path}: $exists takes a boolean`);
      mongo[operator] = operand;
    } else if (operator === '$in') {
      if (!Array.isArray(operand)) throw new TypeError(`${path}: $in takes an array`);
      mongo[operator] = operand.map((value) => checkPrimitive(value, `${path}.$in`));
    } else {
      const value = checkPrimitive(operand, `${path}.${operator}`);
      if (value === null && operator !== '$eq' && operator !== '$ne') {
        // MongoDB reads $gte/$lte null as "null or missing" and $gt/$lt null as nothing; mongo-java-server matches
        // nothing for all four. Spelled with $in, the meaning is the same everywhere.
        apart.push({ $in: operator === '$gte' || operator === '$lte' ? [null] : [] });
      } else {
        mongo[operator] = value;
      }
    }
  }
  return Object.keys(mongo).length > 0 ? [mongo, ...apart] : apart;
}

function toMongoSort(sort: FindOptions['sort']): Sort {
  if (sort === undefined) return { _id: 1 };
  if (sort.direction !== 1 && sort.direction !== -1) throw new TypeError('sort direction must be 1 or -1');
  if (sort.field === '_id') return { _id: sort.direction };
  return { [checkFieldPath(sort.field)]: sort.direction, _id: sort.direction };
}
