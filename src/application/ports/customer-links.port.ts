/**
 * The customer's own page: a signed, expiring link in every message to a customer. It opens one reservation (or
 * one waitlist entry) and the preferences of the customer it belongs to, without an API key and without an account.
 * The signature covers the purpose, the tenant, the subject and the expiry.
 */
export type CustomerLinkSubject =
  | { readonly kind: 'reservation'; readonly tenantId: string; readonly reservationId: string }
  | {
      readonly kind: 'waitlist-entry';
      readonly tenantId: string;
      readonly waitlistId: string;
      readonly entryId: string;
    };

export interface CustomerLinks {
  /** The token alone (what the page sends the API in X-Customer-Token). */
  tokenFor(subject: CustomerLinkSubject, validUntil: string): string;
  /** The absolute URL of the customer's page: `<PUBLIC_URL>/my/<token>`. */
  linkFor(subject: CustomerLinkSubject, validUntil: string): string;
  /** The subject when the signature holds and the link has not run out; null otherwise. */
  verify(token: string, now: Date): CustomerLinkSubject | null;
}
