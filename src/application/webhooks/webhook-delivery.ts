import {
  CHANNELS,
  decideRecipients,
  deliveryIdentityKey,
  maskAddress,
  webhookPausedAlert,
  type DeliveryContent,
} from '../../domain/notification/index.js';
import { neutraliseText } from '../../domain/shared/text.js';
import type { WebhookEndpointPaused } from '../../domain/webhooks/webhook-endpoint.decider.js';
import { handleCommand, toDomainEvent, type CommandContext } from '../command-handler.js';
import type { RecordedEvent } from '../ports/event-store.port.js';
import type { Logger } from '../ports/logger.port.js';
import type { ScheduledJob } from '../ports/scheduler.port.js';
import type { Intent, ProcessManager } from '../process-managers/process-manager.js';
import type { IntentHandler } from '../process-managers/process-manager-runner.js';
import { physicalCollection } from '../projections/projection.js';
import {
  webhookEndpointsProjection,
  type WebhookEndpointDocument,
} from '../projections/webhook-endpoints.projection.js';
import { loadNotificationSettings } from '../notifications/notification-settings.js';
import { DELIVERY_TARGET } from '../notifications/notification-planner.js';
import type { PlannedDelivery } from '../notifications/plan-notifications.js';
import { PUBLISHED_EVENT_TYPES, webhookPayload } from './published-events.js';
import {
  getWebhookEndpoint,
  pauseWebhookEndpoint,
  wakeWebhookSender,
  webhookDecider,
  webhookEndpointStreamName,
  webhookSecretContext,
  type WebhookEndpointDeps,
} from './webhook-endpoints.js';

export const WEBHOOK_TARGET = 'webhook';

export interface WebhookDeliverySettings {
  /** Delay before each retry (ms): entry n is the wait after the n-th failed attempt. */
  readonly retryScheduleMs: readonly number[];
  /** Pause after failing this long (ms) even if the schedule has retries left; undefined: when it runs out. */
  readonly pauseAfterMs?: number;
  /** A Retry-After longer than this is cut to it. */
  readonly retryAfterMaxMs: number;
  /** How long a started attempt keeps other senders off (the request timeout and a margin). */
  readonly leaseMs: number;
}

export interface WebhookOutboxDeps extends WebhookEndpointDeps {
  readonly logger: Logger;
  readonly settings: WebhookDeliverySettings;
  /** Resolves once the webhook-endpoints projection has handled every event up to `position`. */
  readonly endpointsCaughtUp: (position: bigint) => Promise<void>;
}

/** `webhook-id`: stable per event and endpoint, so every retry and replay carries the same one. */
export const webhookDeliveryId = (deps: Pick<WebhookEndpointDeps, 'ids'>, endpointId: string, eventId: string) =>
  `msg_${deps.ids.derive('webhook-delivery', endpointId, eventId).replaceAll('-', '')}`;

/**
 * Process manager (the one shape): each published event of a tenant is queued, in global order, at every endpoint
 * of that tenant that existed before it and wants its type, and the endpoint's sender is woken. The queue lives in
 * the endpoint's stream (`WebhookEventQueued`), so progress survives restarts and a rebuilt read model.
 */
export function createWebhookOutbox(deps: WebhookOutboxDeps): ProcessManager {
  return {
    name: 'webhook-outbox',
    eventTypes: PUBLISHED_EVENT_TYPES,
    async react(event) {
      const tenantId = event.metadata.tenantId;
      if (typeof tenantId !== 'string' || tenantId === '') return [];
      await deps.endpointsCaughtUp(event.position);
      const endpoints = await deps.readModels.find<WebhookEndpointDocument & { _id: string }>(
        physicalCollection(webhookEndpointsProjection),
        { tenantId, status: { $in: ['active', 'paused'] } },
        { limit: 500 },
      );
      const payload = webhookPayload(event);
      const intents: Intent[] = [];
      for (const endpoint of endpoints) {
        if (BigInt(endpoint.createdPosition) >= event.position) continue;
        if (endpoint.eventTypes !== null && !endpoint.eventTypes.includes(event.type)) continue;
        const deliveryId = webhookDeliveryId(deps, endpoint.endpointId, event.id);
        intents.push({
          kind: 'command',
          target: WEBHOOK_TARGET,
          tenantId,
          aggregateId: endpoint.endpointId,
          command: {
            type: 'QueueWebhookEvent',
            data: {
              tenantId,
              endpointId: endpoint.endpointId,
              deliveryId,
              eventId: event.id,
              payload,
              at: event.recordedAt,
              by: 'system:webhook-outbox',
            },
          },
          idempotencyKey: deliveryId,
        });
      }
      return intents;
    },
  };
}

/** Executes `QueueWebhookEvent` intents and wakes the endpoint's sender. */
export function createWebhookIntentHandler(deps: WebhookOutboxDeps): IntentHandler {
  return async (intent, context) => {
    const result = await handleCommand(
      deps,
      webhookEndpointStreamName(intent.tenantId, intent.aggregateId),
      webhookDecider,
      intent.command as Parameters<typeof webhookDecider.decide>[0],
      context,
      { idempotencyKey: intent.idempotencyKey },
    );
    if (result.state.status === 'active')
      await wakeWebhookSender(deps.scheduler, intent.tenantId, intent.aggregateId, deps.clock.now());
  };
}

const sender = (tenantId: string): CommandContext => ({ tenantId, actor: 'system:webhook-sender' });

/**
 * The endpoint's sender (a scheduled job, one per endpoint by its unique key): sends the head of the queue if it is
 * due, records the attempt, and schedules itself for the next one. A 2xx is delivered; 410 pauses the endpoint;
 * anything else is retried on the schedule (Retry-After honoured, bounded) until the endpoint has failed long enough
 * to be paused. The next event waits for the head: order per endpoint is kept.
 */
export function createWebhookSenderJob(deps: WebhookOutboxDeps) {
  return async (job: ScheduledJob): Promise<void> => {
    const endpointId = String(job.data.endpointId ?? '');
    const tenantId = job.tenantId;
    const { state } = await getWebhookEndpoint(deps.eventStore, tenantId, endpointId).catch(() => ({ state: null }));
    if (!state || state.status !== 'active') return;
    const headId = state.queue[0];
    const head = headId ? state.deliveries[headId] : undefined;
    if (!head) return;
    const now = deps.clock.now();
    if (head.inFlight && Date.parse(head.inFlight.leaseUntil) > now.getTime()) {
      // Another sender is on it (or crashed while on it: then its lease ends first).
      await wakeWebhookSender(deps.scheduler, tenantId, endpointId, new Date(head.inFlight.leaseUntil));
      return;
    }
    if (head.nextAttemptAt && Date.parse(head.nextAttemptAt) > now.getTime()) {
      await wakeWebhookSender(deps.scheduler, tenantId, endpointId, new Date(head.nextAttemptAt));
      return;
    }
    // Take the lease: of two senders woken together, one appends it and sends; the other decides nothing.
    const attemptNo = head.attempts.length + 1;
    const lease = await handleCommand(
      deps,
      webhookEndpointStreamName(tenantId, endpointId),
      webhookDecider,
      {
        type: 'StartWebhookAttempt',
        data: {
          tenantId,
          endpointId,
          at: now.toISOString(),
          by: 'system:webhook-sender',
          deliveryId: head.deliveryId,
          attempt: attemptNo,
          leaseUntil: new Date(now.getTime() + deps.settings.leaseMs).toISOString(),
        },
      },
      sender(tenantId),
    );
    if (lease.newEvents.length === 0) return;
    let secret: string;
    try {
      secret = deps.cipher.open(state.secret, webhookSecretContext(tenantId, endpointId)).secret ?? '';
    } catch {
      deps.logger.error({ tenantId, endpointId }, 'webhook signing secret cannot be opened; endpoint paused');
      await pauseWebhookEndpoint(
        deps,
        sender(tenantId),
        endpointId,
        'failing',
        'The signing secret cannot be opened (another CHANNEL_CREDENTIALS_KEY?). Rotate it.',
      );
      return;
    }
    const body = JSON.stringify(head.payload);
    const answer = await deps.transport.send({
      url: state.url,
      id: head.deliveryId,
      timestamp: Math.floor(now.getTime() / 1000),
      body,
      secret,
    });
    const delivered = answer.kind === 'answer' && answer.status >= 200 && answer.status < 300;
    const gone = answer.kind === 'answer' && answer.status === 410;
    const round = head.attemptsThisRound + 1;
    const failingSince = head.failingSince ? Date.parse(head.failingSince) : now.getTime();
    const { retryScheduleMs, pauseAfterMs, retryAfterMaxMs } = deps.settings;
    let nextAttemptAt: string | null = null;
    let pause: { reason: 'failing' | 'gone'; detail: string } | null = null;
    if (!delivered) {
      const delay = retryScheduleMs[round - 1];
      const failedFor = now.getTime() - failingSince;
      if (gone) pause = { reason: 'gone', detail: 'The endpoint answered 410 Gone.' };
      else if (delay === undefined || (pauseAfterMs !== undefined && failedFor >= pauseAfterMs))
        pause = {
          reason: 'failing',
          detail: `Failing since ${new Date(failingSince).toISOString()} (${round} attempts).`,
        };
      else {
        const retryAfter =
          answer.kind === 'answer' && answer.retryAfterMs !== undefined
            ? Math.min(answer.retryAfterMs, retryAfterMaxMs)
            : 0;
        nextAttemptAt = new Date(now.getTime() + Math.max(delay, retryAfter)).toISOString();
      }
    }
    const recorded = await handleCommand(
      deps,
      webhookEndpointStreamName(tenantId, endpointId),
      webhookDecider,
      {
        type: 'RecordWebhookAttempt',
        data: {
          tenantId,
          endpointId,
          at: now.toISOString(),
          by: 'system:webhook-sender',
          deliveryId: head.deliveryId,
          attempt: attemptNo,
          status: answer.kind === 'answer' ? answer.status : null,
          error: delivered ? null : answer.kind === 'answer' ? `HTTP ${answer.status}` : answer.reason,
          durationMs: Math.round(answer.durationMs),
          delivered,
          nextAttemptAt,
        },
      },
      sender(tenantId),
    );
    if (pause) {
      deps.logger.warn({ tenantId, endpointId, reason: pause.reason }, 'webhook endpoint paused');
      await pauseWebhookEndpoint(deps, sender(tenantId), endpointId, pause.reason, pause.detail);
      return;
    }
    const after = recorded.state;
    if (after.status !== 'active' || after.queue.length === 0) return;
    const next = after.deliveries[after.queue[0]!];
    const at = next?.nextAttemptAt ? new Date(Math.max(Date.parse(next.nextAttemptAt), now.getTime())) : now;
    await wakeWebhookSender(deps.scheduler, tenantId, endpointId, at);
  };
}

/** After a restart: wake the sender of every active endpoint with undelivered events (jobs are durable; belt and braces). */
export async function wakeWebhookSenders(
  deps: Pick<WebhookOutboxDeps, 'readModels' | 'scheduler' | 'clock'>,
): Promise<number> {
  const endpoints = await deps.readModels.find<WebhookEndpointDocument & { _id: string }>(
    physicalCollection(webhookEndpointsProjection),
    { status: 'active', undelivered: { $gt: 0 } },
    { limit: 10_000 },
  );
  for (const e of endpoints) await wakeWebhookSender(deps.scheduler, e.tenantId, e.endpointId, deps.clock.now());
  return endpoints.length;
}

/**
 * Process manager: an endpoint paused by Herald (failing, 410 Gone) becomes a staff alert to the tenant's admins on
 * the channels its `staff-alert` settings switch on (email, SMS, the staff chat) — never a silent disable.
 */
export function createWebhookPauseAlerts(
  deps: Pick<WebhookOutboxDeps, 'eventStore' | 'ids' | 'clock'>,
): ProcessManager {
  return {
    name: 'webhook-pause-alerts',
    eventTypes: ['WebhookEndpointPaused'],
    async react(event: RecordedEvent) {
      const paused = toDomainEvent<WebhookEndpointPaused>(event);
      if (paused.data.reason === 'manual') return [];
      const tenantId = event.metadata.tenantId;
      const { state } = await getWebhookEndpoint(deps.eventStore, tenantId, paused.data.endpointId).catch(() => ({
        state: null,
      }));
      const description = neutraliseText(
        state && state.status !== 'none' && state.description
          ? state.description
          : new URL(state && state.status !== 'none' ? state.url : 'https://unknown').host,
        'line',
      ).slice(0, 120);
      const settings = await loadNotificationSettings(deps.eventStore, tenantId);
      const senderName = neutraliseText(settings.sender.name, 'line');
      const now = deps.clock.now().toISOString();
      const intents: Intent[] = [];
      const plan = (delivery: PlannedDelivery) =>
        intents.push({
          kind: 'command',
          target: DELIVERY_TARGET,
          tenantId,
          aggregateId: delivery.identity.notificationId,
          command: { type: 'PlanDelivery', data: delivery },
          idempotencyKey: delivery.identity.notificationId,
        });
      for (const channel of CHANNELS) {
        const decision = decideRecipients({ kind: 'staff-alert', channel, settings, admins: settings.admins ?? [] });
        for (const recipient of decision.recipients) {
          const alert = webhookPausedAlert(
            recipient.locale ?? settings.defaultLocale,
            description,
            paused.data.reason,
            paused.data.undelivered,
          );
          const content: DeliveryContent =
            channel === 'email'
              ? {
                  from: { ...settings.sender, name: senderName },
                  subject: alert.subject,
                  text: `${alert.text}\n\n${senderName}\n`,
                }
              : { text: `${senderName}: ${alert.text}` };
          const notificationId = deps.ids.derive(
            'delivery',
            deliveryIdentityKey({
              causationEventId: event.id,
              kind: 'staff-alert',
              channel,
              recipientAddress: recipient.address,
            }),
          );
          plan({
            type: 'request',
            identity: {
              notificationId,
              tenantId,
              kind: 'staff-alert',
              channel,
              recipientType: recipient.type,
              maskedRecipient: maskAddress(channel, recipient.address),
              causationEventId: event.id,
            },
            request: {
              notificationId,
              tenantId,
              kind: 'staff-alert',
              channel,
              recipient: { type: recipient.type, address: recipient.address },
              content,
              causationEventId: event.id,
              causedAt: event.recordedAt,
              requestedAt: now,
            },
          });
        }
      }
      return intents;
    },
  };
}
