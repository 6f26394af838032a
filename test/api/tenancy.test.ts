import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/application/ports/clock.port.js';
import type { RecordedEvent } from '../../src/application/ports/event-store.port.js';
import { keySecrets } from '../../src/infrastructure/auth/key-secrets.js';
import { createSqliteEventStore } from '../../src/infrastructure/sqlite/sqlite-event-store.js';
import { createSqliteReadModelStore } from '../../src/infrastructure/sqlite/sqlite-read-model-store.js';
import { aReservation, startTestHerald, TEST_ADMIN_KEY, type TestHerald } from '../support/test-herald.js';

// Tenants and API keys over the API: the operator (the bootstrap key here) creates tenants and their first keys,
// each tenant's admins manage their own keys. Every change is an event naming who did it.

const clock = { at: Date.parse('2030-01-01T09:00:00Z') };
const testClock: Clock = { now: () => new Date(clock.at) };
let herald: TestHerald;

beforeAll(async () => {
  herald = await startTestHerald({ clock: testClock });
});
afterAll(async () => {
  await herald.stop();
});

type Headers = Record<string, string>;
const bearer = (secret: string): Headers => ({ authorization: `Bearer ${secret}` });

function inject(method: 'GET' | 'POST' | 'DELETE', url: string, headers: Headers, payload?: unknown) {
  return herald.app.inject({ method, url, headers, ...(payload !== undefined ? { payload: payload as object } : {}) });
}

async function streamEvents(streamName: string): Promise<RecordedEvent[]> {
  return (await herald.adapters.eventStore.readStream(streamName)).events;
}

const tenantBody = (tenantId: string, overrides: Record<string, unknown> = {}) => ({
  tenantId,
  name: `Salon ${tenantId}`,
  defaultLocale: 'nb-NO',
  timeZone: 'Europe/Oslo',
  sender: { name: `Salon ${tenantId}`, address: `booking@${tenantId}.test` },
  ...overrides,
});

/** Creates a tenant as the operator and its first admin key; returns the key's headers and id. */
async function aTenantWithAdmin(tenantId: string): Promise<{ admin: Headers; keyId: string }> {
  const created = await inject('POST', '/v1/tenants', herald.auth, tenantBody(tenantId));
  expect(created.statusCode, created.body).toBe(201);
  const key = await inject('POST', `/v1/tenants/${tenantId}/api-keys`, herald.auth, { name: 'owner', role: 'admin' });
  expect(key.statusCode, key.body).toBe(201);
  return { admin: bearer(key.json().secret), keyId: key.json().keyId };
}

describe('tenants (operator)', () => {
  it('creates a tenant: 201 with Location and ETag, the same again 200, another profile under the id 409', async () => {
    const created = await inject('POST', '/v1/tenants', herald.auth, tenantBody('salon-a'));
    expect(created.statusCode, created.body).toBe(201);
    expect(created.headers.location).toBe('/v1/tenants/salon-a');
    expect(created.headers.etag).toBe('"0"');
    expect(created.json()).toMatchObject({
      tenantId: 'salon-a',
      name: 'Salon salon-a',
      defaultLocale: 'nb-NO',
      timeZone: 'Europe/Oslo',
      sender: { name: 'Salon salon-a', address: 'booking@salon-a.test' },
      status: 'active',
      deactivatedAt: null,
    });

    const again = await inject('POST', '/v1/tenants', herald.auth, tenantBody('salon-a'));
    expect(again.statusCode).toBe(200);
    const clash = await inject('POST', '/v1/tenants', herald.auth, tenantBody('salon-a', { name: 'Someone else' }));
    expect(clash.statusCode).toBe(409);
    expect(clash.headers['content-type']).toContain('application/problem+json');
    expect(clash.json().code).toBe('tenant-already-exists');

    const events = await streamEvents('tenant-salon-a');
    expect(events.map((e) => e.type)).toEqual(['TenantCreated']);
    // The bootstrap key acts as the operator; the event says which key did it.
    expect(events[0]!.metadata).toMatchObject({ tenantId: 'salon-a', actor: expect.stringMatching(/^apikey:/) });
    expect(events[0]!.data.actor).toBe(events[0]!.metadata.actor);
  });

  it('generates an id when none is given, and refuses bad fields with 400 naming them, recording nothing', async () => {
    const generated = await inject('POST', '/v1/tenants', herald.auth, {
      name: 'No id',
      sender: { name: 'No id', address: 'x@no-id.test' },
    });
    expect(generated.statusCode).toBe(201);
    expect(generated.json()).toMatchObject({ defaultLocale: 'en', timeZone: 'UTC' });
    expect(generated.json().tenantId).toMatch(/^[0-9a-f-]{36}$/);

    await herald.settle();
    const before = (await herald.adapters.eventStore.readAll({ limit: 1_000_000 })).length;
    const cases: [Record<string, unknown>, string][] = [
      [tenantBody('bad-1', { name: 'Salon \u202Egnp.exe' }), 'body.name'],
      [tenantBody('bad-2', { sender: { name: 'Salon\r\nBcc: x@evil.test', address: 'a@b.test' } }), 'body.sender.name'],
      [tenantBody('bad-3', { timeZone: 'Mars/Olympus' }), 'body.timeZone'],
      [tenantBody('bad+4'), 'body.tenantId'],
    ];
    for (const [body, field] of cases) {
      const response = await inject('POST', '/v1/tenants', herald.auth, body);
      expect(response.statusCode, field).toBe(400);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.json().errors.map((e: { field: string }) => e.field)).toContain(field);
    }
    await herald.settle();
    expect((await herald.adapters.eventStore.readAll({ limit: 1_000_000 })).length).toBe(before);
  });

  it('lists tenants and deactivates one: its keys stop working at once, its data stays', async () => {
    const { admin } = await aTenantWithAdmin('salon-gone');
    const reservation = await inject('POST', '/v1/reservations', admin, aReservation());
    expect(reservation.statusCode).toBe(201);

    const listed = await inject('GET', '/v1/tenants', herald.auth);
    expect(listed.statusCode).toBe(200);
    expect(listed.json().items.map((t: { tenantId: string }) => t.tenantId)).toEqual(
      expect.arrayContaining(['default', 'salon-gone']),
    );

    const deactivated = await inject('DELETE', '/v1/tenants/salon-gone?reason=contract%20ended', herald.auth);
    expect(deactivated.statusCode, deactivated.body).toBe(200);
    expect(deactivated.json()).toMatchObject({ status: 'deactivated', deactivatedAt: '2030-01-01T09:00:00.000Z' });
    expect((await inject('GET', '/v1/api-keys', admin)).statusCode).toBe(401);
    expect((await inject('DELETE', '/v1/tenants/salon-gone', herald.auth)).statusCode).toBe(200); // harmless again

    const active = (await inject('GET', '/v1/tenants', herald.auth)).json().items;
    expect(active.map((t: { tenantId: string }) => t.tenantId)).not.toContain('salon-gone');
    const all = (await inject('GET', '/v1/tenants?includeDeactivated=true', herald.auth)).json().items;
    expect(all.find((t: { tenantId: string }) => t.tenantId === 'salon-gone')).toMatchObject({ status: 'deactivated' });
    expect((await streamEvents('tenant-salon-gone')).map((e) => e.type)).toEqual([
      'TenantCreated',
      'TenantDeactivated',
    ]);
    const reservationId = reservation.json().reservationId as string;
    expect(await streamEvents(`reservation-salon-gone+${reservationId}`)).not.toHaveLength(0);

    const key = await inject('POST', '/v1/tenants/salon-gone/api-keys', herald.auth, { name: 'x', role: 'admin' });
    expect(key.statusCode).toBe(409);
    expect(key.json().code).toBe('tenant-deactivated');
    expect((await inject('GET', '/v1/tenants/nope', herald.auth)).statusCode).toBe(404);
  });

  it("gives the tenant's sender and locale to its messages until its admins change the settings", async () => {
    const { admin } = await aTenantWithAdmin('salon-i');
    const settings = await inject('GET', '/v1/settings/notifications', admin);
    expect(settings.json()).toMatchObject({
      sender: { name: 'Salon salon-i', address: 'booking@salon-i.test' },
      defaultLocale: 'nb-NO',
    });
    const created = await inject(
      'POST',
      '/v1/reservations',
      admin,
      aReservation({ start: '2030-12-02T17:00:00Z', end: '2030-12-02T18:00:00Z' }),
    );
    expect(created.statusCode).toBe(201);
    await herald.settle();
    const code = created.json().code as string;
    const email = herald.email.sent.find((m) => m.text.includes(code));
    expect(email?.from).toEqual({ name: 'Salon salon-i', address: 'booking@salon-i.test' });
  });

  it('the bootstrap key stays the operator even when tenant `default` is deactivated (no lock-out)', async () => {
    const own = await startTestHerald();
    try {
      expect(
        (await own.app.inject({ method: 'DELETE', url: '/v1/tenants/default', headers: own.auth })).statusCode,
      ).toBe(200);
      expect((await own.app.inject({ method: 'GET', url: '/v1/reservations', headers: own.auth })).statusCode).toBe(
        403,
      );
      expect((await own.app.inject({ method: 'GET', url: '/v1/tenants', headers: own.auth })).statusCode).toBe(200);
    } finally {
      await own.stop();
    }
  });

  it('is the operator’s: a tenant admin key gets 403 on the tenant routes', async () => {
    const { admin } = await aTenantWithAdmin('salon-b');
    for (const [method, url] of [
      ['GET', '/v1/tenants'],
      ['POST', '/v1/tenants'],
      ['GET', '/v1/tenants/salon-b'],
      ['DELETE', '/v1/tenants/salon-b'],
      ['POST', '/v1/tenants/salon-b/api-keys'],
    ] as const) {
      const response = await inject(method, url, admin, method === 'POST' ? tenantBody('salon-x') : undefined);
      expect(response.statusCode, `${method} ${url}`).toBe(403);
      expect(response.headers['content-type']).toContain('application/problem+json');
    }
    expect((await inject('GET', '/v1/tenants', {})).statusCode).toBe(401);
  });
});

describe('API keys (tenant admins)', () => {
  it('a new tenant’s admin creates keys (secret shown once, hash recorded), lists them with the creator', async () => {
    const { admin, keyId: adminKeyId } = await aTenantWithAdmin('salon-c');
    const created = await inject('POST', '/v1/api-keys', admin, { name: 'front desk', role: 'staff' });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    const { secret, keyId } = created.json();
    expect(secret).toMatch(/^hk_[A-Za-z0-9_-]{43}$/);
    expect(created.headers.location).toBe(`/v1/api-keys/${keyId}`);
    expect(created.json()).toMatchObject({
      name: 'front desk',
      role: 'staff',
      status: 'active',
      createdBy: `apikey:${adminKeyId}`,
      lastUsedAt: null,
    });

    const [event] = await streamEvents(`apikey-salon-c+${keyId}`);
    expect(event).toMatchObject({
      type: 'ApiKeyCreated',
      data: { keyId, tenantId: 'salon-c', role: 'staff', secretHash: keySecrets.hash(secret) },
      metadata: { tenantId: 'salon-c', actor: `apikey:${adminKeyId}` },
    });
    expect(JSON.stringify(event!.data)).not.toContain(secret);

    // The staff key works at once (inline projection), for what staff may do, and it is not an admin.
    const staff = bearer(secret);
    expect((await inject('POST', '/v1/reservations', staff, aReservation())).statusCode).toBe(201);
    expect((await inject('GET', '/v1/api-keys', staff)).statusCode).toBe(403);
    expect((await inject('POST', '/v1/api-keys', staff, { name: 'mine', role: 'admin' })).statusCode).toBe(403);

    const listed = await inject('GET', '/v1/api-keys', admin);
    expect(listed.statusCode).toBe(200);
    const items = listed.json().items as { keyId: string; name: string; createdBy: string; lastUsedAt: string }[];
    expect(items.map((k) => k.name).sort()).toEqual(['front desk', 'owner']);
    expect(JSON.stringify(listed.json())).not.toContain(secret);
    // Both were used just now; last use is kept to the minute.
    expect(items.every((k) => k.lastUsedAt === '2030-01-01T09:00:00.000Z')).toBe(true);
  });

  it('revokes a key: 401 on its next request, an event naming who revoked it; again is harmless', async () => {
    const { admin, keyId: adminKeyId } = await aTenantWithAdmin('salon-d');
    const { secret, keyId } = (
      await inject('POST', '/v1/api-keys', admin, { name: 'pos', role: 'integration' })
    ).json();
    expect((await inject('GET', `/v1/reservations/x`, bearer(secret))).statusCode).toBe(404);

    const revoked = await inject('DELETE', `/v1/api-keys/${keyId}?reason=leaked`, admin);
    expect(revoked.statusCode, revoked.body).toBe(200);
    expect(revoked.json()).toMatchObject({ status: 'revoked', revokedBy: `apikey:${adminKeyId}` });
    const refused = await inject('GET', '/v1/reservations/x', bearer(secret));
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect((await inject('DELETE', `/v1/api-keys/${keyId}`, admin)).statusCode).toBe(200);

    const events = await streamEvents(`apikey-salon-d+${keyId}`);
    expect(events.map((e) => [e.type, e.metadata.actor])).toEqual([
      ['ApiKeyCreated', `apikey:${adminKeyId}`],
      ['ApiKeyRevoked', `apikey:${adminKeyId}`],
    ]);
    expect(events[1]!.data.reason).toBe('leaked');

    const listed = (await inject('GET', '/v1/api-keys', admin)).json().items as { keyId: string }[];
    expect(listed.map((k) => k.keyId)).not.toContain(keyId);
    const all = (await inject('GET', '/v1/api-keys?includeRevoked=true', admin)).json().items as { keyId: string }[];
    expect(all.map((k) => k.keyId)).toContain(keyId);
  });

  it('rotates a key: old and new both work during the overlap, the old stops after it', async () => {
    const { admin } = await aTenantWithAdmin('salon-e');
    const old = (await inject('POST', '/v1/api-keys', admin, { name: 'booking system', role: 'integration' })).json();

    const rotated = await inject('POST', `/v1/api-keys/${old.keyId}/rotate`, admin, { overlapSeconds: 600 });
    expect(rotated.statusCode, rotated.body).toBe(201);
    const fresh = rotated.json();
    expect(fresh).toMatchObject({
      name: 'booking system',
      role: 'integration',
      status: 'active',
      rotatedFrom: old.keyId,
    });
    expect(fresh.secret).not.toBe(old.secret);
    expect(fresh.previous).toMatchObject({
      keyId: old.keyId,
      status: 'rotated',
      replacedBy: fresh.keyId,
      expiresAt: '2030-01-01T09:10:00.000Z',
    });
    expect((await streamEvents(`apikey-salon-e+${old.keyId}`)).map((e) => e.type)).toEqual([
      'ApiKeyCreated',
      'ApiKeyRotated',
    ]);

    const use = async (secret: string) => (await inject('GET', '/v1/reservations/x', bearer(secret))).statusCode;
    expect([await use(old.secret), await use(fresh.secret)]).toEqual([404, 404]);
    const again = await inject('POST', `/v1/api-keys/${old.keyId}/rotate`, admin, { overlapSeconds: 600 });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('api-key-already-rotated');

    const start = clock.at;
    try {
      clock.at = start + 600_000;
      expect([await use(old.secret), await use(fresh.secret)]).toEqual([401, 404]);
    } finally {
      clock.at = start;
    }
  });

  it('bounds the overlap (0 to 7 days) and refuses to rotate a revoked key, creating nothing', async () => {
    const { admin } = await aTenantWithAdmin('salon-f');
    const key = (await inject('POST', '/v1/api-keys', admin, { name: 'k', role: 'staff' })).json();
    const tooLong = await inject('POST', `/v1/api-keys/${key.keyId}/rotate`, admin, { overlapSeconds: 8 * 86_400 });
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json().errors[0].field).toBe('body.overlapSeconds');
    await inject('DELETE', `/v1/api-keys/${key.keyId}`, admin);
    const revoked = await inject('POST', `/v1/api-keys/${key.keyId}/rotate`, admin, {});
    expect(revoked.statusCode).toBe(409);
    expect(revoked.json().code).toBe('api-key-revoked');
    const all = (await inject('GET', '/v1/api-keys?includeRevoked=true', admin)).json().items;
    expect(all).toHaveLength(2); // the owner key and the revoked one: no orphan from the refused rotations
  });

  it('refuses to revoke or rotate the bootstrap key over the API (409): it comes from the setting', async () => {
    const listed = await inject('GET', '/v1/api-keys', herald.auth);
    expect(listed.statusCode, listed.body).toBe(200);
    const bootstrap = (listed.json().items as { keyId: string; name: string }[]).find((k) => k.name === 'bootstrap');
    expect(bootstrap).toBeDefined();
    const revoke = await inject('DELETE', `/v1/api-keys/${bootstrap!.keyId}`, herald.auth);
    expect(revoke.statusCode, revoke.body).toBe(409);
    expect(revoke.json().code).toBe('bootstrap-key');
    expect(revoke.json().detail).toContain('BOOTSTRAP_API_KEY');
    const rotate = await inject('POST', `/v1/api-keys/${bootstrap!.keyId}/rotate`, herald.auth, {});
    expect(rotate.statusCode, rotate.body).toBe(409);
    expect(rotate.json().code).toBe('bootstrap-key');
    // Still working, nothing recorded.
    expect((await inject('GET', '/v1/api-keys', herald.auth)).statusCode).toBe(200);
    expect((await streamEvents(`apikey-default+${bootstrap!.keyId}`)).map((e) => e.type)).toEqual(['ApiKeyCreated']);
  });

  it('keeps tenants apart: another tenant’s key id is 404, and its data too', async () => {
    const a = await aTenantWithAdmin('salon-g');
    const b = await aTenantWithAdmin('salon-h');
    expect((await inject('GET', `/v1/api-keys/${a.keyId}`, b.admin)).statusCode).toBe(404);
    expect((await inject('DELETE', `/v1/api-keys/${a.keyId}`, b.admin)).statusCode).toBe(404);
    expect((await inject('POST', `/v1/api-keys/${a.keyId}/rotate`, b.admin, {})).statusCode).toBe(404);
    expect((await inject('GET', '/v1/api-keys', a.admin)).statusCode).toBe(200);
    const created = await inject('POST', '/v1/reservations', a.admin, aReservation());
    const id = created.json().reservationId as string;
    expect((await inject('GET', `/v1/reservations/${id}`, b.admin)).statusCode).toBe(404);
    expect((await inject('GET', `/v1/reservations/${id}`, a.admin)).statusCode).toBe(200);
  });

  it('does not replay a secret for an Idempotency-Key: the secret is never stored', async () => {
    const headers = { ...herald.auth, 'idempotency-key': 'key-once' };
    const first = await inject('POST', '/v1/api-keys', headers, { name: 'k', role: 'staff' });
    const second = await inject('POST', '/v1/api-keys', headers, { name: 'k', role: 'staff' });
    expect([first.statusCode, second.statusCode]).toEqual([201, 201]);
    expect(second.headers['idempotent-replayed']).toBeUndefined();
    expect(second.json().keyId).not.toBe(first.json().keyId);
    const stored = JSON.stringify(await herald.adapters.eventStore.readAll({ limit: 1_000_000 }), (_k, v: unknown) =>
      typeof v === 'bigint' ? v.toString() : v,
    );
    expect(stored).not.toContain(first.json().secret);
  });
});

describe('authentication', () => {
  it('takes the Bearer scheme in any case, and X-Api-Key', async () => {
    for (const authorization of [
      `bearer ${TEST_ADMIN_KEY}`,
      `BEARER ${TEST_ADMIN_KEY}`,
      `Bearer  ${TEST_ADMIN_KEY} `,
    ]) {
      expect((await inject('GET', '/v1/api-keys', { authorization })).statusCode, authorization).toBe(200);
    }
    expect((await inject('GET', '/v1/api-keys', { 'x-api-key': TEST_ADMIN_KEY })).statusCode).toBe(200);
    expect((await inject('GET', '/v1/api-keys', { authorization: `Basic ${TEST_ADMIN_KEY}` })).statusCode).toBe(401);
  });
});

describe('OPERATOR_API_KEY', () => {
  const OPERATOR = 'operator-key-0123456789abcdef';
  let separate: TestHerald;
  beforeAll(async () => {
    separate = await startTestHerald({ env: { OPERATOR_API_KEY: OPERATOR } });
  });
  afterAll(async () => {
    await separate.stop();
  });

  it('is the only operator key then; it manages tenants but has no tenant data of its own', async () => {
    const operator = bearer(OPERATOR);
    const created = await separate.app.inject({
      method: 'POST',
      url: '/v1/tenants',
      headers: operator,
      payload: tenantBody('op-tenant'),
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json().createdBy).toMatch(/^operator:/);
    const reservations = await separate.app.inject({ method: 'GET', url: '/v1/reservations', headers: operator });
    expect(reservations.statusCode).toBe(403);
    expect(reservations.headers['content-type']).toContain('application/problem+json');
    // The bootstrap key is a plain admin of tenant `default` now.
    const asBootstrap = await separate.app.inject({ method: 'GET', url: '/v1/tenants', headers: separate.auth });
    expect(asBootstrap.statusCode).toBe(403);
    expect((await separate.app.inject({ method: 'GET', url: '/v1/api-keys', headers: separate.auth })).statusCode).toBe(
      200,
    );
  });
});

describe('keys kept in the read models by earlier versions', () => {
  it('are imported as events at start (with the migration as actor), keep working, and revocations stay', async () => {
    const eventStore = createSqliteEventStore({ filename: ':memory:' });
    const readModels = createSqliteReadModelStore({ filename: ':memory:' });
    const live = 'hk_legacy-live-key-0123456789abcdef';
    const gone = 'hk_legacy-revoked-key-0123456789ab';
    await readModels.put('api_keys', {
      _id: keySecrets.hash(live),
      keyId: 'legacy-1',
      tenantId: 'acme',
      role: 'staff',
      name: 'desk',
      createdAt: '2029-05-01T10:00:00.000Z',
    });
    await readModels.put('api_keys', {
      _id: keySecrets.hash(gone),
      keyId: 'legacy-2',
      tenantId: 'acme',
      role: 'admin',
      name: 'old',
      createdAt: '2029-05-01T10:00:00.000Z',
      revokedAt: '2029-06-01T10:00:00.000Z',
    });
    const upgraded = await startTestHerald({ eventStore, readModels });
    try {
      expect(await upgraded.tenancy.authenticate(live)).toEqual({
        principal: { keyId: 'legacy-1', tenantId: 'acme', role: 'staff' },
      });
      expect(await upgraded.tenancy.authenticate(gone)).toBeNull();
      expect(await readModels.find('api_keys', {})).toEqual([]);
      const events = (await eventStore.readStream('apikey-acme+legacy-2')).events;
      expect(events.map((e) => [e.type, e.metadata.actor])).toEqual([
        ['ApiKeyCreated', 'system:migration'],
        ['ApiKeyRevoked', 'system:migration'],
      ]);
      expect((await eventStore.readStream('tenant-acme')).events.map((e) => e.type)).toEqual(['TenantCreated']);
    } finally {
      await upgraded.stop();
    }
  });
});
