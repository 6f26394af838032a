import { join } from 'node:path';
import { createTransport } from 'nodemailer';
import type { Clock } from '../../application/ports/clock.port.js';
import type { EmailSender } from '../../application/ports/email-sender.port.js';
import { outboxFileName, writeOutboxFile } from '../outbox-files.js';
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
    provider: 'outbox',
    async send(message) {
      const acceptedAt = options.clock.now();
      const info = await renderer.sendMail(composeMail(message, acceptedAt));
      const fileName = `${outboxFileName(message.idempotencyKey)}.eml`;
      await writeOutboxFile(dir, fileName, info.message as Buffer);
      return { providerMessageId: fileName, acceptedAt: acceptedAt.toISOString() };
    },
    async close() {},
  };
}
