import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HttpDeps } from '../http-deps.js';
import { problem, sendProblem } from '../problem.js';
import { json, problemResponse } from '../schemas/common.js';

const readiness = z
  .object({
    ready: z.boolean(),
    checks: z.record(z.string(), z.object({ ok: z.boolean(), detail: z.string().optional() })),
  })
  .meta({ id: 'Readiness' });

export function healthRoutes(deps: Pick<HttpDeps, 'health'>): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/health/live',
      {
        config: { public: true },
        schema: {
          operationId: 'getLiveness',
          tags: ['health'],
          response: { 200: json(z.object({ status: z.literal('ok') }), 'The process is up.') },
        },
      },
      async () => ({ status: 'ok' as const }),
    );
    app.get(
      '/health/ready',
      {
        config: { public: true },
        schema: {
          operationId: 'getReadiness',
          tags: ['health'],
          response: {
            200: json(readiness, 'Every store answers and every subscription has caught up.'),
            503: problemResponse(503, 'Not ready: the extension member `checks` says which check fails and why.'),
          },
        },
      },
      async (request, reply) => {
        const report = await deps.health.ready();
        if (report.ready) return reply.code(200).send(report);
        const failing = Object.entries(report.checks).filter(([, check]) => !check.ok);
        return sendProblem(
          reply,
          request,
          problem(503, 'not-ready', 'Not ready.', {
            detail: `Failing: ${failing.map(([name]) => name).join(', ')}.`,
            ready: false,
            checks: report.checks,
          }),
        );
      },
    );
  };
}
