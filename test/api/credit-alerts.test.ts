import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aReservation, startTestHerald, type TestHerald } from '../support/test-herald.js';

let herald: TestHerald;
let auth: { authorization: string };

beforeAll(async () => {
  herald = await startTestHerald();
  auth = await herald.keyFor('credit-alerts');
});
afterAll(async () => {
  await herald.stop();
});

const inject = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) =>
  herald.app.inject({ method, url, headers: auth, ...(payload !== undefined ? { payload } : {}) });

const alertsTo = (address: string) =>
  herald.email.sent.filter((m) => m.to === address && /credits running low/i.test(m.subject));

describe('low-balance alerts', () => {
  it('alert the admins once per crossing of the threshold; a top-up above it re-arms the alert', async () => {
    const settings = (await inject('GET', '/v1/settings/notifications')).json();
    const put = await inject('PUT', '/v1/settings/notifications', {
      ...settings,
      prices: { smsPerPart: 1, emailManual: 0, emailAutomatic: 0 },
      admins: [{ id: 'owner', email: 'owner@example.com', locale: 'en' }],
    });
    expect(put.statusCode, put.body).toBe(200);
    expect((await inject('POST', '/v1/credits/top-ups', { topUpId: 't1', amount: 5 })).statusCode).toBe(201);
    const threshold = await inject('PUT', '/v1/credits/low-balance-threshold', { threshold: 3 });
    expect(threshold.statusCode, threshold.body).toBe(200);
    expect(threshold.json()).toEqual({ lowBalanceThreshold: 3, balance: 5, lowBalance: false });

    const book = async (i: number) => {
      const response = await inject(
        'POST',
        '/v1/reservations',
        aReservation({ customer: { name: `C ${i}`, phone: `+42077740000${i}`, locale: 'en' } }),
      );
      expect(response.statusCode).toBe(201);
      await herald.settle();
    };
    await book(1); // 5 -> 4
    await book(2); // 4 -> 3: not below
    expect(alertsTo('owner@example.com')).toHaveLength(0);
    await book(3); // 3 -> 2: below, the alert
    await book(4); // 2 -> 1: still below, no second alert
    expect(alertsTo('owner@example.com')).toHaveLength(1);
    expect(alertsTo('owner@example.com')[0]!.text).toContain('fell below 3: 2 left');
    const credits = (await inject('GET', '/v1/credits')).json();
    expect(credits).toMatchObject({ balance: 1, lowBalanceThreshold: 3, lowBalance: true });

    // A top-up that stays below does not re-arm it; one to the threshold or above does.
    await inject('POST', '/v1/credits/top-ups', { topUpId: 't2', amount: 1 }); // 2
    await book(5); // 1
    expect(alertsTo('owner@example.com')).toHaveLength(1);
    await inject('POST', '/v1/credits/top-ups', { topUpId: 't3', amount: 9 }); // 10
    expect((await inject('GET', '/v1/credits')).json().lowBalance).toBe(false);
    for (let i = 6; i <= 13; i++) await book(i); // 10 -> 2
    expect(alertsTo('owner@example.com')).toHaveLength(2);
    const stream = await herald.adapters.eventStore.readStream('credits-credit-alerts+account');
    expect(stream.events.filter((e) => e.type === 'CreditsBalanceLow').map((e) => e.data.balance)).toEqual([2, 2]);
  });

  it('refuses a threshold that is not a whole number of credits, and non-admins', async () => {
    expect((await inject('PUT', '/v1/credits/low-balance-threshold', { threshold: -1 })).statusCode).toBe(400);
    expect((await inject('PUT', '/v1/credits/low-balance-threshold', { threshold: 1.5 })).statusCode).toBe(400);
    const staff = await herald.keyFor('credit-alerts', 'staff');
    const refused = await herald.app.inject({
      method: 'PUT',
      url: '/v1/credits/low-balance-threshold',
      headers: staff,
      payload: { threshold: 1 },
    });
    expect(refused.statusCode).toBe(403);
  });
});
