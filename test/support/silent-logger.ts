import type { Logger } from '../../src/application/ports/logger.port.js';

export function silentLogger(): Logger & { errors: unknown[] } {
  const errors: unknown[] = [];
  return {
    errors,
    info: () => undefined,
    warn: () => undefined,
    debug: () => undefined,
    error: (fields) => void errors.push(fields),
  };
}
