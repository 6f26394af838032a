import { createPublicKey } from 'node:crypto';
import { isIP } from 'node:net';
import { z } from 'zod';
import { AWS_REGION } from '../domain/notification/channel-configuration.decider.js';

/**
 * The only reader of process.env. Parsed once at start; a bad value fails fast with a message naming the variable
 * and the rule it breaks (never the value: it may be a secret). main.ts exits with code 2 on a ConfigError.
 */

/** Secrets and ids Herald compares byte for byte: printable ASCII, no spaces (the same rule authentication uses). */
const PRINTABLE_NO_SPACE = /^[\x21-\x7E]+$/;

/** An empty value means "not set", as for an unset variable (`FOO=` in a compose file). */
const blankToUndefined = (value: unknown) =>
  typeof value === 'string' && value.trim() === '' ? undefined : typeof value === 'string' ? value.trim() : value;

const optional = <T extends z.ZodType>(inner: T) => z.preprocess(blankToUndefined, inner.optional());
/** The default is parsed like a set value (zod's `prefault`), so it goes through the same transforms. */
const withDefault = <T extends z.ZodType>(inner: T, fallback: z.input<T>) =>
  z.preprocess(blankToUndefined, inner.prefault(fallback as never));

/** A whole decimal number: `1e3`, `0x10`, `3.0` or `12abc` are refused instead of being read as something else. */
const integer = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,9}$/, `must be a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

function parseUrl(value: string): URL | null {
  try {
    return new URL(value);
  } catch {
    return null;
  }
}

/** An absolute URL with one of `protocols` and a host; `what` completes "must be ...". */
const urlWith = (protocols: readonly string[], what: string, extra?: (url: URL) => string | null) =>
  z.string().superRefine((value, ctx) => {
    const url = parseUrl(value);
    if (!url || !protocols.includes(url.protocol) || url.hostname === '') {
      ctx.addIssue({ code: 'custom', message: `must be ${what}` });
      return;
    }
    const problem = extra?.(url);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

const apiKeySetting = z
  .string()
  .min(16, 'must be at least 16 characters (API keys shorter than that are refused at authentication)')
  .max(256, 'must be at most 256 characters')
  .regex(PRINTABLE_NO_SPACE, 'must be printable ASCII without spaces or control characters');

/** `MG` + 32 hex digits: a Twilio Messaging Service sends from a number of its pool. */
export const MESSAGING_SERVICE_SID = /^MG[0-9a-fA-F]{32}$/;
const E164 = /^\+[1-9]\d{6,14}$/;

/** MongoDB database names: no `/\. "$*<>:|?` or NUL, at most 63 bytes. */
const MONGODB_DATABASE_NAME = /^[^/\\. "$*<>:|?\0]{1,63}$/;

/** `true` or `false`, nothing else (`1`, `yes` are refused rather than guessed). */
const flag = z.enum(['true', 'false'], { message: 'must be true or false' }).transform((value) => value === 'true');

export const CALENDAR_PROVIDER_NAMES = ['ical', 'google', 'microsoft'] as const;

/** 64 hex digits or 32 bytes in base64: a 256-bit key. */
const KEY_256 = /^(?:[0-9a-fA-F]{64}|[A-Za-z0-9+/_-]{43}=?)$/;

/** Whether `name` can name a MongoDB database (the rule MONGODB_DATABASE is checked with). */
export function isMongoDatabaseName(name: string): boolean {
  return MONGODB_DATABASE_NAME.test(name);
}

function validTrustProxy(value: string): boolean {
  if (value === 'true' || value === 'false' || /^\d{1,2}$/.test(value)) return true;
  return value.split(',').every((entry) => {
    const [address, bits, ...rest] = entry.trim().split('/');
    if (rest.length > 0 || !address || isIP(address) === 0) return false;
    if (bits === undefined) return true;
    const max = isIP(address) === 4 ? 32 : 128;
    return /^\d{1,3}$/.test(bits) && Number(bits) <= max;
  });
}

/** The email providers EMAIL_PROVIDERS may name, in the order they are tried. */
export const EMAIL_PROVIDER_NAMES = ['smtp', 'sendgrid', 'ses'] as const;

const emailProviders = z
  .string()
  .transform((value) => value.split(',').map((name) => name.trim().toLowerCase()))
  .superRefine((names, ctx) => {
    for (const name of names) {
      if (!(EMAIL_PROVIDER_NAMES as readonly string[]).includes(name)) {
        ctx.addIssue({ code: 'custom', message: `${name} is not one of ${EMAIL_PROVIDER_NAMES.join(', ')}` });
      }
    }
    if (new Set(names).size !== names.length) ctx.addIssue({ code: 'custom', message: 'names a provider twice' });
  })
  .pipe(z.array(z.enum(EMAIL_PROVIDER_NAMES)));

/** A 256-bit key: 64 hex digits or 32 bytes in base64 / base64url. */
export function parseKey256(value: string): Buffer | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(value)) {
    const bytes = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    return bytes.length === 32 ? bytes : undefined;
  }
  return undefined;
}

const httpUrl = (what: string) =>
  urlWith(['http:', 'https:'], `an http:// or https:// URL, e.g. ${what}`, (url) =>
    url.username || url.password
      ? 'must not carry a user name or password'
      : url.search || url.hash
        ? 'must not carry a query or fragment'
        : null,
  );

const secretToken = (min: number, max: number) =>
  z
    .string()
    .min(min, `must be at least ${min} characters`)
    .max(max, `must be at most ${max} characters`)
    .regex(PRINTABLE_NO_SPACE, 'must be printable ASCII without spaces');

const schema = z
  .object({
    NODE_ENV: withDefault(z.enum(['development', 'test', 'production']), 'development'),
    HOST: withDefault(
      z.string().regex(/^[A-Za-z0-9.:%[\]-]{1,253}$/, 'must be a host name or an IP address, e.g. 0.0.0.0'),
      '127.0.0.1',
    ),
    PORT: withDefault(integer(0, 65535), '3000'),
    DATA_DIR: withDefault(z.string().regex(/^[^\0]+$/, 'must be a directory path'), './data'),
    LOG_LEVEL: withDefault(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), 'info'),
    /** Public base URL of this service, used for Twilio status callbacks and signature checks. */
    PUBLIC_URL: optional(
      urlWith(['http:', 'https:'], 'an http:// or https:// URL, e.g. https://herald.example.com', (url) =>
        url.username || url.password
          ? 'must not carry a user name or password'
          : url.search || url.hash
            ? 'must not carry a query or fragment (Twilio signs the callback URL Herald builds from it)'
            : null,
      ),
    ),
    EVENTSTORE_URL: optional(
      z
        .string()
        .regex(
          /^(esdb|esdb\+discover|kurrentdb|kdb):\/\/[^\s]+$/,
          'must be an esdb:// connection string, e.g. esdb://localhost:2113?tls=false',
        ),
    ),
    MONGODB_URL: optional(
      urlWith(['mongodb:', 'mongodb+srv:'], 'a mongodb:// connection string, e.g. mongodb://localhost:27017'),
    ),
    MONGODB_DATABASE: withDefault(
      z
        .string()
        .regex(MONGODB_DATABASE_NAME, 'must be a MongoDB database name (1-63 characters, none of /\\. "$*<>:|?)'),
      'herald',
    ),
    SMTP_URL: optional(urlWith(['smtp:', 'smtps:'], 'an smtp:// or smtps:// URL, e.g. smtp://user:pass@host:587')),
    TWILIO_ACCOUNT_SID: optional(
      z.string().regex(/^AC[0-9a-fA-F]{32}$/, 'must be a Twilio Account SID: AC followed by 32 hex digits'),
    ),
    TWILIO_AUTH_TOKEN: optional(
      z
        .string()
        .min(16, 'must be at least 16 characters')
        .max(256, 'must be at most 256 characters')
        .regex(PRINTABLE_NO_SPACE, 'must be printable ASCII without spaces'),
    ),
    TWILIO_FROM: optional(
      z
        .string()
        .refine(
          (value) => E164.test(value) || MESSAGING_SERVICE_SID.test(value),
          'must be an E.164 number (e.g. +15005550006) or a Messaging Service SID (MG followed by 32 hex digits)',
        ),
    ),
    TWILIO_API_URL: optional(urlWith(['http:', 'https:'], 'an http:// or https:// URL')),
    BOOTSTRAP_API_KEY: optional(apiKeySetting),
    /** The operator's key (tenants). Unset: the bootstrap key is the operator key. */
    OPERATOR_API_KEY: optional(apiKeySetting),
    /** How long a requested reservation holds its seats before it expires. */
    RESERVATION_HOLD_MINUTES: withDefault(integer(1, 24 * 60), '10'),
    NOTIFICATION_MAX_ATTEMPTS: withDefault(integer(1, 50), '10'),
    /**
     * The email providers, first first, the others failovers: `smtp` (SMTP_URL), `sendgrid` (SENDGRID_API_KEY),
     * `ses` (SES_REGION, SES_ACCESS_KEY_ID, SES_SECRET_ACCESS_KEY).
     * Unset: smtp when SMTP_URL is set, else the outbox.
     */
    EMAIL_PROVIDERS: optional(emailProviders),
    SENDGRID_API_KEY: optional(secretToken(16, 512)),
    SENDGRID_API_URL: optional(httpUrl('https://api.sendgrid.com')),
    /** The Signed Event Webhook's verification key (base64 DER or PEM, ECDSA P-256) from SendGrid's settings. */
    SENDGRID_WEBHOOK_PUBLIC_KEY: optional(
      z.string().refine((value) => {
        try {
          const pem = value.includes('BEGIN PUBLIC KEY')
            ? value
            : `-----BEGIN PUBLIC KEY-----\n${value.replace(/\s+/g, '')}\n-----END PUBLIC KEY-----\n`;
          return createPublicKey(pem).asymmetricKeyType === 'ec';
        } catch {
          return false;
        }
      }, 'must be the ECDSA public key SendGrid shows for the Signed Event Webhook (base64 DER or PEM)'),
    ),
    /** Amazon SES v2: the account's region (`eu-west-1`), an IAM access key allowed ses:SendEmail. */
    SES_REGION: optional(z.string().regex(AWS_REGION, 'must be an AWS region name such as eu-west-1')),
    SES_ACCESS_KEY_ID: optional(z.string().regex(/^[A-Z0-9]{16,128}$/, 'must be an AWS access key id (AKIA…)')),
    SES_SECRET_ACCESS_KEY: optional(
      z.string().regex(/^[A-Za-z0-9/+=]{16,128}$/, 'must be the AWS secret access key of SES_ACCESS_KEY_ID'),
    ),
    /** Default https://email.<SES_REGION>.amazonaws.com. */
    SES_API_URL: optional(httpUrl('https://email.eu-west-1.amazonaws.com')),
    /** A configuration set (its event destinations publish deliveries and bounces); optional. */
    SES_CONFIGURATION_SET: optional(
      z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a configuration set name (letters, digits, _ and -)'),
    ),
    WHATSAPP_ACCESS_TOKEN: optional(secretToken(16, 1024)),
    WHATSAPP_PHONE_NUMBER_ID: optional(
      z.string().regex(/^\d{5,30}$/, 'must be the phone number id WhatsApp Manager shows (digits, not the number)'),
    ),
    /** Graph API base including its version. */
    WHATSAPP_API_URL: optional(httpUrl('https://graph.facebook.com/v21.0')),
    /** The Meta app secret: checks X-Hub-Signature-256 of status webhooks. */
    WHATSAPP_APP_SECRET: optional(secretToken(16, 256)),
    /** Echoed in the webhook subscription handshake (hub.verify_token). */
    WHATSAPP_VERIFY_TOKEN: optional(secretToken(8, 256)),
    TELEGRAM_BOT_TOKEN: optional(
      z.string().regex(/^\d{3,20}:[A-Za-z0-9_-]{20,100}$/, 'must be a bot token from @BotFather, e.g. 123456:ABC-DEF…'),
    ),
    TELEGRAM_API_URL: optional(httpUrl('https://api.telegram.org')),
    /** The bot's username (without @): the t.me link customers open to link their chat. */
    TELEGRAM_BOT_USERNAME: optional(
      z.string().regex(/^[A-Za-z][A-Za-z0-9_]{3,31}[Bb][Oo][Tt]$/, 'must be the bot username, ending in bot'),
    ),
    /** setWebhook's secret_token: Telegram sends it in X-Telegram-Bot-Api-Secret-Token with every update. */
    TELEGRAM_WEBHOOK_SECRET: optional(
      z
        .string()
        .regex(/^[A-Za-z0-9_-]{16,256}$/, 'must be 16-256 letters, digits, _ or - (Telegram’s secret_token rule)'),
    ),
    /**
     * Encrypts tenants' channel credentials at rest (AES-256-GCM): 64 hex digits or 32 bytes in base64. Unset:
     * a key generated once in DATA_DIR/channel-credentials.key (back it up with the event store).
     */
    CHANNEL_CREDENTIALS_KEY: optional(
      z
        .string()
        .refine((value) => parseKey256(value) !== undefined, 'must be 32 bytes: 64 hex digits or 44 base64 characters'),
    ),
    /** How long a delivery may fail retryably at a channel's provider before it moves to the next one. */
    CHANNEL_FAILOVER_AFTER_SECONDS: withDefault(integer(1, 7 * 24 * 3600), '300'),
    /** The longest wait a provider's Retry-After may impose on a delivery's next attempt. */
    CHANNEL_RETRY_AFTER_MAX_SECONDS: withDefault(integer(1, 24 * 3600), '3600'),
    /** Campaigns (bulk messages) request at most this many SMS a second: the provider account's sending limit. */
    CAMPAIGN_SMS_PER_SECOND: withDefault(integer(1, 10_000), '30'),
    /** ... and at most this many emails a second (the SMTP relay's limit). */
    CAMPAIGN_EMAIL_PER_SECOND: withDefault(integer(1, 10_000), '50'),
    /** Requests one API key may make per minute; 0 turns the limit off. */
    RATE_LIMIT_PER_KEY: withDefault(integer(0, 1_000_000), '6000'),
    /** Failed authentications one client address may make per minute before it gets 429. */
    AUTH_FAILURES_PER_MINUTE: withDefault(integer(1, 10_000), '30'),
    /** How long a staff console session lasts after signing in (hours). */
    STAFF_SESSION_HOURS: withDefault(integer(1, 24 * 7), '12'),
    /** Sign-in attempts one client address may make per minute (staff console). */
    SIGN_IN_ATTEMPTS_PER_MINUTE: withDefault(integer(1, 1000), '10'),
    /** Requests one client address may make per minute to the public booking page's and customer page's API. */
    PUBLIC_REQUESTS_PER_MINUTE: withDefault(integer(1, 100_000), '120'),
    /** Which proxies' X-Forwarded-For to believe for the client address: false, true, a hop count or addresses. */
    TRUST_PROXY: withDefault(
      z
        .string()
        .refine(
          validTrustProxy,
          'must be false, true, a number of proxy hops, or comma-separated IP addresses / CIDR ranges',
        ),
      'false',
    ),
    /**
     * Signs the claim links of waitlist offers, the links to customers' own pages and staff session cookies (each
     * under its own purpose). Every instance needs the same one; without it, embedded Herald keeps a generated one in
     * DATA_DIR/claim-link.secret.
     */
    /**
     * Bearer token Prometheus sends to scrape GET /metrics. Unset: /metrics is not served (404). Its own secret, not
     * an API key: a scraper gets counters and nothing else, and an API key never sits in a scrape config.
     */
    METRICS_TOKEN: optional(
      z
        .string()
        .min(32, 'must be at least 32 characters')
        .max(512, 'must be at most 512 characters')
        .regex(PRINTABLE_NO_SPACE, 'must be printable ASCII without spaces'),
    ),
    CLAIM_LINK_SECRET: optional(
      z
        .string()
        .min(32, 'must be at least 32 characters')
        .max(512, 'must be at most 512 characters')
        .regex(PRINTABLE_NO_SPACE, 'must be printable ASCII without spaces'),
    ),
    /** Calendar providers resources may be linked to (issue 12): ical feeds, Google FreeBusy, Microsoft Graph. */
    CALENDAR_PROVIDERS: withDefault(
      z
        .string()
        .transform((value) => [...new Set(value.split(',').map((part) => part.trim()))])
        .refine(
          (names) => names.every((name) => (CALENDAR_PROVIDER_NAMES as readonly string[]).includes(name)),
          'must name ical, google or microsoft, comma-separated',
        )
        .transform((names) => names as (typeof CALENDAR_PROVIDER_NAMES)[number][]),
      'ical',
    ),
    /** How often a linked calendar is synced unless its link says otherwise. */
    CALENDAR_SYNC_INTERVAL_MINUTES: withDefault(integer(5, 1440), '15'),
    /** The most frequent sync a link may ask for. */
    CALENDAR_SYNC_MIN_MINUTES: withDefault(integer(5, 1440), '5'),
    /** How far ahead busy times are read (and recorded in each changed sync's event). */
    CALENDAR_HORIZON_DAYS: withDefault(integer(1, 90), '60'),
    /** Busy intervals one sync records at most (merged); more cut the horizon short (`truncated`). */
    CALENDAR_MAX_BUSY_INTERVALS: withDefault(integer(1, 5000), '1000'),
    /** One sync's HTTP exchange(s) with a provider, redirects included. */
    CALENDAR_FETCH_TIMEOUT_SECONDS: withDefault(integer(1, 120), '20'),
    CALENDAR_MAX_RESPONSE_BYTES: withDefault(integer(1024, 50 * 1024 * 1024), String(5 * 1024 * 1024)),
    CALENDAR_MAX_REDIRECTS: withDefault(integer(0, 10), '3'),
    /** The longest wait a provider's Retry-After may impose on the next sync. */
    CALENDAR_RETRY_AFTER_MAX_MINUTES: withDefault(integer(1, 24 * 60), '360'),
    /** Outgoing webhooks: only https to public addresses unless these (tests on loopback) allow more. */
    WEBHOOK_ALLOW_HTTP: withDefault(flag, 'false'),
    WEBHOOK_ALLOW_LOOPBACK: withDefault(flag, 'false'),
    /** The wait before each retry of a failed webhook, seconds, comma-separated (default: about 27.6 h in all). */
    WEBHOOK_RETRY_SCHEDULE_SECONDS: withDefault(
      z
        .string()
        .regex(/^\d{1,6}(,\d{1,6}){0,29}$/, 'must be 1 to 30 whole numbers of seconds, comma-separated')
        .transform((value) => value.split(',').map(Number))
        .refine((delays) => delays.every((d) => d >= 1 && d <= 86_400), 'each delay must be 1 to 86400 seconds'),
      '5,300,1800,7200,18000,36000,36000',
    ),
    /** Pause an endpoint that has failed this long, even with retries left; unset: when the schedule runs out. */
    WEBHOOK_PAUSE_AFTER_HOURS: optional(
      z.coerce.number().min(0.0002, 'must be at least 0.0002 (about 1 s)').max(720, 'must be at most 720'),
    ),
    /** One webhook request: connect, send, answer. */
    WEBHOOK_TIMEOUT_SECONDS: withDefault(integer(1, 60), '15'),
    /** The longest wait an endpoint's Retry-After may impose. */
    WEBHOOK_RETRY_AFTER_MAX_SECONDS: withDefault(integer(1, 24 * 3600), '3600'),
    /** Tests only: let feed URLs point at loopback (127.0.0.0/8, ::1) and use plain http. Never in production. */
    CALENDAR_FEED_ALLOW_LOOPBACK: withDefault(flag, 'false'),
    CALENDAR_FEED_ALLOW_HTTP: withDefault(flag, 'false'),
    CALENDAR_GOOGLE_API_URL: withDefault(
      urlWith(['http:', 'https:'], 'an http:// or https:// URL, e.g. https://www.googleapis.com'),
      'https://www.googleapis.com',
    ),
    CALENDAR_GRAPH_API_URL: withDefault(
      urlWith(['http:', 'https:'], 'an http:// or https:// URL, e.g. https://graph.microsoft.com'),
      'https://graph.microsoft.com',
    ),
    /**
     * Encrypts calendar feed addresses and tokens in the event store (AES-256-GCM). Unset: a key generated once in
     * DATA_DIR/calendar-credentials.key (back it up with the event store).
     */
    CALENDAR_CREDENTIALS_KEY: optional(
      z.string().regex(KEY_256, 'must be 32 bytes: 64 hex digits or 43-44 base64 characters'),
    ),
    /**
     * `one`: this process is the only Herald on its stores. `many`: several processes share them; each consumer
     * (projection, process manager) runs in one of them at a time, under a lease (docs/decisions/0020-consumer-leases.md).
     */
    INSTANCES: withDefault(z.enum(['one', 'many']), 'one'),
    /** With INSTANCES=many: how long a lease outlives its last renewal, so how soon a dead instance's work moves. */
    LEASE_TTL_MS: withDefault(integer(1_000, 120_000), '6000'),
  })
  .superRefine((env, ctx) => {
    if (env.INSTANCES === 'many' && env.EVENTSTORE_URL !== undefined && env.MONGODB_URL === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['INSTANCES'],
        message:
          'many needs MONGODB_URL when EVENTSTORE_URL is set: leases and scheduled jobs must be in a store every instance shares',
      });
    }
    if (env.INSTANCES === 'many' && env.EVENTSTORE_URL !== undefined && env.CLAIM_LINK_SECRET === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['CLAIM_LINK_SECRET'],
        message: 'must be set with INSTANCES=many and EVENTSTORE_URL: every instance must sign claim links alike',
      });
    }
    if (env.CALENDAR_SYNC_MIN_MINUTES > env.CALENDAR_SYNC_INTERVAL_MINUTES) {
      ctx.addIssue({
        code: 'custom',
        path: ['CALENDAR_SYNC_INTERVAL_MINUTES'],
        message: 'must be at least CALENDAR_SYNC_MIN_MINUTES',
      });
    }
    for (const setting of ['WEBHOOK_ALLOW_LOOPBACK', 'WEBHOOK_ALLOW_HTTP'] as const) {
      if (env[setting] && env.NODE_ENV === 'production') {
        ctx.addIssue({
          code: 'custom',
          path: [setting],
          message: 'is for tests: webhooks go over https to public addresses in production',
        });
      }
    }
    for (const setting of ['CALENDAR_FEED_ALLOW_LOOPBACK', 'CALENDAR_FEED_ALLOW_HTTP'] as const) {
      if (env[setting] && env.NODE_ENV === 'production') {
        ctx.addIssue({
          code: 'custom',
          path: [setting],
          message: 'is for tests: feeds are fetched over https from public addresses in production',
        });
      }
    }
    const twilio = [env.TWILIO_ACCOUNT_SID, env.TWILIO_AUTH_TOKEN, env.TWILIO_FROM];
    const set = twilio.filter((v) => v !== undefined).length;
    if (set !== 0 && set !== 3) {
      ctx.addIssue({
        code: 'custom',
        path: ['TWILIO_ACCOUNT_SID'],
        message: 'set all of TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM, or none of them',
      });
    }
    const providers = env.EMAIL_PROVIDERS ?? [];
    if (providers.includes('smtp') && env.SMTP_URL === undefined) {
      ctx.addIssue({ code: 'custom', path: ['EMAIL_PROVIDERS'], message: 'names smtp, but SMTP_URL is not set' });
    }
    if (providers.includes('sendgrid') !== (env.SENDGRID_API_KEY !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['EMAIL_PROVIDERS'],
        message: 'SENDGRID_API_KEY is set exactly when EMAIL_PROVIDERS names sendgrid (set both, or neither)',
      });
    }
    const ses = [env.SES_REGION, env.SES_ACCESS_KEY_ID, env.SES_SECRET_ACCESS_KEY].filter(
      (v) => v !== undefined,
    ).length;
    if (providers.includes('ses') ? ses !== 3 : ses !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['EMAIL_PROVIDERS'],
        message:
          'SES_REGION, SES_ACCESS_KEY_ID and SES_SECRET_ACCESS_KEY are all set exactly when EMAIL_PROVIDERS names ses',
      });
    }
    if (env.EMAIL_PROVIDERS !== undefined && env.SMTP_URL !== undefined && !providers.includes('smtp')) {
      ctx.addIssue({
        code: 'custom',
        path: ['EMAIL_PROVIDERS'],
        message: 'SMTP_URL is set, but EMAIL_PROVIDERS does not name smtp',
      });
    }
    const whatsapp = [env.WHATSAPP_ACCESS_TOKEN, env.WHATSAPP_PHONE_NUMBER_ID].filter((v) => v !== undefined).length;
    if (whatsapp === 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['WHATSAPP_ACCESS_TOKEN'],
        message: 'set both WHATSAPP_ACCESS_TOKEN and WHATSAPP_PHONE_NUMBER_ID, or neither',
      });
    }
    if (env.TELEGRAM_BOT_USERNAME !== undefined && env.TELEGRAM_BOT_TOKEN === undefined) {
      ctx.addIssue({ code: 'custom', path: ['TELEGRAM_BOT_USERNAME'], message: 'needs TELEGRAM_BOT_TOKEN' });
    }
    for (const key of ['BOOTSTRAP_API_KEY', 'OPERATOR_API_KEY'] as const) {
      if (env.METRICS_TOKEN !== undefined && env.METRICS_TOKEN === env[key]) {
        ctx.addIssue({
          code: 'custom',
          path: ['METRICS_TOKEN'],
          message: `must differ from ${key}: whoever scrapes metrics must not hold an API key`,
        });
      }
    }
    if (env.OPERATOR_API_KEY !== undefined && env.OPERATOR_API_KEY === env.BOOTSTRAP_API_KEY) {
      ctx.addIssue({
        code: 'custom',
        path: ['OPERATOR_API_KEY'],
        message: 'must differ from BOOTSTRAP_API_KEY (leave it unset to make the bootstrap key the operator key)',
      });
    }
  });

export type Config = z.infer<typeof schema>;

export class ConfigError extends Error {}

/** The exit code main.ts uses when the configuration is invalid (documented in docs/operations.md). */
export const CONFIG_ERROR_EXIT_CODE = 2;

/** `TRUST_PROXY` as fastify's `trustProxy` option (a hop count becomes "trust the nearest n hops"). */
export function trustProxyOption(
  config: Pick<Config, 'TRUST_PROXY'>,
): boolean | string[] | ((address: string, hop: number) => boolean) {
  const value = config.TRUST_PROXY;
  if (value === 'true') return true;
  if (value === 'false') return false;
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    return (_address, hop) => hop < hops;
  }
  return value.split(',').map((entry) => entry.trim());
}

export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  const result = schema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `  ${issue.path.join('.') || '(environment)'}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return result.data;
}
