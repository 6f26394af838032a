import { z } from 'zod';

/** The only reader of process.env. Parsed once at start; a bad value fails fast with a readable message. */
const optionalUrl = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .pipe(z.url().optional())
  .optional();
const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

const schema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    HOST: z.string().default('127.0.0.1'),
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    DATA_DIR: z.string().default('./data'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Public base URL of this service, used for Twilio status callbacks and signature checks. */
    PUBLIC_URL: optionalUrl,
    EVENTSTORE_URL: optionalString,
    MONGODB_URL: optionalString,
    MONGODB_DATABASE: z.string().default('herald'),
    SMTP_URL: optionalString,
    TWILIO_ACCOUNT_SID: optionalString,
    TWILIO_AUTH_TOKEN: optionalString,
    TWILIO_FROM: optionalString,
    TWILIO_API_URL: optionalUrl,
    BOOTSTRAP_API_KEY: optionalString,
    /** How long a requested reservation holds its seats before it expires. */
    RESERVATION_HOLD_MINUTES: z.coerce
      .number()
      .int()
      .min(1)
      .max(24 * 60)
      .default(10),
    NOTIFICATION_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(10),
    /**
     * Signs the claim links of waitlist offers. Every instance needs the same one; without it, embedded Herald keeps
     * a generated one in DATA_DIR/claim-link.secret.
     */
    CLAIM_LINK_SECRET: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').max(512).optional()),
  })
  .superRefine((env, ctx) => {
    const twilio = [env.TWILIO_ACCOUNT_SID, env.TWILIO_AUTH_TOKEN, env.TWILIO_FROM];
    const set = twilio.filter((v) => v !== undefined).length;
    if (set !== 0 && set !== 3) {
      ctx.addIssue({
        code: 'custom',
        path: ['TWILIO_ACCOUNT_SID'],
        message: 'set all of TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM, or none of them',
      });
    }
    if (env.EVENTSTORE_URL && !/^(esdb|esdb\+discover|kurrentdb|kdb):\/\//.test(env.EVENTSTORE_URL)) {
      ctx.addIssue({ code: 'custom', path: ['EVENTSTORE_URL'], message: 'must be an esdb:// connection string' });
    }
    if (env.MONGODB_URL && !/^mongodb(\+srv)?:\/\//.test(env.MONGODB_URL)) {
      ctx.addIssue({ code: 'custom', path: ['MONGODB_URL'], message: 'must be a mongodb:// connection string' });
    }
    if (env.SMTP_URL && !/^smtps?:\/\//.test(env.SMTP_URL)) {
      ctx.addIssue({ code: 'custom', path: ['SMTP_URL'], message: 'must be an smtp:// or smtps:// URL' });
    }
  });

export type Config = z.infer<typeof schema>;

export class ConfigError extends Error {}

export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  const result = schema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `  ${issue.path.join('.') || '(environment)'}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return result.data;
}
