import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CONFIG_ERROR_EXIT_CODE, ConfigError, loadConfig } from '../infrastructure/config.js';
import { asLoggerPort, createLogger } from '../infrastructure/logger.js';
import { createAdapters } from './adapters.js';
import { createHerald } from './herald.js';
import { systemClock } from '../infrastructure/system-clock.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(CONFIG_ERROR_EXIT_CODE);
    }
    throw error;
  }
  const pinoLogger = createLogger(config.LOG_LEVEL);
  const logger = asLoggerPort(pinoLogger);
  const adapters = await createAdapters(config, logger, systemClock);
  const herald = await createHerald({ config, adapters, logger, httpLogger: pinoLogger });
  await herald.start();

  const embedded = !config.EVENTSTORE_URL && !config.MONGODB_URL;
  if (!config.BOOTSTRAP_API_KEY && embedded) {
    // A development key, kept in the data directory so restarts keep it working. Never in production mode.
    const file = join(resolve(config.DATA_DIR), 'dev-api-key');
    let secret = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
    if (!secret || !(await herald.tenancy.authenticate(secret))?.principal) {
      await herald.tenancy.ensureTenant('default', 'system:dev-key');
      secret = (
        await herald.tenancy.createKey(
          { tenantId: 'default', actor: 'system:dev-key' },
          { role: 'admin', name: 'development' },
        )
      ).secret;
      writeFileSync(file, `${secret}\n`, { mode: 0o600 });
    }
    console.log(`Development API key (tenant "default", admin; also in ${file}):\n  ${secret}`);
  }

  await herald.app.listen({ port: config.PORT, host: config.HOST });
  logger.info(
    {
      backends: Object.entries(adapters.describe).map(([port, backend]) => `${port}=${backend}`),
      port: config.PORT,
      host: config.HOST,
    },
    'herald started',
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    await herald.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
