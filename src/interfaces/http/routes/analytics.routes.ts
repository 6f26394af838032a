import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { queryNotificationAnalytics } from '../../../application/notifications/notification-analytics.js';
import { requireRole } from '../auth.js';
import type { HttpDeps } from '../http-deps.js';
import { HttpProblem, problem } from '../problem.js';
import { instant, json, problems, timeZone } from '../schemas/common.js';

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

export function analyticsRoutes(deps: Pick<HttpDeps, 'readModels' | 'clock'>): FastifyPluginAsyncZod {
  return async (app) => {
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
        const to = request.query.to ? new Date(request.query.to) : deps.clock.now();
        const from = request.query.from ? new Date(request.query.from) : new Date(to.getTime() - 30 * DAY_MS);
        if (from.getTime() >= to.getTime()) {
          throw new HttpProblem(
            problem(400, 'invalid-range', 'The range is empty.', {
              detail: '`from` must be before `to`.',
              errors: [{ field: 'querystring.from', message: 'must be before to' }],
            }),
          );
        }
        if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * DAY_MS) {
          throw new HttpProblem(
            problem(400, 'range-too-long', `The range may span at most ${MAX_RANGE_DAYS} days.`, {
              errors: [{ field: 'querystring.from', message: `must be at most ${MAX_RANGE_DAYS} days before to` }],
            }),
          );
        }
        const analytics = await queryNotificationAnalytics(deps.readModels, {
          tenantId: principal.tenantId,
          from: from.toISOString(),
          to: to.toISOString(),
          ...(request.query.timeZone ? { timeZone: request.query.timeZone } : {}),
        });
        return { ...analytics, byDay: [...analytics.byDay] };
      },
    );
  };
}
