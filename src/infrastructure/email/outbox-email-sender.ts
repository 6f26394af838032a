import { createHash, randomUUID } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createTransport } from 'nodemailer';
import type { Clock } from '../../application/ports/clock.port.js';
import { DeliveryError, type EmailSender } from '../../application/ports/email-sender.port.js';
import { composeMail } from './smtp-email-sender.js';

export interface OutboxEmailSenderOptions {
  /** The outbox root (`$DATA_DIR/outbox`); emails go to `<dir>/email/<key>.eml`. */
  readonly dir: string;
  readonly clock: Clock;
}

/**
 * Embedded-mode email: each message is rendered exactly as the SMTP adapter would send it (same MIME, same
 * Message-ID) and written as an .eml file any mail client or `mailparser` can open.
 */
export function createOutboxEmailSender(options: OutboxEmailSenderOptions): EmailSender {
  const dir = join(options.dir, 'email');
  // LF line endings: the file is for people and tools on this machine, not for the wire.
  const renderer = createTransport({ streamTransport: true, buffer: true, newline: 'unix' });

  return {
    channel: 'email',
    async send(message) {
      const acceptedAt = options.clock.now();
      const info = await renderer.sendMail(composeMail(message, acceptedAt));
      const fileName = `${outboxFileName(message.idempotencyKey)}.eml`;
      try {
        await mkdir(dir, { recursive: true });
        await writeFileAtomically(join(dir, fileName), info.message as Buffer);
      } catch (err) {
        // A full or read-only disk may be fixed by the time of the next attempt.
        throw Object.assign(new DeliveryError(`outbox write failed: ${(err as Error).message}`, true), { cause: err });
      }
      return { providerMessageId: fileName, acceptedAt: acceptedAt.toISOString() };
    },
    async close() {},
  };
}

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
