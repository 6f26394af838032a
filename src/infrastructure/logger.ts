import { pino, type Logger as Pino } from 'pino';
import type { Logger } from '../application/ports/logger.port.js';

/**
 * Structured JSON logs. Paths that could carry secrets or personal data are redacted as a second line of defence;
 * the first is never to log them.
 */
export function createLogger(level: string): Pino {
  return pino({
    level,
    serializers: {
      // The path only: query strings can carry an email address or a phone number (customer lookup).
      req: (req: { id?: unknown; method?: string; url?: string }) => ({
        id: req.id,
        method: req.method,
        // A customer's page link is their key: its token is not logged.
        url: req.url?.split('?')[0]?.replace(/^\/my\/[^/]+/, '/my/(token)'),
      }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
    },
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers["x-api-key"]',
        'req.headers.cookie',
        '*.email',
        '*.phone',
        '*.address',
        '*.secret',
        '*.authToken',
      ],
      censor: '[redacted]',
    },
  });
}

export function asLoggerPort(logger: Pino): Logger {
  return {
    info: (fields, message) => logger.info(fields, message),
    warn: (fields, message) => logger.warn(fields, message),
    error: (fields, message) => logger.error(fields, message),
    debug: (fields, message) => logger.debug(fields, message),
  };
}
