import { generateKeyPairSync, randomBytes, verify, type KeyObject } from 'node:crypto';
import { hasBearer, startHttpStandIn, type HttpStandIn, type StandInAnswer } from './http-stand-in.js';

/**
 * A stand-in for Firebase Cloud Messaging HTTP v1 and the Google OAuth 2.0 token endpoint it needs.
 *
 * `POST /token` (https://developers.google.com/identity/protocols/oauth2/service-account#httprest): a form with
 * `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` and `assertion`, a JWT whose header is RS256 and whose
 * claims are `iss` (the service account's client_email), `scope` (must include firebase.messaging), `aud` (this
 * token URL), `iat` and `exp` at most one hour apart. The signature is checked with the service account's public
 * key; a bad one answers 400 `invalid_grant` "Invalid JWT Signature.", as Google does.
 *
 * `POST /v1/projects/{project}/messages:send` (https://firebase.google.com/docs/reference/fcm/rest/v1/projects.messages/send):
 * `Authorization: Bearer <an access token issued above>` (401 UNAUTHENTICATED else), the project of the service
 * account, a body `{ message, validate_only? }` whose Message has only the documented members, exactly one target
 * of token / topic / condition, `data` values strings and no reserved keys (`from`, `gcm`, `google…`), a
 * `notification` of title / body / image, a payload of at most 4096 bytes. Errors are google.rpc.Status with an
 * FcmError detail: 400 INVALID_ARGUMENT for a malformed token, 404 UNREGISTERED for a token no longer registered
 * (`unregister`), 429 QUOTA_EXCEEDED and 503 UNAVAILABLE with Retry-After (ErrorCode reference).
 */

const MESSAGE_MEMBERS = new Set([
  'name',
  'data',
  'notification',
  'android',
  'webpush',
  'apns',
  'fcm_options',
  'token',
  'topic',
  'condition',
]);
const NOTIFICATION_MEMBERS = new Set(['title', 'body', 'image']);
const TOKEN_SHAPE = /^[A-Za-z0-9_:-]{32,4096}$/;

export interface FcmPush {
  readonly name: string;
  readonly token: string;
  readonly title?: string;
  readonly body?: string;
  readonly data: Readonly<Record<string, string>>;
}

export interface FcmStandIn extends HttpStandIn {
  readonly tokenUrl: string;
  readonly clientEmail: string;
  /** The service account's private key (PKCS#8 PEM), as its key file holds it. */
  readonly privateKey: string;
  readonly pushes: readonly FcmPush[];
  readonly violations: readonly string[];
  /** Requests to messages:send only (token requests are not messages). */
  sendRequests(): number;
  tokenRequests(): number;
  unregister(token: string): void;
  /** Forgets every access token issued: the next send answers 401 UNAUTHENTICATED. */
  revokeAccessTokens(): void;
}

export async function startFcmStandIn(options: { projectId: string; clientEmail: string }): Promise<FcmStandIn> {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const pushes: FcmPush[] = [];
  const violations: string[] = [];
  const accessTokens = new Set<string>();
  const unregistered = new Set<string>();
  let next = 1;
  const status = (
    code: number,
    statusName: string,
    message: string,
    fcmCode?: string,
    headers?: Record<string, string>,
  ): StandInAnswer => ({
    status: code,
    json: {
      error: {
        code,
        message,
        status: statusName,
        ...(fcmCode
          ? { details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode: fcmCode }] }
          : {}),
      },
    },
    ...(headers ? { headers } : {}),
  });
  const bad = (message: string): StandInAnswer => {
    violations.push(message);
    return status(400, 'INVALID_ARGUMENT', message);
  };

  const base = await startHttpStandIn({
    failureAnswer: ({ status: code, retryAfterSeconds }) => {
      const retryAfter = retryAfterSeconds !== undefined ? { 'retry-after': String(retryAfterSeconds) } : undefined;
      return code === 429
        ? status(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded for quota metric', 'QUOTA_EXCEEDED', retryAfter)
        : status(code, 'UNAVAILABLE', 'The service is currently unavailable.', 'UNAVAILABLE', retryAfter);
    },
    handle(request) {
      if (request.path === '/token') return token(request.body, String(request.headers['content-type'] ?? ''));
      const match = /^\/v1\/projects\/([^/]+)\/messages:send$/.exec(request.path);
      if (!match || request.method !== 'POST') return status(404, 'NOT_FOUND', 'Not found');
      const bearer = /^Bearer (.+)$/.exec(String(request.headers.authorization ?? ''))?.[1];
      if (!bearer || !accessTokens.has(bearer) || !hasBearer(request.headers, bearer)) {
        return status(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.');
      }
      if (decodeURIComponent(match[1]!) !== options.projectId) {
        return status(403, 'PERMISSION_DENIED', 'SenderId mismatch', 'SENDER_ID_MISMATCH');
      }
      let input: { message?: Record<string, unknown>; validate_only?: unknown };
      try {
        input = JSON.parse(request.body) as typeof input;
      } catch {
        return bad('Invalid JSON payload received.');
      }
      for (const name of Object.keys(input)) {
        if (name !== 'message' && name !== 'validate_only') return bad(`Unknown name "${name}": Cannot find field.`);
      }
      const message = input.message;
      if (!message || typeof message !== 'object') return bad('Request contains an invalid argument: message');
      for (const name of Object.keys(message)) {
        if (!MESSAGE_MEMBERS.has(name)) return bad(`Unknown name "${name}" at 'message': Cannot find field.`);
      }
      const targets = ['token', 'topic', 'condition'].filter((t) => message[t] !== undefined);
      if (targets.length !== 1) return bad('Message must have exactly one of token, topic, condition');
      const data = (message.data ?? {}) as Record<string, unknown>;
      for (const [k, v] of Object.entries(data)) {
        if (typeof v !== 'string') return bad(`Invalid value at 'message.data[${k}].value' (TYPE_STRING)`);
        if (k === 'from' || k === 'gcm' || k.startsWith('google')) return bad(`Invalid data key ${k}`);
      }
      const notification = (message.notification ?? {}) as Record<string, unknown>;
      for (const [k, v] of Object.entries(notification)) {
        if (!NOTIFICATION_MEMBERS.has(k)) return bad(`Unknown name "${k}" at 'message.notification'`);
        if (typeof v !== 'string') return bad(`Invalid value at 'message.notification.${k}' (TYPE_STRING)`);
      }
      if (Buffer.byteLength(JSON.stringify({ data, notification })) > 4096) {
        return status(400, 'INVALID_ARGUMENT', 'Message is too big', 'INVALID_ARGUMENT');
      }
      const target = String(message.token ?? '');
      if (!TOKEN_SHAPE.test(target)) {
        return status(
          400,
          'INVALID_ARGUMENT',
          'The registration token is not a valid FCM registration token',
          'INVALID_ARGUMENT',
        );
      }
      if (unregistered.has(target)) return status(404, 'NOT_FOUND', 'Requested entity was not found.', 'UNREGISTERED');
      const name = `projects/${options.projectId}/messages/0:${Date.now()}%${(next++).toString(16).padStart(8, '0')}`;
      return {
        status: 200,
        json: { name },
        after: () => {
          pushes.push({
            name,
            token: target,
            ...(typeof notification.title === 'string' ? { title: notification.title } : {}),
            ...(typeof notification.body === 'string' ? { body: notification.body } : {}),
            data: data as Record<string, string>,
          });
          base.accepted.push(name);
        },
      };
    },
  });
  const tokenUrl = `${base.url}/token`;

  function token(body: string, contentType: string): StandInAnswer {
    const oauthError = (error: string, description: string): StandInAnswer => ({
      status: 400,
      json: { error, error_description: description },
    });
    if (!contentType.startsWith('application/x-www-form-urlencoded')) {
      violations.push('token request is not a form');
      return oauthError('invalid_request', 'Invalid Content-Type');
    }
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      violations.push(`grant_type ${form.get('grant_type')}`);
      return oauthError('unsupported_grant_type', 'Invalid grant_type');
    }
    const parts = (form.get('assertion') ?? '').split('.');
    if (parts.length !== 3) return oauthError('invalid_grant', 'Invalid JWT: Token must be a short-lived token');
    let header: { alg?: string };
    let claims: { iss?: string; scope?: string; aud?: string; iat?: number; exp?: number };
    try {
      header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString()) as typeof header;
      claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString()) as typeof claims;
    } catch {
      return oauthError('invalid_grant', 'Invalid JWT');
    }
    if (header.alg !== 'RS256') return oauthError('invalid_grant', 'Invalid JWT: alg must be RS256');
    if (!verifyRs256(`${parts[0]}.${parts[1]}`, parts[2]!, publicKey)) {
      return oauthError('invalid_grant', 'Invalid JWT Signature.');
    }
    if (claims.iss !== options.clientEmail) return oauthError('invalid_grant', 'Invalid issuer');
    if (claims.aud !== tokenUrl) return oauthError('invalid_grant', 'Invalid JWT: aud is not the token URL');
    if (
      !String(claims.scope ?? '')
        .split(' ')
        .includes('https://www.googleapis.com/auth/firebase.messaging')
    ) {
      violations.push('scope without firebase.messaging');
      return oauthError('invalid_scope', 'Invalid OAuth scope');
    }
    const now = Math.floor(Date.now() / 1000);
    if (
      typeof claims.iat !== 'number' ||
      typeof claims.exp !== 'number' ||
      claims.exp - claims.iat > 3600 ||
      claims.exp < now ||
      claims.iat > now + 300
    ) {
      return oauthError(
        'invalid_grant',
        'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.',
      );
    }
    const accessToken = `ya29.${randomBytes(24).toString('base64url')}`;
    accessTokens.add(accessToken);
    return { status: 200, json: { access_token: accessToken, expires_in: 3599, token_type: 'Bearer' } };
  }

  const resetBase = base.reset.bind(base);
  return Object.assign(base, {
    tokenUrl,
    clientEmail: options.clientEmail,
    privateKey: pem,
    pushes,
    violations,
    sendRequests: () => base.requests.filter((r) => r.path !== '/token').length,
    tokenRequests: () => base.requests.filter((r) => r.path === '/token').length,
    unregister(t: string) {
      unregistered.add(t);
    },
    revokeAccessTokens() {
      accessTokens.clear();
    },
    reset() {
      resetBase();
      pushes.length = 0;
      violations.length = 0;
    },
  });
}

function verifyRs256(signed: string, signature: string, key: KeyObject): boolean {
  try {
    return verify('sha256', Buffer.from(signed), key, Buffer.from(signature, 'base64url'));
  } catch {
    return false;
  }
}
