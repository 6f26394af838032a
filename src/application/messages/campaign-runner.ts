import {
  campaignDecider,
  campaignStreamName,
  type CampaignEvent,
  type CampaignRecipient,
} from '../../domain/campaign/campaign.decider.js';
import {
  creditAccountDecider,
  deliveryDecider,
  type Channel,
  type DeliveryCommand,
  type NotificationSettings,
} from '../../domain/notification/index.js';
import {
  handleCommand,
  loadAggregate,
  toDomainEvent,
  type CommandContext,
  type CommandHandlerDeps,
} from '../command-handler.js';
import { loadCustomerPreferences, loadNotificationSettings } from '../notifications/notification-settings.js';
import { creditsStreamName, deliveryStreamName } from '../notifications/notification-streams.js';
import type { Clock } from '../ports/clock.port.js';
import type { Logger } from '../ports/logger.port.js';
import type { ReadModelStore, StoredDocument } from '../ports/read-model-store.port.js';
import { campaignsProjection, type CampaignDocument } from '../projections/campaigns.projection.js';
import { physicalCollection } from '../projections/projection.js';
import type { JobHandler, Scheduler } from '../ports/scheduler.port.js';
import type { Intent, ProcessManager } from '../process-managers/process-manager.js';
import { tenantTimeZone } from './manual-messages.js';
import {
  exclusionOf,
  renderStaffContent,
  staffDeliveryIdentity,
  staffDeliveryRequest,
  staffMessageContext,
} from './staff-deliveries.js';

export const CAMPAIGN_BATCH_JOB = 'campaign.batch';
/** A batch per channel a second: `rate` messages each. */
export const CAMPAIGN_TICK_MS = 1_000;
const ACTOR = 'system:campaign-runner';

export function campaignBatchKey(tenantId: string, campaignId: string, channel: Channel): string {
  return `campaign-batch:${tenantId}:${campaignId}:${channel}`;
}

/** The delivery of a campaign to one recipient on one channel: the same three always give the same id. */
export function campaignDeliveryId(
  deps: Pick<CommandHandlerDeps, 'ids'>,
  tenantId: string,
  campaignId: string,
  recipientKey: string,
  channel: Channel,
): string {
  return deps.ids.derive('campaign-delivery', tenantId, campaignId, recipientKey, channel);
}

export interface CampaignRunnerDeps extends CommandHandlerDeps {
  readonly clock: Clock;
  readonly scheduler: Pick<Scheduler, 'schedule'>;
  readonly logger: Logger;
  /** Messages a second per channel (the provider's limit). */
  readonly throttle: Readonly<Record<Channel, number>>;
  readonly tickMs?: number;
  readonly maxAttempts?: number;
}

async function inParallel<T, R>(items: readonly T[], width: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await run(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  return results;
}

type Planned =
  | { readonly kind: 'exists'; readonly requested: boolean }
  | { readonly kind: 'skip'; readonly command: DeliveryCommand; readonly notificationId: string }
  | {
      readonly kind: 'request';
      readonly command: DeliveryCommand;
      readonly notificationId: string;
      readonly cost: number;
      readonly identity: ReturnType<typeof staffDeliveryIdentity>;
    };

/**
 * Sends running campaigns, throttled: a process manager (the one shape) schedules a `campaign.batch` job per channel
 * when a campaign starts and after each recorded batch, at the batch's `nextAt`; the job requests the next
 * `rate × tick` deliveries and records the batch on the campaign's stream. Nothing is sent twice: delivery ids derive
 * from (campaign, recipient, channel), a delivery that exists is counted and left alone, and the batch's record is
 * appended with the campaign's revision (a batch recorded meanwhile makes this one a no-op).
 */
export function createCampaignRunner(deps: CampaignRunnerDeps): {
  manager: ProcessManager;
  batchJob: JobHandler;
  runBatch(tenantId: string, campaignId: string, channel: Channel): Promise<void>;
  resumeRunning(readModels: ReadModelStore): Promise<number>;
} {
  const tickMs = deps.tickMs ?? CAMPAIGN_TICK_MS;

  const manager: ProcessManager = {
    name: 'campaign-runner',
    eventTypes: ['CampaignStarted', 'CampaignBatchProcessed', 'CampaignCompleted', 'CampaignCancelled'],
    async react(event) {
      const tenantId = event.metadata.tenantId;
      const campaign = toDomainEvent<CampaignEvent>(event);
      const job = (campaignId: string, channel: Channel, runAt: string): Intent => ({
        kind: 'schedule',
        job: {
          name: CAMPAIGN_BATCH_JOB,
          key: campaignBatchKey(tenantId, campaignId, channel),
          runAt: new Date(runAt),
          tenantId,
          data: { campaignId, channel },
        },
      });
      switch (campaign.type) {
        case 'CampaignStarted':
          if (campaign.data.recipientCount === 0) return [];
          return campaign.data.channels.map((channel) =>
            job(campaign.data.campaignId, channel, campaign.data.startedAt),
          );
        case 'CampaignBatchProcessed':
          return campaign.data.done ? [] : [job(campaign.data.campaignId, campaign.data.channel, campaign.data.nextAt)];
        case 'CampaignCompleted':
        case 'CampaignCancelled':
          return campaign.data.channels.map((channel) => ({
            kind: 'cancel-schedule' as const,
            key: campaignBatchKey(tenantId, campaign.data.campaignId, channel),
          }));
        default:
          return [];
      }
    },
  };

  const plan = async (
    tenantId: string,
    campaignId: string,
    channel: Channel,
    recipient: CampaignRecipient,
    message: Parameters<typeof renderStaffContent>[0],
    settings: NotificationSettings,
    timeZone: string,
    cause: { id: string; at: string },
    now: string,
  ): Promise<Planned> => {
    const notificationId = campaignDeliveryId(deps, tenantId, campaignId, recipient.key, channel);
    const { state } = await loadAggregate(
      deps.eventStore,
      deliveryStreamName(tenantId, notificationId),
      deliveryDecider,
    );
    if (state.status !== 'none') return { kind: 'exists', requested: state.status !== 'skipped' };
    const base = {
      notificationId,
      tenantId,
      kind: 'bulk-message' as const,
      channel,
      recipient,
      causationEventId: cause.id,
      campaignId,
    };
    const identity = staffDeliveryIdentity(base);
    const preferences = await loadCustomerPreferences(deps.eventStore, tenantId, recipient.key);
    const reason = exclusionOf(recipient, channel, 'bulk-message', preferences);
    if (reason) {
      return {
        kind: 'skip',
        notificationId,
        command: { type: 'SkipNotification', data: { reason, skippedAt: now, identity } },
      };
    }
    const { content, cost } = renderStaffContent(
      message,
      channel,
      staffMessageContext(recipient, settings, timeZone),
      settings,
      'bulk',
    );
    return {
      kind: 'request',
      notificationId,
      cost,
      identity,
      command: {
        type: 'RequestNotification',
        data: staffDeliveryRequest({
          ...base,
          content,
          cost,
          causedAt: cause.at,
          requestedAt: now,
          ...(deps.maxAttempts ? { maxAttempts: deps.maxAttempts } : {}),
        }),
      },
    };
  };

  const runBatchAlone = async (tenantId: string, campaignId: string, channel: Channel): Promise<void> => {
    const stream = campaignStreamName(tenantId, campaignId);
    const { state, events } = await loadAggregate(deps.eventStore, stream, campaignDecider);
    if (state.status !== 'running') return;
    const progress = state.progress[channel];
    if (!progress || progress.next >= state.recipients.length) return;
    const nowDate = deps.clock.now();
    const planned = Date.parse(progress.nextAt ?? state.startedAt);
    if (nowDate.getTime() < planned) {
      // Too early: a stale schedule (an old batch's event delivered again) replaced the due one; put it back.
      await deps.scheduler.schedule({
        name: CAMPAIGN_BATCH_JOB,
        key: campaignBatchKey(tenantId, campaignId, channel),
        runAt: new Date(planned),
        tenantId,
        data: { campaignId, channel },
      });
      return;
    }
    const now = nowDate.toISOString();
    const size = Math.max(1, Math.floor((deps.throttle[channel] * tickMs) / 1000));
    const from = progress.next;
    const batch = state.recipients.slice(from, from + size);
    const started = events.find((event) => event.type === 'CampaignStarted');
    const cause = { id: started?.id ?? campaignId, at: started?.recordedAt ?? state.startedAt };
    const context: CommandContext = { tenantId, actor: ACTOR, causationId: cause.id, correlationId: campaignId };
    const [settings, timeZone] = await Promise.all([
      loadNotificationSettings(deps.eventStore, tenantId),
      tenantTimeZone(deps.eventStore, tenantId),
    ]);
    const plans = await inParallel(batch, 8, (recipient) =>
      plan(tenantId, campaignId, channel, recipient, state.campaign.message, settings, timeZone, cause, now),
    );

    // One charge for the batch: each delivery the balance covers, in order; the others are skipped for credits.
    const charges = plans
      .filter((p): p is Extract<Planned, { kind: 'request' }> => p.kind === 'request' && p.cost > 0)
      .map((p) => ({ deliveryId: p.notificationId, amount: p.cost }));
    let charged = new Set<string>();
    if (charges.length > 0) {
      const result = await handleCommand(
        deps,
        creditsStreamName(tenantId),
        creditAccountDecider,
        { type: 'ChargeCreditsInOrder', data: { charges, at: now } },
        context,
      );
      charged = new Set(result.state.status === 'open' ? Object.keys(result.state.charges) : []);
    }
    let requested = 0;
    let skipped = 0;
    await inParallel(plans, 8, async (p) => {
      if (p.kind === 'exists') {
        if (p.requested) requested++;
        else skipped++;
        return;
      }
      let command = p.command;
      if (p.kind === 'request' && p.cost > 0 && !charged.has(p.notificationId)) {
        command = {
          type: 'SkipNotification',
          data: { reason: 'insufficient-credits', skippedAt: now, identity: p.identity },
        };
      }
      await handleCommand(deps, deliveryStreamName(tenantId, p.notificationId), deliveryDecider, command, context);
      if (command.type === 'RequestNotification') requested++;
      else skipped++;
    });
    // On schedule (planned + tick), so the average is the configured rate; after a late start (a restart, a slow
    // batch) the next one follows at once, but never sooner than half a tick after this one started.
    const nextAt = new Date(
      Math.max(planned + tickMs, nowDate.getTime() + tickMs / 2, deps.clock.now().getTime()),
    ).toISOString();
    await handleCommand(
      deps,
      stream,
      campaignDecider,
      {
        type: 'RecordCampaignBatch',
        data: { campaignId, channel, from, to: from + batch.length, requested, skipped, at: now, nextAt },
      },
      context,
    );
    if (skipped > 0 && plans.some((p) => p.kind === 'request' && p.cost > 0 && !charged.has(p.notificationId))) {
      deps.logger.warn({ tenantId, campaignId, channel }, 'campaign: out of credits, deliveries skipped');
    }
  };

  // One batch of a campaign's channel at a time in this process (a stale job and the due one may meet).
  const inFlight = new Map<string, Promise<void>>();
  const runBatch = (tenantId: string, campaignId: string, channel: Channel): Promise<void> => {
    const key = campaignBatchKey(tenantId, campaignId, channel);
    const previous = inFlight.get(key) ?? Promise.resolve();
    const next = previous.then(() => runBatchAlone(tenantId, campaignId, channel));
    const tail = next.catch(() => undefined);
    inFlight.set(key, tail);
    void tail.then(() => {
      if (inFlight.get(key) === tail) inFlight.delete(key);
    });
    return next;
  };

  const batchJob: JobHandler = async (job) => {
    await runBatch(job.tenantId, String(job.data.campaignId), job.data.channel as Channel);
  };

  /**
   * At start, once the campaigns read model has caught up: every running campaign gets its batch jobs again, due at
   * their `nextAt`. A job that was running when the process died would otherwise wait for its lock to expire;
   * scheduling the same key replaces it.
   */
  const resumeRunning = async (readModels: ReadModelStore): Promise<number> => {
    let resumed = 0;
    for (let page = 0; ; page++) {
      const running = await readModels.find<CampaignDocument & StoredDocument>(
        physicalCollection(campaignsProjection),
        { status: 'running' },
        { sort: { field: '_id', direction: 1 }, skip: page * 200, limit: 200 },
      );
      for (const campaign of running) {
        for (const [channel, progress] of Object.entries(campaign.progress)) {
          if (progress.next >= campaign.recipientCount) continue;
          await deps.scheduler.schedule({
            name: CAMPAIGN_BATCH_JOB,
            key: campaignBatchKey(campaign.tenantId, campaign.campaignId, channel as Channel),
            runAt: new Date(progress.nextAt ?? deps.clock.now().toISOString()),
            tenantId: campaign.tenantId,
            data: { campaignId: campaign.campaignId, channel },
          });
          resumed++;
        }
      }
      if (running.length < 200) return resumed;
    }
  };

  return { manager, batchJob, runBatch, resumeRunning };
}
