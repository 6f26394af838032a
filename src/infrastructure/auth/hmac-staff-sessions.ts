import type { StaffSessionClaims, StaffSessionTokens } from '../../application/ports/staff-sessions.port.js';
import { decodeFields, encodeFields, signer } from './signed-tokens.js';

/**
 * Staff session cookies: version 1 | issuedAt (uint32 s) | expiresAt (uint32 s) | tenant, staffId, sessionId, signed
 * with purpose "staff-session". CSRF tokens: the MAC of the session id under purpose "staff-csrf" — the page reads
 * it from the API (it cannot read the HttpOnly cookie) and sends it back in X-CSRF-Token.
 */
export function createHmacStaffSessions(secret: string): StaffSessionTokens {
  const session = signer(secret, 'staff-session');
  const csrf = signer(secret, 'staff-csrf');
  return {
    issue(claims) {
      const head = Buffer.alloc(9);
      head.writeUInt8(1, 0);
      head.writeUInt32BE(Math.floor(Date.parse(claims.issuedAt) / 1000), 1);
      head.writeUInt32BE(Math.floor(Date.parse(claims.expiresAt) / 1000), 5);
      return session.sign(Buffer.concat([head, encodeFields([claims.tenantId, claims.staffId, claims.sessionId])]));
    },
    verify(token, now): StaffSessionClaims | null {
      const body = session.open(token, 600);
      if (!body || body.length < 10 || body[0] !== 1) return null;
      const expiresAt = body.readUInt32BE(5) * 1000;
      if (expiresAt <= now.getTime()) return null;
      const fields = decodeFields(body.subarray(9), 3);
      if (!fields) return null;
      return {
        tenantId: fields[0]!,
        staffId: fields[1]!,
        sessionId: fields[2]!,
        issuedAt: new Date(body.readUInt32BE(1) * 1000).toISOString(),
        expiresAt: new Date(expiresAt).toISOString(),
      };
    },
    csrfTokenFor(sessionId) {
      return csrf.sign(encodeFields([sessionId]));
    },
    verifyCsrfToken(sessionId, token) {
      const body = csrf.open(token, 200);
      return body !== null && decodeFields(body, 1)?.[0] === sessionId;
    },
  };
}
