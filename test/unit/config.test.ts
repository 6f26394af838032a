import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, trustProxyOption } from '../../src/infrastructure/config.js';

/** The message loadConfig throws for `env`, or undefined when it is accepted. */
function refusal(env: Record<string, string>): string | undefined {
  try {
    loadConfig(env);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
}

const TWILIO = {
  TWILIO_ACCOUNT_SID: 'AC' + '0'.repeat(32),
  TWILIO_AUTH_TOKEN: 'twilio-auth-token-0123',
  TWILIO_FROM: '+15005550006',
};

describe('loadConfig', () => {
  it('runs embedded with nothing set, with the documented defaults', () => {
    expect(loadConfig({})).toMatchObject({
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      PORT: 3000,
      DATA_DIR: './data',
      LOG_LEVEL: 'info',
      MONGODB_DATABASE: 'herald',
      RESERVATION_HOLD_MINUTES: 10,
      NOTIFICATION_MAX_ATTEMPTS: 10,
      RATE_LIMIT_PER_KEY: 6000,
      AUTH_FAILURES_PER_MINUTE: 30,
      TRUST_PROXY: 'false',
    });
    // An empty value is "not set", as in a compose file's `FOO=`.
    expect(loadConfig({ PORT: '', SMTP_URL: ' ', BOOTSTRAP_API_KEY: '' })).toMatchObject({ PORT: 3000 });
    expect(loadConfig({ SMTP_URL: ' ' }).SMTP_URL).toBeUndefined();
  });

  it('refuses a BOOTSTRAP_API_KEY authentication would refuse: too short, too long, spaces or non-ASCII', () => {
    expect(refusal({ BOOTSTRAP_API_KEY: 'k1' })).toBe(
      'Invalid configuration:\n  BOOTSTRAP_API_KEY: must be at least 16 characters (API keys shorter than that are refused at authentication)',
    );
    expect(refusal({ BOOTSTRAP_API_KEY: 'x'.repeat(257) })).toContain(
      'BOOTSTRAP_API_KEY: must be at most 256 characters',
    );
    for (const bad of ['sixteen chars ok', 'sixteen-chars-ok\u0000', 'sixteen-chars-øk', 'tab\there-0123456789']) {
      expect(refusal({ BOOTSTRAP_API_KEY: bad }), JSON.stringify(bad)).toContain(
        'BOOTSTRAP_API_KEY: must be printable ASCII without spaces or control characters',
      );
    }
    expect(refusal({ BOOTSTRAP_API_KEY: 'x'.repeat(16) })).toBeUndefined();
    expect(refusal({ BOOTSTRAP_API_KEY: '!~' + 'x'.repeat(254) })).toBeUndefined();
  });

  it('never quotes a secret value in the message', () => {
    const secret = 'has space secret-value-0123456789';
    const message = refusal({ BOOTSTRAP_API_KEY: secret, OPERATOR_API_KEY: secret, TWILIO_AUTH_TOKEN: secret })!;
    expect(message).not.toContain('secret-value');
  });

  it('refuses an OPERATOR_API_KEY equal to the bootstrap key, and checks its alphabet too', () => {
    const key = 'bootstrap-key-0123456789';
    expect(refusal({ BOOTSTRAP_API_KEY: key, OPERATOR_API_KEY: key })).toContain(
      'OPERATOR_API_KEY: must differ from BOOTSTRAP_API_KEY',
    );
    expect(refusal({ OPERATOR_API_KEY: 'short' })).toContain('OPERATOR_API_KEY: must be at least 16 characters');
    expect(refusal({ BOOTSTRAP_API_KEY: key, OPERATOR_API_KEY: `${key}-op` })).toBeUndefined();
  });

  it('reads numbers strictly: whole decimal numbers within their range', () => {
    for (const port of ['1e3', '0x10', '3000.5', '-1', '65536', 'http', '3000abc']) {
      expect(refusal({ PORT: port }), port).toMatch(/PORT: must be (a whole number from 0 to 65535|at most 65535)/);
    }
    expect(loadConfig({ PORT: '0' }).PORT).toBe(0);
    expect(refusal({ RESERVATION_HOLD_MINUTES: '0' })).toContain('RESERVATION_HOLD_MINUTES: must be at least 1');
    expect(refusal({ NOTIFICATION_MAX_ATTEMPTS: '51' })).toContain('NOTIFICATION_MAX_ATTEMPTS: must be at most 50');
    expect(refusal({ RATE_LIMIT_PER_KEY: '-5' })).toContain('RATE_LIMIT_PER_KEY: must be a whole number');
    expect(loadConfig({ RATE_LIMIT_PER_KEY: '0' }).RATE_LIMIT_PER_KEY).toBe(0);
    expect(refusal({ AUTH_FAILURES_PER_MINUTE: '0' })).toContain('AUTH_FAILURES_PER_MINUTE: must be at least 1');
  });

  it('reads the campaign throttles (default 30 SMS and 50 emails a second) and refuses what cannot work', () => {
    expect(loadConfig({})).toMatchObject({ CAMPAIGN_SMS_PER_SECOND: 30, CAMPAIGN_EMAIL_PER_SECOND: 50 });
    expect(loadConfig({ CAMPAIGN_SMS_PER_SECOND: '100' }).CAMPAIGN_SMS_PER_SECOND).toBe(100);
    for (const value of ['0', '-1', '2.5', 'fast', '10001']) {
      expect(refusal({ CAMPAIGN_SMS_PER_SECOND: value })).toMatch(/CAMPAIGN_SMS_PER_SECOND: must be/);
      expect(refusal({ CAMPAIGN_EMAIL_PER_SECOND: value })).toMatch(/CAMPAIGN_EMAIL_PER_SECOND: must be/);
    }
  });

  it('reads the calendar settings and refuses what cannot work; loopback and plain-http feeds never in production', () => {
    expect(loadConfig({})).toMatchObject({
      CALENDAR_PROVIDERS: ['ical'],
      CALENDAR_SYNC_INTERVAL_MINUTES: 15,
      CALENDAR_FEED_ALLOW_LOOPBACK: false,
      CALENDAR_FEED_ALLOW_HTTP: false,
    });
    expect(loadConfig({ CALENDAR_PROVIDERS: 'ical, google,microsoft' }).CALENDAR_PROVIDERS).toEqual([
      'ical',
      'google',
      'microsoft',
    ]);
    expect(refusal({ CALENDAR_PROVIDERS: 'ical,caldav' })).toMatch(/CALENDAR_PROVIDERS: must name ical, google/);
    expect(refusal({ CALENDAR_FEED_ALLOW_LOOPBACK: 'yes' })).toMatch(
      /CALENDAR_FEED_ALLOW_LOOPBACK: must be true or false/,
    );
    expect(refusal({ CALENDAR_SYNC_MIN_MINUTES: '30', CALENDAR_SYNC_INTERVAL_MINUTES: '15' })).toMatch(
      /CALENDAR_SYNC_INTERVAL_MINUTES: must be at least CALENDAR_SYNC_MIN_MINUTES/,
    );
    expect(loadConfig({ CALENDAR_FEED_ALLOW_LOOPBACK: 'true', NODE_ENV: 'test' }).CALENDAR_FEED_ALLOW_LOOPBACK).toBe(
      true,
    );
    for (const setting of ['CALENDAR_FEED_ALLOW_LOOPBACK', 'CALENDAR_FEED_ALLOW_HTTP']) {
      expect(refusal({ [setting]: 'true', NODE_ENV: 'production' })).toMatch(new RegExp(`${setting}: is for tests`));
    }
    expect(refusal({ CALENDAR_CREDENTIALS_KEY: 'short' })).toMatch(/CALENDAR_CREDENTIALS_KEY: must be 32 bytes/);
    expect(refusal({ CALENDAR_CREDENTIALS_KEY: 'short-secret-value' })).not.toContain('short-secret-value');
    expect(loadConfig({ CALENDAR_CREDENTIALS_KEY: 'ab'.repeat(32) }).CALENDAR_CREDENTIALS_KEY).toBe('ab'.repeat(32));
  });

  it('reads the webhook settings: a retry schedule of whole seconds, test-only http and loopback', () => {
    expect(loadConfig({})).toMatchObject({
      WEBHOOK_RETRY_SCHEDULE_SECONDS: [5, 300, 1800, 7200, 18000, 36000, 36000],
      WEBHOOK_TIMEOUT_SECONDS: 15,
      WEBHOOK_RETRY_AFTER_MAX_SECONDS: 3600,
      WEBHOOK_ALLOW_HTTP: false,
      WEBHOOK_ALLOW_LOOPBACK: false,
    });
    expect(loadConfig({}).WEBHOOK_PAUSE_AFTER_HOURS).toBeUndefined();
    expect(loadConfig({ WEBHOOK_RETRY_SCHEDULE_SECONDS: '1,1' }).WEBHOOK_RETRY_SCHEDULE_SECONDS).toEqual([1, 1]);
    for (const value of ['1,,2', '0,5', '5,100000', 'soon']) {
      expect(refusal({ WEBHOOK_RETRY_SCHEDULE_SECONDS: value }), value).toMatch(/WEBHOOK_RETRY_SCHEDULE_SECONDS: /);
    }
    expect(refusal({ WEBHOOK_PAUSE_AFTER_HOURS: '0' })).toMatch(/WEBHOOK_PAUSE_AFTER_HOURS: must be at least/);
    expect(refusal({ WEBHOOK_TIMEOUT_SECONDS: '600' })).toMatch(/WEBHOOK_TIMEOUT_SECONDS/);
    for (const setting of ['WEBHOOK_ALLOW_HTTP', 'WEBHOOK_ALLOW_LOOPBACK']) {
      expect(refusal({ [setting]: 'true', NODE_ENV: 'production' })).toMatch(new RegExp(`${setting}: is for tests`));
    }
  });

  it('refuses URLs that cannot work', () => {
    expect(refusal({ PUBLIC_URL: 'herald.example.com' })).toContain(
      'PUBLIC_URL: must be an http:// or https:// URL, e.g. https://herald.example.com',
    );
    expect(refusal({ PUBLIC_URL: 'javascript:alert(1)' })).toContain('PUBLIC_URL: must be an http:// or https://');
    expect(refusal({ PUBLIC_URL: 'https://herald.example.com/?x=1' })).toContain(
      'PUBLIC_URL: must not carry a query or fragment',
    );
    expect(refusal({ PUBLIC_URL: 'https://user:pw@herald.example.com' })).toContain(
      'PUBLIC_URL: must not carry a user name or password',
    );
    expect(loadConfig({ PUBLIC_URL: 'https://herald.example.com/base' }).PUBLIC_URL).toBe(
      'https://herald.example.com/base',
    );
    expect(refusal({ SMTP_URL: 'mail.example.com:25' })).toContain('SMTP_URL: must be an smtp:// or smtps:// URL');
    expect(refusal({ SMTP_URL: 'smtp://' })).toContain('SMTP_URL: must be an smtp:// or smtps:// URL');
    expect(refusal({ MONGODB_URL: 'localhost:27017' })).toContain(
      'MONGODB_URL: must be a mongodb:// connection string',
    );
    expect(refusal({ EVENTSTORE_URL: 'http://localhost:2113' })).toContain(
      'EVENTSTORE_URL: must be an esdb:// connection string',
    );
    expect(refusal({ TWILIO_API_URL: 'ftp://proxy' })).toContain('TWILIO_API_URL: must be an http:// or https:// URL');
  });

  it('checks the Twilio settings: all or none, an Account SID, a usable sender', () => {
    expect(refusal({ TWILIO_ACCOUNT_SID: TWILIO.TWILIO_ACCOUNT_SID })).toContain(
      'TWILIO_ACCOUNT_SID: set all of TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM, or none of them',
    );
    expect(refusal({ ...TWILIO, TWILIO_ACCOUNT_SID: 'SK' + '0'.repeat(32) })).toContain(
      'TWILIO_ACCOUNT_SID: must be a Twilio Account SID: AC followed by 32 hex digits',
    );
    for (const from of ['+0123', '0047123456', 'Herald', 'MG123']) {
      expect(refusal({ ...TWILIO, TWILIO_FROM: from }), from).toContain(
        'TWILIO_FROM: must be an E.164 number (e.g. +15005550006) or a Messaging Service SID',
      );
    }
    expect(refusal({ ...TWILIO, TWILIO_FROM: 'MG' + 'a'.repeat(32) })).toBeUndefined();
    expect(refusal({ ...TWILIO, TWILIO_AUTH_TOKEN: 'short' })).toContain(
      'TWILIO_AUTH_TOKEN: must be at least 16 characters',
    );
    expect(refusal(TWILIO)).toBeUndefined();
  });

  it('checks the Amazon SES settings: all three exactly when EMAIL_PROVIDERS names ses, a region, a key pair', () => {
    const SES = {
      EMAIL_PROVIDERS: 'ses',
      SES_REGION: 'eu-west-1',
      SES_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
      SES_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    };
    expect(refusal(SES)).toBeUndefined();
    expect(loadConfig(SES).EMAIL_PROVIDERS).toEqual(['ses']);
    const all =
      'SES_REGION, SES_ACCESS_KEY_ID and SES_SECRET_ACCESS_KEY are all set exactly when EMAIL_PROVIDERS names ses';
    expect(refusal({ ...SES, SES_SECRET_ACCESS_KEY: '' })).toContain(`EMAIL_PROVIDERS: ${all}`);
    expect(refusal({ SES_REGION: 'eu-west-1' })).toContain(`EMAIL_PROVIDERS: ${all}`);
    expect(refusal({ ...SES, SES_REGION: 'Ireland' })).toContain('SES_REGION: must be an AWS region name');
    expect(refusal({ ...SES, SES_ACCESS_KEY_ID: 'akia-lower' })).toContain('SES_ACCESS_KEY_ID: must be an AWS');
    const secret = refusal({ ...SES, SES_SECRET_ACCESS_KEY: 'has spaces in it, no good' })!;
    expect(secret).toContain('SES_SECRET_ACCESS_KEY: must be the AWS secret access key');
    expect(secret).not.toContain('has spaces');
  });

  it('checks names, levels, hosts and proxies', () => {
    expect(refusal({ MONGODB_DATABASE: 'my.db' })).toContain('MONGODB_DATABASE: must be a MongoDB database name');
    expect(refusal({ LOG_LEVEL: 'verbose' })).toContain('LOG_LEVEL:');
    expect(refusal({ NODE_ENV: 'prod' })).toContain('NODE_ENV:');
    expect(refusal({ HOST: 'local host' })).toContain('HOST: must be a host name or an IP address');
    expect(refusal({ TRUST_PROXY: 'yes' })).toContain('TRUST_PROXY: must be false, true, a number of proxy hops');
    expect(refusal({ TRUST_PROXY: '10.0.0.0/33' })).toContain('TRUST_PROXY:');
    expect(trustProxyOption(loadConfig({ TRUST_PROXY: '10.0.0.0/8, ::1' }))).toEqual(['10.0.0.0/8', '::1']);
    const hops = trustProxyOption(loadConfig({ TRUST_PROXY: '2' })) as (address: string, hop: number) => boolean;
    expect([hops('10.0.0.1', 0), hops('10.0.0.1', 1), hops('10.0.0.1', 2)]).toEqual([true, true, false]);
    expect(trustProxyOption(loadConfig({}))).toBe(false);
  });

  it('reports every broken setting at once, one line each', () => {
    const message = refusal({ PORT: 'x', BOOTSTRAP_API_KEY: 'k1', PUBLIC_URL: 'nope' })!;
    expect(message.split('\n')).toHaveLength(4);
  });
});
