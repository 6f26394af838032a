import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { HttpDeps } from '../http-deps.js';

/** Every versioned API route, mounted under /v1. */
export function apiRoutes(_deps: HttpDeps): FastifyPluginAsyncZod {
  return async (_app) => {};
}
