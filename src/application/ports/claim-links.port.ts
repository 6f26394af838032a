/**
 * Claim links: the public, signed, expiring link in a waitlist offer message that lets the customer accept or decline
 * that one offer without an API key. The signature covers the tenant, the waitlist, the offer and the expiry, and
 * the purpose, so a link cannot be altered to name anything else.
 */
export interface OfferClaim {
  readonly tenantId: string;
  readonly waitlistId: string;
  readonly offerId: string;
}

export interface ClaimLinks {
  /** The absolute URL of the claim page of one offer; the link stops working at `validUntil`. */
  linkFor(claim: OfferClaim, validUntil: string): string;
  /** The offer a token names, when the signature holds and the link has not run out; null otherwise. */
  verify(tenantId: string, token: string, now: Date): OfferClaim | null;
}
