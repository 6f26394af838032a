import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { outcomeOfError } from '../../application/channels/sender-channels.js';
import type { ChannelAdapter } from '../../application/ports/channel.port.js';
import type { Clock } from '../../application/ports/clock.port.js';
import type { Channel } from '../../domain/notification/index.js';
import { outboxFileName, writeOutboxFile } from '../outbox-files.js';

/**
 * Embedded mode for the channels without a provider configured (WhatsApp, Telegram): one JSON file per delivery
 * under `<dir>/<channel>/`, named by the idempotency key, so a retransmission replaces the file — exactly once, and
 * it can say so after a crash (`findAccepted`).
 */
export function createOutboxChannel(options: { channel: Channel; dir: string; clock: Clock }): ChannelAdapter {
  const dir = join(options.dir, options.channel);
  return {
    channel: options.channel,
    provider: 'outbox',
    async send(message) {
      const providerMessageId = `${outboxFileName(message.idempotencyKey)}.json`;
      const acceptedAt = options.clock.now().toISOString();
      const record = { to: message.to, content: message.content, providerMessageId, acceptedAt };
      try {
        await writeOutboxFile(dir, providerMessageId, JSON.stringify(record, null, 2) + '\n');
      } catch (error) {
        return outcomeOfError(error);
      }
      return { outcome: 'accepted', providerMessageId, acceptedAt };
    },
    async findAccepted(message) {
      const providerMessageId = `${outboxFileName(message.idempotencyKey)}.json`;
      try {
        const record = JSON.parse(await readFile(join(dir, providerMessageId), 'utf8')) as { acceptedAt: string };
        return { providerMessageId, acceptedAt: record.acceptedAt };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
    async close() {},
  };
}
