import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';
import { aReservation, startTestHerald, type TestHerald } from '../support/test-herald.js';

let herald: TestHerald;
let receiver: WebhookReceiver;
let auth: { authorization: string };

beforeAll(async () => {
  herald = await startTestHerald({
    env: { WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOW_LOOPBACK: 'true', WEBHOOK_RETRY_SCHEDULE_SECONDS: '1,1,1' },
  });
  receiver = await startWebhookReceiver();
  auth = await herald.keyFor('hooks');
});
afterAll(async () => {
  await herald.stop();
  await receiver.close();
});

const inject = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: object, headers = auth) =>
  herald.app.inject({ method, url, headers, ...(payload !== undefined ? { payload } : {}) });

/** Polls a condition the sender reaches through the scheduler (it polls every 200 ms in tests). */
async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('webhook endpoints', () => {
  it('shows the signing secret once (no-store), never again; admin only; problems for bad input', async () => {
    const created = await inject('POST', '/v1/webhook-endpoints', { url: receiver.url, description: 'CRM' });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    const { endpoint, secret } = created.json();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(created.headers.location).toBe(`/v1/webhook-endpoints/${endpoint.id}`);
    expect(endpoint).toMatchObject({ url: receiver.url, eventTypes: null, status: 'active', undelivered: 0 });

    await herald.settle(); // the list is a projection: it shows the endpoint once it has caught up
    const got = await inject('GET', `/v1/webhook-endpoints/${endpoint.id}`);
    const listed = await inject('GET', '/v1/webhook-endpoints');
    for (const body of [got.body, listed.body]) expect(body).not.toContain(secret.slice(6, 20));
    expect(listed.json().items.map((e: { id: string }) => e.id)).toContain(endpoint.id);
    const stream = await herald.adapters.eventStore.readStream(`webhook-hooks+${endpoint.id}`);
    expect(JSON.stringify(stream.events.map((e) => e.data))).not.toContain(secret.slice(6, 20));
    // Idempotency-Key is not honoured where the answer carries the secret: no record of it is kept anywhere.
    const retried = await inject('POST', `/v1/webhook-endpoints/${endpoint.id}/rotate-secret`, undefined, {
      ...auth,
      'idempotency-key': 'rotate-1',
    } as typeof auth);
    expect(retried.statusCode).toBe(200);
    expect(retried.headers['cache-control']).toBe('no-store');
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
    const rotated = retried.json().secret as string;
    expect(rotated).not.toBe(secret);
    const everything = await herald.adapters.eventStore.readAll({ limit: 100_000 });
    expect(JSON.stringify(everything.map((e) => e.data))).not.toContain(rotated.slice(6, 20));

    const staff = await herald.keyFor('hooks', 'staff');
    const refused = await inject('POST', '/v1/webhook-endpoints', { url: receiver.url }, staff);
    expect(refused.statusCode).toBe(403);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    for (const url of ['ftp://example.com/x', 'http://10.0.0.7/x', 'https://169.254.169.254/latest/meta-data']) {
      const bad = await inject('POST', '/v1/webhook-endpoints', { url });
      expect(bad.statusCode, url).toBe(400);
      expect(bad.headers['content-type']).toContain('application/problem+json');
    }
    const badType = await inject('POST', '/v1/webhook-endpoints', {
      url: receiver.url,
      eventTypes: ['StaffAccountCreated'],
    });
    expect(badType.statusCode).toBe(400);
    const other = await herald.keyFor('hooks-other');
    expect((await inject('GET', `/v1/webhook-endpoints/${endpoint.id}`, undefined, other)).statusCode).toBe(404);
    await inject('DELETE', `/v1/webhook-endpoints/${endpoint.id}`);
    expect((await inject('GET', `/v1/webhook-endpoints/${endpoint.id}`)).statusCode).toBe(404);
  });

  it('delivers the tenant’s events, signed, in order; never another tenant’s; replays with the same webhook-id', async () => {
    const created = await inject('POST', '/v1/webhook-endpoints', {
      url: receiver.url,
      eventTypes: ['ReservationConfirmed', 'ReservationCancelled'],
    });
    const { endpoint, secret } = created.json();
    receiver.setSecret(secret);
    const before = receiver.received.length;
    const reservationId = await herald.reserve(auth, aReservation());
    const cancel = await inject('POST', `/v1/reservations/${reservationId}/cancel`, { by: 'staff', reason: 'ill' });
    expect(cancel.statusCode, cancel.body).toBeLessThan(300);
    await herald.reserve(await herald.keyFor('hooks-other'), aReservation());
    await herald.settle();
    await eventually(() => receiver.accepted.length >= 2, 'two deliveries');
    const got = receiver.received.slice(before);
    expect(got.every((r) => r.verified === true)).toBe(true);
    const bodies = got.map((r) => JSON.parse(r.body) as { type: string; data: { reservationId: string } });
    expect(bodies.map((b) => b.type)).toEqual(['ReservationConfirmed', 'ReservationCancelled']);
    expect(bodies.every((b) => b.data.reservationId === reservationId)).toBe(true);

    const audit = await inject('GET', `/v1/webhook-endpoints/${endpoint.id}/deliveries`);
    expect(audit.statusCode).toBe(200);
    const items = audit.json().items as { id: string; status: string; attempts: { status: number }[] }[];
    expect(items.map((d) => d.status)).toEqual(['delivered', 'delivered']);
    expect(items[1]!.attempts[0]!.status).toBe(204);

    const firstId = items[1]!.id;
    const replay = await inject('POST', `/v1/webhook-endpoints/${endpoint.id}/deliveries/${firstId}/replay`);
    expect(replay.statusCode, replay.body).toBe(202);
    await eventually(() => receiver.accepted.filter((id) => id === firstId).length === 2, 'the replay');
    expect(receiver.received.at(-1)!.verified).toBe(true);
    expect(receiver.received.at(-1)!.body).toBe(got[0]!.body);
    await inject('DELETE', `/v1/webhook-endpoints/${endpoint.id}`);
  });

  it('a 410 Gone pauses the endpoint (visible, alerted to the admins); resume sends the rest in order', async () => {
    const settings = (await inject('GET', '/v1/settings/notifications')).json();
    const put = await inject('PUT', '/v1/settings/notifications', {
      ...settings,
      admins: [{ id: 'owner', email: 'owner@hooks.example', locale: 'en' }],
    });
    expect(put.statusCode, put.body).toBe(200);
    const { endpoint, secret } = (
      await inject('POST', '/v1/webhook-endpoints', {
        url: receiver.url,
        eventTypes: ['ReservationConfirmed'],
        description: 'Zap',
      })
    ).json();
    receiver.setSecret(secret);
    receiver.answerWith(410);
    const first = receiver.received.length;
    await herald.reserve(auth, aReservation({ start: '2030-12-02T17:00:00Z', end: '2030-12-02T18:00:00Z' }));
    await eventually(
      async () => (await inject('GET', `/v1/webhook-endpoints/${endpoint.id}`)).json().status === 'paused',
      'the pause',
    );
    const paused = (await inject('GET', `/v1/webhook-endpoints/${endpoint.id}`)).json();
    expect(paused).toMatchObject({ status: 'paused', pauseReason: 'gone', undelivered: 1 });
    await herald.settle();
    await eventually(
      () => herald.email.sent.some((m) => m.to === 'owner@hooks.example' && /Webhook paused: Zap/.test(m.subject)),
      'the alert',
    );

    await herald.reserve(auth, aReservation({ start: '2030-12-03T17:00:00Z', end: '2030-12-03T18:00:00Z' }));
    expect(receiver.received.length).toBe(first + 1); // paused: nothing sent, but queued
    receiver.answerWith(204);
    const resumed = await inject('POST', `/v1/webhook-endpoints/${endpoint.id}/resume`);
    expect(resumed.json()).toMatchObject({ status: 'active', undelivered: 2 });
    await eventually(() => receiver.received.length >= first + 3, 'the queued events');
    const ids = receiver.received.slice(first).map((r) => r.id);
    expect(ids[1]).toBe(ids[0]); // the 410'd event again, same webhook-id
    expect(new Set(ids).size).toBe(2);
    await inject('DELETE', `/v1/webhook-endpoints/${endpoint.id}`);
  });
});
