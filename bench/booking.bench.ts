/**
 * Booking benchmark: availability queries per second for a month of a 20-resource location, and bookings per second
 * under contention for one slot vs spread over many slots. In-process, through the HTTP app (`app.inject`), on the
 * embedded stores (SQLite in memory) with every consumer running (projections, notification planner, dispatcher
 * to no-op senders, seat keeper).
 *
 *   npx tsx bench/booking.bench.ts            # prints the numbers
 *   import { runBookingBench } from './booking.bench.js'   # for a runner: returns them
 *
 * The embedded store answers synchronously, so in one process concurrent requests would never race. The booking
 * scenarios therefore run twice: as is, and with 0-2 ms of simulated store latency per read and append (like a
 * networked EventStoreDB), where concurrent bookings of one slot really conflict and retry.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { EmailSender } from '../src/application/ports/email-sender.port.js';
import type { EventStore } from '../src/application/ports/event-store.port.js';
import type { Logger } from '../src/application/ports/logger.port.js';
import type { SmsSender } from '../src/application/ports/sms-sender.port.js';
import { ConcurrencyError } from '../src/domain/shared/errors.js';
import { createAgendaScheduler } from '../src/infrastructure/agenda/agenda-scheduler.js';
import { createSqliteAgendaBackend } from '../src/infrastructure/agenda/sqlite-agenda-backend.js';
import { loadConfig } from '../src/infrastructure/config.js';
import { createSqliteEventStore } from '../src/infrastructure/sqlite/sqlite-event-store.js';
import { createSqliteReadModelStore } from '../src/infrastructure/sqlite/sqlite-read-model-store.js';
import type { Adapters } from '../src/interfaces/adapters.js';
import { createHerald, type Herald } from '../src/interfaces/herald.js';

export interface BenchResult {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly detail?: string;
}

export interface BookingBenchOptions {
  /** Multiplies the amount of work (default 1); 0.25 for a quick smoke run. */
  readonly scale?: number;
  readonly log?: (line: string) => void;
}

const API_KEY = 'bench-admin-key-0123456789abcdef';
const auth = { authorization: `Bearer ${API_KEY}` };
const silent: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };
const noEmail: EmailSender = {
  channel: 'email',
  send: async (message) => ({
    providerMessageId: `<${message.idempotencyKey}@bench>`,
    acceptedAt: new Date().toISOString(),
  }),
  close: async () => undefined,
};
const noSms: SmsSender = {
  channel: 'sms',
  send: async () => ({
    providerMessageId: `SM${Math.random().toString(16).slice(2)}`,
    acceptedAt: new Date().toISOString(),
  }),
  findSent: async () => [],
  close: async () => undefined,
};

interface BenchHerald {
  readonly herald: Herald;
  conflicts(): number;
  stop(): Promise<void>;
}

async function startHerald(latency: boolean): Promise<BenchHerald> {
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-bench-'));
  const embedded = createSqliteEventStore({ filename: ':memory:' });
  let conflicts = 0;
  const pause = () => new Promise<void>((resolve) => setTimeout(resolve, Math.floor(Math.random() * 3)));
  const eventStore: EventStore = latency
    ? {
        ...embedded,
        async readStream(streamName) {
          await pause();
          return embedded.readStream(streamName);
        },
        async appendToStream(streamName, events, expected) {
          await pause();
          try {
            return await embedded.appendToStream(streamName, events, expected);
          } catch (error) {
            if (error instanceof ConcurrencyError) conflicts++;
            throw error;
          }
        },
      }
    : embedded;
  const readModels = createSqliteReadModelStore({ filename: ':memory:' });
  const scheduler = await createAgendaScheduler({
    backend: createSqliteAgendaBackend({ database: ':memory:' }),
    logger: silent,
    processEvery: 1000,
  });
  const adapters: Adapters = {
    eventStore,
    readModels,
    scheduler,
    email: noEmail,
    sms: noSms,
    describe: { eventStore: 'sqlite', readModels: 'sqlite', scheduler: 'agenda:sqlite', email: 'none', sms: 'none' },
    async close() {
      await scheduler.stop();
      await embedded.close();
      await readModels.close();
    },
  };
  const herald = await createHerald({
    config: loadConfig({ DATA_DIR: dataDir, BOOTSTRAP_API_KEY: API_KEY, LOG_LEVEL: 'silent', RATE_LIMIT_PER_KEY: '0' }),
    adapters,
    logger: silent,
  });
  await herald.start();
  return {
    herald,
    conflicts: () => conflicts,
    async stop() {
      await herald.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'];

async function post(herald: Herald, url: string, payload: object): Promise<number> {
  const response = await herald.app.inject({ method: 'POST', url, headers: auth, payload });
  if (response.statusCode >= 500) throw new Error(`${url}: ${response.body}`);
  return response.statusCode;
}

/** A location in Oslo with `resources` resources working weekdays 08:00-20:00 and one service on all of them. */
async function seedCatalog(herald: Herald, resources: number, service: Record<string, unknown>): Promise<string[]> {
  await post(herald, '/v1/locations', {
    locationId: 'loc',
    name: 'Bench',
    address: { street: 'Storgata 1', city: 'Oslo', country: 'NO' },
    timeZone: 'Europe/Oslo',
  });
  const resourceIds: string[] = [];
  for (let index = 0; index < resources; index++) {
    const resourceId = `r${index}`;
    await post(herald, '/v1/resources', {
      resourceId,
      locationId: 'loc',
      name: `Resource ${index}`,
      kind: 'staff',
      weeklyHours: Object.fromEntries(WEEKDAYS.map((day) => [day, [{ start: '08:00', end: '20:00' }]])),
    });
    resourceIds.push(resourceId);
  }
  await post(herald, '/v1/services', { serviceId: 'svc', locationId: 'loc', name: 'Service', resourceIds, ...service });
  return resourceIds;
}

let customers = 0;
const booking = (start: string, extra: Record<string, unknown> = {}) => ({
  serviceId: 'svc',
  start,
  customer: { name: `Customer ${++customers}`, email: `c${customers}@example.com` },
  ...extra,
});

/** Weekdays of June 2030 (Oslo is at +02:00 all month). */
const JUNE_WEEKDAYS = Array.from({ length: 30 }, (_, index) => `2030-06-${String(index + 1).padStart(2, '0')}`).filter(
  (date) => {
    const weekday = new Date(`${date}T12:00:00Z`).getUTCDay();
    return weekday !== 0 && weekday !== 6;
  },
);

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function availabilityMonth(scale: number, log: (line: string) => void): Promise<BenchResult[]> {
  const bench = await startHerald(false);
  try {
    const { herald } = bench;
    const resourceIds = await seedCatalog(herald, 20, {
      durationMinutes: 60,
      seatsPerSlot: 1,
      slotIntervalMinutes: 30,
    });
    // A busy month: four bookings per resource and weekday (1,760 of 9,460 slot starts become unbookable).
    const seedStarted = performance.now();
    let seeded = 0;
    for (const date of JUNE_WEEKDAYS) {
      await Promise.all(
        resourceIds.flatMap((resourceId) =>
          ['08:00', '11:00', '14:00', '17:00'].map(async (time) => {
            const status = await post(herald, '/v1/reservations', booking(`${date}T${time}:00+02:00`, { resourceId }));
            if (status === 201) seeded++;
          }),
        ),
      );
    }
    const seedMs = performance.now() - seedStarted;
    await herald.settle(120_000);
    log(`  seeded ${seeded} bookings in ${(seedMs / 1000).toFixed(1)} s`);

    const month = `serviceId=svc&from=${encodeURIComponent('2030-06-01T00:00:00+02:00')}&to=${encodeURIComponent('2030-07-01T00:00:00+02:00')}`;
    const query = async (url: string) => {
      const response = await herald.app.inject({ method: 'GET', url, headers: auth });
      if (response.statusCode !== 200) throw new Error(response.body);
      return (response.json() as { slots: unknown[] }).slots.length;
    };
    const slots = await query(`/v1/availability?${month}`);
    const measure = async (url: string, iterations: number) => {
      for (let warm = 0; warm < 3; warm++) await query(url);
      const durations: number[] = [];
      const started = performance.now();
      for (let index = 0; index < iterations; index++) {
        const one = performance.now();
        await query(url);
        durations.push(performance.now() - one);
      }
      const seconds = (performance.now() - started) / 1000;
      durations.sort((a, b) => a - b);
      return { qps: iterations / seconds, p50: percentile(durations, 50), p95: percentile(durations, 95) };
    };
    const all = await measure(`/v1/availability?${month}`, Math.max(5, Math.round(40 * scale)));
    const one = await measure(`/v1/availability?${month}&resourceId=r0`, Math.max(10, Math.round(200 * scale)));
    return [
      {
        name: 'availability: month, 20 resources (all)',
        value: all.qps,
        unit: 'queries/s',
        detail: `${slots} slots per answer, p50 ${all.p50.toFixed(1)} ms, p95 ${all.p95.toFixed(1)} ms`,
      },
      {
        name: 'availability: month, one resource of 20',
        value: one.qps,
        unit: 'queries/s',
        detail: `p50 ${one.p50.toFixed(1)} ms, p95 ${one.p95.toFixed(1)} ms`,
      },
      { name: 'seeding: bookings through the API (40 in flight)', value: seeded / (seedMs / 1000), unit: 'bookings/s' },
    ];
  } finally {
    await bench.stop();
  }
}

/** `total` bookings, `concurrency` in flight at a time, all for one slot or each for its own slot. */
async function bookings(
  shape: 'one slot' | 'spread',
  latency: boolean,
  total: number,
  concurrency: number,
): Promise<BenchResult> {
  const bench = await startHerald(latency);
  try {
    const { herald } = bench;
    const resourceIds = await seedCatalog(
      herald,
      20,
      shape === 'one slot'
        ? { durationMinutes: 60, seatsPerSlot: total, maxPartySize: 1 }
        : { durationMinutes: 60, seatsPerSlot: 1 },
    );
    const targets = Array.from({ length: total }, (_, index) => {
      if (shape === 'one slot') return booking('2030-06-03T10:00:00+02:00', { resourceId: 'r0' });
      const resourceId = resourceIds[index % resourceIds.length] ?? 'r0';
      const slot = Math.floor(index / resourceIds.length);
      const date = JUNE_WEEKDAYS[slot % JUNE_WEEKDAYS.length] ?? '2030-06-03';
      const hour = 8 + Math.floor(slot / JUNE_WEEKDAYS.length);
      return booking(`${date}T${String(hour).padStart(2, '0')}:00:00+02:00`, { resourceId });
    });
    const conflictsBefore = bench.conflicts();
    const started = performance.now();
    let created = 0;
    const statuses = new Map<number, number>();
    for (let offset = 0; offset < targets.length; offset += concurrency) {
      const wave = targets.slice(offset, offset + concurrency);
      const results = await Promise.all(wave.map((payload) => post(herald, '/v1/reservations', payload)));
      for (const status of results) {
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status === 201) created++;
      }
    }
    const seconds = (performance.now() - started) / 1000;
    const refused = [...statuses].filter(([status]) => status !== 201).map(([status, count]) => `${count}x${status}`);
    return {
      name: `bookings: ${shape}, ${concurrency} in flight${latency ? ', 0-2 ms store latency' : ''}`,
      value: created / seconds,
      unit: 'bookings/s',
      detail: `${created}/${total} booked in ${seconds.toFixed(2)} s, ${bench.conflicts() - conflictsBefore} version conflicts retried${refused.length ? `, refused ${refused.join(' ')}` : ''}`,
    };
  } finally {
    await bench.stop();
  }
}

export async function runBookingBench(options: BookingBenchOptions = {}): Promise<BenchResult[]> {
  const scale = options.scale ?? 1;
  const log = options.log ?? (() => undefined);
  const results: BenchResult[] = [];
  const report = (result: BenchResult) => {
    results.push(result);
    log(`  ${result.name}: ${result.value.toFixed(1)} ${result.unit}${result.detail ? ` (${result.detail})` : ''}`);
  };
  log('availability');
  for (const result of await availabilityMonth(scale, log)) report(result);
  log('bookings');
  const total = Math.max(40, Math.round(400 * scale));
  for (const latency of [false, true]) {
    report(await bookings('one slot', latency, total, 40));
    report(await bookings('spread', latency, total, 40));
  }
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const scale = Number(process.env.BENCH_SCALE ?? '1');
  console.log(`booking benchmark (node ${process.version}, scale ${scale})`);
  runBookingBench({ scale, log: (line) => console.log(line) }).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
