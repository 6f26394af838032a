import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CommandContext } from '../../application/command-handler.js';
import type {
  ApiKeyAuthenticator,
  Authentication,
  Operator,
  Principal,
  Role,
} from '../../application/ports/api-keys.port.js';
import { HttpProblem, problem } from './problem.js';
import type { StaffSession } from '../../application/staff/staff-accounts.js';

/** The staff console's session cookie (HttpOnly, SameSite=Strict, Secure outside plain-http development). */
export const SESSION_COOKIE = 'herald_staff';
export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The session cookie's value, from the Cookie header (RFC 6265 §5.4; the first one if sent twice). */
export function readSessionCookie(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (typeof header !== 'string' || header.length > 8192) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export interface StaffSessionCheck {
  authenticate(token: string): Promise<StaffSession | null>;
  verifyCsrfToken(sessionId: string, token: string): boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set when the request was made with a staff console session cookie (and no API key). */
    staffSession?: StaffSession;
    /** The tenant key's principal; absent for the operator key (it has no tenant). */
    principal?: Principal;
    /** Set when the key is the operator's (OPERATOR_API_KEY, or the bootstrap key without it). */
    operator?: Operator;
  }
  interface FastifyContextConfig {
    /** Routes reachable without an API key (health, docs, provider webhooks that verify their own signature). */
    public?: boolean;
    /** Routes of the operator (tenants): only the operator key opens them. */
    operator?: boolean;
  }
}

/** `Authorization: Bearer <key>` (the scheme is case-insensitive, RFC 9110 §11.1) or `X-Api-Key: <key>`. */
export function readSecret(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string') {
    const match = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    if (match) return match[1];
  }
  const apiKey = request.headers['x-api-key'];
  return typeof apiKey === 'string' ? apiKey.trim() : undefined;
}

export function unauthenticated(): HttpProblem {
  return new HttpProblem(
    problem(401, 'unauthenticated', 'A valid API key is required.', {
      detail: 'Send it as "Authorization: Bearer <key>" or "X-Api-Key: <key>".',
    }),
  );
}

/** What a limiter made with @fastify/rate-limit's `createRateLimit` answers for a request. */
export type RateLimiter = (
  request: FastifyRequest,
) => Promise<{ isAllowed: true } | { isAllowed: false; isExceeded: boolean; ttlInSeconds: number; max: number }>;

export interface AuthenticationLimits {
  /** Counts failed authentications per client address (AUTH_FAILURES_PER_MINUTE). */
  readonly failedAuthentication: RateLimiter;
  /** Counts requests per key (RATE_LIMIT_PER_KEY); absent when the limit is off. */
  readonly perKey?: RateLimiter;
}

/**
 * A staff console request: the session cookie instead of an API key. Unsafe methods also need the session's CSRF
 * token in X-CSRF-Token (the cookie is SameSite=Strict as well; the header is what a cross-site form cannot send).
 */
async function sessionAuthentication(
  request: FastifyRequest,
  sessions: StaffSessionCheck,
  token: string,
): Promise<Authentication | null> {
  const session = await sessions.authenticate(token);
  if (!session) return null;
  if (!SAFE_METHODS.has(request.method)) {
    const csrf = request.headers[CSRF_HEADER];
    if (typeof csrf !== 'string' || !sessions.verifyCsrfToken(session.claims.sessionId, csrf)) {
      throw new HttpProblem(
        problem(403, 'csrf-token-invalid', 'This request needs the session’s CSRF token.', {
          detail: 'Send the csrfToken of GET /v1/staff-sessions/current in the X-CSRF-Token header.',
        }),
      );
    }
  }
  request.staffSession = session;
  return {
    principal: {
      keyId: `staff:${session.account.staffId}`,
      tenantId: session.account.tenantId,
      role: session.account.role,
      actor: `staff:${session.account.staffId}`,
    },
  };
}

function tooManyRequests(reply: FastifyReply, retryAfterSeconds: number, code: string, title: string, detail: string) {
  reply.header('retry-after', String(Math.max(1, retryAfterSeconds)));
  return new HttpProblem(problem(429, code, title, { detail, retryAfterSeconds: Math.max(1, retryAfterSeconds) }));
}

/**
 * Every non-public route needs a valid key: none or an unknown one is 401, and past AUTH_FAILURES_PER_MINUTE failed
 * attempts from one client address in a minute, 429 with Retry-After (until that minute is over). A valid
 * key is let in whatever others at the same address did (shared NATs), and is itself limited to RATE_LIMIT_PER_KEY
 * requests a minute (429). Operator routes need the operator key; every other route needs a tenant key (the
 * operator key alone has no tenant): 403 otherwise.
 */
export function registerAuthentication(
  app: FastifyInstance,
  apiKeys: ApiKeyAuthenticator,
  limits: AuthenticationLimits,
  sessions?: StaffSessionCheck,
): void {
  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config?.public) return;
    if (!request.routeOptions.url) return; // unknown route: let the 404 handler answer
    const secret = readSecret(request);
    const cookie = secret || !sessions ? undefined : readSessionCookie(request);
    const authentication = secret
      ? await apiKeys.authenticate(secret)
      : cookie && sessions
        ? await sessionAuthentication(request, sessions, cookie)
        : null;
    if (!authentication) {
      const limit = await limits.failedAuthentication(request);
      if (!limit.isAllowed && limit.isExceeded) {
        throw tooManyRequests(
          reply,
          limit.ttlInSeconds,
          'too-many-failed-authentications',
          'Too many failed authentications from this address.',
          `More than ${limit.max} requests without a valid API key within a minute; retry after the Retry-After seconds.`,
        );
      }
      throw unauthenticated();
    }
    if (limits.perKey) {
      if (authentication.principal) request.principal = authentication.principal;
      if (authentication.operator) request.operator = authentication.operator;
      const limit = await limits.perKey(request);
      if (!limit.isAllowed && limit.isExceeded) {
        throw tooManyRequests(
          reply,
          limit.ttlInSeconds,
          'rate-limited',
          'Too many requests with this API key.',
          `This key may make ${limit.max} requests a minute; retry after the Retry-After seconds.`,
        );
      }
    }
    if (authentication.principal) {
      request.principal = authentication.principal;
      if (!request.staffSession) apiKeys.recordUse(authentication.principal);
    }
    if (authentication.operator) request.operator = authentication.operator;
    if (request.routeOptions.config?.operator) {
      if (!request.operator) {
        throw new HttpProblem(
          problem(403, 'forbidden', 'This action needs the operator key.', {
            detail: 'Tenants are managed with OPERATOR_API_KEY (or BOOTSTRAP_API_KEY when no operator key is set).',
          }),
        );
      }
    } else if (!request.principal) {
      throw new HttpProblem(
        problem(403, 'forbidden', 'The operator key has no tenant.', {
          detail: "Use a tenant's API key for this route; the operator key manages tenants only.",
        }),
      );
    }
  });
}

/** The operator, for an operator route that passed authentication. */
export function operatorOf(request: FastifyRequest): Operator {
  if (!request.operator) throw unauthenticated();
  return request.operator;
}

/** The caller, for a route that passed authentication. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw unauthenticated();
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
  return { tenantId: principal.tenantId, actor: principal.actor ?? `apikey:${principal.keyId}`, correlationId };
}
