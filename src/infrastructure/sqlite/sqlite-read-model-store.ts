import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import {
  decodePosition,
  encodePosition,
  type FieldCondition,
  type GuardedState,
  type ProjectionWrite,
  type Filter,
  type FindOptions,
  type Primitive,
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
 * Embedded ReadModelStore on SQLite (better-sqlite3): one table, one row per document, the document as JSON.
 *
 * Filters follow MongoDB's semantics for the portable subset, checked by the same contract suite:
 * - a condition on a missing field behaves as on null (`{f: null}` and `$in: [null]` match it; `$ne: x` matches
 *   it; `$exists` tells them apart);
 * - comparisons only match values of the same kind (numbers with numbers, strings with strings by UTF-8 bytes,
 *   booleans with booleans): `{n: {$gt: 1}}` never matches a string;
 * - a condition on a field holding an array of scalars matches when one element does (`{tags: 'vip'}`), each
 *   operator on its own, as in MongoDB;
 * - sorting orders kinds as MongoDB does (missing = null < numbers < strings < objects < arrays < booleans), then
 *   `_id`.
 * Deliberate differences, outside the portable subset: dotted paths do not reach into arrays of objects
 * (`items.sku`), and sorting on an array field compares whole arrays instead of their smallest/largest element.
 *
 * Queries can use the expression indexes of ensureIndex: the element-wise branch of a condition (json_each) is only
 * added for paths where the collection has held an array (recorded on write), because that branch keeps SQLite from
 * using an index.
 *
 * A guarded delete leaves a tombstone row (`deleted = 1`) so that a redelivered older event cannot bring the
 * document back; reads never return tombstones and dropCollection removes them.
 */
export type SqliteReadModelStoreOptions =
  | { readonly filename: string }
  /** A connection shared with other embedded adapters: close() leaves it open. */
  | { readonly database: Database.Database };

type Param = string | number | null;

/** One row of a putGuardedMany batch, serialised once. */
interface BatchRow {
  readonly name: string;
  readonly id: string;
  readonly encoded: string;
  readonly doc: Record<string, unknown> | null;
  readonly json: string;
}
interface Sql {
  readonly sql: string;
  readonly params: readonly Param[];
}

const TABLE = 'read_model_documents';
const INDEX_TABLE = 'read_model_indexes';
const ARRAY_PATH_TABLE = 'read_model_array_paths';
const STATEMENT_CACHE_SIZE = 256;

export function createSqliteReadModelStore(options: SqliteReadModelStoreOptions): ReadModelStore {
  const owned = 'filename' in options;
  const db = owned ? new Database(options.filename) : options.database;
  if (owned && options.filename !== ':memory:' && options.filename !== '') {
    db.pragma('journal_mode = WAL');
    // Read models are rebuildable and their checkpoints live in the same file: in WAL mode a power loss can only
    // drop a suffix of transactions, documents and checkpoint together, which redelivery repairs. A process crash
    // loses nothing. One fsync per projection write was the embedded mode's bottleneck (docs/benchmarks.md).
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
  }
  db.exec(`
    CREATE TABLE IF NOT EXISTS ${TABLE} (
      collection TEXT NOT NULL,
      id TEXT NOT NULL,
      position TEXT,
      deleted INTEGER NOT NULL DEFAULT 0,
      doc TEXT NOT NULL,
      PRIMARY KEY (collection, id)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS ${INDEX_TABLE} (
      collection TEXT NOT NULL,
      name TEXT NOT NULL,
      PRIMARY KEY (collection, name)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS ${ARRAY_PATH_TABLE} (
      collection TEXT NOT NULL,
      path TEXT NOT NULL,
      PRIMARY KEY (collection, path)
    ) WITHOUT ROWID;
  `);

  const statements = new Map<string, Database.Statement>();
  const prepare = (sql: string): Database.Statement => {
    let statement = statements.get(sql);
    if (statement === undefined) {
      statement = db.prepare(sql);
      if (statements.size >= STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value as string);
      statements.set(sql, statement);
    }
    return statement;
  };

  const upsert = (onConflict: string) =>
    `INSERT INTO ${TABLE} (collection, id, position, deleted, doc) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (collection, id) DO UPDATE
     SET position = excluded.position, deleted = excluded.deleted, doc = excluded.doc
     ${onConflict}`;
  const putGuardedSql = upsert(`WHERE ${TABLE}.position IS NULL OR ${TABLE}.position < excluded.position`);
  const putSql = upsert('');
  const insertIfAbsentSql = upsert(`WHERE ${TABLE}.deleted = 1`);

  /** Recorded before the document is written, so a reader never sees an array at a path it does not know of. */
  const seenArrayPaths = new Set<string>();
  const recordArrayPaths = (collection: string, doc: Record<string, unknown>): void => {
    for (const path of arrayPaths(doc)) {
      const key = `${collection}\0${path}`;
      if (seenArrayPaths.has(key)) continue;
      prepare(`INSERT OR IGNORE INTO ${ARRAY_PATH_TABLE} (collection, path) VALUES (?, ?)`).run(collection, path);
      seenArrayPaths.add(key);
    }
  };
  /**
   * The collection as a literal (names are validated against a strict pattern), not a parameter: SQLite only uses
   * a partial index when the query's term matches the index's WHERE clause at prepare time.
   */
  const collectionTerm = (collection: string) => `d.collection = '${checkCollectionName(collection)}'`;
  /**
   * Group commit: the writes made in one turn of the event loop (every projection handling the same events, the
   * checkpoints) share one transaction, one commit. Each resolves once the commit is done; reads see it from then.
   */
  let queued: { run: () => unknown; resolve: (value: unknown) => void; reject: (error: unknown) => void }[] = [];
  const commitQueued = db.transaction((operations: readonly { run: () => unknown }[]) =>
    operations.map((operation) => {
      try {
        return { value: operation.run() };
      } catch (error) {
        return { error };
      }
    }),
  );
  const flush = () => {
    const operations = queued;
    queued = [];
    let results: ({ value: unknown } | { error: unknown })[];
    try {
      results = commitQueued(operations);
    } catch (error) {
      for (const operation of operations) operation.reject(error);
      return;
    }
    results.forEach((result, i) => {
      if ('error' in result) operations[i]!.reject(result.error);
      else operations[i]!.resolve(result.value);
    });
  };
  const enqueue = <T>(run: () => T): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (queued.length === 0) setImmediate(flush);
      queued.push({ run, resolve: resolve as (value: unknown) => void, reject });
    });
  /** Array paths before the document, so a reader never sees an array at a path it does not know of. */
  const write = (collection: string, stored: Record<string, unknown>, sql: string, params: Param[]) =>
    enqueue(() => {
      recordArrayPaths(collection, stored);
      return prepare(sql).run(...params);
    });
  const guardedRow = (collection: string, id: string, doc: Record<string, unknown> | null, encoded: string) => {
    const stored =
      doc === null
        ? { _id: checkId(id), _position: encoded }
        : { ...toJsonDocument(doc), _id: checkId(id), _position: encoded };
    return { stored, params: [collection, id, encoded, doc === null ? 1 : 0, JSON.stringify(stored)] as Param[] };
  };
  /** A projection's batch: every document and its array paths in the same commit. */
  const writeBatch = (collection: string, writes: readonly ProjectionWrite[]) => {
    const rows = writes.map(({ id, doc, position }) => guardedRow(collection, id, doc, encodePosition(position)));
    return enqueue(() => {
      const statement = prepare(putGuardedSql);
      let written = 0;
      for (const { stored, params } of rows) {
        recordArrayPaths(collection, stored);
        written += statement.run(...params).changes;
      }
      return written;
    });
  };
  /** A batch of guarded writes in one transaction: one commit for the lot (the projection rebuild's write path). */
  const writeMany = db.transaction((rows: readonly BatchRow[]) => {
    const statement = prepare(putGuardedSql);
    for (const row of rows) {
      if (row.doc !== null) recordArrayPaths(row.name, row.doc);
      statement.run(row.name, row.id, row.encoded, row.doc === null ? 1 : 0, row.json);
    }
  });
  const knownArrayPaths = (collection: string): ReadonlySet<string> =>
    new Set(prepare(`SELECT path FROM ${ARRAY_PATH_TABLE} WHERE collection = ?`).pluck().all(collection) as string[]);

  return {
    async get<T extends StoredDocument>(collection: string, id: string): Promise<T | null> {
      const row = prepare(`SELECT doc FROM ${TABLE} WHERE collection = ? AND id = ? AND deleted = 0`).get(
        checkCollectionName(collection),
        checkId(id),
      ) as { doc: string } | undefined;
      return row === undefined ? null : (JSON.parse(row.doc) as T);
    },

    async getForUpdate(collection, ids) {
      const found = new Map<string, GuardedState>();
      if (ids.length === 0) return found;
      for (const id of ids) checkId(id);
      const rows = prepare(
        `SELECT id, position, deleted, doc FROM ${TABLE}
         WHERE collection = ? AND id IN (SELECT value FROM json_each(?))`,
      ).all(checkCollectionName(collection), JSON.stringify(ids)) as {
        id: string;
        position: string | null;
        deleted: number;
        doc: string;
      }[];
      for (const row of rows) {
        found.set(row.id, {
          doc: row.deleted ? null : (JSON.parse(row.doc) as StoredDocument),
          position: decodePosition(row.position ?? undefined),
        });
      }
      return found;
    },

    async putGuarded(collection, id, doc, position) {
      const name = checkCollectionName(collection);
      const { stored, params } = guardedRow(name, id, doc, encodePosition(position));
      return (await write(name, stored, putGuardedSql, params)).changes > 0;
    },

    async putGuardedBatch(collection, writes) {
      if (writes.length === 0) return 0;
      return writeBatch(checkCollectionName(collection), writes);
    },

    async putGuardedMany(writes) {
      if (writes.length === 0) return;
      const names = new Set<string>();
      const rows = writes.map(({ collection, id, doc, position }): BatchRow => {
        if (!names.has(collection)) names.add(checkCollectionName(collection));
        const encoded = encodePosition(position);
        const storeFields = `"_id":${JSON.stringify(checkId(id))},"_position":"${encoded}"`;
        if (doc === null) return { name: collection, id, encoded, doc, json: `{${storeFields}}` };
        if (doc[RESERVED_FIELD] !== undefined) throw new TypeError(`${RESERVED_FIELD} is reserved`);
        // One serialisation per document (a rebuild writes hundreds of thousands): the store fields are appended to
        // the document's JSON. Members of the same names in the document are overridden, as in putGuarded: JSON.parse
        // keeps the last of duplicate members.
        const {
          _id: _ignoredId,
          _position: _ignoredPosition,
          ...fields
        } = '_id' in doc || '_position' in doc ? doc : { ...doc };
        const body = JSON.stringify('_id' in doc || '_position' in doc ? fields : doc);
        return {
          name: collection,
          id,
          encoded,
          doc,
          json: body === '{}' ? `{${storeFields}}` : `${body.slice(0, -1)},${storeFields}}`,
        };
      });
      // In the group-commit queue, so it is ordered with the other writes of this store.
      await enqueue(() => writeMany(rows));
    },

    async scan(collection, { after, limit }) {
      const name = checkCollectionName(collection);
      checkPaging({ limit });
      const rows = prepare(
        `SELECT id, position, deleted, doc FROM ${TABLE} WHERE collection = ? AND id > ? ORDER BY id LIMIT ?`,
      ).all(name, after ?? '', limit) as { id: string; position: string | null; deleted: number; doc: string }[];
      return rows.map((row) =>
        row.deleted === 1
          ? { _id: row.id, ...(row.position !== null ? { _position: row.position } : {}), _deleted: true as const }
          : (JSON.parse(row.doc) as StoredDocument),
      );
    },

    async put(collection, doc) {
      const stored = toStoredDocument(doc);
      const name = checkCollectionName(collection);
      await write(name, stored, putSql, [name, stored._id, stored._position ?? null, 0, JSON.stringify(stored)]);
    },

    async insertIfAbsent(collection, doc) {
      const stored = toStoredDocument(doc);
      const name = checkCollectionName(collection);
      const result = await write(name, stored, insertIfAbsentSql, [
        name,
        stored._id,
        stored._position ?? null,
        0,
        JSON.stringify(stored),
      ]);
      return result.changes > 0;
    },

    async delete(collection, id) {
      const name = checkCollectionName(collection);
      checkId(id);
      await enqueue(() => prepare(`DELETE FROM ${TABLE} WHERE collection = ? AND id = ?`).run(name, id));
    },

    async find<T extends StoredDocument>(collection: string, filter: Filter, options: FindOptions = {}): Promise<T[]> {
      const { skip, limit } = checkPaging(options);
      if (limit === 0) return [];
      const where = toWhere(filter, knownArrayPaths(checkCollectionName(collection)));
      const sql = `SELECT d.doc FROM ${TABLE} AS d WHERE ${collectionTerm(collection)} AND d.deleted = 0 AND ${where.sql}
                   ORDER BY ${toOrderBy(options.sort)} LIMIT ? OFFSET ?`;
      const rows = prepare(sql).all(...where.params, limit ?? -1, skip) as {
        doc: string;
      }[];
      return rows.map((row) => JSON.parse(row.doc) as T);
    },

    async count(collection, filter) {
      const where = toWhere(filter, knownArrayPaths(checkCollectionName(collection)));
      const sql = `SELECT count(*) AS n FROM ${TABLE} AS d WHERE ${collectionTerm(collection)} AND d.deleted = 0 AND ${where.sql}`;
      return (prepare(sql).get(...where.params) as { n: number }).n;
    },

    async ensureIndex(collection, fields) {
      checkCollectionName(collection);
      if (fields.length === 0) throw new TypeError('ensureIndex needs at least one field');
      const columns = fields.map((field) =>
        checkFieldPath(field) === '_id' ? 'id' : `json_extract(doc, '${jsonPath(field)}')`,
      );
      const name = `rm_ix_${createHash('sha256')
        .update(`partial\0${collection}\0${fields.join('\0')}`)
        .digest('hex')
        .slice(0, 24)}`;
      // Expression indexes over the same json_extract(...) text the queries use, so the planner can match them.
      // Field paths are validated, never caller text: the only things spliced into SQL.
      const created = db.transaction(() => {
        // Partial: a write maintains only its own collection's indexes, not every collection's json_extract()s.
        db.exec(
          `CREATE INDEX IF NOT EXISTS ${name} ON ${TABLE} (collection, ${columns.join(', ')}) WHERE collection = '${collection}'`,
        );
        return prepare(`INSERT OR IGNORE INTO ${INDEX_TABLE} (collection, name) VALUES (?, ?)`).run(collection, name)
          .changes;
      })();
      // Without statistics the planner prefers the primary key over a new expression index. Only for a new index:
      // at every start Herald ensures ~15 indexes, and re-analysing a large store each time took seconds.
      if (created > 0) db.pragma('optimize');
    },

    async dropCollection(collection) {
      checkCollectionName(collection);
      // Like MongoDB's drop: the documents, tombstones and indexes of the collection go. Queued behind the writes
      // made before it (a savepoint inside their transaction).
      await enqueue(() =>
        db.transaction(() => {
          const indexes = prepare(`SELECT name FROM ${INDEX_TABLE} WHERE collection = ?`).all(collection) as {
            name: string;
          }[];
          for (const { name } of indexes) {
            if (!/^rm_ix_[0-9a-f]{24}$/.test(name)) throw new Error(`unexpected index name ${name}`);
            db.exec(`DROP INDEX IF EXISTS ${name}`);
          }
          prepare(`DELETE FROM ${INDEX_TABLE} WHERE collection = ?`).run(collection);
          prepare(`DELETE FROM ${ARRAY_PATH_TABLE} WHERE collection = ?`).run(collection);
          for (const key of seenArrayPaths) if (key.startsWith(`${collection}\0`)) seenArrayPaths.delete(key);
          prepare(`DELETE FROM ${TABLE} WHERE collection = ?`).run(collection);
        })(),
      );
    },

    async ping() {
      prepare('SELECT 1').get();
    },

    async close() {
      while (queued.length > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      statements.clear();
      if (owned) db.close();
    },
  };
}

// --- Filter translation: values always travel as parameters; only validated field paths reach the SQL text. ---

const SEGMENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * SQL expressions for a value and its JSON type: 'null', 'true', 'false', 'integer', 'real', 'text', 'array',
 * 'object', or NULL when the field is missing.
 */
interface Operand {
  readonly value: string;
  readonly type: string;
}

const ELEMENT: Operand = { value: 'e.value', type: 'e.type' };
const NUMBER_TYPES = `('integer', 'real')`;
const FALSE: Sql = { sql: '0', params: [] };

function jsonPath(path: string): string {
  return `$.${path}`;
}

function fieldOperand(path: string): Operand {
  if (path === '_id') return { value: 'd.id', type: `'text'` };
  return { value: `json_extract(d.doc, '${jsonPath(path)}')`, type: `json_type(d.doc, '${jsonPath(path)}')` };
}

function toWhere(filter: Filter, arrayPaths: ReadonlySet<string>): Sql {
  const parts = Object.entries(filter).flatMap(([path, condition]) =>
    toConditions(checkFieldPath(path), condition, arrayPaths.has(path)),
  );
  return and(parts);
}

function toConditions(path: string, condition: FieldCondition, mayBeArray: boolean): Sql[] {
  const anyValue = (test: (operand: Operand) => Sql): Sql => matchValueOrElement(path, mayBeArray, test);
  if (condition === null || typeof condition !== 'object')
    return [anyValue((o) => equals(o, checkPrimitive(condition, path)))];
  const entries = Object.entries(condition).filter(([, operand]) => operand !== undefined);
  if (entries.length === 0) throw new TypeError(`${path}: empty condition`);
  return entries.map(([operator, operand]) => {
    switch (operator) {
      case '$eq':
        return anyValue((o) => equals(o, checkPrimitive(operand, `${path}.$eq`)));
      case '$ne': {
        const eq = anyValue((o) => equals(o, checkPrimitive(operand, `${path}.$ne`)));
        return { sql: `NOT COALESCE(${eq.sql}, 0)`, params: eq.params };
      }
      case '$in': {
        if (!Array.isArray(operand)) throw new TypeError(`${path}: $in takes an array`);
        const values = operand.map((value) => checkPrimitive(value, `${path}.$in`));
        if (values.length === 0) return FALSE;
        return anyValue((o) => or(values.map((value) => equals(o, value))));
      }
      case '$gt':
      case '$gte':
      case '$lt':
      case '$lte':
        return anyValue((o) => compare(o, operator, checkPrimitive(operand, `${path}.${operator}`)));
      case '$exists': {
        if (typeof operand !== 'boolean') throw new TypeError(`${path}: $exists takes a boolean`);
        const type = fieldOperand(path).type;
        return { sql: `(${type} IS ${operand ? 'NOT ' : ''}NULL)`, params: [] };
      }
      default:
        throw new TypeError(`${path}: unsupported operator ${operator}`);
    }
  });
}

/** MongoDB's rule: a condition holds for a field when it holds for its value or, for an array, for one element. */
function matchValueOrElement(path: string, mayBeArray: boolean, condition: (operand: Operand) => Sql): Sql {
  const field = fieldOperand(path);
  const direct = condition(field);
  if (!mayBeArray) return direct;
  const element = condition(ELEMENT);
  return {
    sql: `(${direct.sql} OR (${field.type} = 'array' AND EXISTS (SELECT 1 FROM json_each(d.doc, '${jsonPath(path)}') AS e WHERE ${element.sql})))`,
    params: [...direct.params, ...element.params],
  };
}

function isNull(o: Operand): Sql {
  return { sql: `(${o.type} IS NULL OR ${o.type} = 'null')`, params: [] };
}

function equals(o: Operand, value: Primitive): Sql {
  if (value === null) return isNull(o);
  if (typeof value === 'boolean') return { sql: `(${o.type} = '${value ? 'true' : 'false'}')`, params: [] };
  if (typeof value === 'number') return { sql: `(${o.value} = ? AND ${o.type} IN ${NUMBER_TYPES})`, params: [value] };
  return { sql: `(${o.value} = ? AND ${o.type} = 'text')`, params: [value] };
}

const COMPARATORS = { $gt: '>', $gte: '>=', $lt: '<', $lte: '<=' } as const;

function compare(o: Operand, operator: keyof typeof COMPARATORS, value: Primitive): Sql {
  const sqlOperator = COMPARATORS[operator];
  // MongoDB: null is only "equal" to null/missing, so $gte/$lte null mean equality and $gt/$lt null match nothing.
  if (value === null) return operator === '$gte' || operator === '$lte' ? isNull(o) : FALSE;
  if (typeof value === 'boolean')
    return { sql: `(${o.type} IN ('true', 'false') AND ${o.value} ${sqlOperator} ?)`, params: [value ? 1 : 0] };
  if (typeof value === 'number')
    return { sql: `(${o.type} IN ${NUMBER_TYPES} AND ${o.value} ${sqlOperator} ?)`, params: [value] };
  return { sql: `(${o.type} = 'text' AND ${o.value} ${sqlOperator} ?)`, params: [value] };
}

function and(parts: readonly Sql[]): Sql {
  if (parts.length === 0) return { sql: '1', params: [] };
  return { sql: parts.map((part) => part.sql).join(' AND '), params: parts.flatMap((part) => part.params) };
}

function or(parts: readonly Sql[]): Sql {
  return { sql: `(${parts.map((part) => part.sql).join(' OR ')})`, params: parts.flatMap((part) => part.params) };
}

function toOrderBy(sort: FindOptions['sort']): string {
  if (sort === undefined) return 'd.id ASC';
  if (sort.direction !== 1 && sort.direction !== -1) throw new TypeError('sort direction must be 1 or -1');
  const direction = sort.direction === 1 ? 'ASC' : 'DESC';
  if (checkFieldPath(sort.field) === '_id') return `d.id ${direction}`;
  const { value, type } = fieldOperand(sort.field);
  // MongoDB's order of kinds (BSON comparison order), missing and null first.
  const kind = `CASE WHEN ${type} IS NULL OR ${type} = 'null' THEN 0 WHEN ${type} IN ${NUMBER_TYPES} THEN 1
                WHEN ${type} = 'text' THEN 2 WHEN ${type} = 'object' THEN 3 WHEN ${type} = 'array' THEN 4 ELSE 5 END`;
  return `${kind} ${direction}, ${value} ${direction}, d.id ${direction}`;
}

/** Dotted paths (in the filter path syntax) at which the document holds an array; arrays are not entered. */
function arrayPaths(doc: Record<string, unknown>, prefix = ''): string[] {
  const paths: string[] = [];
  for (const [key, value] of Object.entries(doc)) {
    if (!SEGMENT.test(key)) continue; // not addressable by a filter
    const path = prefix + key;
    if (Array.isArray(value)) paths.push(path);
    else if (value !== null && typeof value === 'object')
      paths.push(...arrayPaths(value as Record<string, unknown>, `${path}.`));
  }
  return paths;
}
