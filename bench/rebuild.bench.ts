import { spawn } from 'node:child_process';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { RecordedEvent } from '../src/application/ports/event-store.port.js';
import { loadConfig } from '../src/infrastructure/config.js';
import { createSqliteEventStore } from '../src/infrastructure/sqlite/sqlite-event-store.js';
import { systemClock } from '../src/infrastructure/system-clock.js';
import { createAdapters } from '../src/interfaces/adapters.js';
import { createHerald } from '../src/interfaces/herald.js';
import { silentLogger } from '../test/support/silent-logger.js';

/**
 * Projection rebuild and verification from a generated log (issue 11, item 4): target ≥ 50 000 events/s on the
 * embedded stores from 1M events, and the peak RSS of the command.
 *
 * The log is realistic by construction: a real Herald (embedded, outbox senders) does one "day" of business through
 * its API — reservations recorded and cancelled, a catalog booking, a waitlist whose freed seat is offered, every
 * confirmation and offer delivered — and that day's per-customer streams (reservations, deliveries, waitlists,
 * seat inventories, credits) are copied with fresh ids until the log holds the wanted number of events; catalog,
 * tenant, key and settings streams stay single. The copies are written straight into `events.sqlite` (the event
 * store's own schema) in large transactions: generating the data is not what is measured.
 *
 * Measured, in this order: the baseline (reading and parsing the whole log with `readAll`, nothing projected: the
 * floor any rebuild pays), `npm run rebuild` as a child process (events/s and its peak RSS, from its --json output),
 * then `npm run rebuild -- --verify` against the rebuilt store installed as the live one.
 */

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const KEY = 'bench-rebuild-admin-key-0123456789';

export interface RebuildBenchResult {
  readonly events: number;
  readonly readEventsPerSecond: number;
  readonly rebuildEventsPerSecond: number;
  readonly rebuildSeconds: number;
  readonly rebuildPeakRssMiB: number;
  /** CPU seconds of the rebuild command (start-up included): comparable across runs on a shared machine. */
  readonly rebuildCpuSeconds: number;
  readonly verifySeconds: number;
  readonly verifyPeakRssMiB: number;
  readonly verifyDifferences: number;
  readonly documents: number;
}

/** One business day through the API; returns the log it produced. */
async function seedDay(dataDir: string): Promise<RecordedEvent[]> {
  const config = loadConfig({ DATA_DIR: dataDir, BOOTSTRAP_API_KEY: KEY, LOG_LEVEL: 'silent' });
  const logger = silentLogger();
  const adapters = await createAdapters(config, logger, systemClock);
  const herald = await createHerald({ config, adapters, logger });
  await herald.start();
  const call = async (method: 'GET' | 'POST', url: string, payload?: object) => {
    const response = await herald.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${KEY}` },
      ...(payload ? { payload } : {}),
    });
    if (response.statusCode >= 300) throw new Error(`${method} ${url}: ${response.statusCode} ${response.body}`);
    return response.json() as Record<string, unknown>;
  };
  try {
    const hours = [{ start: '08:00', end: '20:00' }];
    const week = { monday: hours, tuesday: hours, wednesday: hours, thursday: hours, friday: hours };
    await call('POST', '/v1/locations', {
      locationId: 'loc',
      name: 'Wellness Praha',
      address: { street: 'Vodičkova 1', postalCode: '11000', city: 'Praha', country: 'CZ' },
      timeZone: 'Europe/Prague',
    });
    await call('POST', '/v1/resources', {
      resourceId: 'room',
      locationId: 'loc',
      name: 'Room',
      kind: 'room',
      weeklyHours: week,
    });
    await call('POST', '/v1/services', {
      serviceId: 'class',
      locationId: 'loc',
      name: 'Yoga',
      durationMinutes: 60,
      seatsPerSlot: 1,
      maxPartySize: 1,
      resourceIds: ['room'],
    });
    const customer = (n: number) => ({
      id: `c-${n}`,
      name: `Customer ${n}`,
      email: `customer-${n}@example.com`,
      phone: `+4207771${String(n).padStart(5, '0')}`,
      locale: n % 2 ? 'cs' : 'en',
    });
    for (let n = 1; n <= 6; n++) {
      await call('POST', '/v1/reservations', {
        reservationId: `ext-${n}`,
        customer: customer(n),
        serviceName: 'Sauna',
        location: { name: 'Wellness Praha', address: 'Vodičkova 1, Praha', timeZone: 'Europe/Prague' },
        start: `2031-05-0${n}T15:00:00Z`,
        end: `2031-05-0${n}T16:00:00Z`,
        partySize: 1 + (n % 3),
      });
    }
    await call('POST', '/v1/reservations/ext-2/cancel', { by: 'customer', reason: 'ill' });
    await call('POST', '/v1/reservations/ext-3/payments', {
      paymentId: 'pay-3',
      amount: 450,
      currency: 'CZK',
    }).catch(() => undefined);
    const start = '2031-05-05T10:00:00+02:00';
    const booked = await call('POST', '/v1/reservations', { serviceId: 'class', start, customer: customer(7) });
    await call('POST', `/v1/reservations/${String(booked.reservationId)}/confirm`).catch(() => undefined);
    await call('POST', '/v1/waitlists/entries', { serviceId: 'class', start, customer: customer(8) });
    await call('POST', '/v1/waitlists/entries', { serviceId: 'class', start, customer: customer(9) });
    await call('POST', `/v1/reservations/${String(booked.reservationId)}/cancel`, { by: 'staff', reason: 'moved' });
    await herald.settle(60_000);
    return await adapters.eventStore.readAll({});
  } finally {
    await herald.stop();
  }
}

/** Streams that exist once per tenant or catalog entity (not per customer): kept single in the generated log. */
const SINGLE =
  /^(tenant|apikey|location|resource|service|notification-settings|waitlist-settings|workflows|idempotency)/;

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/** Writes `events` generated events into `file` (a fresh embedded event store). */
function generateLog(day: readonly RecordedEvent[], file: string, events: number): number {
  createSqliteEventStore({ filename: file })
    .close()
    .catch(() => undefined);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const insert = db.prepare(
    `INSERT INTO events (stream_name, revision, id, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const single = day.filter((event) => SINGLE.test(event.streamName));
  const perCustomer = day.filter((event) => !SINGLE.test(event.streamName));
  // Every id that makes a per-customer stream (or event) unique gets a suffix per copy.
  const ids = new Set<string>();
  for (const event of perCustomer) {
    ids.add(event.id);
    const dash = event.streamName.indexOf('-');
    const entity = event.streamName.slice(dash + 1);
    ids.add(entity);
    // The ids of reservations, deliveries and waitlists also appear in payloads (`reservationId: 'ext-1'`).
    if (/^(reservation|notification|waitlist)-/.test(event.streamName)) {
      for (const part of entity.split('+').slice(1)) if (part.length >= 3) ids.add(part);
    }
    // Generated ids inside the payloads (entries, offers, holds, notifications): UUIDs.
    JSON.stringify([event.data, event.metadata]).replace(UUID, (id) => (ids.add(id), id));
  }
  const pattern = new RegExp(
    [...ids]
      .sort((a, b) => b.length - a.length)
      .map((id) => id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('|'),
    'g',
  );
  const templates = perCustomer.map((event) =>
    JSON.stringify([
      event.streamName,
      Number(event.revision),
      event.id,
      event.type,
      event.data,
      event.metadata,
      event.recordedAt,
    ]),
  );
  let written = 0;
  const write = db.transaction((rows: readonly string[]) => {
    for (const row of rows) {
      const [stream, revision, id, type, data, metadata, recordedAt] = JSON.parse(row) as [
        string,
        number,
        string,
        string,
        unknown,
        unknown,
        string,
      ];
      insert.run(stream, revision, id, type, JSON.stringify(data), JSON.stringify(metadata), recordedAt);
    }
  });
  write(
    single.map((event) =>
      JSON.stringify([
        event.streamName,
        Number(event.revision),
        event.id,
        event.type,
        event.data,
        event.metadata,
        event.recordedAt,
      ]),
    ),
  );
  written += single.length;
  for (let copy = 0; written < events; copy++) {
    const rows = templates
      .slice(0, Math.min(templates.length, events - written))
      .map((template) => template.replace(pattern, (id) => `${id}~${copy}`));
    write(rows);
    written += rows.length;
  }
  db.close();
  return written;
}

interface CommandResult {
  readonly code: number | null;
  readonly json: Record<string, unknown>;
}

function runRebuild(args: readonly string[], dataDir: string, log: (line: string) => void): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/interfaces/cli/rebuild-main.ts', '--json', ...args],
      {
        cwd: REPO_ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATA_DIR: dataDir },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) if (line.trim()) log(`  ${line}`);
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      try {
        resolve({ code, json: JSON.parse(stdout) as Record<string, unknown> });
      } catch {
        reject(new Error(`rebuild ${args.join(' ')} exited ${code} without a JSON result`));
      }
    });
  });
}

export async function rebuildBench(options: {
  events: number;
  log: (line: string) => void;
}): Promise<RebuildBenchResult> {
  const { log } = options;
  const seedDir = await mkdtemp(join(tmpdir(), 'herald-bench-seed-'));
  const dataDir = await mkdtemp(join(tmpdir(), 'herald-bench-rebuild-'));
  try {
    log('seeding one business day through the API ...');
    const day = await seedDay(seedDir);
    const types = new Map<string, number>();
    for (const event of day) types.set(event.type, (types.get(event.type) ?? 0) + 1);
    log(`  ${day.length} events of ${types.size} types`);
    log(`generating ${options.events.toLocaleString('en')} events ...`);
    const events = generateLog(day, join(dataDir, 'events.sqlite'), options.events);

    // Baseline: read and parse the whole log in the rebuild's batch size, nothing projected.
    const eventStore = createSqliteEventStore({ filename: join(dataDir, 'events.sqlite') });
    const readStarted = performance.now();
    let read = 0;
    for (let after = -1n; ;) {
      const batch = await eventStore.readAll({ after, limit: 5_000 });
      if (batch.length === 0) break;
      read += batch.length;
      after = batch.at(-1)!.position;
    }
    const readSeconds = (performance.now() - readStarted) / 1000;
    await eventStore.close();
    log(`baseline: read ${read.toLocaleString('en')} events in ${readSeconds.toFixed(1)} s`);

    log('npm run rebuild ...');
    const target = join(dataDir, 'rebuilt.sqlite');
    const rebuilt = await runRebuild(['--target', target], dataDir, log);
    if (rebuilt.code !== 0) throw new Error(`rebuild exited ${rebuilt.code}`);
    // Installed as the live store (Herald is not running: the swap docs/operations.md describes).
    await rename(target, join(dataDir, 'read-models.sqlite'));
    for (const suffix of ['-wal', '-shm']) await rm(`${target}${suffix}`, { force: true });
    log('npm run rebuild -- --verify (against the rebuilt store as the live one) ...');
    const verified = await runRebuild(['--verify'], dataDir, log);
    const documents = (verified.json.collections as { compared: number }[] | undefined)?.reduce(
      (n, c) => n + c.compared,
      0,
    );
    return {
      events,
      readEventsPerSecond: Math.round(read / readSeconds),
      rebuildEventsPerSecond: Number(rebuilt.json.eventsPerSecond),
      rebuildSeconds: Number(rebuilt.json.seconds),
      rebuildPeakRssMiB: Number(rebuilt.json.peakRssMiB),
      rebuildCpuSeconds: Number(rebuilt.json.cpuSeconds),
      verifySeconds: Number(verified.json.seconds),
      verifyPeakRssMiB: Number(verified.json.peakRssMiB),
      verifyDifferences: Number(verified.json.differences),
      documents: documents ?? 0,
    };
  } finally {
    await rm(seedDir, { recursive: true, force: true });
    if (process.env.BENCH_KEEP_DATA) log(`kept ${dataDir}`);
    else await rm(dataDir, { recursive: true, force: true });
  }
}

export const REBUILD_TARGET_EVENTS_PER_SECOND = 50_000;

export function rebuildSection(result: RebuildBenchResult): string {
  const ratio = result.rebuildEventsPerSecond / result.readEventsPerSecond;
  return [
    `### Projection rebuild (bench/rebuild.bench.ts) — ${result.events.toLocaleString('en')} generated events, embedded`,
    '',
    '| measure | target | measured | detail |',
    '|---|---:|---:|---|',
    `| rebuild rate (\`npm run rebuild\`) | ≥ ${REBUILD_TARGET_EVENTS_PER_SECOND.toLocaleString('en')} events/s | ${result.rebuildEventsPerSecond.toLocaleString('en')} events/s | ${result.rebuildSeconds.toFixed(1)} s; ${(ratio * 100).toFixed(0)} % of the baseline |`,
    `| rebuild per CPU second | — | ${Math.round(result.events / result.rebuildCpuSeconds).toLocaleString('en')} events/CPU-s | ${result.rebuildCpuSeconds.toFixed(1)} CPU-s (start-up included); the wall-clock rate on an idle core |`,
    `| baseline: read and parse the log | — | ${result.readEventsPerSecond.toLocaleString('en')} events/s | readAll in batches of 5000, nothing projected |`,
    `| rebuild peak RSS | documented bound 512 MiB | ${result.rebuildPeakRssMiB} MiB | the command's maxRSS |`,
    `| \`--verify\` (rebuild + compare) | — | ${result.verifySeconds.toFixed(1)} s rebuild + compare | ${result.documents.toLocaleString('en')} documents, ${result.verifyDifferences} differences, peak RSS ${result.verifyPeakRssMiB} MiB |`,
  ].join('\n');
}

// `npx tsx bench/rebuild.bench.ts [events]` runs it alone.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const events = Number(process.argv[2] ?? 1_000_000);
  const result = await rebuildBench({ events, log: (line) => console.error(line) });
  console.log(rebuildSection(result));
}
