import { startMongoServer } from '../test/support/mongo-server.js';
import { runHerald, startServers } from './bench-support.js';

/**
 * One Herald phase alone, for `node --cpu-prof` (docs/benchmarks.md, "How the profiles were taken"):
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/profile.ts burst embedded 1000
 * Phases: `burst` (16 in flight) or `paced` (40/s); stores: `embedded` (HTTP intake) or `mongo` (command intake,
 * read models and Agenda on mongo-java-server).
 */
const [phase = 'burst', store = 'embedded', size = '1000'] = process.argv.slice(2);
const servers = await startServers();
const mongo = store === 'mongo' ? await startMongoServer() : undefined;
try {
  const result = await runHerald({
    label: `${store} ${phase}`,
    servers,
    count: Number(size),
    load: phase === 'paced' ? { ratePerSecond: 40 } : { concurrency: 16 },
    intake: store === 'mongo' ? 'command' : 'http',
    ...(mongo ? { mongodbUrl: mongo.url } : {}),
  });
  console.log(JSON.stringify(result, null, 1));
} finally {
  await mongo?.stop();
  await servers.close();
}
