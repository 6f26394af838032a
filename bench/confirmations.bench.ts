import { startMongoServer, type MongoServerHandle } from '../test/support/mongo-server.js';
import { comparisonTable, runBaseline, runHerald, type Servers } from './bench-support.js';

/**
 * (b) Confirmations per second through the notification engine: ReservationConfirmed appended by the command
 * handler (no HTTP), read models and Agenda on MongoDB (MONGODB_URL, else the mongo-java-server test server;
 * SQLite when neither can run), email to the SMTP server, SMS through the twilio SDK to the stand-in.
 */
export async function confirmationsBench(
  servers: Servers,
  sizes = { paced: 200, rate: 40, burst: 1000 },
): Promise<string> {
  let mongo: MongoServerHandle | undefined;
  let mongodbUrl = process.env.MONGODB_URL?.trim() || undefined;
  let store = mongodbUrl ? 'MongoDB (MONGODB_URL)' : 'MongoDB (mongo-java-server, in-memory)';
  if (!mongodbUrl) {
    try {
      mongo = await startMongoServer();
      mongodbUrl = mongo.url;
    } catch (error) {
      store = `SQLite (no MongoDB: ${error instanceof Error ? error.message.split('\n', 1)[0] : String(error)})`;
    }
  }
  try {
    const common = { servers, intake: 'command' as const, ...(mongodbUrl ? { mongodbUrl } : {}) };
    const paced = await runHerald({
      ...common,
      label: `engine, paced ${sizes.rate}/s`,
      count: sizes.paced,
      load: { ratePerSecond: sizes.rate },
    });
    const pacedBaseline = await runBaseline({
      label: 'direct sends',
      servers,
      count: sizes.paced,
      load: { ratePerSecond: sizes.rate },
    });
    const burst = await runHerald({ ...common, label: 'engine, burst', count: sizes.burst, load: { concurrency: 16 } });
    const burstBaseline = await runBaseline({
      label: 'direct sends',
      servers,
      count: sizes.burst,
      load: { concurrency: 16 },
    });
    return [
      `### (b) Confirmations through the notification engine — read models and Agenda on ${store}`,
      '',
      comparisonTable(paced, pacedBaseline),
      '',
      comparisonTable(burst, burstBaseline),
    ].join('\n');
  } finally {
    await mongo?.stop();
  }
}
