import type { ProviderAcceptance } from './email-sender.port.js';

/**
 * SMS sender: Twilio Programmable Messaging through the `twilio` SDK, or the outbox in the embedded mode. A transport
 * below the channel port (`channel.port.ts`): `smsSenderChannel` turns it into the SMS channel's adapter.
 */
export interface SmsMessage {
  /** Derived from the delivery; used to reconcile after a crash between the provider call and its recording. */
  readonly idempotencyKey: string;
  /** E.164. */
  readonly to: string;
  readonly body: string;
  /** Where the provider posts status callbacks for this message, when the service has a public URL. */
  readonly statusCallbackUrl?: string;
}

export interface SentSms {
  readonly providerMessageId: string;
  readonly to: string;
  readonly body: string;
  readonly acceptedAt: string;
}

export interface SmsSender {
  readonly channel: 'sms';
  /** Recorded with each attempt as the provider that sent it (`twilio`, `outbox`); default `sms`. */
  readonly provider?: string;
  send(message: SmsMessage): Promise<ProviderAcceptance>;
  /**
   * Messages to `to` accepted at or after `since` (Twilio: list Messages by To and DateSent). Lets the dispatcher
   * find out whether an attempt interrupted by a crash reached the provider before sending again.
   */
  findSent(to: string, since: Date): Promise<SentSms[]>;
  close(): Promise<void>;
}
