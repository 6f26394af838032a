import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobHandler, ScheduledJob, Scheduler } from '../../src/application/ports/scheduler.port.js';

/**
 * One store (a SQLite file, a MongoDB database) per test. `open()` returns a new scheduler instance on that store,
 * as a second process or a restarted one would have. Expected settings: polling every ~100 ms, retries after ~50 ms,
 * a lock lifetime well above the test timeout (a lock left behind must show as a failure, not as a slow pass).
 */
export interface SchedulerStore {
  open(): Promise<Scheduler>;
  /** Stops every scheduler opened on the store (stop() is idempotent) and deletes the store. */
  dispose(): Promise<void>;
}

interface Run {
  readonly job: ScheduledJob;
  readonly at: number;
  readonly by: string;
}

const WAIT_MS = 10_000;

export function schedulerContract(name: string, createStore: () => Promise<SchedulerStore>): void {
  describe(`Scheduler contract: ${name}`, () => {
    let store: SchedulerStore;
    let runs: Run[];

    beforeEach(async () => {
      store = await createStore();
      runs = [];
    });

    afterEach(async () => {
      await store.dispose();
    });

    const recorder =
      (by: string, act?: (job: ScheduledJob) => Promise<void>): JobHandler =>
      async (job) => {
        runs.push({ job, at: Date.now(), by });
        await act?.(job);
      };
    const runsOf = (key: string): Run[] => runs.filter((r) => r.job.key === key);
    const inMs = (ms: number): Date => new Date(Date.now() + ms);
    const job = (key: string, runAt: Date, extra: Partial<ScheduledJob> = {}): ScheduledJob => ({
      name: 'reminder.due',
      key,
      runAt,
      tenantId: 'tenant-a',
      data: { reservationId: `r-${key}` },
      ...extra,
    });

    it('runs a job at its time, not before, with what was scheduled', async () => {
      const scheduler = await store.open();
      await scheduler.start(recorder('a'));
      const scheduled = job('k1', inMs(200), { data: { reservationId: 'r-1', nested: { n: 1, ok: true } } });

      await scheduler.schedule(scheduled);

      await waitFor(() => runsOf('k1').length === 1, 'the job to run');
      const [run] = runsOf('k1');
      expect(run!.at).toBeGreaterThanOrEqual(scheduled.runAt.getTime());
      expect(run!.job).toEqual(scheduled);
      await waitFor(async () => (await scheduler.pending()).length === 0, 'the job to leave the pending list');
    });

    it('lists pending jobs soonest first, filtered by name and tenant', async () => {
      const scheduler = await store.open();
      const later = job('later', inMs(3_600_000), { tenantId: 'tenant-b' });
      const soon = job('soon', inMs(1_800_000), { name: 'waitlist.offer-expired' });
      const soonest = job('soonest', inMs(900_000));
      for (const j of [later, soon, soonest]) await scheduler.schedule(j);

      expect(await scheduler.pending()).toEqual([soonest, soon, later]);
      expect(await scheduler.pending({ name: 'reminder.due' })).toEqual([soonest, later]);
      expect(await scheduler.pending({ tenantId: 'tenant-b' })).toEqual([later]);
      expect(await scheduler.pending({ name: 'waitlist.offer-expired', tenantId: 'tenant-b' })).toEqual([]);
    });

    it('replaces the run time and data when a key is scheduled again', async () => {
      const scheduler = await store.open();
      await scheduler.schedule(job('k', inMs(3_600_000), { data: { v: 1 } }));
      const replacement = job('k', inMs(1_800_000), { data: { v: 2 } });

      await scheduler.schedule(replacement);

      expect(await scheduler.pending()).toEqual([replacement]);
    });

    it('runs a rescheduled job once, with the latest data, even if the first version was already claimed', async () => {
      const scheduler = await store.open();
      await scheduler.start(recorder('a'));
      // Due within the polling period: a processor may already hold it, waiting for its time.
      await scheduler.schedule(job('k', inMs(100), { data: { v: 1 } }));
      await scheduler.schedule(job('k', inMs(300), { data: { v: 2 } }));

      await waitFor(() => runsOf('k').length > 0, 'the rescheduled job to run');
      await waitFor(async () => (await scheduler.pending()).length === 0, 'the job to finish');
      expect(runsOf('k').map((r) => r.job.data)).toEqual([{ v: 2 }]);
    });

    it('runs a key again, with the new data, when it is rescheduled while its job runs', async () => {
      const scheduler = await store.open();
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      await scheduler.start(
        recorder('a', async (j) => {
          if (j.data.v === 1) await released;
        }),
      );
      await scheduler.schedule(job('k', inMs(0), { data: { v: 1 } }));
      await waitFor(() => runsOf('k').length === 1, 'the first version to start');

      await scheduler.schedule(job('k', inMs(100), { data: { v: 2 } }));
      release();

      await waitFor(() => runsOf('k').length === 2, 'the second version to run');
      await waitFor(async () => (await scheduler.pending()).length === 0, 'both runs to finish');
      expect(runsOf('k').map((r) => r.job.data)).toEqual([{ v: 1 }, { v: 2 }]);
    });

    it('does not run a cancelled job, and cancelling an unknown key is harmless', async () => {
      const scheduler = await store.open();
      await scheduler.start(recorder('a'));
      await scheduler.schedule(job('cancelled', inMs(100)));
      await scheduler.schedule(job('sentinel', inMs(300)));

      await scheduler.cancel('cancelled');
      await scheduler.cancel('never-scheduled');

      await waitFor(() => runsOf('sentinel').length === 1, 'the later job to run');
      expect(runsOf('cancelled')).toEqual([]);
      expect(await scheduler.pending()).toEqual([]);
    });

    it('retries a failing handler with backoff until it succeeds, then forgets the job', async () => {
      const scheduler = await store.open();
      await scheduler.start(
        recorder('a', async (j) => {
          if (runsOf(j.key).length < 3) throw new Error('provider unavailable');
        }),
      );

      await scheduler.schedule(job('flaky', inMs(0)));

      await waitFor(() => runsOf('flaky').length === 3, 'two retries');
      await waitFor(async () => (await scheduler.pending()).length === 0, 'the job to be removed after success');
      const [first, second, third] = runsOf('flaky').map((r) => r.at);
      // Exponential: the second wait is at least the first retry delay doubled.
      expect(second! - first!).toBeGreaterThanOrEqual(40);
      expect(third! - second!).toBeGreaterThanOrEqual(90);
      expect(runsOf('flaky').every((r) => r.job.runAt.getTime() === runsOf('flaky')[0]!.job.runAt.getTime())).toBe(
        true,
      );
    });

    it('shows a failed job as pending again, at its retry time', async () => {
      const scheduler = await store.open();
      await scheduler.start(
        recorder('a', async () => {
          throw new Error('always fails');
        }),
      );
      const scheduled = job('failing', inMs(0));
      await scheduler.schedule(scheduled);

      await waitFor(() => runsOf('failing').length >= 1, 'the first attempt');
      let pending: ScheduledJob[] = [];
      await waitFor(async () => (pending = await scheduler.pending()).length > 0, 'the job to be pending again');
      const [retry] = pending;
      expect({ ...retry, runAt: undefined }).toEqual({ ...scheduled, runAt: undefined });
      expect(retry!.runAt.getTime()).toBeGreaterThan(runsOf('failing')[0]!.at);
    });

    it('waits for running handlers on stop()', async () => {
      const scheduler = await store.open();
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let stopFinishedBeforeRelease: boolean | undefined;
      let stopped = false;
      await scheduler.start(
        recorder('a', async () => {
          await released;
          stopFinishedBeforeRelease = stopped;
        }),
      );
      await scheduler.schedule(job('slow', inMs(0)));
      await waitFor(() => runsOf('slow').length === 1, 'the handler to start');

      const stopping = scheduler.stop().then(() => (stopped = true));
      release();
      await stopping;

      expect(stopFinishedBeforeRelease).toBe(false);
      const next = await store.open();
      expect(await next.pending()).toEqual([]);
    });

    it('runs a job scheduled before a restart on the new instance', async () => {
      const first = await store.open();
      // If this instance ever runs the job, the attempt fails and is retried: only the new instance completes it.
      await first.start(
        recorder('first', async () => {
          throw new Error('the first instance must not complete the job');
        }),
      );
      const scheduled = job('durable', inMs(80));
      await first.schedule(scheduled);
      await first.stop();

      const second = await store.open();
      expect((await second.pending()).map((p) => p.key)).toEqual(['durable']);
      await second.start(recorder('second'));

      await waitFor(() => runs.some((r) => r.by === 'second' && r.job.key === 'durable'), 'the new instance to run it');
      expect(runs.filter((r) => r.by === 'second')).toHaveLength(1);
    });

    it('never runs one job on two instances sharing the store', async () => {
      const instances = await Promise.all([store.open(), store.open(), store.open()]);
      const keys = Array.from({ length: 24 }, (_, i) => `shared-${i}`);
      for (const [i, scheduler] of instances.entries()) {
        await scheduler.start(recorder(`instance-${i}`, () => delay(15)));
      }

      for (const [i, key] of keys.entries()) {
        await instances[i % instances.length]!.schedule(job(key, inMs(50 + (i % 6) * 40)));
      }

      await waitFor(() => keys.every((k) => runsOf(k).length > 0), 'every job to run');
      await Promise.all(instances.map((s) => s.stop()));
      expect(keys.filter((k) => runsOf(k).length !== 1)).toEqual([]);
      expect(await (await store.open()).pending()).toEqual([]);
    });
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until `condition` holds; the deadline only bounds a failure, it is never what a test asserts. */
async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(10);
  }
}
