import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  changeStaffAccount,
  createStaffAccount,
  getStaffAccount,
  listStaffAccounts,
  signIn,
  signOut,
} from '../../../application/staff/staff-accounts.js';
import { commandContext, requireRole, SESSION_COOKIE } from '../auth.js';
import type { HttpDeps } from '../http-deps.js';
import { HttpProblem, problem } from '../problem.js';
import { empty, json, problems } from '../schemas/common.js';
import {
  changeStaffAccountSchema,
  createStaffAccountSchema,
  signInSchema,
  staffAccountSchema,
  staffParams,
  staffSessionSchema,
} from '../schemas/staff.js';

const ONE_MINUTE_MS = 60_000;

/** The session cookie: HttpOnly (scripts never see it), SameSite=Strict, Secure unless served over plain http. */
export function sessionCookie(deps: HttpDeps, value: string, maxAgeSeconds: number): string {
  return [
    `${SESSION_COOKIE}=${value}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`,
    ...(deps.secureCookies ? ['Secure'] : []),
  ].join('; ');
}

/**
 * Staff console sign-in (a session cookie for an email and password) and the tenant's staff accounts. The console
 * then calls the same /v1 API as any client, with the cookie and its CSRF token instead of an API key.
 */
export function staffRoutes(deps: HttpDeps): FastifyPluginAsyncZod {
  return async (app) => {
    const signInLimit = app.createRateLimit({
      max: deps.limits?.signInAttemptsPerMinute ?? 10,
      timeWindow: ONE_MINUTE_MS,
      keyGenerator: (request) => `sign-in:${request.ip}`,
    });

    app.post(
      '/staff-sessions',
      {
        config: { public: true },
        schema: {
          operationId: 'signInStaff',
          tags: ['staff'],
          summary: 'Sign in to the staff console: a session cookie (HttpOnly) and the CSRF token to send with writes.',
          description:
            'Public, and limited to SIGN_IN_ATTEMPTS_PER_MINUTE attempts per client address (429 with Retry-After). ' +
            'An unknown address, a wrong password and a disabled account get the same 401, in about the same time.',
          security: [],
          body: signInSchema,
          response: {
            201: json(staffSessionSchema, 'Signed in: the cookie is set.', {
              'Set-Cookie': true,
              'Cache-Control': true,
            }),
            ...problems(401, 429),
          },
        },
      },
      async (request, reply) => {
        const limit = await signInLimit(request);
        if (!limit.isAllowed && limit.isExceeded) {
          const seconds = Math.max(1, limit.ttlInSeconds);
          reply.header('retry-after', String(seconds));
          throw new HttpProblem(
            problem(429, 'too-many-sign-in-attempts', 'Too many sign-in attempts from this address.', {
              detail: `At most ${limit.max} attempts a minute; retry after the Retry-After seconds.`,
              retryAfterSeconds: seconds,
            }),
          );
        }
        const signedIn = await signIn(deps.staff, { ...request.body, correlationId: request.id });
        if (!signedIn) {
          throw new HttpProblem(
            problem(401, 'sign-in-failed', 'The email address or the password is not right.', {
              detail: 'Check both and try again; an administrator of the organisation can reset the password.',
            }),
          );
        }
        const seconds = (Date.parse(signedIn.claims.expiresAt) - deps.clock.now().getTime()) / 1000;
        return reply
          .code(201)
          .header('set-cookie', sessionCookie(deps, signedIn.token, seconds))
          .header('cache-control', 'no-store')
          .send({ account: signedIn.account, expiresAt: signedIn.claims.expiresAt, csrfToken: signedIn.csrfToken });
      },
    );

    const currentSession = (request: FastifyRequest) => {
      const session = request.staffSession;
      if (!session) {
        throw new HttpProblem(
          problem(404, 'no-staff-session', 'This request was not made with a staff console session.', {
            detail: 'API keys have no session; sign in with POST /v1/staff-sessions.',
          }),
        );
      }
      return session;
    };

    app.get(
      '/staff-sessions/current',
      {
        schema: {
          operationId: 'getStaffSession',
          tags: ['staff'],
          summary: 'The session of the cookie: who is signed in, until when, and the CSRF token.',
          response: {
            200: json(staffSessionSchema, 'The session.', { 'Cache-Control': true }),
            ...problems(404),
          },
        },
      },
      async (request, reply) => {
        const session = currentSession(request);
        return reply.header('cache-control', 'no-store').send({
          account: session.account,
          expiresAt: session.claims.expiresAt,
          csrfToken: deps.staff.sessions.csrfTokenFor(session.claims.sessionId),
        });
      },
    );

    app.delete(
      '/staff-sessions/current',
      {
        schema: {
          operationId: 'signOutStaff',
          tags: ['staff'],
          summary: 'Sign out: the session ends on the server (recorded) and the cookie is cleared.',
          response: { 204: empty('Signed out.'), ...problems(403, 404) },
        },
      },
      async (request, reply: FastifyReply) => {
        const session = currentSession(request);
        await signOut(deps.staff, session.claims, request.id);
        return reply
          .code(204)
          .header('set-cookie', sessionCookie(deps, '', 0))
          .send();
      },
    );

    app.post(
      '/staff-accounts',
      {
        config: { idempotent: false },
        schema: {
          operationId: 'createStaffAccount',
          tags: ['staff'],
          summary: 'Admin: an account for a person of the tenant to sign in to the staff console with.',
          body: createStaffAccountSchema,
          response: {
            201: json(staffAccountSchema, 'Created.', { Location: true }),
            ...problems(403, 409),
          },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin');
        const account = await createStaffAccount(deps.staff, commandContext(principal, request.id), request.body);
        return reply.code(201).header('location', `/v1/staff-accounts/${account.staffId}`).send(account);
      },
    );

    app.get(
      '/staff-accounts',
      {
        schema: {
          operationId: 'listStaffAccounts',
          tags: ['staff'],
          summary: 'Admin: the tenant’s staff accounts (never a password or its hash).',
          response: { 200: json(z.object({ items: z.array(staffAccountSchema) }), 'The accounts.'), ...problems(403) },
        },
      },
      async (request) => {
        const principal = requireRole(request, 'admin');
        return { items: await listStaffAccounts(deps.staff, principal.tenantId) };
      },
    );

    app.get(
      '/staff-accounts/:staffId',
      {
        schema: {
          operationId: 'getStaffAccount',
          tags: ['staff'],
          params: staffParams,
          response: { 200: json(staffAccountSchema, 'The account.'), ...problems(403, 404) },
        },
      },
      async (request) => {
        const principal = requireRole(request, 'admin');
        return getStaffAccount(deps.staff, principal.tenantId, request.params.staffId);
      },
    );

    app.patch(
      '/staff-accounts/:staffId',
      {
        schema: {
          operationId: 'updateStaffAccount',
          tags: ['staff'],
          summary: 'Admin: rename, change role or language, set a new password, disable or enable an account.',
          description: 'A new password or disabling ends every session of the account at once.',
          params: staffParams,
          body: changeStaffAccountSchema,
          response: { 200: json(staffAccountSchema, 'The account as it is now.'), ...problems(403, 404) },
        },
      },
      async (request) => {
        const principal = requireRole(request, 'admin');
        await getStaffAccount(deps.staff, principal.tenantId, request.params.staffId);
        return changeStaffAccount(
          deps.staff,
          commandContext(principal, request.id),
          request.params.staffId,
          request.body,
        );
      },
    );
  };
}
