import { createServer } from 'node:net';
import { MongoClient } from 'mongodb';
import type { EventStore, RecordedEvent } from '../../src/application/ports/event-store.port.js';
import type { Logger } from '../../src/application/ports/logger.port.js';
import type { ReadModelStore } from '../../src/application/ports/read-model-store.port.js';
import { createAgendaScheduler } from '../../src/infrastructure/agenda/agenda-scheduler.js';
import { createMongoAgendaBackend } from '../../src/infrastructure/agenda/mongo-agenda-backend.js';
import { createSqliteAgendaBackend } from '../../src/infrastructure/agenda/sqlite-agenda-backend.js';
import { loadConfig } from '../../src/infrastructure/config.js';
import { createSmtpEmailSender } from '../../src/infrastructure/email/smtp-email-sender.js';
import { createMongoReadModelStore } from '../../src/infrastructure/mongodb/mongo-read-model-store.js';
import { createTwilioSmsSender } from '../../src/infrastructure/sms/twilio-sms-sender.js';
import { createSqliteEventStore } from '../../src/infrastructure/sqlite/sqlite-event-store.js';
import { createSqliteReadModelStore } from '../../src/infrastructure/sqlite/sqlite-read-model-store.js';
import { systemClock } from '../../src/infrastructure/system-clock.js';
import { createAdapters, type Adapters } from '../../src/interfaces/adapters.js';
import { createHerald, type Herald } from '../../src/interfaces/herald.js';

/** Credentials the Twilio stand-in accepts and the Herald under test sends with. */
export const TWILIO = {
  accountSid: 'AC' + '0123456789abcdef'.repeat(2),
  authToken: 'e2e-auth-token-0123456789abcdef',
  from: '+15005550006',
} as const;

/** The admin key BOOTSTRAP_API_KEY creates for tenant `default`. */
export const API_KEY = 'herald-e2e-bootstrap-key-0123456789';
export const AUTH = { authorization: `Bearer ${API_KEY}` } as const;

export type ReadModelBackend = { kind: 'sqlite' } | { kind: 'mongodb'; url: string; database: string };

export interface ServerHeraldOptions {
  readonly readModels: ReadModelBackend;
  readonly smtpUrl: string;
  readonly twilioUrl: string;
  readonly logger: Logger;
  /** The port the test will listen on (`app.listen`), so that claim links in messages point there. Default 3000. */
  readonly port?: number;
}

/**
 * Herald wired as createAdapters wires it for `MONGODB_URL` (read models and Agenda on MongoDB) or for the embedded
 * mode (both on SQLite), plus SMTP_URL and TWILIO_* / TWILIO_API_URL — except that the event store is SQLite in
 * memory, so nothing outlives the test. The composition root itself (createHerald) is the production one.
 */
export async function createHeraldOnServers(options: ServerHeraldOptions): Promise<Herald> {
  const config = loadConfig({
    NODE_ENV: 'test',
    BOOTSTRAP_API_KEY: API_KEY,
    ...(options.port !== undefined ? { PORT: String(options.port) } : {}),
    SMTP_URL: options.smtpUrl,
    TWILIO_ACCOUNT_SID: TWILIO.accountSid,
    TWILIO_AUTH_TOKEN: TWILIO.authToken,
    TWILIO_FROM: TWILIO.from,
    TWILIO_API_URL: options.twilioUrl,
    ...(options.readModels.kind === 'mongodb'
      ? { MONGODB_URL: options.readModels.url, MONGODB_DATABASE: options.readModels.database }
      : {}),
  });
  const { logger } = options;
  const clock = systemClock;
  const closers: (() => Promise<void>)[] = [];

  const eventStore = createSqliteEventStore({ filename: ':memory:', clock });
  closers.push(() => eventStore.close());

  let readModels: ReadModelStore;
  let scheduler;
  if (config.MONGODB_URL) {
    const client = new MongoClient(config.MONGODB_URL);
    await client.connect();
    const db = client.db(config.MONGODB_DATABASE);
    readModels = await createMongoReadModelStore({ db });
    scheduler = await createAgendaScheduler({ backend: createMongoAgendaBackend({ db }), logger, processEvery: 200 });
    closers.push(async () => {
      await db.dropDatabase().catch(() => undefined);
      await client.close();
    });
  } else {
    readModels = createSqliteReadModelStore({ filename: ':memory:' });
    scheduler = await createAgendaScheduler({
      backend: createSqliteAgendaBackend({ database: ':memory:' }),
      logger,
      processEvery: 200,
    });
    closers.push(() => readModels.close());
  }

  const email = createSmtpEmailSender({ url: config.SMTP_URL!, clock, logger, timeoutMs: 5_000 });
  closers.push(() => email.close());
  const sms = createTwilioSmsSender({
    accountSid: config.TWILIO_ACCOUNT_SID!,
    authToken: config.TWILIO_AUTH_TOKEN!,
    from: config.TWILIO_FROM!,
    apiUrl: config.TWILIO_API_URL!,
    timeoutMs: 5_000,
    clock,
  });
  closers.push(() => sms.close());

  const adapters: Adapters = {
    eventStore,
    readModels,
    scheduler,
    email,
    sms,
    describe: {
      eventStore: 'sqlite::memory:',
      readModels: options.readModels.kind,
      scheduler: `agenda:${options.readModels.kind}`,
      email: 'smtp',
      sms: 'twilio',
    },
    async close() {
      await scheduler.stop();
      for (const close of closers.reverse()) await close();
    },
  };
  return createHerald({ config, adapters, logger, clock });
}

export interface KeptStoresHeraldOptions extends ServerHeraldOptions {
  /** DATA_DIR: the event store, the SQLite read models and Agenda (or, on MongoDB, only the event store) and the
   * claim-link secret live here, and outlive `herald.stop()`. */
  readonly dataDir: string;
  /** More settings, as the environment would give them (WHATSAPP_*, TELEGRAM_*...). */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * Herald exactly as main.ts builds it (createAdapters + createHerald) for DATA_DIR, SMTP_URL, TWILIO_* and, for
 * MongoDB read models, MONGODB_URL / MONGODB_DATABASE. Unlike createHeraldOnServers nothing is in memory or dropped
 * on stop: a second Herald created with the same options carries on where the first stopped (a restart). The caller
 * removes `dataDir` and drops the MongoDB database when done.
 */
export async function createHeraldKeepingStores(options: KeptStoresHeraldOptions): Promise<Herald> {
  const config = loadConfig({
    NODE_ENV: 'test',
    DATA_DIR: options.dataDir,
    HOST: '127.0.0.1',
    ...(options.port !== undefined ? { PORT: String(options.port) } : {}),
    BOOTSTRAP_API_KEY: API_KEY,
    SMTP_URL: options.smtpUrl,
    TWILIO_ACCOUNT_SID: TWILIO.accountSid,
    TWILIO_AUTH_TOKEN: TWILIO.authToken,
    TWILIO_FROM: TWILIO.from,
    TWILIO_API_URL: options.twilioUrl,
    ...(options.readModels.kind === 'mongodb'
      ? { MONGODB_URL: options.readModels.url, MONGODB_DATABASE: options.readModels.database }
      : {}),
    ...options.env,
  });
  const adapters = await createAdapters(config, options.logger, systemClock);
  return createHerald({ config, adapters, logger: options.logger, clock: systemClock });
}

/** A loopback port nobody listens on right now (for a Herald whose links must name its port before it listens). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface ReservationRequest {
  reservationId?: string;
  customer: { name: string; email?: string; phone?: string; locale?: string };
  serviceName: string;
  location: { name: string; address: string; timeZone: string };
  start: string;
  end: string;
  external?: { system: string; reference: string };
}

/** A finalized reservation as a booking system reports it to POST /v1/reservations. */
export function reservationRequest(overrides: Partial<ReservationRequest> = {}): ReservationRequest {
  return {
    customer: { name: 'Ada Lovelace', email: 'ada@example.test', phone: '+14155550101', locale: 'en' },
    serviceName: 'Dinner for two',
    location: { name: 'Harbour Bistro', address: '1 Pier Road, New York', timeZone: 'America/New_York' },
    start: '2030-03-14T18:30:00.000Z',
    end: '2030-03-14T20:30:00.000Z',
    ...overrides,
  };
}

/**
 * Resolves once `count` events matching `predicate` have been appended (counting from the start of the log):
 * a wait on the log itself, never on a clock.
 */
export async function waitForEvents(
  eventStore: EventStore,
  predicate: (event: RecordedEvent) => boolean,
  count: number,
  timeoutMs = 20_000,
): Promise<RecordedEvent[]> {
  const subscription = eventStore.subscribeToAll();
  const matched: RecordedEvent[] = [];
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void subscription.close();
      reject(new Error(`expected ${count} matching event(s) within ${timeoutMs} ms, saw ${matched.length}`));
    }, timeoutMs);
  });
  const read = (async () => {
    for await (const event of subscription) {
      if (predicate(event)) matched.push(event);
      if (matched.length >= count) break;
    }
    return matched;
  })();
  try {
    return await Promise.race([read, timeout]);
  } finally {
    clearTimeout(timer);
    await subscription.close();
  }
}
