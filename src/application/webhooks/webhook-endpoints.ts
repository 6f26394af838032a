import { compoundStreamName } from '../../domain/catalog/stream-name.js';
import { NotFoundError, ValidationError } from '../../domain/shared/errors.js';
import {
  webhookEndpointDecider,
  type WebhookDelivery,
  type WebhookEndpointCommand,
  type WebhookEndpointState,
  type WebhookPauseReason,
} from '../../domain/webhooks/webhook-endpoint.decider.js';
import { handleCommand, loadAggregate, type CommandContext, type CommandHandlerDeps } from '../command-handler.js';
import type { Clock } from '../ports/clock.port.js';
import type { CredentialCipher } from '../ports/credential-cipher.port.js';
import type { EventStore } from '../ports/event-store.port.js';
import type { ReadModelStore } from '../ports/read-model-store.port.js';
import type { Scheduler } from '../ports/scheduler.port.js';
import type { WebhookTransport } from '../ports/webhook-transport.port.js';
import { physicalCollection } from '../projections/projection.js';
import {
  webhookEndpointsProjection,
  type WebhookEndpointDocument,
} from '../projections/webhook-endpoints.projection.js';
import { PUBLISHED_EVENT_TYPES } from './published-events.js';

export const webhookEndpointStreamName = (tenantId: string, endpointId: string) =>
  compoundStreamName('webhook', tenantId, endpointId);

export const WEBHOOK_DELIVERY_JOB = 'webhook.deliver';
export const webhookJobKey = (tenantId: string, endpointId: string) => `webhook:${tenantId}:${endpointId}`;

/** What the seal of a signing secret is bound to: another tenant's or endpoint's copy does not open. */
export const webhookSecretContext = (tenantId: string, endpointId: string) => `${tenantId}|webhook|${endpointId}`;

export const webhookDecider = webhookEndpointDecider(PUBLISHED_EVENT_TYPES);

export interface WebhookEndpointDeps extends CommandHandlerDeps {
  readonly clock: Clock;
  readonly cipher: CredentialCipher;
  readonly transport: WebhookTransport;
  readonly scheduler: Pick<Scheduler, 'schedule' | 'cancel'>;
  readonly readModels: ReadModelStore;
}

/** An endpoint as the API shows it: never its secret. */
export interface WebhookEndpointView {
  readonly id: string;
  readonly url: string;
  readonly eventTypes: readonly string[] | null;
  readonly description: string;
  readonly status: 'active' | 'paused';
  readonly pausedAt: string | null;
  readonly pauseReason: WebhookPauseReason | null;
  readonly pauseDetail: string | null;
  readonly undelivered: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

function view(state: WebhookEndpointState): WebhookEndpointView {
  if (state.status === 'none' || state.status === 'deleted')
    throw new NotFoundError('webhook-endpoint-not-found', 'No such webhook endpoint.');
  return {
    id: state.endpointId,
    url: state.url,
    eventTypes: state.eventTypes,
    description: state.description,
    status: state.status,
    pausedAt: state.status === 'paused' ? state.pausedAt : null,
    pauseReason: state.status === 'paused' ? state.pauseReason : null,
    pauseDetail: state.status === 'paused' ? state.pauseDetail : null,
    undelivered: state.queue.length,
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
  };
}

function checkUrl(deps: WebhookEndpointDeps, url: string | undefined): void {
  if (url === undefined) return;
  const refused = deps.transport.refusal(url);
  if (refused)
    throw new ValidationError('invalid-webhook-endpoint', `The URL is refused: ${refused}.`, { field: 'url' });
}

async function run(
  deps: WebhookEndpointDeps,
  context: CommandContext,
  endpointId: string,
  command: WebhookEndpointCommand,
) {
  const result = await handleCommand(
    deps,
    webhookEndpointStreamName(context.tenantId, endpointId),
    webhookDecider,
    command,
    context,
  );
  return result.state;
}

const stamp = (deps: WebhookEndpointDeps, context: CommandContext, endpointId: string) => ({
  tenantId: context.tenantId,
  endpointId,
  at: deps.clock.now().toISOString(),
  by: context.actor,
});

/** Wakes the endpoint's sender now (a unique key per endpoint: one sender at a time, in order). */
export async function wakeWebhookSender(
  scheduler: Pick<Scheduler, 'schedule'>,
  tenantId: string,
  endpointId: string,
  at: Date,
) {
  await scheduler.schedule({
    name: WEBHOOK_DELIVERY_JOB,
    key: webhookJobKey(tenantId, endpointId),
    runAt: at,
    tenantId,
    data: { endpointId },
  });
}

export async function createWebhookEndpoint(
  deps: WebhookEndpointDeps,
  context: CommandContext,
  input: { url: string; eventTypes: readonly string[] | null; description: string },
): Promise<{ endpoint: WebhookEndpointView; secret: string }> {
  checkUrl(deps, input.url);
  const endpointId = deps.ids.newId();
  const secret = deps.transport.newSecret();
  const sealed = deps.cipher.seal({ secret }, webhookSecretContext(context.tenantId, endpointId));
  const state = await run(deps, context, endpointId, {
    type: 'CreateWebhookEndpoint',
    data: { ...stamp(deps, context, endpointId), ...input, secret: sealed },
  });
  return { endpoint: view(state), secret };
}

export async function getWebhookEndpoint(eventStore: EventStore, tenantId: string, endpointId: string) {
  const { state } = await loadAggregate(eventStore, webhookEndpointStreamName(tenantId, endpointId), webhookDecider);
  return { state, view: view(state) };
}

export async function listWebhookEndpoints(
  readModels: ReadModelStore,
  tenantId: string,
): Promise<WebhookEndpointView[]> {
  const docs = await readModels.find<WebhookEndpointDocument & { _id: string }>(
    physicalCollection(webhookEndpointsProjection),
    { tenantId, status: { $in: ['active', 'paused'] } },
    { sort: { field: 'createdAt', direction: 1 }, limit: 500 },
  );
  return docs.map((d) => ({
    id: d.endpointId,
    url: d.url,
    eventTypes: d.eventTypes,
    description: d.description,
    status: d.status as 'active' | 'paused',
    pausedAt: d.pausedAt,
    pauseReason: d.pauseReason,
    pauseDetail: d.pauseDetail,
    undelivered: d.undelivered,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  }));
}

export async function updateWebhookEndpoint(
  deps: WebhookEndpointDeps,
  context: CommandContext,
  endpointId: string,
  input: { url?: string; eventTypes?: readonly string[] | null; description?: string },
): Promise<WebhookEndpointView> {
  checkUrl(deps, input.url);
  return view(
    await run(deps, context, endpointId, {
      type: 'UpdateWebhookEndpoint',
      data: { ...stamp(deps, context, endpointId), ...input },
    }),
  );
}

export async function rotateWebhookSecret(
  deps: WebhookEndpointDeps,
  context: CommandContext,
  endpointId: string,
): Promise<{ endpoint: WebhookEndpointView; secret: string }> {
  const secret = deps.transport.newSecret();
  const sealed = deps.cipher.seal({ secret }, webhookSecretContext(context.tenantId, endpointId));
  const state = await run(deps, context, endpointId, {
    type: 'RotateWebhookSecret',
    data: { ...stamp(deps, context, endpointId), secret: sealed },
  });
  return { endpoint: view(state), secret };
}

export async function pauseWebhookEndpoint(
  deps: WebhookEndpointDeps,
  context: CommandContext,
  endpointId: string,
  reason: WebhookPauseReason = 'manual',
  detail?: string,
): Promise<WebhookEndpointView> {
  return view(
    await run(deps, context, endpointId, {
      type: 'PauseWebhookEndpoint',
      data: { ...stamp(deps, context, endpointId), reason, ...(detail ? { detail } : {}) },
    }),
  );
}

/** Resumes from the first undelivered event: nothing queued while paused or failing was dropped. */
export async function resumeWebhookEndpoint(deps: WebhookEndpointDeps, context: CommandContext, endpointId: string) {
  const state = await run(deps, context, endpointId, {
    type: 'ResumeWebhookEndpoint',
    data: stamp(deps, context, endpointId),
  });
  await wakeWebhookSender(deps.scheduler, context.tenantId, endpointId, deps.clock.now());
  return view(state);
}

export async function deleteWebhookEndpoint(deps: WebhookEndpointDeps, context: CommandContext, endpointId: string) {
  await run(deps, context, endpointId, { type: 'DeleteWebhookEndpoint', data: stamp(deps, context, endpointId) });
  await deps.scheduler.cancel(webhookJobKey(context.tenantId, endpointId));
}

/** Re-sends past deliveries (by id, or every delivered one whose event happened at or after `from`), same webhook-id. */
export async function replayWebhookDeliveries(
  deps: WebhookEndpointDeps,
  context: CommandContext,
  endpointId: string,
  selection: { deliveryId?: string; from?: string },
): Promise<{ replayed: number }> {
  const { state } = await getWebhookEndpoint(deps.eventStore, context.tenantId, endpointId);
  if (state.status === 'none' || state.status === 'deleted')
    throw new NotFoundError('webhook-endpoint-not-found', 'No such webhook endpoint.');
  let ids: string[];
  if (selection.deliveryId !== undefined) {
    ids = [selection.deliveryId];
  } else {
    const from = Date.parse(selection.from ?? '');
    if (!Number.isFinite(from))
      throw new ValidationError('invalid-replay', 'Give a deliveryId or a from instant.', { field: 'from' });
    ids = Object.values(state.deliveries)
      .filter((d) => d.status === 'delivered' && Date.parse(d.payload.timestamp) >= from)
      .sort((a, b) => a.seq - b.seq)
      .map((d) => d.deliveryId);
    if (ids.length === 0) return { replayed: 0 };
  }
  const after = await run(deps, context, endpointId, {
    type: 'ReplayWebhookDeliveries',
    data: { ...stamp(deps, context, endpointId), deliveryIds: ids },
  });
  if (after.status === 'active')
    await wakeWebhookSender(deps.scheduler, context.tenantId, endpointId, deps.clock.now());
  return { replayed: ids.length };
}

export interface WebhookDeliveryView {
  readonly id: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly eventTimestamp: string;
  readonly status: 'pending' | 'delivered';
  readonly queuedAt: string;
  readonly deliveredAt: string | null;
  readonly nextAttemptAt: string | null;
  readonly attempts: WebhookDelivery['attempts'];
}

/** The endpoint's audit: its deliveries, newest first, with every attempt (status code, timing, error). */
export async function listWebhookDeliveries(
  eventStore: EventStore,
  tenantId: string,
  endpointId: string,
  options: { limit: number },
): Promise<WebhookDeliveryView[]> {
  const { state } = await getWebhookEndpoint(eventStore, tenantId, endpointId);
  if (state.status === 'none' || state.status === 'deleted') return [];
  return Object.values(state.deliveries)
    .sort((a, b) => b.seq - a.seq)
    .slice(0, options.limit)
    .map((d) => ({
      id: d.deliveryId,
      eventId: d.eventId,
      eventType: d.eventType,
      eventTimestamp: d.payload.timestamp,
      status: d.status,
      queuedAt: d.queuedAt,
      deliveredAt: d.deliveredAt,
      nextAttemptAt: d.nextAttemptAt,
      attempts: d.attempts,
    }));
}
