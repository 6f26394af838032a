import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { startMongoServer } from './mongo-server.js';
import type {} from './mongo.js'; // ProvidedContext keys

/**
 * Starts the real servers the integration suites need.
 *
 * MongoDB: MONGODB_URL when set (a real server), otherwise the mongo-java-server test server built from
 * test/support/mongo-server. When it cannot start, suites skip with the reason as the test name, except under
 * CI=true, where that is a failure of the whole run.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The pages (dist/web) are served by every Herald the tests start: build them from web/src first (esbuild, ~1 s),
  // so `npx vitest run` on a fresh clone tests the current front end, never a stale or missing build.
  execFileSync(process.execPath, [fileURLToPath(new URL('../../scripts/build-web.mjs', import.meta.url)), '--quiet'], {
    stdio: 'inherit',
  });
  const fromEnvironment = process.env.MONGODB_URL?.trim();
  if (fromEnvironment) {
    project.provide('mongodbUrl', fromEnvironment);
    project.provide('mongodbUnavailableReason', '');
    return async () => {};
  }

  try {
    const server = await startMongoServer({ log: (message) => console.warn(`[mongo-server] ${message}`) });
    const { built, buildMs } = server.startup;
    if (built) console.warn(`[mongo-server] built in ${buildMs} ms`);
    project.provide('mongodbUrl', server.url);
    project.provide('mongodbUnavailableReason', '');
    return () => server.stop();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (process.env.CI === 'true') {
      const hint = 'set MONGODB_URL or install Java 17 + Maven';
      throw new Error(`CI=true: the MongoDB test server could not be started (${hint}): ${message}`, { cause: error });
    }
    console.warn(`[mongo-server] MongoDB suites will be skipped: ${message}`);
    project.provide('mongodbUrl', '');
    project.provide(
      'mongodbUnavailableReason',
      `MongoDB test server unavailable (set MONGODB_URL, or install Java 17 + Maven): ${firstLine(message)}`,
    );
    return async () => {};
  }
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? text;
}
