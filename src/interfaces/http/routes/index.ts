import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { HttpDeps } from '../http-deps.js';
import { reservationRoutes } from './reservations.routes.js';

/** Every versioned API route, mounted under /v1. */
export function apiRoutes(deps: HttpDeps): FastifyPluginAsyncZod {
  return async (app) => {
    await app.register(reservationRoutes(deps));
  };
}
