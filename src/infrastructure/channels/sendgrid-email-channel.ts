import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import type {
  ChannelAdapter,
  ProviderStatusReport,
  StatusWebhook,
  WebhookRequest,
} from '../../application/ports/channel.port.js';
import type { Clock } from '../../application/ports/clock.port.js';
import type { ProviderStatus } from '../../domain/notification/index.js';
import { messageIdFor } from '../email/smtp-email-sender.js';
import { errorOutcome, joinUrl, jsonOf, request } from './http-channel.js';

export const SENDGRID_API_URL = 'https://api.sendgrid.com';

export interface SendGridOptions {
  readonly apiKey: string;
  /** Default https://api.sendgrid.com (EU subusers: https://api.eu.sendgrid.com; tests: the stand-in). */
  readonly apiUrl?: string;
  readonly clock: Clock;
  /** Per request. Default 30 s. */
  readonly timeoutMs?: number;
}

/** custom_args SendGrid echoes in every event of the message: how a status callback finds its delivery. */
export const SENDGRID_TENANT_ARG = 'herald_tenant';
export const SENDGRID_NOTIFICATION_ARG = 'herald_notification';

/**
 * SendGrid v3 Mail Send (`POST /v3/mail/send`), plain fetch: the official library wraps this one POST in axios and
 * hides the two headers we need (X-Message-Id, Retry-After). 202 = accepted, with the message id in X-Message-Id.
 * A delivery with a `sendgrid` template goes out as a dynamic template (`template_id` + `dynamic_template_data`);
 * otherwise the rendered subject, text, HTML and calendar invitation are sent as they are.
 */
export function createSendGridEmailChannel(options: SendGridOptions): ChannelAdapter {
  const base = options.apiUrl ?? SENDGRID_API_URL;
  const timeoutMs = options.timeoutMs ?? 30_000;
  return {
    channel: 'email',
    provider: 'sendgrid',
    async send(message) {
      const { content } = message;
      const attachments = [
        ...(content.ics
          ? [
              {
                content: Buffer.from(content.ics.content, 'utf8').toString('base64'),
                type: `text/calendar; method=${content.ics.method}`,
                filename: 'invite.ics',
                disposition: 'attachment',
              },
            ]
          : []),
        ...(message.attachments ?? []).map((attachment) => ({
          content: Buffer.from(attachment.content).toString('base64'),
          type: attachment.contentType,
          filename: attachment.filename,
          disposition: 'attachment',
        })),
      ];
      const template = content.template?.system === 'sendgrid' ? content.template : undefined;
      // Subject and content go even with a template: "a template that contains a subject and content will
      // override" them (mail send reference), and the schema requires both.
      const body = {
        personalizations: [
          {
            to: [{ email: message.to }],
            ...(template
              ? { dynamic_template_data: Object.fromEntries(template.parameters.map((p) => [p.name, p.value])) }
              : {}),
            // Echoed in every Event Webhook event of the message: how a status finds its delivery.
            custom_args: {
              [SENDGRID_TENANT_ARG]: message.tenantId,
              [SENDGRID_NOTIFICATION_ARG]: message.notificationId,
            },
          },
        ],
        from: {
          email: content.from?.address ?? 'no-reply@herald.invalid',
          ...(content.from?.name ? { name: content.from.name } : {}),
        },
        subject: content.subject || content.text.split('\n', 1)[0]!.slice(0, 200),
        content: [
          { type: 'text/plain', value: content.text },
          ...(content.html ? [{ type: 'text/html', value: content.html }] : []),
        ],
        ...(template ? { template_id: template.id } : {}),
        ...(attachments.length > 0 ? { attachments } : {}),
        // The same Message-ID on every attempt, as over SMTP: receivers fold a retransmission after a crash.
        headers: { 'Message-ID': messageIdFor(message.idempotencyKey) },
      };
      const result = await request(
        joinUrl(base, '/v3/mail/send'),
        {
          method: 'POST',
          headers: { authorization: `Bearer ${options.apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        },
        timeoutMs,
        'SendGrid',
      );
      if (!result.ok) return result.outcome;
      const { answer } = result;
      const now = options.clock.now();
      if (answer.status === 202 || answer.status === 200) {
        const id = answer.headers.get('x-message-id');
        if (!id) return { outcome: 'retryable', reason: 'SendGrid accepted the message without an X-Message-Id' };
        return { outcome: 'accepted', providerMessageId: id, acceptedAt: now.toISOString() };
      }
      const errors = (jsonOf(answer) as { errors?: { message?: string; field?: string | null }[] } | undefined)?.errors;
      const detail = (errors ?? [])
        .map((e) => [e.field, e.message].filter(Boolean).join(': '))
        .filter(Boolean)
        .join('; ');
      // SendGrid's 429 says when in X-RateLimit-Reset (epoch seconds), not in Retry-After.
      const reset = Number(answer.headers.get('x-ratelimit-reset'));
      const untilReset = Number.isFinite(reset) && reset > 0 ? Math.max(0, reset * 1000 - now.getTime()) : undefined;
      return errorOutcome(
        answer,
        now,
        `SendGrid ${answer.status}: ${detail || 'refused'}`.slice(0, 400),
        undefined,
        untilReset,
      );
    },
    async close() {},
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Event Webhook: signed with ECDSA P-256 over timestamp + raw body (Signed Event Webhook).

export const SENDGRID_SIGNATURE_HEADER = 'x-twilio-email-event-webhook-signature';
export const SENDGRID_TIMESTAMP_HEADER = 'x-twilio-email-event-webhook-timestamp';

/** Events that are facts about a message; processed, deferred, open, click... are steps or engagement. */
const SENDGRID_STATUSES: Readonly<Record<string, ProviderStatus>> = {
  delivered: 'delivered',
  bounce: 'bounced',
  dropped: 'failed',
};

/** The public key SendGrid shows for the Signed Event Webhook: base64 DER (SPKI), with or without PEM armour. */
export function sendGridPublicKey(value: string): KeyObject {
  const pem = value.includes('BEGIN PUBLIC KEY')
    ? value
    : `-----BEGIN PUBLIC KEY-----\n${value.replace(/\s+/g, '')}\n-----END PUBLIC KEY-----\n`;
  return createPublicKey(pem);
}

export interface SendGridEvent {
  readonly event: string;
  readonly sg_message_id?: string;
  readonly reason?: string;
  readonly [arg: string]: unknown;
}

export const sendGridStatusWebhook: StatusWebhook & {
  /** The delivery each event names through its custom_args. */
  locate(request: WebhookRequest): { tenantId: string; notificationId: string; report: ProviderStatusReport }[];
} = {
  provider: 'sendgrid',
  verify(request: WebhookRequest, publicKey: string): boolean {
    const signature = request.headers[SENDGRID_SIGNATURE_HEADER];
    const timestamp = request.headers[SENDGRID_TIMESTAMP_HEADER];
    if (!signature || !timestamp || !/^\d{1,12}$/.test(timestamp)) return false;
    try {
      return verify(
        'sha256',
        Buffer.concat([Buffer.from(timestamp, 'utf8'), request.rawBody]),
        sendGridPublicKey(publicKey),
        Buffer.from(signature, 'base64'),
      );
    } catch {
      return false;
    }
  },
  parse(request: WebhookRequest): ProviderStatusReport[] {
    return this.locate(request).map((l) => l.report);
  },
  locate(request: WebhookRequest) {
    const events = JSON.parse(request.rawBody.toString('utf8')) as unknown;
    if (!Array.isArray(events)) throw new SyntaxError('a SendGrid event batch is a JSON array');
    const out: { tenantId: string; notificationId: string; report: ProviderStatusReport }[] = [];
    for (const raw of events as SendGridEvent[]) {
      const status = SENDGRID_STATUSES[String(raw?.event)];
      const tenantId = raw?.[SENDGRID_TENANT_ARG];
      const notificationId = raw?.[SENDGRID_NOTIFICATION_ARG];
      // sg_message_id is the X-Message-Id of the send followed by `.filter…` routing parts.
      const messageId = typeof raw?.sg_message_id === 'string' ? raw.sg_message_id.split('.')[0] : undefined;
      if (!status || typeof tenantId !== 'string' || typeof notificationId !== 'string' || !messageId) continue;
      out.push({
        tenantId,
        notificationId,
        report: {
          providerMessageId: messageId,
          status,
          ...(status !== 'delivered' && typeof raw.reason === 'string'
            ? { error: `sendgrid ${raw.event}: ${raw.reason}`.slice(0, 500) }
            : {}),
        },
      });
    }
    return out;
  },
};
