import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import type { SendOutcome } from '../../application/ports/channel.port.js';
import type { Clock } from '../../application/ports/clock.port.js';
import { errorOutcome, jsonOf, request } from './http-channel.js';

export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';

export type NotAccepted = Exclude<SendOutcome, { outcome: 'accepted' }>;

export interface GoogleServiceAccountOptions {
  /** The service account's `client_email`. */
  readonly clientEmail: string;
  /** The service account's `private_key` (PKCS#8 PEM). */
  readonly privateKey: string;
  /** Space-separated OAuth scopes. */
  readonly scope: string;
  /**
   * The user the service account acts for (domain-wide delegation, the JWT's `sub`): Google Calendar sends
   * invitations only from a user's calendar, not from a service account's own.
   */
  readonly subject?: string;
  /** The key file's `token_uri`, default https://oauth2.googleapis.com/token. */
  readonly tokenUrl?: string;
  /** Named in reasons: `FCM`, `Google Calendar`. */
  readonly provider: string;
  readonly clock: Clock;
  readonly timeoutMs: number;
}

export interface GoogleAccessTokens {
  /** A token valid for at least another minute, or the outcome the attempt ends with. */
  get(): Promise<{ token: string } | { outcome: NotAccepted }>;
  /** The API refused the token (401): the next attempt signs in again. */
  forget(): void;
}

/**
 * The OAuth 2.0 service-account flow ("Using OAuth 2.0 for Server to Server Applications"), shared by the Google
 * adapters (FCM, Google Calendar): a JWT signed RS256 with the service account's key, exchanged at the token
 * endpoint for an access token, kept in memory until a minute before it expires. A key that is not a PEM and a
 * refused account (invalid_grant, unauthorized_client: 400/401) are permanent; the token endpoint's 429/5xx are
 * retryable.
 */
export function createGoogleAccessTokens(options: GoogleServiceAccountOptions): GoogleAccessTokens {
  const tokenUrl = options.tokenUrl ?? GOOGLE_TOKEN_URL;
  let key: KeyObject | undefined;
  let cached: { token: string; until: number } | undefined;
  return {
    forget() {
      cached = undefined;
    },
    async get() {
      const now = options.clock.now();
      if (cached && cached.until > now.getTime()) return { token: cached.token };
      try {
        key ??= createPrivateKey(options.privateKey);
      } catch {
        const reason = `${options.provider}: the service account private key is not a PEM key`;
        return { outcome: { outcome: 'permanent', reason } };
      }
      const iat = Math.floor(now.getTime() / 1000);
      const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const unsigned = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({
        iss: options.clientEmail,
        ...(options.subject ? { sub: options.subject } : {}),
        scope: options.scope,
        aud: tokenUrl,
        iat,
        exp: iat + 3600,
      })}`;
      const assertion = `${unsigned}.${sign('sha256', Buffer.from(unsigned), key).toString('base64url')}`;
      const result = await request(
        tokenUrl,
        {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
            assertion,
          }).toString(),
        },
        options.timeoutMs,
        'Google OAuth',
      );
      if (!result.ok) return { outcome: result.outcome as NotAccepted };
      const body = jsonOf(result.answer) as
        { access_token?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown } | undefined;
      if (result.answer.status !== 200 || typeof body?.access_token !== 'string') {
        const reason = `Google OAuth ${result.answer.status}: ${String(body?.error ?? 'refused')} ${String(body?.error_description ?? '')}`;
        // invalid_grant / invalid_client / unauthorized_client: the service account is refused, every time.
        return { outcome: errorOutcome(result.answer, options.clock.now(), reason.trim().slice(0, 400)) };
      }
      const seconds = typeof body.expires_in === 'number' ? body.expires_in : 3600;
      cached = { token: body.access_token, until: now.getTime() + Math.max(0, seconds - 60) * 1000 };
      return { token: body.access_token };
    },
  };
}
