import { AsyncLocalStorage } from 'node:async_hooks';
import { Agent as HttpAgent } from 'node:http';
import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import type { Clock } from '../../application/ports/clock.port.js';
import { DeliveryError } from '../../application/ports/email-sender.port.js';
import type { SentSms, SmsSender } from '../../application/ports/sms-sender.port.js';
import { parseRetryAfter } from '../http/retry-after.js';

export interface TwilioSmsSenderOptions {
  readonly accountSid: string;
  readonly authToken: string;
  /** The sending number (E.164), or a Messaging Service SID (`MG...`) that picks a number of its pool. */
  readonly from: string;
  /** Base URL that replaces `https://*.twilio.com` (a stand-in or a proxy). Unset: Twilio itself. */
  readonly apiUrl?: string;
  /** Per HTTP request. Default 30 s. */
  readonly timeoutMs?: number;
  readonly clock: Clock;
}

/**
 * The SDK's RestException keeps the status and Twilio's error code but drops the response headers, Retry-After
 * among them. Each send runs in its own store, where the request client leaves the last response's Retry-After.
 */
const lastRetryAfter = new AsyncLocalStorage<{ retryAfter?: string }>();

/**
 * The SDK has no base-URL option; a custom `httpClient` is its supported hook. Every request the SDK builds
 * (including next-page URLs it follows) goes through `request`, where the Twilio origin is swapped for `apiUrl`.
 */
class RedirectingRequestClient extends twilio.RequestClient {
  constructor(
    private readonly apiUrl: URL | undefined,
    timeoutMs: number,
  ) {
    // Retries belong to the dispatcher (with backoff and an attempt budget), not to the SDK.
    super({ timeout: timeoutMs, autoRetry: false });
  }

  override async request<TData>(opts: RequestClient.RequestOptions<TData>) {
    const response = await super.request({ ...opts, uri: this.rewrite(opts.uri) });
    const store = lastRetryAfter.getStore();
    if (store) {
      const headers = (response.headers ?? {}) as Record<string, unknown>;
      const value = headers['retry-after'] ?? headers['Retry-After'];
      store.retryAfter = typeof value === 'string' ? value : undefined;
    }
    return response;
  }

  private rewrite(uri: string): string {
    if (!this.apiUrl) return uri;
    const url = new URL(uri);
    if (url.hostname !== 'twilio.com' && !url.hostname.endsWith('.twilio.com')) return uri;
    const base = this.apiUrl.href.replace(/\/$/, '');
    return base + url.pathname + url.search;
  }

  destroy(): void {
    this.axios.defaults.httpsAgent?.destroy?.();
    this.axios.defaults.httpAgent?.destroy?.();
  }
}

export function createTwilioSmsSender(options: TwilioSmsSenderOptions): SmsSender {
  const httpClient = new RedirectingRequestClient(
    options.apiUrl ? new URL(options.apiUrl) : undefined,
    options.timeoutMs ?? 30_000,
  );
  if (options.apiUrl?.startsWith('http:')) {
    // Our own keep-alive agent for a plain-HTTP stand-in, so close() can release its sockets.
    httpClient.axios.defaults.httpAgent = new HttpAgent({ keepAlive: true });
  }
  // `env: {}`: configuration comes from config.ts, never from TWILIO_* variables the SDK would read by itself.
  const client = twilio(options.accountSid, options.authToken, { httpClient, env: {} });
  const messagingService = /^MG[0-9a-fA-F]{32}$/.test(options.from) ? options.from : undefined;

  return {
    channel: 'sms',
    provider: 'twilio',
    async send(message) {
      const store: { retryAfter?: string } = {};
      try {
        const created = await lastRetryAfter.run(store, () =>
          client.messages.create({
            to: message.to,
            ...(messagingService ? { messagingServiceSid: messagingService } : { from: options.from }),
            body: message.body,
            ...(message.statusCallbackUrl ? { statusCallback: message.statusCallbackUrl } : {}),
          }),
        );
        return { providerMessageId: created.sid, acceptedAt: options.clock.now().toISOString() };
      } catch (err) {
        throw toDeliveryError(err, parseRetryAfter(store.retryAfter, options.clock.now()));
      }
    },
    async findSent(to, since) {
      let found;
      try {
        // No DateSent filter: a message still queued at Twilio has no date_sent yet, and it is exactly the one an
        // interrupted attempt may have left behind. Twilio lists newest first; the recent page is enough.
        // A Messaging Service sends from a number of its pool: filter on the service instead of the number.
        found = messagingService
          ? (await client.messages.list({ to, limit: 200 })).filter((m) => m.messagingServiceSid === messagingService)
          : await client.messages.list({ to, from: options.from, limit: 200 });
      } catch (err) {
        throw toDeliveryError(err);
      }
      // Twilio's dates have whole seconds: compare at that precision, or a message sent in the same second is missed.
      const sinceSecond = Math.floor(since.getTime() / 1000) * 1000;
      return found
        .filter((m) => (m.dateCreated ?? m.dateSent) !== null && (m.dateCreated ?? m.dateSent).getTime() >= sinceSecond)
        .map((m): SentSms => ({
          providerMessageId: m.sid,
          to: m.to,
          body: m.body,
          acceptedAt: (m.dateCreated ?? m.dateSent).toISOString(),
        }));
    },
    async close() {
      httpClient.destroy();
    },
  };
}

/** Error codes of a request that never got an answer: the same request may well get through later. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ERR_NETWORK',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
]);

/**
 * RestException (and the SDK's RFC 9457 TwilioServiceException) carry the HTTP `status` and Twilio's error `code`.
 * - 429 and 5xx: transient; Twilio asks us to come back later.
 * - 401/403 (20003 Authenticate): permanent. Wrong credentials fail every attempt until an operator fixes the
 *   configuration; retrying only burns the attempt budget and hides the cause. The providerCode (20003) lets
 *   monitoring tell "the account is misconfigured" apart from "this number is bad".
 * - other 4xx (21211 invalid To, 21614 not a mobile number, 21610 unsubscribed, ...): permanent.
 */
function toDeliveryError(err: unknown, retryAfterMs?: number): DeliveryError {
  const e = (err ?? {}) as { status?: unknown; code?: unknown; message?: string };
  let result: DeliveryError;
  if (typeof e.status === 'number') {
    const transient = e.status === 429 || e.status >= 500;
    const providerCode = e.code !== undefined && e.code !== null ? String(e.code) : String(e.status);
    result = new DeliveryError(
      `Twilio ${e.status} (${providerCode}): ${e.message ?? ''}`,
      transient,
      providerCode,
      transient ? retryAfterMs : undefined,
    );
  } else {
    const code = typeof e.code === 'string' ? e.code : undefined;
    const transient = code !== undefined && NETWORK_CODES.has(code);
    result = new DeliveryError(`Twilio request failed: ${code ?? ''} ${e.message ?? String(err)}`, transient);
  }
  result.cause = err;
  return result;
}
