import {
  TELEGRAM_START_PARAMETER_MAX,
  type TelegramLinks,
  type TelegramLinkSubject,
} from '../../application/ports/telegram-links.port.js';
import { decodeFields, encodeFields, signer } from './signed-tokens.js';

/**
 * Start parameters for Telegram deep links, signed like Herald's other links (same secret, purpose
 * "telegram-start"). Layout before the MAC: version (1 the tenant's own bot, 2 the environment's bot) | validUntil
 * (uint32, epoch seconds) | fields: the customer (version 1; the tenant is bound into the MAC's purpose) or the
 * tenant and the customer (version 2). A UUID customer id makes a 46-character token for a tenant's bot, and
 * 48 + 4/3 × the tenant id's length for the environment's bot.
 */
export function createHmacTelegramLinks(secret: string): TelegramLinks {
  const shared = signer(secret, 'telegram-start');
  const forTenant = (tenantId: string) => signer(secret, `telegram-start\u001f${tenantId}`);
  const head = (version: number, validUntil: string) => {
    const bytes = Buffer.alloc(5);
    bytes.writeUInt8(version, 0);
    bytes.writeUInt32BE(Math.ceil(Date.parse(validUntil) / 1000), 1);
    return bytes;
  };
  return {
    startTokenFor(subject: TelegramLinkSubject, bot, validUntil) {
      let token: string;
      try {
        token =
          bot === 'tenant'
            ? forTenant(subject.tenantId).sign(Buffer.concat([head(1, validUntil), encodeFields([subject.customerId])]))
            : shared.sign(Buffer.concat([head(2, validUntil), encodeFields([subject.tenantId, subject.customerId])]));
      } catch {
        return undefined;
      }
      return token.length <= TELEGRAM_START_PARAMETER_MAX ? token : undefined;
    },
    verify(token, now, tenantId) {
      if (token.length > TELEGRAM_START_PARAMETER_MAX) return null;
      const body = tenantId !== undefined ? forTenant(tenantId).open(token, 64) : shared.open(token, 64);
      if (!body || body.length < 6) return null;
      if (body.readUInt32BE(1) * 1000 <= now.getTime()) return null;
      if (tenantId !== undefined) {
        if (body[0] !== 1) return null;
        const fields = decodeFields(body.subarray(5), 1);
        return fields ? { tenantId, customerId: fields[0]! } : null;
      }
      if (body[0] !== 2) return null;
      const fields = decodeFields(body.subarray(5), 2);
      return fields ? { tenantId: fields[0]!, customerId: fields[1]! } : null;
    },
  };
}
