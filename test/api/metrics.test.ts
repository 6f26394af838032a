import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/infrastructure/config.js';
import { startTestHerald, TEST_ADMIN_KEY, type TestHerald } from '../support/test-herald.js';

const TOKEN = 'metrics-token-0123456789abcdefghijklmnop';

let herald: TestHerald;

beforeAll(async () => {
  herald = await startTestHerald({ env: { METRICS_TOKEN: TOKEN } });
});
afterAll(async () => {
  await herald.stop();
});

const scrape = async () => {
  const response = await herald.app.inject({
    method: 'GET',
    url: '/metrics',
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.body;
};

/** The value of one sample (`name{labels} value`), 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const inside = line.slice(name.length + 1, line.indexOf('}'));
    const present = inside.split(',');
    if (wanted.every((pair) => present.includes(pair))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

describe('GET /metrics', () => {
  it('counts a booking: its request by route template, its deliveries by channel and status, the provider calls', async () => {
    const before = await scrape();
    const phone = '+420777987654';
    const address = 'grace.hopper@example.org';
    const reservationId = await herald.reserve(herald.auth, {
      customer: { name: 'Grace Hopper', email: address, phone, locale: 'en-GB' },
    });
    const read = await herald.app.inject({
      method: 'GET',
      url: `/v1/reservations/${reservationId}`,
      headers: herald.auth,
    });
    expect(read.statusCode).toBe(200);
    const missing = await herald.app.inject({
      method: 'GET',
      url: `/v1/no-such-route/${reservationId}`,
      headers: herald.auth,
    });
    expect(missing.statusCode).toBe(404);
    const after = await scrape();

    const moved = (name: string, labels: Record<string, string>) =>
      sample(after, name, labels) - sample(before, name, labels);
    expect(moved('herald_http_requests_total', { method: 'POST', route: '/v1/reservations', status: '201' })).toBe(1);
    expect(
      moved('herald_http_requests_total', { method: 'GET', route: '/v1/reservations/:reservationId', status: '200' }),
    ).toBe(1);
    // A URL no route matched is counted without its path (which could hold anything a client sent).
    expect(moved('herald_http_requests_total', { method: 'GET', route: 'unmatched', status: '404' })).toBe(1);
    // The confirmation goes out by email and by SMS: each requested, started and sent once.
    for (const channel of ['email', 'sms']) {
      for (const status of ['requested', 'sending', 'sent']) {
        expect(moved('herald_deliveries_total', { channel, status }), `${channel} ${status}`).toBe(1);
      }
      // The in-process test Herald's senders are named after their channel.
      expect(
        moved('herald_provider_request_duration_seconds_count', { channel, provider: channel, outcome: 'accepted' }),
        `${channel} provider calls`,
      ).toBe(1);
    }
    expect(herald.email.sent).toHaveLength(1);
    expect(herald.sms.sent).toHaveLength(1);
    // Every consumer is caught up after settle: its lag is 0, and it is named by its consumer name only.
    const lags = after.split('\n').filter((line) => line.startsWith('herald_consumer_lag_positions{'));
    expect(lags.length).toBeGreaterThan(10);
    expect(lags.every((line) => line.endsWith(' 0'))).toBe(true);

    // No PII, no id, no secret anywhere in the exposition.
    for (const secret of [
      address,
      phone,
      phone.slice(1),
      'Grace',
      'Hopper',
      reservationId,
      TEST_ADMIN_KEY,
      TOKEN,
      herald.email.sent[0]!.idempotencyKey,
      herald.sms.sent[0]!.providerMessageId,
    ]) {
      expect(after.includes(secret), `the metrics contain ${secret}`).toBe(false);
    }
    expect(after).not.toMatch(/@/);
    // Labels are bounded by construction: these names only (no tenant, no id).
    const allowed = ['change', 'channel', 'consumer', 'job', 'le', 'method', 'outcome', 'provider', 'route', 'status'];
    const labelNames = new Set([...after.matchAll(/[{,]([a-z_]+)="/g)].map((match) => match[1]));
    expect([...labelNames].filter((name) => !allowed.includes(name!))).toEqual([]);
    expect(labelNames.has('route') && labelNames.has('channel') && labelNames.has('consumer')).toBe(true);
  });

  it('refuses a wrong or missing token (401) and an API key (401), before any work', async () => {
    for (const authorization of [undefined, 'Bearer wrong-token', `Bearer ${TEST_ADMIN_KEY}`, TOKEN]) {
      const response = await herald.app.inject({
        method: 'GET',
        url: '/metrics',
        headers: authorization ? { authorization } : {},
      });
      expect(response.statusCode, String(authorization)).toBe(401);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.body).not.toContain('herald_');
    }
  });

  it('is not served without METRICS_TOKEN (404), and the token must be a strong secret of its own', async () => {
    const plain = await startTestHerald();
    try {
      const response = await plain.app.inject({
        method: 'GET',
        url: '/metrics',
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(response.statusCode).toBe(404);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    } finally {
      await plain.stop();
    }
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN/);
    expect(() =>
      loadConfig({
        METRICS_TOKEN: TEST_ADMIN_KEY + TEST_ADMIN_KEY,
        BOOTSTRAP_API_KEY: TEST_ADMIN_KEY + TEST_ADMIN_KEY,
      }),
    ).toThrow(/METRICS_TOKEN.*must differ from BOOTSTRAP_API_KEY/s);
  });
});
