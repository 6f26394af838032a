/** What a staff session cookie says: who, which session, when it was issued and until when it holds. */
export interface StaffSessionClaims {
  readonly tenantId: string;
  readonly staffId: string;
  readonly sessionId: string;
  readonly issuedAt: string;
  readonly expiresAt: string;
}

/**
 * Staff session tokens: stateless, signed (HMAC) cookie values. What ends a session before it expires is recorded
 * in the staff account's events (signing out, a password change, disabling) and checked on every request.
 */
export interface StaffSessionTokens {
  issue(claims: StaffSessionClaims): string;
  /** The claims when the signature holds and the session has not expired at `now`; null otherwise. */
  verify(token: string, now: Date): StaffSessionClaims | null;
  /** The CSRF token of a session: sent back in X-CSRF-Token on every unsafe request made with the cookie. */
  csrfTokenFor(sessionId: string): string;
  verifyCsrfToken(sessionId: string, token: string): boolean;
}
