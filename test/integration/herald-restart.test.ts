import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EmailSender } from '../../src/application/ports/email-sender.port.js';
import type { EventStore } from '../../src/application/ports/event-store.port.js';
import type { SmsSender } from '../../src/application/ports/sms-sender.port.js';
import { CHECKPOINTS } from '../../src/application/subscriptions/checkpointed-subscriber.js';
import { loadConfig } from '../../src/infrastructure/config.js';
import { createSqliteReadModelStore } from '../../src/infrastructure/sqlite/sqlite-read-model-store.js';
import { systemClock } from '../../src/infrastructure/system-clock.js';
import { createAdapters } from '../../src/interfaces/adapters.js';
import { createHerald, type Herald } from '../../src/interfaces/herald.js';
import { API_KEY, AUTH, reservationRequest } from '../support/herald-harness.js';
import { silentLogger } from '../support/silent-logger.js';

/**
 * Issue 2 acceptance: the embedded mode (SQLite files and the outbox under DATA_DIR) survives a stop and a start.
 * Breaks when: the reservation or its audit trail is gone after the restart, or anything is sent again — counted at
 * the senders of the second instance and by the outbox files (a re-send would rewrite a file with a new Date /
 * acceptedAt, since the file name is the idempotency key).
 */

const dirs: string[] = [];
const running: Herald[] = [];
afterEach(async () => {
  for (const herald of running.splice(0)) await herald.stop().catch(() => undefined);
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

interface Counted {
  email: number;
  sms: number;
  /** Where each consumer's subscription started (`after`), undefined = from the beginning of the log. */
  subscribedAfter: (bigint | undefined)[];
}

/** A Herald exactly as main.ts builds it for DATA_DIR, with the senders counted. */
async function startHerald(dataDir: string) {
  const counted: Counted = { email: 0, sms: 0, subscribedAfter: [] };
  const logger = silentLogger();
  const config = loadConfig({ DATA_DIR: dataDir, BOOTSTRAP_API_KEY: API_KEY, NODE_ENV: 'test' });
  const adapters = await createAdapters(config, logger, systemClock);
  const email: EmailSender = { ...adapters.email, send: (m) => (counted.email++, adapters.email.send(m)) };
  const sms: SmsSender = { ...adapters.sms, send: (m) => (counted.sms++, adapters.sms.send(m)) };
  const eventStore: EventStore = {
    ...adapters.eventStore,
    subscribeToAll: (options) => (
      counted.subscribedAfter.push(options?.after),
      adapters.eventStore.subscribeToAll(options)
    ),
  };
  const herald = await createHerald({ config, adapters: { ...adapters, eventStore, email, sms }, logger });
  running.push(herald);
  await herald.start();
  return { herald, counted, logger };
}

async function stop(herald: Herald) {
  running.splice(running.indexOf(herald), 1);
  await herald.stop();
}

/** Every outbox file with its bytes: a re-send rewrites the file with a new Date header / acceptedAt. */
async function outbox(dataDir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const channel of ['email', 'sms']) {
    const dir = join(dataDir, 'outbox', channel);
    const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => !n.endsWith('.tmp'));
    for (const name of names) files[`${channel}/${name}`] = await readFile(join(dir, name), 'utf8');
  }
  return files;
}

describe('Herald restart on the same DATA_DIR (embedded mode)', () => {
  const scenario = async (loseCheckpoints: boolean) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'herald-restart-'));
    dirs.push(dataDir);

    const first = await startHerald(dataDir);
    const created = await first.herald.app.inject({
      method: 'POST',
      url: '/v1/reservations',
      headers: AUTH,
      payload: reservationRequest({ external: { system: 'pos', reference: 'table-7' } }),
    });
    expect(created.statusCode, created.body).toBe(201);
    const { reservationId } = created.json<{ reservationId: string }>();
    await first.herald.settle();
    expect(first.counted).toMatchObject({ email: 1, sms: 1 });
    const sentFiles = await outbox(dataDir);
    expect(Object.keys(sentFiles).filter((f) => f.startsWith('email/'))).toHaveLength(1);
    expect(Object.keys(sentFiles).filter((f) => f.startsWith('sms/'))).toHaveLength(1);
    const auditBefore = (
      await first.herald.app.inject({ url: `/v1/reservations/${reservationId}/notifications`, headers: AUTH })
    ).json<{ items: { status: string }[] }>().items;
    expect(auditBefore.map((d) => d.status)).toEqual(['sent', 'sent']);
    await stop(first.herald);
    if (loseCheckpoints) {
      // As after a crash before any checkpoint was stored: every consumer replays the whole log on the next start.
      const readModels = createSqliteReadModelStore({ filename: join(dataDir, 'read-models.sqlite') });
      await readModels.dropCollection(CHECKPOINTS);
      await readModels.close();
    }

    const second = await startHerald(dataDir);
    await second.herald.settle();
    expect(second.counted.subscribedAfter.length).toBeGreaterThan(0);
    if (loseCheckpoints) expect(second.counted.subscribedAfter.every((after) => after === undefined)).toBe(true);
    else expect(second.counted.subscribedAfter.every((after) => after !== undefined)).toBe(true);

    const reservation = await second.herald.app.inject({ url: `/v1/reservations/${reservationId}`, headers: AUTH });
    expect(reservation.statusCode, reservation.body).toBe(200);
    expect(reservation.json()).toMatchObject({ reservationId, status: 'confirmed', serviceName: 'Dinner for two' });
    const audit = await second.herald.app.inject({
      url: `/v1/reservations/${reservationId}/notifications`,
      headers: AUTH,
    });
    expect(audit.statusCode).toBe(200);
    expect(audit.json<{ items: unknown[] }>().items).toEqual(auditBefore);

    // The same report from the booking system again is recognised, and still nothing is sent.
    const again = await second.herald.app.inject({
      method: 'POST',
      url: '/v1/reservations',
      headers: AUTH,
      payload: reservationRequest({ external: { system: 'pos', reference: 'table-7' } }),
    });
    expect(again.statusCode).toBe(200);
    await second.herald.settle();

    expect(second.counted).toMatchObject({ email: 0, sms: 0 });
    expect(await outbox(dataDir)).toEqual(sentFiles);
    expect(second.logger.errors).toEqual([]);
  };

  it('keeps the reservation and its notifications, and sends nothing a second time', () => scenario(false));

  it('sends nothing a second time even when every consumer replays the log from the start', () => scenario(true));
});

/** Deletes the read-model database, as docs/operations.md allows ("rebuildable"). */
async function deleteReadModels(dataDir: string): Promise<void> {
  for (const suffix of ['', '-wal', '-shm']) await rm(join(dataDir, `read-models.sqlite${suffix}`), { force: true });
}

describe('Herald restart after the read models were deleted (issue 8)', () => {
  it('replays a retried POST from its Idempotency-Key, sends nothing twice, and every key still works', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'herald-rebuild-'));
    dirs.push(dataDir);
    const first = await startHerald(dataDir);
    const inject = (
      herald: Herald,
      method: 'GET' | 'POST' | 'DELETE',
      url: string,
      headers: object,
      payload?: object,
    ) =>
      herald.app.inject({ method, url, headers: headers as Record<string, string>, ...(payload ? { payload } : {}) });

    // A second tenant and its keys, created over the API: the operator (bootstrap key) issues the first admin key.
    expect(
      (
        await inject(first.herald, 'POST', '/v1/tenants', AUTH, {
          tenantId: 'north',
          name: 'North',
          sender: { name: 'North', address: 'booking@north.test' },
        })
      ).statusCode,
    ).toBe(201);
    const adminKey = await inject(first.herald, 'POST', '/v1/tenants/north/api-keys', AUTH, {
      name: 'a',
      role: 'admin',
    });
    const admin = { authorization: `Bearer ${adminKey.json<{ secret: string }>().secret}` };
    const staffKey = await inject(first.herald, 'POST', '/v1/api-keys', admin, { name: 'desk', role: 'staff' });
    const staff = { authorization: `Bearer ${staffKey.json<{ secret: string }>().secret}` };
    const revokedKey = await inject(first.herald, 'POST', '/v1/api-keys', admin, { name: 'old', role: 'staff' });
    const revoked = revokedKey.json<{ keyId: string; secret: string }>();
    expect((await inject(first.herald, 'DELETE', `/v1/api-keys/${revoked.keyId}`, admin)).statusCode).toBe(200);

    const post = (herald: Herald) =>
      inject(herald, 'POST', '/v1/reservations', { ...staff, 'idempotency-key': 'booking-42' }, reservationRequest());
    const created = await post(first.herald);
    expect(created.statusCode, created.body).toBe(201);
    await first.herald.settle();
    expect(first.counted).toMatchObject({ email: 1, sms: 1 });
    const eventsBefore = (await first.herald.adapters.eventStore.readAll({ limit: 1_000_000 })).length;
    await stop(first.herald);

    await deleteReadModels(dataDir);
    const second = await startHerald(dataDir);
    const retried = await post(second.herald);
    expect(retried.statusCode).toBe(201);
    expect(retried.headers['idempotent-replayed']).toBe('true');
    expect(retried.json()).toEqual(created.json());
    expect(retried.headers.location).toBe(created.headers.location);
    await second.herald.settle();
    expect(second.counted).toMatchObject({ email: 0, sms: 0 });
    expect((await second.herald.adapters.eventStore.readAll({ limit: 1_000_000 })).length).toBe(eventsBefore);

    // Keys created over the API work again, the revoked one stays revoked, the bootstrap key too.
    expect((await inject(second.herald, 'GET', '/v1/api-keys', admin)).statusCode).toBe(200);
    const reservationId = created.json<{ reservationId: string }>().reservationId;
    expect((await inject(second.herald, 'GET', `/v1/reservations/${reservationId}`, staff)).statusCode).toBe(200);
    const gone = { authorization: `Bearer ${revoked.secret}` };
    expect((await inject(second.herald, 'GET', `/v1/reservations/${reservationId}`, gone)).statusCode).toBe(401);
    expect((await inject(second.herald, 'GET', '/v1/tenants', AUTH)).statusCode).toBe(200);
    expect(second.logger.errors).toEqual([]);
  });
});
