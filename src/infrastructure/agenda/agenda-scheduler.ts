import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  Agenda,
  exponential,
  InMemoryNotificationChannel,
  type AgendaBackend,
  type JobId,
  type JobParameters,
  type JobRepository,
  type JobRepositoryOptions,
  type JobsQueryOptions,
  type RemoveJobsOptions,
} from 'agenda';
import type { Logger } from '../../application/ports/logger.port.js';
import type { JobHandler, ScheduledJob, Scheduler } from '../../application/ports/scheduler.port.js';

/** The one Agenda job definition: the port's job kind travels in the data, so start() needs no list of kinds. */
export const AGENDA_JOB_NAME = 'herald.job';

export interface AgendaSchedulerOptions {
  /**
   * `createSqliteAgendaBackend` or `createMongoAgendaBackend`. The scheduler connects it, and stop() disconnects it
   * unless it reports `ownsConnection: false` (a MongoDB `Db` passed in).
   */
  readonly backend: AgendaBackend;
  readonly logger: Logger;
  /** How often the store is polled for jobs due within the next period, in ms. Default 5 000. */
  readonly processEvery?: number;
  /** Prefix of this instance's name, recorded as `lastModifiedBy` on the jobs it locks. Default `herald`. */
  readonly name?: string;
  /**
   * A lock older than this is taken over by another instance (its holder is presumed dead), and a handler running
   * longer is given up on. Handlers only send a command, so a crashed instance's jobs wait at most this long.
   * Default 60 000 ms.
   */
  readonly lockLifetimeMs?: number;
  /** Handlers run at the same time by this instance. Default 10. */
  readonly concurrency?: number;
  /** Exponential backoff after a failed handler: delay, doubling, capped. Defaults 1 s, 1 h, 20 retries. */
  readonly retry?: { readonly initialDelayMs?: number; readonly maxDelayMs?: number; readonly maxRetries?: number };
  /** How long stop() waits for running handlers. Default 30 000 ms. */
  readonly drainTimeoutMs?: number;
}

/** What one Agenda job carries. Persisted: only ever add fields. */
interface StoredJob {
  readonly key: string;
  readonly name: string;
  readonly tenantId: string;
  /** The time the caller asked for (ISO-8601); a retry runs later but still reports this. */
  readonly runAt: string;
  readonly data: Record<string, unknown>;
  /** Orders the schedule() calls of one key: the highest survives. `<15-digit epoch ms>-<instance>`. */
  readonly seq: string;
}

/**
 * The Scheduler port on Agenda 6, for any Agenda backend (see docs/decisions/0004-agenda-backends.md).
 *
 * Unique keys: schedule() inserts a new Agenda job, then removes the key's older ones. Agenda's own `unique()`
 * upsert keeps the job's id, so a copy another processor had already locked (waiting for its run time) would still
 * run with the old data and then overwrite the new nextRunAt. A removed job cannot run: Agenda's processor fails to
 * save its state before calling the handler. Between the insert and the removal both jobs exist; a crash there
 * leaves a duplicate run (harmless by design), never a lost one.
 */
export async function createAgendaScheduler(options: AgendaSchedulerOptions): Promise<Scheduler> {
  const { backend, logger } = options;
  const instance = `${options.name ?? 'herald'}@${hostname()}:${process.pid}#${randomUUID().slice(0, 8)}`;
  const concurrency = options.concurrency ?? 10;
  const repository = new StoppableRepository(backend.repository);
  let connecting: Promise<void> | undefined;
  const connect = (): Promise<void> => (connecting ??= backend.connect());

  // Connect before Agenda does: its constructor connects without handling a failure (an unhandled rejection).
  await connect();
  const agenda = new Agenda({
    backend: {
      name: backend.name,
      repository,
      // Neither backend notifies: the in-process channel at least runs what this instance schedules for (almost)
      // now at once, instead of at the next poll. Other instances find it by polling.
      notificationChannel: backend.notificationChannel ?? new InMemoryNotificationChannel(),
      // The scheduler closes the backend itself, after draining.
      ownsConnection: false,
      connect,
      disconnect: async () => {},
    },
    name: instance,
    ...(options.processEvery !== undefined ? { processEvery: options.processEvery } : {}),
    maxConcurrency: concurrency,
    defaultLockLifetime: options.lockLifetimeMs ?? 60_000,
  });
  observe(agenda, logger);

  const keyed = new KeyedQueue();
  const nextSeq = sequence(instance.slice(-8));
  let started = false;
  let stopping: Promise<void> | undefined;

  const assertOpen = (): void => {
    if (stopping) throw new Error('the scheduler is stopped');
  };

  return {
    async schedule(job) {
      assertOpen();
      if (Number.isNaN(job.runAt.getTime())) throw new Error(`invalid runAt for scheduled job ${job.key}`);
      const stored: StoredJob = {
        key: job.key,
        name: job.name,
        tenantId: job.tenantId,
        runAt: job.runAt.toISOString(),
        data: job.data,
        seq: nextSeq(),
      };
      await keyed.run(job.key, async () => {
        const created = await agenda.create(AGENDA_JOB_NAME, stored).schedule(job.runAt).save();
        const id = created.attrs._id;
        const { jobs } = await agenda.queryJobs({ name: AGENDA_JOB_NAME, data: { key: job.key } });
        const older = jobs.filter((other) => other._id !== id && seqOf(other.data) < stored.seq).map((j) => j._id);
        if (older.length > 0) await agenda.cancel({ ids: older });
      });
    },

    async cancel(key) {
      assertOpen();
      await keyed.run(key, () => agenda.cancel({ name: AGENDA_JOB_NAME, data: { key } }));
    },

    /** Jobs that will run, soonest first; `runAt` is when they run next (the retry time of a failed one). */
    async pending(filter) {
      assertOpen();
      const data = {
        ...(filter?.name !== undefined ? { name: filter.name } : {}),
        ...(filter?.tenantId !== undefined ? { tenantId: filter.tenantId } : {}),
      };
      const query: JobsQueryOptions = { name: AGENDA_JOB_NAME, sort: { nextRunAt: 'asc' } };
      const { jobs } = await agenda.queryJobs(Object.keys(data).length > 0 ? { ...query, data } : query);
      // While schedule() replaces a job, its key briefly has two: show the newer.
      const byKey = new Map<string, { stored: StoredJob; nextRunAt: Date }>();
      for (const job of jobs) {
        if (!job.nextRunAt || job.disabled) continue;
        const stored = parseStored(job.data);
        const seen = byKey.get(stored.key);
        if (!seen || seen.stored.seq < stored.seq) {
          byKey.set(stored.key, { stored, nextRunAt: new Date(job.nextRunAt) });
        }
      }
      return [...byKey.values()]
        .sort((a, b) => a.nextRunAt.getTime() - b.nextRunAt.getTime())
        .map(({ stored, nextRunAt }) => ({ ...toScheduledJob(stored), runAt: nextRunAt }));
    },

    async start(handler: JobHandler) {
      assertOpen();
      if (started) throw new Error('the scheduler is already started');
      started = true;
      const retry = options.retry ?? {};
      agenda.define(
        AGENDA_JOB_NAME,
        async (agendaJob) => {
          // A throw here is a failure: Agenda records it and reschedules the job with the backoff below.
          await handler(toScheduledJob(parseStored(agendaJob.attrs.data)));
          await removeDone(agendaJob.attrs);
        },
        {
          concurrency,
          backoff: exponential({
            delay: retry.initialDelayMs ?? 1_000,
            factor: 2,
            maxDelay: retry.maxDelayMs ?? 3_600_000,
            maxRetries: retry.maxRetries ?? 20,
          }),
          // Removed by the handler wrapper instead: see removeDone.
          removeOnComplete: false,
        },
      );
      await agenda.start();
    },

    stop() {
      stopping ??= (async () => {
        // No new locks; wait for lock queries already sent, so every job this instance holds is known.
        await repository.close();
        await keyed.idle();
        if (started) {
          const result = await agenda.drain({ timeout: options.drainTimeoutMs ?? 30_000, closeConnection: false });
          if (result.timedOut) {
            logger.warn(
              { running: result.running },
              'scheduler stopped with handlers still running; their locks expire',
            );
          }
          await repository.releaseHeld(instance);
        }
        if (backend.ownsConnection ?? true) await backend.disconnect();
      })();
      return stopping;
    },
  };

  /**
   * Removal as the handler's last step, not Agenda's `removeOnComplete`: drain() resolves once the handler and the
   * state save are done, whereas Agenda's removal comes after its `complete` event and may still be in flight.
   * Agenda's state save that follows then finds no job, which it ignores.
   */
  async function removeDone(attrs: JobParameters): Promise<void> {
    if (!attrs._id) return;
    try {
      await agenda.cancel({ id: attrs._id });
    } catch (err) {
      // The job stays, without a next run: harmless, and replaced when its key is scheduled again.
      logger.warn({ jobId: String(attrs._id), error: (err as Error).message }, 'could not remove a finished job');
    }
  }
}

function observe(agenda: Agenda, logger: Logger): void {
  const fields = (attrs: JobParameters): Record<string, unknown> => {
    const data = attrs.data as Partial<StoredJob> | null;
    return { jobId: String(attrs._id), jobKey: data?.key, jobName: data?.name, tenantId: data?.tenantId };
  };
  // Events relayed from other instances (by a notification channel with state events) carry no `attrs`.
  agenda.on('retry', (job, details) => {
    if (!('attrs' in job)) return;
    logger.warn(
      {
        ...fields(job.attrs),
        attempt: details.attempt,
        retryAt: details.nextRunAt.toISOString(),
        error: details.error.message,
      },
      'scheduled job failed, retrying later',
    );
  });
  agenda.on('retry exhausted', (error, job) => {
    logger.error(
      { ...fields(job.attrs), failCount: job.attrs.failCount, error: error.message },
      'scheduled job gave up',
    );
  });
  agenda.on('error', (error) => {
    // Agenda's processor could not save the state of a job it was about to run: the job was cancelled or replaced.
    if (/does not exist anymore/u.test(error.message)) logger.debug({ error: error.message }, 'skipped a removed job');
    else logger.error({ error: error.message }, 'scheduler error');
  });
}

/**
 * The backend's repository, plus what a graceful stop needs and Agenda 6 lacks: drain() leaves the jobs it had
 * locked but not started locked in the store (until the lock lifetime passes), and a poll in flight when it is
 * called may lock more. Here no lock is taken once closed, and stop() releases what this instance still holds.
 */
class StoppableRepository implements JobRepository {
  private closed = false;
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Jobs this instance locked and has neither started nor released. */
  private readonly held = new Set<string>();

  constructor(private readonly inner: JobRepository) {}

  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.inFlight]);
  }

  /** Unlocks the held jobs still locked under `owner`'s name (not ones another instance took over). */
  async releaseHeld(owner: string): Promise<void> {
    const ids: string[] = [];
    for (const id of this.held) {
      const job = await this.inner.getJobById(id);
      if (job?.lockedAt && job.lastModifiedBy === owner) ids.push(id);
    }
    this.held.clear();
    if (ids.length > 0) await this.inner.unlockJobs(ids);
  }

  getNextJobToRun(
    jobName: string,
    nextScanAt: Date,
    lockDeadline: Date,
    now: Date | undefined,
    options: JobRepositoryOptions | undefined,
  ): Promise<JobParameters | undefined> {
    return this.locking(() => this.inner.getNextJobToRun(jobName, nextScanAt, lockDeadline, now, options));
  }

  lockJob(job: JobParameters, options: JobRepositoryOptions | undefined): Promise<JobParameters | undefined> {
    return this.locking(() => this.inner.lockJob(job, options));
  }

  async unlockJob(job: JobParameters): Promise<void> {
    if (job._id !== undefined) this.held.delete(String(job._id));
    await this.inner.unlockJob(job);
  }

  async unlockJobs(jobIds: (JobId | string)[]): Promise<void> {
    for (const id of jobIds) this.held.delete(String(id));
    await this.inner.unlockJobs(jobIds);
  }

  /** Agenda's processor saves a job's state only once it runs it: from then on drain() waits for it. */
  async saveJobState(job: JobParameters, options: JobRepositoryOptions | undefined): Promise<void> {
    if (job._id !== undefined) this.held.delete(String(job._id));
    await this.inner.saveJobState(job, options);
  }

  connect = (): Promise<void> => this.inner.connect();
  queryJobs = (options?: JobsQueryOptions): ReturnType<JobRepository['queryJobs']> => this.inner.queryJobs(options);
  getJobsOverview = (): ReturnType<JobRepository['getJobsOverview']> => this.inner.getJobsOverview();
  getDistinctJobNames = (): Promise<string[]> => this.inner.getDistinctJobNames();
  getJobById = (id: string): Promise<JobParameters | null> => this.inner.getJobById(id);
  getQueueSize = (): Promise<number> => this.inner.getQueueSize();
  removeJobs = (options: RemoveJobsOptions): Promise<number> => this.inner.removeJobs(options);
  saveJob = <DATA = unknown>(job: JobParameters<DATA>, options: JobRepositoryOptions | undefined) =>
    this.inner.saveJob(job, options);
  disableJobs = (options: RemoveJobsOptions): Promise<number> => this.inner.disableJobs(options);
  enableJobs = (options: RemoveJobsOptions): Promise<number> => this.inner.enableJobs(options);
  purgeAllJobs = (): Promise<number> => this.inner.purgeAllJobs();

  private async locking(lock: () => Promise<JobParameters | undefined>): Promise<JobParameters | undefined> {
    if (this.closed) return undefined;
    const pending = lock();
    this.inFlight.add(pending);
    try {
      const job = await pending;
      if (!job?._id) return undefined;
      if (this.closed) {
        // Locked while closing: hand it straight back rather than queue it.
        await this.inner.unlockJobs([job._id]);
        return undefined;
      }
      this.held.add(String(job._id));
      return job;
    } finally {
      this.inFlight.delete(pending);
    }
  }
}

/** Runs the operations on one key in call order, so cancel() after schedule() (unawaited) still wins. */
class KeyedQueue {
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(key: string, operation: () => Promise<T>): Promise<T> {
    const result = (this.tails.get(key) ?? Promise.resolve()).then(operation);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  async idle(): Promise<void> {
    await Promise.all([...this.tails.values()]);
  }
}

/** Strictly increasing within this instance, even if the wall clock steps back. */
function sequence(instanceTag: string): () => string {
  let last = 0;
  return () => {
    last = Math.max(Date.now(), last + 1);
    return `${String(last).padStart(15, '0')}-${instanceTag}`;
  };
}

function seqOf(data: unknown): string {
  const seq = (data as Partial<StoredJob> | null)?.seq;
  return typeof seq === 'string' ? seq : '';
}

function parseStored(data: unknown): StoredJob {
  const stored = data as Partial<StoredJob> | null;
  if (
    typeof stored?.key !== 'string' ||
    typeof stored.name !== 'string' ||
    typeof stored.tenantId !== 'string' ||
    typeof stored.runAt !== 'string' ||
    typeof stored.data !== 'object' ||
    stored.data === null
  ) {
    throw new Error('not a Herald scheduled job');
  }
  return stored as StoredJob;
}

function toScheduledJob(stored: StoredJob): ScheduledJob {
  return {
    name: stored.name,
    key: stored.key,
    runAt: new Date(stored.runAt),
    tenantId: stored.tenantId,
    data: stored.data,
  };
}
