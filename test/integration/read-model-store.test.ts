import { describe, it } from 'vitest';
import { createMongoReadModelStore } from '../../src/infrastructure/mongodb/mongo-read-model-store.js';
import { createSqliteReadModelStore } from '../../src/infrastructure/sqlite/sqlite-read-model-store.js';
import { dropDatabase, mongoUnavailableReason, mongoUrlForTests, uniqueDatabaseName } from '../support/mongo.js';
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
        await dropDatabase(mongoUrl, database);
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
