import type { ReadModelStore, StoredDocument } from '../ports/read-model-store.port.js';
import { nearestRankPercentile } from '../notifications/notification-analytics.js';
import { physicalCollection } from '../projections/projection.js';
import {
  reservationDetailsProjection,
  type ReservationDocument,
} from '../projections/reservation-details.projection.js';
import { waitlistEntriesProjection, type WaitlistEntryDocument } from '../projections/waitlist-entries.projection.js';

/**
 * Waitlist analytics over the entries read model (one document per entry) and the reservations read model (did the
 * booked customer come?). Definitions, repeated in the route's description for analysts:
 * - joined: entries that joined in [from, to); every other figure is about those entries.
 * - offered: entries that were offered a seat (or assigned one) at least once.
 * - booked: entries that got a reservation (accepted an offer, or were assigned a seat); `seatsFilled` sums their
 *   party sizes. `accepted` counts offers taken, `assigned` seats booked directly.
 * - attended: booked entries whose reservation was completed.
 * - expired: entries whose offer ran out unanswered; declined: entries that let the offer go.
 * - conversion = booked ÷ joined; expiryRate = expired ÷ offered (percentages, two decimals).
 * - freedToFilled: from the release that freed the seat to the reservation (accepted/assigned); timeToOffer: from
 *   joining to the first offer. Median and p90 by the nearest-rank method, so each is a measured value.
 */
export interface WaitlistFigures {
  readonly joined: number;
  readonly offered: number;
  readonly booked: number;
  readonly accepted: number;
  readonly assigned: number;
  readonly attended: number;
  readonly declined: number;
  readonly expired: number;
  readonly left: number;
  readonly removed: number;
  readonly stillWaiting: number;
  /** Waiting when the slot started (or its list closed): never got a seat. */
  readonly notServed: number;
  readonly seatsFilled: number;
  readonly conversionPercent: number | null;
  readonly expiryRatePercent: number | null;
  readonly freedToFilled: Timing;
  readonly timeToOffer: Timing;
}

export interface Timing {
  readonly count: number;
  readonly medianMs: number | null;
  readonly p90Ms: number | null;
  readonly maxMs: number | null;
}

export type WaitlistGrouping = 'service' | 'location' | 'day' | 'none';

export interface WaitlistAnalytics extends WaitlistFigures {
  readonly from: string;
  readonly to: string;
  readonly groupBy: WaitlistGrouping;
  readonly groups: readonly (WaitlistFigures & { readonly key: string; readonly label: string })[];
}

/** One request reads at most this many entries: a longer period or a busier tenant is several requests. */
export const MAX_ANALYTICS_ENTRIES = 100_000;

const percent = (part: number, whole: number) => (whole === 0 ? null : Math.round((part / whole) * 10_000) / 100);

function timing(values: number[]): Timing {
  const sorted = values.filter((v) => Number.isFinite(v) && v >= 0).sort((a, b) => a - b);
  return {
    count: sorted.length,
    medianMs: nearestRankPercentile(sorted, 50),
    p90Ms: nearestRankPercentile(sorted, 90),
    maxMs: sorted.at(-1) ?? null,
  };
}

const ms = (from: string | null, to: string | null) => (from && to ? Date.parse(to) - Date.parse(from) : NaN);

export type AnalyticsEntry = Pick<
  WaitlistEntryDocument,
  | 'status'
  | 'partySize'
  | 'joinedAt'
  | 'start'
  | 'firstOfferedAt'
  | 'mode'
  | 'bookedAt'
  | 'freedAt'
  | 'reservationId'
  | 'offers'
>;

/** The figures of a set of entries; `attended` tells whether a booked entry's reservation was completed. */
export function waitlistFigures(
  entries: readonly AnalyticsEntry[],
  attended: (reservationId: string) => boolean,
  now: string,
): WaitlistFigures {
  const count = (predicate: (entry: AnalyticsEntry) => boolean) => entries.filter(predicate).length;
  const booked = entries.filter((e) => e.status === 'booked');
  const offered = count((e) => e.offers > 0);
  const expired = count((e) => e.status === 'expired');
  const waitingPast = (e: AnalyticsEntry) => e.status === 'closed' || (e.status === 'waiting' && e.start <= now);
  return {
    joined: entries.length,
    offered,
    booked: booked.length,
    accepted: booked.filter((e) => e.mode === 'offer').length,
    assigned: booked.filter((e) => e.mode === 'assign').length,
    attended: booked.filter((e) => e.reservationId !== null && attended(e.reservationId)).length,
    declined: count((e) => e.status === 'declined'),
    expired,
    left: count((e) => e.status === 'left'),
    removed: count((e) => e.status === 'removed'),
    stillWaiting: count((e) => (e.status === 'waiting' || e.status === 'offered') && !waitingPast(e)),
    notServed: count(waitingPast),
    seatsFilled: booked.reduce((sum, e) => sum + e.partySize, 0),
    conversionPercent: percent(booked.length, entries.length),
    expiryRatePercent: percent(expired, offered),
    freedToFilled: timing(booked.map((e) => ms(e.freedAt, e.bookedAt))),
    timeToOffer: timing(entries.map((e) => ms(e.joinedAt, e.firstOfferedAt))),
  };
}

export interface WaitlistAnalyticsQuery {
  readonly tenantId: string;
  readonly from: string;
  readonly to: string;
  readonly now: string;
  readonly serviceId?: string;
  readonly locationId?: string;
  readonly groupBy?: WaitlistGrouping;
}

export async function queryWaitlistAnalytics(
  readModels: ReadModelStore,
  query: WaitlistAnalyticsQuery,
): Promise<WaitlistAnalytics> {
  const entries = await readModels.find<WaitlistEntryDocument & StoredDocument>(
    physicalCollection(waitlistEntriesProjection),
    {
      tenantId: query.tenantId,
      joinedAt: { $gte: query.from, $lt: query.to },
      ...(query.serviceId !== undefined ? { serviceId: query.serviceId } : {}),
      ...(query.locationId !== undefined ? { locationId: query.locationId } : {}),
    },
    { sort: { field: 'joinedAt', direction: 1 }, limit: MAX_ANALYTICS_ENTRIES },
  );
  const reservationIds = entries.flatMap((e) => (e.status === 'booked' && e.reservationId ? [e.reservationId] : []));
  const completed = new Set<string>();
  for (let i = 0; i < reservationIds.length; i += 500) {
    const docs = await readModels.find<ReservationDocument & StoredDocument>(
      physicalCollection(reservationDetailsProjection),
      { tenantId: query.tenantId, reservationId: { $in: reservationIds.slice(i, i + 500) } },
      { limit: 500 },
    );
    for (const doc of docs) if (doc.status === 'completed') completed.add(doc.reservationId);
  }
  const attended = (reservationId: string) => completed.has(reservationId);
  const groupBy = query.groupBy ?? 'service';
  const groups = new Map<string, { label: string; entries: WaitlistEntryDocument[] }>();
  if (groupBy !== 'none') {
    for (const entry of entries) {
      const [key, label] =
        groupBy === 'service'
          ? [entry.serviceId, entry.serviceName]
          : groupBy === 'location'
            ? [entry.locationId, entry.locationId]
            : [entry.joinedDay, entry.joinedDay];
      const group = groups.get(key) ?? { label, entries: [] };
      group.entries.push(entry);
      groups.set(key, group);
    }
  }
  return {
    from: query.from,
    to: query.to,
    groupBy,
    ...waitlistFigures(entries, attended, query.now),
    groups: [...groups.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, group]) => ({ key, label: group.label, ...waitlistFigures(group.entries, attended, query.now) })),
  };
}
