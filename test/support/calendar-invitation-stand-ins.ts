import { generateKeyPairSync, randomBytes, randomUUID, verify, type KeyObject } from 'node:crypto';
import { hasBearer, startHttpStandIn, type HttpStandIn, type StandInAnswer } from './http-stand-in.js';

/**
 * Stand-ins for the two calendar-invitation APIs of the `calendar` channel, each with the OAuth 2.0 token endpoint it
 * needs, served on loopback. They check requests against the providers' published references and answer in the
 * documented shapes; anything off-contract is answered as the provider would and recorded in `violations`, which
 * tests assert empty.
 *
 * Google Calendar API v3 `events.insert`
 * (https://developers.google.com/workspace/calendar/api/v3/reference/events/insert and the Events resource,
 * https://developers.google.com/workspace/calendar/api/v3/reference/events#resource; discovery document
 * https://calendar-json.googleapis.com/$discovery/rest?version=v3):
 * - `POST /token`: the service-account JWT bearer grant, RS256 JWT with `iss` (client_email), `sub` (the delegated
 *   user, when given), `scope` including calendar or calendar.events, `aud` the token URL, `iat`/`exp` ≤ 1 h apart.
 *   A wrong signature answers 400 `invalid_grant`, as Google does.
 * - `POST /calendar/v3/calendars/{calendarId}/events?sendUpdates=all|externalOnly|none`: `Authorization: Bearer`
 *   (401 else); only the documented writable Event members; `start`/`end` EventDateTime (`dateTime` RFC 3339 with
 *   an offset, or `date`; `timeZone` IANA), end after start (400 `timeRangeEmpty`); attendees with `email`; `id`, when
 *   given, of base32hex characters (a-v, 0-9), 5-1024 long (400 `invalid` else) and unique in the calendar: a second
 *   insert with the same id answers 409 `duplicate` ("The requested identifier already exists."). An unknown
 *   calendar answers 404 `notFound`. 200 with the Event (id, status, htmlLink, iCalUID...). Google emails the
 *   attendees only when `sendUpdates` is `all` or `externalOnly`: `invitations` records what Google would send.
 *
 * Microsoft Graph v1.0 create event (https://learn.microsoft.com/graph/api/user-post-events, the event resource
 * https://learn.microsoft.com/graph/api/resources/event, dateTimeTimeZone, attendee, emailAddress, location):
 * - `POST /{tenant}/oauth2/v2.0/token`: client-credentials grant (`client_id`, `client_secret`,
 *   `scope=https://graph.microsoft.com/.default`, `grant_type=client_credentials`); a wrong secret answers 401
 *   `invalid_client` (AADSTS7000215), as the identity platform does.
 * - `POST /v1.0/users/{id | userPrincipalName}/events`: `Authorization: Bearer` (401 `InvalidAuthenticationToken`
 *   else), `Content-Type: application/json`; only documented event members; `start`/`end` dateTimeTimeZone
 *   (`dateTime` without an offset, `timeZone`); attendees `{ emailAddress: { address, name? }, type }` with type
 *   required/optional/resource; `transactionId` at most 255 characters: a second POST with a transactionId already
 *   used returns the event created the first time, and no second invitation (the purpose Graph documents for it).
 *   An unknown mailbox answers 404 `ErrorInvalidUser`. 201 with the event. Exchange sends the invitation to the
 *   attendees when the event is created: `invitations` records it.
 */

export interface SentInvitation {
  readonly provider: 'google-calendar' | 'outlook';
  readonly eventId: string;
  readonly attendee: string;
  readonly summary: string;
  readonly description: string;
  readonly location: string;
  readonly start: { readonly dateTime: string; readonly timeZone: string };
  readonly end: { readonly dateTime: string; readonly timeZone: string };
}

export interface CalendarInvitationStandIn extends HttpStandIn {
  readonly violations: string[];
  /** The invitations the provider emailed, in order. */
  readonly invitations: SentInvitation[];
  /** Requests to the calendar API (token requests excluded). */
  apiRequests(): number;
  tokenRequests(): number;
}

/** Writable members of the Events resource (the read-only ones — created, updated, htmlLink... — are refused). */
const GOOGLE_EVENT_MEMBERS = new Set([
  'anyoneCanAddSelf',
  'attachments',
  'attendees',
  'attendeesOmitted',
  'colorId',
  'conferenceData',
  'description',
  'end',
  'endTimeUnspecified',
  'eventType',
  'extendedProperties',
  'focusTimeProperties',
  'gadget',
  'guestsCanInviteOthers',
  'guestsCanModify',
  'guestsCanSeeOtherGuests',
  'iCalUID',
  'id',
  'location',
  'originalStartTime',
  'outOfOfficeProperties',
  'recurrence',
  'reminders',
  'sequence',
  'source',
  'start',
  'status',
  'summary',
  'transparency',
  'visibility',
  'workingLocationProperties',
]);
const GOOGLE_ATTENDEE_MEMBERS = new Set([
  'additionalGuests',
  'comment',
  'displayName',
  'email',
  'optional',
  'resource',
  'responseStatus',
]);
const GOOGLE_EVENT_ID = /^[a-v0-9]{5,1024}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const GRAPH_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function isTimeZone(zone: unknown): zone is string {
  if (typeof zone !== 'string') return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** A wall-clock time in a zone as an instant (for end > start checks): the offset of the zone near that time. */
function wallToInstant(dateTime: string, zone: string): number {
  const guess = Date.parse(`${dateTime}Z`);
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(guess);
  const get = (type: string) => Number(parts.find((p) => p.type === type)!.value);
  const local = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return guess - (local - guess);
}

function verifyRs256(signed: string, signature: string, key: KeyObject): boolean {
  try {
    return verify('sha256', Buffer.from(signed), key, Buffer.from(signature, 'base64url'));
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------------------------

export interface GoogleCalendarStandIn extends CalendarInvitationStandIn {
  readonly tokenUrl: string;
  readonly clientEmail: string;
  /** The service account's private key (PKCS#8 PEM). */
  readonly privateKey: string;
}

export async function startGoogleCalendarStandIn(options: {
  clientEmail: string;
  /** The delegated user the JWT must name in `sub`. */
  subject: string;
  calendarId: string;
}): Promise<GoogleCalendarStandIn> {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const violations: string[] = [];
  const invitations: SentInvitation[] = [];
  const accessTokens = new Set<string>();
  const events = new Map<string, Record<string, unknown>>();
  const error = (code: number, reason: string, message: string, headers?: Record<string, string>): StandInAnswer => ({
    status: code,
    json: { error: { code, message, errors: [{ domain: 'global', reason, message }] } },
    ...(headers ? { headers } : {}),
  });
  const bad = (message: string): StandInAnswer => {
    violations.push(message);
    return error(400, 'invalid', message);
  };

  const base = await startHttpStandIn({
    failureAnswer: ({ status, retryAfterSeconds }) => {
      const headers = retryAfterSeconds !== undefined ? { 'retry-after': String(retryAfterSeconds) } : undefined;
      // Google answers its usage limits 429 rateLimitExceeded or 403 userRateLimitExceeded (Handle API errors).
      return status === 429
        ? error(429, 'rateLimitExceeded', 'Rate Limit Exceeded', headers)
        : status === 403
          ? error(403, 'userRateLimitExceeded', 'User Rate Limit Exceeded', headers)
          : error(status, 'backendError', 'Backend Error', headers);
    },
    handle(request) {
      if (request.path === '/token') return token(request.body, String(request.headers['content-type'] ?? ''));
      const match = /^\/calendar\/v3\/calendars\/([^/]+)\/events$/.exec(request.path);
      if (!match || request.method !== 'POST') return error(404, 'notFound', 'Not Found');
      const bearer = /^Bearer (.+)$/.exec(String(request.headers.authorization ?? ''))?.[1];
      if (!bearer || !accessTokens.has(bearer) || !hasBearer(request.headers, bearer)) {
        return error(401, 'authError', 'Invalid Credentials');
      }
      if (!String(request.headers['content-type'] ?? '').startsWith('application/json')) {
        return bad('events.insert body is not application/json');
      }
      if (decodeURIComponent(match[1]!) !== options.calendarId) return error(404, 'notFound', 'Not Found');
      for (const name of request.search.keys()) {
        const known = ['sendUpdates', 'conferenceDataVersion', 'maxAttendees', 'supportsAttachments'];
        if (!known.includes(name)) return bad(`unknown parameter ${name}`);
      }
      const sendUpdates = request.search.get('sendUpdates') ?? 'false';
      if (!['all', 'externalOnly', 'none', 'false'].includes(sendUpdates)) return bad(`sendUpdates ${sendUpdates}`);
      let event: Record<string, unknown>;
      try {
        event = JSON.parse(request.body) as Record<string, unknown>;
      } catch {
        return bad('Parse Error');
      }
      for (const name of Object.keys(event)) {
        if (!GOOGLE_EVENT_MEMBERS.has(name)) return bad(`Event member ${name} is not writable or unknown`);
      }
      const times: number[] = [];
      for (const side of ['start', 'end'] as const) {
        const value = event[side] as { dateTime?: unknown; date?: unknown; timeZone?: unknown } | undefined;
        if (!value || typeof value !== 'object') return bad(`Missing ${side} time.`);
        if (typeof value.dateTime !== 'string' || !RFC3339.test(value.dateTime)) {
          return bad(`${side}.dateTime is not RFC 3339 with an offset`);
        }
        if (value.timeZone !== undefined && !isTimeZone(value.timeZone)) return bad(`Invalid time zone definition`);
        times.push(Date.parse(value.dateTime));
      }
      if (times[1]! <= times[0]!) return error(400, 'timeRangeEmpty', 'The specified time range is empty.');
      const attendees = (event.attendees ?? []) as Record<string, unknown>[];
      if (!Array.isArray(attendees)) return bad('attendees is not a list');
      for (const attendee of attendees) {
        for (const name of Object.keys(attendee)) {
          if (!GOOGLE_ATTENDEE_MEMBERS.has(name)) return bad(`EventAttendee member ${name} is unknown`);
        }
        if (typeof attendee.email !== 'string' || !EMAIL.test(attendee.email)) {
          return error(400, 'invalid', 'Invalid attendee email.');
        }
      }
      for (const flag of ['guestsCanModify', 'guestsCanInviteOthers', 'guestsCanSeeOtherGuests', 'anyoneCanAddSelf']) {
        if (event[flag] !== undefined && typeof event[flag] !== 'boolean') return bad(`${flag} is not a boolean`);
      }
      const id = event.id === undefined ? randomBytes(13).toString('hex') : event.id;
      if (typeof id !== 'string' || !GOOGLE_EVENT_ID.test(id)) return bad('Invalid resource id value.');
      if (events.has(id)) return error(409, 'duplicate', 'The requested identifier already exists.');
      const created = {
        kind: 'calendar#event',
        etag: `"${Date.now()}"`,
        ...event,
        id,
        status: 'confirmed',
        htmlLink: `https://www.google.com/calendar/event?eid=${Buffer.from(id).toString('base64url')}`,
        iCalUID: `${id}@google.com`,
        organizer: { email: options.subject, self: true },
        sequence: 0,
      };
      return {
        status: 200,
        json: created,
        after: () => {
          events.set(id, created);
          if (sendUpdates === 'all' || sendUpdates === 'externalOnly') {
            for (const attendee of attendees) {
              invitations.push({
                provider: 'google-calendar',
                eventId: id,
                attendee: String(attendee.email),
                summary: String(event.summary ?? ''),
                description: String(event.description ?? ''),
                location: String(event.location ?? ''),
                start: event.start as SentInvitation['start'],
                end: event.end as SentInvitation['end'],
              });
            }
          }
          base.accepted.push(id);
        },
      };
    },
  });
  const tokenUrl = `${base.url}/token`;

  function token(body: string, contentType: string): StandInAnswer {
    const oauthError = (code: string, description: string): StandInAnswer => ({
      status: 400,
      json: { error: code, error_description: description },
    });
    if (!contentType.startsWith('application/x-www-form-urlencoded')) {
      violations.push('token request is not a form');
      return oauthError('invalid_request', 'Invalid Content-Type');
    }
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      violations.push(`grant_type ${form.get('grant_type')}`);
      return oauthError('unsupported_grant_type', 'Invalid grant_type');
    }
    const parts = (form.get('assertion') ?? '').split('.');
    if (parts.length !== 3) return oauthError('invalid_grant', 'Invalid JWT');
    let header: { alg?: string };
    let claims: { iss?: string; sub?: string; scope?: string; aud?: string; iat?: number; exp?: number };
    try {
      header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString()) as typeof header;
      claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString()) as typeof claims;
    } catch {
      return oauthError('invalid_grant', 'Invalid JWT');
    }
    if (header.alg !== 'RS256') return oauthError('invalid_grant', 'Invalid JWT: alg must be RS256');
    if (!verifyRs256(`${parts[0]}.${parts[1]}`, parts[2]!, publicKey)) {
      return oauthError('invalid_grant', 'Invalid JWT Signature.');
    }
    if (claims.iss !== options.clientEmail) return oauthError('invalid_grant', 'Invalid issuer');
    if (claims.aud !== tokenUrl) return oauthError('invalid_grant', 'Invalid JWT: aud is not the token URL');
    if (claims.sub !== options.subject) {
      return oauthError('unauthorized_client', 'Client is unauthorized to retrieve access tokens using this method.');
    }
    const scopes = String(claims.scope ?? '').split(' ');
    if (
      !scopes.includes('https://www.googleapis.com/auth/calendar') &&
      !scopes.includes('https://www.googleapis.com/auth/calendar.events')
    ) {
      violations.push('scope without calendar.events');
      return oauthError('invalid_scope', 'Invalid OAuth scope');
    }
    const now = Math.floor(Date.now() / 1000);
    if (
      typeof claims.iat !== 'number' ||
      typeof claims.exp !== 'number' ||
      claims.exp - claims.iat > 3600 ||
      claims.exp < now ||
      claims.iat > now + 300
    ) {
      return oauthError('invalid_grant', 'Invalid JWT: Token must be a short-lived token (60 minutes).');
    }
    const accessToken = `ya29.${randomBytes(24).toString('base64url')}`;
    accessTokens.add(accessToken);
    return { status: 200, json: { access_token: accessToken, expires_in: 3599, token_type: 'Bearer' } };
  }

  return Object.assign(base, {
    tokenUrl,
    clientEmail: options.clientEmail,
    privateKey: pem,
    violations,
    invitations,
    apiRequests: () => base.requests.filter((r) => r.path !== '/token').length,
    tokenRequests: () => base.requests.filter((r) => r.path === '/token').length,
  });
}

// ---------------------------------------------------------------------------------------------------------------

/** Writable members of the Graph event resource. */
const GRAPH_EVENT_MEMBERS = new Set([
  'allowNewTimeProposals',
  'attendees',
  'body',
  'categories',
  'end',
  'hideAttendees',
  'importance',
  'isAllDay',
  'isOnlineMeeting',
  'isReminderOn',
  'location',
  'locations',
  'onlineMeetingProvider',
  'recurrence',
  'reminderMinutesBeforeStart',
  'responseRequested',
  'sensitivity',
  'showAs',
  'start',
  'subject',
  'transactionId',
]);

export interface OutlookStandIn extends CalendarInvitationStandIn {
  readonly tokenUrl: string;
}

export async function startOutlookStandIn(options: {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  userId: string;
}): Promise<OutlookStandIn> {
  const violations: string[] = [];
  const invitations: SentInvitation[] = [];
  const accessTokens = new Set<string>();
  const byTransaction = new Map<string, Record<string, unknown>>();
  const error = (status: number, code: string, message: string, headers?: Record<string, string>): StandInAnswer => ({
    status,
    json: { error: { code, message, innerError: { 'request-id': randomUUID(), date: new Date().toISOString() } } },
    ...(headers ? { headers } : {}),
  });
  const bad = (message: string): StandInAnswer => {
    violations.push(message);
    return error(400, 'ErrorInvalidRequest', message);
  };
  const tokenPath = `/${options.tenantId}/oauth2/v2.0/token`;

  const base = await startHttpStandIn({
    failureAnswer: ({ status, retryAfterSeconds }) => {
      const headers = retryAfterSeconds !== undefined ? { 'retry-after': String(retryAfterSeconds) } : undefined;
      return status === 429
        ? error(429, 'ApplicationThrottled', 'Application is over its MailboxConcurrency limit.', headers)
        : error(status, 'ServiceUnavailable', 'Service Unavailable', headers);
    },
    handle(request) {
      if (request.path === tokenPath) return token(request.body, String(request.headers['content-type'] ?? ''));
      const match = /^\/v1\.0\/users\/([^/]+)\/events$/.exec(request.path);
      if (!match || request.method !== 'POST') return error(404, 'UnknownError', 'Not found');
      const bearer = /^Bearer (.+)$/.exec(String(request.headers.authorization ?? ''))?.[1];
      if (!bearer || !accessTokens.has(bearer) || !hasBearer(request.headers, bearer)) {
        return error(401, 'InvalidAuthenticationToken', 'Access token validation failure.');
      }
      if (!String(request.headers['content-type'] ?? '').startsWith('application/json')) {
        return bad('Content-Type is not application/json');
      }
      if (decodeURIComponent(match[1]!) !== options.userId) {
        return error(404, 'ErrorInvalidUser', 'The requested user is invalid.');
      }
      let event: Record<string, unknown>;
      try {
        event = JSON.parse(request.body) as Record<string, unknown>;
      } catch {
        return bad('Unable to read JSON request payload.');
      }
      for (const name of Object.keys(event)) {
        if (!GRAPH_EVENT_MEMBERS.has(name))
          return bad(`Property '${name}' does not exist on type 'microsoft.graph.event'`);
      }
      const times: number[] = [];
      for (const side of ['start', 'end'] as const) {
        const value = event[side] as { dateTime?: unknown; timeZone?: unknown } | undefined;
        if (!value || typeof value !== 'object') return bad(`${side} is required`);
        for (const name of Object.keys(value)) {
          if (name !== 'dateTime' && name !== 'timeZone') return bad(`dateTimeTimeZone has no ${name}`);
        }
        if (typeof value.dateTime !== 'string' || !GRAPH_DATE_TIME.test(value.dateTime)) {
          return bad(`${side}.dateTime is not a wall-clock date-time without an offset`);
        }
        if (!isTimeZone(value.timeZone)) return error(400, 'TimeZoneNotSupportedException', 'Time zone not supported');
        times.push(wallToInstant(value.dateTime, value.timeZone));
      }
      if (times[1]! < times[0]!) return error(400, 'ErrorInvalidRequest', 'The end is before the start.');
      if (event.body !== undefined) {
        const body = event.body as { contentType?: unknown; content?: unknown };
        if (!['text', 'html'].includes(String(body.contentType)) || typeof body.content !== 'string') {
          return bad('itemBody needs contentType text|html and content');
        }
      }
      if (
        event.location !== undefined &&
        typeof (event.location as { displayName?: unknown }).displayName !== 'string'
      ) {
        return bad('location.displayName is not a string');
      }
      const attendees = (event.attendees ?? []) as { emailAddress?: { address?: unknown }; type?: unknown }[];
      if (!Array.isArray(attendees)) return bad('attendees is not a collection');
      for (const attendee of attendees) {
        if (!['required', 'optional', 'resource'].includes(String(attendee.type))) {
          return bad(`attendee type ${String(attendee.type)}`);
        }
        const address = attendee.emailAddress?.address;
        if (typeof address !== 'string' || !EMAIL.test(address)) {
          return error(400, 'ErrorInvalidRecipients', 'At least one recipient is not valid.');
        }
      }
      const transactionId = event.transactionId;
      if (transactionId !== undefined && (typeof transactionId !== 'string' || transactionId.length > 255)) {
        return bad('transactionId is not a string of at most 255 characters');
      }
      const earlier = typeof transactionId === 'string' ? byTransaction.get(transactionId) : undefined;
      if (earlier) return { status: 201, json: earlier };
      const id = `AAMkAG${randomBytes(30).toString('base64url')}=`;
      const created = {
        '@odata.context': `https://graph.microsoft.com/v1.0/$metadata#users('${options.userId}')/events/$entity`,
        id,
        iCalUId: `040000008200E00074C5B7101A82E008${randomBytes(16).toString('hex').toUpperCase()}`,
        ...event,
        organizer: { emailAddress: { address: options.userId } },
        isOrganizer: true,
      };
      return {
        status: 201,
        json: created,
        after: () => {
          if (typeof transactionId === 'string') byTransaction.set(transactionId, created);
          for (const attendee of attendees) {
            invitations.push({
              provider: 'outlook',
              eventId: id,
              attendee: String(attendee.emailAddress!.address),
              summary: String(event.subject ?? ''),
              description: String((event.body as { content?: string } | undefined)?.content ?? ''),
              location: String((event.location as { displayName?: string } | undefined)?.displayName ?? ''),
              start: event.start as SentInvitation['start'],
              end: event.end as SentInvitation['end'],
            });
          }
          base.accepted.push(id);
        },
      };
    },
  });

  function token(body: string, contentType: string): StandInAnswer {
    const oauthError = (status: number, code: string, description: string): StandInAnswer => ({
      status,
      json: { error: code, error_description: description, error_codes: [7000215] },
    });
    if (!contentType.startsWith('application/x-www-form-urlencoded')) {
      violations.push('token request is not a form');
      return oauthError(400, 'invalid_request', 'AADSTS900144: The request body must be a form.');
    }
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== 'client_credentials') {
      violations.push(`grant_type ${form.get('grant_type')}`);
      return oauthError(400, 'unsupported_grant_type', 'AADSTS70003: grant_type not supported.');
    }
    if (form.get('scope') !== 'https://graph.microsoft.com/.default') {
      violations.push(`scope ${form.get('scope')}`);
      return oauthError(400, 'invalid_scope', 'AADSTS1002012: The provided value for scope is not valid.');
    }
    if (form.get('client_id') !== options.clientId) {
      return oauthError(400, 'unauthorized_client', 'AADSTS700016: Application not found in the directory.');
    }
    if (form.get('client_secret') !== options.clientSecret) {
      return oauthError(401, 'invalid_client', 'AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x');
    }
    const accessToken = `eyJ0eXAiOiJKV1Qi.${randomBytes(24).toString('base64url')}`;
    accessTokens.add(accessToken);
    return {
      status: 200,
      json: { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: accessToken },
    };
  }

  return Object.assign(base, {
    tokenUrl: `${base.url}${tokenPath}`,
    violations,
    invitations,
    apiRequests: () => base.requests.filter((r) => r.path !== tokenPath).length,
    tokenRequests: () => base.requests.filter((r) => r.path === tokenPath).length,
  });
}
