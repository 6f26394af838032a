/**
 * Scheduler port: Agenda on MongoDB, or the embedded SQLite scheduler; one contract suite
 * (test/integration/scheduler.contract.ts).
 *
 * A scheduled job only sends a command back into the system; deciders make a duplicate run harmless. Jobs are
 * durable: a job scheduled before a restart runs after it (late rather than never).
 */
export interface ScheduledJob {
  /** Job kind, e.g. `reminder.due`, `waitlist.offer-expired`, `hold.expired`, `notification.retry`. */
  readonly name: string;
  /** Unique key: scheduling the same key again replaces the run time and data (never a second job). */
  readonly key: string;
  readonly runAt: Date;
  readonly tenantId: string;
  readonly data: Record<string, unknown>;
}

export type JobHandler = (job: ScheduledJob) => Promise<void>;

export interface Scheduler {
  schedule(job: ScheduledJob): Promise<void>;
  /** Cancels the job with this key if it has not run; harmless when there is none. */
  cancel(key: string): Promise<void>;
  /** Pending jobs (tests, operations), soonest first. */
  pending(filter?: { name?: string; tenantId?: string }): Promise<ScheduledJob[]>;
  /**
   * Starts running due jobs with `handler`. A job whose handler throws is retried later with backoff; one that
   * succeeds is removed. At most one process runs a given job at a time.
   */
  start(handler: JobHandler): Promise<void>;
  stop(): Promise<void>;
}
