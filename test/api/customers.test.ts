import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerRefOf } from '../../src/application/notifications/notification-settings.js';
import { aReservation, startTestHerald, type TestHerald } from '../support/test-herald.js';

let herald: TestHerald;
let auth: { authorization: string };
const TENANT = 'customers-a';

beforeAll(async () => {
  herald = await startTestHerald();
  auth = await herald.keyFor(TENANT);
});
afterAll(async () => {
  await herald.stop();
});

const get = async (url: string, headers = auth) => herald.app.inject({ method: 'GET', url, headers });
const reserve = async (customer: Record<string, unknown>, start: string, headers = auth) => {
  const response = await herald.app.inject({
    method: 'POST',
    url: '/v1/reservations',
    headers,
    payload: aReservation({
      customer: { locale: 'cs', ...customer },
      start,
      end: new Date(Date.parse(start) + 3_600_000).toISOString(),
    }),
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json() as { reservationId: string; code: string };
};
const names = (body: { items: { name: string }[] }) => body.items.map((c) => c.name);

describe('the customers read model', () => {
  let jiri: { reservationId: string; code: string };
  beforeAll(async () => {
    jiri = await reserve(
      { name: 'Jiří Dvořák', email: 'jiri@example.com', phone: '+420777100001' },
      '2030-01-10T09:00:00Z',
    );
    await reserve({ name: 'Jiří Dvořák', email: 'jiri@example.com', phone: '+420777100001' }, '2030-03-10T09:00:00Z');
    await reserve({ name: 'Eva Nováková', email: 'eva@example.com' }, '2030-02-01T09:00:00Z');
    await reserve({ id: 'crm-7', name: 'Adam Král', phone: '+420777100003' }, '2030-02-15T09:00:00Z');
    await herald.settle();
  });

  it('lists each customer once, by name, with contact, counts and last visit', async () => {
    const response = await get('/v1/customers');
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json();
    expect(names(body)).toEqual(['Adam Král', 'Eva Nováková', 'Jiří Dvořák']);
    const jiriView = body.items.find((c: { name: string }) => c.name === 'Jiří Dvořák');
    expect(jiriView).toMatchObject({
      customerRef: customerRefOf(herald.ids, TENANT, { email: 'jiri@example.com' }),
      email: 'jiri@example.com',
      phone: '+420777100001',
      reservationCount: 2,
      lastVisitAt: '2030-03-10T09:00:00.000Z',
      tags: [],
      preferences: { smsOptedOut: false, blocked: { email: [], sms: [] } },
    });
    expect(jiriView.reservations.map((r: { code: string }) => r.code)).toContain(jiri.code);
    expect(body.items.find((c: { name: string }) => c.name === 'Adam Král')).toMatchObject({
      customerRef: 'crm-7',
      customerId: 'crm-7',
    });
  });

  it('finds customers by words of the name without accents, by email and by the last digits of the phone', async () => {
    expect(names((await get('/v1/customers?query=dvor')).json())).toEqual(['Jiří Dvořák']);
    expect(names((await get('/v1/customers?query=JI%20Dvo')).json())).toEqual(['Jiří Dvořák']);
    expect(names((await get('/v1/customers?query=eva%40example.com')).json())).toEqual(['Eva Nováková']);
    expect(names((await get('/v1/customers?query=100003')).json())).toEqual(['Adam Král']);
    expect(names((await get('/v1/customers?query=nobody')).json())).toEqual([]);
  });

  it('filters by last visit and by number of reservations', async () => {
    expect(names((await get('/v1/customers?lastVisitBefore=2030-02-10T00:00:00Z')).json())).toEqual(['Eva Nováková']);
    expect(names((await get('/v1/customers?minReservations=2')).json())).toEqual(['Jiří Dvořák']);
    const bad = await get('/v1/customers?lastVisitBefore=yesterday');
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('a cancellation takes the reservation out of the count and the last visit', async () => {
    const adam = await reserve({ id: 'crm-7', name: 'Adam Král' }, '2030-04-01T09:00:00Z');
    await herald.settle();
    expect((await get('/v1/customers/crm-7')).json()).toMatchObject({
      reservationCount: 2,
      lastVisitAt: '2030-04-01T09:00:00.000Z',
    });
    const cancelled = await herald.app.inject({
      method: 'POST',
      url: `/v1/reservations/${adam.reservationId}/cancel`,
      headers: auth,
      payload: { by: 'customer' },
    });
    expect(cancelled.statusCode).toBe(200);
    await herald.settle();
    const view = (await get('/v1/customers/crm-7')).json();
    expect(view).toMatchObject({ reservationCount: 1, lastVisitAt: '2030-02-15T09:00:00.000Z' });
    expect(
      view.reservations.find((r: { reservationId: string }) => r.reservationId === adam.reservationId).status,
    ).toBe('cancelled');
  });

  it('tags a customer (recorded on their stream), filters by tag in any case, and shows the preferences', async () => {
    const ref = customerRefOf(herald.ids, TENANT, { email: 'eva@example.com' })!;
    const tagged = await herald.app.inject({
      method: 'PUT',
      url: `/v1/customers/${ref}/tags`,
      headers: auth,
      payload: { tags: ['VIP', 'yoga', 'vip'] },
    });
    expect(tagged.statusCode, tagged.body).toBe(200);
    expect(tagged.json()).toEqual({ customerRef: ref, tags: ['VIP', 'yoga'] });
    const stream = await herald.adapters.eventStore.readStream(`customer-${TENANT}+${ref}`);
    expect(stream.events.map((e) => [e.type, e.data.tags])).toEqual([['CustomerTagsChanged', ['VIP', 'yoga']]]);
    await herald.app.inject({
      method: 'PUT',
      url: `/v1/customers/${ref}/preferences`,
      headers: auth,
      payload: { smsOptedOut: true, blocked: { email: ['bulk-message'] } },
    });
    await herald.settle();
    expect(names((await get('/v1/customers?tag=vip')).json())).toEqual(['Eva Nováková']);
    expect((await get(`/v1/customers/${ref}`)).json()).toMatchObject({
      tags: ['VIP', 'yoga'],
      preferences: { smsOptedOut: true, blocked: { email: ['bulk-message'], sms: [] } },
    });
    // The same tags again change nothing.
    const before = (await herald.adapters.eventStore.readStream(`customer-${TENANT}+${ref}`)).events.length;
    await herald.app.inject({
      method: 'PUT',
      url: `/v1/customers/${ref}/tags`,
      headers: auth,
      payload: { tags: ['yoga', 'VIP'] },
    });
    expect((await herald.adapters.eventStore.readStream(`customer-${TENANT}+${ref}`)).events.length).toBe(before);
  });

  it('refuses unsafe or too many tags with problem+json and records nothing', async () => {
    const ref = 'crm-7';
    const before = (await herald.adapters.eventStore.readStream(`customer-${TENANT}+${ref}`)).revision;
    for (const tags of [['a\u202Eb'], Array.from({ length: 51 }, (_, i) => `t${i}`), ['x'.repeat(51)]]) {
      const refused = await herald.app.inject({
        method: 'PUT',
        url: `/v1/customers/${ref}/tags`,
        headers: auth,
        payload: { tags },
      });
      expect(refused.statusCode).toBe(400);
      expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    expect((await herald.adapters.eventStore.readStream(`customer-${TENANT}+${ref}`)).revision).toBe(before);
  });

  it('pages through customers with a cursor, each once', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/v1/customers?limit=1${cursor ? `&cursor=${cursor}` : ''}`;
      const body: { items: { customerRef: string }[]; nextCursor: string | null } = (await get(url)).json();
      seen.push(...body.items.map((c) => c.customerRef));
      cursor = body.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(3);
    expect(new Set(seen).size).toBe(3);
  });

  it("keeps tenants apart: another tenant sees none of these customers, and gets 404 for one's ref", async () => {
    const other = await herald.keyFor('customers-b');
    expect((await get('/v1/customers', other)).json().items).toEqual([]);
    expect((await get('/v1/customers/crm-7', other)).statusCode).toBe(404);
  });

  it('is for admins and staff', async () => {
    const integration = await herald.keyFor(TENANT, 'integration');
    expect((await get('/v1/customers', integration)).statusCode).toBe(403);
  });
});
