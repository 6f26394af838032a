import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import {
  computeJobState,
  toJobId,
  type AgendaBackend,
  type JobId,
  type JobParameters,
  type JobRepository,
  type JobRepositoryOptions,
  type JobsOverview,
  type JobsQueryOptions,
  type JobsResult,
  type JobsSort,
  type JobWithState,
  type RemoveJobsOptions,
} from 'agenda';

/**
 * Agenda on SQLite for the embedded mode: a `JobRepository` that mirrors `@agendajs/mongo-backend` (same locking
 * rules, same upserts, same error when a job vanished under the processor), so Agenda's processor behaves as it
 * does on MongoDB. See docs/decisions/0004-agenda-backends.md.
 *
 * Dates are stored as epoch milliseconds, `data` as JSON. Every write runs in an IMMEDIATE transaction, so several
 * connections (processes, or scheduler instances in one process) can share one file: a job is locked by exactly one.
 * No notification channel: like MongoDB it polls (the scheduler adds an in-process channel to either).
 */
export interface SqliteAgendaBackendOptions {
  /** A file path or ':memory:' (the backend then owns and closes the connection), or an open connection. */
  readonly database: string | Database.Database;
  /** Default `agenda_jobs`. */
  readonly table?: string;
}

export const DEFAULT_SQLITE_AGENDA_TABLE = 'agenda_jobs';

export function createSqliteAgendaBackend(options: SqliteAgendaBackendOptions): AgendaBackend {
  const ownsConnection = typeof options.database === 'string';
  const repository = new SqliteJobRepository(options.database, options.table ?? DEFAULT_SQLITE_AGENDA_TABLE);
  return {
    name: 'SQLite',
    repository,
    ownsConnection,
    connect: () => repository.connect(),
    disconnect: () => repository.disconnect(),
  };
}

interface JobRow {
  id: string;
  name: string;
  priority: number;
  type: string;
  next_run_at: number | null;
  locked_at: number | null;
  last_run_at: number | null;
  last_finished_at: number | null;
  failed_at: number | null;
  fail_count: number | null;
  fail_reason: string | null;
  disabled: number | null;
  progress: number | null;
  repeat_interval: string | null;
  repeat_at: string | null;
  repeat_timezone: string | null;
  data: string | null;
  last_modified_by: string | null;
  fork: number | null;
  debounce_started_at: number | null;
  start_date: number | null;
  end_date: number | null;
  skip_days: string | null;
}

type SqlValue = string | number | null;
type Where = { sql: string; params: SqlValue[] };

/** The columns a `saveJob` writes, in insert order (everything but `id`). */
const PROPERTY_COLUMNS = [
  'name',
  'priority',
  'type',
  'next_run_at',
  'locked_at',
  'last_run_at',
  'last_finished_at',
  'failed_at',
  'fail_count',
  'fail_reason',
  'disabled',
  'progress',
  'repeat_interval',
  'repeat_at',
  'repeat_timezone',
  'data',
  'last_modified_by',
  'fork',
  'debounce_started_at',
  'start_date',
  'end_date',
  'skip_days',
] as const;
type PropertyColumn = (typeof PROPERTY_COLUMNS)[number];

/** Top-level fields a unique query may name besides `data.*` paths. */
const UNIQUE_FIELD_COLUMNS: Readonly<Record<string, PropertyColumn>> = {
  name: 'name',
  type: 'type',
  priority: 'priority',
  disabled: 'disabled',
};

const SORT_COLUMNS: Readonly<Record<keyof JobsSort, string>> = {
  nextRunAt: 'next_run_at',
  lastRunAt: 'last_run_at',
  lastFinishedAt: 'last_finished_at',
  priority: 'priority',
  name: 'name',
  data: 'data',
};

const VANISHED = 'cannot be updated in the database, maybe it does not exist anymore?';

export class SqliteJobRepository implements JobRepository {
  private db: Database.Database | undefined;
  private readonly table: string;

  constructor(
    private readonly source: string | Database.Database,
    table: string,
  ) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/u.test(table)) throw new Error(`invalid table name: ${table}`);
    this.table = table;
  }

  async connect(): Promise<void> {
    if (this.db?.open) return;
    const db = typeof this.source === 'string' ? new Database(this.source) : this.source;
    if (typeof this.source === 'string' && this.source !== ':memory:') db.pragma('journal_mode = WAL');
    // Other connections to the same file hold the write lock only for one short statement.
    db.pragma('busy_timeout = 5000');
    const t = this.table;
    db.exec(`
      CREATE TABLE IF NOT EXISTS ${t} (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        priority INTEGER NOT NULL DEFAULT 0,
        type TEXT NOT NULL DEFAULT 'normal',
        next_run_at INTEGER,
        locked_at INTEGER,
        last_run_at INTEGER,
        last_finished_at INTEGER,
        failed_at INTEGER,
        fail_count INTEGER,
        fail_reason TEXT,
        disabled INTEGER,
        progress REAL,
        repeat_interval TEXT,
        repeat_at TEXT,
        repeat_timezone TEXT,
        data TEXT,
        last_modified_by TEXT,
        fork INTEGER,
        debounce_started_at INTEGER,
        start_date INTEGER,
        end_date INTEGER,
        skip_days TEXT
      ) STRICT;
      CREATE INDEX IF NOT EXISTS ${t}_find_and_lock ON ${t} (name, next_run_at, priority DESC, locked_at);
      CREATE INDEX IF NOT EXISTS ${t}_locked_at ON ${t} (name, locked_at);
      CREATE INDEX IF NOT EXISTS ${t}_data_key ON ${t} (name, json_extract(data, '$.key'));
    `);
    this.db = db;
  }

  async disconnect(): Promise<void> {
    if (typeof this.source === 'string' && this.db?.open) this.db.close();
    this.db = undefined;
  }

  async queryJobs(options: JobsQueryOptions = {}): Promise<JobsResult> {
    const { state, skip = 0, limit = 0 } = options;
    const where = and([
      options.name ? eq('name', options.name) : options.names?.length ? inList('name', options.names) : undefined,
      options.id ? eq('id', options.id) : options.ids?.length ? inList('id', options.ids) : undefined,
      options.search ? { sql: `name LIKE ? ESCAPE '\\'`, params: [`%${escapeLike(options.search)}%`] } : undefined,
      options.data !== undefined ? dataFilter(options.data) : undefined,
      options.includeDisabled === false ? { sql: '(disabled IS NULL OR disabled = 0)', params: [] } : undefined,
    ]);
    const order = orderBy(options.sort);
    const now = new Date();
    const withState = (row: JobRow): JobWithState => {
      const job = rowToJob(row);
      return { ...job, _id: job._id as JobId, state: computeJobState(job, now) };
    };

    if (!state) {
      const page =
        limit > 0
          ? ` LIMIT ${Number(limit)} OFFSET ${Number(skip)}`
          : skip > 0
            ? ` LIMIT -1 OFFSET ${Number(skip)}`
            : '';
      const rows = this.all(`SELECT * FROM ${this.table}${where.sql}${order}${page}`, where.params);
      const total = this.count(`SELECT count(*) AS n FROM ${this.table}${where.sql}`, where.params);
      return { jobs: rows.map(withState), total };
    }
    // As in the MongoDB backend: the state is computed, so filter in memory, then paginate.
    const matching = this.all(`SELECT * FROM ${this.table}${where.sql}${order}`, where.params)
      .map(withState)
      .filter((job) => (state === 'paused' ? job.disabled === true : job.state === state));
    const end = limit > 0 ? skip + limit : undefined;
    return { jobs: matching.slice(skip, end), total: matching.length };
  }

  async getJobsOverview(): Promise<JobsOverview[]> {
    const now = new Date();
    const overviews = new Map<string, JobsOverview>();
    for (const row of this.all(`SELECT * FROM ${this.table} ORDER BY name`, [])) {
      const job = rowToJob(row);
      let overview = overviews.get(job.name);
      if (!overview) {
        overview = {
          name: job.name,
          total: 0,
          running: 0,
          scheduled: 0,
          queued: 0,
          completed: 0,
          failed: 0,
          repeating: 0,
          paused: 0,
        };
        overviews.set(job.name, overview);
      }
      overview.total++;
      overview[computeJobState(job, now)]++;
      if (job.disabled === true) overview.paused++;
    }
    return [...overviews.values()];
  }

  async getDistinctJobNames(): Promise<string[]> {
    return (this.all(`SELECT DISTINCT name FROM ${this.table}`, []) as unknown as { name: string }[]).map(
      (r) => r.name,
    );
  }

  async getJobById(id: string): Promise<JobParameters | null> {
    const row = this.get(`SELECT * FROM ${this.table} WHERE id = ?`, [id]);
    return row ? rowToJob(row) : null;
  }

  async getQueueSize(): Promise<number> {
    return this.count(`SELECT count(*) AS n FROM ${this.table} WHERE next_run_at < ?`, [Date.now()]);
  }

  async removeJobs(options: RemoveJobsOptions): Promise<number> {
    const where = removeFilter(options);
    // Like the MongoDB backend: no criteria removes nothing (purgeAllJobs is the explicit way).
    if (!where) return 0;
    return this.write(() => this.run(`DELETE FROM ${this.table}${where.sql}`, where.params));
  }

  async saveJob<DATA = unknown>(
    job: JobParameters<DATA>,
    options: JobRepositoryOptions | undefined,
  ): Promise<JobParameters<DATA>> {
    const { _id, unique, uniqueOpts, ...props } = job;
    const values = propsToColumns(props as JobParameters, options?.lastModifiedBy);
    const saved = this.write((): JobRow | undefined => {
      if (_id) {
        // Unknown id: the job was removed meanwhile; hand the caller's data back unchanged (as MongoDB does).
        return this.updateReturning(values, { sql: ' WHERE id = ? AND name = ?', params: [_id, props.name] });
      }
      if (props.type === 'single') {
        const existing = this.get(`SELECT * FROM ${this.table} WHERE name = ? AND type = 'single' LIMIT 1`, [
          props.name,
        ]);
        if (!existing) return this.insert(values);
        // A due nextRunAt is only written on insert, so re-declaring `every()` does not re-trigger the job.
        const dueNow = props.nextRunAt !== null && props.nextRunAt.getTime() <= Date.now();
        const update = dueNow ? omit(values, 'next_run_at') : values;
        return this.updateReturning(update, { sql: ' WHERE id = ?', params: [existing.id] });
      }
      if (unique) {
        if (uniqueOpts?.debounce) throw new Error('the SQLite Agenda backend does not support debounce()');
        const where = and([uniqueFilter(unique), eq('name', props.name)]);
        const existing = this.get(`SELECT * FROM ${this.table}${where.sql} LIMIT 1`, where.params);
        if (!existing) return this.insert(values);
        if (uniqueOpts?.insertOnly) return existing;
        return this.updateReturning(values, { sql: ' WHERE id = ?', params: [existing.id] });
      }
      return this.insert(values);
    });
    return saved ? (rowToJob(saved) as JobParameters<DATA>) : job;
  }

  async saveJobState(job: JobParameters, options: JobRepositoryOptions | undefined): Promise<void> {
    if (!job._id) throw new Error('Cannot save job state without job ID');
    const changes = this.write(() =>
      this.run(
        `UPDATE ${this.table} SET locked_at = ?, next_run_at = ?, last_run_at = ?, progress = ?, fail_reason = ?,
           fail_count = ?, failed_at = ?, last_finished_at = ?, last_modified_by = ?
         WHERE id = ? AND name = ?`,
        [
          ms(job.lockedAt),
          ms(job.nextRunAt),
          ms(job.lastRunAt),
          job.progress ?? null,
          job.failReason ?? null,
          job.failCount ?? null,
          ms(job.failedAt),
          ms(job.lastFinishedAt),
          options?.lastModifiedBy ?? null,
          String(job._id),
          job.name,
        ],
      ),
    );
    // Same message as the MongoDB backend: Agenda's processor treats it as "the job was removed meanwhile".
    if (changes !== 1) throw new Error(`job ${job._id} (name: ${job.name}) ${VANISHED}`);
  }

  async lockJob(job: JobParameters, options: JobRepositoryOptions | undefined): Promise<JobParameters | undefined> {
    if (!job._id) return undefined;
    const row = this.write(() =>
      this.get(
        `UPDATE ${this.table} SET locked_at = ?, last_modified_by = ?
         WHERE id = ? AND name = ? AND locked_at IS NULL AND next_run_at IS ? AND (disabled IS NULL OR disabled = 0)
         RETURNING *`,
        [Date.now(), options?.lastModifiedBy ?? null, String(job._id), job.name, ms(job.nextRunAt)],
      ),
    );
    return row ? rowToJob(row) : undefined;
  }

  async unlockJob(job: JobParameters): Promise<void> {
    if (!job._id) return;
    // Only jobs that are not running (a running one-time job has no nextRunAt), as in the MongoDB backend.
    this.write(() =>
      this.run(`UPDATE ${this.table} SET locked_at = NULL WHERE id = ? AND next_run_at IS NOT NULL`, [String(job._id)]),
    );
  }

  async unlockJobs(jobIds: (JobId | string)[]): Promise<void> {
    if (jobIds.length === 0) return;
    const where = inList('id', jobIds.map(String));
    this.write(() => this.run(`UPDATE ${this.table} SET locked_at = NULL WHERE ${where.sql}`, where.params));
  }

  async getNextJobToRun(
    jobName: string,
    nextScanAt: Date,
    lockDeadline: Date,
    now: Date | undefined,
    options: JobRepositoryOptions | undefined,
  ): Promise<JobParameters | undefined> {
    // Due and unlocked, or locked by a processor that has not touched it within the lock lifetime. Soonest first,
    // then highest priority; NULL nextRunAt sorts first, as in MongoDB's ascending sort.
    const row = this.write(() =>
      this.get(
        `UPDATE ${this.table} SET locked_at = ?, last_modified_by = ?
         WHERE id = (
           SELECT id FROM ${this.table}
           WHERE name = ? AND (disabled IS NULL OR disabled = 0)
             AND ((locked_at IS NULL AND next_run_at <= ?) OR locked_at <= ?)
           ORDER BY next_run_at ASC, priority DESC
           LIMIT 1
         )
         RETURNING *`,
        [
          (now ?? new Date()).getTime(),
          options?.lastModifiedBy ?? null,
          jobName,
          nextScanAt.getTime(),
          lockDeadline.getTime(),
        ],
      ),
    );
    return row ? rowToJob(row) : undefined;
  }

  async disableJobs(options: RemoveJobsOptions): Promise<number> {
    return this.setDisabled(options, true);
  }

  async enableJobs(options: RemoveJobsOptions): Promise<number> {
    return this.setDisabled(options, false);
  }

  async purgeAllJobs(): Promise<number> {
    return this.write(() => this.run(`DELETE FROM ${this.table}`, []));
  }

  private setDisabled(options: RemoveJobsOptions, disabled: boolean): number {
    const where = removeFilter(options);
    if (!where) return 0;
    // Counts modified jobs only, like MongoDB's modifiedCount.
    const changed = and([where, { sql: 'disabled IS NOT ?', params: [disabled ? 1 : 0] }]);
    return this.write(() =>
      this.run(`UPDATE ${this.table} SET disabled = ?${changed.sql}`, [disabled ? 1 : 0, ...changed.params]),
    );
  }

  private insert(values: Record<PropertyColumn, SqlValue>): JobRow {
    const columns = ['id', ...PROPERTY_COLUMNS];
    return this.get(
      `INSERT INTO ${this.table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')}) RETURNING *`,
      [randomUUID(), ...PROPERTY_COLUMNS.map((c) => values[c])],
    )!;
  }

  private updateReturning(values: Partial<Record<PropertyColumn, SqlValue>>, where: Where): JobRow | undefined {
    const entries = Object.entries(values);
    return this.get(`UPDATE ${this.table} SET ${entries.map(([c]) => `${c} = ?`).join(', ')}${where.sql} RETURNING *`, [
      ...entries.map(([, v]) => v as SqlValue),
      ...where.params,
    ]);
  }

  /** Takes the write lock first, so a read-then-write never works on a snapshot another connection changed. */
  private write<T>(fn: () => T): T {
    return this.connection().transaction(fn).immediate();
  }

  private run(sql: string, params: SqlValue[]): number {
    return this.connection()
      .prepare(sql)
      .run(...params).changes;
  }

  private get(sql: string, params: SqlValue[]): JobRow | undefined {
    return this.connection()
      .prepare(sql)
      .get(...params) as JobRow | undefined;
  }

  private all(sql: string, params: SqlValue[]): JobRow[] {
    return this.connection()
      .prepare(sql)
      .all(...params) as JobRow[];
  }

  private count(sql: string, params: SqlValue[]): number {
    return (
      this.connection()
        .prepare(sql)
        .get(...params) as { n: number }
    ).n;
  }

  private connection(): Database.Database {
    if (!this.db) throw new Error('the SQLite Agenda backend is not connected');
    return this.db;
  }
}

function propsToColumns(props: JobParameters, lastModifiedBy: string | undefined): Record<PropertyColumn, SqlValue> {
  return {
    name: props.name,
    priority: props.priority ?? 0,
    type: props.type ?? 'normal',
    next_run_at: ms(props.nextRunAt),
    locked_at: ms(props.lockedAt),
    last_run_at: ms(props.lastRunAt),
    last_finished_at: ms(props.lastFinishedAt),
    failed_at: ms(props.failedAt),
    fail_count: props.failCount ?? null,
    fail_reason: props.failReason ?? null,
    disabled: bool(props.disabled),
    progress: props.progress ?? null,
    repeat_interval: props.repeatInterval === undefined ? null : JSON.stringify(props.repeatInterval),
    repeat_at: props.repeatAt ?? null,
    repeat_timezone: props.repeatTimezone ?? null,
    data: JSON.stringify(props.data ?? null),
    last_modified_by: lastModifiedBy ?? null,
    fork: bool(props.fork),
    debounce_started_at: ms(props.debounceStartedAt),
    start_date: ms(props.startDate),
    end_date: ms(props.endDate),
    skip_days: props.skipDays === undefined ? null : JSON.stringify(props.skipDays),
  };
}

function rowToJob(row: JobRow): JobParameters {
  return {
    _id: toJobId(row.id),
    name: row.name,
    priority: row.priority,
    nextRunAt: row.next_run_at === null ? null : new Date(row.next_run_at),
    type: row.type === 'single' ? 'single' : 'normal',
    data: row.data === null ? null : (JSON.parse(row.data) as unknown),
    lockedAt: date(row.locked_at),
    lastFinishedAt: date(row.last_finished_at),
    failedAt: date(row.failed_at),
    failCount: row.fail_count ?? undefined,
    failReason: row.fail_reason ?? undefined,
    repeatTimezone: row.repeat_timezone ?? undefined,
    lastRunAt: date(row.last_run_at),
    repeatInterval: row.repeat_interval === null ? undefined : (JSON.parse(row.repeat_interval) as string | number),
    repeatAt: row.repeat_at ?? undefined,
    disabled: row.disabled === null ? undefined : row.disabled === 1,
    progress: row.progress ?? undefined,
    lastModifiedBy: row.last_modified_by ?? undefined,
    fork: row.fork === null ? undefined : row.fork === 1,
    debounceStartedAt: date(row.debounce_started_at),
    startDate: date(row.start_date),
    endDate: date(row.end_date),
    skipDays: row.skip_days === null ? undefined : (JSON.parse(row.skip_days) as number[]),
  };
}

function removeFilter(options: RemoveJobsOptions): Where | undefined {
  const where = and([
    options.id ? eq('id', String(options.id)) : options.ids?.length ? inList('id', options.ids.map(String)) : undefined,
    options.name
      ? eq('name', options.name)
      : options.names?.length
        ? inList('name', options.names)
        : options.notNames?.length
          ? { sql: `name NOT IN (${options.notNames.map(() => '?').join(', ')})`, params: [...options.notNames] }
          : undefined,
    options.data !== undefined ? dataFilter(options.data) : undefined,
  ]);
  return where.sql ? where : undefined;
}

/** Partial match on `data`, as the MongoDB backend's flattening to `data.a.b` equality does. */
function dataFilter(data: unknown): Where {
  if (isPlainObject(data)) return and(flatten(data, []).map(([path, value]) => jsonEquals(path, value)));
  return { sql: 'data = ?', params: [JSON.stringify(data ?? null)] };
}

/** A unique query: `{ 'data.key': 'x', name: 'y' }`, equality only. */
function uniqueFilter(unique: Record<string, unknown>): Where {
  return and(
    Object.entries(unique).map(([field, value]) => {
      if (field.startsWith('data.')) return jsonEquals(field.slice('data.'.length).split('.'), value);
      const column = UNIQUE_FIELD_COLUMNS[field];
      if (!column) throw new Error(`the SQLite Agenda backend cannot use '${field}' in a unique() query`);
      return eq(column, scalar(value, field));
    }),
  );
}

function jsonEquals(path: string[], value: unknown): Where {
  const expression = `json_extract(data, '${jsonPath(path)}')`;
  if (value === null || value === undefined) return { sql: `${expression} IS NULL`, params: [] };
  return { sql: `${expression} = ?`, params: [scalar(value, path.join('.'))] };
}

/** `$.a.b`: the plain form where possible, so the expression matches the index on `$.key`. */
function jsonPath(path: string[]): string {
  return (
    '$' +
    path
      .map((segment) => {
        if (/^[A-Za-z_][A-Za-z0-9_]*$/u.test(segment)) return `.${segment}`;
        if (/["'\\]/u.test(segment)) throw new Error(`unsupported data field name: ${segment}`);
        return `."${segment}"`;
      })
      .join('')
  );
}

function flatten(value: Record<string, unknown>, prefix: string[]): [string[], unknown][] {
  return Object.entries(value).flatMap(([key, child]) =>
    isPlainObject(child) ? flatten(child, [...prefix, key]) : [[[...prefix, key], child] as [string[], unknown]],
  );
}

function scalar(value: unknown, field: string): SqlValue {
  if (typeof value === 'string' || typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value === null) return null;
  throw new Error(`the SQLite Agenda backend only matches strings, numbers and booleans (field '${field}')`);
}

function and(parts: (Where | undefined)[]): Where {
  const present = parts.filter((p): p is Where => p !== undefined && p.sql !== '');
  if (present.length === 0) return { sql: '', params: [] };
  return {
    sql: ' WHERE ' + present.map((p) => `(${p.sql.replace(/^ WHERE /u, '')})`).join(' AND '),
    params: present.flatMap((p) => p.params),
  };
}

function eq(column: string, value: SqlValue): Where {
  return { sql: `${column} = ?`, params: [value] };
}

function inList(column: string, values: readonly string[]): Where {
  return { sql: `${column} IN (${values.map(() => '?').join(', ')})`, params: [...values] };
}

function orderBy(sort: JobsSort | undefined): string {
  const entries = Object.entries(sort ?? {}).filter(([, dir]) => dir !== undefined);
  // The MongoDB backend's default order.
  if (entries.length === 0) return ' ORDER BY next_run_at DESC, last_run_at DESC';
  return (
    ' ORDER BY ' +
    entries
      .map(([field, dir]) => `${SORT_COLUMNS[field as keyof JobsSort]} ${dir === 'asc' ? 'ASC' : 'DESC'}`)
      .join(', ')
  );
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/gu, (c) => `\\${c}`);
}

function omit<T extends object, K extends keyof T>(value: T, key: K): Omit<T, K> {
  const { [key]: _omitted, ...rest } = value;
  return rest;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

function ms(value: Date | string | null | undefined): number | null {
  return value === null || value === undefined ? null : new Date(value).getTime();
}

function date(value: number | null): Date | undefined {
  return value === null ? undefined : new Date(value);
}

function bool(value: boolean | undefined): number | null {
  return value === undefined ? null : value ? 1 : 0;
}
