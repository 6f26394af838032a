import { randomBytes } from 'node:crypto';
import { startHttpStandIn, type HttpStandIn, type StandInAnswer } from './http-stand-in.js';

/**
 * A stand-in for the Zoom Meetings API "Add a meeting registrant" and Zoom's Server-to-Server OAuth token endpoint,
 * from Zoom's API reference (developers.zoom.us: "Server-to-Server OAuth", "Meetings → Add a meeting registrant").
 *
 * `POST /oauth/token`: HTTP Basic with the app's client id and secret, `grant_type=account_credentials` and
 * `account_id` (as a form body or in the query, Zoom's examples use both); a wrong client answers 401
 * `{ reason: "Invalid client_id or client_secret", error: "invalid_client" }`, a wrong account 400
 * `{ reason: "Invalid request : Account id is invalid", error: "invalid_request" }`. A token lives 3599 s.
 *
 * `POST /v2/meetings/{meetingId}/registrants`: `Authorization: Bearer <an access token issued above>` (401
 * `{ code: 124, message: "Invalid access token." }`), a JSON body with only the documented members (email and
 * first_name required; first_name/last_name at most 64 characters; email an address), the meeting known (404
 * `{ code: 3001, message: "Meeting does not exist: …" }`) and taking registrations (400 "Registration has not been
 * enabled for this meeting"). 201 `{ id, join_url, registrant_id, start_time, topic, occurrences }`. The same
 * email again answers the existing registrant (the same registrant_id and join_url): nobody is registered twice.
 * 429 `{ code: 429, message }` with Retry-After, 5xx in the same shape.
 */

const REGISTRANT_MEMBERS = new Set([
  'email',
  'first_name',
  'last_name',
  'address',
  'city',
  'state',
  'zip',
  'country',
  'phone',
  'comments',
  'custom_questions',
  'industry',
  'job_title',
  'no_of_employees',
  'org',
  'purchasing_time_frame',
  'role_in_purchase_process',
  'language',
  'auto_approve',
]);

export interface ZoomRegistrant {
  readonly meetingId: string;
  readonly registrantId: string;
  readonly email: string;
  readonly firstName: string;
  readonly lastName?: string;
  readonly joinUrl: string;
}

export interface ZoomStandIn extends HttpStandIn {
  /** The API base the adapter takes (`…/v2`). */
  readonly apiUrl: string;
  readonly tokenUrl: string;
  /** Registrations as Zoom holds them: one per meeting and email. */
  readonly registrants: readonly ZoomRegistrant[];
  readonly violations: readonly string[];
  addMeeting(meetingId: string, options?: { registration?: boolean }): void;
  tokenRequests(): number;
  registrantRequests(): number;
  /** Forgets every access token issued: the next registration answers 401 (code 124). */
  revokeAccessTokens(): void;
}

export async function startZoomStandIn(options: {
  accountId: string;
  clientId: string;
  clientSecret: string;
}): Promise<ZoomStandIn> {
  const registrants: ZoomRegistrant[] = [];
  const violations: string[] = [];
  const accessTokens = new Set<string>();
  const meetings = new Map<string, { registration: boolean }>();
  const zoomError = (status: number, code: number, message: string, headers?: Record<string, string>) => ({
    status,
    json: { code, message },
    ...(headers ? { headers } : {}),
  });
  const bad = (message: string): StandInAnswer => {
    violations.push(message);
    return zoomError(400, 300, message);
  };

  const base = await startHttpStandIn({
    failureAnswer: ({ status, retryAfterSeconds }) => {
      const headers = retryAfterSeconds !== undefined ? { 'retry-after': String(retryAfterSeconds) } : undefined;
      return status === 429
        ? zoomError(
            429,
            429,
            'You have reached the maximum per-second rate limit for this API. Try again later.',
            headers,
          )
        : zoomError(status, status, 'Internal server error.', headers);
    },
    handle(request) {
      if (request.path === '/oauth/token' && request.method === 'POST') {
        return token(request.headers.authorization, String(request.headers['content-type'] ?? ''), request);
      }
      const match = /^\/v2\/meetings\/([^/]+)\/registrants$/.exec(request.path);
      if (!match || request.method !== 'POST') return zoomError(404, 404, 'Not found');
      const bearer = /^Bearer (.+)$/.exec(String(request.headers.authorization ?? ''))?.[1];
      if (!bearer || !accessTokens.has(bearer)) return zoomError(401, 124, 'Invalid access token.');
      if (!String(request.headers['content-type'] ?? '').startsWith('application/json')) {
        return bad('the body is not application/json');
      }
      const meetingId = decodeURIComponent(match[1]!);
      if (!/^\d{9,12}$/.test(meetingId)) return bad(`Invalid meeting id ${meetingId}`);
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(request.body) as Record<string, unknown>;
      } catch {
        return bad('Request Body should be a valid JSON object.');
      }
      if (!body || typeof body !== 'object' || Array.isArray(body)) return bad('Request Body should be an object.');
      for (const name of Object.keys(body)) {
        if (!REGISTRANT_MEMBERS.has(name)) return bad(`Unknown field: ${name}`);
      }
      const email = body.email;
      if (typeof email !== 'string' || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) || email.length > 128) {
        return bad('Validation Failed: email');
      }
      const first = body.first_name;
      if (typeof first !== 'string' || first.length === 0 || [...first].length > 64) {
        return bad('Validation Failed: first_name');
      }
      const last = body.last_name;
      if (last !== undefined && (typeof last !== 'string' || [...last].length > 64)) {
        return bad('Validation Failed: last_name');
      }
      const meeting = meetings.get(meetingId);
      if (!meeting) return zoomError(404, 3001, `Meeting does not exist: ${meetingId}.`);
      if (!meeting.registration) {
        return zoomError(400, 3000, `Registration has not been enabled for this meeting: ${meetingId}.`);
      }
      const existing = registrants.find(
        (r) => r.meetingId === meetingId && r.email.toLowerCase() === email.toLowerCase(),
      );
      const registrant: ZoomRegistrant = existing ?? {
        meetingId,
        registrantId: randomBytes(16).toString('base64url').slice(0, 22),
        email,
        firstName: first,
        ...(typeof last === 'string' ? { lastName: last } : {}),
        joinUrl: `https://zoom.example/w/${meetingId}?tk=${randomBytes(12).toString('base64url')}`,
      };
      return {
        status: 201,
        json: {
          id: Number(meetingId),
          join_url: registrant.joinUrl,
          registrant_id: registrant.registrantId,
          start_time: '2026-12-01T17:00:00Z',
          topic: 'Online yoga',
          occurrences: [],
          participant_pin_code: 380986,
        },
        after: () => {
          if (!existing) {
            registrants.push(registrant);
            base.accepted.push(registrant.registrantId);
          }
        },
      };
    },
  });

  function token(
    authorization: string | undefined,
    contentType: string,
    request: { body: string; search: URLSearchParams },
  ): StandInAnswer {
    const form = new URLSearchParams(request.body);
    const param = (name: string) => form.get(name) ?? request.search.get(name);
    if (request.body !== '' && !contentType.startsWith('application/x-www-form-urlencoded')) {
      violations.push('token request body is not a form');
      return { status: 400, json: { reason: 'Unsupported content type', error: 'invalid_request' } };
    }
    const expected = `Basic ${Buffer.from(`${options.clientId}:${options.clientSecret}`).toString('base64')}`;
    if (authorization !== expected) {
      return { status: 401, json: { reason: 'Invalid client_id or client_secret', error: 'invalid_client' } };
    }
    if (param('grant_type') !== 'account_credentials') {
      violations.push(`grant_type ${param('grant_type')}`);
      return { status: 400, json: { reason: 'Unsupported grant type', error: 'unsupported_grant_type' } };
    }
    if (param('account_id') !== options.accountId) {
      return { status: 400, json: { reason: 'Invalid request : Account id is invalid', error: 'invalid_request' } };
    }
    const accessToken = `eyJzdGFuZC1pbiI6dHJ1ZX0.${randomBytes(24).toString('base64url')}`;
    accessTokens.add(accessToken);
    return {
      status: 200,
      json: {
        access_token: accessToken,
        token_type: 'bearer',
        expires_in: 3599,
        scope: 'meeting:write:registrant:admin',
        api_url: 'https://api.zoom.us',
      },
    };
  }

  const resetBase = base.reset.bind(base);
  return Object.assign(base, {
    apiUrl: `${base.url}/v2`,
    tokenUrl: `${base.url}/oauth/token`,
    registrants,
    violations,
    addMeeting(meetingId: string, meetingOptions?: { registration?: boolean }) {
      meetings.set(meetingId, { registration: meetingOptions?.registration ?? true });
    },
    tokenRequests: () => base.requests.filter((r) => r.path === '/oauth/token').length,
    registrantRequests: () => base.requests.filter((r) => r.path !== '/oauth/token').length,
    revokeAccessTokens() {
      accessTokens.clear();
    },
    reset() {
      resetBase();
      registrants.length = 0;
      violations.length = 0;
    },
  });
}
