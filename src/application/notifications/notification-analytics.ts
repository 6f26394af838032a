import type { ReadModelStore } from '../ports/read-model-store.port.js';
import { deliveriesProjection, type DeliveryDocument } from '../projections/deliveries.projection.js';
import { physicalCollection } from '../projections/projection.js';

/**
 * Notification analytics over the delivery audit trail (`deliveries_v1`).
 *
 * Definitions (the route's OpenAPI description repeats them for analysts):
 * - requested: every delivery that was meant to go out, i.e. all but the skipped ones. Skips (preferences, missing
 *   contact, no credits) are counted apart, by reason, and never lower a rate.
 * - accepted: the provider took the message (the delivery has a `sentAt`), whatever it reported later.
 * - succeeded: accepted and not reported failed, undelivered or bounced afterwards.
 * - failed: refused (permanent error), dead-lettered after the retry budget, or reported failed/undelivered/bounced.
 * - pending: still requested, sending or waiting for a retry.
 * - delivery rate = accepted ÷ requested; success = succeeded ÷ requested (percentages, two decimals).
 * - times: from the causing event to the provider accepting (`latencyToSentMs`) and to the delivery report
 *   (`latencyToDeliveredMs`); average and p95 by the nearest-rank method, so p95 is always a measured value.
 * A delivery belongs to the range, the day and the kind by its `requestedAt` (skips: when they were skipped).
 */

/** The fields of a delivery document the aggregation reads. */
export type AnalyticsDelivery = Pick<
  DeliveryDocument,
  'channel' | 'kind' | 'status' | 'skipReason' | 'requestedAt' | 'sentAt' | 'latencyToSentMs' | 'latencyToDeliveredMs'
>;

export interface RateSummary {
  readonly requested: number;
  readonly accepted: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly pending: number;
  readonly skipped: number;
  /** accepted ÷ requested × 100; null when nothing was requested. */
  readonly deliveryRatePercent: number | null;
  /** succeeded ÷ requested × 100; null when nothing was requested. */
  readonly successPercent: number | null;
}

export interface LatencySummary {
  /** Deliveries with a measured time. */
  readonly count: number;
  readonly averageMs: number | null;
  /** Nearest-rank 95th percentile: the smallest measured time that at least 95 % of the times do not exceed. */
  readonly p95Ms: number | null;
  readonly maxMs: number | null;
}

export interface NotificationAnalytics extends RateSummary {
  readonly from: string;
  readonly to: string;
  /** The zone days are counted in. */
  readonly timeZone: string;
  /** Every delivery document in the range, skipped ones included. */
  readonly total: number;
  readonly byStatus: Readonly<Record<string, number>>;
  readonly skippedByReason: Readonly<Record<string, number>>;
  /** Causing event → provider accepted. */
  readonly timeToProviderAccepted: LatencySummary;
  /** Causing event → delivery reported by the provider. */
  readonly timeToDelivered: LatencySummary;
  readonly byChannel: Readonly<Record<string, RateSummary>>;
  readonly byKind: Readonly<Record<string, RateSummary>>;
  /** Days in `timeZone` that have deliveries, in order. */
  readonly byDay: readonly (RateSummary & { readonly day: string })[];
}

const FAILED = new Set(['failed', 'dead-lettered', 'undelivered', 'bounced']);
const PENDING = new Set(['requested', 'sending', 'retrying']);

/**
 * The nearest-rank percentile of ascending `sorted` values: the value at rank ⌈p/100 × n⌉.
 * For 1..100, p95 is 95; for 1..10, p95 is 10.
 */
export function nearestRankPercentile(sorted: ArrayLike<number>, p: number): number | null {
  if (sorted.length === 0) return null;
  if (!(p > 0 && p <= 100)) throw new RangeError('percentile must be in (0, 100]');
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

const percent = (part: number, whole: number) => (whole === 0 ? null : Math.round((part / whole) * 10_000) / 100);

class RateCounter {
  requested = 0;
  accepted = 0;
  succeeded = 0;
  failed = 0;
  pending = 0;
  skipped = 0;

  add(delivery: AnalyticsDelivery): void {
    if (delivery.status === 'skipped') {
      this.skipped++;
      return;
    }
    this.requested++;
    if (delivery.sentAt !== null) this.accepted++;
    if (FAILED.has(delivery.status)) this.failed++;
    else if (delivery.sentAt !== null) this.succeeded++;
    else if (PENDING.has(delivery.status)) this.pending++;
  }

  summary(): RateSummary {
    return {
      requested: this.requested,
      accepted: this.accepted,
      succeeded: this.succeeded,
      failed: this.failed,
      pending: this.pending,
      skipped: this.skipped,
      deliveryRatePercent: percent(this.accepted, this.requested),
      successPercent: percent(this.succeeded, this.requested),
    };
  }
}

/** Collects times in a growing typed array: 100k deliveries cost 800 kB, not 100k boxed numbers. */
class LatencyCollector {
  private values = new Float64Array(1024);
  private size = 0;
  private sum = 0;

  add(ms: number | null | undefined): void {
    if (ms === null || ms === undefined || !Number.isFinite(ms)) return;
    if (this.size === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.size++] = ms;
    this.sum += ms;
  }

  summary(): LatencySummary {
    if (this.size === 0) return { count: 0, averageMs: null, p95Ms: null, maxMs: null };
    const sorted = this.values.slice(0, this.size).sort();
    return {
      count: this.size,
      averageMs: Math.round((this.sum / this.size) * 10) / 10,
      p95Ms: nearestRankPercentile(sorted, 95),
      maxMs: sorted[this.size - 1]!,
    };
  }
}

/** `YYYY-MM-DD` of an instant in a zone; UTC takes the fast path. */
export function dayKeyOf(timeZone: string): (instant: string) => string {
  if (timeZone === 'UTC' || timeZone === 'Etc/UTC') return (instant) => new Date(instant).toISOString().slice(0, 10);
  const format = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
  return (instant) => {
    const parts = Object.fromEntries(format.formatToParts(new Date(instant)).map((p) => [p.type, p.value]));
    return `${parts['year']}-${parts['month']}-${parts['day']}`;
  };
}

export interface AnalyticsRange {
  /** ISO-8601 instants; `from` inclusive, `to` exclusive. */
  readonly from: string;
  readonly to: string;
  /** IANA zone days are counted in. Default UTC. */
  readonly timeZone?: string;
}

/** An aggregation fed one delivery at a time, so a range of any size is read page by page. */
export function createNotificationAnalyticsAccumulator(range: AnalyticsRange): {
  add(delivery: AnalyticsDelivery): void;
  result(): NotificationAnalytics;
} {
  const timeZone = range.timeZone ?? 'UTC';
  const dayOf = dayKeyOf(timeZone);
  const overall = new RateCounter();
  const byStatus = new Map<string, number>();
  const skippedByReason = new Map<string, number>();
  const byChannel = new Map<string, RateCounter>();
  const byKind = new Map<string, RateCounter>();
  const byDay = new Map<string, RateCounter>();
  const toProvider = new LatencyCollector();
  const toDelivered = new LatencyCollector();
  let total = 0;

  const counter = (map: Map<string, RateCounter>, key: string) => {
    let found = map.get(key);
    if (!found) map.set(key, (found = new RateCounter()));
    return found;
  };
  const sortedRecord = <V, R>(map: Map<string, V>, f: (v: V) => R): Record<string, R> =>
    Object.fromEntries([...map.keys()].sort().map((key) => [key, f(map.get(key)!)]));

  return {
    add(delivery) {
      total++;
      overall.add(delivery);
      byStatus.set(delivery.status, (byStatus.get(delivery.status) ?? 0) + 1);
      if (delivery.status === 'skipped') {
        const reason = delivery.skipReason ?? 'unknown';
        skippedByReason.set(reason, (skippedByReason.get(reason) ?? 0) + 1);
      }
      counter(byChannel, delivery.channel).add(delivery);
      counter(byKind, delivery.kind).add(delivery);
      counter(byDay, dayOf(delivery.requestedAt)).add(delivery);
      if (delivery.status !== 'skipped') {
        toProvider.add(delivery.latencyToSentMs);
        toDelivered.add(delivery.latencyToDeliveredMs);
      }
    },
    result() {
      return {
        from: range.from,
        to: range.to,
        timeZone,
        total,
        ...overall.summary(),
        byStatus: sortedRecord(byStatus, (n) => n),
        skippedByReason: sortedRecord(skippedByReason, (n) => n),
        timeToProviderAccepted: toProvider.summary(),
        timeToDelivered: toDelivered.summary(),
        byChannel: sortedRecord(byChannel, (c) => c.summary()),
        byKind: sortedRecord(byKind, (c) => c.summary()),
        byDay: [...byDay.keys()].sort().map((day) => ({ day, ...byDay.get(day)!.summary() })),
      };
    },
  };
}

/** The pure aggregation over deliveries already in memory. */
export function summarizeNotifications(
  deliveries: Iterable<AnalyticsDelivery>,
  range: AnalyticsRange,
): NotificationAnalytics {
  const accumulator = createNotificationAnalyticsAccumulator(range);
  for (const delivery of deliveries) accumulator.add(delivery);
  return accumulator.result();
}

export interface NotificationAnalyticsQuery extends AnalyticsRange {
  readonly tenantId: string;
  /** Documents read per round trip. Default 1 000. */
  readonly pageSize?: number;
}

/**
 * Hands every delivery of the tenant in [from, to) to `each`, page by page. Paging is by a cursor on
 * (requestedAt, _id): each page starts at the last `requestedAt` seen and skips only the documents already read
 * at that same instant, so the cost stays linear however many pages there are (no growing `skip`).
 * Deliveries recorded while the pages are read may or may not be counted; none is counted twice unless it is
 * inserted at exactly the cursor's instant with a smaller id.
 */
async function forEachDelivery(
  readModels: ReadModelStore,
  query: { readonly tenantId: string; readonly from: string; readonly to: string; readonly pageSize?: number },
  each: (delivery: DeliveryDocument) => void,
): Promise<void> {
  const pageSize = query.pageSize ?? 1_000;
  const collection = physicalCollection(deliveriesProjection);
  let cursor = query.from;
  let skip = 0;
  for (;;) {
    const page = await readModels.find<DeliveryDocument & { _id: string }>(
      collection,
      { tenantId: query.tenantId, requestedAt: { $gte: cursor, $lt: query.to } },
      { sort: { field: 'requestedAt', direction: 1 }, skip, limit: pageSize },
    );
    for (const delivery of page) each(delivery);
    if (page.length < pageSize) break;
    const last = page[page.length - 1]!.requestedAt;
    const atLast = page.filter((d) => d.requestedAt === last).length;
    if (last === cursor) skip += page.length;
    else {
      cursor = last;
      skip = atLast;
    }
  }
}

/** Reads the tenant's deliveries in [from, to) page by page (forEachDelivery) and aggregates them. */
export async function queryNotificationAnalytics(
  readModels: ReadModelStore,
  query: NotificationAnalyticsQuery,
): Promise<NotificationAnalytics> {
  const from = new Date(query.from).toISOString();
  const to = new Date(query.to).toISOString();
  const accumulator = createNotificationAnalyticsAccumulator({
    from,
    to,
    ...(query.timeZone ? { timeZone: query.timeZone } : {}),
  });
  await forEachDelivery(readModels, { ...query, from, to }, (delivery) => accumulator.add(delivery));
  return accumulator.result();
}

// Time series ----------------------------------------------------------------------------------------------------------

export type SeriesBucket = 'hour' | 'day';

export interface SeriesPoint extends RateSummary {
  /** The bucket in `timeZone`: `YYYY-MM-DD` for days, `YYYY-MM-DDTHH:00` for hours (local wall-clock time). */
  readonly bucket: string;
  /** Causing event → provider accepted, over the bucket's accepted deliveries. */
  readonly timeToProviderAccepted: LatencySummary;
  /** Per channel that has deliveries anywhere in the range (so every point has the same channels). */
  readonly byChannel: Readonly<Record<string, RateSummary>>;
}

export interface DeliverySeries {
  readonly from: string;
  readonly to: string;
  readonly timeZone: string;
  readonly bucket: SeriesBucket;
  /** Every bucket the range touches, in order, empty ones included (zero counts, null rates and times). */
  readonly points: readonly SeriesPoint[];
}

/** `YYYY-MM-DDTHH:00` of an instant's local hour in a zone. */
export function hourKeyOf(timeZone: string): (instant: string) => string {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    hourCycle: 'h23',
  });
  return (instant) => {
    const parts = Object.fromEntries(format.formatToParts(new Date(instant)).map((p) => [p.type, p.value]));
    return `${parts['year']}-${parts['month']}-${parts['day']}T${parts['hour']}:00`;
  };
}

/**
 * The buckets [from, to) touches, in order: local days or local hours of `timeZone`. Walks the range in steps shorter
 * than any bucket (an hour for days, a quarter of an hour for hours, so zones offset by :30 or :45 lose no hour); the
 * caller bounds the range (the route: 400 days of days, 31 days of hours). The hour repeated when clocks go back is
 * one bucket.
 */
export function bucketKeys(
  range: { from: string; to: string },
  keyOf: (instant: string) => string,
  stepMs: number,
): string[] {
  const keys = new Set<string>();
  const end = Date.parse(range.to);
  for (let at = Date.parse(range.from); at < end; at += stepMs) keys.add(keyOf(new Date(at).toISOString()));
  keys.add(keyOf(new Date(end - 1).toISOString()));
  return [...keys];
}

/** Deliveries per local hour or day: the rates, time to provider and success per channel of each bucket. */
export function createDeliverySeriesAccumulator(range: AnalyticsRange & { readonly bucket: SeriesBucket }): {
  add(delivery: AnalyticsDelivery): void;
  result(): DeliverySeries;
} {
  const timeZone = range.timeZone ?? 'UTC';
  const keyOf = range.bucket === 'day' ? dayKeyOf(timeZone) : hourKeyOf(timeZone);
  const keys = bucketKeys(range, keyOf, range.bucket === 'day' ? 3_600_000 : 900_000);
  const buckets = new Map(
    keys.map((key) => [
      key,
      { rates: new RateCounter(), toProvider: new LatencyCollector(), channels: new Map<string, RateCounter>() },
    ]),
  );
  const channels = new Set<string>();
  return {
    add(delivery) {
      const bucket = buckets.get(keyOf(delivery.requestedAt));
      if (!bucket) return;
      channels.add(delivery.channel);
      bucket.rates.add(delivery);
      let channel = bucket.channels.get(delivery.channel);
      if (!channel) bucket.channels.set(delivery.channel, (channel = new RateCounter()));
      channel.add(delivery);
      if (delivery.status !== 'skipped') bucket.toProvider.add(delivery.latencyToSentMs);
    },
    result() {
      const channelNames = [...channels].sort();
      return {
        from: range.from,
        to: range.to,
        timeZone,
        bucket: range.bucket,
        points: keys.map((key) => {
          const bucket = buckets.get(key)!;
          return {
            bucket: key,
            ...bucket.rates.summary(),
            timeToProviderAccepted: bucket.toProvider.summary(),
            byChannel: Object.fromEntries(
              channelNames.map((name) => [name, (bucket.channels.get(name) ?? new RateCounter()).summary()]),
            ),
          };
        }),
      };
    },
  };
}

/** The tenant's deliveries in [from, to) as a series of local hours or days (read page by page, as above). */
export async function queryDeliverySeries(
  readModels: ReadModelStore,
  query: NotificationAnalyticsQuery & { readonly bucket: SeriesBucket },
): Promise<DeliverySeries> {
  const from = new Date(query.from).toISOString();
  const to = new Date(query.to).toISOString();
  const accumulator = createDeliverySeriesAccumulator({
    from,
    to,
    bucket: query.bucket,
    ...(query.timeZone ? { timeZone: query.timeZone } : {}),
  });
  await forEachDelivery(readModels, { ...query, from, to }, (delivery) => accumulator.add(delivery));
  return accumulator.result();
}
