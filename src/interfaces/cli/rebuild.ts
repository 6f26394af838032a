import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import type { EventStore } from '../../application/ports/event-store.port.js';
import type { ReadModelStore, StoredDocument } from '../../application/ports/read-model-store.port.js';
import { ensureNotificationAdminIndexes } from '../../application/notifications/notification-admin.js';
import { ensureProjectionIndexes, projectionConsumerName } from '../../application/projections/projection.js';
import { rebuildProjections } from '../../application/projections/projection-rebuild.js';
import { API_KEY_USAGE } from '../../application/tenancy/tenancy.js';
import { CHECKPOINTS, loadCheckpoint } from '../../application/subscriptions/checkpointed-subscriber.js';
import {
  CONFIG_ERROR_EXIT_CODE,
  ConfigError,
  isMongoDatabaseName,
  loadConfig,
  type Config,
} from '../../infrastructure/config.js';
import { createEventStoreDbEventStore } from '../../infrastructure/eventstoredb/eventstoredb-event-store.js';
import { asLoggerPort, createLogger } from '../../infrastructure/logger.js';
import { createMongoReadModelStore } from '../../infrastructure/mongodb/mongo-read-model-store.js';
import { createSqliteEventStore } from '../../infrastructure/sqlite/sqlite-event-store.js';
import { createSqliteReadModelStore } from '../../infrastructure/sqlite/sqlite-read-model-store.js';
import { PROJECTIONS } from '../herald.js';
import { createProgress, formatDuration, type ProgressOutput } from './progress.js';
import { verifyReadModels, type CollectionVerification } from './read-model-verification.js';

/** Exit codes of `npm run rebuild` (docs/operations.md). */
export const REBUILD_EXIT = {
  ok: 0,
  /** --verify: the rebuilt read models differ from the live ones. */
  differences: 1,
  /** Invalid settings or arguments: nothing was opened. */
  usage: CONFIG_ERROR_EXIT_CODE,
  /** The rebuild or the verification could not be done (a store unreachable, a target that is not fresh...). */
  failed: 3,
} as const;

const USAGE = `Usage: npm run rebuild -- [options]

Rebuilds every projection from the event store into a fresh read-model store (a new SQLite file, or a new
MongoDB database), with the settings Herald uses (DATA_DIR, EVENTSTORE_URL, MONGODB_URL, MONGODB_DATABASE).

  --target <path|database>  where to rebuild: a SQLite file that does not exist yet (default
                            DATA_DIR/read-models.rebuilt.sqlite) or, with MONGODB_URL, an empty database
                            (default <MONGODB_DATABASE>_rebuilt)
  --verify                  rebuild into a temporary store and compare it with the live read models: every
                            document that differs is named (collection, id, fields); exit 1 when any does
  --keep                    with --verify: keep the temporary store (its name is printed)
  --wait <seconds>          with --verify: how long live projections may take to reach the rebuilt position
                            (default 30)
  --batch-size <events>     events per read and per write transaction (default 5000)
  --json                    print the result as JSON on stdout
  --help

Exit codes: 0 done (no difference), 1 differences found, 2 invalid settings or arguments, 3 failed.`;

export interface CommandIo {
  readonly stdout: ProgressOutput;
  readonly stderr: ProgressOutput;
}

class UsageError extends Error {}
class CommandFailure extends Error {}

interface Arguments {
  readonly verify: boolean;
  readonly keep: boolean;
  readonly json: boolean;
  readonly target?: string;
  readonly waitSeconds: number;
  readonly batchSize: number;
}

function parseArguments(argv: readonly string[]): Arguments | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        verify: { type: 'boolean', default: false },
        keep: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        target: { type: 'string' },
        wait: { type: 'string', default: '30' },
        'batch-size': { type: 'string', default: '5000' },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values } = parsed;
  if (values.help) return 'help';
  const whole = (name: string, value: string, min: number, max: number) => {
    if (!/^\d{1,9}$/.test(value) || Number(value) < min || Number(value) > max)
      throw new UsageError(`--${name} must be a whole number from ${min} to ${max}`);
    return Number(value);
  };
  if (values.keep && !values.verify) throw new UsageError('--keep only goes with --verify');
  if (values.target !== undefined && values.target.trim() === '') throw new UsageError('--target must not be empty');
  return {
    verify: values.verify,
    keep: values.keep,
    json: values.json,
    ...(values.target !== undefined ? { target: values.target } : {}),
    waitSeconds: whole('wait', values.wait, 0, 86_400),
    batchSize: whole('batch-size', values['batch-size'], 100, 100_000),
  };
}

/** The stores the command works with, opened from Herald's own settings. */
interface Stores {
  readonly eventStore: EventStore;
  readonly describeEvents: string;
  /** The live read models, when there are any. */
  live(): Promise<ReadModelStore | undefined>;
  /** A fresh target; refused when it exists (and is not empty). */
  openTarget(name: string | undefined, purpose: 'rebuild' | 'verify'): Promise<Target>;
  close(): Promise<void>;
}

interface Target {
  readonly store: ReadModelStore;
  readonly describe: string;
  /** Deletes what the target holds (a temporary verification store). */
  remove(): Promise<void>;
}

async function openStores(config: Config): Promise<Stores> {
  const dataDir = resolve(config.DATA_DIR);
  const closers: (() => Promise<void>)[] = [];
  let eventStore: EventStore;
  let describeEvents: string;
  if (config.EVENTSTORE_URL) {
    const logger = asLoggerPort(createLogger('warn'));
    eventStore = createEventStoreDbEventStore({ connectionString: config.EVENTSTORE_URL, logger });
    describeEvents = 'eventstoredb';
  } else {
    const file = join(dataDir, 'events.sqlite');
    // Opening a missing file would create an empty event store and "rebuild" nothing.
    if (!existsSync(file)) throw new CommandFailure(`no event store at ${file} (DATA_DIR=${config.DATA_DIR})`);
    eventStore = createSqliteEventStore({ filename: file });
    describeEvents = `sqlite:${file}`;
  }
  closers.push(() => eventStore.close());
  await eventStore.ping();

  if (config.MONGODB_URL) {
    const client = new MongoClient(config.MONGODB_URL, { serverSelectionTimeoutMS: 10_000 });
    await client.connect();
    closers.push(() => client.close());
    const liveName = config.MONGODB_DATABASE;
    let live: ReadModelStore | undefined;
    return {
      eventStore,
      describeEvents,
      async live() {
        const collections = await client.db(liveName).listCollections({}, { nameOnly: true }).toArray();
        if (collections.length === 0) return undefined;
        live ??= await createMongoReadModelStore({ db: client.db(liveName) });
        return live;
      },
      async openTarget(name, purpose) {
        const database = name ?? `${liveName}_${purpose === 'verify' ? 'verify' : 'rebuilt'}`;
        if (!isMongoDatabaseName(database))
          throw new UsageError(
            `--target ${database}: not a MongoDB database name (1-63 characters, none of /\\. "$*<>:|?)`,
          );
        if (database === liveName)
          throw new UsageError(`--target ${database} is the live database (MONGODB_DATABASE): choose another`);
        const db = client.db(database);
        if ((await db.listCollections({}, { nameOnly: true }).toArray()).length > 0)
          throw new CommandFailure(`MongoDB database ${database} is not empty: drop it or choose another --target`);
        return {
          store: await createMongoReadModelStore({ db }),
          describe: `mongodb database ${database}`,
          remove: async () => void (await db.dropDatabase()),
        };
      },
      async close() {
        for (const close of closers.reverse()) await close().catch(() => undefined);
      },
    };
  }

  const liveFile = join(dataDir, 'read-models.sqlite');
  let live: ReadModelStore | undefined;
  return {
    eventStore,
    describeEvents,
    async live() {
      if (!existsSync(liveFile)) return undefined;
      live ??= createSqliteReadModelStore({ filename: liveFile });
      return live;
    },
    async openTarget(name, purpose) {
      const file = resolve(
        name ??
          join(
            dataDir,
            purpose === 'verify' ? `read-models.verify-${process.pid}.sqlite` : 'read-models.rebuilt.sqlite',
          ),
      );
      if (file === liveFile) throw new UsageError(`--target ${file} is the live read-model file: choose another`);
      if (existsSync(file)) throw new CommandFailure(`${file} exists: delete it or choose another --target`);
      const store = createSqliteReadModelStore({ filename: file });
      return {
        store,
        describe: `sqlite:${file}`,
        async remove() {
          await store.close();
          for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
        },
      };
    },
    async close() {
      await live?.close();
      for (const close of closers.reverse()) await close().catch(() => undefined);
    },
  };
}

/**
 * What the read-model store holds that is not derived from events, carried over into a rebuilt store so that
 * swapping it in loses nothing: the process managers' checkpoints (where they are in the log — without them they
 * would start over from the first event; harmless, as every intent is idempotent, but slow) and `api_key_usage`
 * (keys' last-use times). Copied at the end of the rebuild: a process manager that moves on before the swap sees
 * those events again, which its idempotency makes harmless.
 */
async function carryOver(
  live: ReadModelStore,
  target: ReadModelStore,
): Promise<{ checkpoints: number; usage: number }> {
  const projectionCheckpoints = new Set(PROJECTIONS.map(projectionConsumerName));
  const checkpoints = (await live.find<StoredDocument>(CHECKPOINTS, {}, { limit: 100_000 })).filter(
    (doc) => !projectionCheckpoints.has(doc._id) && !doc._id.startsWith('projection:'),
  );
  for (const doc of checkpoints) await target.put(CHECKPOINTS, doc);
  const usage = await live.find<StoredDocument>(API_KEY_USAGE, {}, { limit: 1_000_000 });
  for (const doc of usage) await target.put(API_KEY_USAGE, doc);
  return { checkpoints: checkpoints.length, usage: usage.length };
}

const mib = () => Math.round(process.resourceUsage().maxRSS / 1024);

/** `npm run rebuild`: returns the exit code (the entry point exits with it). */
export async function runRebuildCommand(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: CommandIo,
): Promise<number> {
  const say = (line: string) => io.stderr.write(`${line}\n`);
  let args: Arguments | 'help';
  let config: Config;
  try {
    args = parseArguments(argv);
    if (args === 'help') {
      io.stdout.write(`${USAGE}\n`);
      return REBUILD_EXIT.ok;
    }
    config = loadConfig(env);
  } catch (error) {
    if (error instanceof UsageError) {
      say(`rebuild: ${error.message}\n\n${USAGE}`);
      return REBUILD_EXIT.usage;
    }
    if (error instanceof ConfigError) {
      say(error.message);
      return REBUILD_EXIT.usage;
    }
    throw error;
  }

  let stores: Stores | undefined;
  let target: Target | undefined;
  let removeTarget = false;
  try {
    stores = await openStores(config);
    const live = await stores.live();
    if (args.verify && !live)
      throw new CommandFailure('no live read models to verify against (nothing in the read-model store)');
    target = await stores.openTarget(args.target, args.verify ? 'verify' : 'rebuild');
    removeTarget = args.verify && !args.keep && args.target === undefined;
    say(`rebuild: ${PROJECTIONS.length} projections from ${stores.describeEvents} into ${target.describe}`);

    // Indexes first: on an empty store they cost nothing, and the writes keep them (building them over a full store
    // afterwards re-read every document once per index).
    await ensureProjectionIndexes(target.store, PROJECTIONS);
    await ensureNotificationAdminIndexes(target.store);
    const head = await stores.eventStore.headPosition();
    const progress = createProgress(io.stderr, 'rebuild');
    const started = performance.now();
    const result = await rebuildProjections({
      eventStore: stores.eventStore,
      target: target.store,
      projections: PROJECTIONS,
      upTo: head,
      batchSize: args.batchSize,
      freshTarget: true,
      onProgress: (p) => progress.update(p.position, p.head, p.events),
    });
    progress.finish();
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? Math.round(result.events / seconds) : result.events;
    const summary = {
      mode: args.verify ? 'verify' : 'rebuild',
      target: target.describe,
      rebuiltAt: result.head.toString(),
      events: result.events,
      writes: result.writes,
      seconds: Number(seconds.toFixed(3)),
      eventsPerSecond: rate,
      peakRssMiB: mib(),
      // CPU seconds of this process so far (start-up included): on a shared machine, a rate that does not depend on
      // how many other processes were running.
      cpuSeconds: Number((process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6).toFixed(3)),
    };
    say(
      `rebuild: ${result.events.toLocaleString('en')} events up to position ${result.head} in ${formatDuration(seconds)} ` +
        `(${rate.toLocaleString('en')} events/s, ${result.writes.toLocaleString('en')} document writes, peak RSS ${summary.peakRssMiB} MiB)`,
    );

    if (!args.verify) {
      const carried = live ? await carryOver(live, target.store) : { checkpoints: 0, usage: 0 };
      say(
        live
          ? `rebuild: carried over ${carried.checkpoints} process-manager checkpoints and ${carried.usage} key-usage records from the live store`
          : 'rebuild: no live read models: process managers will start from the first event on this store (harmless, each intent is idempotent)',
      );
      say(`rebuild: done — ${target.describe} (swap it in as docs/operations.md describes)`);
      if (args.json) io.stdout.write(`${JSON.stringify({ ...summary, carriedOver: carried })}\n`);
      return REBUILD_EXIT.ok;
    }

    // Verification: the live projections must have reached the rebuilt position, or their lag looks like differences.
    const behind = await waitForLive(live!, result.head, args.waitSeconds);
    const comparable = PROJECTIONS.filter((projection) => !behind.has(projectionConsumerName(projection)));
    const reports = await verifyReadModels({
      live: live!,
      rebuilt: target.store,
      projections: comparable,
      rebuiltAt: result.head,
    });
    const differenceCount = reports.reduce((n, report) => n + report.differenceCount, 0);
    printReport(say, reports, behind, result.head);
    if (args.keep) say(`rebuild: the rebuilt store is kept: ${target.describe}`);
    if (args.json) {
      io.stdout.write(
        `${JSON.stringify({
          ...summary,
          differences: differenceCount,
          notCompared: Object.fromEntries([...behind].map(([name, at]) => [name, at?.toString() ?? null])),
          collections: reports,
        })}\n`,
      );
    }
    if (differenceCount > 0) return REBUILD_EXIT.differences;
    if (behind.size > 0) return REBUILD_EXIT.failed;
    return REBUILD_EXIT.ok;
  } catch (error) {
    if (error instanceof UsageError) {
      say(`rebuild: ${error.message}`);
      return REBUILD_EXIT.usage;
    }
    say(`rebuild: failed: ${error instanceof Error ? error.message : String(error)}`);
    if (target && !args.verify) say(`rebuild: ${target.describe} is incomplete: delete it before trying again`);
    removeTarget = removeTarget || (target !== undefined && args.verify && args.target === undefined);
    return REBUILD_EXIT.failed;
  } finally {
    if (target && removeTarget) await target.remove().catch(() => undefined);
    else await target?.store.close().catch(() => undefined);
    await stores?.close();
  }
}

/** Projections whose live checkpoint has not reached `position` within the wait, with where they are. */
async function waitForLive(
  live: ReadModelStore,
  position: bigint,
  waitSeconds: number,
): Promise<Map<string, bigint | undefined>> {
  const deadline = Date.now() + waitSeconds * 1000;
  for (;;) {
    const behind = new Map<string, bigint | undefined>();
    for (const projection of PROJECTIONS) {
      const name = projectionConsumerName(projection);
      const at = await loadCheckpoint(live, name);
      if (at === undefined || at < position) behind.set(name, at);
    }
    if (behind.size === 0 || Date.now() >= deadline) return behind;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function printReport(
  say: (line: string) => void,
  reports: readonly CollectionVerification[],
  behind: ReadonlyMap<string, bigint | undefined>,
  rebuiltAt: bigint,
): void {
  for (const report of reports) {
    const same = report.differenceCount === 0;
    say(
      `verify: ${report.collection}: ${report.compared.toLocaleString('en')} documents, ` +
        `digest ${report.rebuiltDigest.slice(0, 16)} ${same ? '=' : '≠'} live ${report.liveDigest.slice(0, 16)}` +
        (report.skipped > 0 ? `, ${report.skipped} changed live after position ${rebuiltAt} (not compared)` : '') +
        (same ? ' — same' : ` — ${report.differenceCount} differ`),
    );
    for (const difference of report.differences) {
      const what =
        difference.kind === 'only-rebuilt'
          ? 'missing in the live store'
          : difference.kind === 'only-live'
            ? 'in the live store only (the events do not produce it)'
            : `fields ${difference.fields.join(', ')}`;
      say(`verify:   ${difference.collection} ${difference.id}: ${what}`);
    }
    if (report.differenceCount > report.differences.length)
      say(`verify:   ... and ${report.differenceCount - report.differences.length} more in ${report.collection}`);
  }
  for (const [name, at] of behind) {
    say(
      `verify: ${name}: not compared — the live projection is at ${at === undefined ? 'no checkpoint' : `position ${at}`}, ` +
        `the rebuild at ${rebuiltAt} (let Herald catch up, then verify again)`,
    );
  }
  const total = reports.reduce((n, report) => n + report.differenceCount, 0);
  say(
    total === 0 && behind.size === 0
      ? `verify: no difference: the live read models are what the events produce (up to position ${rebuiltAt})`
      : total > 0
        ? `verify: ${total} documents differ`
        : `verify: ${behind.size} projections could not be compared`,
  );
}
