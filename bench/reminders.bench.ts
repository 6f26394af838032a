import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { nearestRankPercentile } from '../src/application/notifications/notification-analytics.js';
import type { Scheduler, ScheduledJob } from '../src/application/ports/scheduler.port.js';
import { REMINDER_JOB } from '../src/application/notifications/notification-planner.js';
import { createAgendaScheduler } from '../src/infrastructure/agenda/agenda-scheduler.js';
import { createMongoAgendaBackend } from '../src/infrastructure/agenda/mongo-agenda-backend.js';
import { createSqliteAgendaBackend } from '../src/infrastructure/agenda/sqlite-agenda-backend.js';
import { startMongoServer } from '../test/support/mongo-server.js';
import { silentLogger } from '../test/support/silent-logger.js';

/**
 * Reminder timeliness at scale (issue 11, item 8): `count` reminder jobs coming due evenly within `windowMs`, all
 * scheduled through the Scheduler port before the first comes due (as the planner schedules them, days ahead), run
 * by the scheduler Herald uses — Agenda on the embedded SQLite file, and Agenda on MongoDB (mongo-java-server) — with
 * the settings adapters.ts gives it. Lateness = when the handler started − the time the job was scheduled for, or
 * when its schedule() call returned if that was later (on a loaded machine the bench can fall behind its own plan).
 *
 * The clock is the real one (Agenda reads the system time), so the schedule is not compressed in time: the full
 * size is 100 000 reminders due within 10 minutes (166.7 due per second). BENCH_SCALE shrinks count and window
 * alike, keeping that rate. The handler records the lateness and returns: what a reminder then costs (planning and
 * sending one message) is what the thin-slice and confirmation benchmarks measure.
 */
export interface ReminderSizes {
  readonly count: number;
  readonly windowMs: number;
}

interface ReminderResult {
  readonly label: string;
  readonly count: number;
  readonly scheduledPerSecond: number;
  readonly ran: number;
  readonly duplicates: number;
  /** Reminders whose schedule() call returned only after they were already due (the bench fell behind). */
  readonly scheduledLate: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly targetMs: number;
}

const summary = (r: ReminderResult) =>
  `  ${r.label}: ran ${r.ran}/${r.count}, ${r.duplicates} duplicates, ${r.scheduledLate} scheduled late; lateness ` +
  `p50 ${r.p50.toFixed(0)} ms, p99 ${r.p99.toFixed(0)} ms, max ${r.max.toFixed(0)} ms (target p99 ≤ ${r.targetMs} ms)`;

async function measure(
  label: string,
  scheduler: Scheduler,
  sizes: ReminderSizes,
  targetMs: number,
  log: (line: string) => void,
): Promise<ReminderResult> {
  const lateness: number[] = [];
  const seen = new Set<string>();
  /** When each job's schedule() call returned: a job cannot be on time before the scheduler knows it. */
  const known = new Map<string, number>();
  let duplicates = 0;
  let allRan: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (allRan = resolve));
  await scheduler.start(async (job: ScheduledJob) => {
    const late = Date.now() - Math.max(job.runAt.getTime(), known.get(job.key) ?? 0);
    if (seen.has(job.key)) duplicates++;
    else {
      seen.add(job.key);
      lateness.push(late);
      if (seen.size === sizes.count) allRan();
    }
  });

  // Calibrate the scheduling rate, so that the last reminder is scheduled well before the first comes due.
  const job = (i: number, runAt: number): ScheduledJob => ({
    name: REMINDER_JOB,
    key: `bench-reminder:${i}`,
    runAt: new Date(runAt),
    tenantId: 'bench',
    data: { reservationId: `r-${i}`, at: new Date(runAt).toISOString() },
  });
  const inParallel = async (from: number, to: number, runAt: (i: number) => number) => {
    const width = 64;
    for (let i = from; i < to; i += width) {
      await Promise.all(
        Array.from({ length: Math.min(width, to - i) }, async (_, k) => {
          const scheduled = job(i + k, runAt(i + k));
          await scheduler.schedule(scheduled);
          known.set(scheduled.key, Date.now());
        }),
      );
    }
  };
  const calibration = Math.min(1_000, sizes.count);
  const far = Date.now() + 24 * 3_600_000;
  const calibrationStarted = performance.now();
  await inParallel(-calibration, 0, () => far);
  const rate = calibration / ((performance.now() - calibrationStarted) / 1000);
  // A shared machine's rate swings several-fold: a generous lead, and lateness counted from when a job was known.
  const leadMs = Math.ceil((sizes.count / rate) * 3 * 1000) + 10_000;
  const first = Date.now() + leadMs;
  const step = sizes.windowMs / sizes.count;
  log(`  ${label}: scheduling ${sizes.count} reminders at ~${rate.toFixed(0)}/s; the first is due in ${leadMs} ms`);
  const scheduling = performance.now();
  await inParallel(0, sizes.count, (i) => first + Math.floor(i * step));
  const scheduledPerSecond = sizes.count / ((performance.now() - scheduling) / 1000);
  const scheduledBy = Date.now();
  if (scheduledBy > first) log(`  ${label}: scheduling overran the first due time by ${scheduledBy - first} ms`);

  const timeout = new Promise<void>((resolve) => setTimeout(resolve, leadMs + sizes.windowMs + 120_000).unref());
  await Promise.race([done, timeout]);
  await scheduler.stop();
  let scheduledLate = 0;
  for (let i = 0; i < sizes.count; i++) {
    if ((known.get(`bench-reminder:${i}`) ?? 0) > first + Math.floor(i * step)) scheduledLate++;
  }
  const sorted = Float64Array.from(lateness).sort();
  const result: ReminderResult = {
    label,
    count: sizes.count,
    scheduledPerSecond,
    ran: seen.size,
    duplicates,
    scheduledLate,
    p50: nearestRankPercentile(sorted, 50) ?? NaN,
    p99: nearestRankPercentile(sorted, 99) ?? NaN,
    max: sorted.length > 0 ? sorted[sorted.length - 1]! : NaN,
    targetMs,
  };
  log(summary(result));
  return result;
}

export async function remindersBench(
  sizes: ReminderSizes = { count: 100_000, windowMs: 600_000 },
  log: (line: string) => void = (line) => console.error(line),
): Promise<string> {
  const results: ReminderResult[] = [];
  const dir = await mkdtemp(join(tmpdir(), 'herald-reminders-'));
  try {
    const embedded = await createAgendaScheduler({
      backend: createSqliteAgendaBackend({ database: join(dir, 'agenda.sqlite') }),
      logger: silentLogger(),
      processEvery: 1_000,
    });
    results.push(await measure('embedded (Agenda on SQLite)', embedded, sizes, 1_000, log));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const mongo = await startMongoServer();
  const client = new MongoClient(mongo.url);
  try {
    await client.connect();
    const agenda = await createAgendaScheduler({
      backend: createMongoAgendaBackend({ db: client.db(`herald_reminders_${Date.now()}`) }),
      logger: silentLogger(),
      processEvery: 1_000,
    });
    results.push(await measure('Agenda on MongoDB (mongo-java-server)', agenda, sizes, 2_000, log));
  } finally {
    await client.close();
    await mongo.stop();
  }
  const fmt = (n: number) => (Number.isNaN(n) ? '–' : n.toFixed(0));
  const seconds = (sizes.windowMs / 1000).toFixed(0);
  return [
    `### Reminder timeliness: ${sizes.count} reminders due within ${seconds} s (bench/reminders.bench.ts)`,
    '',
    'Lateness = handler started − max(due time, when schedule() returned); "scheduled late" counts reminders the bench',
    'could only hand over after they were due (the run then measures the scheduler under a backlog, too).',
    '',
    '| scheduler | ran | duplicates | scheduled/s | scheduled late | lateness p50, ms | lateness p99, ms | max, ms | target p99 | met |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...results.map(
      (r) =>
        `| ${r.label} | ${r.ran}/${r.count} | ${r.duplicates} | ${r.scheduledPerSecond.toFixed(0)} | ${r.scheduledLate} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${fmt(r.max)} | ≤ ${r.targetMs} | ${r.ran === r.count && r.duplicates === 0 && r.p99 <= r.targetMs ? 'yes' : 'no'} |`,
    ),
  ].join('\n');
}
