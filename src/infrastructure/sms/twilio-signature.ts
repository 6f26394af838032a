import twilio from 'twilio';

/**
 * Whether a webhook (status callback or inbound message) really comes from Twilio: `X-Twilio-Signature` is an
 * HMAC-SHA1 of the full URL Twilio called plus the sorted form parameters, keyed with the auth token.
 * `url` must be the public URL exactly as configured at Twilio (scheme, host, port, path and query), not the one
 * the request arrived at behind a proxy.
 */
export function isValidTwilioSignature(
  authToken: string,
  signature: string | undefined,
  url: string,
  params: Readonly<Record<string, string | readonly string[]>>,
): boolean {
  if (!signature) return false;
  return twilio.validateRequest(authToken, signature, url, params);
}
