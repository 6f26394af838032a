import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  queryDeliverySeries,
  queryNotificationAnalytics,
} from '../../../application/notifications/notification-analytics.js';
import { queryWaitlistAnalytics } from '../../../application/waitlist/waitlist-analytics.js';
import { requireRole } from '../auth.js';
import type { HttpDeps } from '../http-deps.js';
import { HttpProblem, problem } from '../problem.js';
import { id, instant, json, problems, timeZone } from '../schemas/common.js';

const DAY_MS = 24 * 60 * 60_000;
/** Bounds the work of one request; a longer period is several requests. */
const MAX_RANGE_DAYS = 400;

// No schema id here: @fastify/swagger cannot expand a $ref into query parameters.
const querySchema = z.strictObject({
  from: instant
    .optional()
    .describe('Inclusive start (ISO-8601 with offset; encode "+" as %2B). Default: 30 days before `to`.'),
  to: instant.optional().describe('Exclusive end. Default: now.'),
  timeZone: timeZone.optional().describe('IANA zone the per-day figures are counted in. Default UTC.'),
});

const rateSummary = z.object({
  requested: z.number().int().describe('Deliveries meant to go out (skipped ones excluded).'),
  accepted: z.number().int().describe('Accepted by the provider.'),
  succeeded: z.number().int().describe('Accepted and not reported failed, undelivered or bounced.'),
  failed: z.number().int().describe('Refused, dead-lettered, or reported failed/undelivered/bounced.'),
  pending: z.number().int().describe('Requested, sending or waiting for a retry.'),
  skipped: z.number().int().describe('Not sent on purpose (preferences, missing contact, credits).'),
  deliveryRatePercent: z.number().nullable().describe('accepted ÷ requested × 100.'),
  successPercent: z.number().nullable().describe('succeeded ÷ requested × 100.'),
});
const latencySummary = z.object({
  count: z.number().int(),
  averageMs: z.number().nullable(),
  p95Ms: z.number().nullable().describe('Nearest-rank 95th percentile.'),
  maxMs: z.number().nullable(),
});
const analyticsSchema = rateSummary
  .extend({
    from: z.string(),
    to: z.string(),
    timeZone: z.string(),
    total: z.number().int(),
    byStatus: z.record(z.string(), z.number().int()),
    skippedByReason: z.record(z.string(), z.number().int()),
    timeToProviderAccepted: latencySummary.describe('Causing event → provider accepted.'),
    timeToDelivered: latencySummary.describe('Causing event → delivery reported by the provider.'),
    byChannel: z.record(z.string(), rateSummary),
    byKind: z.record(z.string(), rateSummary),
    byDay: z.array(rateSummary.extend({ day: z.string() })),
  })
  .meta({ id: 'NotificationAnalytics' });

const seriesQuerySchema = z.strictObject({
  from: instant
    .optional()
    .describe('Inclusive start (ISO-8601 with offset; encode "+" as %2B). Default: 14 days before `to`.'),
  to: instant.optional().describe('Exclusive end. Default: now.'),
  bucket: z.enum(['hour', 'day']).optional().describe('Local hours or local days of `timeZone`. Default day.'),
  timeZone: timeZone.optional().describe('IANA zone the buckets are counted in. Default UTC.'),
});

const seriesSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    timeZone: z.string(),
    bucket: z.enum(['hour', 'day']),
    points: z.array(
      rateSummary.extend({
        bucket: z.string().describe('YYYY-MM-DD (days) or YYYY-MM-DDTHH:00 (hours), wall-clock time of timeZone.'),
        timeToProviderAccepted: latencySummary.describe('Causing event → provider accepted.'),
        byChannel: z
          .record(z.string(), rateSummary)
          .describe('Every channel with deliveries anywhere in the range, in every point.'),
      }),
    ),
  })
  .meta({ id: 'DeliverySeries' });

/** Bounds the points of one series answer: 400 days, or 31 days of hours (744 points). */
const MAX_HOUR_RANGE_DAYS = 31;

const timing = z.object({
  count: z.number().int(),
  medianMs: z.number().nullable(),
  p90Ms: z.number().nullable().describe('Nearest-rank 90th percentile.'),
  maxMs: z.number().nullable(),
});
const waitlistFigures = z.object({
  joined: z.number().int().describe('Entries that joined in [from, to); every other figure is about them.'),
  offered: z.number().int().describe('Entries offered (or assigned) a seat at least once.'),
  booked: z.number().int().describe('Entries that got a reservation: accepted + assigned.'),
  accepted: z.number().int(),
  assigned: z.number().int(),
  attended: z.number().int().describe('Booked entries whose reservation was completed.'),
  declined: z.number().int(),
  expired: z.number().int().describe('Entries whose offer ran out unanswered.'),
  left: z.number().int(),
  removed: z.number().int(),
  stillWaiting: z.number().int(),
  notServed: z.number().int().describe('Still waiting when the slot started or the list closed.'),
  seatsFilled: z.number().int().describe('Seats filled from waitlists (party sizes of booked entries).'),
  conversionPercent: z.number().nullable().describe('booked ÷ joined × 100.'),
  expiryRatePercent: z.number().nullable().describe('expired ÷ offered × 100.'),
  freedToFilled: timing.describe('From the release that freed the seat to the reservation.'),
  timeToOffer: timing.describe('From joining to the first offer.'),
});
const waitlistAnalyticsSchema = waitlistFigures
  .extend({
    from: z.string(),
    to: z.string(),
    groupBy: z.enum(['service', 'location', 'day', 'none']),
    groups: z.array(waitlistFigures.extend({ key: z.string(), label: z.string() })),
  })
  .meta({ id: 'WaitlistAnalytics' });

const waitlistQuerySchema = z.strictObject({
  from: instant.optional().describe('Entries that joined at or after this instant. Default: 30 days before `to`.'),
  to: instant.optional().describe('Exclusive end. Default: now.'),
  serviceId: id.optional(),
  locationId: id.optional(),
  groupBy: z.enum(['service', 'location', 'day', 'none']).optional().describe('Default service; day is UTC.'),
});

function rangeOf(
  query: { from?: string; to?: string },
  now: Date,
  defaultDays = 30,
  maxDays = MAX_RANGE_DAYS,
): { from: Date; to: Date } {
  const to = query.to ? new Date(query.to) : now;
  const from = query.from ? new Date(query.from) : new Date(to.getTime() - defaultDays * DAY_MS);
  if (from.getTime() >= to.getTime()) {
    throw new HttpProblem(
      problem(400, 'invalid-range', 'The range is empty.', {
        detail: '`from` must be before `to`.',
        errors: [{ field: 'querystring.from', message: 'must be before to' }],
      }),
    );
  }
  if (to.getTime() - from.getTime() > maxDays * DAY_MS) {
    throw new HttpProblem(
      problem(400, 'range-too-long', `The range may span at most ${maxDays} days.`, {
        errors: [{ field: 'querystring.from', message: `must be at most ${maxDays} days before to` }],
      }),
    );
  }
  return { from, to };
}

export function analyticsRoutes(deps: Pick<HttpDeps, 'readModels' | 'clock'>): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/analytics/waitlists',
      {
        schema: {
          operationId: 'getWaitlistAnalytics',
          tags: ['analytics'],
          summary: 'Waitlist conversion: joined → offered → booked → attended, expiry rate, time from freed to filled.',
          description:
            'Counts the entries that joined in [from, to), per service, location or day. Booked = accepted an offer or ' +
            'was assigned a seat; attended = its reservation was completed; freed-to-filled runs from the release ' +
            'that freed the seat to the reservation. Medians and p90 are nearest-rank (measured values).',
          querystring: waitlistQuerySchema,
          response: { 200: json(waitlistAnalyticsSchema, 'The figures, in total and per group.'), ...problems(403) },
        },
      },
      async (request) => {
        const principal = requireRole(request, 'admin', 'staff');
        const now = deps.clock.now();
        const { from, to } = rangeOf(request.query, now);
        const analytics = await queryWaitlistAnalytics(deps.readModels, {
          tenantId: principal.tenantId,
          from: from.toISOString(),
          to: to.toISOString(),
          now: now.toISOString(),
          ...(request.query.serviceId ? { serviceId: request.query.serviceId } : {}),
          ...(request.query.locationId ? { locationId: request.query.locationId } : {}),
          ...(request.query.groupBy ? { groupBy: request.query.groupBy } : {}),
        });
        return { ...analytics, groups: analytics.groups.map((group) => ({ ...group })) };
      },
    );

    app.get(
      '/analytics/notifications',
      {
        schema: {
          operationId: 'getNotificationAnalytics',
          tags: ['analytics'],
          summary:
            'Delivery rate, notification times and success per channel, kind and day, from the delivery audit trail.',
          description:
            'Deliveries count by when they were requested (skips: when skipped), in [from, to). Skipped deliveries are ' +
            'reported by reason and excluded from every rate. Times run from the causing event to the provider ' +
            'accepting the message, and to its delivery report.',
          querystring: querySchema,
          response: { 200: json(analyticsSchema, 'The figures for [from, to).'), ...problems(403) },
        },
      },
      async (request) => {
        const principal = requireRole(request, 'admin', 'staff');
        const { from, to } = rangeOf(request.query, deps.clock.now());
        const analytics = await queryNotificationAnalytics(deps.readModels, {
          tenantId: principal.tenantId,
          from: from.toISOString(),
          to: to.toISOString(),
          ...(request.query.timeZone ? { timeZone: request.query.timeZone } : {}),
        });
        return { ...analytics, byDay: [...analytics.byDay] };
      },
    );

    app.get(
      '/analytics/deliveries/series',
      {
        schema: {
          operationId: 'getDeliverySeries',
          tags: ['analytics'],
          summary:
            'Delivery KPIs over time: per local hour or day, delivery rate, success, time to provider, per channel.',
          description:
            'The figures of GET /v1/analytics/notifications, per bucket of [from, to): every local hour or day of ' +
            '`timeZone` the range touches, empty ones included (zero counts, null rates and times), so a chart has ' +
            'a point per bucket. At most 400 days of days, or 31 days of hours (400 range-too-long beyond).',
          querystring: seriesQuerySchema,
          response: { 200: json(seriesSchema, 'One point per bucket, in order.'), ...problems(400, 401, 403) },
        },
      },
      async (request) => {
        const principal = requireRole(request, 'admin', 'staff');
        const bucket = request.query.bucket ?? 'day';
        const { from, to } = rangeOf(
          request.query,
          deps.clock.now(),
          14,
          bucket === 'hour' ? MAX_HOUR_RANGE_DAYS : MAX_RANGE_DAYS,
        );
        const series = await queryDeliverySeries(deps.readModels, {
          tenantId: principal.tenantId,
          from: from.toISOString(),
          to: to.toISOString(),
          bucket,
          ...(request.query.timeZone ? { timeZone: request.query.timeZone } : {}),
        });
        return { ...series, points: series.points.map((point) => ({ ...point })) };
      },
    );
  };
}
