import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** MongoDB URL for the integration suites; '' when no server could be reached or started. */
    mongodbUrl: string;
    /** Why `mongodbUrl` is empty (shown as the name of the skipped test). */
    mongodbUnavailableReason: string;
  }
}

/** The URL of the MongoDB server the global setup started or found in MONGODB_URL, or undefined when there is none. */
export function mongoUrlForTests(): string | undefined {
  const url = inject('mongodbUrl');
  return url === '' ? undefined : url;
}

export function mongoUnavailableReason(): string {
  return inject('mongodbUnavailableReason') || 'no MongoDB server';
}

/**
 * A database name of its own for one test file and run (pass `import.meta.url`), so that files running in
 * parallel, and runs sharing a real server through MONGODB_URL, never see each other's documents.
 */
export function uniqueDatabaseName(testFileUrl: string): string {
  const file = basename(fileURLToPath(testFileUrl))
    .replace(/\.(test|spec)\.[cm]?[jt]s$/, '')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .slice(0, 30);
  // MongoDB database names are limited to 63 bytes and may not contain . / \ " $ * < > : | ?
  return `herald_test_${file}_${randomBytes(6).toString('hex')}`;
}

/** Drops a test's database (see uniqueDatabaseName) over a connection of its own. */
export async function dropDatabase(url: string, database: string): Promise<void> {
  const client = await MongoClient.connect(url);
  try {
    await client.db(database).dropDatabase();
  } finally {
    await client.close();
  }
}
