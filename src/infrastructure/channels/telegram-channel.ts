import type { ChannelAdapter } from '../../application/ports/channel.port.js';
import type { Clock } from '../../application/ports/clock.port.js';
import { errorOutcome, joinUrl, jsonOf, request } from './http-channel.js';

export const TELEGRAM_API_URL = 'https://api.telegram.org';
/** sendMessage: "Text of the message to be sent, 1-4096 characters after entities parsing". */
export const TELEGRAM_TEXT_LIMIT = 4096;

export interface TelegramOptions {
  /** `123456789:AA…` from @BotFather. Travels in the URL path, so it never appears in a log line of ours. */
  readonly botToken: string;
  /** Default https://api.telegram.org (a self-hosted Bot API server or the stand-in otherwise). */
  readonly apiUrl?: string;
  readonly clock: Clock;
  readonly timeoutMs?: number;
}

interface TelegramAnswer {
  readonly ok?: boolean;
  readonly result?: { readonly message_id?: number; readonly chat?: { readonly id?: number } };
  readonly error_code?: number;
  readonly description?: string;
  readonly parameters?: { readonly retry_after?: number; readonly migrate_to_chat_id?: number };
}

/**
 * Telegram Bot API `sendMessage` to the customer's chat id (how Herald learns it: docs/channels.md, "Telegram"). Plain
 * text, no parse_mode, so nothing in a customer's name can turn into markup. The provider id is `<chat>:<message_id>`
 * (message ids are per chat). Telegram has no delivery receipts: a message ends at `sent`.
 *
 * Errors come as `{ ok: false, error_code, description, parameters }`: 429 with `parameters.retry_after` seconds
 * (retryable, honoured), 5xx retryable, 400 "chat not found" / 403 "bot was blocked by the user" permanent.
 */
export function createTelegramChannel(options: TelegramOptions): ChannelAdapter {
  const base = options.apiUrl ?? TELEGRAM_API_URL;
  const timeoutMs = options.timeoutMs ?? 30_000;
  return {
    channel: 'telegram',
    provider: 'telegram',
    async send(message) {
      const text = message.content.text;
      if ([...text].length > TELEGRAM_TEXT_LIMIT) {
        return { outcome: 'permanent', reason: `the text is longer than Telegram's ${TELEGRAM_TEXT_LIMIT} characters` };
      }
      const result = await request(
        joinUrl(base, `/bot${options.botToken}/sendMessage`),
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            chat_id: /^-?\d+$/.test(message.to) ? Number(message.to) : message.to,
            text,
            link_preview_options: { is_disabled: true },
          }),
        },
        timeoutMs,
        'Telegram',
      );
      if (!result.ok) return result.outcome;
      const { answer } = result;
      const body = jsonOf(answer) as TelegramAnswer | undefined;
      const now = options.clock.now();
      if (answer.status === 200 && body?.ok === true && typeof body.result?.message_id === 'number') {
        return {
          outcome: 'accepted',
          providerMessageId: `${body.result.chat?.id ?? message.to}:${body.result.message_id}`,
          acceptedAt: now.toISOString(),
        };
      }
      const code = body?.error_code ?? answer.status;
      const retryAfter = body?.parameters?.retry_after;
      return errorOutcome(
        answer,
        now,
        `Telegram ${code}: ${body?.description ?? 'refused'}`.slice(0, 400),
        String(code),
        typeof retryAfter === 'number' && retryAfter >= 0 ? retryAfter * 1000 : undefined,
      );
    },
    async close() {},
  };
}
