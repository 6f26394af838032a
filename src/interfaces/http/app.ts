import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import { registerAuthentication } from './auth.js';
import { registerIdempotency } from './idempotency.js';
import { registerErrorHandling } from './problem.js';
import { healthRoutes } from './routes/health.routes.js';
import type { HttpDeps } from './http-deps.js';
import { apiRoutes } from './routes/index.js';
import { claimPageRoutes } from './routes/claim-page.routes.js';

export interface BuildAppOptions {
  /** A pino instance to log requests with; none in tests. */
  readonly loggerInstance?: FastifyServerOptions['loggerInstance'];
  /** TRUST_PROXY: which proxies' X-Forwarded-For give the client address (rate limits). Default: none. */
  readonly trustProxy?: FastifyServerOptions['trustProxy'];
}

const ONE_MINUTE_MS = 60_000;

const ONE_MIB = 1024 * 1024;

/** Builds the HTTP app apart from `listen()`, so tests drive it with `app.inject`. */
export async function buildApp(deps: HttpDeps, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.loggerInstance ? { loggerInstance: options.loggerInstance } : { logger: false }),
    bodyLimit: ONE_MIB,
    ...(options.trustProxy !== undefined ? { trustProxy: options.trustProxy } : {}),
    ajv: { customOptions: { removeAdditional: false } },
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerErrorHandling(app);

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Herald',
        version: '0.1.0',
        description:
          'Customer communication for reservation systems: confirmations, reminders, waitlists and a delivery audit trail. Errors are RFC 9457 application/problem+json.',
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API key.' },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
        },
      },
      security: [{ bearerAuth: [] }, { apiKey: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/docs')) route.config = { ...(route.config as object), public: true };
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: true } });

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
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
  await app.register(healthRoutes(deps));
  await app.register(claimPageRoutes(deps));
  await app.register(apiRoutes(deps), { prefix: '/v1' });
  return app;
}
