import { createHash } from 'node:crypto';
import type { ChannelAdapter, OutboundMessage, SendOutcome } from '../../application/ports/channel.port.js';
import type { Clock } from '../../application/ports/clock.port.js';
import type { CalendarEventContent } from '../../domain/notification/index.js';
import { formatInZone } from '../../domain/shared/zoned-time.js';
import { createGoogleAccessTokens, type NotAccepted } from './google-service-account.js';
import { errorOutcome, joinUrl, jsonOf, request } from './http-channel.js';

/**
 * Channel `calendar`: the "delivery" is an event in the tenant's calendar (the reservation: service, start and end
 * in the location's time zone, location, the reservation's code in the description) with the recipient's email as
 * attendee; the calendar provider emails the invitation. Both providers take an id chosen by Herald, derived from the
 * delivery's idempotency key, so an attempt repeated after a crash (or a lost answer) never creates a second event
 * nor invites twice (docs/channels/calendar.md).
 */

const MAX_DESCRIPTION_CHARS = 4000;

function eventOf(message: OutboundMessage): CalendarEventContent | NotAccepted {
  const event = message.content.event;
  return event ?? { outcome: 'permanent', reason: 'a calendar invitation needs its event (a reservation)' };
}

const clip = (text: string, max: number) => [...text].slice(0, max).join('');

/**
 * Google Calendar event ids: base32hex characters (a-v, 0-9), 5 to 1024 of them. A sha256 in hex is in that alphabet;
 * the same key gives the same id on every attempt.
 */
export function googleEventId(idempotencyKey: string): string {
  return `herald${createHash('sha256').update(`herald-calendar|${idempotencyKey}`).digest('hex')}`.replace(
    /[^a-v0-9]/g,
    '',
  );
}

/** A Graph transactionId: at most 255 characters; a UUID-like derivation of the key. */
export function graphTransactionId(idempotencyKey: string): string {
  return createHash('sha256').update(`herald-calendar|${idempotencyKey}`).digest('hex');
}

// ---------------------------------------------------------------------------------------------------------------
// Google Calendar API v3 events.insert

export const GOOGLE_CALENDAR_API_URL = 'https://www.googleapis.com';
export const GOOGLE_CALENDAR_SCOPE = 'https://www.googleapis.com/auth/calendar.events';

export interface GoogleCalendarOptions {
  /** The calendar the events go to: an id (`…@group.calendar.google.com`), the user's address or `primary`. */
  readonly calendarId: string;
  readonly clientEmail: string;
  readonly privateKey: string;
  /** The Workspace user whose calendar it is (domain-wide delegation): the organizer of the invitations. */
  readonly subject?: string;
  /** Default https://www.googleapis.com (tests: the stand-in). */
  readonly apiUrl?: string;
  readonly tokenUrl?: string;
  readonly clock: Clock;
  readonly timeoutMs?: number;
}

interface GoogleError {
  readonly error?: {
    readonly code?: number;
    readonly message?: string;
    readonly status?: string;
    readonly errors?: readonly { readonly reason?: string; readonly message?: string }[];
  };
}

/** Google's usage limits answer 403 (and 429) with these reasons: the same request passes later. */
const GOOGLE_RATE_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded', 'quotaExceeded']);

/**
 * `POST /calendar/v3/calendars/{calendarId}/events?sendUpdates=all` with the event's `id` chosen by Herald: Google
 * emails the attendee the invitation. A 409 (the id exists) means an earlier attempt created it: accepted, nothing
 * sent again. 403 rate-limit reasons, 429 and 5xx are retryable (Retry-After honoured); 401 forgets the access
 * token and is retryable (the next attempt signs in again); other 4xx (a calendar not shared with the account, an
 * invalid field) are permanent.
 */
export function createGoogleCalendarChannel(options: GoogleCalendarOptions): ChannelAdapter {
  const base = options.apiUrl ?? GOOGLE_CALENDAR_API_URL;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const tokens = createGoogleAccessTokens({
    clientEmail: options.clientEmail,
    privateKey: options.privateKey,
    scope: GOOGLE_CALENDAR_SCOPE,
    ...(options.subject ? { subject: options.subject } : {}),
    ...(options.tokenUrl ? { tokenUrl: options.tokenUrl } : {}),
    provider: 'Google Calendar',
    clock: options.clock,
    timeoutMs,
  });
  return {
    channel: 'calendar',
    provider: 'google-calendar',
    async send(message) {
      const event = eventOf(message);
      if ('outcome' in event) return event;
      const auth = await tokens.get();
      if ('outcome' in auth) return auth.outcome;
      const id = googleEventId(message.idempotencyKey);
      const body = {
        id,
        summary: event.summary,
        description: clip(event.description, MAX_DESCRIPTION_CHARS),
        location: event.location,
        start: { dateTime: formatInZone(event.timeZone, Date.parse(event.start)), timeZone: event.timeZone },
        end: { dateTime: formatInZone(event.timeZone, Date.parse(event.end)), timeZone: event.timeZone },
        attendees: [{ email: message.to }],
        // The booking is decided: the customer is invited, not asked to reshape it.
        guestsCanModify: false,
        guestsCanInviteOthers: false,
      };
      const url = `${joinUrl(base, `/calendar/v3/calendars/${encodeURIComponent(options.calendarId)}/events`)}?sendUpdates=all`;
      const result = await request(
        url,
        {
          method: 'POST',
          headers: { authorization: `Bearer ${auth.token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        },
        timeoutMs,
        'Google Calendar',
      );
      if (!result.ok) return result.outcome;
      const { answer } = result;
      const now = options.clock.now();
      if (answer.status === 200) {
        const json = jsonOf(answer) as { id?: unknown } | undefined;
        return {
          outcome: 'accepted',
          providerMessageId: typeof json?.id === 'string' ? json.id : id,
          acceptedAt: now.toISOString(),
        };
      }
      const json = jsonOf(answer) as GoogleError | undefined;
      const reasonCode = json?.error?.errors?.[0]?.reason;
      const code = reasonCode ?? json?.error?.status ?? String(answer.status);
      const reason = `Google Calendar ${answer.status} ${code}: ${json?.error?.message ?? 'refused'}`.slice(0, 400);
      // The id exists: an earlier attempt created the event and Google sent its invitation then.
      if (answer.status === 409) return { outcome: 'accepted', providerMessageId: id, acceptedAt: now.toISOString() };
      if (answer.status === 401) {
        tokens.forget();
        return { outcome: 'retryable', reason, code };
      }
      if (answer.status === 403 && reasonCode && GOOGLE_RATE_REASONS.has(reasonCode)) {
        return { ...errorOutcome({ ...answer, status: 429 }, now, reason, code) };
      }
      return errorOutcome(answer, now, reason, code);
    },
    async close() {},
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Microsoft Graph v1.0 create event (Outlook)

export const GRAPH_API_URL = 'https://graph.microsoft.com';
export const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';

export function microsoftTokenUrl(tenantId: string): string {
  return `https://login.microsoftonline.com/${encodeURIComponent(tenantId)}/oauth2/v2.0/token`;
}

export interface OutlookOptions {
  /** The Entra ID (Azure AD) tenant: its id or domain; names the default token endpoint. */
  readonly tenantId: string;
  /** The app registration's client (application) id. */
  readonly clientId: string;
  readonly clientSecret: string;
  /** The mailbox whose calendar the events go to (its id or user principal name): the organizer. */
  readonly userId: string;
  /** Default https://graph.microsoft.com (tests: the stand-in). */
  readonly apiUrl?: string;
  /** Default https://login.microsoftonline.com/{tenantId}/oauth2/v2.0/token. */
  readonly tokenUrl?: string;
  readonly clock: Clock;
  readonly timeoutMs?: number;
}

/**
 * `POST /v1.0/users/{userId}/events`: Exchange sends the invitation to the attendees when the event is created.
 * `transactionId`, derived from the delivery, lets Graph recognise a repeated POST (a retry after a crash or a lost
 * answer) and not create (nor invite to) a second event. The app signs in with the OAuth 2.0 client-credentials
 * grant (application permission Calendars.ReadWrite), token kept until a minute before it expires.
 * Errors `{ error: { code, message } }`: 429/503/504 retryable with Retry-After; 401 forgets the token (retryable);
 * 403 (ErrorAccessDenied: no permission on that mailbox), 404 (no such mailbox), 400 permanent.
 */
export function createOutlookCalendarChannel(options: OutlookOptions): ChannelAdapter {
  const base = options.apiUrl ?? GRAPH_API_URL;
  const tokenUrl = options.tokenUrl ?? microsoftTokenUrl(options.tenantId);
  const timeoutMs = options.timeoutMs ?? 30_000;
  let cached: { token: string; until: number } | undefined;

  async function accessToken(): Promise<{ token: string } | { outcome: NotAccepted }> {
    const now = options.clock.now();
    if (cached && cached.until > now.getTime()) return { token: cached.token };
    const result = await request(
      tokenUrl,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          client_id: options.clientId,
          client_secret: options.clientSecret,
          scope: GRAPH_SCOPE,
          grant_type: 'client_credentials',
        }).toString(),
      },
      timeoutMs,
      'Microsoft identity platform',
    );
    if (!result.ok) return { outcome: result.outcome as NotAccepted };
    const body = jsonOf(result.answer) as
      { access_token?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown } | undefined;
    if (result.answer.status !== 200 || typeof body?.access_token !== 'string') {
      // The description's first line names the AADSTS code (invalid_client: a wrong secret), never the secret.
      const description = String(body?.error_description ?? '').split(/\r?\n/, 1)[0];
      const reason = `Microsoft token ${result.answer.status}: ${String(body?.error ?? 'refused')} ${description}`;
      return { outcome: errorOutcome(result.answer, options.clock.now(), reason.trim().slice(0, 400)) };
    }
    const seconds = typeof body.expires_in === 'number' ? body.expires_in : Number(body.expires_in) || 3600;
    cached = { token: body.access_token, until: now.getTime() + Math.max(0, seconds - 60) * 1000 };
    return { token: body.access_token };
  }

  return {
    channel: 'calendar',
    provider: 'outlook',
    async send(message) {
      const event = eventOf(message);
      if ('outcome' in event) return event;
      const auth = await accessToken();
      if ('outcome' in auth) return auth.outcome;
      // dateTimeTimeZone: the wall-clock time in the zone, without an offset, and the zone's name.
      const local = (iso: string) => formatInZone(event.timeZone, Date.parse(iso)).slice(0, 19);
      const body = {
        subject: event.summary,
        body: { contentType: 'text', content: clip(event.description, MAX_DESCRIPTION_CHARS) },
        start: { dateTime: local(event.start), timeZone: event.timeZone },
        end: { dateTime: local(event.end), timeZone: event.timeZone },
        location: { displayName: event.location },
        attendees: [{ emailAddress: { address: message.to }, type: 'required' }],
        allowNewTimeProposals: false,
        responseRequested: false,
        transactionId: graphTransactionId(message.idempotencyKey),
      };
      const result = await request(
        joinUrl(base, `/v1.0/users/${encodeURIComponent(options.userId)}/events`),
        {
          method: 'POST',
          headers: { authorization: `Bearer ${auth.token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        },
        timeoutMs,
        'Microsoft Graph',
      );
      if (!result.ok) return result.outcome;
      const { answer } = result;
      const now = options.clock.now();
      const json = jsonOf(answer) as { id?: unknown; error?: { code?: string; message?: string } } | undefined;
      if (answer.status === 201 || answer.status === 200) {
        if (typeof json?.id !== 'string') return { outcome: 'retryable', reason: 'Graph answered without an event id' };
        return { outcome: 'accepted', providerMessageId: json.id, acceptedAt: now.toISOString() };
      }
      const code = json?.error?.code ?? String(answer.status);
      const reason = `Microsoft Graph ${answer.status} ${code}: ${json?.error?.message ?? 'refused'}`.slice(0, 400);
      if (answer.status === 401) {
        cached = undefined;
        return { outcome: 'retryable', reason, code } satisfies SendOutcome;
      }
      return errorOutcome(answer, now, reason, code);
    },
    async close() {},
  };
}
