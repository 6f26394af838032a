import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/application/ports/clock.port.js';
import type { LeaseStore } from '../../src/application/ports/lease-store.port.js';
import { createMongoLeaseStore } from '../../src/infrastructure/mongodb/mongo-lease-store.js';
import { createSqliteLeaseStore } from '../../src/infrastructure/sqlite/sqlite-lease-store.js';
import { dropDatabase, mongoUnavailableReason, mongoUrlForTests, uniqueDatabaseName } from '../support/mongo.js';

/** A clock the test moves by hand. */
const movableClock = () => {
  let at = Date.UTC(2030, 0, 1);
  return { clock: { now: () => new Date(at) } satisfies Clock, move: (ms: number) => (at += ms) };
};

interface Subject {
  /** Two handles on the same store, as two processes would have. */
  readonly stores: readonly [LeaseStore, LeaseStore];
  dispose(): Promise<void>;
}

function leaseStoreContract(name: string, factory: (clock: Clock) => Promise<Subject>): void {
  describe(`LeaseStore contract: ${name}`, () => {
    const time = movableClock();
    let subject: Subject | undefined;
    let counter = 0;
    const fresh = () => `lease-${++counter}`;
    const a = () => subject!.stores[0];
    const b = () => subject!.stores[1];

    beforeAll(async () => {
      subject = await factory(time.clock);
    });
    afterAll(async () => {
      await subject?.dispose();
    });

    it('gives a free lease to the first asker and refuses it to another until it runs out', async () => {
      const lease = fresh();
      expect(await a().acquire(lease, 'one', 5_000)).toBe(true);
      expect(await b().acquire(lease, 'two', 5_000)).toBe(false);
      expect(await b().holder(lease)).toMatchObject({ owner: 'one' });
      time.move(4_000);
      expect(await a().acquire(lease, 'one', 5_000)).toBe(true); // renewed: runs out 5 s from now
      time.move(4_000);
      expect(await b().acquire(lease, 'two', 5_000)).toBe(false);
      time.move(1_001);
      expect(await b().holder(lease)).toBeNull();
      expect(await b().acquire(lease, 'two', 5_000)).toBe(true);
      expect(await a().acquire(lease, 'one', 5_000)).toBe(false);
    });

    it('frees a released lease at once, and only its holder can release it', async () => {
      const lease = fresh();
      await a().acquire(lease, 'one', 60_000);
      await b().release(lease, 'two');
      expect(await b().acquire(lease, 'two', 60_000)).toBe(false);
      await a().release(lease, 'one');
      expect(await a().holder(lease)).toBeNull();
      expect(await b().acquire(lease, 'two', 60_000)).toBe(true);
    });

    it('lets exactly one of many simultaneous askers have it', async () => {
      const lease = fresh();
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) => (i % 2 ? a() : b()).acquire(lease, `owner-${i}`, 5_000)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results.indexOf(true);
      expect(await a().holder(lease)).toMatchObject({ owner: `owner-${winner}` });
    });
  });
}

leaseStoreContract('sqlite (one file, two connections)', async (clock) => {
  const dir = await mkdtemp(join(tmpdir(), 'herald-leases-'));
  const filename = join(dir, 'agenda.sqlite');
  const stores = [createSqliteLeaseStore({ filename, clock }), createSqliteLeaseStore({ filename, clock })] as const;
  return {
    stores,
    async dispose() {
      for (const store of stores) await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

const mongoUrl = mongoUrlForTests();
if (mongoUrl !== undefined) {
  leaseStoreContract('mongodb (two clients)', async (clock) => {
    const database = uniqueDatabaseName(import.meta.url);
    const clients = [new MongoClient(mongoUrl), new MongoClient(mongoUrl)];
    for (const client of clients) await client.connect();
    const stores = [
      createMongoLeaseStore({ db: clients[0]!.db(database), clock }),
      createMongoLeaseStore({ db: clients[1]!.db(database), clock }),
    ] as const;
    return {
      stores,
      async dispose() {
        for (const client of clients) await client.close();
        await dropDatabase(mongoUrl, database);
      },
    };
  });
} else {
  describe('LeaseStore contract: mongodb', () => {
    it.skipIf(process.env.CI !== 'true')(`skipped: ${mongoUnavailableReason()}`, () => {
      throw new Error(`CI=true requires MongoDB: ${mongoUnavailableReason()}`);
    });
  });
}
