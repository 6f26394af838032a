import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HttpDeps } from '../http-deps.js';

const readiness = z.object({
  ready: z.boolean(),
  checks: z.record(z.string(), z.object({ ok: z.boolean(), detail: z.string().optional() })),
});

export function healthRoutes(deps: Pick<HttpDeps, 'health'>): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/health/live',
      {
        config: { public: true },
        schema: { tags: ['health'], response: { 200: z.object({ status: z.literal('ok') }) } },
      },
      async () => ({ status: 'ok' as const }),
    );
    app.get(
      '/health/ready',
      { config: { public: true }, schema: { tags: ['health'], response: { 200: readiness, 503: readiness } } },
      async (_request, reply) => {
        const report = await deps.health.ready();
        return reply.code(report.ready ? 200 : 503).send(report);
      },
    );
  };
}
