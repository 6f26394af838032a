import { createHash, randomUUID } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DeliveryError } from '../application/ports/email-sender.port.js';

/**
 * A file name per idempotency key, so a resend replaces the file instead of adding one. Percent-encoding keeps
 * distinct keys distinct; keys too long for a file name fall back to their SHA-256.
 */
export function outboxFileName(idempotencyKey: string): string {
  const encoded = idempotencyKey.replace(/[^A-Za-z0-9_-]/gu, (c) =>
    [...Buffer.from(c, 'utf8')].map((b) => '%' + b.toString(16).toUpperCase().padStart(2, '0')).join(''),
  );
  return encoded.length <= 200 ? encoded : createHash('sha256').update(idempotencyKey).digest('hex');
}

/** Temp file + fsync + rename: a reader (or a crash) sees the old file or the new one, never half of one. */
export async function writeFileAtomically(path: string, content: Buffer | string): Promise<void> {
  const temp = `${path}.${randomUUID()}.tmp`;
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/** Writes one outbox message atomically; a failed write is a retryable DeliveryError. */
export async function writeOutboxFile(dir: string, fileName: string, content: Buffer | string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    await writeFileAtomically(join(dir, fileName), content);
  } catch (err) {
    // A full or read-only disk may be fixed by the time of the next attempt.
    throw Object.assign(new DeliveryError(`outbox write failed: ${(err as Error).message}`, true), { cause: err });
  }
}
