import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { startHttpStandIn, type HttpStandIn, type StandInAnswer } from './http-stand-in.js';

/**
 * A stand-in for the Pusher Channels HTTP API `POST /apps/{app_id}/events` (trigger), as documented at
 * https://pusher.com/docs/channels/library_auth_reference/rest-api/:
 *
 * - authentication: query parameters `auth_key` (the app key), `auth_timestamp` (within 600 s), `auth_version=1.0`,
 *   `body_md5` (hex MD5 of the body) and `auth_signature` = hex HMAC-SHA256 with the app secret of
 *   `POST\n<path>\n<the other parameters, lower-cased keys sorted, key=value joined with &>`; 401 otherwise;
 * - the body: `name` (the event, at most 200 characters), `data` (a string, at most 10 kB: 413 over that),
 *   `channels` (at most 100 names) or `channel`, optional `socket_id` and `info`; channel names of
 *   `[A-Za-z0-9_\-=@,.;]` at most 164 characters; 400 for anything else;
 * - the answer: 200 `{}`. `disableApp` makes it answer 403 (an app disabled or over its message quota).
 */

const CHANNEL = /^[A-Za-z0-9_\-=@,.;]{1,164}$/;
const BODY_MEMBERS = new Set(['name', 'data', 'channels', 'channel', 'socket_id', 'info']);

export interface PusherEvent {
  readonly channels: readonly string[];
  readonly name: string;
  readonly data: unknown;
}

export interface PusherStandIn extends HttpStandIn {
  readonly events: readonly PusherEvent[];
  readonly violations: readonly string[];
  disableApp(value?: boolean): void;
}

export async function startPusherStandIn(options: {
  appId: string;
  key: string;
  secret: string;
}): Promise<PusherStandIn> {
  const events: PusherEvent[] = [];
  const violations: string[] = [];
  const text = (status: number, body: string): StandInAnswer => ({ status, text: body });
  const bad = (body: string): StandInAnswer => {
    violations.push(body);
    return text(400, body);
  };
  const base = await startHttpStandIn({
    failureAnswer: ({ status, retryAfterSeconds }) => ({
      status,
      text: status === 429 ? 'Too many requests' : 'Internal server error',
      ...(retryAfterSeconds !== undefined ? { headers: { 'retry-after': String(retryAfterSeconds) } } : {}),
    }),
    handle(request) {
      if (request.method !== 'POST' || request.path !== `/apps/${options.appId}/events`) return text(404, 'Not found');
      const query = request.search;
      const signature = query.get('auth_signature') ?? '';
      if (query.get('auth_key') !== options.key) return text(401, 'Unknown auth_key');
      if (query.get('auth_version') !== '1.0') return bad('auth_version must be 1.0');
      const timestamp = Number(query.get('auth_timestamp'));
      if (!Number.isInteger(timestamp) || Math.abs(Date.now() / 1000 - timestamp) > 600) {
        return text(401, 'Timestamp expired: Given timestamp not within 600s of server time');
      }
      if (query.get('body_md5') !== createHash('md5').update(request.body).digest('hex')) {
        return text(401, 'body_md5 does not match the body');
      }
      const toSign = [...query.entries()]
        .filter(([k]) => k !== 'auth_signature')
        .map(([k, v]) => [k.toLowerCase(), v] as const)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => `${k}=${v}`)
        .join('&');
      const expected = createHmac('sha256', options.secret).update(`POST\n${request.path}\n${toSign}`).digest();
      const given = Buffer.from(signature, 'hex');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        return text(
          401,
          `Invalid signature: you should have sent HmacSHA256Hex("POST\\n${request.path}\\n...", your_secret_key)`,
        );
      }
      if (disabled) return text(403, 'App is disabled or over its message quota');
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(request.body) as Record<string, unknown>;
      } catch {
        return bad('Request body is not JSON');
      }
      for (const name of Object.keys(body)) if (!BODY_MEMBERS.has(name)) return bad(`Unknown parameter ${name}`);
      if (typeof body.name !== 'string' || body.name.length === 0 || body.name.length > 200) {
        return bad('name must be a string of at most 200 characters');
      }
      if (typeof body.data !== 'string') return bad('data must be a string');
      if (Buffer.byteLength(body.data) > 10_240) return text(413, 'Payload too large: data is over 10 kB');
      const channels = body.channels ?? (body.channel !== undefined ? [body.channel] : undefined);
      if (!Array.isArray(channels) || channels.length === 0 || channels.length > 100) {
        return bad('channels must list 1-100 channel names');
      }
      for (const c of channels)
        if (typeof c !== 'string' || !CHANNEL.test(c)) return bad(`Invalid channel name ${String(c)}`);
      const event: PusherEvent = {
        channels: channels as string[],
        name: body.name,
        data: JSON.parse(body.data) as unknown,
      };
      return {
        status: 200,
        json: {},
        after: () => {
          events.push(event);
          base.accepted.push(event);
        },
      };
    },
  });
  let disabled = false;
  const resetBase = base.reset.bind(base);
  return Object.assign(base, {
    events,
    violations,
    disableApp(value = true) {
      disabled = value;
    },
    reset() {
      resetBase();
      events.length = 0;
      violations.length = 0;
    },
  });
}
