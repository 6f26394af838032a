import fastifyRateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { registerAuthentication } from './auth.js';
import { registerIdempotency } from './idempotency.js';
import { registerOpenApi } from './openapi.js';
import { answerClientError, answerFrameworkError, registerErrorHandling } from './problem.js';
import { healthRoutes } from './routes/health.routes.js';
import type { HttpDeps } from './http-deps.js';
import { apiRoutes } from './routes/index.js';
import { claimPageRoutes } from './routes/claim-page.routes.js';
import { metricsRoutes } from './routes/metrics.routes.js';

export interface BuildAppOptions {
  /** A pino instance to log requests with; none in tests. */
  readonly loggerInstance?: FastifyServerOptions['loggerInstance'];
  /** TRUST_PROXY: which proxies' X-Forwarded-For give the client address (rate limits). Default: none. */
  readonly trustProxy?: FastifyServerOptions['trustProxy'];
  /** How long a client may take to send a whole request before a 408 (default 30 s). */
  readonly requestTimeoutMs?: number;
}

const ONE_MINUTE_MS = 60_000;

const ONE_MIB = 1024 * 1024;
/** Node's limit on the request head: no path segment can be longer, so the router never refuses one by length. */
const MAX_HEADER_SIZE = 16 * 1024;

/** Builds the HTTP app apart from `listen()`, so tests drive it with `app.inject`. */
export async function buildApp(deps: HttpDeps, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const app = Fastify({
    ...(options.loggerInstance ? { loggerInstance: options.loggerInstance } : { logger: false }),
    bodyLimit: ONE_MIB,
    ...(options.trustProxy !== undefined ? { trustProxy: options.trustProxy } : {}),
    ajv: { customOptions: { removeAdditional: false } },
    // A path parameter is checked by its route's schema (a 400 naming it), not cut off by the router (a 414).
    routerOptions: { maxParamLength: MAX_HEADER_SIZE },
    // fastify disables Node's request timeout; a client announcing more body than it sends would hold a socket.
    // Node arms the timeout only when the server is created with it, hence `http` as well.
    requestTimeout: requestTimeoutMs,
    http: { requestTimeout: requestTimeoutMs, connectionsCheckingInterval: Math.ceil(requestTimeoutMs / 2) },
    // Requests refused before they reach a route are problem+json like every other error.
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // Only JSON (and, on the Twilio routes, forms): a text/plain body is a 415, not a string that fails validation.
  app.removeContentTypeParser('text/plain');
  registerErrorHandling(app);
  const { metrics } = deps;
  if (metrics) {
    // The route template, never the URL (ids stay out of labels); a request no route matched is `unmatched`.
    app.addHook('onResponse', async (request, reply) => {
      metrics.observeRequest(
        request.method,
        request.routeOptions.url ?? 'unmatched',
        reply.statusCode,
        reply.elapsedTime / 1000,
      );
    });
  }

  await registerOpenApi(app);

  // @fastify/rate-limit without its global hook: authentication asks it about failures and about each key.
  await app.register(fastifyRateLimit, { global: false });
  const limits = deps.limits ?? { requestsPerKeyPerMinute: 6000, authFailuresPerMinute: 30 };
  registerAuthentication(app, deps.tenancy, {
    failedAuthentication: app.createRateLimit({
      max: limits.authFailuresPerMinute,
      timeWindow: ONE_MINUTE_MS,
      keyGenerator: (request) => `address:${request.ip}`,
    }),
    ...(limits.requestsPerKeyPerMinute > 0
      ? {
          perKey: app.createRateLimit({
            max: limits.requestsPerKeyPerMinute,
            timeWindow: ONE_MINUTE_MS,
            keyGenerator: (request) => `key:${request.principal?.keyId ?? request.operator?.actor ?? request.ip}`,
          }),
        }
      : {}),
  });
  registerIdempotency(app, deps);
  await app.register(healthRoutes(deps));
  await app.register(metricsRoutes(metrics));
  await app.register(claimPageRoutes(deps));
  await app.register(apiRoutes(deps), { prefix: '/v1' });
  return app;
}
