import type { ChannelAdapter } from '../../application/ports/channel.port.js';
import type { Clock } from '../../application/ports/clock.port.js';
import { errorOutcome, joinUrl, jsonOf, request } from './http-channel.js';

export const SMARTEMAILING_API_URL = 'https://app.smartemailing.cz/api/v3';

export interface SmartEmailingOptions {
  /** The SmartEmailing login (an e-mail address): the user name of HTTP Basic. */
  readonly username: string;
  /** The API key from Settings → API: the password of HTTP Basic. */
  readonly apiKey: string;
  /** Default https://app.smartemailing.cz/api/v3 (tests: the stand-in). */
  readonly apiUrl?: string;
  readonly clock: Clock;
  readonly timeoutMs?: number;
}

/** The `tag` SmartEmailing groups the sends by in its statistics. */
export const SMARTEMAILING_TAG = 'herald';

interface SmartEmailingAnswer {
  readonly status?: string;
  readonly message?: string;
  readonly data?: readonly { readonly id?: string | number; readonly recipient?: string }[];
}

/**
 * SmartEmailing API v3 (https://app.smartemailing.cz/docs/api/v3), plain fetch with HTTP Basic (user name + API key).
 *
 * - A delivery with a `smartemailing` template (a workflow's external template: the id of an e-mail prepared in
 *   SmartEmailing) goes to `POST send/custom-emails-bulk` with `email_id` and one task whose `replace` list carries
 *   the placeholders as `{ key, content }` — "send a prepared custom e-mail to a contact with replacements".
 * - Any other e-mail goes to `POST send/transactional-emails-bulk` with the rendered subject, HTML and text in
 *   `message_contents`, so a tenant whose only e-mail provider is SmartEmailing still gets every message.
 *
 * SmartEmailing creates the contact if it does not exist. 201 `{ status: "created", data: [{ id, recipient }] }`:
 * the id is the provider's message id. Errors come as `{ status: "error", message }`; 401 is wrong credentials
 * (permanent), 422 a refused request (permanent), 429/5xx retryable with Retry-After.
 * SmartEmailing has no per-request idempotency key and no delivery webhooks: at-least-once after a crash.
 */
export function createSmartEmailingEmailChannel(options: SmartEmailingOptions): ChannelAdapter {
  const base = options.apiUrl ?? SMARTEMAILING_API_URL;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const authorization = `Basic ${Buffer.from(`${options.username}:${options.apiKey}`, 'utf8').toString('base64')}`;
  return {
    channel: 'email',
    provider: 'smartemailing',
    async send(message) {
      const { content } = message;
      const template = content.template?.system === 'smartemailing' ? content.template : undefined;
      if (template !== undefined && !/^[1-9]\d{0,9}$/.test(template.id)) {
        return { outcome: 'permanent', reason: `not a SmartEmailing e-mail id: ${template.id.slice(0, 40)}` };
      }
      const senderCredentials = {
        from: content.from?.address ?? 'no-reply@herald.invalid',
        reply_to: content.from?.address ?? 'no-reply@herald.invalid',
        sender_name: content.from?.name ?? content.from?.address ?? 'Herald',
      };
      const task = {
        recipient: { emailaddress: message.to },
        ...(template && template.parameters.length > 0
          ? { replace: template.parameters.map((p) => ({ key: p.name, content: p.value })) }
          : {}),
        ...(!template && (message.attachments ?? []).length > 0
          ? {
              attachments: (message.attachments ?? []).map((a) => ({
                file_name: a.filename,
                content_type: a.contentType,
                data_base64: Buffer.from(a.content).toString('base64'),
              })),
            }
          : {}),
      };
      const [path, body] = template
        ? [
            'send/custom-emails-bulk',
            {
              sender_credentials: senderCredentials,
              tag: SMARTEMAILING_TAG,
              email_id: Number(template.id),
              tasks: [task],
            },
          ]
        : [
            'send/transactional-emails-bulk',
            {
              sender_credentials: senderCredentials,
              tag: SMARTEMAILING_TAG,
              message_contents: {
                subject: content.subject || content.text.split('\n', 1)[0]!.slice(0, 200),
                text_body: content.text,
                // The SDKs send all three; a text-only message gets its text as preformatted HTML.
                html_body: content.html ?? `<pre>${escapeHtml(content.text)}</pre>`,
              },
              tasks: [task],
            },
          ];
      const result = await request(
        joinUrl(base, path),
        {
          method: 'POST',
          headers: { authorization, 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify(body),
        },
        timeoutMs,
        'SmartEmailing',
      );
      if (!result.ok) return result.outcome;
      const { answer } = result;
      const parsed = jsonOf(answer) as SmartEmailingAnswer | undefined;
      const now = options.clock.now();
      if (answer.status === 201 || answer.status === 200) {
        const id = parsed?.data?.[0]?.id;
        if (id === undefined || id === '') {
          return { outcome: 'retryable', reason: 'SmartEmailing answered without the id of the e-mail' };
        }
        return { outcome: 'accepted', providerMessageId: String(id), acceptedAt: now.toISOString() };
      }
      return errorOutcome(answer, now, `SmartEmailing ${answer.status}: ${parsed?.message ?? 'refused'}`.slice(0, 400));
    },
    async close() {},
  };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
