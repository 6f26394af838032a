import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/**
 * Builds (when needed) and starts the test-only MongoDB wire-protocol server in test/support/mongo-server
 * (mongo-java-server, see docs/decisions/0003-mongodb-wire-server-for-tests.md). Needs Java 17+ and Maven on PATH;
 * everything else is downloaded from Maven Central on the first build.
 */

export interface MongoServerHandle {
  readonly url: string;
  /** How the jar was obtained and how long start-up took, for the setup log. */
  readonly startup: { readonly built: boolean; readonly buildMs: number; readonly startMs: number };
  stop(): Promise<void>;
}

export interface StartMongoServerOptions {
  /** Progress messages (a cold build takes a while). Defaults to silence. */
  readonly log?: (message: string) => void;
  readonly startTimeoutMs?: number;
}

const here = dirname(fileURLToPath(import.meta.url));
const projectDir = join(here, 'mongo-server');
const repoRoot = resolve(here, '..', '..');
const cacheDir = join(repoRoot, '.cache', 'mongo-server');

export async function startMongoServer(options: StartMongoServerOptions = {}): Promise<MongoServerHandle> {
  const log = options.log ?? (() => {});
  const buildStarted = performance.now();
  const { jar, built } = await ensureJar(log);
  const buildMs = Math.round(performance.now() - buildStarted);

  const startStarted = performance.now();
  const child = spawn('java', ['-Xmx512m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-jar', jar, '0'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const port = await waitForListening(child, options.startTimeoutMs ?? 60_000);
  const startMs = Math.round(performance.now() - startStarted);

  return {
    url: `mongodb://127.0.0.1:${port}/?directConnection=true`,
    startup: { built, buildMs, startMs },
    stop: () => stopChild(child),
  };
}

/** Returns the jar for the current sources, building it only when no jar exists for their hash. */
async function ensureJar(log: (message: string) => void): Promise<{ jar: string; built: boolean }> {
  const hash = await hashSources();
  const jar = join(cacheDir, `herald-mongo-server-${hash}.jar`);
  if (existsSync(jar)) return { jar, built: false };

  await mkdir(cacheDir, { recursive: true });
  // A private build directory per run: concurrent test runs in the same tree never share Maven's output.
  const buildDir = join(cacheDir, `build-${process.pid}-${randomUUID().slice(0, 8)}`);
  const resolvedMarker = join(cacheDir, `resolved-${await hashFile(join(projectDir, 'pom.xml'))}`);
  const args = ['-q', '-B', '-f', join(projectDir, 'pom.xml'), `-Dherald.buildDirectory=${buildDir}`, 'package'];
  try {
    let offlineWorked = false;
    if (existsSync(resolvedMarker)) {
      log('building the MongoDB test server offline (dependencies already resolved)');
      offlineWorked = await runMaven(['-o', ...args]).then(
        () => true,
        () => false,
      );
    }
    if (!offlineWorked) {
      log('building the MongoDB test server (first build downloads mongo-java-server from Maven Central)');
      await runMaven(args);
      await writeFile(resolvedMarker, new Date().toISOString() + '\n');
    }
    // Atomic within .cache: a concurrent run sees either no jar or a complete one.
    await rename(join(buildDir, 'herald-mongo-server.jar'), jar);
  } finally {
    await rm(buildDir, { recursive: true, force: true });
  }
  return { jar, built: true };
}

async function hashSources(): Promise<string> {
  const files = [join(projectDir, 'pom.xml'), ...(await listFiles(join(projectDir, 'src')))].sort();
  const hash = createHash('sha256');
  for (const file of files) {
    hash
      .update(relative(projectDir, file))
      .update('\0')
      .update(await readFile(file))
      .update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

async function hashFile(file: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(file))
    .digest('hex')
    .slice(0, 16);
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) =>
      entry.isDirectory() ? listFiles(join(dir, entry.name)) : Promise.resolve([join(dir, entry.name)]),
    ),
  );
  return nested.flat();
}

function runMaven(args: string[]): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('mvn', args, { cwd: projectDir, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-8_000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (error) => reject(new Error(`cannot run Maven (mvn): ${error.message}`, { cause: error })));
    child.on('close', (code) => {
      if (code === 0) resolvePromise();
      else reject(new Error(`mvn ${args.join(' ')} exited with ${code}:\n${output}`));
    });
  });
}

function waitForListening(child: ChildProcessWithoutNullStreams, timeoutMs: number): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    let settled = false;
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-8_000);
    });
    const fail = (message: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${message}${stderr ? `\n${stderr}` : ''}`));
    };
    const timer = setTimeout(
      () => fail(`the MongoDB test server did not report LISTENING within ${timeoutMs} ms`),
      timeoutMs,
    );
    child.on('error', (error) => fail(`cannot run java: ${error.message}`));
    child.on('exit', (code, signal) => fail(`the MongoDB test server exited before listening (${signal ?? code})`));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const match = /^LISTENING (\d+)$/.exec(line.trim());
      if (!match || settled) return;
      settled = true;
      clearTimeout(timer);
      resolvePromise(Number(match[1]));
    });
  });
}

/** Closing stdin asks the server to exit; a server that does not within 5 s is killed (by its own pid only). */
function stopChild(child: ChildProcessWithoutNullStreams): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolvePromise) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolvePromise();
    });
    child.stdin.end();
  });
}
