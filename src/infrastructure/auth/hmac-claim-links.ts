import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ClaimLinks, OfferClaim } from '../../application/ports/claim-links.port.js';

/**
 * Claim links signed with HMAC-SHA256 (truncated to 96 bits, ample against online guessing of one link). The token
 * carries the waitlist id, the offer id and the expiry; the tenant is in the path. Compact on purpose: it goes into
 * SMS messages, where every character costs. Layout (base64url):
 *
 *   v1: 0x01 | validUntil (uint32, epoch seconds) | waitlist UUID (16) | entry UUID (16) | offer number (uint8) | mac (12)
 *   v2: 0x02 | validUntil (uint32) | len | waitlistId utf8 | len | offerId utf8 | mac (12)   (ids that are not UUIDs)
 *
 * The MAC covers the purpose ("waitlist-offer"), the tenant and every byte before it.
 */
const PURPOSE = 'waitlist-offer';
const MAC_BYTES = 12;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface HmacClaimLinksOptions {
  /** At least 32 characters; every instance that serves claim pages needs the same one. */
  readonly secret: string;
  /** Where customers reach this service, e.g. https://book.example.com (no trailing slash needed). */
  readonly publicUrl: string;
}

function uuidBytes(uuid: string): Buffer {
  return Buffer.from(uuid.replace(/-/g, ''), 'hex');
}

function uuidString(bytes: Buffer): string {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function encodeBody(claim: OfferClaim, validUntilSeconds: number): Buffer {
  const expiry = Buffer.alloc(4);
  expiry.writeUInt32BE(validUntilSeconds);
  const match = /^(.+)\.(\d{1,3})$/.exec(claim.offerId);
  const entry = match?.[1];
  const number = match ? Number(match[2]) : NaN;
  if (entry && UUID.test(entry) && UUID.test(claim.waitlistId) && number >= 1 && number <= 255) {
    return Buffer.concat([
      Buffer.from([1]),
      expiry,
      uuidBytes(claim.waitlistId),
      uuidBytes(entry),
      Buffer.from([number]),
    ]);
  }
  const waitlist = Buffer.from(claim.waitlistId, 'utf8');
  const offer = Buffer.from(claim.offerId, 'utf8');
  if (waitlist.length > 255 || offer.length > 255) throw new Error('claim ids too long');
  return Buffer.concat([
    Buffer.from([2]),
    expiry,
    Buffer.from([waitlist.length]),
    waitlist,
    Buffer.from([offer.length]),
    offer,
  ]);
}

function decodeBody(body: Buffer): { waitlistId: string; offerId: string; validUntil: number } | null {
  if (body.length < 5) return null;
  const validUntil = body.readUInt32BE(1);
  if (body[0] === 1) {
    if (body.length !== 38) return null;
    return {
      validUntil,
      waitlistId: uuidString(body.subarray(5, 21)),
      offerId: `${uuidString(body.subarray(21, 37))}.${body[37]}`,
    };
  }
  if (body[0] === 2) {
    const waitlistLength = body[5] ?? 0;
    const offerAt = 6 + waitlistLength;
    const offerLength = body[offerAt];
    if (offerLength === undefined || body.length !== offerAt + 1 + offerLength) return null;
    return {
      validUntil,
      waitlistId: body.subarray(6, offerAt).toString('utf8'),
      offerId: body.subarray(offerAt + 1).toString('utf8'),
    };
  }
  return null;
}

export function createHmacClaimLinks(options: HmacClaimLinksOptions): ClaimLinks {
  if (options.secret.length < 32) throw new Error('the claim link secret needs at least 32 characters');
  const base = options.publicUrl.replace(/\/+$/, '');
  const mac = (tenantId: string, body: Buffer) =>
    createHmac('sha256', options.secret)
      .update(`${PURPOSE}\u001f${tenantId}\u001f`)
      .update(body)
      .digest()
      .subarray(0, MAC_BYTES);

  return {
    linkFor(claim, validUntil) {
      const seconds = Math.ceil(Date.parse(validUntil) / 1000);
      const body = encodeBody(claim, seconds);
      const token = Buffer.concat([body, mac(claim.tenantId, body)]).toString('base64url');
      return `${base}/claim/${encodeURIComponent(claim.tenantId)}/${token}`;
    },
    verify(tenantId, token, now) {
      // Cheap checks first: a public route calls this with whatever it was given.
      if (token.length > 400 || !/^[A-Za-z0-9_-]+$/.test(token)) return null;
      const bytes = Buffer.from(token, 'base64url');
      if (bytes.length <= MAC_BYTES + 5) return null;
      const body = bytes.subarray(0, bytes.length - MAC_BYTES);
      const given = bytes.subarray(bytes.length - MAC_BYTES);
      if (!timingSafeEqual(given, mac(tenantId, body))) return null;
      const decoded = decodeBody(body);
      if (!decoded || decoded.validUntil * 1000 <= now.getTime()) return null;
      return { tenantId, waitlistId: decoded.waitlistId, offerId: decoded.offerId };
    },
  };
}
