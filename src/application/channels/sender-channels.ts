import type { ChannelAdapter, OutboundMessage, SendOutcome } from '../ports/channel.port.js';
import { DeliveryError, type EmailSender, type ProviderAcceptance } from '../ports/email-sender.port.js';
import type { SmsSender } from '../ports/sms-sender.port.js';
import { describe } from '../subscriptions/checkpointed-subscriber.js';

/**
 * The email and SMS transports (SMTP, Twilio, the outbox) as adapters of the channel port. They keep their own
 * small interfaces because the outbox renders exactly what SMTP sends and the crash tests count at that level;
 * these functions are the only place their exceptions become outcomes.
 */

/** Twilio posts status callbacks for a message to the URL given with it: this route of Herald. */
export const TWILIO_STATUS_PATH = '/v1/webhooks/twilio/status';

/** A sender's `DeliveryError` (or anything else it threw) as the port's outcome. */
export function outcomeOfError(error: unknown): Exclude<SendOutcome, { outcome: 'accepted' }> {
  if (error instanceof DeliveryError) {
    const code = error.providerCode !== undefined ? { code: error.providerCode } : {};
    if (!error.transient) return { outcome: 'permanent', reason: error.message, ...code };
    return {
      outcome: 'retryable',
      reason: error.message,
      ...code,
      ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
    };
  }
  // Not a verdict of the provider (a bug, a dropped connection deep in a library): worth another attempt.
  return { outcome: 'retryable', reason: describe(error) };
}

async function attempt(send: () => Promise<ProviderAcceptance>): Promise<SendOutcome> {
  try {
    const accepted = await send();
    return { outcome: 'accepted', providerMessageId: accepted.providerMessageId, acceptedAt: accepted.acceptedAt };
  } catch (error) {
    return outcomeOfError(error);
  }
}

export function emailSenderChannel(sender: EmailSender): ChannelAdapter {
  return {
    channel: 'email',
    provider: sender.provider ?? 'email',
    send(message: OutboundMessage) {
      const { content } = message;
      return attempt(() =>
        sender.send({
          idempotencyKey: message.idempotencyKey,
          from: content.from ?? { address: 'no-reply@herald.invalid' },
          to: message.to,
          subject: content.subject ?? '',
          text: content.text,
          ...(content.html ? { html: content.html } : {}),
          ...(content.ics ? { calendar: content.ics } : {}),
          ...(message.attachments && message.attachments.length > 0 ? { attachments: message.attachments } : {}),
        }),
      );
    },
    close: () => sender.close(),
  };
}

export function smsSenderChannel(sender: SmsSender): ChannelAdapter & { readonly statusCallbackPath: string } {
  return {
    channel: 'sms',
    provider: sender.provider ?? 'sms',
    statusCallbackPath: TWILIO_STATUS_PATH,
    send(message: OutboundMessage) {
      return attempt(() =>
        sender.send({
          idempotencyKey: message.idempotencyKey,
          to: message.to,
          body: message.content.text,
          ...(message.statusCallbackUrl ? { statusCallbackUrl: message.statusCallbackUrl } : {}),
        }),
      );
    },
    // Twilio can be asked: the same body to the same number since the attempt started (decision 0005).
    async findAccepted(message, since) {
      const found = (await sender.findSent(message.to, since)).find((m) => m.body === message.content.text);
      return found ? { providerMessageId: found.providerMessageId, acceptedAt: found.acceptedAt } : undefined;
    },
    close: () => sender.close(),
  };
}
