import { createHash } from 'node:crypto';
import type { ChannelAdapter, OutboundMessage, SendOutcome } from '../../application/ports/channel.port.js';
import type { Clock } from '../../application/ports/clock.port.js';
import { errorOutcome, jsonOf, request, type HttpAnswer } from './http-channel.js';

/**
 * Staff chat: alerts for the tenant's staff ("nobody took the offered seat", low credits) posted to a Slack, Teams
 * or Discord room through the webhook the tenant created there. The webhook URL carries its own secret (Slack's
 * `/services/T…/B…/…`, Discord's `/api/webhooks/<id>/<token>`, the signed Workflows URL), so it is a credential:
 * sealed in the events, never logged, never in a reason (errors name the provider and status only). The delivery's
 * recipient is a room label for the audit trail. Plain text only: nothing from a customer's name becomes markup
 * (Slack mrkdwn and Discord markdown are turned off or escaped).
 */

export interface StaffChatOptions {
  /** The incoming webhook URL (a secret). */
  readonly webhookUrl: string;
  readonly clock: Clock;
  readonly timeoutMs?: number;
}

/** Slack: a section block's text is at most 3000 characters; Teams and Discord are given the same bound. */
export const STAFF_CHAT_TEXT_LIMIT = 3000;

function split(message: OutboundMessage): { title: string; body: string } {
  const text = message.content.text;
  const [first, ...rest] = text.split('\n');
  const title = (message.content.subject || first || 'Herald').slice(0, 150);
  const body = message.content.subject ? text : rest.join('\n').trim() || text;
  return { title, body };
}

function tooLong(message: OutboundMessage, provider: string): SendOutcome | undefined {
  if ([...message.content.text].length <= STAFF_CHAT_TEXT_LIMIT) return undefined;
  return {
    outcome: 'permanent',
    reason: `the text is longer than the ${STAFF_CHAT_TEXT_LIMIT} characters a ${provider} alert carries`,
    code: 'too-long',
  };
}

/** Providers without a message id in their answer: one derived from the delivery (stable across attempts). */
function derivedId(provider: string, message: OutboundMessage): string {
  return `${provider}:${createHash('sha256').update(message.idempotencyKey).digest('base64url').slice(0, 22)}`;
}

const post = (url: string, body: unknown, timeoutMs: number, provider: string) =>
  request(
    url,
    { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
    timeoutMs,
    provider,
  );

/** The first line of an error answer, without anything that looks like a URL (the webhook's secret). */
function errorText(answer: HttpAnswer): string {
  return answer.text
    .split('\n', 1)[0]!
    .replace(/https?:\/\/\S+/g, '<url>')
    .slice(0, 200);
}

/**
 * Slack incoming webhook (https://api.slack.com/messaging/webhooks): `{ text, blocks }` with a header block and a
 * plain-text section (Block Kit); `text` is the notification fallback. Slack answers `200 ok`, or a status with a
 * short error word in the body: 400 `invalid_payload` / `invalid_blocks`, 403 `invalid_token` / `action_prohibited`,
 * 404 `no_service` (webhook removed), 410 `channel_is_archived` — all permanent; 429 (about one message a second
 * per webhook) with Retry-After, and 5xx, retryable.
 */
export function createSlackChannel(options: StaffChatOptions): ChannelAdapter {
  const timeoutMs = options.timeoutMs ?? 30_000;
  return {
    channel: 'staff-chat',
    provider: 'slack',
    async send(message) {
      const refused = tooLong(message, 'Slack');
      if (refused) return refused;
      const { title, body } = split(message);
      const result = await post(
        options.webhookUrl,
        {
          text: `${title}\n${body}`.slice(0, STAFF_CHAT_TEXT_LIMIT),
          blocks: [
            { type: 'header', text: { type: 'plain_text', text: title, emoji: false } },
            { type: 'section', text: { type: 'plain_text', text: body, emoji: false } },
          ],
          mrkdwn: false,
        },
        timeoutMs,
        'Slack',
      );
      if (!result.ok) return result.outcome;
      const { answer } = result;
      const now = options.clock.now();
      if (answer.status === 200) {
        return { outcome: 'accepted', providerMessageId: derivedId('slack', message), acceptedAt: now.toISOString() };
      }
      const word = errorText(answer) || 'refused';
      return errorOutcome(answer, now, `Slack ${answer.status}: ${word}`, word);
    },
    async close() {},
  };
}

/**
 * Microsoft Teams through a Workflows webhook ("Post to a channel when a webhook request is received", the
 * successor of the retired Office 365 connectors): `{ type: 'message', attachments: [{ contentType:
 * 'application/vnd.microsoft.card.adaptive', content: AdaptiveCard 1.4 }] }` with a bold title TextBlock and a
 * wrapped body TextBlock. The flow answers 202 Accepted with no id; 400 for a malformed card, 401/403/404 for a
 * wrong or deleted flow URL (permanent); 429 with Retry-After and 5xx retryable.
 */
export function createTeamsChannel(options: StaffChatOptions): ChannelAdapter {
  const timeoutMs = options.timeoutMs ?? 30_000;
  return {
    channel: 'staff-chat',
    provider: 'teams',
    async send(message) {
      const refused = tooLong(message, 'Teams');
      if (refused) return refused;
      const { title, body } = split(message);
      const result = await post(
        options.webhookUrl,
        {
          type: 'message',
          attachments: [
            {
              contentType: 'application/vnd.microsoft.card.adaptive',
              contentUrl: null,
              content: {
                $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
                type: 'AdaptiveCard',
                version: '1.4',
                body: [
                  { type: 'TextBlock', text: title, weight: 'Bolder', size: 'Medium', wrap: true },
                  { type: 'TextBlock', text: body, wrap: true },
                ],
              },
            },
          ],
        },
        timeoutMs,
        'Teams',
      );
      if (!result.ok) return result.outcome;
      const { answer } = result;
      const now = options.clock.now();
      if (answer.status === 200 || answer.status === 202) {
        return { outcome: 'accepted', providerMessageId: derivedId('teams', message), acceptedAt: now.toISOString() };
      }
      const json = jsonOf(answer) as { error?: { code?: string; message?: string } } | undefined;
      const code = json?.error?.code ?? String(answer.status);
      return errorOutcome(answer, now, `Teams ${answer.status}: ${json?.error?.code ?? errorText(answer)}`, code);
    },
    async close() {},
  };
}

interface DiscordAnswer {
  readonly id?: string;
  readonly code?: number;
  readonly message?: string;
  readonly retry_after?: number;
  readonly global?: boolean;
}

/**
 * Discord webhook (Execute Webhook, `?wait=true` so the answer is the message with its id): one embed with the
 * title and description, `allowed_mentions: { parse: [] }` so a text never pings anyone. Errors are JSON
 * `{ code, message }`: 404 10015 Unknown Webhook and 401 50027 Invalid Webhook Token (permanent), 400 50035 Invalid
 * Form Body (permanent); 429 `{ message, retry_after (seconds, float), global }` with a Retry-After header
 * (retryable, honoured), 5xx retryable.
 */
export function createDiscordChannel(options: StaffChatOptions): ChannelAdapter {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const url = new URL(options.webhookUrl);
  url.searchParams.set('wait', 'true');
  return {
    channel: 'staff-chat',
    provider: 'discord',
    async send(message) {
      const refused = tooLong(message, 'Discord');
      if (refused) return refused;
      const { title, body } = split(message);
      const result = await post(
        url.toString(),
        {
          embeds: [{ title: title.slice(0, 256), description: body.slice(0, 4096) }],
          allowed_mentions: { parse: [] },
        },
        timeoutMs,
        'Discord',
      );
      if (!result.ok) return result.outcome;
      const { answer } = result;
      const now = options.clock.now();
      const json = jsonOf(answer) as DiscordAnswer | undefined;
      if (answer.status === 200 && typeof json?.id === 'string') {
        return { outcome: 'accepted', providerMessageId: json.id, acceptedAt: now.toISOString() };
      }
      if (answer.status === 204) {
        return { outcome: 'accepted', providerMessageId: derivedId('discord', message), acceptedAt: now.toISOString() };
      }
      const code = json?.code !== undefined ? String(json.code) : String(answer.status);
      const retryAfter = typeof json?.retry_after === 'number' && json.retry_after >= 0 ? json.retry_after : undefined;
      return errorOutcome(
        answer,
        now,
        `Discord ${answer.status}: ${(json?.message ?? errorText(answer)).slice(0, 200)}`,
        code,
        retryAfter !== undefined ? Math.ceil(retryAfter * 1000) : undefined,
      );
    },
    async close() {},
  };
}
