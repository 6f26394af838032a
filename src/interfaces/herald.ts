import { randomBytes, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { webhookEndpointsProjection } from '../application/projections/webhook-endpoints.projection.js';
import {
  createWebhookIntentHandler,
  createWebhookOutbox,
  createWebhookPauseAlerts,
  createWebhookSenderJob,
  wakeWebhookSenders,
  WEBHOOK_TARGET,
  type WebhookOutboxDeps,
} from '../application/webhooks/webhook-delivery.js';
import { WEBHOOK_DELIVERY_JOB } from '../application/webhooks/webhook-endpoints.js';
import { createWebhookHttpTransport } from '../infrastructure/webhooks/webhook-http-transport.js';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import type { RetryPolicy } from '../domain/notification/index.js';
import { createHealth } from '../application/health.js';
import type { Clock } from '../application/ports/clock.port.js';
import type { IdSource } from '../application/ports/id-source.port.js';
import type { Logger } from '../application/ports/logger.port.js';
import type { JobHandler, ScheduledJob } from '../application/ports/scheduler.port.js';
import {
  ensureProjectionIndexes,
  projectionConsumer,
  projectionConsumerName,
  type Projection,
} from '../application/projections/projection.js';
import { deliveriesProjection } from '../application/projections/deliveries.projection.js';
import { notificationAuditLogProjection } from '../application/projections/notification-audit-log.projection.js';
import { reservationDetailsProjection } from '../application/projections/reservation-details.projection.js';
import { catalogProjection } from '../application/projections/catalog.projection.js';
import { resourceDayUsageProjection } from '../application/projections/availability.projection.js';
import { apiKeysProjection } from '../application/projections/api-keys.projection.js';
import { tenantsProjection } from '../application/projections/tenants.projection.js';
import { createTenancy, type Tenancy } from '../application/tenancy/tenancy.js';
import { catalogLookups } from '../application/catalog/catalog-queries.js';
import { createSeatKeeper, HOLD_EXPIRY_JOB } from '../application/booking/seat-keeper.js';
import { createNotificationDispatcher, RETRY_JOB } from '../application/notifications/notification-dispatcher.js';
import {
  createNotificationPlanner,
  DELIVERY_TARGET,
  REMINDER_JOB,
} from '../application/notifications/notification-planner.js';
import { createLowCreditAlerts } from '../application/notifications/low-credit-alerts.js';
import { createCreditRefunds } from '../application/notifications/credit-refunds.js';
import { ensureNotificationAdminIndexes } from '../application/notifications/notification-admin.js';
import { createOutOfCreditsAlerts } from '../application/notifications/out-of-credits-alerts.js';
import { customersConsumer, customersProjection } from '../application/projections/customers.projection.js';
import { campaignsProjection } from '../application/projections/campaigns.projection.js';
import { CAMPAIGN_BATCH_JOB, createCampaignRunner } from '../application/messages/campaign-runner.js';
import { processManagerConsumer } from '../application/process-managers/process-manager-runner.js';
import { waitlistEntriesProjection } from '../application/projections/waitlist-entries.projection.js';
import { waitlistsProjection } from '../application/projections/waitlists.projection.js';
import type { WaitlistDeps } from '../application/waitlist/waitlist-commands.js';
import {
  createWaitlistIntentHandler,
  createWaitlistJobs,
  createWaitlistManager,
  WAITLIST_TARGET,
} from '../application/waitlist/waitlist-manager.js';
import { createHmacClaimLinks } from '../infrastructure/auth/hmac-claim-links.js';
import { createHmacCustomerLinks } from '../infrastructure/auth/hmac-customer-links.js';
import { createHmacTelegramLinks } from '../infrastructure/auth/hmac-telegram-links.js';
import { createHmacStaffSessions } from '../infrastructure/auth/hmac-staff-sessions.js';
import { createArgon2PasswordHasher } from '../infrastructure/auth/argon2-password-hasher.js';
import type { PasswordHasher } from '../application/ports/password-hasher.port.js';
import type { StaffDeps } from '../application/staff/staff-accounts.js';
import { staffAccountsProjection } from '../application/projections/staff-accounts.projection.js';
import { loadWebAssets, type WebAssets } from './http/web-assets.js';
import {
  CALENDAR_CONFLICT_TARGET,
  CALENDAR_SYNC_JOB,
  createCalendarConflictHandler,
  createCalendarSyncJob,
  createResourceCalendarManager,
  type ResourceCalendarDeps,
} from '../application/calendars/resource-calendars.js';
import { resourceCalendarsProjection } from '../application/projections/resource-calendars.projection.js';
import { createCalendarBusyReader } from '../infrastructure/calendars/calendar-busy-reader.js';
import { refusedUrl } from '../infrastructure/calendars/guarded-http.js';
import { createSecretBox, parseKey256 } from '../infrastructure/crypto/secret-box.js';
import type { EventConsumer } from '../application/subscriptions/checkpointed-subscriber.js';
import { createConsumerHub, waitForCheckpoint, type ConsumerHub } from '../application/subscriptions/consumer-hub.js';
import { keySecrets } from '../infrastructure/auth/key-secrets.js';
import { createPdfDocumentRenderer } from '../infrastructure/documents/pdf-document-renderer.js';
import { trustProxyOption, type Config } from '../infrastructure/config.js';
import { systemClock } from '../infrastructure/system-clock.js';
import { uuidIdSource } from '../infrastructure/uuid-id-source.js';
import { defaultChannelProviders, type Adapters } from './adapters.js';
import { createTenantChannelDirectory } from '../application/channels/channel-configuration.js';
import { createChannelAdapterFactory } from '../infrastructure/channels/adapter-factory.js';
import { createAesGcmCredentialCipher } from '../infrastructure/crypto/aes-gcm-credential-cipher.js';
import { createHeraldMetrics } from '../infrastructure/telemetry/metrics.js';
import { instrumentChannelAdapter, instrumentEventStore } from '../infrastructure/telemetry/instrumented.js';
import type { ChannelAdapter } from '../application/ports/channel.port.js';
import type { Channel } from '../domain/notification/index.js';
import { buildApp } from './http/app.js';
import type { HttpDeps } from './http/http-deps.js';

export interface HeraldOptions {
  readonly config: Config;
  readonly adapters: Adapters;
  readonly logger: Logger;
  readonly httpLogger?: FastifyServerOptions['loggerInstance'];
  readonly clock?: Clock;
  readonly ids?: IdSource;
  /** Backoff between delivery attempts; the domain's default (5 s doubling to 10 min) when absent. */
  readonly retryPolicy?: RetryPolicy;
  /** Staff password hashing; argon2id with OWASP's parameters when absent. */
  readonly passwordHasher?: PasswordHasher;
  /** The built pages (dist/web); read from disk when absent. */
  readonly webAssets?: WebAssets;
}

export interface Herald {
  readonly app: FastifyInstance;
  /** What the HTTP app was built from (tests build variants of the app on the same stores). */
  readonly httpDeps: HttpDeps;
  readonly adapters: Adapters;
  /** Tenants and API keys (event-sourced); what authentication asks. */
  readonly tenancy: Tenancy;
  readonly clock: Clock;
  readonly ids: IdSource;
  /** This process, as other instances and the delivery attempts it starts know it. */
  readonly instance: string;
  /** Every consumer (projections, process managers) and where it stands here: positions for lag, leases. */
  readonly consumers: ConsumerHub;
  /** Starts projections, process managers and the scheduler. */
  start(): Promise<void>;
  /** Runs one scheduled job now, as the scheduler would (tests with a moved clock, operations). */
  runJob(job: ScheduledJob): Promise<void>;
  /** Resolves once every consumer has handled every event appended so far (tests, benchmarks, readiness). */
  settle(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Every projection Herald keeps (the rebuild command rebuilds and verifies exactly these). */
export const PROJECTIONS = [
  reservationDetailsProjection,
  deliveriesProjection,
  notificationAuditLogProjection,
  catalogProjection,
  resourceDayUsageProjection,
  waitlistsProjection,
  waitlistEntriesProjection,
  tenantsProjection,
  apiKeysProjection,
  staffAccountsProjection,
  resourceCalendarsProjection,
  campaignsProjection,
  webhookEndpointsProjection,
] as unknown as readonly Projection[];

/** Projections whose consumer enriches events before applying them (their indexes are ensured with the others). */
const ENRICHED_PROJECTIONS = [customersProjection] as unknown as readonly Projection[];

/** The projections authentication reads: caught up before the app serves a request. */
const AUTHENTICATION_PROJECTIONS = [
  tenantsProjection,
  apiKeysProjection,
  staffAccountsProjection,
] as unknown as readonly Projection[];

/** Where customers reach this service: PUBLIC_URL, else the address it listens on (embedded, development). */
function publicBaseUrl(config: Config): string {
  if (config.PUBLIC_URL) return config.PUBLIC_URL;
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.PORT}`;
}

/** The composition root: every dependency is built here, by hand, and passed down explicitly. */
export async function createHerald(options: HeraldOptions): Promise<Herald> {
  const { config, adapters, logger } = options;
  const clock = options.clock ?? systemClock;
  const ids = options.ids ?? uuidIdSource;
  // Metrics are always counted (cheap, bounded); GET /metrics serves them only with METRICS_TOKEN.
  const metrics = createHeraldMetrics();
  const eventStore = instrumentEventStore(adapters.eventStore, { metrics });
  const { readModels, scheduler } = adapters;
  const instance = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const leases = config.INSTANCES === 'many' ? adapters.leases : undefined;
  if (config.INSTANCES === 'many' && !leases) throw new Error('INSTANCES=many needs a lease store');
  const tenancy = createTenancy({
    eventStore,
    readModels,
    ids,
    clock,
    secrets: keySecrets,
    logger,
    ...(config.OPERATOR_API_KEY ? { operatorSecret: config.OPERATOR_API_KEY } : {}),
    ...(config.BOOTSTRAP_API_KEY ? { bootstrapSecret: config.BOOTSTRAP_API_KEY } : {}),
  });
  // Keys kept in the read models by earlier versions become events before anything else reads keys.
  await tenancy.migrateLegacyKeys();
  await tenancy.ensureBootstrapKey();

  let claimLinkSecret = adapters.claimLinkSecret;
  if (!claimLinkSecret) {
    claimLinkSecret = randomBytes(32).toString('base64url');
    logger.warn({}, 'no CLAIM_LINK_SECRET: waitlist claim links will not survive a restart of this process');
  }
  const claimLinks = createHmacClaimLinks({ secret: claimLinkSecret, publicUrl: publicBaseUrl(config) });
  const customerLinks = createHmacCustomerLinks({ secret: claimLinkSecret, publicUrl: publicBaseUrl(config) });
  const staff: StaffDeps = {
    eventStore,
    ids,
    clock,
    readModels,
    hasher: options.passwordHasher ?? createArgon2PasswordHasher(),
    sessions: createHmacStaffSessions(claimLinkSecret),
    sessionHours: config.STAFF_SESSION_HOURS,
  };
  const waitlistDeps: WaitlistDeps = {
    eventStore,
    ids,
    clock,
    scheduler,
    holdMinutes: config.RESERVATION_HOLD_MINUTES,
    logger,
  };
  const waitlistManager = processManagerConsumer(createWaitlistManager({ eventStore, ids, clock, readModels }), {
    scheduler,
    handlers: { [WAITLIST_TARGET]: createWaitlistIntentHandler(waitlistDeps) },
    logger,
  });

  let calendarKey = adapters.calendarCredentialsKey ? parseKey256(adapters.calendarCredentialsKey) : undefined;
  if (!calendarKey) {
    calendarKey = randomBytes(32);
    logger.warn({}, 'no calendar credentials key: calendar links made by this process will not sync after a restart');
  }
  const feedGuard = { allowLoopback: config.CALENDAR_FEED_ALLOW_LOOPBACK, allowHttp: config.CALENDAR_FEED_ALLOW_HTTP };
  const calendarDeps: ResourceCalendarDeps = {
    eventStore,
    ids,
    clock,
    scheduler,
    readModels,
    logger,
    secrets: createSecretBox(calendarKey),
    reader: createCalendarBusyReader({
      limits: {
        timeoutMs: config.CALENDAR_FETCH_TIMEOUT_SECONDS * 1000,
        maxBytes: config.CALENDAR_MAX_RESPONSE_BYTES,
        maxRedirects: config.CALENDAR_MAX_REDIRECTS,
      },
      guard: feedGuard,
      googleApiUrl: config.CALENDAR_GOOGLE_API_URL,
      graphApiUrl: config.CALENDAR_GRAPH_API_URL,
      providers: config.CALENDAR_PROVIDERS,
      now: () => clock.now(),
    }),
    settings: {
      providers: config.CALENDAR_PROVIDERS,
      horizonDays: config.CALENDAR_HORIZON_DAYS,
      maxBusyIntervals: config.CALENDAR_MAX_BUSY_INTERVALS,
      defaultIntervalMinutes: config.CALENDAR_SYNC_INTERVAL_MINUTES,
      minIntervalMinutes: config.CALENDAR_SYNC_MIN_MINUTES,
      maxRetryAfterMinutes: config.CALENDAR_RETRY_AFTER_MAX_MINUTES,
    },
    feedUrlRefusal: (url) => refusedUrl(url, feedGuard),
  };
  const calendarManager = processManagerConsumer(createResourceCalendarManager(calendarDeps), {
    scheduler,
    handlers: { [CALENDAR_CONFLICT_TARGET]: createCalendarConflictHandler(calendarDeps) },
    logger,
  });

  const planner = createNotificationPlanner({
    eventStore,
    ids,
    clock,
    scheduler,
    logger,
    ...catalogLookups(eventStore),
    maxAttempts: config.NOTIFICATION_MAX_ATTEMPTS,
    claimLinks,
    customerLinks,
    readModels,
  });
  let channelKey = adapters.channelCredentialsKey;
  if (!channelKey) {
    channelKey = randomBytes(32);
    logger.warn(
      {},
      "no channel credentials key: tenants' channel credentials will not survive a restart of this process",
    );
  }
  const cipher = createAesGcmCredentialCipher(channelKey);
  // Provider latency and outcomes are measured on every channel's adapters: the environment's and tenants' own.
  const instrument = (adapter: ChannelAdapter) => instrumentChannelAdapter(adapter, { metrics });
  const environmentChannels = Object.fromEntries(
    Object.entries(defaultChannelProviders(adapters)).map(([channel, list]) => [channel, (list ?? []).map(instrument)]),
  ) as Partial<Record<Channel, readonly ChannelAdapter[]>>;
  const adapterFactory = createChannelAdapterFactory({ clock, logger });
  const channels = createTenantChannelDirectory({
    eventStore,
    cipher,
    factory: (provider, settings, credentials) => instrument(adapterFactory(provider, settings, credentials)),
    environment: environmentChannels,
    logger,
  });
  const seatKeeper = createSeatKeeper({ eventStore, ids, clock, scheduler, logger });
  const campaignThrottle = { sms: config.CAMPAIGN_SMS_PER_SECOND, email: config.CAMPAIGN_EMAIL_PER_SECOND };
  const dispatcher = createNotificationDispatcher({
    campaignThrottle,
    eventStore,
    ids,
    clock,
    scheduler,
    logger,
    channels,
    failoverAfterMs: config.CHANNEL_FAILOVER_AFTER_SECONDS * 1000,
    retryAfterMaxMs: config.CHANNEL_RETRY_AFTER_MAX_SECONDS * 1000,
    ...(config.PUBLIC_URL ? { publicUrl: config.PUBLIC_URL } : {}),
    ...(options.retryPolicy ? { retryPolicy: options.retryPolicy } : {}),
    readModels,
    instance,
    ...(leases
      ? {
          isAlive: async (other: string) => (await leases.holder(`instance:${other}`))?.owner === other,
          recheckAfterMs: config.LEASE_TTL_MS,
        }
      : {}),
    documents: createPdfDocumentRenderer(),
  });
  const campaignRunner = createCampaignRunner({
    eventStore,
    ids,
    clock,
    scheduler,
    logger,
    throttle: campaignThrottle,
    maxAttempts: config.NOTIFICATION_MAX_ATTEMPTS,
  });
  const campaignConsumer = processManagerConsumer(campaignRunner.manager, { scheduler, handlers: {}, logger });
  const webhookDeps: WebhookOutboxDeps = {
    eventStore,
    ids,
    clock,
    cipher,
    scheduler,
    readModels,
    logger,
    transport: createWebhookHttpTransport({
      guard: { allowHttp: config.WEBHOOK_ALLOW_HTTP, allowLoopback: config.WEBHOOK_ALLOW_LOOPBACK },
      timeoutMs: config.WEBHOOK_TIMEOUT_SECONDS * 1000,
    }),
    settings: {
      retryScheduleMs: config.WEBHOOK_RETRY_SCHEDULE_SECONDS.map((seconds) => seconds * 1000),
      ...(config.WEBHOOK_PAUSE_AFTER_HOURS !== undefined
        ? { pauseAfterMs: Math.round(config.WEBHOOK_PAUSE_AFTER_HOURS * 3_600_000) }
        : {}),
      retryAfterMaxMs: config.WEBHOOK_RETRY_AFTER_MAX_SECONDS * 1000,
      leaseMs: config.WEBHOOK_TIMEOUT_SECONDS * 1000 + 30_000,
    },
    // The outbox looks endpoints up in their projection: it waits until that has seen every event before the one
    // it handles, so an endpoint created before an event is never missed.
    endpointsCaughtUp: async (position) => {
      await waitForCheckpoint(
        hub,
        readModels,
        projectionConsumerName(webhookEndpointsProjection),
        position - 1n,
        30_000,
      );
    },
  };
  const webhookOutboxConsumer = processManagerConsumer(createWebhookOutbox(webhookDeps), {
    scheduler,
    handlers: { [WEBHOOK_TARGET]: createWebhookIntentHandler(webhookDeps) },
    logger,
  });
  const consumers: EventConsumer[] = [
    ...PROJECTIONS.map((projection) => projectionConsumer(readModels, projection)),
    planner.consumer,
    dispatcher.consumer,
    seatKeeper.consumer,
    waitlistManager,
    calendarManager,
    createCreditRefunds({ eventStore, ids, logger }),
    createOutOfCreditsAlerts({ eventStore, ids, clock, logger }),
    customersConsumer({ eventStore, readModels, ids }),
    campaignConsumer,
    processManagerConsumer(createLowCreditAlerts({ eventStore, ids, clock }), {
      scheduler,
      handlers: { [DELIVERY_TARGET]: planner.deliveryHandler },
      logger,
    }),
    webhookOutboxConsumer,
    processManagerConsumer(createWebhookPauseAlerts(webhookDeps), {
      scheduler,
      handlers: { [DELIVERY_TARGET]: planner.deliveryHandler },
      logger,
    }),
  ];
  const jobHandlers = new Map<string, JobHandler>([
    [REMINDER_JOB, planner.reminderJob],
    [RETRY_JOB, dispatcher.retryJob],
    [HOLD_EXPIRY_JOB, seatKeeper.holdExpiryJob],
    [CAMPAIGN_BATCH_JOB, campaignRunner.batchJob],
    ...Object.entries(createWaitlistJobs(waitlistDeps)),
    [CALENDAR_SYNC_JOB, createCalendarSyncJob(calendarDeps)],
    [WEBHOOK_DELIVERY_JOB, createWebhookSenderJob(webhookDeps)],
  ]);
  const hub = createConsumerHub(
    {
      eventStore,
      readModels,
      logger,
      ...(leases
        ? {
            leases: {
              store: leases,
              owner: instance,
              ttlMs: config.LEASE_TTL_MS,
              renewEveryMs: Math.max(250, Math.floor(config.LEASE_TTL_MS / 3)),
            },
          }
        : {}),
    },
    consumers,
  );
  const recoveries = new Set<Promise<void>>();
  let stopping = false;

  // Whenever this process starts running the dispatcher (at start, or taking over a dead instance's lease): once the
  // audit trail has caught up with the log, finish what a previous holder left unfinished.
  hub.onLive(dispatcher.consumer.name, () => {
    const recovery = (async () => {
      const head = await eventStore.headPosition();
      await waitForCheckpoint(
        hub,
        readModels,
        projectionConsumerName(deliveriesProjection),
        head,
        120_000,
        () => stopping,
      );
      if (stopping) return;
      const recovered = await dispatcher.recoverUnfinished();
      if (recovered > 0) logger.info({ recovered }, 'unfinished deliveries dispatched again');
    })().catch((error: unknown) => logger.error({ err: String(error) }, 'recovery of unfinished deliveries failed'));
    recoveries.add(recovery);
    void recovery.finally(() => recoveries.delete(recovery));
  });
  // Likewise for campaigns: whoever runs the campaign runner resumes the running ones once their projection caught up.
  hub.onLive(campaignConsumer.name, () => {
    const recovery = (async () => {
      const head = await eventStore.headPosition();
      await waitForCheckpoint(
        hub,
        readModels,
        projectionConsumerName(campaignsProjection),
        head,
        120_000,
        () => stopping,
      );
      if (stopping) return;
      const resumed = await campaignRunner.resumeRunning(readModels);
      if (resumed > 0) logger.info({ resumed }, 'running campaigns resumed');
    })().catch((error: unknown) => logger.error({ err: String(error) }, 'resuming running campaigns failed'));
    recoveries.add(recovery);
    void recovery.finally(() => recoveries.delete(recovery));
  });
  // Whoever runs the webhook outbox wakes the senders of endpoints with undelivered events once the endpoints'
  // projection caught up (a sender's wake-up job may have been lost with the previous holder).
  hub.onLive(webhookOutboxConsumer.name, () => {
    const recovery = (async () => {
      const head = await eventStore.headPosition();
      await waitForCheckpoint(
        hub,
        readModels,
        projectionConsumerName(webhookEndpointsProjection),
        head,
        120_000,
        () => stopping,
      );
      if (stopping) return;
      const woken = await wakeWebhookSenders(webhookDeps);
      if (woken > 0) logger.info({ endpoints: woken }, 'webhook senders with undelivered events woken');
    })().catch((error: unknown) => logger.error({ err: String(error) }, 'waking webhook senders failed'));
    recoveries.add(recovery);
    void recovery.finally(() => recoveries.delete(recovery));
  });
  metrics.setConsumerSource(async () => ({
    head: await eventStore.headPosition(),
    consumers: hub.running().map((subscriber) => ({ name: subscriber.name, position: subscriber.position() })),
  }));

  const health = createHealth({
    checks: { eventStore: () => eventStore.ping(), readModels: () => readModels.ping() },
    headPosition: () => eventStore.headPosition(),
    subscribers: () => hub.running(),
  });

  const httpDeps: HttpDeps = {
    tenancy,
    health,
    readModels,
    clock,
    eventStore,
    ids,
    twilio: { authToken: config.TWILIO_AUTH_TOKEN, publicUrl: config.PUBLIC_URL },
    reservationHoldMinutes: config.RESERVATION_HOLD_MINUTES,
    waitlist: waitlistDeps,
    claimLinks,
    customerLinks,
    staff,
    // Secure cookies unless the service is reached over plain http (development on loopback).
    secureCookies: !publicBaseUrl(config).startsWith('http://'),
    web: options.webAssets ?? loadWebAssets(),
    channels: { cipher, environment: environmentChannels },
    webhooks: webhookDeps,
    telegram: {
      links: createHmacTelegramLinks(claimLinkSecret),
      // The environment's bot serves tenants without one of their own only when it can send (a token is set).
      ...(config.TELEGRAM_BOT_TOKEN
        ? {
            environmentBot: {
              ...(config.TELEGRAM_BOT_USERNAME ? { username: config.TELEGRAM_BOT_USERNAME } : {}),
              ...(config.TELEGRAM_WEBHOOK_SECRET ? { webhookSecret: config.TELEGRAM_WEBHOOK_SECRET } : {}),
            },
          }
        : {}),
    },
    providerWebhooks: {
      ...(config.SENDGRID_WEBHOOK_PUBLIC_KEY ? { sendgridPublicKey: config.SENDGRID_WEBHOOK_PUBLIC_KEY } : {}),
      ...(config.WHATSAPP_APP_SECRET ? { whatsappAppSecret: config.WHATSAPP_APP_SECRET } : {}),
      ...(config.WHATSAPP_VERIFY_TOKEN ? { whatsappVerifyToken: config.WHATSAPP_VERIFY_TOKEN } : {}),
    },
    calendars: calendarDeps,
    messaging: { throttle: campaignThrottle, maxAttempts: config.NOTIFICATION_MAX_ATTEMPTS },
    limits: {
      requestsPerKeyPerMinute: config.RATE_LIMIT_PER_KEY,
      authFailuresPerMinute: config.AUTH_FAILURES_PER_MINUTE,
      signInAttemptsPerMinute: config.SIGN_IN_ATTEMPTS_PER_MINUTE,
      publicRequestsPerMinute: config.PUBLIC_REQUESTS_PER_MINUTE,
    },
    metrics: {
      observeRequest: (method, route, status, seconds) => metrics.observeRequest(method, route, status, seconds),
      scrape: () => metrics.scrape(),
      ...(config.METRICS_TOKEN ? { token: config.METRICS_TOKEN } : {}),
    },
  };
  const app = await buildApp(httpDeps, {
    ...(options.httpLogger ? { loggerInstance: options.httpLogger } : {}),
    trustProxy: trustProxyOption(config),
  });

  return {
    app,
    httpDeps,
    adapters,
    tenancy,
    clock,
    ids,
    instance,
    consumers: hub,
    async start() {
      await ensureProjectionIndexes(readModels, [...PROJECTIONS, ...ENRICHED_PROJECTIONS]);
      await ensureNotificationAdminIndexes(readModels);
      await hub.start();
      // Keys and tenants must be found before the first request: after a read-model rebuild they are replayed
      // here (their streams are few and small), so a valid key is never refused because a projection lags. With
      // several instances the projection may run in another one: its stored checkpoint tells.
      const authenticationHead = await eventStore.headPosition();
      await Promise.all(
        AUTHENTICATION_PROJECTIONS.map((projection) =>
          waitForCheckpoint(hub, readModels, projectionConsumerName(projection), authenticationHead, 120_000),
        ),
      ).catch((error: unknown) =>
        // A very long log: serve anyway (/health/ready says not ready); keys not replayed yet get 401 meanwhile.
        logger.warn({ err: String(error) }, 'keys and tenants not caught up at start; serving anyway'),
      );
      await scheduler.start(async (job) => {
        const handler = jobHandlers.get(job.name);
        if (!handler) {
          logger.warn({ job: job.name, key: job.key }, 'no handler for job; dropping it');
          return;
        }
        metrics.observeJobLateness(job.name, (clock.now().getTime() - job.runAt.getTime()) / 1000);
        await handler(job);
      });
    },
    async runJob(job) {
      const handler = jobHandlers.get(job.name);
      if (!handler) throw new Error(`no handler for job ${job.name}`);
      await handler(job);
    },
    async settle(timeoutMs = 10_000) {
      // Consumers may append (process managers): loop until the head stops moving. Only the consumers running in
      // this process are waited for.
      for (let previous = -2n; ;) {
        const head = await eventStore.headPosition();
        if (head === previous) return;
        await hub.waitFor(head, timeoutMs);
        previous = head;
      }
    },
    async stop() {
      stopping = true;
      await app.close();
      await Promise.all([...recoveries]);
      await scheduler.stop();
      await hub.stop();
      await channels.close();
      await adapters.close();
    },
  };
}
