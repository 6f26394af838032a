import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The signing shared by Herald's public links and staff sessions: HMAC-SHA256 under one secret (CLAIM_LINK_SECRET),
 * with the purpose in the MAC so a token made for one use (a waitlist offer, a customer's page, a staff session,
 * a CSRF token) is never accepted for another. Truncated to 96 bits: ample against online guessing.
 */
export const MAC_BYTES = 12;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function signer(secret: string, purpose: string) {
  if (secret.length < 32) throw new Error('the signing secret needs at least 32 characters');
  const mac = (body: Buffer) =>
    createHmac('sha256', secret).update(`${purpose}\u001f`).update(body).digest().subarray(0, MAC_BYTES);
  return {
    /** body | mac, base64url. */
    sign(body: Buffer): string {
      return Buffer.concat([body, mac(body)]).toString('base64url');
    },
    /** The body when the MAC holds; null otherwise. Cheap checks first: shape and length, then the MAC. */
    open(token: string, maxLength = 600): Buffer | null {
      if (token.length > maxLength || !/^[A-Za-z0-9_-]+$/.test(token)) return null;
      const bytes = Buffer.from(token, 'base64url');
      if (bytes.length <= MAC_BYTES) return null;
      const body = bytes.subarray(0, bytes.length - MAC_BYTES);
      const given = bytes.subarray(bytes.length - MAC_BYTES);
      return timingSafeEqual(given, mac(body)) ? body : null;
    },
  };
}

/**
 * Compact field encoding: a UUID is a 0 byte and its 16 bytes; any other string is its UTF-8 length (1-255) and
 * bytes. Links go into SMS, where every character costs.
 */
export function encodeFields(fields: readonly string[]): Buffer {
  return Buffer.concat(
    fields.map((field) => {
      if (UUID.test(field)) return Buffer.concat([Buffer.from([0]), Buffer.from(field.replace(/-/g, ''), 'hex')]);
      const bytes = Buffer.from(field, 'utf8');
      if (bytes.length < 1 || bytes.length > 255) throw new Error('token field must be 1-255 bytes');
      return Buffer.concat([Buffer.from([bytes.length]), bytes]);
    }),
  );
}

/** The fields `encodeFields` wrote, exactly `count` of them filling `bytes`; null when malformed. */
export function decodeFields(bytes: Buffer, count: number): string[] | null {
  const fields: string[] = [];
  let at = 0;
  while (fields.length < count) {
    const length = bytes[at];
    if (length === undefined) return null;
    if (length === 0) {
      if (at + 17 > bytes.length) return null;
      const hex = bytes.subarray(at + 1, at + 17).toString('hex');
      fields.push(`${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`);
      at += 17;
    } else {
      if (at + 1 + length > bytes.length) return null;
      fields.push(bytes.subarray(at + 1, at + 1 + length).toString('utf8'));
      at += 1 + length;
    }
  }
  return at === bytes.length ? fields : null;
}
