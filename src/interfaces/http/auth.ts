import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CommandContext } from '../../application/command-handler.js';
import type { ApiKeys, Principal, Role } from '../../application/ports/api-keys.port.js';
import { HttpProblem, problem } from './problem.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifyContextConfig {
    /** Routes reachable without an API key (health, docs, provider webhooks that verify their own signature). */
    public?: boolean;
  }
}

function readSecret(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice('Bearer '.length).trim();
  const apiKey = request.headers['x-api-key'];
  return typeof apiKey === 'string' ? apiKey.trim() : undefined;
}

/** Every non-public route needs a valid key: none or an unknown one is 401. */
export function registerAuthentication(app: FastifyInstance, apiKeys: ApiKeys): void {
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config?.public) return;
    if (!request.routeOptions.url) return; // unknown route: let the 404 handler answer
    const secret = readSecret(request);
    const principal = secret ? await apiKeys.authenticate(secret) : null;
    if (!principal) {
      throw new HttpProblem(
        problem(401, 'unauthenticated', 'A valid API key is required.', {
          detail: 'Send it as "Authorization: Bearer <key>" or "X-Api-Key: <key>".',
        }),
      );
    }
    request.principal = principal;
  });
}

/** The caller, for a route that passed authentication. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new HttpProblem(problem(401, 'unauthenticated', 'A valid API key is required.'));
  return request.principal;
}

/** The caller, if it has one of `roles`; 403 otherwise. */
export function requireRole(request: FastifyRequest, ...roles: Role[]): Principal {
  const principal = principalOf(request);
  if (!roles.includes(principal.role)) {
    throw new HttpProblem(
      problem(403, 'forbidden', `This action needs one of the roles: ${roles.join(', ')}.`, { role: principal.role }),
    );
  }
  return principal;
}

/** Who acts, for the events a request appends: the caller's key, correlated with the request id. */
export function commandContext(principal: Principal, correlationId: string): CommandContext {
  return { tenantId: principal.tenantId, actor: `apikey:${principal.keyId}`, correlationId };
}
