import { describe, expect, it } from 'vitest';
import {
  createDeliverySeriesAccumulator,
  nearestRankPercentile,
  summarizeNotifications,
  type AnalyticsDelivery,
} from '../../../src/application/notifications/notification-analytics.js';

const RANGE = { from: '2026-03-01T00:00:00.000Z', to: '2026-04-01T00:00:00.000Z' };

const delivery = (overrides: Partial<AnalyticsDelivery> = {}): AnalyticsDelivery => ({
  channel: 'email',
  kind: 'reservation-confirmed',
  status: 'sent',
  skipReason: null,
  requestedAt: '2026-03-10T12:00:00.000Z',
  sentAt: '2026-03-10T12:00:01.000Z',
  latencyToSentMs: 1_000,
  latencyToDeliveredMs: null,
  ...overrides,
});

describe('nearestRankPercentile', () => {
  it('is the value at rank ceil(p × n), so p95 is always a measured value', () => {
    const oneToHundred = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(nearestRankPercentile(oneToHundred, 95)).toBe(95);
    expect(nearestRankPercentile(oneToHundred, 50)).toBe(50);
    expect(nearestRankPercentile(oneToHundred, 100)).toBe(100);
    expect(nearestRankPercentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95)).toBe(10);
    expect(
      nearestRankPercentile(
        Array.from({ length: 20 }, (_, i) => (i + 1) * 10),
        95,
      ),
    ).toBe(190);
    expect(nearestRankPercentile([42], 95)).toBe(42);
    expect(nearestRankPercentile([], 95)).toBeNull();
  });
});

describe('summarizeNotifications', () => {
  it('computes the delivery rate over requested deliveries, counting skips apart by reason', () => {
    const result = summarizeNotifications(
      [
        delivery(),
        delivery({ channel: 'sms', status: 'delivered', latencyToDeliveredMs: 4_000 }),
        delivery({ channel: 'sms', status: 'failed', sentAt: null, latencyToSentMs: null }), // refused (21211)
        delivery({ status: 'retrying', sentAt: null, latencyToSentMs: null }),
        delivery({ status: 'skipped', skipReason: 'opted-out', sentAt: null, latencyToSentMs: null }),
        delivery({ status: 'skipped', skipReason: 'opted-out', sentAt: null, latencyToSentMs: null }),
        delivery({ status: 'skipped', skipReason: 'missing-contact', sentAt: null, latencyToSentMs: null }),
      ],
      RANGE,
    );
    expect(result).toMatchObject({
      total: 7,
      requested: 4,
      accepted: 2,
      succeeded: 2,
      failed: 1,
      pending: 1,
      skipped: 3,
      deliveryRatePercent: 50,
      successPercent: 50,
      byStatus: { delivered: 1, failed: 1, retrying: 1, sent: 1, skipped: 3 },
      skippedByReason: { 'missing-contact': 1, 'opted-out': 2 },
    });
  });

  it('counts a message the provider accepted and later reported undelivered as accepted but not succeeded', () => {
    const result = summarizeNotifications(
      [
        delivery({ channel: 'sms', status: 'undelivered' }),
        delivery({ channel: 'sms', status: 'sent' }),
        delivery({ channel: 'sms' }),
      ],
      RANGE,
    );
    expect(result.byChannel['sms']).toEqual({
      requested: 3,
      accepted: 3,
      succeeded: 2,
      failed: 1,
      pending: 0,
      skipped: 0,
      deliveryRatePercent: 100,
      successPercent: 66.67,
    });
  });

  it('gives the exact average and nearest-rank p95 of both notification times', () => {
    // Times 10, 20, ..., 1000 ms: average 505, p95 = the 95th value = 950.
    const deliveries = Array.from({ length: 100 }, (_, i) =>
      delivery({ status: 'delivered', latencyToSentMs: (i + 1) * 10, latencyToDeliveredMs: (100 - i) * 100 }),
    );
    // Skipped and never-sent deliveries have no time and must not dilute the figures.
    deliveries.push(delivery({ status: 'skipped', skipReason: 'opted-out', sentAt: null, latencyToSentMs: null }));
    deliveries.push(delivery({ status: 'requested', sentAt: null, latencyToSentMs: null }));
    const result = summarizeNotifications(deliveries.reverse(), RANGE);
    expect(result.timeToProviderAccepted).toEqual({ count: 100, averageMs: 505, p95Ms: 950, maxMs: 1000 });
    expect(result.timeToDelivered).toEqual({ count: 100, averageMs: 5050, p95Ms: 9500, maxMs: 10000 });
  });

  it('reports success per channel, per kind and per day (in the requested zone)', () => {
    const deliveries = [
      delivery({ requestedAt: '2026-03-10T22:30:00.000Z' }), // 23:30 in Prague: still the 10th
      delivery({ requestedAt: '2026-03-10T23:30:00.000Z', channel: 'sms' }), // 00:30 on the 11th in Prague
      delivery({
        requestedAt: '2026-03-11T08:00:00.000Z',
        kind: 'reservation-cancelled',
        status: 'dead-lettered',
        sentAt: null,
      }),
      delivery({ requestedAt: '2026-03-11T09:00:00.000Z', kind: 'reservation-cancelled' }),
    ];
    const utc = summarizeNotifications(deliveries, RANGE);
    expect(utc.byDay.map((d) => [d.day, d.requested, d.successPercent])).toEqual([
      ['2026-03-10', 2, 100],
      ['2026-03-11', 2, 50],
    ]);
    const prague = summarizeNotifications(deliveries, { ...RANGE, timeZone: 'Europe/Prague' });
    expect(prague.timeZone).toBe('Europe/Prague');
    expect(prague.byDay.map((d) => [d.day, d.requested, d.successPercent])).toEqual([
      ['2026-03-10', 1, 100],
      ['2026-03-11', 3, 66.67],
    ]);
    expect(Object.keys(utc.byKind)).toEqual(['reservation-cancelled', 'reservation-confirmed']);
    expect(utc.byKind['reservation-cancelled']).toMatchObject({
      requested: 2,
      succeeded: 1,
      failed: 1,
      successPercent: 50,
    });
    expect(utc.byChannel['email']).toMatchObject({ requested: 3, succeeded: 2, successPercent: 66.67 });
    expect(utc.byChannel['sms']).toMatchObject({ requested: 1, succeeded: 1, successPercent: 100 });
  });

  it('has no rates (null, not 0 % or NaN) when nothing was requested', () => {
    const result = summarizeNotifications(
      [delivery({ status: 'skipped', skipReason: 'opted-out', sentAt: null })],
      RANGE,
    );
    expect(result.deliveryRatePercent).toBeNull();
    expect(result.successPercent).toBeNull();
    expect(result.timeToProviderAccepted).toEqual({ count: 0, averageMs: null, p95Ms: null, maxMs: null });
  });
});

describe('createDeliverySeriesAccumulator (GET /v1/analytics/deliveries/series)', () => {
  const series = (
    range: { from: string; to: string; timeZone?: string; bucket: 'hour' | 'day' },
    deliveries: AnalyticsDelivery[],
  ) => {
    const accumulator = createDeliverySeriesAccumulator(range);
    for (const d of deliveries) accumulator.add(d);
    return accumulator.result();
  };

  it('has a point for every local day of the range, empty ones with zero counts and null rates', () => {
    const result = series(
      { from: '2026-03-09T23:00:00.000Z', to: '2026-03-12T23:00:00.000Z', timeZone: 'Europe/Prague', bucket: 'day' },
      [
        delivery({ requestedAt: '2026-03-09T23:30:00.000Z' }), // 00:30 on the 10th in Prague
        delivery({ requestedAt: '2026-03-12T10:00:00.000Z', channel: 'sms', latencyToSentMs: 3_000 }),
        delivery({
          requestedAt: '2026-03-12T11:00:00.000Z',
          channel: 'sms',
          status: 'failed',
          sentAt: null,
          latencyToSentMs: null,
        }),
      ],
    );
    expect(result.points.map((p) => p.bucket)).toEqual(['2026-03-10', '2026-03-11', '2026-03-12']);
    const [first, empty, last] = result.points;
    expect(first).toMatchObject({ requested: 1, accepted: 1, deliveryRatePercent: 100 });
    expect(first!.timeToProviderAccepted.averageMs).toBe(1_000);
    expect(empty).toMatchObject({ requested: 0, deliveryRatePercent: null, successPercent: null });
    expect(empty!.timeToProviderAccepted.averageMs).toBeNull();
    expect(last).toMatchObject({ requested: 2, accepted: 1, failed: 1, deliveryRatePercent: 50, successPercent: 50 });
    expect(last!.timeToProviderAccepted.averageMs).toBe(3_000);
    // Every point names every channel of the range, so each channel's line has a value or a gap in every bucket.
    for (const point of result.points) expect(Object.keys(point.byChannel)).toEqual(['email', 'sms']);
    expect(first!.byChannel['sms']).toMatchObject({ requested: 0, successPercent: null });
    expect(last!.byChannel['sms']).toMatchObject({ requested: 2, successPercent: 50 });
    expect(last!.byChannel['email']).toMatchObject({ requested: 0 });
  });

  it('counts hours in local wall-clock time: the spring-forward day has 23 hours, a :30 zone its own hours', () => {
    // Prague, 29 March 2026: 02:00 becomes 03:00.
    const prague = series(
      { from: '2026-03-28T23:00:00.000Z', to: '2026-03-29T22:00:00.000Z', timeZone: 'Europe/Prague', bucket: 'hour' },
      [delivery({ requestedAt: '2026-03-29T01:15:00.000Z' })], // 03:15 local
    );
    expect(prague.points).toHaveLength(23);
    expect(prague.points.map((p) => p.bucket)).not.toContain('2026-03-29T02:00');
    expect(prague.points.find((p) => p.requested === 1)!.bucket).toBe('2026-03-29T03:00');
    // Kolkata is UTC+05:30: the hour 06:00-07:00 local runs from 00:30 to 01:30 UTC.
    const kolkata = series(
      { from: '2026-03-10T00:30:00.000Z', to: '2026-03-10T02:30:00.000Z', timeZone: 'Asia/Kolkata', bucket: 'hour' },
      [delivery({ requestedAt: '2026-03-10T01:29:00.000Z' }), delivery({ requestedAt: '2026-03-10T01:31:00.000Z' })],
    );
    expect(kolkata.points.map((p) => [p.bucket, p.requested])).toEqual([
      ['2026-03-10T06:00', 1],
      ['2026-03-10T07:00', 1],
    ]);
  });

  it('leaves out deliveries outside the buckets and skips from every rate', () => {
    const result = series({ from: '2026-03-10T00:00:00.000Z', to: '2026-03-11T00:00:00.000Z', bucket: 'day' }, [
      delivery({ requestedAt: '2026-03-11T00:00:00.000Z' }),
      delivery({ requestedAt: '2026-03-10T08:00:00.000Z', status: 'skipped', skipReason: 'opted-out', sentAt: null }),
    ]);
    expect(result.points).toEqual([expect.objectContaining({ bucket: '2026-03-10', requested: 0, skipped: 1 })]);
  });
});
