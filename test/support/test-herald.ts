import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Clock } from '../../src/application/ports/clock.port.js';
import type { EmailMessage, EmailSender, ProviderAcceptance } from '../../src/application/ports/email-sender.port.js';
import type { EventStore } from '../../src/application/ports/event-store.port.js';
import type { Logger } from '../../src/application/ports/logger.port.js';
import type { ReadModelStore } from '../../src/application/ports/read-model-store.port.js';
import type { SentSms, SmsMessage, SmsSender } from '../../src/application/ports/sms-sender.port.js';
import { createAgendaScheduler } from '../../src/infrastructure/agenda/agenda-scheduler.js';
import { createSqliteAgendaBackend } from '../../src/infrastructure/agenda/sqlite-agenda-backend.js';
import { loadConfig } from '../../src/infrastructure/config.js';
import { createSqliteEventStore } from '../../src/infrastructure/sqlite/sqlite-event-store.js';
import { createSqliteReadModelStore } from '../../src/infrastructure/sqlite/sqlite-read-model-store.js';
import type { Adapters } from '../../src/interfaces/adapters.js';
import { createHerald, type Herald } from '../../src/interfaces/herald.js';
import { silentLogger } from './silent-logger.js';

export const TEST_ADMIN_KEY = 'test-admin-key-0123456789abcdef';

/** Records what would be sent; `fail` lets a test make the provider refuse. */
export interface RecordingEmail extends EmailSender {
  readonly sent: EmailMessage[];
  fail?: (message: EmailMessage) => Error | undefined;
}
export interface RecordingSms extends SmsSender {
  readonly sent: (SmsMessage & { providerMessageId: string })[];
  fail?: (message: SmsMessage) => Error | undefined;
}

export function recordingEmail(): RecordingEmail {
  const sent: EmailMessage[] = [];
  const sender: RecordingEmail = {
    channel: 'email',
    sent,
    async send(message): Promise<ProviderAcceptance> {
      const error = sender.fail?.(message);
      if (error) throw error;
      sent.push(message);
      return { providerMessageId: `<${message.idempotencyKey}@test>`, acceptedAt: new Date().toISOString() };
    },
    async close() {},
  };
  return sender;
}

export function recordingSms(): RecordingSms {
  const sent: (SmsMessage & { providerMessageId: string; acceptedAt: string })[] = [];
  const sender: RecordingSms = {
    channel: 'sms',
    sent,
    async send(message) {
      const error = sender.fail?.(message);
      if (error) throw error;
      const providerMessageId = `SM${String(sent.length + 1).padStart(32, '0')}`;
      const acceptedAt = new Date().toISOString();
      sent.push({ ...message, providerMessageId, acceptedAt });
      return { providerMessageId, acceptedAt };
    },
    async findSent(to, since): Promise<SentSms[]> {
      return sent
        .filter((m) => m.to === to && Date.parse(m.acceptedAt) >= since.getTime())
        .map((m) => ({ providerMessageId: m.providerMessageId, to: m.to, body: m.body, acceptedAt: m.acceptedAt }));
    },
    async close() {},
  };
  return sender;
}

export interface TestHerald extends Herald {
  readonly email: RecordingEmail;
  readonly sms: RecordingSms;
  readonly dataDir: string;
  /** `authorization` header for the bootstrap admin key of tenant `default`. */
  readonly auth: { authorization: string };
  /** An admin (or `role`) key for a tenant, created with Herald's defaults when it does not exist yet. */
  keyFor(tenantId: string, role?: 'admin' | 'staff' | 'integration'): Promise<{ authorization: string }>;
  /** Records `aReservation(overrides)` as `auth` (expects 201), lets its notifications settle, returns its id. */
  reserve(auth: { authorization: string }, overrides?: Record<string, unknown>): Promise<string>;
  /** The short code messages show for a reservation (what a customer reads instead of the id). */
  codeOf(auth: { authorization: string }, reservationId: string): Promise<string>;
}

export interface TestHeraldOptions {
  readonly env?: Record<string, string>;
  readonly email?: RecordingEmail;
  readonly sms?: RecordingSms;
  /** A clock the test moves; default the system clock. */
  readonly clock?: Clock;
  /** Stores other than the in-memory SQLite ones; the Herald closes them when it stops. */
  readonly eventStore?: EventStore;
  readonly readModels?: ReadModelStore;
  /** What the start-up line and /health/ready say the ports are backed by, where it is not the default. */
  readonly describe?: Partial<Adapters['describe']>;
  /** Default: a silent logger. */
  readonly logger?: Logger;
}

/**
 * A Herald on in-memory SQLite stores (event store, read models, Agenda) with recording email and SMS senders,
 * started, with an admin key for tenant `default`. For API tests: fast, real code paths, no servers.
 */
export async function startTestHerald(options: TestHeraldOptions = {}): Promise<TestHerald> {
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-test-'));
  const config = loadConfig({ DATA_DIR: dataDir, BOOTSTRAP_API_KEY: TEST_ADMIN_KEY, ...options.env });
  const logger = options.logger ?? silentLogger();
  const email = options.email ?? recordingEmail();
  const sms = options.sms ?? recordingSms();
  const eventStore = options.eventStore ?? createSqliteEventStore({ filename: ':memory:' });
  const readModels = options.readModels ?? createSqliteReadModelStore({ filename: ':memory:' });
  const scheduler = await createAgendaScheduler({
    backend: createSqliteAgendaBackend({ database: ':memory:' }),
    logger,
    processEvery: 200,
  });
  const adapters: Adapters = {
    eventStore,
    readModels,
    scheduler,
    email,
    sms,
    describe: {
      eventStore: 'sqlite',
      readModels: 'sqlite',
      scheduler: 'agenda:sqlite',
      email: 'recording',
      sms: 'recording',
      ...options.describe,
    },
    async close() {
      await scheduler.stop();
      await eventStore.close();
      await readModels.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  const herald = await createHerald({ config, adapters, logger, ...(options.clock ? { clock: options.clock } : {}) });
  await herald.start();
  return {
    ...herald,
    email,
    sms,
    dataDir,
    auth: { authorization: `Bearer ${TEST_ADMIN_KEY}` },
    async keyFor(tenantId, role = 'admin') {
      await herald.tenancy.ensureTenant(tenantId, 'system:test');
      const { secret } = await herald.tenancy.createKey(
        { tenantId, actor: 'system:test' },
        { role, name: `test ${tenantId}` },
      );
      return { authorization: `Bearer ${secret}` };
    },
    async reserve(auth, overrides = {}) {
      const response = await herald.app.inject({
        method: 'POST',
        url: '/v1/reservations',
        headers: auth,
        payload: aReservation(overrides),
      });
      expect(response.statusCode).toBe(201);
      await herald.settle();
      return response.json().reservationId as string;
    },
    async codeOf(auth, reservationId) {
      const response = await herald.app.inject({
        method: 'GET',
        url: `/v1/reservations/${reservationId}`,
        headers: auth,
      });
      expect(response.statusCode).toBe(200);
      return response.json().code as string;
    },
  };
}

export function aReservation(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    customer: { name: 'Ada Lovelace', email: 'ada@example.com', phone: '+420777123456', locale: 'en-GB' },
    serviceName: 'Sauna',
    location: { name: 'Wellness Praha', address: 'Vodičkova 1, Praha', timeZone: 'Europe/Prague' },
    start: '2030-12-01T17:00:00Z',
    end: '2030-12-01T18:00:00Z',
    ...overrides,
  };
}
