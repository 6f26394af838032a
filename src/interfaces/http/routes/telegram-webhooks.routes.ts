import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { openTenantProvider } from '../../../application/channels/channel-configuration.js';
import { linkTelegramChat } from '../../../application/notifications/notification-admin.js';
import { isTelegramChatId } from '../../../domain/notification/index.js';
import type { HttpDeps } from '../http-deps.js';
import { HttpProblem, problem } from '../problem.js';
import { empty, id, problems } from '../schemas/common.js';

/** An update with a text message is a few KiB; anything far beyond that is not Telegram's. */
export const TELEGRAM_UPDATE_MAX_BYTES = 64 * 1024;
const SECRET_HEADER = 'x-telegram-bot-api-secret-token';
/** `/start <parameter>` (also `/start@herald_bot <parameter>` in a group); the parameter as Telegram allows it. */
const START = /^\/start(?:@[A-Za-z0-9_]{1,64})? ([A-Za-z0-9_-]{1,64})$/;

const updateBody = z
  .object({
    update_id: z.int(),
    message: z
      .object({
        chat: z.object({ id: z.int(), type: z.string().max(32) }).loose(),
        text: z.string().max(4096).optional(),
      })
      .loose()
      .optional(),
  })
  .loose();

const sameSecret = (given: string, expected: string) =>
  timingSafeEqual(createHash('sha256').update(given).digest(), createHash('sha256').update(expected).digest());

/**
 * Telegram bot updates (setWebhook with `secret_token`): public routes whose only proof of origin is the secret in
 * X-Telegram-Bot-Api-Secret-Token. Cheap checks first, in `onRequest` before the body is read: is a secret
 * configured for this bot (403 if not), does the header carry it (401 if not). The body is capped at 64 KiB.
 *
 * The one update acted on is `/start <token>` in a private chat, where the token is the start parameter of the link
 * on the customer's page (`TelegramLinks`): a valid one records the chat as the customer's Telegram address. Every
 * other update — and a token that is forged or has run out — is answered 200 and changes nothing, so Telegram does
 * not deliver it again.
 *
 * `/v1/webhooks/telegram`: the environment's bot (TELEGRAM_WEBHOOK_SECRET; its tokens name the tenant).
 * `/v1/webhooks/telegram/{tenantId}`: a tenant's own bot (the provider's `webhookSecret` credential).
 */
export function telegramWebhookRoutes(deps: HttpDeps): FastifyPluginAsyncZod {
  return async (app) => {
    const notConfigured = () =>
      new HttpProblem(
        problem(403, 'telegram-webhook-not-configured', 'No Telegram bot webhook is configured here.', {
          detail:
            'Set TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET, or the tenant’s telegram provider with a ' +
            'webhookSecret, and call setWebhook with that secret_token.',
        }),
      );
    const wrongSecret = () =>
      new HttpProblem(
        problem(401, 'invalid-telegram-secret', 'The request does not carry the bot’s secret token.', {
          detail: 'Telegram sends the setWebhook secret_token in X-Telegram-Bot-Api-Secret-Token.',
        }),
      );
    const requireSecret = (request: FastifyRequest, expected: string | undefined) => {
      if (!expected) throw notConfigured();
      const given = request.headers[SECRET_HEADER];
      if (typeof given !== 'string' || given.length === 0 || given.length > 256 || !sameSecret(given, expected)) {
        throw wrongSecret();
      }
    };

    /** Links the chat when the update is `/start <valid token>` from a private chat; anything else is ignored. */
    const handle = async (request: FastifyRequest, update: z.infer<typeof updateBody>, tenantId?: string) => {
      const message = update.message;
      if (!message || message.chat.type !== 'private' || !message.text) return;
      const start = START.exec(message.text);
      const chatId = String(message.chat.id);
      if (!start || !isTelegramChatId(chatId)) return;
      const subject = deps.telegram?.links.verify(start[1]!, deps.clock.now(), tenantId);
      if (!subject) return;
      await linkTelegramChat(
        deps,
        {
          tenantId: subject.tenantId,
          actor: 'customer:telegram',
          correlationId: request.id,
          causationId: `telegram-update:${update.update_id}`,
        },
        subject.customerId,
        chatId,
      );
    };

    const routeSchema = {
      tags: ['webhooks'],
      security: [],
      body: updateBody,
      response: {
        200: empty('No body: the update was taken (a chat linked, or nothing to do).'),
        ...problems(401, 403, 413),
      },
    };

    app.post(
      '/webhooks/telegram',
      {
        config: { public: true },
        bodyLimit: TELEGRAM_UPDATE_MAX_BYTES,
        onRequest: async (request) => {
          requireSecret(
            request,
            deps.telegram?.environmentBot ? deps.telegram.environmentBot.webhookSecret : undefined,
          );
        },
        schema: {
          ...routeSchema,
          operationId: 'receiveTelegramUpdate',
          summary:
            'Updates of the environment’s Telegram bot (setWebhook secret_token checked first): `/start <token>` ' +
            'from a customer’s page link records their chat.',
        },
      },
      async (request, reply) => {
        await handle(request, request.body);
        return reply.code(200).send();
      },
    );

    app.post(
      '/webhooks/telegram/:tenantId',
      {
        config: { public: true },
        bodyLimit: TELEGRAM_UPDATE_MAX_BYTES,
        onRequest: async (request) => {
          const tenantId = (request.params as { tenantId?: string }).tenantId ?? '';
          if (!id.safeParse(tenantId).success || !deps.channels || !deps.telegram) throw notConfigured();
          const own = await openTenantProvider(deps.eventStore, deps.channels.cipher, tenantId, 'telegram', 'telegram');
          requireSecret(request, own?.credentials.webhookSecret);
        },
        schema: {
          ...routeSchema,
          operationId: 'receiveTenantTelegramUpdate',
          summary:
            'Updates of a tenant’s own Telegram bot (its webhookSecret checked first): `/start <token>` from a ' +
            'customer’s page link records their chat.',
          params: z.object({ tenantId: id }),
        },
      },
      async (request, reply) => {
        await handle(request, request.body, request.params.tenantId);
        return reply.code(200).send();
      },
    );
  };
}
