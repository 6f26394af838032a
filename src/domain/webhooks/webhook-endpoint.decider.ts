import type { SealedCredentials } from '../notification/channel-configuration.decider.js';
import { parseInstant, requireText } from '../notification/validation.js';
import type { Command, Decider, DomainEvent } from '../shared/decider.js';
import { IllegalStateError, NotFoundError, ValidationError } from '../shared/errors.js';
import { findUnsafeCharacter } from '../shared/text.js';

/**
 * A tenant's outgoing webhook endpoint (Standard Webhooks), stream `webhook-<tenant>+<endpointId>`: its settings, its
 * sealed signing secret, and its delivery log — which events were queued for it, in order, and every attempt. The
 * log is the truth the sender works from: the head of the queue is the next event to deliver, and the endpoint's next
 * event waits until the head is delivered. Nothing is given up: after sustained failure the endpoint is paused with
 * the undelivered events still queued, and a resume continues from the first of them.
 */

export const MAX_WEBHOOK_DESCRIPTION = 500;
export const MAX_WEBHOOK_URL = 2_000;
export const MAX_WEBHOOK_EVENT_TYPES = 50;

export type WebhookPauseReason = 'manual' | 'failing' | 'gone';

/** What the endpoint receives (the body, before JSON encoding): Standard Webhooks' `{type, timestamp, data}`. */
export interface WebhookPayload {
  readonly type: string;
  readonly timestamp: string;
  readonly data: Readonly<Record<string, unknown>>;
}

export interface WebhookAttempt {
  readonly attempt: number;
  readonly at: string;
  /** The HTTP status, or null when there was no answer (refused, timeout, forbidden address). */
  readonly status: number | null;
  /** Why it failed, without the URL (it may carry a secret). Null when delivered. */
  readonly error: string | null;
  readonly durationMs: number;
  readonly delivered: boolean;
  /** When the next attempt is due (null: delivered, or the endpoint was paused). */
  readonly nextAttemptAt: string | null;
}

export interface WebhookDelivery {
  /** The `webhook-id` header: the same on every attempt and replay of this event to this endpoint. */
  readonly deliveryId: string;
  /** Queueing order at this endpoint (0, 1, ...). */
  readonly seq: number;
  readonly eventId: string;
  readonly eventType: string;
  readonly payload: WebhookPayload;
  readonly queuedAt: string;
  readonly attempts: readonly WebhookAttempt[];
  readonly status: 'pending' | 'delivered';
  readonly deliveredAt: string | null;
  /** Attempts made since this delivery was last (re)queued or the endpoint resumed: what the retry schedule counts. */
  readonly attemptsThisRound: number;
  /** The first failed attempt of the current round (ISO), for "failing for N hours". */
  readonly failingSince: string | null;
  readonly nextAttemptAt: string | null;
  /** An attempt a sender started and has not recorded: no other sender sends until its lease ends. */
  readonly inFlight: { readonly attempt: number; readonly leaseUntil: string } | null;
}

export interface WebhookEndpointSettings {
  readonly url: string;
  /** Event types sent; null: every published type. */
  readonly eventTypes: readonly string[] | null;
  readonly description: string;
}

interface EndpointFields extends WebhookEndpointSettings {
  readonly tenantId: string;
  readonly endpointId: string;
  readonly secret: SealedCredentials;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Delivery ids, in the order they are to be sent; the head is the next to send. */
  readonly queue: readonly string[];
  readonly deliveries: Readonly<Record<string, WebhookDelivery>>;
}

export type WebhookEndpointState =
  | { readonly status: 'none' }
  | (EndpointFields & { readonly status: 'active' })
  | (EndpointFields & {
      readonly status: 'paused';
      readonly pausedAt: string;
      readonly pauseReason: WebhookPauseReason;
      readonly pauseDetail: string | null;
    })
  | (EndpointFields & { readonly status: 'deleted'; readonly deletedAt: string });

type Stamp = { readonly tenantId: string; readonly endpointId: string; readonly at: string; readonly by: string };

export type CreateWebhookEndpoint = Command<
  'CreateWebhookEndpoint',
  Stamp & WebhookEndpointSettings & { readonly secret: SealedCredentials }
>;
export type UpdateWebhookEndpoint = Command<
  'UpdateWebhookEndpoint',
  Stamp & { readonly url?: string; readonly eventTypes?: readonly string[] | null; readonly description?: string }
>;
export type RotateWebhookSecret = Command<'RotateWebhookSecret', Stamp & { readonly secret: SealedCredentials }>;
export type PauseWebhookEndpoint = Command<
  'PauseWebhookEndpoint',
  Stamp & { readonly reason: WebhookPauseReason; readonly detail?: string }
>;
export type ResumeWebhookEndpoint = Command<'ResumeWebhookEndpoint', Stamp>;
export type DeleteWebhookEndpoint = Command<'DeleteWebhookEndpoint', Stamp>;
export type QueueWebhookEvent = Command<
  'QueueWebhookEvent',
  Stamp & { readonly deliveryId: string; readonly eventId: string; readonly payload: WebhookPayload }
>;
export type RecordWebhookAttempt = Command<
  'RecordWebhookAttempt',
  Stamp & { readonly deliveryId: string } & Omit<WebhookAttempt, 'at'>
>;
export type StartWebhookAttempt = Command<
  'StartWebhookAttempt',
  Stamp & { readonly deliveryId: string; readonly attempt: number; readonly leaseUntil: string }
>;
export type ReplayWebhookDeliveries = Command<
  'ReplayWebhookDeliveries',
  Stamp & { readonly deliveryIds: readonly string[] }
>;

export type WebhookEndpointCommand =
  | CreateWebhookEndpoint
  | UpdateWebhookEndpoint
  | RotateWebhookSecret
  | PauseWebhookEndpoint
  | ResumeWebhookEndpoint
  | DeleteWebhookEndpoint
  | QueueWebhookEvent
  | StartWebhookAttempt
  | RecordWebhookAttempt
  | ReplayWebhookDeliveries;

export type WebhookEndpointCreated = DomainEvent<'WebhookEndpointCreated', CreateWebhookEndpoint['data']>;
export type WebhookEndpointUpdated = DomainEvent<'WebhookEndpointUpdated', UpdateWebhookEndpoint['data']>;
export type WebhookSecretRotated = DomainEvent<'WebhookSecretRotated', RotateWebhookSecret['data']>;
export type WebhookEndpointPaused = DomainEvent<
  'WebhookEndpointPaused',
  Stamp & { readonly reason: WebhookPauseReason; readonly detail: string | null; readonly undelivered: number }
>;
export type WebhookEndpointResumed = DomainEvent<'WebhookEndpointResumed', Stamp & { readonly undelivered: number }>;
export type WebhookEndpointDeleted = DomainEvent<'WebhookEndpointDeleted', Stamp>;
export type WebhookEventQueued = DomainEvent<'WebhookEventQueued', QueueWebhookEvent['data']>;
export type WebhookDeliveryAttemptStarted = DomainEvent<'WebhookDeliveryAttemptStarted', StartWebhookAttempt['data']>;
export type WebhookDeliveryAttempted = DomainEvent<'WebhookDeliveryAttempted', RecordWebhookAttempt['data']>;
export type WebhookDeliveriesReplayed = DomainEvent<'WebhookDeliveriesReplayed', ReplayWebhookDeliveries['data']>;

export type WebhookEndpointEvent =
  | WebhookEndpointCreated
  | WebhookEndpointUpdated
  | WebhookSecretRotated
  | WebhookEndpointPaused
  | WebhookEndpointResumed
  | WebhookEndpointDeleted
  | WebhookEventQueued
  | WebhookDeliveryAttemptStarted
  | WebhookDeliveryAttempted
  | WebhookDeliveriesReplayed;

export const WEBHOOK_ENDPOINT_EVENT_TYPES: readonly WebhookEndpointEvent['type'][] = [
  'WebhookEndpointCreated',
  'WebhookEndpointUpdated',
  'WebhookSecretRotated',
  'WebhookEndpointPaused',
  'WebhookEndpointResumed',
  'WebhookEndpointDeleted',
  'WebhookEventQueued',
  'WebhookDeliveryAttemptStarted',
  'WebhookDeliveryAttempted',
  'WebhookDeliveriesReplayed',
];

const invalid = (field: string, message: string) => new ValidationError('invalid-webhook-endpoint', message, { field });

/** Syntax only (https or http, a host, no user:password, no fragment); which addresses are allowed is the application's. */
export function validateWebhookUrl(value: unknown, field = 'url'): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_WEBHOOK_URL)
    throw invalid(field, `The URL must be 1 to ${MAX_WEBHOOK_URL} characters.`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(field, 'The URL is not a valid absolute URL.');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid(field, 'The URL must be http(s).');
  if (url.username || url.password) throw invalid(field, 'The URL must not carry a user name or password.');
  if (url.hash) throw invalid(field, 'The URL must not have a fragment.');
  return value;
}

const EVENT_TYPE = /^[A-Z][A-Za-z]{2,80}$/;

export function validateEventTypes(value: unknown, published: readonly string[]): readonly string[] | null {
  if (value === null) return null;
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_WEBHOOK_EVENT_TYPES)
    throw invalid('eventTypes', `List 1 to ${MAX_WEBHOOK_EVENT_TYPES} event types, or null for every type.`);
  for (const [index, type] of value.entries()) {
    if (typeof type !== 'string' || !EVENT_TYPE.test(type) || !published.includes(type))
      throw invalid(`eventTypes.${index}`, `Not a published event type; these are: ${published.join(', ')}.`);
  }
  return [...new Set(value as string[])];
}

function validateDescription(value: unknown): string {
  if (typeof value !== 'string' || value.length > MAX_WEBHOOK_DESCRIPTION)
    throw invalid('description', `The description is at most ${MAX_WEBHOOK_DESCRIPTION} characters.`);
  const unsafe = findUnsafeCharacter(value, 'line');
  if (unsafe) throw invalid('description', 'The description holds a control, bidi or line-separator character.');
  return value;
}

/** Whether an endpoint wants events of this type. */
export function endpointAccepts(settings: Pick<WebhookEndpointSettings, 'eventTypes'>, type: string): boolean {
  return settings.eventTypes === null || settings.eventTypes.includes(type);
}

function requireEndpoint(state: WebhookEndpointState, endpointId: string) {
  if (state.status === 'none' || state.status === 'deleted')
    throw new NotFoundError('webhook-endpoint-not-found', `No webhook endpoint ${endpointId}.`);
  return state;
}

export function decideWebhookEndpoint(
  command: WebhookEndpointCommand,
  state: WebhookEndpointState,
  published: readonly string[],
): WebhookEndpointEvent[] {
  const { tenantId, endpointId, at, by } = command.data;
  requireText(tenantId, 'tenantId');
  requireText(endpointId, 'endpointId');
  requireText(by, 'by');
  parseInstant(at, 'at');
  const stamp = { tenantId, endpointId, at, by };
  switch (command.type) {
    case 'CreateWebhookEndpoint': {
      if (state.status !== 'none') return []; // the same create again (ids are derived from the request)
      validateWebhookUrl(command.data.url);
      validateEventTypes(command.data.eventTypes, published);
      validateDescription(command.data.description);
      if (command.data.secret?.v !== 1) throw invalid('secret', 'The signing secret is not sealed.');
      return [{ type: 'WebhookEndpointCreated', data: command.data }];
    }
    case 'UpdateWebhookEndpoint': {
      const current = requireEndpoint(state, endpointId);
      const data = command.data;
      if (data.url !== undefined) validateWebhookUrl(data.url);
      if (data.eventTypes !== undefined) validateEventTypes(data.eventTypes, published);
      if (data.description !== undefined) validateDescription(data.description);
      const changed =
        (data.url !== undefined && data.url !== current.url) ||
        (data.description !== undefined && data.description !== current.description) ||
        (data.eventTypes !== undefined && JSON.stringify(data.eventTypes) !== JSON.stringify(current.eventTypes));
      return changed ? [{ type: 'WebhookEndpointUpdated', data }] : [];
    }
    case 'RotateWebhookSecret': {
      requireEndpoint(state, endpointId);
      if (command.data.secret?.v !== 1) throw invalid('secret', 'The signing secret is not sealed.');
      return [{ type: 'WebhookSecretRotated', data: command.data }];
    }
    case 'PauseWebhookEndpoint': {
      const current = requireEndpoint(state, endpointId);
      if (current.status === 'paused') return [];
      if (!['manual', 'failing', 'gone'].includes(command.data.reason)) throw invalid('reason', 'Unknown reason.');
      return [
        {
          type: 'WebhookEndpointPaused',
          data: {
            ...stamp,
            reason: command.data.reason,
            detail: command.data.detail ?? null,
            undelivered: current.queue.length,
          },
        },
      ];
    }
    case 'ResumeWebhookEndpoint': {
      const current = requireEndpoint(state, endpointId);
      if (current.status === 'active') return [];
      return [{ type: 'WebhookEndpointResumed', data: { ...stamp, undelivered: current.queue.length } }];
    }
    case 'DeleteWebhookEndpoint':
      if (state.status === 'none' || state.status === 'deleted') return [];
      return [{ type: 'WebhookEndpointDeleted', data: stamp }];
    case 'QueueWebhookEvent': {
      // A deleted endpoint or a type it no longer wants takes nothing; the same event twice is queued once.
      if (state.status === 'none' || state.status === 'deleted') return [];
      requireText(command.data.deliveryId, 'deliveryId');
      if (state.deliveries[command.data.deliveryId]) return [];
      if (!endpointAccepts(state, command.data.payload.type)) return [];
      return [{ type: 'WebhookEventQueued', data: command.data }];
    }
    case 'StartWebhookAttempt': {
      // The sender's lease: of two senders that read the same state, one appends this, the other decides nothing
      // (after its version conflict) and does not send. A crashed sender's lease ends at leaseUntil.
      if (state.status !== 'active') return [];
      const delivery = state.deliveries[command.data.deliveryId];
      if (!delivery || state.queue[0] !== delivery.deliveryId || delivery.status === 'delivered') return [];
      if (command.data.attempt !== delivery.attempts.length + 1) return [];
      if (delivery.inFlight && Date.parse(delivery.inFlight.leaseUntil) > Date.parse(at)) return [];
      parseInstant(command.data.leaseUntil, 'leaseUntil');
      return [{ type: 'WebhookDeliveryAttemptStarted', data: command.data }];
    }
    case 'RecordWebhookAttempt': {
      if (state.status === 'none') return [];
      const delivery = state.deliveries[command.data.deliveryId];
      // Only the head of the queue is sent, and each attempt number is recorded once: a retried record is harmless.
      if (!delivery || state.queue[0] !== delivery.deliveryId || delivery.status === 'delivered') return [];
      if (command.data.attempt !== delivery.attempts.length + 1) return [];
      return [{ type: 'WebhookDeliveryAttempted', data: command.data }];
    }
    case 'ReplayWebhookDeliveries': {
      const current = requireEndpoint(state, endpointId);
      const ids = command.data.deliveryIds;
      if (!Array.isArray(ids) || ids.length === 0) return [];
      for (const id of ids) {
        if (!current.deliveries[id])
          throw new NotFoundError('webhook-delivery-not-found', `No delivery ${String(id)} at this endpoint.`);
      }
      // Only delivered ones: a pending delivery is already on its way.
      const replayed = ids.filter((id) => current.deliveries[id]!.status === 'delivered');
      if (replayed.length === 0)
        throw new IllegalStateError('webhook-delivery-pending', 'The delivery is still pending: it will be sent.');
      return [{ type: 'WebhookDeliveriesReplayed', data: { ...stamp, deliveryIds: replayed } }];
    }
  }
}

const restartRound = (d: WebhookDelivery, at: string): WebhookDelivery => ({
  ...d,
  attemptsThisRound: 0,
  failingSince: null,
  nextAttemptAt: at,
});

export function evolveWebhookEndpoint(state: WebhookEndpointState, event: WebhookEndpointEvent): WebhookEndpointState {
  if (event.type === 'WebhookEndpointCreated') {
    const { tenantId, endpointId, url, eventTypes, description, secret, at } = event.data;
    return {
      status: 'active',
      tenantId,
      endpointId,
      url,
      eventTypes,
      description,
      secret,
      createdAt: at,
      updatedAt: at,
      queue: [],
      deliveries: {},
    };
  }
  if (state.status === 'none') return state;
  const fields: EndpointFields = state;
  switch (event.type) {
    case 'WebhookEndpointUpdated': {
      const { url, eventTypes, description, at } = event.data;
      return {
        ...state,
        ...(url !== undefined ? { url } : {}),
        ...(eventTypes !== undefined ? { eventTypes } : {}),
        ...(description !== undefined ? { description } : {}),
        updatedAt: at,
      };
    }
    case 'WebhookSecretRotated':
      return { ...state, secret: event.data.secret, updatedAt: event.data.at };
    case 'WebhookEndpointPaused':
      return {
        ...fields,
        status: 'paused',
        pausedAt: event.data.at,
        pauseReason: event.data.reason,
        pauseDetail: event.data.detail,
      };
    case 'WebhookEndpointResumed': {
      // A resume starts a new round of retries for the head (the schedule begins again), now.
      const head = fields.queue[0];
      const deliveries = { ...fields.deliveries };
      if (head && deliveries[head]) deliveries[head] = restartRound(deliveries[head], event.data.at);
      return { ...fields, deliveries, status: 'active' };
    }
    case 'WebhookEndpointDeleted':
      return { ...fields, status: 'deleted', deletedAt: event.data.at };
    case 'WebhookEventQueued': {
      const { deliveryId, eventId, payload, at } = event.data;
      const delivery: WebhookDelivery = {
        deliveryId,
        seq: Object.keys(state.deliveries).length,
        eventId,
        eventType: payload.type,
        payload,
        queuedAt: at,
        attempts: [],
        status: 'pending',
        deliveredAt: null,
        attemptsThisRound: 0,
        failingSince: null,
        nextAttemptAt: at,
        inFlight: null,
      };
      return {
        ...state,
        queue: [...state.queue, deliveryId],
        deliveries: { ...state.deliveries, [deliveryId]: delivery },
      };
    }
    case 'WebhookDeliveryAttemptStarted': {
      const current = state.deliveries[event.data.deliveryId];
      if (!current) return state;
      const inFlight = { attempt: event.data.attempt, leaseUntil: event.data.leaseUntil };
      return { ...state, deliveries: { ...state.deliveries, [current.deliveryId]: { ...current, inFlight } } };
    }
    case 'WebhookDeliveryAttempted': {
      const { deliveryId, attempt, status, error, durationMs, delivered, nextAttemptAt, at } = event.data;
      const current = state.deliveries[deliveryId];
      if (!current) return state;
      const record: WebhookAttempt = { attempt, at, status, error, durationMs, delivered, nextAttemptAt };
      const updated: WebhookDelivery = {
        ...current,
        attempts: [...current.attempts, record],
        attemptsThisRound: current.attemptsThisRound + 1,
        status: delivered ? 'delivered' : 'pending',
        deliveredAt: delivered ? at : null,
        failingSince: delivered ? null : (current.failingSince ?? at),
        nextAttemptAt: delivered ? null : nextAttemptAt,
        inFlight: null,
      };
      return {
        ...state,
        queue: delivered ? state.queue.filter((id) => id !== deliveryId) : state.queue,
        deliveries: { ...state.deliveries, [deliveryId]: updated },
      };
    }
    case 'WebhookDeliveriesReplayed': {
      const deliveries = { ...state.deliveries };
      const queue = [...state.queue];
      for (const id of event.data.deliveryIds) {
        const current = deliveries[id];
        if (!current || queue.includes(id)) continue;
        deliveries[id] = { ...restartRound(current, event.data.at), status: 'pending', deliveredAt: null };
        queue.push(id);
      }
      return { ...state, queue, deliveries };
    }
  }
}

/** The decider, for the event types this deployment publishes (create and update check filters against them). */
export function webhookEndpointDecider(
  published: readonly string[],
): Decider<WebhookEndpointCommand, WebhookEndpointState, WebhookEndpointEvent> {
  return {
    decide: (command, state) => decideWebhookEndpoint(command, state, published),
    evolve: evolveWebhookEndpoint,
    initialState: () => ({ status: 'none' }),
  };
}
