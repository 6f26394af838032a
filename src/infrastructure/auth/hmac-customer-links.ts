import type { CustomerLinks, CustomerLinkSubject } from '../../application/ports/customer-links.port.js';
import { decodeFields, encodeFields, signer } from './signed-tokens.js';

/**
 * Links to the customer's own page, signed like the claim links (same secret, purpose "customer-page"). Layout
 * before the MAC: version 1 | kind (1 reservation, 2 waitlist entry) | validUntil (uint32, epoch seconds) | fields
 * (tenant, then reservationId, or waitlistId and entryId). A reservation with a UUID id makes a 40-character token.
 */
export interface HmacCustomerLinksOptions {
  readonly secret: string;
  /** Where customers reach this service, e.g. https://book.example.com. */
  readonly publicUrl: string;
}

const KIND_CODES = { reservation: 1, 'waitlist-entry': 2 } as const;

export function createHmacCustomerLinks(options: HmacCustomerLinksOptions): CustomerLinks {
  const sign = signer(options.secret, 'customer-page');
  const base = options.publicUrl.replace(/\/+$/, '');
  const tokenFor = (subject: CustomerLinkSubject, validUntil: string) => {
    const head = Buffer.alloc(6);
    head.writeUInt8(1, 0);
    head.writeUInt8(KIND_CODES[subject.kind], 1);
    head.writeUInt32BE(Math.ceil(Date.parse(validUntil) / 1000), 2);
    const fields =
      subject.kind === 'reservation'
        ? [subject.tenantId, subject.reservationId]
        : [subject.tenantId, subject.waitlistId, subject.entryId];
    return sign.sign(Buffer.concat([head, encodeFields(fields)]));
  };
  return {
    tokenFor,
    linkFor: (subject, validUntil) => `${base}/my/${tokenFor(subject, validUntil)}`,
    verify(token, now) {
      const body = sign.open(token, 800);
      if (!body || body.length < 7 || body[0] !== 1) return null;
      if (body.readUInt32BE(2) * 1000 <= now.getTime()) return null;
      const rest = body.subarray(6);
      if (body[1] === KIND_CODES.reservation) {
        const fields = decodeFields(rest, 2);
        if (!fields) return null;
        return { kind: 'reservation', tenantId: fields[0]!, reservationId: fields[1]! };
      }
      if (body[1] === KIND_CODES['waitlist-entry']) {
        const fields = decodeFields(rest, 3);
        if (!fields) return null;
        return { kind: 'waitlist-entry', tenantId: fields[0]!, waitlistId: fields[1]!, entryId: fields[2]! };
      }
      return null;
    },
  };
}
