import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HttpMetrics } from '../http-deps.js';
import { problem, sendProblem } from '../problem.js';
import { problemResponse } from '../schemas/common.js';

const digest = (text: string) => createHash('sha256').update(text).digest();

/** The token from `Authorization: Bearer <token>`, or undefined. Linear, bounded by the header size. */
function bearerOf(header: unknown): string | undefined {
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer ([!-~]{1,512})$/.exec(header);
  return match?.[1];
}

/**
 * GET /metrics: the Prometheus exposition, for a scraper holding METRICS_TOKEN (its own secret, not an API key).
 * Reachable without an API key, so the cheap checks come first: is it configured (else 404), is the token right
 * (a constant-time comparison of digests, else 401) — only then are the metrics rendered, whose size is bounded
 * because no label carries an id.
 */
export function metricsRoutes(metrics: HttpMetrics | undefined): FastifyPluginAsyncZod {
  const expected = metrics?.token === undefined ? undefined : digest(metrics.token);
  return async (app) => {
    app.get(
      '/metrics',
      {
        config: { public: true },
        schema: {
          operationId: 'getMetrics',
          tags: ['health'],
          summary: 'Prometheus metrics (operators; needs METRICS_TOKEN).',
          description:
            'Counters, gauges and histograms in the Prometheus text format: HTTP requests by route template, ' +
            'deliveries by channel and status, provider latency, consumer lag, scheduled-job lateness, dead ' +
            'letters, credits. Labels never carry an id, an address, a name or a tenant. Send ' +
            '`Authorization: Bearer <METRICS_TOKEN>`; without METRICS_TOKEN set, the route answers 404.',
          security: [{ metricsToken: [] }],
          response: {
            200: {
              description: 'The metrics, Prometheus text exposition format 0.0.4.',
              content: { 'text/plain': { schema: z.string() } },
            },
            401: problemResponse(401, 'No or a wrong METRICS_TOKEN.'),
            404: problemResponse(404, 'Metrics are not served: METRICS_TOKEN is not set.'),
          },
        },
      },
      async (request, reply) => {
        if (!metrics || !expected) {
          return sendProblem(
            reply,
            request,
            problem(404, 'not-found', 'Not found.', { detail: 'Metrics are not served: METRICS_TOKEN is not set.' }),
          );
        }
        const token = bearerOf(request.headers.authorization);
        if (token === undefined || !timingSafeEqual(digest(token), expected)) {
          return sendProblem(
            reply,
            request,
            problem(401, 'unauthenticated', 'The metrics token is required.', {
              detail: 'Send it as "Authorization: Bearer <METRICS_TOKEN>".',
            }),
          );
        }
        const { contentType, body } = await metrics.scrape();
        return reply.code(200).header('content-type', contentType).send(body);
      },
    );
  };
}
