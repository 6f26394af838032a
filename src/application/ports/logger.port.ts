/**
 * Structured logger port (fastify's pino logger satisfies it). Never pass secrets or personal data
 * (emails, phone numbers, names, message bodies) in the fields: log ids instead.
 */
export interface Logger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
  debug(fields: Record<string, unknown>, message: string): void;
}
