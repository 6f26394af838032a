import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHerald, type TestHerald } from '../support/test-herald.js';

/**
 * The customer's own page as the API sees it (/v1/self with the link's token in X-Customer-Token): cancelling and
 * moving a reservation only within the tenant's rules, a refusal that names the rule and changes nothing, and no
 * answer at all without a valid token.
 * Breaks when a customer can cancel or move past the tenant's deadline or when the tenant keeps it for the staff, a
 * refused change still happens, or a made-up token reads or changes anything.
 */

let herald: TestHerald;
const HOUR = 3_600_000;
/** A whole UTC hour three days ahead (10:00 UTC), inside the sauna's every-day opening hours in Prague. */
const START = new Date(Math.floor((Date.now() + 3 * 24 * HOUR) / (24 * HOUR)) * 24 * HOUR + 10 * HOUR).toISOString();

const admin = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) =>
  herald.app.inject({ method, url, headers: herald.auth, ...(payload ? { payload } : {}) });

const asCustomer = (token: string, method: 'GET' | 'POST', url: string, payload?: object) =>
  herald.app.inject({ method, url, headers: { 'x-customer-token': token }, ...(payload ? { payload } : {}) });

async function rules(cancellation: [boolean, number], reschedule: [boolean, number]) {
  const response = await admin('PUT', '/v1/settings/self-service', {
    bookingPage: { enabled: true },
    cancellation: { allowed: cancellation[0], untilMinutesBefore: cancellation[1] },
    reschedule: { allowed: reschedule[0], untilMinutesBefore: reschedule[1] },
  });
  expect(response.statusCode, response.body).toBe(200);
}

async function statusAndStart(reservationId: string) {
  const body = (await admin('GET', `/v1/reservations/${reservationId}`)).json();
  return { status: body.status as string, start: Date.parse(body.start as string) };
}

beforeAll(async () => {
  herald = await startTestHerald();
  const create = async (url: string, payload: object) => {
    const response = await admin('POST', url, payload);
    expect(response.statusCode, response.body).toBe(201);
  };
  await create('/v1/locations', {
    locationId: 'spa',
    name: 'Lázně Praha',
    address: { street: 'Vodičkova 1', postalCode: '110 00', city: 'Praha', country: 'CZ' },
    timeZone: 'Europe/Prague',
  });
  const hours = [{ start: '08:00', end: '20:00' }];
  await create('/v1/resources', {
    resourceId: 'spa-room',
    locationId: 'spa',
    name: 'Sauna room',
    kind: 'room',
    weeklyHours: Object.fromEntries(
      ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'].map((d) => [d, hours]),
    ),
  });
  await create('/v1/services', {
    serviceId: 'spa-sauna',
    locationId: 'spa',
    name: 'Sauna',
    durationMinutes: 60,
    seatsPerSlot: 1,
    resourceIds: ['spa-room'],
  });
});
afterAll(async () => {
  await herald.stop();
});

/** Books START (or `start`) on the public booking page: the reservation and the token of the customer's page. */
async function book(name: string, start = START): Promise<{ reservationId: string; token: string }> {
  const response = await herald.app.inject({
    method: 'POST',
    url: '/v1/public/tenants/default/reservations',
    payload: {
      requestId: randomUUID(),
      serviceId: 'spa-sauna',
      start,
      customer: { name, email: `${name.toLowerCase().replace(/\W/g, '')}@example.com`, locale: 'en' },
    },
  });
  expect(response.statusCode, response.body).toBe(201);
  const body = response.json();
  return { reservationId: body.reservation.reservationId as string, token: body.customerToken as string };
}

describe('the customer’s own page (/v1/self)', () => {
  it('refuses to cancel or move past the tenant’s rules, naming the rule, and changes nothing', async () => {
    // Cancelling until 5 days before (the booking is 3 days ahead: too late); moving only by the staff.
    await rules([true, 5 * 24 * 60], [false, 120]);
    const { reservationId, token } = await book('Hana Late');
    const before = await statusAndStart(reservationId);
    expect(before.status).toBe('confirmed');

    const page = await asCustomer(token, 'GET', '/v1/self');
    expect(page.statusCode, page.body).toBe(200);
    expect(page.json().rules).toEqual({ cancelUntil: null, rescheduleUntil: null });

    const cancel = await asCustomer(token, 'POST', '/v1/self/cancel', {});
    expect(cancel.statusCode, cancel.body).toBe(409);
    expect(cancel.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(cancel.json()).toMatchObject({ code: 'cancellation-not-allowed' });
    expect(cancel.json().detail).toContain('7200 minutes before the start');

    const slots = await asCustomer(
      token,
      'GET',
      `/v1/self/slots?from=${encodeURIComponent(START)}&to=${encodeURIComponent(new Date(Date.parse(START) + 24 * HOUR).toISOString())}`,
    );
    expect(slots.statusCode).toBe(409);
    const move = await asCustomer(token, 'POST', '/v1/self/reschedule', {
      start: new Date(Date.parse(START) + HOUR).toISOString(),
    });
    expect(move.statusCode, move.body).toBe(409);
    expect(move.json()).toMatchObject({ code: 'reschedule-not-allowed' });
    expect(move.json().detail).toContain('done by the staff');

    expect(await statusAndStart(reservationId)).toEqual(before);
  });

  it('moves and cancels within the rules: the page shows the deadlines, the reservation follows', async () => {
    await rules([true, 120], [true, 120]);
    const { reservationId, token } = await book('Ivo Early', new Date(Date.parse(START) + 2 * HOUR).toISOString());
    const page = (await asCustomer(token, 'GET', '/v1/self')).json();
    const start = Date.parse(page.reservation.start);
    expect(Date.parse(page.rules.cancelUntil)).toBe(start - 120 * 60_000);
    expect(Date.parse(page.rules.rescheduleUntil)).toBe(start - 120 * 60_000);

    const to = new Date(start + 6 * HOUR).toISOString();
    const slots = await asCustomer(
      token,
      'GET',
      `/v1/self/slots?from=${encodeURIComponent(new Date(start).toISOString())}&to=${encodeURIComponent(to)}`,
    );
    expect(slots.statusCode, slots.body).toBe(200);
    const starts = (slots.json().slots as { start: string }[]).map((s) => Date.parse(s.start));
    expect(starts).not.toContain(start); // the slot it holds is no place to move to
    const target = starts.find((s) => s > start)!;
    expect(target).toBeDefined();

    const moved = await asCustomer(token, 'POST', '/v1/self/reschedule', { start: new Date(target).toISOString() });
    expect(moved.statusCode, moved.body).toBe(200);
    expect(await statusAndStart(reservationId)).toEqual({ status: 'confirmed', start: target });

    const cancelled = await asCustomer(token, 'POST', '/v1/self/cancel', { reason: 'ill' });
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect(cancelled.json().reservation.status).toBe('cancelled');
    expect((await statusAndStart(reservationId)).status).toBe('cancelled');
    // Once cancelled, there is nothing left to cancel.
    expect((await asCustomer(token, 'POST', '/v1/self/cancel', {})).statusCode).toBe(409);
  });

  it('answers 401 problem+json to a missing, malformed or forged token, reading and changing nothing', async () => {
    await rules([true, 120], [true, 120]);
    const { reservationId, token } = await book('Jan Forged', new Date(Date.parse(START) + 4 * HOUR).toISOString());
    const forged = `${token.slice(0, -4)}${token.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    for (const bad of ['', 'not-a-token', forged]) {
      for (const [method, url] of [
        ['GET', '/v1/self'],
        ['POST', '/v1/self/cancel'],
      ] as const) {
        const response = await herald.app.inject({
          method,
          url,
          headers: bad ? { 'x-customer-token': bad } : {},
          ...(method === 'POST' ? { payload: {} } : {}),
        });
        expect(response.statusCode, `${method} ${url} with ${JSON.stringify(bad)}: ${response.body}`).toBe(401);
        expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      }
    }
    expect((await statusAndStart(reservationId)).status).toBe('confirmed');
  });
});

describe('the customer’s page API under load from one address', () => {
  let limited: TestHerald;
  beforeAll(async () => {
    limited = await startTestHerald({ env: { PUBLIC_REQUESTS_PER_MINUTE: '3' } });
  });
  afterAll(async () => {
    await limited.stop();
  });

  it('answers 429 with Retry-After past PUBLIC_REQUESTS_PER_MINUTE per address, before looking at the token', async () => {
    const ask = (remoteAddress: string) =>
      limited.app.inject({
        method: 'GET',
        url: '/v1/self',
        remoteAddress,
        headers: { 'x-customer-token': 'not-a-token' },
      });
    for (let i = 0; i < 3; i++) expect((await ask('192.0.2.10')).statusCode).toBe(401);
    const refused = await ask('192.0.2.10');
    expect(refused.statusCode, refused.body).toBe(429);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // Another address is not held back by it.
    expect((await ask('192.0.2.11')).statusCode).toBe(401);
  });
});
