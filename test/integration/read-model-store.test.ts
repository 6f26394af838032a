import { MongoClient } from 'mongodb';
import { describe, it } from 'vitest';
import { createMongoReadModelStore } from '../../src/infrastructure/mongodb/mongo-read-model-store.js';
import { createSqliteReadModelStore } from '../../src/infrastructure/sqlite/sqlite-read-model-store.js';
import { mongoUnavailableReason, mongoUrlForTests, uniqueDatabaseName } from '../support/mongo.js';
import { readModelStoreContract } from './read-model-store.contract.js';

readModelStoreContract('sqlite (:memory:)', async () => {
  const store = createSqliteReadModelStore({ filename: ':memory:' });
  return { store, dispose: () => store.close() };
});

const mongoUrl = mongoUrlForTests();
if (mongoUrl !== undefined) {
  readModelStoreContract('mongodb', async () => {
    const database = uniqueDatabaseName(import.meta.url);
    const store = await createMongoReadModelStore({ url: mongoUrl, database });
    return {
      store,
      async dispose() {
        await store.close();
        const client = await MongoClient.connect(mongoUrl);
        try {
          await client.db(database).dropDatabase();
        } finally {
          await client.close();
        }
      },
    };
  });
} else {
  describe('ReadModelStore contract: mongodb', () => {
    // Global setup already failed the run under CI=true; this keeps the skip visible everywhere else.
    it.skipIf(process.env.CI !== 'true')(`skipped: ${mongoUnavailableReason()}`, () => {
      throw new Error(`CI=true requires MongoDB: ${mongoUnavailableReason()}`);
    });
  });
}
