import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryError } from '../../src/application/ports/email-sender.port.js';
import { startTestHerald, type TestHerald } from '../support/test-herald.js';

/**
 * GET /v1/analytics/deliveries/series: the delivery KPIs per local hour or day that the staff console charts.
 * Breaks when a bucket is missing or counted twice, the figures differ from the audit trail's totals, a tenant sees
 * another's deliveries, or a bad query is answered with anything but a problem+json 400 (or 401 without a key).
 */

let herald: TestHerald;
const HOUR = 3_600_000;

beforeAll(async () => {
  herald = await startTestHerald();
  // Two bookings by email only: Ada's confirmation goes out, Bob's is refused for good by his mail server.
  herald.email.fail = (message) =>
    message.to === 'bob@example.com' ? new DeliveryError('550 5.1.1 Mailbox unavailable', false, '550') : undefined;
  await herald.reserve(herald.auth, { customer: { name: 'Ada Lovelace', email: 'ada@example.com', locale: 'en-GB' } });
  await herald.reserve(herald.auth, {
    customer: { name: 'Bob Builder', email: 'bob@example.com', locale: 'en-GB' },
    start: '2030-12-02T17:00:00Z',
    end: '2030-12-02T18:00:00Z',
  });
  await herald.settle();
});
afterAll(async () => {
  await herald.stop();
});

const get = (url: string, headers: Record<string, string> = herald.auth) =>
  herald.app.inject({ method: 'GET', url, headers });

interface Point {
  bucket: string;
  requested: number;
  accepted: number;
  failed: number;
  deliveryRatePercent: number | null;
  timeToProviderAccepted: { count: number; averageMs: number | null };
  byChannel: Record<string, { requested: number; accepted: number; skipped: number; successPercent: number | null }>;
}

describe('GET /v1/analytics/deliveries/series', () => {
  it('has one point per local hour of the range, and their sums are the audit trail’s totals', async () => {
    const to = new Date(Math.ceil(Date.now() / HOUR) * HOUR + HOUR);
    const from = new Date(to.getTime() - 6 * HOUR);
    const query = `from=${from.toISOString()}&to=${to.toISOString()}&timeZone=Europe/Oslo`;
    const response = await get(`/v1/analytics/deliveries/series?bucket=hour&${query}`);
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json() as { bucket: string; timeZone: string; points: Point[] };
    expect(body).toMatchObject({ bucket: 'hour', timeZone: 'Europe/Oslo' });
    expect(body.points).toHaveLength(6);
    const oslo = new Intl.DateTimeFormat('en-CA', {
      timeZone: 'Europe/Oslo',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      hourCycle: 'h23',
    });
    const label = (ms: number) => {
      const p = Object.fromEntries(oslo.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
      return `${p['year']}-${p['month']}-${p['day']}T${p['hour']}:00`;
    };
    expect(body.points.map((p) => p.bucket)).toEqual(
      Array.from({ length: 6 }, (_, i) => label(from.getTime() + i * HOUR)),
    );
    const sum = (f: (p: Point) => number) => body.points.reduce((total, p) => total + f(p), 0);
    expect({
      requested: sum((p) => p.requested),
      accepted: sum((p) => p.accepted),
      failed: sum((p) => p.failed),
    }).toEqual({ requested: 2, accepted: 1, failed: 1 });
    const totals = (await get(`/v1/analytics/notifications?${query}`)).json();
    expect(totals).toMatchObject({ requested: 2, accepted: 1, failed: 1 });
    // The hours without deliveries are there, empty; every point names the email channel.
    const empty = body.points.filter((p) => p.requested === 0);
    expect(empty.length).toBeGreaterThanOrEqual(4);
    for (const p of empty) {
      expect(p.deliveryRatePercent).toBeNull();
      expect(p.timeToProviderAccepted.averageMs).toBeNull();
    }
    // Every point names both channels: the SMS confirmations were skipped (no phone), counted apart from the rates.
    for (const p of body.points) expect(Object.keys(p.byChannel)).toEqual(['email', 'sms']);
    expect(sum((p) => p.byChannel['sms']!.requested)).toBe(0);
    expect(sum((p) => p.byChannel['sms']!.skipped)).toBe(2);
    expect(sum((p) => p.byChannel['email']!.accepted)).toBe(1);
    expect(sum((p) => p.timeToProviderAccepted.count)).toBe(1);
  });

  it('defaults to the last 14 days per UTC day, and a staff key may read it', async () => {
    const staff = await herald.keyFor('default', 'staff');
    const response = await get('/v1/analytics/deliveries/series', staff);
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json() as { bucket: string; timeZone: string; points: Point[] };
    expect(body).toMatchObject({ bucket: 'day', timeZone: 'UTC' });
    expect(body.points.length).toBeGreaterThanOrEqual(14);
    expect(body.points.length).toBeLessThanOrEqual(15);
    expect(body.points.at(-1)!.bucket).toBe(new Date().toISOString().slice(0, 10));
    expect(body.points.reduce((n, p) => n + p.requested, 0)).toBe(2);
  });

  it('shows a tenant only its own deliveries', async () => {
    const other = await herald.keyFor('another-spa');
    const response = await get('/v1/analytics/deliveries/series', other);
    expect(response.statusCode).toBe(200);
    const body = response.json() as { points: Point[] };
    expect(body.points.every((p) => p.requested === 0 && Object.keys(p.byChannel).length === 0)).toBe(true);
  });

  it.each([
    ['an unknown bucket', 'bucket=minute', 'bucket'],
    ['an unknown parameter', 'channel=sms', undefined],
    ['an unknown zone', 'timeZone=Mars/Olympus', 'timeZone'],
    ['an instant without offset', 'from=2026-01-01T00:00:00', 'from'],
    ['an empty range', 'from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z', 'from'],
    ['hours over more than 31 days', 'bucket=hour&from=2026-01-01T00:00:00Z&to=2026-02-02T00:00:00Z', 'from'],
    ['days over more than 400 days', 'from=2024-01-01T00:00:00Z&to=2026-01-01T00:00:00Z', 'from'],
  ])('refuses %s with a problem+json 400 naming the field', async (_what, query, field) => {
    const response = await get(`/v1/analytics/deliveries/series?${query}`);
    expect(response.statusCode, response.body).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    const problem = response.json() as { status: number; errors?: { field: string }[] };
    expect(problem.status).toBe(400);
    if (field) expect(JSON.stringify(problem.errors ?? [])).toContain(field);
  });

  it('answers 401 without a key', async () => {
    const response = await get('/v1/analytics/deliveries/series', {});
    expect(response.statusCode).toBe(401);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  });
});
