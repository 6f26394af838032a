import { startHttpStandIn, type HttpStandIn, type StandInAnswer } from './http-stand-in.js';

/**
 * A stand-in for the Telegram Bot API's `sendMessage` (https://core.telegram.org/bots/api#sendmessage). Telegram
 * publishes no machine-readable schema; the stand-in checks the documented fields: the token in the path
 * (`/bot<token>/sendMessage`, 401 otherwise), a JSON body (or form), only the parameters the method documents,
 * `chat_id` Integer or String, `text` 1-4096 characters, `link_preview_options` an object. Answers use the
 * documented envelope `{ ok, result }` / `{ ok: false, error_code, description, parameters }`, with 429 carrying
 * `parameters.retry_after`. A chat exists once its user pressed Start (`startChat`); 400 "chat not found" else,
 * 403 "bot was blocked by the user" after `blockChat`. `sendUpdate` posts an update to Herald's webhook with the
 * `X-Telegram-Bot-Api-Secret-Token` header, as setWebhook's secret_token makes Telegram do.
 */

const SEND_MESSAGE_PARAMETERS = new Set([
  'business_connection_id',
  'chat_id',
  'message_thread_id',
  'direct_messages_topic_id',
  'text',
  'parse_mode',
  'entities',
  'link_preview_options',
  'disable_notification',
  'protect_content',
  'allow_paid_broadcast',
  'message_effect_id',
  'suggested_post_parameters',
  'reply_parameters',
  'reply_markup',
]);

export interface TelegramMessage {
  readonly chatId: number;
  readonly messageId: number;
  readonly text: string;
  readonly body: Record<string, unknown>;
}

export interface TelegramStandIn extends HttpStandIn {
  readonly botToken: string;
  readonly messages: readonly TelegramMessage[];
  /** Requests that broke the documented contract (the suites expect none). */
  readonly violations: readonly string[];
  startChat(chatId: number): void;
  blockChat(chatId: number): void;
  waitForMessages(count: number, timeoutMs?: number): Promise<TelegramMessage[]>;
  /** Posts `/start <payload>` from a private chat to a webhook URL; resolves with the HTTP status answered. */
  sendStart(url: string, chatId: number, payload: string, secretToken: string | undefined): Promise<number>;
}

export async function startTelegramStandIn(options: { botToken: string }): Promise<TelegramStandIn> {
  const messages: TelegramMessage[] = [];
  const violations: string[] = [];
  const chats = new Map<number, 'open' | 'blocked'>();
  let nextMessageId = 1;
  let nextUpdateId = 1000;
  const fail = (error_code: number, description: string, parameters?: Record<string, number>): StandInAnswer => ({
    status: error_code,
    json: { ok: false, error_code, description, ...(parameters ? { parameters } : {}) },
  });
  const refuse = (description: string): StandInAnswer => {
    violations.push(description);
    return fail(400, `Bad Request: ${description}`);
  };

  const base = await startHttpStandIn({
    failureAnswer: ({ status, retryAfterSeconds }) =>
      status === 429
        ? fail(429, `Too Many Requests: retry after ${retryAfterSeconds ?? 1}`, { retry_after: retryAfterSeconds ?? 1 })
        : fail(status, status === 502 ? 'Bad Gateway' : 'Internal Server Error'),
    handle(request) {
      const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(request.path);
      if (!match) return fail(404, 'Not Found');
      if (match[1] !== options.botToken) return fail(401, 'Unauthorized');
      if (match[2] !== 'sendMessage') return fail(404, 'Not Found: method not found');
      const type = String(request.headers['content-type'] ?? '');
      let params: Record<string, unknown>;
      try {
        params = type.startsWith('application/json')
          ? (JSON.parse(request.body) as Record<string, unknown>)
          : Object.fromEntries(new URLSearchParams(request.body));
      } catch {
        return refuse("can't parse JSON");
      }
      for (const name of Object.keys(params)) {
        if (!SEND_MESSAGE_PARAMETERS.has(name)) return refuse(`sendMessage has no parameter ${name}`);
      }
      const chatId = params.chat_id;
      if (chatId === undefined) return refuse('chat_id is empty');
      if (typeof chatId !== 'number' && typeof chatId !== 'string') return refuse('chat_id must be Integer or String');
      const text = params.text;
      if (typeof text !== 'string' || text.length === 0) return refuse('message text is empty');
      if ([...text].length > 4096) return refuse('message is too long');
      if (params.link_preview_options !== undefined && typeof params.link_preview_options !== 'object') {
        return refuse('link_preview_options must be an object');
      }
      const id = Number(chatId);
      const chat = chats.get(id);
      if (chat === undefined) return fail(400, 'Bad Request: chat not found');
      if (chat === 'blocked') return fail(403, 'Forbidden: bot was blocked by the user');
      const messageId = nextMessageId++;
      const date = Math.floor(Date.now() / 1000);
      return {
        status: 200,
        json: {
          ok: true,
          result: {
            message_id: messageId,
            from: { id: 1, is_bot: true, first_name: 'Herald', username: 'herald_test_bot' },
            chat: { id, first_name: 'Customer', type: 'private' },
            date,
            text,
          },
        },
        after: () => {
          messages.push({ chatId: id, messageId, text, body: params });
          base.accepted.push(messageId);
        },
      };
    },
  });

  const resetBase = base.reset.bind(base);
  return Object.assign(base, {
    botToken: options.botToken,
    messages,
    violations,
    startChat(chatId: number) {
      chats.set(chatId, 'open');
    },
    blockChat(chatId: number) {
      chats.set(chatId, 'blocked');
    },
    async waitForMessages(count: number, timeoutMs?: number) {
      await base.waitForAccepted(count, timeoutMs);
      return messages.slice(0, count);
    },
    async sendStart(url: string, chatId: number, payload: string, secretToken: string | undefined) {
      chats.set(chatId, 'open');
      const update = {
        update_id: nextUpdateId++,
        message: {
          message_id: nextMessageId++,
          from: { id: chatId, is_bot: false, first_name: 'Customer', language_code: 'en' },
          chat: { id: chatId, first_name: 'Customer', type: 'private' },
          date: Math.floor(Date.now() / 1000),
          text: `/start ${payload}`,
          entities: [{ offset: 0, length: 6, type: 'bot_command' }],
        },
      };
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(secretToken !== undefined ? { 'X-Telegram-Bot-Api-Secret-Token': secretToken } : {}),
        },
        body: JSON.stringify(update),
      });
      await response.arrayBuffer();
      return response.status;
    },
    reset() {
      resetBase();
      messages.length = 0;
      violations.length = 0;
      chats.clear();
    },
  });
}
