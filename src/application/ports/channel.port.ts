import type { Channel, DeliveryContent, ProviderStatus } from '../../domain/notification/index.js';
import type { RenderedAttachment } from './document-renderer.port.js';

/**
 * The channel port: the one way a message leaves Herald. Every provider — SMTP, SendGrid, Amazon SES, Twilio SMS,
 * WhatsApp Cloud API, Telegram, the embedded outbox — implements `ChannelAdapter`:
 *
 *     rendered delivery ──send()──▶ provider request ──▶ SendOutcome
 *                                                         accepted(providerMessageId)
 *                                                         retryable(reason, retryAfterMs?)
 *                                                         permanent(reason)
 *     provider ──status callback──▶ StatusWebhook.verify() ──▶ parse() ──▶ ProviderStatusReport[]
 *
 * An adapter maps a delivery to its provider's request and the provider's answers to an outcome, and nothing else:
 * attempts, retries and their timing, failover, dead letters, re-sends, credits, preferences, quiet hours and the
 * audit trail live once, above the port (`notification-dispatcher.ts`, the delivery decider). An adapter never
 * retries by itself, never throws for a provider's refusal (it returns an outcome) and never logs message content
 * or credentials. Every HTTP adapter takes a base URL, so the same code runs against the provider and against a
 * loopback stand-in (`test/integration/channel-port.contract.ts`).
 */

/** One delivery, rendered, as the dispatcher hands it to an adapter. */
export interface OutboundMessage {
  readonly tenantId: string;
  readonly notificationId: string;
  readonly channel: Channel;
  /**
   * Derived from the delivery: the same on every attempt and every re-send. Adapters pass it wherever the provider
   * has a place for it (Message-ID, custom args, an idempotency header), so an attempt interrupted by a crash is
   * recognisable at the provider.
   */
  readonly idempotencyKey: string;
  /** Email address, E.164 number (SMS, WhatsApp) or Telegram chat id, as the delivery recorded it. */
  readonly to: string;
  /** What the planner rendered: subject/text/html/ics, or an external template with its parameters. */
  readonly content: DeliveryContent;
  /** The files the email carries (the reservation's PDF), rendered by the dispatcher: the same bytes every attempt. */
  readonly attachments?: readonly RenderedAttachment[];
  /** Where the provider posts status callbacks for this message, when it takes one per message and Herald has a URL. */
  readonly statusCallbackUrl?: string;
}

export type SendOutcome =
  | {
      readonly outcome: 'accepted';
      /** The provider's id for the message: what status callbacks name it by. */
      readonly providerMessageId: string;
      /** ISO-8601 instant at which the provider accepted it. */
      readonly acceptedAt: string;
    }
  | {
      /** Timeouts, refused connections, 429, 5xx: the same request may get through later. */
      readonly outcome: 'retryable';
      /** The provider's reason, for the audit trail. Recipient addresses in it are masked by the dispatcher. */
      readonly reason: string;
      /** The provider's own error code (`20429`, `421`, `130429`...). */
      readonly code?: string;
      /**
       * The provider's Retry-After (seconds or an HTTP-date, already turned into milliseconds from now). The
       * dispatcher schedules the next attempt then, within CHANNEL_RETRY_AFTER_MAX_SECONDS.
       */
      readonly retryAfterMs?: number;
    }
  | {
      /** Invalid recipient, refused content, bad credentials: the same request fails every time. */
      readonly outcome: 'permanent';
      readonly reason: string;
      readonly code?: string;
    };

export interface AcceptedAtProvider {
  readonly providerMessageId: string;
  readonly acceptedAt: string;
}

export interface ChannelAdapter {
  readonly channel: Channel;
  /** A stable name recorded with every attempt (`smtp`, `sendgrid`, `ses`, `twilio`, `whatsapp-cloud`...). */
  readonly provider: string;
  /**
   * Providers that take a status callback URL with each message (Twilio) name the route of Herald that receives
   * them; the dispatcher then passes `statusCallbackUrl` (PUBLIC_URL + this path + the delivery in the query).
   */
  readonly statusCallbackPath?: string;
  /** One request to the provider. Never throws for anything the provider answered; a thrown error counts as retryable. */
  send(message: OutboundMessage): Promise<SendOutcome>;
  /**
   * Providers that can be asked: was this message accepted at or after `since`? The dispatcher asks before sending
   * again after an attempt interrupted by a crash, which makes that provider exactly-once
   * (docs/decisions/0005-delivery-exactly-once.md). Adapters without it are at-least-once after such a crash.
   */
  findAccepted?(message: OutboundMessage, since: Date): Promise<AcceptedAtProvider | undefined>;
  close(): Promise<void>;
}

/** Which adapters send a tenant's messages on a channel, in order: the first, then the failover. */
export interface ChannelDirectory {
  /** Empty: the channel is not configured for this tenant (the delivery fails permanently, visibly). */
  providersFor(tenantId: string, channel: Channel): Promise<readonly ChannelAdapter[]>;
}

// ---------------------------------------------------------------------------------------------------------------
// Status callbacks

/** A provider's callback as the HTTP edge received it (bounded in size before it gets here). */
export interface WebhookRequest {
  /** The exact bytes received: signatures are computed over them. */
  readonly rawBody: Buffer;
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The public URL the provider called (PUBLIC_URL + path and query), for providers that sign it. */
  readonly url: string;
}

/** A fact about one message, in the delivery decider's vocabulary. */
export interface ProviderStatusReport {
  readonly providerMessageId: string;
  readonly status: ProviderStatus;
  readonly error?: string;
}

/**
 * A provider's status callbacks: the signature check (cheap, first) and the parsing. `verify` gets the secret
 * configured for the tenant (or globally) and must compare in constant time.
 */
export interface StatusWebhook {
  readonly provider: string;
  verify(request: WebhookRequest, secret: string): boolean;
  /** Facts only; steps that are not facts (queued, accepted...) are left out. Throws on a malformed body. */
  parse(request: WebhookRequest): ProviderStatusReport[];
}
