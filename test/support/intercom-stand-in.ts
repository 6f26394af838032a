import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import { startHttpStandIn, type HttpStandIn, type StandInAnswer } from './http-stand-in.js';

/**
 * A stand-in for Intercom's "Submit a data event" (`POST /events`,
 * https://developers.intercom.com/docs/references/rest-api/api.intercom.io/data-events/createdataevent). It checks
 * the request against Intercom's own OpenAPI description (intercom/Intercom-OpenAPI, MIT; the extract in
 * vendor/intercom-create-data-event.json: `event_name` and `created_at` with one of `id` / `user_id` / `email`,
 * `metadata` of strings), and beyond it the documented rules: Bearer access token (401 `unauthorized` else), an
 * `Intercom-Version` header, only the documented fields, `created_at` in seconds, at most 10 metadata keys. Errors come as
 * `{ type: "error.list", request_id, errors: [{ code, message }] }`; a 429 carries `X-RateLimit-Reset` (Unix
 * seconds). An email that is no user or lead of the workspace (`addUser`) is 404 `not_found`. 202 Accepted when
 * recorded.
 */

export interface IntercomEvent {
  readonly eventName: string;
  readonly email: string;
  readonly createdAt: number;
  readonly metadata: Record<string, unknown>;
  readonly version: string;
}

export interface IntercomStandIn extends HttpStandIn {
  readonly events: readonly IntercomEvent[];
  readonly violations: readonly string[];
  addUser(email: string): void;
}

const vendored = JSON.parse(
  readFileSync(new URL('./vendor/intercom-create-data-event.json', import.meta.url), 'utf8'),
) as { request: object };
const validateEvent: ValidateFunction = new Ajv({
  strict: false,
  allErrors: true,
  // The description puts format date-time on an integer (Unix seconds): formats only apply to strings anyway.
  validateFormats: false,
}).compile(vendored.request);

const KEYS = new Set(['event_name', 'created_at', 'user_id', 'id', 'email', 'metadata']);

export async function startIntercomStandIn(options: { accessToken: string }): Promise<IntercomStandIn> {
  const events: IntercomEvent[] = [];
  const violations: string[] = [];
  const users = new Set<string>();
  const error = (status: number, code: string, message: string, headers?: Record<string, string>): StandInAnswer => ({
    status,
    json: { type: 'error.list', request_id: 'req-stand-in', errors: [{ code, message }] },
    ...(headers ? { headers } : {}),
  });
  const refuse = (message: string): StandInAnswer => {
    violations.push(message);
    return error(400, 'parameter_invalid', message);
  };
  const base = await startHttpStandIn({
    failureAnswer: ({ status, retryAfterSeconds }) =>
      status === 429
        ? error(429, 'rate_limit_exceeded', 'Exceeded rate limit', {
            'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + (retryAfterSeconds ?? 1)),
          })
        : error(status, 'server_error', 'Server error'),
    handle(request) {
      if (request.method !== 'POST' || request.path !== '/events') return error(404, 'not_found', 'Not found');
      if (request.headers.authorization !== `Bearer ${options.accessToken}`) {
        return error(401, 'unauthorized', 'Access Token Invalid');
      }
      const version = String(request.headers['intercom-version'] ?? '');
      if (!/^\d+\.\d+$/.test(version)) return refuse('Intercom-Version header missing or malformed');
      if (!String(request.headers['content-type'] ?? '').startsWith('application/json')) return refuse('not JSON');
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(request.body) as Record<string, unknown>;
      } catch {
        return refuse('body is not JSON');
      }
      if (!validateEvent(body)) return refuse(`schema: ${JSON.stringify(validateEvent.errors).slice(0, 300)}`);
      for (const key of Object.keys(body)) if (!KEYS.has(key)) return refuse(`unknown field ${key}`);
      if (typeof body.event_name !== 'string' || body.event_name === '') return refuse('event_name is required');
      if (!Number.isInteger(body.created_at) || (body.created_at as number) > 1e11) {
        return refuse('created_at must be a Unix timestamp in seconds');
      }
      if (body.email === undefined && body.user_id === undefined && body.id === undefined) {
        return refuse('one of user_id, id or email is required');
      }
      const metadata = (body.metadata ?? {}) as Record<string, unknown>;
      if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
        return refuse('metadata must be an object');
      }
      if (Object.keys(metadata).length > 10) return refuse('at most 10 metadata keys');
      const email = String(body.email ?? '').toLowerCase();
      if (!users.has(email)) return error(404, 'not_found', 'User Not Found');
      const event = {
        eventName: body.event_name,
        email,
        createdAt: body.created_at as number,
        metadata,
        version,
      };
      return {
        status: 202,
        after: () => {
          events.push(event);
          base.accepted.push(event);
        },
      };
    },
  });
  const resetBase = base.reset.bind(base);
  return Object.assign(base, {
    events,
    violations,
    addUser(email: string) {
      users.add(email.toLowerCase());
    },
    reset() {
      resetBase();
      events.length = 0;
      violations.length = 0;
    },
  });
}
