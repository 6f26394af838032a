import { createHash } from 'node:crypto';
import type { ChannelAdapter, OutboundMessage, SendOutcome } from '../../application/ports/channel.port.js';
import type { Clock } from '../../application/ports/clock.port.js';
import { neutraliseText } from '../../domain/shared/text.js';
import { errorOutcome, joinUrl, jsonOf, request } from './http-channel.js';

/**
 * Channel `meeting`: the customer of an online service is registered for its online meeting, and the meeting
 * provider e-mails the join link (docs/channels/meeting.md). The address is the customer's email; which meeting is
 * the workflow's external template (`system: zoom` / `webex`, `template: <meeting id>`), as `system: smartemailing`
 * names a prepared e-mail. The template's parameter `customerName` (when the workflow lists it) is the registrant's
 * name; without it the local part of the address stands in.
 */

type Failure = Exclude<SendOutcome, { outcome: 'accepted' }>;

export const ZOOM_API_URL = 'https://api.zoom.us/v2';
export const ZOOM_TOKEN_URL = 'https://zoom.us/oauth/token';
export const WEBEX_API_URL = 'https://webexapis.com/v1';

/** The registrant's name: the `customerName` parameter, or the address's local part; one safe line. */
function registrantName(message: OutboundMessage, max: number): string {
  const given = message.content.template?.parameters.find((p) => p.name === 'customerName')?.value.trim();
  const name = given !== undefined && given !== '' ? given : message.to.split('@', 1)[0]!;
  return [...neutraliseText(name, 'line').replace(/\s+/g, ' ').trim()].slice(0, max).join('') || 'Guest';
}

/** The meeting id of the delivery's template of `system`, or a permanent outcome saying why there is none. */
function meetingOf(message: OutboundMessage, system: string, pattern: RegExp): { id: string } | { outcome: Failure } {
  const template = message.content.template;
  if (template === undefined || template.system !== system) {
    return {
      outcome: {
        outcome: 'permanent',
        reason: `no ${system} meeting: the workflow must name one (message type external, system ${system})`,
        code: 'no-meeting',
      },
    };
  }
  if (!pattern.test(template.id)) {
    return { outcome: { outcome: 'permanent', reason: `not a ${system} meeting id: ${template.id.slice(0, 40)}` } };
  }
  return { id: template.id };
}

export interface ZoomOptions {
  /** The Server-to-Server OAuth app's account id. */
  readonly accountId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Default https://api.zoom.us/v2 (tests: the stand-in). */
  readonly apiUrl?: string;
  /** Default https://zoom.us/oauth/token. */
  readonly tokenUrl?: string;
  readonly clock: Clock;
  readonly timeoutMs?: number;
}

/**
 * Zoom Meetings API "Add a meeting registrant" (`POST /meetings/{meetingId}/registrants`), plain fetch. Auth is a
 * Server-to-Server OAuth app: `POST <tokenUrl>` with HTTP Basic (client id : client secret) and the form
 * `grant_type=account_credentials&account_id=…`; the access token (one hour) is kept in memory until a minute
 * before it expires. The body is `{ email, first_name, last_name? }`; Zoom answers 201 with `registrant_id` and the
 * registrant's own `join_url`, and e-mails the customer the confirmation with that link when the meeting's
 * registration settings say so (the host's choice, not Herald's). The registrant id is the provider message id.
 *
 * Answers: 404 (meeting not found) and 400 (registration not enabled, capacity reached, invalid email) are
 * permanent; 429 and 5xx retryable with Retry-After; a refused app (token endpoint 400/401 `invalid_client`) is
 * permanent; an access token Zoom no longer takes (401 on the API) is forgotten and the attempt is retryable.
 * A repeated registration of the same email (a retry after a crash) answers the existing registrant — the same
 * registrant id and join link — so the customer still has one registration and one link.
 */
export function createZoomMeetingChannel(options: ZoomOptions): ChannelAdapter {
  const base = options.apiUrl ?? ZOOM_API_URL;
  const tokenUrl = options.tokenUrl ?? ZOOM_TOKEN_URL;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const basic = `Basic ${Buffer.from(`${options.clientId}:${options.clientSecret}`, 'utf8').toString('base64')}`;
  let cached: { token: string; until: number } | undefined;

  async function accessToken(): Promise<{ token: string } | { outcome: Failure }> {
    const now = options.clock.now();
    if (cached && cached.until > now.getTime()) return { token: cached.token };
    const result = await request(
      tokenUrl,
      {
        method: 'POST',
        headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'account_credentials', account_id: options.accountId }).toString(),
      },
      timeoutMs,
      'Zoom OAuth',
    );
    if (!result.ok) return { outcome: result.outcome as Failure };
    const body = jsonOf(result.answer) as
      { access_token?: unknown; expires_in?: unknown; error?: unknown; reason?: unknown } | undefined;
    if (result.answer.status !== 200 || typeof body?.access_token !== 'string') {
      const reason = `Zoom OAuth ${result.answer.status}: ${String(body?.error ?? 'refused')} ${String(body?.reason ?? '')}`;
      return { outcome: errorOutcome(result.answer, options.clock.now(), reason.trim().slice(0, 400)) };
    }
    const seconds = typeof body.expires_in === 'number' ? body.expires_in : 3600;
    cached = { token: body.access_token, until: now.getTime() + Math.max(0, seconds - 60) * 1000 };
    return { token: body.access_token };
  }

  return {
    channel: 'meeting',
    provider: 'zoom',
    async send(message) {
      const meeting = meetingOf(message, 'zoom', /^\d{9,12}$/);
      if ('outcome' in meeting) return meeting.outcome;
      const auth = await accessToken();
      if ('outcome' in auth) return auth.outcome;
      const [first, ...rest] = registrantName(message, 128).split(' ');
      const body = {
        email: message.to,
        first_name: [...first!].slice(0, 64).join(''),
        ...(rest.length > 0 ? { last_name: [...rest.join(' ')].slice(0, 64).join('') } : {}),
      };
      const result = await request(
        joinUrl(base, `/meetings/${meeting.id}/registrants`),
        {
          method: 'POST',
          headers: { authorization: `Bearer ${auth.token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        },
        timeoutMs,
        'Zoom',
      );
      if (!result.ok) return result.outcome;
      const { answer } = result;
      const now = options.clock.now();
      const json = jsonOf(answer) as { registrant_id?: unknown; code?: unknown; message?: unknown } | undefined;
      if (answer.status === 201 || answer.status === 200) {
        if (typeof json?.registrant_id !== 'string' || json.registrant_id === '') {
          return { outcome: 'retryable', reason: 'Zoom answered without a registrant_id' };
        }
        return { outcome: 'accepted', providerMessageId: json.registrant_id, acceptedAt: now.toISOString() };
      }
      const code = json?.code !== undefined ? String(json.code) : String(answer.status);
      const reason = `Zoom ${answer.status} ${code}: ${typeof json?.message === 'string' ? json.message : 'refused'}`;
      if (answer.status === 401) {
        // Our access token, not the registration: forget it; the next attempt signs in again.
        cached = undefined;
        return { outcome: 'retryable', reason: reason.slice(0, 400), code };
      }
      return errorOutcome(answer, now, reason.slice(0, 400), code);
    },
    async close() {},
  };
}

export interface WebexOptions {
  /** An access token with the meeting:schedules_write scope. */
  readonly accessToken: string;
  /** Default https://webexapis.com/v1 (tests: the stand-in). */
  readonly apiUrl?: string;
  readonly clock: Clock;
  readonly timeoutMs?: number;
}

/**
 * Webex Meetings API "Create a Meeting Invitee" (`POST /meetingInvitees`), plain fetch with the bearer token. The
 * body is `{ meetingId, email, displayName, sendEmail: true }`: Webex e-mails the customer the invitation with the
 * join link. 200 answers the invitee, whose `id` is the provider message id.
 *
 * Answers: 404 (meeting not found), 400 (a meeting that takes no invitees) permanent; 401/403 (the token) permanent;
 * 429 and 5xx retryable with Retry-After. 409 — the email is already an invitee of the meeting — is success: a
 * retry after a crash that finds its own earlier invitation registers nobody twice. Webex names no invitee in a
 * 409, so the provider message id is then `existing:<meetingId>:<hash of the address>`.
 */
export function createWebexMeetingChannel(options: WebexOptions): ChannelAdapter {
  const base = options.apiUrl ?? WEBEX_API_URL;
  const timeoutMs = options.timeoutMs ?? 30_000;
  return {
    channel: 'meeting',
    provider: 'webex',
    async send(message) {
      const meeting = meetingOf(message, 'webex', /^[0-9a-f]{32}(_I)?(_\d{1,20})?$/);
      if ('outcome' in meeting) return meeting.outcome;
      const body = {
        meetingId: meeting.id,
        email: message.to,
        displayName: registrantName(message, 128),
        sendEmail: true,
      };
      const result = await request(
        joinUrl(base, '/meetingInvitees'),
        {
          method: 'POST',
          headers: {
            authorization: `Bearer ${options.accessToken}`,
            'content-type': 'application/json',
            accept: 'application/json',
          },
          body: JSON.stringify(body),
        },
        timeoutMs,
        'Webex',
      );
      if (!result.ok) return result.outcome;
      const { answer } = result;
      const now = options.clock.now();
      const json = jsonOf(answer) as
        { id?: unknown; message?: unknown; errors?: { description?: unknown }[] } | undefined;
      if (answer.status === 200 || answer.status === 201) {
        if (typeof json?.id !== 'string' || json.id === '') {
          return { outcome: 'retryable', reason: 'Webex answered without the invitee id' };
        }
        return { outcome: 'accepted', providerMessageId: json.id, acceptedAt: now.toISOString() };
      }
      if (answer.status === 409) {
        const hash = createHash('sha256').update(message.to.trim().toLowerCase()).digest('hex').slice(0, 16);
        return {
          outcome: 'accepted',
          providerMessageId: `existing:${meeting.id}:${hash}`,
          acceptedAt: now.toISOString(),
        };
      }
      const detail = json?.errors?.[0]?.description ?? json?.message;
      const reason = `Webex ${answer.status}: ${typeof detail === 'string' ? detail : 'refused'}`.slice(0, 400);
      return errorOutcome(answer, now, reason);
    },
    async close() {},
  };
}
