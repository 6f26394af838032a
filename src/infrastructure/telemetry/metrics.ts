import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { NewEvent } from '../../application/ports/event-store.port.js';
import { CHANNELS, type Channel } from '../../domain/notification/index.js';

/**
 * Herald's Prometheus metrics (prom-client), in a registry of their own (no process-global default registry).
 * Labels are bounded by construction — route templates, channels, statuses, job names, consumer names; never an id,
 * an address, a name or a tenant (docs/decisions/0015-metrics.md): the exposition holds no PII and its
 * size does not grow with the data.
 */
export interface HeraldMetrics {
  readonly registry: Registry;
  /** One finished HTTP request: the route template (`/v1/reservations/:reservationId`), never the URL. */
  observeRequest(method: string, route: string, status: number, seconds: number): void;
  /** One provider call (any channel's adapter): how long it took and how it ended. */
  observeProviderCall(channel: Channel, provider: string, outcome: ProviderOutcome, seconds: number): void;
  /** Events this process appended: deliveries by channel and status, dead letters, credits. */
  observeAppended(events: readonly NewEvent[], channelOf: (notificationId: string) => DeliveryChannel): void;
  /** A scheduled job started `seconds` after its due time. */
  observeJobLateness(job: string, seconds: number): void;
  /** What the consumer gauges read at scrape time. */
  setConsumerSource(source: () => Promise<ConsumerPositions>): void;
  /** The exposition (Prometheus text format) and its content type. */
  scrape(): Promise<{ readonly contentType: string; readonly body: string }>;
}

export type ProviderOutcome = 'accepted' | 'retryable' | 'permanent' | 'error';
export type DeliveryChannel = Channel | 'unknown';

/**
 * A provider label: the adapters' own names (smtp, sendgrid, twilio, whatsapp-cloud, telegram, slack, teams, discord,
 * outbox), a fixed set in code; anything else is `other`, so the label stays bounded.
 */
const PROVIDER_LABEL = /^[a-z][a-z0-9-]{0,31}$/;
export const providerLabel = (provider: unknown): string =>
  provider === undefined || provider === null
    ? 'none'
    : typeof provider === 'string' && PROVIDER_LABEL.test(provider)
      ? provider
      : 'other';
export const channelLabel = (channel: unknown): Channel | undefined =>
  typeof channel === 'string' && (CHANNELS as readonly string[]).includes(channel) ? (channel as Channel) : undefined;

export interface ConsumerPositions {
  readonly head: bigint;
  readonly consumers: readonly { readonly name: string; readonly position: bigint }[];
}

/** The status each delivery event records (the `status` label). Anything else is not a delivery step. */
const DELIVERY_STATUS: Readonly<Record<string, string>> = {
  NotificationRequested: 'requested',
  NotificationSkipped: 'skipped',
  NotificationAttemptStarted: 'sending',
  NotificationSent: 'sent',
  NotificationAttemptFailed: 'attempt-failed',
  NotificationFailed: 'failed',
  NotificationDeadLettered: 'dead-lettered',
  NotificationDelivered: 'delivered',
  NotificationUndelivered: 'undelivered',
  NotificationBounced: 'bounced',
  NotificationResendRequested: 'resend-requested',
};

const CREDIT_EVENTS: Readonly<Record<string, 'charged' | 'refunded' | 'topped-up'>> = {
  CreditsCharged: 'charged',
  CreditsRefunded: 'refunded',
  CreditsToppedUp: 'topped-up',
};

const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const LATENESS_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900];

export function createHeraldMetrics(): HeraldMetrics {
  const registry = new Registry();
  const requests = new Counter({
    name: 'herald_http_requests_total',
    help: 'HTTP requests answered, by method, route template and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const requestSeconds = new Histogram({
    name: 'herald_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method and route template.',
    labelNames: ['method', 'route'] as const,
    buckets: SECONDS_BUCKETS,
    registers: [registry],
  });
  const providerSeconds = new Histogram({
    name: 'herald_provider_request_duration_seconds',
    help: 'Time a provider took to accept or refuse a message, by channel, provider and outcome.',
    labelNames: ['channel', 'provider', 'outcome'] as const,
    buckets: SECONDS_BUCKETS,
    registers: [registry],
  });
  const deliveries = new Counter({
    name: 'herald_deliveries_total',
    help: 'Delivery steps recorded by this process, by channel, provider (none before an attempt) and the status they record.',
    labelNames: ['channel', 'provider', 'status'] as const,
    registers: [registry],
  });
  const deadLetters = new Counter({
    name: 'herald_dead_letters_total',
    help: 'Deliveries dead-lettered by this process (retries exhausted), by channel.',
    labelNames: ['channel'] as const,
    registers: [registry],
  });
  const credits = new Counter({
    name: 'herald_credits_total',
    help: 'Credits charged, refunded and topped up by this process (credit units), summed over tenants.',
    labelNames: ['change'] as const,
    registers: [registry],
  });
  const lateness = new Histogram({
    name: 'herald_scheduled_job_lateness_seconds',
    help: 'How late a scheduled job started after its due time, by job name.',
    labelNames: ['job'] as const,
    buckets: LATENESS_BUCKETS,
    registers: [registry],
  });
  const lowBalances = new Counter({
    name: 'herald_credits_low_balance_alerts_total',
    help: 'Times a tenant balance fell below its low-balance threshold (CreditsBalanceLow), summed over tenants.',
    registers: [registry],
  });
  let consumerSource: (() => Promise<ConsumerPositions>) | undefined;
  let lastPositions: Promise<ConsumerPositions | undefined> | undefined;
  // One read of the positions per scrape for the three gauges.
  const positions = () => (lastPositions ??= consumerSource?.().catch(() => undefined) ?? Promise.resolve(undefined));
  new Gauge({
    name: 'herald_log_head_position',
    help: 'Global position of the last event in the log.',
    registers: [registry],
    async collect() {
      const current = await positions();
      if (current) this.set(Number(current.head));
    },
  });
  new Gauge({
    name: 'herald_consumer_position',
    help: 'Global position of the last event each projection and process manager has handled.',
    labelNames: ['consumer'] as const,
    registers: [registry],
    async collect() {
      const current = await positions();
      for (const consumer of current?.consumers ?? []) this.set({ consumer: consumer.name }, Number(consumer.position));
    },
  });
  new Gauge({
    name: 'herald_consumer_lag_positions',
    help: 'Log head minus the consumer position (events on the embedded store; bytes of the log on EventStoreDB).',
    labelNames: ['consumer'] as const,
    registers: [registry],
    async collect() {
      const current = await positions();
      lastPositions = undefined;
      for (const consumer of current?.consumers ?? []) {
        const lag = current!.head - consumer.position;
        this.set({ consumer: consumer.name }, Number(lag > 0n ? lag : 0n));
      }
    },
  });

  return {
    registry,
    observeRequest(method, route, status, seconds) {
      requests.inc({ method, route, status: String(status) });
      requestSeconds.observe({ method, route }, seconds);
    },
    observeProviderCall(channel, provider, outcome, seconds) {
      providerSeconds.observe({ channel, provider: providerLabel(provider), outcome }, seconds);
    },
    observeAppended(events, channelOf) {
      for (const event of events) {
        const status = DELIVERY_STATUS[event.type];
        if (status !== undefined) {
          const data = event.data as { channel?: unknown; notificationId?: unknown; provider?: unknown };
          const channel = channelLabel(data.channel) ?? channelOf(String(data.notificationId));
          deliveries.inc({ channel, provider: providerLabel(data.provider), status });
          if (status === 'dead-lettered') deadLetters.inc({ channel });
          continue;
        }
        if (event.type === 'CreditsBalanceLow') lowBalances.inc();
        const change = CREDIT_EVENTS[event.type];
        const amount = (event.data as { amount?: unknown }).amount;
        if (change !== undefined && typeof amount === 'number' && Number.isFinite(amount))
          credits.inc({ change }, amount);
      }
    },
    observeJobLateness(job, seconds) {
      lateness.observe({ job }, Math.max(0, seconds));
    },
    setConsumerSource(source) {
      consumerSource = source;
    },
    async scrape() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
