/**
 * Telegram chat linking: the customer's page shows `https://t.me/<bot>?start=<token>`; pressing Start makes the bot
 * receive `/start <token>`, and Herald records that chat as the customer's address on the Telegram channel. The
 * token is signed for this one purpose, names the tenant and the customer, runs out soon, and fits Telegram's start
 * parameter (at most 64 characters of A-Z, a-z, 0-9, _ and -).
 */
export interface TelegramLinkSubject {
  readonly tenantId: string;
  readonly customerId: string;
}

export interface TelegramLinks {
  /**
   * The start parameter for the customer; `bot` says whose bot it goes to: the tenant's own (`tenant`: the tenant
   * is then known from the webhook URL and left out of the token) or the environment's (`environment`: the token
   * carries the tenant). Undefined when the ids make it longer than Telegram's 64 characters.
   */
  startTokenFor(subject: TelegramLinkSubject, bot: 'tenant' | 'environment', validUntil: string): string | undefined;
  /** The subject when the signature holds and the token has not run out; `tenantId` for a tenant's own bot. */
  verify(token: string, now: Date, tenantId?: string): TelegramLinkSubject | null;
}

/** Telegram's limit on the start parameter of a deep link. */
export const TELEGRAM_START_PARAMETER_MAX = 64;
