import type { ChannelAdapter } from '../../application/ports/channel.port.js';
import type { Clock } from '../../application/ports/clock.port.js';
import { createGoogleAccessTokens } from './google-service-account.js';
import { errorOutcome, joinUrl, jsonOf, request } from './http-channel.js';

export const FCM_API_URL = 'https://fcm.googleapis.com';
export { GOOGLE_TOKEN_URL } from './google-service-account.js';
export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';

export interface FcmOptions {
  /** The Firebase project id (`my-app-1234`): `projects/{id}/messages:send`. */
  readonly projectId: string;
  /** The service account's `client_email`. */
  readonly clientEmail: string;
  /** The service account's `private_key` (PKCS#8 PEM). */
  readonly privateKey: string;
  /** Default https://fcm.googleapis.com (tests: the stand-in). */
  readonly apiUrl?: string;
  /** The OAuth 2.0 token endpoint: the key file's `token_uri`, default https://oauth2.googleapis.com/token. */
  readonly tokenUrl?: string;
  readonly clock: Clock;
  /** Per request. Default 30 s. */
  readonly timeoutMs?: number;
}

/** Data keys Herald adds to every push: the app can name the delivery back (opened, dismissed...). */
export const FCM_NOTIFICATION_KEY = 'herald_notification';

/** FCM's limit for a message's payload (keys and values), most messages: 4096 bytes (ErrorCode reference). */
const MAX_BODY_CHARS = 1000;

/**
 * Firebase Cloud Messaging HTTP v1 `projects.messages.send`, plain fetch: the Admin SDK cannot be pointed at another
 * host, and this is one POST. Authentication is the OAuth 2.0 service-account flow ("Using OAuth 2.0 for
 * Server to Server Applications"): a JWT signed RS256 with the service account's key, exchanged at the token
 * endpoint for an access token (scope firebase.messaging), kept in memory until a minute before it expires.
 *
 * The address is the app's registration token. The customer sees a notification: the subject (or first line) as
 * title, the text as body. UNREGISTERED (404) and INVALID_ARGUMENT (400) are permanent: the token is gone or bad;
 * QUOTA_EXCEEDED (429) and UNAVAILABLE (503) are retryable with FCM's Retry-After. A refused service account
 * (invalid_grant) is permanent; an access token FCM no longer takes (401 UNAUTHENTICATED) is forgotten and the
 * attempt is retryable, so the next one signs in again.
 */
export function createFcmPushChannel(options: FcmOptions): ChannelAdapter {
  const base = options.apiUrl ?? FCM_API_URL;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const tokens = createGoogleAccessTokens({
    clientEmail: options.clientEmail,
    privateKey: options.privateKey,
    scope: FCM_SCOPE,
    ...(options.tokenUrl ? { tokenUrl: options.tokenUrl } : {}),
    provider: 'FCM',
    clock: options.clock,
    timeoutMs,
  });

  return {
    channel: 'push',
    provider: 'fcm',
    async send(message) {
      const auth = await tokens.get();
      if ('outcome' in auth) return auth.outcome;
      const { content } = message;
      const title = (content.subject || content.text.split('\n', 1)[0]!).slice(0, 200);
      const body = {
        message: {
          token: message.to,
          notification: { title, body: [...content.text].slice(0, MAX_BODY_CHARS).join('') },
          data: { [FCM_NOTIFICATION_KEY]: message.notificationId },
        },
      };
      const result = await request(
        joinUrl(base, `/v1/projects/${encodeURIComponent(options.projectId)}/messages:send`),
        {
          method: 'POST',
          headers: { authorization: `Bearer ${auth.token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        },
        timeoutMs,
        'FCM',
      );
      if (!result.ok) return result.outcome;
      const { answer } = result;
      const now = options.clock.now();
      const json = jsonOf(answer) as
        | {
            name?: unknown;
            error?: { status?: string; message?: string; details?: { '@type'?: string; errorCode?: string }[] };
          }
        | undefined;
      if (answer.status === 200) {
        if (typeof json?.name !== 'string') return { outcome: 'retryable', reason: 'FCM answered 200 without a name' };
        return { outcome: 'accepted', providerMessageId: json.name, acceptedAt: now.toISOString() };
      }
      const fcmCode = json?.error?.details?.find((d) =>
        d['@type']?.endsWith('google.firebase.fcm.v1.FcmError'),
      )?.errorCode;
      const code = fcmCode ?? json?.error?.status ?? String(answer.status);
      const reason = `FCM ${answer.status} ${code}: ${json?.error?.message ?? 'refused'}`.slice(0, 400);
      if (answer.status === 401 && code === 'UNAUTHENTICATED') {
        // Our access token, not the message: forget it; the next attempt signs in again.
        tokens.forget();
        return { outcome: 'retryable', reason, code };
      }
      return errorOutcome(answer, now, reason, code);
    },
    async close() {},
  };
}
