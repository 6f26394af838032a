import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { describe, expect, it } from 'vitest';
import type { Scheduler } from '../../src/application/ports/scheduler.port.js';
import {
  createAgendaScheduler,
  type AgendaSchedulerOptions,
} from '../../src/infrastructure/agenda/agenda-scheduler.js';
import { createMongoAgendaBackend } from '../../src/infrastructure/agenda/mongo-agenda-backend.js';
import { createSqliteAgendaBackend } from '../../src/infrastructure/agenda/sqlite-agenda-backend.js';
import { mongoUnavailableReason, mongoUrlForTests, uniqueDatabaseName } from '../support/mongo.js';
import { silentLogger } from '../support/silent-logger.js';
import { schedulerContract, type SchedulerStore } from './scheduler.contract.js';

/** Fast polling and retries; a lock lifetime far above the test timeout, so a lock left behind fails a test. */
const TEST_SETTINGS = {
  processEvery: 100,
  retry: { initialDelayMs: 50, maxDelayMs: 1_000 },
  lockLifetimeMs: 120_000,
  drainTimeoutMs: 10_000,
} satisfies Partial<AgendaSchedulerOptions>;

/** Opens schedulers on one store, stops them all on dispose and fails the test if any logged an error. */
function storeOf(
  openBackend: () => Promise<AgendaSchedulerOptions['backend']>,
  deleteStore: () => Promise<void>,
): SchedulerStore {
  const logger = silentLogger();
  const opened: Scheduler[] = [];
  return {
    async open() {
      const scheduler = await createAgendaScheduler({ backend: await openBackend(), logger, ...TEST_SETTINGS });
      opened.push(scheduler);
      return scheduler;
    },
    async dispose() {
      await Promise.all(opened.map((s) => s.stop()));
      await deleteStore();
      expect(logger.errors).toEqual([]);
    },
  };
}

schedulerContract('Agenda on SQLite (file)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'herald-scheduler-'));
  const file = join(dir, 'agenda.sqlite');
  return storeOf(
    async () => createSqliteAgendaBackend({ database: file }),
    () => rm(dir, { recursive: true, force: true }),
  );
});

const mongoUrl = mongoUrlForTests();
if (mongoUrl !== undefined) {
  schedulerContract('Agenda on MongoDB', async () => {
    const dbName = uniqueDatabaseName(import.meta.url);
    const clients: MongoClient[] = [];
    return storeOf(
      async () => {
        // A client per instance, as separate processes would have.
        const client = await MongoClient.connect(mongoUrl);
        clients.push(client);
        return createMongoAgendaBackend({ db: client.db(dbName) });
      },
      async () => {
        await clients[0]?.db(dbName).dropDatabase();
        await Promise.all(clients.map((c) => c.close()));
      },
    );
  });
} else {
  describe('Scheduler contract: Agenda on MongoDB', () => {
    // Global setup already failed the run under CI=true; this keeps the skip visible everywhere else.
    it.skipIf(process.env.CI !== 'true')(`skipped: ${mongoUnavailableReason()}`, () => {
      throw new Error(`CI=true requires MongoDB: ${mongoUnavailableReason()}`);
    });
  });
}

describe('SQLite Agenda backend', () => {
  it('works on an in-memory database', async () => {
    const logger = silentLogger();
    const scheduler = await createAgendaScheduler({
      backend: createSqliteAgendaBackend({ database: ':memory:' }),
      logger,
      ...TEST_SETTINGS,
    });
    const ran: string[] = [];
    await scheduler.start(async (job) => void ran.push(job.key));
    await scheduler.schedule({ name: 'hold.expired', key: 'h1', runAt: new Date(), tenantId: 't', data: {} });

    const deadline = Date.now() + 5_000;
    while (ran.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await scheduler.stop();

    expect(ran).toEqual(['h1']);
    expect(logger.errors).toEqual([]);
  });
});
