import { reservationDecider, reservationStreamName } from '../../domain/booking/reservation.decider.js';
import {
  deliveryDecider,
  maskAddress,
  retryDelayMs,
  type DeliveryCommand,
  type DeliveryDetails,
  type DeliveryEvent,
  type ContentAttachment,
  type DeliveryState,
  type RetryPolicy,
} from '../../domain/notification/index.js';
import type { Channel } from '../../domain/notification/kinds.js';
import { IllegalStateError } from '../../domain/shared/errors.js';
import { handleCommand, loadAggregate, type CommandContext, type CommandHandlerDeps } from '../command-handler.js';
import type { ChannelAdapter, ChannelDirectory, OutboundMessage, SendOutcome } from '../ports/channel.port.js';
import type { Clock } from '../ports/clock.port.js';
import type { Logger } from '../ports/logger.port.js';
import type { JobHandler, Scheduler } from '../ports/scheduler.port.js';
import type { DocumentRenderer, RenderedAttachment } from '../ports/document-renderer.port.js';
import type { ReadModelStore } from '../ports/read-model-store.port.js';
import { deliveriesProjection, type DeliveryDocument } from '../projections/deliveries.projection.js';
import { physicalCollection } from '../projections/projection.js';
import { describe, type EventConsumer } from '../subscriptions/checkpointed-subscriber.js';
import { deliveryStreamName } from './notification-streams.js';
import { createSendRateLimiter, type SendRateLimiter } from '../messages/send-rate-limiter.js';

export const RETRY_JOB = 'notification.retry';

export interface NotificationDispatcherDeps extends CommandHandlerDeps {
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  /** The adapters of the channel port that send a tenant's messages on a channel, first provider first. */
  readonly channels: ChannelDirectory;
  readonly logger: Logger;
  /** Public base URL: providers that take a callback URL per message post to `<url><adapter.statusCallbackPath>`. */
  readonly publicUrl?: string;
  /** [0, 1) — the jitter of retry delays. */
  readonly random?: () => number;
  /** Deliveries sent at once. */
  readonly concurrency?: number;
  /** The deliveries read model, for the start-up sweep of interrupted deliveries. */
  readonly readModels?: ReadModelStore;
  /** Backoff of transient failures. Default DEFAULT_RETRY_POLICY (5 s doubling to 10 min). */
  readonly retryPolicy?: RetryPolicy;
  /**
   * How long a delivery's provider may fail retryably before the next attempts go to the channel's next provider
   * (CHANNEL_FAILOVER_AFTER_SECONDS). Default 5 minutes.
   */
  readonly failoverAfterMs?: number;
  /** The longest wait a provider's Retry-After may impose (CHANNEL_RETRY_AFTER_MAX_SECONDS). Default 1 hour. */
  readonly retryAfterMaxMs?: number;
  /** This process, recorded on the attempts it starts. */
  readonly instance?: string;
  /**
   * Whether another Herald process is alive (INSTANCES=many): an attempt it started may still be in flight there,
   * so it is left alone and looked at again after `recheckAfterMs`. Absent: one instance, and any attempt this
   * process is not running was interrupted.
   */
  readonly isAlive?: (instance: string) => Promise<boolean>;
  readonly recheckAfterMs?: number;
  /** Renders the documents an email carries (the reservation's PDF); without it such an email fails permanently. */
  readonly documents?: DocumentRenderer;
  /**
   * Campaign messages a second per channel (CAMPAIGN_SMS_PER_SECOND, CAMPAIGN_EMAIL_PER_SECOND): a campaign's
   * deliveries start no faster than this per tenant and channel, whatever the timing of the batches. Absent: unpaced.
   */
  readonly campaignThrottle?: Readonly<Partial<Record<Channel, number>>>;
  readonly sendRateLimiter?: SendRateLimiter;
}

type Stream = { readonly state: DeliveryState; readonly revision: bigint | 'no_stream' };

export const DEFAULT_FAILOVER_AFTER_MS = 5 * 60_000;
export const DEFAULT_RETRY_AFTER_MAX_MS = 60 * 60_000;
/** A Retry-After of 0 (or a date in the past) still waits this long: a misbehaving provider cannot make us spin. */
export const RETRY_AFTER_MIN_MS = 1_000;

/** The recorded name of "no provider": a channel the tenant has not configured. */
const NO_PROVIDER = 'none';

/**
 * Which of the channel's providers the next attempt of a delivery goes to: the first, until this delivery has been
 * failing retryably for `failoverAfterMs`; then the next one, and so on down the list (each gets the same time).
 */
export function providerIndexFor(
  state: { readonly failingSince?: string },
  now: Date,
  providers: number,
  failoverAfterMs: number,
): number {
  if (providers <= 1 || state.failingSince === undefined) return 0;
  const failingFor = now.getTime() - Date.parse(state.failingSince);
  if (!(failingFor >= failoverAfterMs)) return 0;
  return Math.min(providers - 1, Math.floor(failingFor / failoverAfterMs));
}

/** The delay before the next attempt: the provider's Retry-After within bounds when it gave one, else the backoff. */
export function nextAttemptDelayMs(
  retryAfterMs: number | undefined,
  backoffMs: number,
  maxMs: number = DEFAULT_RETRY_AFTER_MAX_MS,
): number {
  if (retryAfterMs === undefined || !Number.isFinite(retryAfterMs)) return backoffMs;
  return Math.min(Math.max(retryAfterMs, RETRY_AFTER_MIN_MS), maxMs);
}

/** A document the email carries could not be rendered: the same delivery fails the same way every time. */
class AttachmentError extends Error {}

/** How far back an interrupted attempt is looked for at the provider (clock skew between us and the provider). */
const RECONCILE_SKEW_MS = 5 * 60_000;

const ACTOR = 'system:notification-dispatcher';

/**
 * Provider errors often quote the recipient ("550 <ada@example.com>: mailbox unavailable"). They go into events,
 * the audit trail and logs, which show masked recipients only: addresses and numbers are masked here.
 */
export function scrubContacts(text: string): string {
  return text
    .replace(/[^\s<>@"']+@[^\s<>@"']+\.[^\s<>@"']+/g, (email) => maskAddress('email', email))
    .replace(/\+[1-9]\d{6,14}/g, (phone) => maskAddress('sms', phone));
}

/**
 * Sends requested deliveries through the channel port. Each attempt is recorded as started (with the provider it
 * goes to) before the provider is called and as sent or failed after, so a crash between the two is visible on
 * restart: a provider that can be asked (Twilio) is asked before anything is sent again; the others get the same
 * request again with the same idempotency key (an email the same Message-ID), which receiving systems use to drop
 * the duplicate (docs/decisions/0005-delivery-exactly-once.md). Retries honour the provider's Retry-After; a
 * delivery failing retryably for CHANNEL_FAILOVER_AFTER_SECONDS moves to the channel's next provider.
 */
export function createNotificationDispatcher(deps: NotificationDispatcherDeps): {
  consumer: EventConsumer;
  retryJob: JobHandler;
  dispatch(tenantId: string, notificationId: string): Promise<void>;
  recoverUnfinished(): Promise<number>;
} {
  const random = deps.random ?? Math.random;
  const failoverAfterMs = deps.failoverAfterMs ?? DEFAULT_FAILOVER_AFTER_MS;
  const retryAfterMaxMs = deps.retryAfterMaxMs ?? DEFAULT_RETRY_AFTER_MAX_MS;
  const now = () => deps.clock.now().toISOString();
  const campaignPace = deps.sendRateLimiter ?? createSendRateLimiter();

  // `from`: the stream as this dispatch last saw it, so a dispatch reads its stream once, not once per command.
  const run = (
    tenantId: string,
    notificationId: string,
    command: DeliveryCommand,
    context: CommandContext,
    from?: Stream,
  ) =>
    handleCommand(
      deps,
      deliveryStreamName(tenantId, notificationId),
      deliveryDecider,
      command,
      context,
      from ? { from } : {},
    );

  const outbound = (
    state: Extract<DeliveryState, { status: 'sending' }>,
    adapter: ChannelAdapter | undefined,
  ): OutboundMessage => {
    const { delivery } = state;
    return {
      tenantId: delivery.tenantId,
      notificationId: delivery.notificationId,
      channel: delivery.channel,
      idempotencyKey: delivery.notificationId,
      to: delivery.recipient.address,
      content: delivery.content,
      // The delivery travels in the URL, so a callback never depends on a read model that may lag behind.
      ...(deps.publicUrl && adapter?.statusCallbackPath
        ? {
            statusCallbackUrl: `${deps.publicUrl.replace(/\/$/, '')}${adapter.statusCallbackPath}?tenant=${encodeURIComponent(
              delivery.tenantId,
            )}&notification=${encodeURIComponent(delivery.notificationId)}`,
          }
        : {}),
    };
  };

  /** Rendered from the delivery's own data, so every attempt sends the same bytes; a rendering fault is permanent. */
  const renderAttachments = async (attachments: readonly ContentAttachment[]): Promise<RenderedAttachment[]> => {
    if (attachments.length === 0) return [];
    if (!deps.documents) throw new AttachmentError('no document renderer configured for the attachments');
    const renderer = deps.documents;
    try {
      return await Promise.all(attachments.map((attachment) => renderer.render(attachment)));
    } catch (error) {
      throw new AttachmentError(`attachment could not be rendered: ${describe(error)}`);
    }
  };

  /** An attempt that started but never reported back (the process died). */
  const reconcile = async (
    tenantId: string,
    state: Extract<DeliveryState, { status: 'sending' }>,
    context: CommandContext,
    from: Stream,
  ): Promise<Stream> => {
    const { delivery } = state;
    const providers = await deps.channels.providersFor(tenantId, delivery.channel);
    // The provider the attempt went to; attempts recorded before providers were named went to the channel's only one.
    const adapter = state.provider === undefined ? providers[0] : providers.find((p) => p.provider === state.provider);
    if (adapter?.findAccepted) {
      const since = new Date(Date.parse(state.attemptStartedAt) - RECONCILE_SKEW_MS);
      const found = await adapter.findAccepted(outbound(state, adapter), since);
      if (found) {
        deps.logger.info(
          { tenantId, notificationId: delivery.notificationId, provider: adapter.provider },
          'interrupted attempt found at the provider',
        );
        return run(
          tenantId,
          delivery.notificationId,
          {
            type: 'RecordProviderAccepted',
            data: { providerMessageId: found.providerMessageId, at: found.acceptedAt, provider: adapter.provider },
          },
          context,
          from,
        );
      }
    }
    const at = now();
    return run(
      tenantId,
      delivery.notificationId,
      {
        type: 'RecordAttemptFailed',
        data: {
          attempt: state.attempts,
          error: 'interrupted before the outcome was recorded',
          transient: true,
          at,
          nextAttemptAt: at,
        },
      },
      context,
      from,
    );
  };

  // One dispatch per delivery at a time in this process. Two at once (an event redelivered after a restart and the
  // delivery's due retry job; a staff re-send and a retry) would otherwise both send: the second either starts the
  // same attempt number (the decider returns [] for it) or takes the first one's live attempt for an interrupted
  // one and reconciles it before the provider has answered.
  const inFlight = new Map<string, Promise<void>>();
  const dispatch = (tenantId: string, notificationId: string): Promise<void> => {
    const key = `${tenantId}:${notificationId}`;
    const previous = inFlight.get(key) ?? Promise.resolve();
    const next = previous.then(() => dispatchAlone(tenantId, notificationId));
    const tail = next.catch(() => undefined);
    inFlight.set(key, tail);
    void tail.then(() => {
      if (inFlight.get(key) === tail) inFlight.delete(key);
    });
    return next;
  };

  const dispatchAlone = async (tenantId: string, notificationId: string): Promise<void> => {
    const context: CommandContext = {
      tenantId,
      actor: ACTOR,
      causationId: notificationId,
      correlationId: notificationId,
      ...(deps.instance ? { instance: deps.instance } : {}),
    };
    const loaded = await loadAggregate(deps.eventStore, deliveryStreamName(tenantId, notificationId), deliveryDecider);
    let stream: Stream = loaded;
    if (stream.state.status === 'sending') {
      // Not in flight in this process (dispatches of one delivery are serialised here): interrupted, unless the
      // process that started it is alive and may still be waiting for the provider.
      const startedBy = loaded.events.findLast((e) => e.type === 'NotificationAttemptStarted')?.metadata.instance;
      if (
        typeof startedBy === 'string' &&
        startedBy !== deps.instance &&
        deps.isAlive &&
        (await deps.isAlive(startedBy))
      ) {
        const recheck = new Date(deps.clock.now().getTime() + (deps.recheckAfterMs ?? 10_000)).toISOString();
        await scheduleRetry(tenantId, notificationId, recheck);
        return;
      }
      stream = await reconcile(tenantId, stream.state, context, stream);
    }
    const state = stream.state;
    if (state.status !== 'requested') return;
    if (state.nextAttemptAt && Date.parse(state.nextAttemptAt) > deps.clock.now().getTime()) {
      await scheduleRetry(tenantId, notificationId, state.nextAttemptAt);
      return;
    }
    if (state.attempts === 0 && state.delivery.validWhile) {
      const changed = await reservationChanged(tenantId, state.delivery.validWhile);
      if (changed) {
        await run(
          tenantId,
          notificationId,
          { type: 'SkipNotification', data: { reason: 'obsolete', detail: changed, skippedAt: now() } },
          context,
        );
        return;
      }
    }

    const attempt = state.attempts + 1;
    const providers = await deps.channels.providersFor(tenantId, state.delivery.channel);
    const adapter = providers[providerIndexFor(state, deps.clock.now(), providers.length, failoverAfterMs)];
    let started: DeliveryState;
    try {
      const result = await run(
        tenantId,
        notificationId,
        { type: 'StartAttempt', data: { attempt, at: now(), provider: adapter?.provider ?? NO_PROVIDER } },
        context,
        stream,
      );
      // No event appended: another worker started this attempt between our read and our append; it owns the outcome.
      if (result.newEvents.length === 0) return;
      started = result.state;
      stream = result;
    } catch (error) {
      // Another worker started this attempt first; it owns the outcome.
      if (error instanceof IllegalStateError) return;
      throw error;
    }
    if (started.status !== 'sending' || started.attempts !== attempt) return;

    let result: SendOutcome;
    if (adapter === undefined) {
      result = {
        outcome: 'permanent',
        reason: `no provider is configured for the ${started.delivery.channel} channel`,
        code: 'channel-not-configured',
      };
    } else {
      try {
        const attachments = await renderAttachments(started.delivery.content.attachments ?? []);
        const perSecond = deps.campaignThrottle?.[started.delivery.channel];
        if (started.delivery.campaignId !== undefined && perSecond !== undefined) {
          await campaignPace.acquire(`${tenantId}|${started.delivery.channel}`, perSecond);
        }
        result = await adapter.send({
          ...outbound(started, adapter),
          ...(attachments.length > 0 ? { attachments } : {}),
        });
      } catch (error) {
        if (error instanceof AttachmentError) {
          result = { outcome: 'permanent', reason: error.message, code: 'attachment' };
        } else {
          // The port says adapters return outcomes; a throw is a bug or an unexpected failure, worth another attempt.
          result = { outcome: 'retryable', reason: describe(error) };
        }
      }
    }
    const provider = adapter?.provider ?? NO_PROVIDER;
    let outcome: DeliveryCommand;
    if (result.outcome === 'accepted') {
      outcome = {
        type: 'RecordProviderAccepted',
        data: { providerMessageId: result.providerMessageId, at: result.acceptedAt, provider },
      };
    } else {
      const transient = result.outcome === 'retryable';
      const at = deps.clock.now();
      const message = scrubContacts(`${result.code ? `${result.code}: ` : ''}${result.reason}`);
      const delay =
        result.outcome === 'retryable'
          ? nextAttemptDelayMs(result.retryAfterMs, retryDelayMs(attempt, random(), deps.retryPolicy), retryAfterMaxMs)
          : 0;
      outcome = {
        type: 'RecordAttemptFailed',
        data: {
          attempt,
          error: message.slice(0, 500),
          transient,
          at: at.toISOString(),
          provider,
          ...(transient ? { nextAttemptAt: new Date(at.getTime() + delay).toISOString() } : {}),
        },
      };
      deps.logger.warn(
        { tenantId, notificationId, attempt, provider, transient, err: message },
        'delivery attempt failed',
      );
    }
    await run(tenantId, notificationId, outcome, context, stream);
  };

  /** Why a deferred message about a reservation no longer fits it (cancelled or moved while it waited), if so. */
  const reservationChanged = async (
    tenantId: string,
    validWhile: NonNullable<DeliveryDetails['validWhile']>,
  ): Promise<string | undefined> => {
    const { state } = await loadAggregate(
      deps.eventStore,
      reservationStreamName(tenantId, validWhile.reservationId),
      reservationDecider,
    );
    if (state.status === 'none') return 'the reservation no longer exists';
    if (state.status !== validWhile.status) {
      return `the reservation became ${state.status} while the message waited for the end of quiet hours`;
    }
    if (state.reservation.start !== validWhile.start) {
      return 'the reservation moved to another time while the message waited for the end of quiet hours';
    }
    return undefined;
  };

  const scheduleRetry = (tenantId: string, notificationId: string, runAt: string) =>
    deps.scheduler.schedule({
      name: RETRY_JOB,
      key: `notification-retry:${tenantId}:${notificationId}`,
      runAt: new Date(runAt),
      tenantId,
      data: { notificationId },
    });

  const consumer: EventConsumer = {
    name: 'process:notification-dispatcher',
    eventTypes: new Set<DeliveryEvent['type']>([
      'NotificationRequested',
      'NotificationResendRequested',
      'NotificationAttemptFailed',
    ]),
    concurrency: deps.concurrency ?? 16,
    async handle(event) {
      const tenantId = event.metadata.tenantId;
      const notificationId = (event.data as { notificationId: string }).notificationId;
      if (event.type === 'NotificationAttemptFailed') {
        await scheduleRetry(tenantId, notificationId, (event.data as { nextAttemptAt: string }).nextAttemptAt);
        return;
      }
      await dispatch(tenantId, notificationId);
    },
  };

  const retryJob: JobHandler = async (job) => {
    await dispatch(job.tenantId, String(job.data.notificationId));
  };

  /**
   * At start, once the deliveries read model has caught up: every delivery left requested, retrying or mid-attempt
   * by a previous process is dispatched again. Redelivered events cover most of them; this covers an attempt that a
   * retry job had started when the process died (its job lock would only expire minutes later).
   */
  const recoverUnfinished = async (): Promise<number> => {
    if (!deps.readModels) return 0;
    // Collect first, then dispatch: dispatching moves deliveries out of the filter, which would shift the pages.
    const unfinished: { tenantId: string; notificationId: string }[] = [];
    for (let page = 0; ; page++) {
      const batch = await deps.readModels.find<DeliveryDocument & { _id: string }>(
        physicalCollection(deliveriesProjection),
        { status: { $in: ['requested', 'sending', 'retrying'] } },
        { sort: { field: 'requestedAt', direction: 1 }, skip: page * 500, limit: 500 },
      );
      unfinished.push(...batch.map(({ tenantId, notificationId }) => ({ tenantId, notificationId })));
      if (batch.length < 500) break;
    }
    const width = deps.concurrency ?? 16;
    for (let i = 0; i < unfinished.length; i += width) {
      await Promise.all(unfinished.slice(i, i + width).map((d) => dispatch(d.tenantId, d.notificationId)));
    }
    return unfinished.length;
  };

  return { consumer, retryJob, dispatch, recoverUnfinished };
}
