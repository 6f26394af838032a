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

export interface BuildAppOptions {
  /** A pino instance to log requests with; none in tests. */
  readonly loggerInstance?: FastifyServerOptions['loggerInstance'];
}

const ONE_MIB = 1024 * 1024;

/** Builds the HTTP app apart from `listen()`, so tests drive it with `app.inject`. */
export async function buildApp(deps: HttpDeps, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.loggerInstance ? { loggerInstance: options.loggerInstance } : { logger: false }),
    bodyLimit: ONE_MIB,
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

  registerAuthentication(app, deps.tenancy);
  registerIdempotency(app, deps);
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
  await app.register(healthRoutes(deps));
  await app.register(apiRoutes(deps), { prefix: '/v1' });
  return app;
}
