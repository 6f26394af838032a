import { createHmac, randomBytes } from 'node:crypto';
import type {
  WebhookAnswer,
  WebhookRequest,
  WebhookTransport,
} from '../../application/ports/webhook-transport.port.js';
import { parseRetryAfter } from '../calendars/calendar-busy-reader.js';
import { HttpFailure, refusedUrl, sendHttp, type GuardOptions } from '../calendars/guarded-http.js';

/** Standard Webhooks: `v1,` + base64 HMAC-SHA256 of `${id}.${timestamp}.${body}` under the secret's bytes. */
export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

export interface WebhookHttpTransportOptions {
  readonly guard: GuardOptions;
  readonly timeoutMs: number;
}

/**
 * POSTs signed webhooks through the guarded HTTP client: the tenant's URL is checked before sending and every
 * address its host resolves to is checked at connect time (no SSRF by DNS), redirects are not followed, the answer is
 * read up to 64 KiB, and the whole exchange has a time limit. Errors never carry the URL or the secret.
 */
export function createWebhookHttpTransport(options: WebhookHttpTransportOptions): WebhookTransport {
  return {
    refusal(url) {
      try {
        return refusedUrl(new URL(url), options.guard);
      } catch {
        return 'not a valid URL';
      }
    },
    newSecret: () => `whsec_${randomBytes(32).toString('base64')}`,
    async send(request: WebhookRequest): Promise<WebhookAnswer> {
      const started = performance.now();
      try {
        const answer = await sendHttp({
          method: 'POST',
          url: new URL(request.url),
          headers: {
            'content-type': 'application/json',
            'user-agent': 'Herald-Webhooks/1',
            'webhook-id': request.id,
            'webhook-timestamp': String(request.timestamp),
            'webhook-signature': signWebhook(request.secret, request.id, request.timestamp, request.body),
          },
          body: request.body,
          limits: { timeoutMs: options.timeoutMs, maxBytes: 64 * 1024, maxRedirects: 0 },
          guard: options.guard,
        });
        const retryAfterMs = parseRetryAfter(answer.headers['retry-after'], new Date());
        return {
          kind: 'answer',
          status: answer.status,
          ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
          durationMs: performance.now() - started,
        };
      } catch (error) {
        const reason =
          error instanceof HttpFailure
            ? `${error.code}: ${error.message}`
            : `network: ${(error as NodeJS.ErrnoException).code ?? 'connection failed'}`;
        return { kind: 'failure', reason, durationMs: performance.now() - started };
      }
    },
  };
}
