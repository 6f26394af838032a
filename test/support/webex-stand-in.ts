import { hasBearer, startHttpStandIn, type HttpStandIn, type StandInAnswer } from './http-stand-in.js';

/**
 * A stand-in for the Webex Meetings API "Create a Meeting Invitee", from Webex's API reference
 * (developer.webex.com, Meeting Invitees; the CreateInviteeObject schema: `meetingId` and `email` required,
 * `displayName` at most 128 characters, `coHost`, `hostEmail`, `panelist`, `sendEmail` booleans/strings).
 *
 * `POST /v1/meetingInvitees`: `Authorization: Bearer <the token>` (401 "The request requires a valid access token
 * set in the Authorization request header."), a JSON body with only the documented members, a known meeting (404
 * "Not Found"), a meeting that takes invitees (400). 200 answers the invitee `{ id, meetingId, email, displayName,
 * coHost, panelist }`; the same email on the same meeting again answers 409 (the invitee exists; no second
 * invitation). Errors are `{ message, errors: [{ description }], trackingId }`; 429 and 5xx carry Retry-After.
 */

const INVITEE_MEMBERS = new Set(['meetingId', 'email', 'displayName', 'coHost', 'hostEmail', 'panelist', 'sendEmail']);

export interface WebexInvitee {
  readonly id: string;
  readonly meetingId: string;
  readonly email: string;
  readonly displayName?: string;
  readonly sendEmail: boolean;
}

export interface WebexStandIn extends HttpStandIn {
  /** The API base the adapter takes (`…/v1`). */
  readonly apiUrl: string;
  readonly invitees: readonly WebexInvitee[];
  readonly violations: readonly string[];
  addMeeting(meetingId: string, options?: { takesInvitees?: boolean }): void;
}

export async function startWebexStandIn(options: { accessToken: string }): Promise<WebexStandIn> {
  const invitees: WebexInvitee[] = [];
  const violations: string[] = [];
  const meetings = new Map<string, { takesInvitees: boolean }>();
  let trackingNumber = 0;
  const webexError = (status: number, message: string, headers?: Record<string, string>): StandInAnswer => ({
    status,
    json: { message, errors: [{ description: message }], trackingId: `ROUTER_${++trackingNumber}` },
    ...(headers ? { headers } : {}),
  });
  const bad = (message: string): StandInAnswer => {
    violations.push(message);
    return webexError(400, message);
  };

  const base = await startHttpStandIn({
    failureAnswer: ({ status, retryAfterSeconds }) => {
      const headers = retryAfterSeconds !== undefined ? { 'retry-after': String(retryAfterSeconds) } : undefined;
      return status === 429
        ? webexError(429, 'Too Many Requests', headers)
        : webexError(status, 'The server encountered an unexpected condition.', headers);
    },
    handle(request) {
      if (request.path !== '/v1/meetingInvitees' || request.method !== 'POST') return webexError(404, 'Not Found');
      if (!hasBearer(request.headers, options.accessToken)) {
        return webexError(401, 'The request requires a valid access token set in the Authorization request header.');
      }
      if (!String(request.headers['content-type'] ?? '').startsWith('application/json')) {
        return bad('Content-Type must be application/json');
      }
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(request.body) as Record<string, unknown>;
      } catch {
        return bad('Invalid JSON');
      }
      if (!body || typeof body !== 'object' || Array.isArray(body)) return bad('The body must be an object.');
      for (const name of Object.keys(body)) {
        if (!INVITEE_MEMBERS.has(name)) return bad(`Unrecognized field "${name}"`);
      }
      const { meetingId, email, displayName, sendEmail } = body;
      if (typeof meetingId !== 'string' || meetingId === '') return bad('meetingId is required');
      if (typeof email !== 'string' || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) return bad('email is invalid');
      if (displayName !== undefined && (typeof displayName !== 'string' || [...displayName].length > 128)) {
        return bad('displayName must be at most 128 characters');
      }
      if (sendEmail !== undefined && typeof sendEmail !== 'boolean') return bad('sendEmail must be a boolean');
      for (const flag of ['coHost', 'panelist'] as const) {
        if (body[flag] !== undefined && typeof body[flag] !== 'boolean') return bad(`${flag} must be a boolean`);
      }
      const meeting = meetings.get(meetingId);
      if (!meeting) return webexError(404, 'Not Found');
      if (!meeting.takesInvitees) return webexError(400, 'Meeting invitees are not supported for this meeting.');
      if (invitees.some((i) => i.meetingId === meetingId && i.email.toLowerCase() === email.toLowerCase())) {
        return webexError(409, 'The invitee already exists.');
      }
      const invitee: WebexInvitee = {
        id: `${meetingId}_${1000 + invitees.length}`,
        meetingId,
        email,
        ...(typeof displayName === 'string' ? { displayName } : {}),
        sendEmail: sendEmail === true,
      };
      return {
        status: 200,
        json: {
          id: invitee.id,
          meetingId,
          email,
          displayName: invitee.displayName ?? email,
          coHost: false,
          panelist: false,
        },
        after: () => {
          invitees.push(invitee);
          base.accepted.push(invitee.id);
        },
      };
    },
  });

  const resetBase = base.reset.bind(base);
  return Object.assign(base, {
    apiUrl: `${base.url}/v1`,
    invitees,
    violations,
    addMeeting(meetingId: string, meetingOptions?: { takesInvitees?: boolean }) {
      meetings.set(meetingId, { takesInvitees: meetingOptions?.takesInvitees ?? true });
    },
    reset() {
      resetBase();
      invitees.length = 0;
      violations.length = 0;
    },
  });
}
