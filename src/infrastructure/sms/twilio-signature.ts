import twilio from 'twilio';
import type { ProviderStatusReport, StatusWebhook, WebhookRequest } from '../../application/ports/channel.port.js';
import type { ProviderStatus } from '../../domain/notification/index.js';

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

/** Twilio MessageStatus values that are facts about a message; the rest (queued, sending...) are steps. */
const TWILIO_FACTS: Readonly<Record<string, ProviderStatus>> = {
  sent: 'sent',
  delivered: 'delivered',
  undelivered: 'undelivered',
  failed: 'failed',
};

/**
 * Twilio's status callbacks as the channel port describes them (the HTTP route in twilio-webhooks.routes.ts does
 * the same with its form limits; this is the piece the channel-port contract checks against the stand-in).
 */
export const twilioStatusWebhook: StatusWebhook = {
  provider: 'twilio',
  verify(request: WebhookRequest, authToken: string): boolean {
    const params = Object.fromEntries(new URLSearchParams(request.rawBody.toString('utf8')));
    return isValidTwilioSignature(authToken, request.headers['x-twilio-signature'], request.url, params);
  },
  parse(request: WebhookRequest): ProviderStatusReport[] {
    const params = new URLSearchParams(request.rawBody.toString('utf8'));
    const sid = params.get('MessageSid');
    const status = TWILIO_FACTS[params.get('MessageStatus') ?? ''];
    if (!sid || !status) return [];
    const error = [params.get('ErrorCode'), params.get('ErrorMessage')].filter(Boolean).join(': ');
    return [{ providerMessageId: sid, status, ...(error ? { error: `twilio ${error}` } : {}) }];
  },
};
