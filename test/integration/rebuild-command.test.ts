import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePosition } from '../../src/application/ports/read-model-store.port.js';
import { physicalCollection } from '../../src/application/projections/projection.js';
import { reservationDetailsProjection } from '../../src/application/projections/reservation-details.projection.js';
import { waitlistEntriesProjection } from '../../src/application/projections/waitlist-entries.projection.js';
import { createMongoReadModelStore } from '../../src/infrastructure/mongodb/mongo-read-model-store.js';
import { createSqliteReadModelStore } from '../../src/infrastructure/sqlite/sqlite-read-model-store.js';
import { runRebuildCommand } from '../../src/interfaces/cli/rebuild.js';
import { startHeraldProcess } from '../support/herald-process.js';
import { dropDatabase, mongoUnavailableReason, mongoUrlForTests, uniqueDatabaseName } from '../support/mongo.js';

/**
 * `npm run rebuild` as operators run it: a child process with Herald's settings, against the data a real Herald
 * process left behind (reservations, cancellations, a waitlist with an offer, deliveries through the outbox).
 */

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const KEY = 'rebuild-test-admin-key-0123456789';
const RESERVATIONS = physicalCollection(reservationDetailsProjection);

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function rebuild(args: readonly string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/interfaces/cli/rebuild-main.ts', ...args], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A Herald process on `env` does some business through its API, catches up, and stops (checkpoints stored). */
async function businessDay(env: Record<string, string>): Promise<string[]> {
  const herald = await startHeraldProcess({ env: { ...env, BOOTSTRAP_API_KEY: KEY } });
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${herald.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  };
  try {
    const ids: string[] = [];
    for (let i = 1; i <= 4; i++) {
      const created = await call('POST', '/v1/reservations', {
        reservationId: `rb-${i}`,
        customer: { name: `Guest ${i}`, email: `guest-${i}@example.com`, phone: `+42077712345${i}`, locale: 'en' },
        serviceName: 'Sauna',
        location: { name: 'Wellness', address: 'Street 1, Praha', timeZone: 'Europe/Prague' },
        start: `2031-01-0${i}T17:00:00Z`,
        end: `2031-01-0${i}T18:00:00Z`,
      });
      ids.push(String(created.reservationId));
    }
    await call('POST', '/v1/reservations/rb-2/cancel', { by: 'customer' });
    // A waitlist: a one-seat class, booked, someone waiting, the seat freed: an offer goes out.
    const hours = [{ start: '09:00', end: '17:00' }];
    await call('POST', '/v1/locations', {
      locationId: 'rb-loc',
      name: 'Pool',
      address: { street: 'Street 2', postalCode: '11000', city: 'Praha', country: 'CZ' },
      timeZone: 'Europe/Prague',
    });
    await call('POST', '/v1/resources', {
      resourceId: 'rb-lane',
      locationId: 'rb-loc',
      name: 'Lane',
      kind: 'room',
      weeklyHours: { monday: hours, tuesday: hours, wednesday: hours, thursday: hours, friday: hours },
    });
    await call('POST', '/v1/services', {
      serviceId: 'rb-swim',
      locationId: 'rb-loc',
      name: 'Swim',
      durationMinutes: 60,
      seatsPerSlot: 1,
      maxPartySize: 1,
      resourceIds: ['rb-lane'],
    });
    const start = '2031-03-03T10:00:00+01:00';
    const booked = await call('POST', '/v1/reservations', {
      serviceId: 'rb-swim',
      start,
      customer: { name: 'Swimmer', email: 'swimmer@example.com', locale: 'en' },
    });
    await call('POST', '/v1/waitlists/entries', {
      serviceId: 'rb-swim',
      start,
      customer: { name: 'Waiting', email: 'waiting@example.com', phone: '+420777000111', locale: 'en' },
    });
    await call('POST', `/v1/reservations/${String(booked.reservationId)}/cancel`, { by: 'customer' });
    // Caught up: every projection and process manager has handled the whole log (waits on checkpoints).
    for (let ready = false; !ready;) {
      ready = (await fetch(`${herald.url}/health/ready`)).status === 200;
      if (!ready) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return ids;
  } finally {
    await herald.stop();
  }
}

describe('npm run rebuild (embedded)', () => {
  let dataDir: string;
  const env = () => ({ DATA_DIR: dataDir });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'herald-rebuild-'));
    await businessDay(env());
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('--verify finds the live read models to be what the events produce, and leaves no temporary store', async () => {
    const run = await rebuild(['--verify', '--json'], env());
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as {
      differences: number;
      events: number;
      collections: { collection: string; compared: number; rebuiltDigest: string; liveDigest: string }[];
    };
    expect(result.differences).toBe(0);
    expect(result.events).toBeGreaterThan(30);
    const byName = Object.fromEntries(result.collections.map((c) => [c.collection, c]));
    expect(byName[RESERVATIONS]!.compared).toBe(5);
    expect(byName[physicalCollection(waitlistEntriesProjection)]!.compared).toBe(1);
    expect(byName['deliveries_v1']!.compared).toBeGreaterThan(8);
    for (const report of result.collections) expect(report.rebuiltDigest).toBe(report.liveDigest);
    expect(run.stderr).toContain('verify: no difference');
    expect(existsSync(join(dataDir, 'read-models.sqlite'))).toBe(true);
    const leftovers = readdirSync(dataDir).filter((f) => f.includes('verify'));
    expect(leftovers).toEqual([]);
  });

  it('--verify names the collection, document and field of a live document that the events do not produce', async () => {
    const live = createSqliteReadModelStore({ filename: join(dataDir, 'read-models.sqlite') });
    const original = (await live.get<{ _id: string; status: string }>(RESERVATIONS, 'default:rb-3'))!;
    try {
      // Tampered with in place (same position), and one document lost.
      await live.put(RESERVATIONS, { ...original, status: 'tampered', partySize: 99 });
      const lost = (await live.get<{ _id: string }>(RESERVATIONS, 'default:rb-4'))!;
      await live.delete(RESERVATIONS, 'default:rb-4');
      const run = await rebuild(['--verify'], env());
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toContain(`${RESERVATIONS} default:rb-3: fields partySize, status`);
      expect(run.stderr).toContain(`${RESERVATIONS} default:rb-4: missing in the live store`);
      expect(run.stderr).toMatch(/verify: 2 documents differ/);
      await live.put(RESERVATIONS, lost as never);
    } finally {
      await live.put(RESERVATIONS, original);
      await live.close();
    }
  });

  it('rebuilds into a fresh file Herald can start on: same documents, checkpoints at the head, process managers carried over', async () => {
    const target = join(dataDir, 'rebuilt.sqlite');
    const run = await rebuild(['--target', target, '--json'], env());
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as { rebuiltAt: string; carriedOver: { checkpoints: number } };
    expect(summary.carriedOver.checkpoints).toBeGreaterThanOrEqual(5);
    const rebuilt = createSqliteReadModelStore({ filename: target });
    const live = createSqliteReadModelStore({ filename: join(dataDir, 'read-models.sqlite') });
    try {
      expect(await rebuilt.get(RESERVATIONS, 'default:rb-2')).toEqual(await live.get(RESERVATIONS, 'default:rb-2'));
      expect(await rebuilt.get('checkpoints', 'projection:reservation-details:v1')).toMatchObject({
        position: encodePosition(BigInt(summary.rebuiltAt)),
      });
      const processManagers = await live.find<{ _id: string }>('checkpoints', {});
      for (const checkpoint of processManagers.filter((c) => !c._id.startsWith('projection:'))) {
        expect(await rebuilt.get('checkpoints', checkpoint._id)).toEqual(checkpoint);
      }
    } finally {
      await rebuilt.close();
      await live.close();
    }
    // Swapped in: Herald starts on it and answers from it.
    rmSync(join(dataDir, 'read-models.sqlite'));
    for (const suffix of ['-wal', '-shm']) rmSync(join(dataDir, `read-models.sqlite${suffix}`), { force: true });
    renameSync(target, join(dataDir, 'read-models.sqlite'));
    for (const suffix of ['-wal', '-shm']) rmSync(`${target}${suffix}`, { force: true });
    const herald = await startHeraldProcess({ env: { ...env(), BOOTSTRAP_API_KEY: KEY } });
    try {
      const list = await fetch(`${herald.url}/v1/reservations?status=cancelled`, {
        headers: { authorization: `Bearer ${KEY}` },
      });
      expect(list.status).toBe(200);
      const ids = ((await list.json()) as { items: { reservationId: string }[] }).items.map((r) => r.reservationId);
      expect(ids).toContain('rb-2');
    } finally {
      await herald.stop();
    }
    const again = await rebuild(['--verify'], env());
    expect(again.code, again.stderr).toBe(0);
    // Three child processes (two rebuilds and a Herald, each a tsx start-up): past the 30 s default on a loaded
    // 2-core machine, although each step finishes; the assertions are unchanged.
  }, 120_000);

  it('refuses what cannot work with a clear message and exit code', async () => {
    // The real entry point's exit code once; the other refusals in-process (the same function, faster).
    const unknownOption = await rebuild(['--verfy'], env());
    expect(unknownOption.code).toBe(2);
    expect(unknownOption.stderr).toMatch(/Unknown option '--verfy'/);
    const inProcess = async (args: string[], environment: Record<string, string>) => {
      let stdout = '';
      let stderr = '';
      const code = await runRebuildCommand(args, environment, {
        stdout: { write: (text: string) => (stdout += text) },
        stderr: { write: (text: string) => (stderr += text) },
      });
      return { code, stdout, stderr };
    };
    const badSetting = await inProcess([], { ...env(), PORT: 'eighty' });
    expect(badSetting.code).toBe(2);
    expect(badSetting.stderr).toContain('PORT: must be a whole number');
    expect((await inProcess(['--batch-size', '10'], env())).stderr).toContain('--batch-size must be a whole number');
    expect((await inProcess(['--keep'], env())).code).toBe(2);
    const intoLive = await inProcess(['--target', join(dataDir, 'read-models.sqlite')], env());
    expect(intoLive.code).toBe(2);
    expect(intoLive.stderr).toContain('is the live read-model file');
    const empty = mkdtempSync(join(tmpdir(), 'herald-rebuild-empty-'));
    try {
      const noEvents = await inProcess([], { DATA_DIR: empty });
      expect(noEvents.code).toBe(3);
      expect(noEvents.stderr).toContain(`no event store at ${join(empty, 'events.sqlite')}`);
      expect(existsSync(join(empty, 'events.sqlite'))).toBe(false);
      // An event store without read models: nothing to verify against (a rebuild is what it needs).
      for (const suffix of ['', '-wal', '-shm']) {
        const file = join(dataDir, `events.sqlite${suffix}`);
        if (existsSync(file)) copyFileSync(file, join(empty, `events.sqlite${suffix}`));
      }
      const nothingToVerify = await inProcess(['--verify'], { DATA_DIR: empty });
      expect(nothingToVerify.code).toBe(3);
      expect(nothingToVerify.stderr).toContain('no live read models to verify against');
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
    const help = await inProcess(['--help'], env());
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit codes');
  });
});

const mongoUrl = mongoUrlForTests();
describe.skipIf(!mongoUrl && process.env.CI !== 'true')(
  `npm run rebuild (MongoDB read models) ${mongoUrl ? '' : mongoUnavailableReason()}`,
  () => {
    let dataDir: string;
    const database = uniqueDatabaseName(import.meta.url);
    const env = () => ({ DATA_DIR: dataDir, MONGODB_URL: mongoUrl!, MONGODB_DATABASE: database });

    beforeAll(async () => {
      if (!mongoUrl) throw new Error(mongoUnavailableReason());
      dataDir = mkdtempSync(join(tmpdir(), 'herald-rebuild-mongo-'));
      await businessDay(env());
    });
    afterAll(async () => {
      rmSync(dataDir, { recursive: true, force: true });
      if (mongoUrl) {
        for (const name of [database, `${database.slice(0, 40)}_rb`]) await dropDatabase(mongoUrl, name);
      }
    });

    it('--verify compares the rebuilt database with the live one and drops the temporary database', async () => {
      const run = await rebuild(['--verify', '--json'], env());
      expect(run.code, run.stderr).toBe(0);
      expect((JSON.parse(run.stdout) as { differences: number }).differences).toBe(0);
    });

    it('names a tampered document, and rebuilds into an empty database of its own', async () => {
      const { MongoClient } = await import('mongodb');
      const client = await MongoClient.connect(mongoUrl!);
      try {
        const live = await createMongoReadModelStore({ db: client.db(database) });
        const original = (await live.get<{ _id: string; status: string }>(RESERVATIONS, 'default:rb-1'))!;
        await live.put(RESERVATIONS, { ...original, status: 'tampered' });
        const run = await rebuild(['--verify'], env());
        expect(run.code, run.stderr).toBe(1);
        expect(run.stderr).toContain(`${RESERVATIONS} default:rb-1: fields status`);
        await live.put(RESERVATIONS, original);

        const target = `${database.slice(0, 40)}_rb`;
        const rebuilt = await rebuild(['--target', target], env());
        expect(rebuilt.code, rebuilt.stderr).toBe(0);
        const store = await createMongoReadModelStore({ db: client.db(target) });
        expect(await store.get(RESERVATIONS, 'default:rb-1')).toEqual(original);
        const notEmpty = await rebuild(['--target', target], env());
        expect(notEmpty.code).toBe(3);
        expect(notEmpty.stderr).toContain('is not empty');
      } finally {
        await client.close();
      }
    });
  },
);
