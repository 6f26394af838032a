import type {
  ChannelAdapter,
  ProviderStatusReport,
  StatusWebhook,
  WebhookRequest,
} from '../../application/ports/channel.port.js';
import type { Clock } from '../../application/ports/clock.port.js';
import type { ProviderStatus } from '../../domain/notification/index.js';
import { errorOutcome, joinUrl, jsonOf, request } from './http-channel.js';
import { hubSignature256, sameSecret } from './signatures.js';

/** Graph API base with its version: Meta versions the path (`/v21.0/…`), so the version is part of the setting. */
export const WHATSAPP_API_URL = 'https://graph.facebook.com/v21.0';

export interface WhatsAppCloudOptions {
  /** A system user access token with whatsapp_business_messaging. */
  readonly accessToken: string;
  /** The business phone number's id (not the number): messages go to `/{phone-number-id}/messages`. */
  readonly phoneNumberId: string;
  readonly apiUrl?: string;
  readonly clock: Clock;
  readonly timeoutMs?: number;
}

interface GraphError {
  readonly message?: string;
  readonly type?: string;
  readonly code?: number;
  readonly error_subcode?: number;
  readonly error_data?: { readonly details?: string };
}

/**
 * Error codes that mean "later", whatever the HTTP status (Meta answers throttling with 400 as often as with 429):
 * 1/2 unknown/temporary, 4 and 80007 call-rate limits, 130429 throughput limit, 131000 something went wrong,
 * 131016 service unavailable, 131048 spam rate limit, 131056 too many messages to this number, 133004 server
 * temporarily unavailable.
 */
const RETRYABLE_CODES = new Set([1, 2, 4, 80007, 130429, 131000, 131016, 131048, 131056, 133004]);

/**
 * WhatsApp Business Cloud API: `POST {apiUrl}/{phone-number-id}/messages`. A delivery carrying a `whatsapp`
 * template is sent as that approved message template with its body parameters (the only kind of message that
 * reaches a customer who has not written to the business in the last 24 hours); otherwise as text, which Meta
 * refuses outside that window (131047, permanent). The provider id is the `wamid…` Meta returns; statuses come
 * back through the webhook (`whatsAppStatusWebhook`).
 */
export function createWhatsAppCloudChannel(options: WhatsAppCloudOptions): ChannelAdapter {
  const base = options.apiUrl ?? WHATSAPP_API_URL;
  const timeoutMs = options.timeoutMs ?? 30_000;
  return {
    channel: 'whatsapp',
    provider: 'whatsapp-cloud',
    async send(message) {
      const template = message.content.template?.system === 'whatsapp' ? message.content.template : undefined;
      const body = {
        messaging_product: 'whatsapp',
        recipient_type: 'individual',
        to: message.to,
        ...(template
          ? {
              type: 'template',
              template: {
                name: template.id,
                language: { policy: 'deterministic', code: template.language ?? 'en' },
                ...(template.parameters.length > 0
                  ? {
                      components: [
                        {
                          type: 'body',
                          parameters: template.parameters.map((p) => ({ type: 'text', text: p.value })),
                        },
                      ],
                    }
                  : {}),
              },
            }
          : { type: 'text', text: { preview_url: false, body: message.content.text } }),
      };
      const result = await request(
        joinUrl(base, `/${encodeURIComponent(options.phoneNumberId)}/messages`),
        {
          method: 'POST',
          headers: { authorization: `Bearer ${options.accessToken}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        },
        timeoutMs,
        'WhatsApp',
      );
      if (!result.ok) return result.outcome;
      const { answer } = result;
      const json = jsonOf(answer) as { messages?: { id?: string }[]; error?: GraphError } | undefined;
      const now = options.clock.now();
      const id = json?.messages?.[0]?.id;
      if (answer.status === 200 && typeof id === 'string') {
        return { outcome: 'accepted', providerMessageId: id, acceptedAt: now.toISOString() };
      }
      const error = json?.error;
      const code = error?.code;
      const reason = `WhatsApp ${answer.status} (${code ?? '-'}): ${error?.message ?? 'refused'}${
        error?.error_data?.details ? ` — ${error.error_data.details}` : ''
      }`.slice(0, 400);
      if (code !== undefined && RETRYABLE_CODES.has(code) && answer.status < 500 && answer.status !== 429) {
        return { outcome: 'retryable', reason, code: String(code) };
      }
      return errorOutcome(answer, now, reason, code !== undefined ? String(code) : undefined);
    },
    async close() {},
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Webhooks: X-Hub-Signature-256 = sha256=HMAC-SHA256(app secret, raw body).

const WHATSAPP_STATUSES: Readonly<Record<string, ProviderStatus>> = {
  sent: 'sent',
  delivered: 'delivered',
  // Read implies delivered; the decider keeps the first final status.
  read: 'delivered',
  failed: 'failed',
};

interface WhatsAppWebhookBody {
  readonly object?: string;
  readonly entry?: {
    readonly changes?: {
      readonly field?: string;
      readonly value?: {
        readonly statuses?: {
          readonly id?: string;
          readonly status?: string;
          readonly errors?: { readonly code?: number; readonly title?: string; readonly message?: string }[];
        }[];
      };
    }[];
  }[];
}

export const whatsAppStatusWebhook: StatusWebhook = {
  provider: 'whatsapp-cloud',
  verify(request: WebhookRequest, appSecret: string): boolean {
    const given = request.headers['x-hub-signature-256'];
    return given !== undefined && sameSecret(given, hubSignature256(appSecret, request.rawBody));
  },
  parse(request: WebhookRequest): ProviderStatusReport[] {
    const body = JSON.parse(request.rawBody.toString('utf8')) as WhatsAppWebhookBody;
    if (body?.object !== 'whatsapp_business_account' || !Array.isArray(body.entry)) {
      throw new SyntaxError('not a WhatsApp Business Account webhook');
    }
    const reports: ProviderStatusReport[] = [];
    for (const entry of body.entry) {
      for (const change of entry?.changes ?? []) {
        if (change?.field !== 'messages') continue;
        for (const s of change.value?.statuses ?? []) {
          const status = WHATSAPP_STATUSES[String(s?.status)];
          if (!status || typeof s.id !== 'string' || s.id === '') continue;
          const first = s.errors?.[0];
          reports.push({
            providerMessageId: s.id,
            status,
            ...(status === 'failed' && first
              ? { error: `whatsapp ${first.code ?? ''}: ${first.title ?? first.message ?? ''}`.slice(0, 500) }
              : {}),
          });
        }
      }
    }
    return reports;
  },
};
