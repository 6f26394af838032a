import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../../application/ports/clock.port.js';
import type { SentSms, SmsMessage, SmsSender } from '../../application/ports/sms-sender.port.js';
import { outboxFileName, writeOutboxFile } from '../outbox-files.js';

export interface OutboxSmsSenderOptions {
  /** The outbox root (`$DATA_DIR/outbox`); messages go to `<dir>/sms/<key>.json`. */
  readonly dir: string;
  readonly clock: Clock;
}

/** What an outbox SMS file holds: the message as sent plus when it was accepted. */
export interface OutboxSms extends SmsMessage {
  readonly providerMessageId: string;
  readonly acceptedAt: string;
}

/** Embedded-mode SMS: one JSON file per idempotency key, so a resend replaces the file instead of adding one. */
export function createOutboxSmsSender(options: OutboxSmsSenderOptions): SmsSender {
  const dir = join(options.dir, 'sms');

  return {
    channel: 'sms',
    provider: 'outbox',
    async send(message) {
      const providerMessageId = `${outboxFileName(message.idempotencyKey)}.json`;
      const record: OutboxSms = { ...message, providerMessageId, acceptedAt: options.clock.now().toISOString() };
      await writeOutboxFile(dir, providerMessageId, JSON.stringify(record, null, 2) + '\n');
      return { providerMessageId, acceptedAt: record.acceptedAt };
    },
    async findSent(to, since) {
      let names: string[];
      try {
        names = (await readdir(dir)).filter((name) => name.endsWith('.json'));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw err;
      }
      const records = await Promise.all(
        names.map(async (name) => JSON.parse(await readFile(join(dir, name), 'utf8')) as OutboxSms),
      );
      return records
        .filter((r) => r.to === to && Date.parse(r.acceptedAt) >= since.getTime())
        .map((r): SentSms => ({
          providerMessageId: r.providerMessageId,
          to: r.to,
          body: r.body,
          acceptedAt: r.acceptedAt,
        }));
    },
    async close() {},
  };
}
