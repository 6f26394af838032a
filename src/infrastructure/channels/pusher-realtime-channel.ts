import Pusher from 'pusher';
import type { ChannelAdapter, SendOutcome } from '../../application/ports/channel.port.js';
import type { Clock } from '../../application/ports/clock.port.js';

export interface PusherOptions {
  readonly appId: string;
  readonly key: string;
  readonly secret: string;
  /** The app's cluster (`eu`, `mt1`): the host `api-<cluster>.pusher.com` unless `apiUrl` is given. */
  readonly cluster: string;
  /** Default https://api-<cluster>.pusher.com (tests: the stand-in, http on loopback). */
  readonly apiUrl?: string;
  /** The event name the tenant's page or app binds to. Default `herald-message`. */
  readonly eventName?: string;
  readonly clock: Clock;
  /** Per request. Default 30 s. */
  readonly timeoutMs?: number;
}

export const PUSHER_DEFAULT_EVENT = 'herald-message';

/**
 * Pusher Channels `trigger` (`POST /apps/{app_id}/events`) through the official `pusher` SDK, which signs the
 * request (auth_key, auth_timestamp, auth_version, body_md5, auth_signature: HMAC-SHA256 with the app secret) and
 * takes a custom host, port and scheme. The address is a Pusher channel name the tenant's page or app subscribes
 * to; the event carries `{ notificationId, subject, text }` as JSON.
 *
 * Pusher answers a trigger with `{}`: it has no message id, so the delivery's own id names the event (the same on a
 * re-send: Pusher has no status callbacks to tell two apart). 4xx answers (401 a wrong key or signature, 403 the
 * app disabled or over quota, 413 an event over 10 kB, 400 a refused request) are permanent; 5xx, 429 and no answer
 * are retryable. The SDK does not expose response headers, so no Retry-After is read (Pusher documents none).
 */
export function createPusherRealtimeChannel(options: PusherOptions): ChannelAdapter {
  const url = new URL(options.apiUrl ?? `https://api-${options.cluster}.pusher.com`);
  const pusher = new Pusher({
    appId: options.appId,
    key: options.key,
    secret: options.secret,
    host: url.hostname,
    ...(url.port ? { port: url.port } : {}),
    useTLS: url.protocol === 'https:',
    timeout: options.timeoutMs ?? 30_000,
  });
  const eventName = options.eventName ?? PUSHER_DEFAULT_EVENT;
  return {
    channel: 'realtime',
    provider: 'pusher',
    async send(message): Promise<SendOutcome> {
      const { content } = message;
      try {
        const response = await pusher.trigger(message.to, eventName, {
          notificationId: message.notificationId,
          ...(content.subject ? { subject: content.subject } : {}),
          text: content.text,
        });
        await response.arrayBuffer();
        return {
          outcome: 'accepted',
          providerMessageId: `${message.to}/${message.notificationId}`,
          acceptedAt: options.clock.now().toISOString(),
        };
      } catch (error) {
        const e = error as { name?: string; status?: number; body?: string; message?: string; error?: unknown };
        if (e.name === 'PusherRequestError' && typeof e.status === 'number') {
          const reason = `Pusher ${e.status}: ${String(e.body ?? e.message ?? '').trim() || 'refused'}`.slice(0, 400);
          const retryable = e.status === 408 || e.status === 429 || e.status >= 500;
          return { outcome: retryable ? 'retryable' : 'permanent', reason, code: String(e.status) };
        }
        if (e.name === 'PusherRequestError') {
          // No answer: refused, reset or timed out.
          const cause = e.error as { code?: string; type?: string; name?: string } | undefined;
          const code = cause?.code ?? cause?.type ?? cause?.name ?? 'error';
          return { outcome: 'retryable', reason: `Pusher request failed: ${code}`.slice(0, 400), code };
        }
        // The SDK refuses an invalid channel name before sending: the address can never work.
        return { outcome: 'permanent', reason: `Pusher: ${e.message ?? 'refused'}`.slice(0, 400) };
      }
    },
    async close() {},
  };
}
