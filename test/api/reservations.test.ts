import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aReservation, startTestHerald, type TestHerald } from '../support/test-herald.js';

let herald: TestHerald;

beforeAll(async () => {
  herald = await startTestHerald();
});
afterAll(async () => {
  await herald.stop();
});

async function eventCount(): Promise<number> {
  // Consumers append on their own after a request (the planner, the dispatcher): count once they have.
  await herald.settle();
  return (await herald.adapters.eventStore.readAll({ limit: 100_000 })).length;
}

describe('POST /v1/reservations (a reservation finalized elsewhere)', () => {
  it('records it as confirmed and sends the confirmation by email and SMS with time, location and id', async () => {
    const response = await herald.app.inject({
      method: 'POST',
      url: '/v1/reservations',
      headers: herald.auth,
      payload: aReservation(),
    });
    expect(response.statusCode).toBe(201);
    const body = response.json();
    expect(body.status).toBe('confirmed');
    expect(response.headers.location).toBe(`/v1/reservations/${body.reservationId}`);
    expect(response.headers.etag).toBe('"0"');

    await herald.settle();
    // Customers read the short code, not the id.
    expect(body.code).toMatch(/^[23456789ABCDEFGHJKMNPQRSTVWXYZ]{6}$/);
    const email = herald.email.sent.find((m) => m.text.includes(body.code));
    const sms = herald.sms.sent.find((m) => m.body.includes(body.code));
    expect(sms?.body).not.toContain(body.reservationId);
    expect(email?.to).toBe('ada@example.com');
    // 17:00Z is 18:00 in Prague in December: the time is shown in the location's zone.
    expect(email?.text).toContain('18:00');
    expect(email?.text).toContain('Wellness Praha');
    expect(email?.calendar?.method).toBe('REQUEST');
    expect(sms?.to).toBe('+420777123456');
    expect(sms?.body).toContain('18:00');
    expect(sms?.body).toContain('Wellness Praha');

    const audit = await herald.app.inject({
      method: 'GET',
      url: `/v1/reservations/${body.reservationId}/notifications`,
      headers: herald.auth,
    });
    expect(audit.statusCode).toBe(200);
    const items = audit.json().items as {
      channel: string;
      status: string;
      providerMessageId: string;
      maskedRecipient: string;
    }[];
    expect(items.map((i) => [i.channel, i.status]).sort()).toEqual([
      ['email', 'sent'],
      ['sms', 'sent'],
    ]);
    expect(items.find((i) => i.channel === 'sms')?.providerMessageId).toBe(sms?.providerMessageId);
    // The audit trail never shows the address itself.
    expect(JSON.stringify(items)).not.toContain('ada@example.com');
    expect(JSON.stringify(items)).not.toContain('+420777123456');
  });

  it('reporting the same external reservation twice records and sends it once', async () => {
    const payload = aReservation({ external: { system: 'pos', reference: 'R-1001' } });
    const first = await herald.app.inject({ method: 'POST', url: '/v1/reservations', headers: herald.auth, payload });
    const second = await herald.app.inject({ method: 'POST', url: '/v1/reservations', headers: herald.auth, payload });
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(200);
    expect(second.json().reservationId).toBe(first.json().reservationId);
    await herald.settle();
    const code = first.json().code as string;
    expect(second.json().code).toBe(code);
    expect(herald.email.sent.filter((m) => m.text.includes(code))).toHaveLength(1);
    expect(herald.sms.sent.filter((m) => m.body.includes(code))).toHaveLength(1);
  });

  it('replays the first answer for a retried request with the same Idempotency-Key, appending nothing', async () => {
    const headers = { ...herald.auth, 'idempotency-key': 'retry-1' };
    const first = await herald.app.inject({
      method: 'POST',
      url: '/v1/reservations',
      headers,
      payload: aReservation(),
    });
    const before = await eventCount();
    const retry = await herald.app.inject({
      method: 'POST',
      url: '/v1/reservations',
      headers,
      payload: aReservation(),
    });
    expect(retry.statusCode).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.json()).toEqual(first.json());
    expect(await eventCount()).toBe(before);

    const reused = await herald.app.inject({
      method: 'POST',
      url: '/v1/reservations',
      headers,
      payload: aReservation({ serviceName: 'Massage' }),
    });
    expect(reused.statusCode).toBe(422);
    expect(reused.headers['content-type']).toContain('application/problem+json');
  });

  it.each([
    ['malformed JSON', '{"customer":', 400, 'malformed-json', undefined],
    ['an unknown property', JSON.stringify(aReservation({ colour: 'red' })), 400, 'validation-failed', 'body'],
    [
      'a phone that is not E.164',
      JSON.stringify(aReservation({ customer: { name: 'A', phone: '777 123 456', locale: 'en' } })),
      400,
      'validation-failed',
      'body.customer.phone',
    ],
    [
      'an invalid email',
      JSON.stringify(aReservation({ customer: { name: 'A', email: 'not-an-email', locale: 'en' } })),
      400,
      'validation-failed',
      'body.customer.email',
    ],
    [
      'a time without a zone',
      JSON.stringify(aReservation({ start: '2030-12-01T17:00:00' })),
      400,
      'validation-failed',
      'body.start',
    ],
    [
      'an unknown time zone',
      JSON.stringify(aReservation({ location: { name: 'X', address: 'Y', timeZone: 'Mars/Olympus' } })),
      400,
      'validation-failed',
      'body.location.timeZone',
    ],
    [
      'an end before the start',
      JSON.stringify(aReservation({ end: '2030-12-01T16:00:00Z' })),
      400,
      'validation-failed',
      'body.end',
    ],
    [
      'a missing customer',
      JSON.stringify({ ...aReservation(), customer: undefined }),
      400,
      'validation-failed',
      'body.customer',
    ],
  ])(
    'rejects %s with problem+json naming the field and appends nothing',
    async (_name, payload, status, code, field) => {
      const before = await eventCount();
      const response = await herald.app.inject({
        method: 'POST',
        url: '/v1/reservations',
        headers: { ...herald.auth, 'content-type': 'application/json' },
        payload,
      });
      expect(response.statusCode).toBe(status);
      expect(response.headers['content-type']).toContain('application/problem+json');
      const problem = response.json();
      expect(problem.code).toBe(code);
      expect(problem.status).toBe(status);
      if (field) expect(problem.errors.map((e: { field: string }) => e.field)).toContain(field);
      expect(await eventCount()).toBe(before);
    },
  );

  it('rejects a body over 1 MiB with 413 and appends nothing', async () => {
    const before = await eventCount();
    const response = await herald.app.inject({
      method: 'POST',
      url: '/v1/reservations',
      headers: herald.auth,
      payload: aReservation({ serviceName: 'x'.repeat(1024 * 1024 + 10) }),
    });
    expect(response.statusCode).toBe(413);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(await eventCount()).toBe(before);
  });
});

describe('keys and tenants', () => {
  it('answers 401 problem+json without a key or with an unknown one', async () => {
    for (const headers of [{}, { authorization: 'Bearer hk_not-a-real-key-at-all' }]) {
      const response = await herald.app.inject({
        method: 'POST',
        url: '/v1/reservations',
        headers,
        payload: aReservation(),
      });
      expect(response.statusCode).toBe(401);
      expect(response.json().code).toBe('unauthenticated');
    }
  });

  it("never shows another tenant's reservation: 404", async () => {
    const created = await herald.app.inject({
      method: 'POST',
      url: '/v1/reservations',
      headers: herald.auth,
      payload: aReservation(),
    });
    const id = created.json().reservationId as string;
    const other = await herald.keyFor('acme');
    for (const url of [`/v1/reservations/${id}`, `/v1/reservations/${id}/notifications`]) {
      const response = await herald.app.inject({ method: 'GET', url, headers: other });
      expect(response.statusCode).toBe(404);
      expect(response.json().code).toBe('reservation-not-found');
    }
    const own = await herald.app.inject({ method: 'GET', url: `/v1/reservations/${id}`, headers: herald.auth });
    expect(own.statusCode).toBe(200);
  });

  it('stores keys hashed: the secret appears nowhere in the events or the read models', async () => {
    const created = await herald.app.inject({
      method: 'POST',
      url: '/v1/api-keys',
      headers: herald.auth,
      payload: { name: 'desk', role: 'staff' },
    });
    expect(created.statusCode).toBe(201);
    const { secret, keyId } = created.json();
    const docs = await herald.adapters.readModels.find('api_keys_v1', {});
    expect(docs.length).toBeGreaterThan(0);
    expect(JSON.stringify(docs)).not.toContain(secret);
    const events = await herald.adapters.eventStore.readAll({ limit: 1_000_000 });
    expect(events.some((e) => e.type === 'ApiKeyCreated' && e.data.keyId === keyId)).toBe(true);
    expect(JSON.stringify(events.map((e) => [e.data, e.metadata]))).not.toContain(secret);
    expect(await herald.tenancy.authenticate(secret)).toEqual({
      principal: { keyId, tenantId: 'default', role: 'staff' },
    });
  });
});

describe('OpenAPI, docs and health', () => {
  it('serves an OpenAPI 3.1 document describing the reservation routes', async () => {
    const response = await herald.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(response.statusCode).toBe(200);
    const spec = response.json();
    expect(spec.openapi).toBe('3.1.0');
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining(['/v1/reservations', '/v1/reservations/{reservationId}/notifications']),
    );
  });

  it('serves Swagger UI at /docs without a key', async () => {
    const response = await herald.app.inject({ method: 'GET', url: '/docs/' });
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('swagger');
  });

  it('is live, and ready once stores answer and subscriptions caught up', async () => {
    expect((await herald.app.inject({ method: 'GET', url: '/health/live' })).json()).toEqual({ status: 'ok' });
    await herald.settle();
    const ready = await herald.app.inject({ method: 'GET', url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json().ready).toBe(true);
  });

  it('answers an unknown route with a 404 problem', async () => {
    const response = await herald.app.inject({ method: 'GET', url: '/v1/nothing-here', headers: herald.auth });
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toContain('application/problem+json');
  });
});
