/** Email sender port: SMTP through nodemailer, or files under `$DATA_DIR/outbox` in the embedded mode. */
export interface EmailMessage {
  /** Derived from the delivery: becomes the Message-ID, so a resend after a crash is recognisable as the same mail. */
  readonly idempotencyKey: string;
  readonly from: { readonly name?: string; readonly address: string };
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html?: string;
  /** An iCalendar document (METHOD:REQUEST or CANCEL) sent as an invitation. */
  readonly calendar?: { readonly method: 'REQUEST' | 'CANCEL'; readonly content: string };
  /** Files attached to the message (the reservation's PDF). */
  readonly attachments?: readonly {
    readonly filename: string;
    readonly contentType: string;
    readonly content: Uint8Array;
  }[];
  readonly headers?: Readonly<Record<string, string>>;
}

export interface ProviderAcceptance {
  /** The provider's id for the message (SMTP queue id / Message-ID, Twilio Message SID, outbox file name). */
  readonly providerMessageId: string;
  /** ISO-8601 instant at which the provider accepted the message. */
  readonly acceptedAt: string;
}

/**
 * Raised by senders. `transient` failures (timeouts, 429, 5xx, connection refused) are retried with backoff;
 * permanent ones (invalid address or number, other 4xx) are not.
 */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly transient: boolean,
    readonly providerCode?: string,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

export interface EmailSender {
  readonly channel: 'email';
  send(message: EmailMessage): Promise<ProviderAcceptance>;
  close(): Promise<void>;
}
