import type { WebhookEndpointDeps } from '../../application/webhooks/webhook-endpoints.js';
import type { ResourceCalendarDeps } from '../../application/calendars/resource-calendars.js';
import type { Health } from '../../application/health.js';
import type { Clock } from '../../application/ports/clock.port.js';
import type { EventStore } from '../../application/ports/event-store.port.js';
import type { IdSource } from '../../application/ports/id-source.port.js';
import type { ReadModelStore } from '../../application/ports/read-model-store.port.js';
import type { ClaimLinks } from '../../application/ports/claim-links.port.js';
import type { WaitlistDeps } from '../../application/waitlist/waitlist-commands.js';
import type { Tenancy } from '../../application/tenancy/tenancy.js';
import type { CustomerLinks } from '../../application/ports/customer-links.port.js';
import type { StaffDeps } from '../../application/staff/staff-accounts.js';
import type { WebAssets } from './web-assets.js';
import type { ChannelAdapter } from '../../application/ports/channel.port.js';
import type { CredentialCipher } from '../../application/ports/credential-cipher.port.js';
import type { Channel } from '../../domain/notification/index.js';
import type { TelegramLinks } from '../../application/ports/telegram-links.port.js';

/** What the HTTP edge needs; built by the composition root. */
export interface HttpDeps {
  /** Tenants and API keys; also what authentication asks. */
  readonly tenancy: Tenancy;
  readonly health: Health;
  readonly readModels: ReadModelStore;
  readonly clock: Clock;
  readonly eventStore: EventStore;
  readonly ids: IdSource;
  /** Twilio webhook verification: the auth token and the public base URL Twilio calls. Unset: webhooks refuse (403). */
  readonly twilio?: { readonly authToken?: string; readonly publicUrl?: string };
  /**
   * RATE_LIMIT_PER_KEY (requests a minute per key, 0 = off; default 6000) and AUTH_FAILURES_PER_MINUTE (failed
   * authentications a minute per client address; default 30).
   */
  readonly limits?: {
    readonly requestsPerKeyPerMinute: number;
    readonly authFailuresPerMinute: number;
    /** SIGN_IN_ATTEMPTS_PER_MINUTE: staff sign-ins per client address a minute (default 10). */
    readonly signInAttemptsPerMinute?: number;
    /** PUBLIC_REQUESTS_PER_MINUTE: booking page and customer page API requests per address a minute (default 120). */
    readonly publicRequestsPerMinute?: number;
  };
  /** RESERVATION_HOLD_MINUTES: how long a booked-but-unconfirmed reservation holds its seats (default 10). */
  readonly reservationHoldMinutes?: number;
  /** Waitlists: joins, offers, overrides; the booking gate that keeps freed seats for the line. */
  readonly waitlist: WaitlistDeps;
  /** Verifies the signed links of the public claim page. */
  readonly claimLinks: ClaimLinks;
  /** Signs and verifies the links of the customer's own page. */
  readonly customerLinks: CustomerLinks;
  /** Staff accounts and console sessions. */
  readonly staff: StaffDeps;
  /** Set the Secure attribute on the session cookie (false only when served over plain http, in development). */
  readonly secureCookies: boolean;
  /** The built pages and their scripts and styles (npm run build:web). */
  readonly web: WebAssets;
  /** Per-tenant channel configuration: the cipher of credentials and the environment's providers. */
  readonly channels?: {
    readonly cipher: CredentialCipher;
    readonly environment: Partial<Record<Channel, readonly ChannelAdapter[]>>;
  };
  /** Outgoing webhooks (endpoints, signing secrets sealed like channel credentials, the sender's transport). */
  readonly webhooks?: WebhookEndpointDeps;
  /**
   * Telegram chat linking: the signed start parameters, and the environment's bot (TELEGRAM_BOT_USERNAME for the
   * links, TELEGRAM_WEBHOOK_SECRET checked on its updates). Absent: no links, the update routes refuse (403).
   */
  readonly telegram?: {
    readonly links: TelegramLinks;
    readonly environmentBot?: { readonly username?: string; readonly webhookSecret?: string };
  };
  /**
   * The environment's provider webhook secrets: SENDGRID_WEBHOOK_PUBLIC_KEY, WHATSAPP_APP_SECRET and
   * WHATSAPP_VERIFY_TOKEN. Unset: those routes refuse (403); a tenant's own are in its channel configuration.
   */
  readonly providerWebhooks?: {
    readonly sendgridPublicKey?: string;
    readonly whatsappAppSecret?: string;
    readonly whatsappVerifyToken?: string;
  };
  /** Provider calendars linked to resources (issue 12); absent: the calendar routes answer 404 (test variants). */
  readonly calendars?: ResourceCalendarDeps;
  /** Manual and bulk messages: the campaign throttle (messages a second per channel) and delivery attempts. */
  readonly metrics?: HttpMetrics;
  readonly messaging?: {
    readonly throttle: Readonly<Record<'email' | 'sms', number>>;
    readonly maxAttempts?: number;
  };
}

/** Prometheus metrics at the HTTP edge: every answered request is observed; GET /metrics serves the exposition. */
export interface HttpMetrics {
  /** The route template (`/v1/reservations/:reservationId`), never the URL: no ids in labels. */
  observeRequest(method: string, route: string, status: number, seconds: number): void;
  scrape(): Promise<{ readonly contentType: string; readonly body: string }>;
  /** METRICS_TOKEN: the bearer token a scraper must send. Unset: /metrics answers 404. */
  readonly token?: string;
}
