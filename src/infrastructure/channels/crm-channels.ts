import { createHash } from 'node:crypto';
import type { ChannelAdapter, OutboundMessage, SendOutcome } from '../../application/ports/channel.port.js';
import type { Clock } from '../../application/ports/clock.port.js';
import { errorOutcome, joinUrl, jsonOf, request, type HttpAnswer } from './http-channel.js';

/**
 * Channel `crm`: the "delivery" is an event or a tag on the customer's contact in the tenant's CRM or marketing tool,
 * identified by the customer's email; the tenant's own automation there (a HubSpot workflow, an Intercom series, a
 * Mailchimp Customer Journey started by a tag) turns it into a message. The event or tag is the workflow's external
 * template (`system: crm`, its name), its parameters the event's properties. A delivery without one records
 * `herald-message` with the text as its only property, so a standard or custom message still leaves a trace.
 *
 * None of these APIs returns an id for what it recorded: the provider id is the delivery's idempotency key (or the
 * occurrence uuid derived from it, for HubSpot, which de-duplicates on it).
 */

export const CRM_DEFAULT_EVENT = 'herald-message';

interface CrmEvent {
  readonly name: string;
  readonly properties: Readonly<Record<string, string>>;
}

function crmEventOf(message: OutboundMessage): CrmEvent {
  const template = message.content.template?.system === 'crm' ? message.content.template : undefined;
  if (!template) return { name: CRM_DEFAULT_EVENT, properties: { message: message.content.text.slice(0, 1000) } };
  return { name: template.id, properties: Object.fromEntries(template.parameters.map((p) => [p.name, p.value])) };
}

/** A UUID (version 5 layout) derived from the idempotency key: the same on every attempt of a delivery. */
export function occurrenceUuid(idempotencyKey: string): string {
  const hex = createHash('sha256').update(`herald-crm|${idempotencyKey}`).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Seconds-since-epoch reset headers (Intercom's X-RateLimit-Reset) as milliseconds from now. */
function untilReset(answer: HttpAnswer, header: string, now: Date): number | undefined {
  const reset = Number(answer.headers.get(header));
  return Number.isFinite(reset) && reset > 0 ? Math.max(0, reset * 1000 - now.getTime()) : undefined;
}

const accepted = (providerMessageId: string, now: Date): SendOutcome => ({
  outcome: 'accepted',
  providerMessageId,
  acceptedAt: now.toISOString(),
});

// ---------------------------------------------------------------------------------------------------------------
// HubSpot: custom event occurrence, POST /events/v3/send with a private app's token.

export const HUBSPOT_API_URL = 'https://api.hubapi.com';

export interface HubSpotOptions {
  readonly accessToken: string;
  readonly apiUrl?: string;
  readonly clock: Clock;
  readonly timeoutMs?: number;
}

/**
 * HubSpot "Send event data" (`POST /events/v3/send`): `eventName` (the event's fully qualified name,
 * `pe<HubID>_<name>`), `email` (the contact), `occurredAt`, `properties` (the event's properties by internal name)
 * and `uuid`, derived from the delivery, which HubSpot uses to de-duplicate occurrences. 204 No Content = recorded.
 * Errors `{ status: "error", message, category }`: 400 (an unknown event or property) permanent, 401/403 permanent,
 * 429 and 5xx retryable.
 */
export function createHubSpotCrmChannel(options: HubSpotOptions): ChannelAdapter {
  const base = options.apiUrl ?? HUBSPOT_API_URL;
  return {
    channel: 'crm',
    provider: 'hubspot',
    async send(message) {
      const event = crmEventOf(message);
      const now = options.clock.now();
      const uuid = occurrenceUuid(message.idempotencyKey);
      const result = await request(
        joinUrl(base, '/events/v3/send'),
        {
          method: 'POST',
          headers: { authorization: `Bearer ${options.accessToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            eventName: event.name,
            email: message.to,
            occurredAt: now.toISOString(),
            uuid,
            properties: event.properties,
          }),
        },
        options.timeoutMs ?? 30_000,
        'HubSpot',
      );
      if (!result.ok) return result.outcome;
      const { answer } = result;
      if (answer.status === 204 || answer.status === 200) return accepted(uuid, options.clock.now());
      const body = jsonOf(answer) as { message?: string; category?: string } | undefined;
      return errorOutcome(
        answer,
        now,
        `HubSpot ${answer.status}: ${body?.message ?? 'refused'}`.slice(0, 400),
        body?.category ?? String(answer.status),
      );
    },
    async close() {},
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Intercom: a data event, POST /events.

export const INTERCOM_API_URL = 'https://api.intercom.io';
export const INTERCOM_API_VERSION = '2.11';
/** "Up to 10 metadata key-value pairs" per event. */
export const INTERCOM_METADATA_LIMIT = 10;

export interface IntercomOptions {
  readonly accessToken: string;
  readonly apiUrl?: string;
  /** The Intercom-Version header. */
  readonly apiVersion?: string;
  readonly clock: Clock;
  readonly timeoutMs?: number;
}

/**
 * Intercom "Submit a data event" (`POST /events`, `Intercom-Version` header): `event_name`, `created_at` (Unix
 * seconds), `email` (the user or lead) and `metadata` (flat strings, at most 10). 202 Accepted = recorded. Errors
 * `{ type: "error.list", errors: [{ code, message }] }`: 404 `not_found` (no user with that email) and 401
 * `unauthorized` permanent; 429 retryable until X-RateLimit-Reset.
 */
export function createIntercomCrmChannel(options: IntercomOptions): ChannelAdapter {
  const base = options.apiUrl ?? INTERCOM_API_URL;
  return {
    channel: 'crm',
    provider: 'intercom',
    async send(message) {
      const event = crmEventOf(message);
      if (Object.keys(event.properties).length > INTERCOM_METADATA_LIMIT) {
        return {
          outcome: 'permanent',
          reason: `Intercom takes at most ${INTERCOM_METADATA_LIMIT} metadata values per event`,
        };
      }
      const now = options.clock.now();
      const result = await request(
        joinUrl(base, '/events'),
        {
          method: 'POST',
          headers: {
            authorization: `Bearer ${options.accessToken}`,
            'content-type': 'application/json',
            accept: 'application/json',
            'intercom-version': options.apiVersion ?? INTERCOM_API_VERSION,
          },
          body: JSON.stringify({
            event_name: event.name,
            created_at: Math.floor(now.getTime() / 1000),
            email: message.to,
            metadata: event.properties,
          }),
        },
        options.timeoutMs ?? 30_000,
        'Intercom',
      );
      if (!result.ok) return result.outcome;
      const { answer } = result;
      if (answer.status === 202 || answer.status === 200) {
        return accepted(message.idempotencyKey, options.clock.now());
      }
      const error = (jsonOf(answer) as { errors?: { code?: string; message?: string }[] } | undefined)?.errors?.[0];
      return errorOutcome(
        answer,
        now,
        `Intercom ${answer.status}: ${[error?.code, error?.message].filter(Boolean).join(' ') || 'refused'}`.slice(
          0,
          400,
        ),
        error?.code,
        untilReset(answer, 'x-ratelimit-reset', now),
      );
    },
    async close() {},
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Mailchimp: a tag on the audience member, POST /lists/{list_id}/members/{subscriber_hash}/tags.

export interface MailchimpOptions {
  /** `<32 hex>-<dc>`: the data centre after the dash names the API host. */
  readonly apiKey: string;
  /** The audience (list) id. */
  readonly listId: string;
  /** Default https://<dc>.api.mailchimp.com/3.0. */
  readonly apiUrl?: string;
  readonly clock: Clock;
  readonly timeoutMs?: number;
}

export function mailchimpApiUrl(apiKey: string): string {
  const dc = apiKey.split('-')[1] ?? 'us1';
  return `https://${dc}.api.mailchimp.com/3.0`;
}

/** Mailchimp's subscriber hash: the MD5 of the lower-cased email. */
export function subscriberHash(email: string): string {
  return createHash('md5').update(email.trim().toLowerCase()).digest('hex');
}

/**
 * Mailchimp Marketing API "Add or remove member tags": the tag (the event's name) goes on the member as `active`;
 * a Customer Journey starting on "tag added" then sends the tenant's own e-mail. HTTP Basic with any user name and
 * the API key. 204 = tagged. Errors are problem documents `{ type, title, status, detail }`: 404 (not a member of the
 * audience) and 401 permanent; 429 and 5xx retryable.
 */
export function createMailchimpCrmChannel(options: MailchimpOptions): ChannelAdapter {
  const base = options.apiUrl ?? mailchimpApiUrl(options.apiKey);
  const authorization = `Basic ${Buffer.from(`herald:${options.apiKey}`, 'utf8').toString('base64')}`;
  return {
    channel: 'crm',
    provider: 'mailchimp',
    async send(message) {
      const event = crmEventOf(message);
      const now = options.clock.now();
      const result = await request(
        joinUrl(base, `/lists/${encodeURIComponent(options.listId)}/members/${subscriberHash(message.to)}/tags`),
        {
          method: 'POST',
          headers: { authorization, 'content-type': 'application/json' },
          body: JSON.stringify({ tags: [{ name: event.name, status: 'active' }] }),
        },
        options.timeoutMs ?? 30_000,
        'Mailchimp',
      );
      if (!result.ok) return result.outcome;
      const { answer } = result;
      if (answer.status === 204 || answer.status === 200) {
        return accepted(message.idempotencyKey, options.clock.now());
      }
      const body = jsonOf(answer) as { title?: string; detail?: string } | undefined;
      return errorOutcome(
        answer,
        now,
        `Mailchimp ${answer.status}: ${[body?.title, body?.detail].filter(Boolean).join(': ') || 'refused'}`.slice(
          0,
          400,
        ),
      );
    },
    async close() {},
  };
}

// ---------------------------------------------------------------------------------------------------------------
// ActiveCampaign: event tracking, POST https://trackcmp.net/event (form-encoded).

export const ACTIVECAMPAIGN_TRACKING_URL = 'https://trackcmp.net';
/** "The name of the event you wish to track. (Max of 32 Characters)". */
export const ACTIVECAMPAIGN_EVENT_NAME_LIMIT = 32;

export interface ActiveCampaignOptions {
  /** The account's `actid` (Website → Site Tracking → Event Tracking). */
  readonly actid: string;
  /** The Event Key shown beside it. */
  readonly eventKey: string;
  readonly apiUrl?: string;
  readonly clock: Clock;
  readonly timeoutMs?: number;
}

/**
 * ActiveCampaign "Track event" (`POST /event` on trackcmp.net, `application/x-www-form-urlencoded`): `actid`, `key`,
 * `event` (at most 32 characters), `eventdata` (the properties as JSON, when there are any) and `visit`, the
 * JSON-encoded `{ "email": … }` of the contact; an automation starting on "event recorded" sends the message.
 * The answer is `{ success: 1, message }` or, for a refusal (wrong key, event tracking off), `{ success: 0, message }`,
 * which is permanent; 429 and 5xx are retryable.
 */
export function createActiveCampaignCrmChannel(options: ActiveCampaignOptions): ChannelAdapter {
  const base = options.apiUrl ?? ACTIVECAMPAIGN_TRACKING_URL;
  return {
    channel: 'crm',
    provider: 'activecampaign',
    async send(message) {
      const event = crmEventOf(message);
      if ([...event.name].length > ACTIVECAMPAIGN_EVENT_NAME_LIMIT) {
        return {
          outcome: 'permanent',
          reason: `ActiveCampaign event names have at most ${ACTIVECAMPAIGN_EVENT_NAME_LIMIT} characters`,
        };
      }
      const form = new URLSearchParams({
        actid: options.actid,
        key: options.eventKey,
        event: event.name,
        ...(Object.keys(event.properties).length > 0 ? { eventdata: JSON.stringify(event.properties) } : {}),
        visit: JSON.stringify({ email: message.to }),
      });
      const now = options.clock.now();
      const result = await request(
        joinUrl(base, '/event'),
        {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: form.toString(),
        },
        options.timeoutMs ?? 30_000,
        'ActiveCampaign',
      );
      if (!result.ok) return result.outcome;
      const { answer } = result;
      const body = jsonOf(answer) as { success?: number | string; message?: string } | undefined;
      if (answer.status === 200 && Number(body?.success) === 1) {
        return accepted(message.idempotencyKey, options.clock.now());
      }
      if (answer.status === 200) {
        return { outcome: 'permanent', reason: `ActiveCampaign: ${body?.message ?? 'refused'}`.slice(0, 400) };
      }
      return errorOutcome(answer, now, `ActiveCampaign ${answer.status}: ${body?.message ?? 'refused'}`.slice(0, 400));
    },
    async close() {},
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Salesforce: a Task on the contact, found by email, in one Composite request.

export const SALESFORCE_API_VERSION = 'v60.0';

export interface SalesforceOptions {
  /** The org's instance URL (`https://acme.my.salesforce.com`): where the REST API lives. */
  readonly instanceUrl: string;
  /** An OAuth access token (connected app, client credentials or JWT bearer flow). */
  readonly accessToken: string;
  readonly apiVersion?: string;
  readonly clock: Clock;
  readonly timeoutMs?: number;
}

/** A SOQL string literal: backslashes and single quotes escaped. */
function soqlString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

interface CompositeAnswer {
  readonly compositeResponse?: readonly {
    readonly body?: unknown;
    readonly httpStatusCode?: number;
    readonly referenceId?: string;
  }[];
}

/**
 * Salesforce REST Composite (`POST /services/data/vXX.X/composite`, `allOrNone`): a SOQL query for the Contact with
 * the customer's email, then a Task (`Subject` = the event's name, `Description` = its properties one per line,
 * `WhoId` = that contact) for the tenant's staff to act on — "the next in line needs a call". One request, so a
 * Task is never created without its contact. 200 with both sub-answers 2xx: created, the provider id is the Task's
 * id. A sub-answer that fails (no such contact: the reference cannot be resolved; a refused field) is permanent;
 * 401 (expired or wrong token) permanent; 429/503 retryable.
 */
export function createSalesforceCrmChannel(options: SalesforceOptions): ChannelAdapter {
  const version = options.apiVersion ?? SALESFORCE_API_VERSION;
  const root = `/services/data/${version}`;
  return {
    channel: 'crm',
    provider: 'salesforce',
    async send(message) {
      const event = crmEventOf(message);
      const now = options.clock.now();
      const description = Object.entries(event.properties)
        .map(([name, value]) => `${name}: ${value}`)
        .join('\n');
      const body = {
        allOrNone: true,
        compositeRequest: [
          {
            method: 'GET',
            url: `${root}/query?q=${encodeURIComponent(
              `SELECT Id FROM Contact WHERE Email = ${soqlString(message.to)} ORDER BY CreatedDate LIMIT 1`,
            )}`,
            referenceId: 'contact',
          },
          {
            method: 'POST',
            url: `${root}/sobjects/Task`,
            referenceId: 'task',
            body: {
              Subject: event.name.slice(0, 255),
              Description: description.slice(0, 32_000),
              WhoId: '@{contact.records[0].Id}',
              Status: 'Not Started',
              Priority: 'High',
              ActivityDate: now.toISOString().slice(0, 10),
            },
          },
        ],
      };
      const result = await request(
        joinUrl(options.instanceUrl, `${root}/composite`),
        {
          method: 'POST',
          headers: { authorization: `Bearer ${options.accessToken}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        },
        options.timeoutMs ?? 30_000,
        'Salesforce',
      );
      if (!result.ok) return result.outcome;
      const { answer } = result;
      const parsed = jsonOf(answer);
      if (answer.status === 200) {
        const parts = (parsed as CompositeAnswer | undefined)?.compositeResponse ?? [];
        const task = parts.find((p) => p.referenceId === 'task');
        const failed = parts.find((p) => (p.httpStatusCode ?? 500) >= 300);
        if (!failed && task) {
          const id = (task.body as { id?: string } | undefined)?.id;
          if (id) return accepted(id, options.clock.now());
        }
        const errors = Array.isArray(failed?.body) ? (failed.body as { errorCode?: string; message?: string }[]) : [];
        const reason = errors.map((e) => [e.errorCode, e.message].filter(Boolean).join(': ')).join('; ');
        return {
          outcome: 'permanent',
          reason: `Salesforce: ${reason || 'the Task was not created'}`.slice(0, 400),
          ...(errors[0]?.errorCode ? { code: errors[0].errorCode } : {}),
        };
      }
      const errors = Array.isArray(parsed) ? (parsed as { errorCode?: string; message?: string }[]) : [];
      return errorOutcome(
        answer,
        now,
        `Salesforce ${answer.status}: ${errors.map((e) => `${e.errorCode}: ${e.message}`).join('; ') || 'refused'}`.slice(
          0,
          400,
        ),
        errors[0]?.errorCode,
      );
    },
    async close() {},
  };
}
