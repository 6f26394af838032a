import type { Command, Decider, DomainEvent } from '../shared/decider.js';
import { IllegalStateError, ValidationError } from '../shared/errors.js';
import type { IcsMethod } from './icalendar.js';
import type { Channel, DeliveryKind, RecipientType } from './kinds.js';
import { addressDescription, isChannel, isDeliveryKind, isValidAddress, RECIPIENT_TYPES } from './kinds.js';
import { maskAddress } from './masking.js';
import type { SmsEncoding } from './sms-encoding.js';
import { analyzeSms } from './sms-encoding.js';
import type { ReservationDocumentData } from './templates.js';
import { parseInstant, requireNonNegativeInteger, requirePositiveInteger, requireText } from './validation.js';
import { normalizeTimeZone } from '../shared/zoned-time.js';

/**
 * Delivery: one notification to one recipient on one channel. The application derives the stream id from
 * (causing event id, kind, channel, recipient) — see `deliveryIdentityKey` — so a replayed or redelivered event
 * meets the delivery it already created and gets `[]`.
 *
 * Life cycle of one round:  requested -> sending(n) -> sent -> delivered | undelivered | bounced | failed
 *                                         \-> requested (transient failure, retry) -> ... -> dead-lettered
 *                                         \-> failed (permanent failure)
 * Staff may re-send a delivery that never reached the provider (failed before acceptance, dead-lettered): a new
 * round starts at requested with the attempt count reset. Once the provider has accepted a message the delivery
 * never sends again: at most one NotificationSent per stream, ever.
 */

export const DELIVERY_STREAM_CATEGORY = 'notification';
export const DEFAULT_MAX_ATTEMPTS = 10;

export const SKIP_REASONS = [
  'kind-disabled',
  'channel-disabled',
  'blocked-by-customer',
  'opted-out',
  'missing-contact',
  'invalid-contact',
  'insufficient-credits',
  /** The reason for the message went away before it was sent (a reminder for a cancelled reservation). */
  'obsolete',
  /** Due inside the channel's quiet hours, whose end is after the reservation's start. */
  'quiet-hours',
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

// ---------------------------------------------------------------------------------------------------------------
// Retry policy

export interface RetryPolicy {
  /** Delay after the first failed attempt, before jitter. */
  readonly baseMs: number;
  /** Upper bound of the exponential part. */
  readonly maxMs: number;
}

/** 5 s, 10 s, 20 s ... capped at 10 min: with 10 attempts a provider outage of ~15-30 minutes is ridden out. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { baseMs: 5_000, maxMs: 10 * 60_000 };

/**
 * Delay before the attempt after `attempt` (1-based number of the attempt that just failed). Exponential backoff
 * with "equal jitter": half of the exponential delay is fixed, the other half scaled by `jitterFraction` in [0, 1],
 * which the caller draws (the domain has no randomness). Same inputs, same delay.
 */
export function retryDelayMs(
  attempt: number,
  jitterFraction: number,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
): number {
  requirePositiveInteger(attempt, 'attempt');
  if (!Number.isFinite(jitterFraction) || jitterFraction < 0 || jitterFraction > 1) {
    throw new ValidationError('invalid-jitter', 'jitterFraction must be between 0 and 1.', { field: 'jitterFraction' });
  }
  const exponential = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempt - 1, 52));
  return Math.round(exponential / 2 + (exponential / 2) * jitterFraction);
}

// ---------------------------------------------------------------------------------------------------------------
// Data

export interface DeliveryRecipient {
  readonly type: RecipientType;
  /** Email address or E.164 number. Kept in the stream because the worker sends from it; never shown unmasked. */
  readonly address: string;
}

/**
 * A document attached to an email, described by the data it is made of: the dispatcher renders it when it sends,
 * so every attempt (and a staff re-send) carries the same bytes, and the audit trail keeps what it showed.
 */
export type ContentAttachment = { readonly kind: 'reservation-pdf'; readonly reservation: ReservationDocumentData };

export interface DeliveryContent {
  /** Email only: the tenant's sender at the time of the request. */
  readonly from?: { readonly name?: string; readonly address: string };
  readonly subject?: string;
  readonly text: string;
  readonly html?: string;
  readonly ics?: { readonly method: IcsMethod; readonly content: string };
  /** Email only: documents rendered at send time (the reservation's PDF with its code). */
  readonly attachments?: readonly ContentAttachment[];
  /**
   * A template prepared at the provider (a WhatsApp message template, a SendGrid dynamic template), sent instead of
   * the text by adapters that support it; `text` stays the readable version for the audit trail.
   */
  readonly template?: ProviderTemplate;
  /**
   * Calendar channel only (and always there): the event the recipient is invited to — the reservation's — which the
   * provider creates in the tenant's calendar with the recipient as attendee (docs/channels/calendar.md).
   */
  readonly event?: CalendarEventContent;
}

export interface CalendarEventContent {
  readonly reservationId: string;
  /** The reservation's short code, when it has one (shown in the description). */
  readonly code?: string;
  /** ISO-8601 instants. */
  readonly start: string;
  readonly end: string;
  /** The location's IANA time zone: the provider shows the event in it. */
  readonly timeZone: string;
  /** The service's name: the event's title. */
  readonly summary: string;
  /** The location's name and address, one line. */
  readonly location: string;
  /** The message text and the reservation's id/code. */
  readonly description: string;
}

export interface ProviderTemplate {
  /** The system the template lives in (`whatsapp`, `sendgrid`...): only that provider's adapter may use it. */
  readonly system: string;
  /** The provider's template name or id. */
  readonly id: string;
  /** The template's language (WhatsApp: `en`, `cs`, `en_US`). */
  readonly language?: string;
  /** In the template's order; named for providers that take names (SendGrid dynamic_template_data). */
  readonly parameters: readonly { readonly name: string; readonly value: string }[];
}

export interface SmsInfo {
  readonly encoding: SmsEncoding;
  readonly parts: number;
}

/** Who and what, without the content: enough to audit a skip. */
export interface DeliveryIdentity {
  readonly notificationId: string;
  readonly tenantId: string;
  readonly reservationId?: string;
  readonly customerId?: string;
  /** Messages about a waitlist entry (joined, offer, expired) carry it, for that entry's audit trail. */
  readonly waitlistEntryId?: string;
  /** The workflow that planned it (absent in deliveries planned before workflows, and in manual ones). */
  readonly workflowId?: string;
  /** A campaign's deliveries carry it, for the campaign's progress and audit. */
  readonly campaignId?: string;
  readonly kind: DeliveryKind;
  readonly channel: Channel;
  readonly recipientType: RecipientType;
  /** Absent when the recipient has no contact on this channel. */
  readonly maskedRecipient?: string;
  readonly causationEventId: string;
}

/** The payload of NotificationRequested: everything the worker needs to send, and the audit trail to show. */
export interface DeliveryDetails {
  readonly notificationId: string;
  readonly tenantId: string;
  readonly reservationId?: string;
  readonly customerId?: string;
  readonly waitlistEntryId?: string;
  readonly workflowId?: string;
  readonly campaignId?: string;
  readonly kind: DeliveryKind;
  readonly channel: Channel;
  readonly recipient: DeliveryRecipient;
  readonly maskedRecipient: string;
  readonly content: DeliveryContent;
  /** SMS only: computed from `content.text`. */
  readonly sms?: SmsInfo;
  /** Credits charged for the send (0 or absent: free). */
  readonly cost?: number;
  readonly causationEventId: string;
  /** When the causing event was recorded: the start of "event to provider accepted" latency. */
  readonly causedAt?: string;
  readonly requestedAt: string;
  /** Not to be sent before this instant (deferred to the end of quiet hours). */
  readonly notBefore?: string;
  /**
   * A deferred message about a reservation is sent only while the reservation still has this status and start;
   * otherwise (cancelled, moved meanwhile) it is skipped as obsolete when its time comes.
   */
  readonly validWhile?: { readonly reservationId: string; readonly status: string; readonly start: string };
  readonly maxAttempts: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Commands

export type RequestNotification = Command<
  'RequestNotification',
  Omit<DeliveryDetails, 'maskedRecipient' | 'maxAttempts'> & {
    /** Defaults to the masked form of `recipient.address`. */
    readonly maskedRecipient?: string;
    readonly maxAttempts?: number;
  }
>;
export type SkipNotification = Command<
  'SkipNotification',
  {
    readonly reason: SkipReason;
    readonly detail?: string;
    readonly skippedAt: string;
    /** Required when nothing was requested yet (the usual case: the recipient decision skipped it). */
    readonly identity?: DeliveryIdentity;
  }
>;
export type StartAttempt = Command<
  'StartAttempt',
  {
    readonly attempt: number;
    readonly at: string;
    /** The provider this attempt goes to (`smtp`, `sendgrid`, `twilio`...): the audit trail says who sent it. */
    readonly provider?: string;
  }
>;
export type RecordProviderAccepted = Command<
  'RecordProviderAccepted',
  { readonly providerMessageId: string; readonly at: string; readonly provider?: string }
>;
export type RecordAttemptFailed = Command<
  'RecordAttemptFailed',
  {
    /** The attempt this result belongs to; makes a repeated report harmless. */
    readonly attempt: number;
    readonly error: string;
    /** Timeouts, 429, 5xx, connection refused: retried. Invalid address/number, other 4xx: not. */
    readonly transient: boolean;
    readonly at: string;
    /** When to retry; the application adds `retryDelayMs(attempt, random)` (or the provider's Retry-After). */
    readonly nextAttemptAt?: string;
    /** The provider that failed. */
    readonly provider?: string;
  }
>;
export const PROVIDER_STATUSES = ['sent', 'delivered', 'undelivered', 'failed', 'bounced'] as const;
export type ProviderStatus = (typeof PROVIDER_STATUSES)[number];
export type RecordProviderStatus = Command<
  'RecordProviderStatus',
  { readonly status: ProviderStatus; readonly providerMessageId: string; readonly at: string; readonly error?: string }
>;
export type Resend = Command<'Resend', { readonly by: string; readonly at: string }>;

export type DeliveryCommand =
  | RequestNotification
  | SkipNotification
  | StartAttempt
  | RecordProviderAccepted
  | RecordAttemptFailed
  | RecordProviderStatus
  | Resend;

// ---------------------------------------------------------------------------------------------------------------
// Events

export type NotificationRequested = DomainEvent<'NotificationRequested', DeliveryDetails>;
export type NotificationSkipped = DomainEvent<
  'NotificationSkipped',
  DeliveryIdentity & { readonly reason: SkipReason; readonly detail?: string; readonly skippedAt: string }
>;
export type NotificationAttemptStarted = DomainEvent<
  'NotificationAttemptStarted',
  {
    readonly notificationId: string;
    readonly attempt: number;
    readonly round: number;
    readonly at: string;
    /** Absent in events recorded before providers were named (the channel's only provider then). */
    readonly provider?: string;
  }
>;
export type NotificationSent = DomainEvent<
  'NotificationSent',
  {
    readonly notificationId: string;
    readonly attempt: number;
    readonly providerMessageId: string;
    readonly at: string;
    /** The provider that accepted the message. */
    readonly provider?: string;
  }
>;
export type NotificationAttemptFailed = DomainEvent<
  'NotificationAttemptFailed',
  {
    readonly notificationId: string;
    readonly attempt: number;
    readonly error: string;
    readonly transient: true;
    readonly at: string;
    readonly nextAttemptAt: string;
    readonly provider?: string;
  }
>;
export type NotificationFailed = DomainEvent<
  'NotificationFailed',
  {
    readonly notificationId: string;
    readonly attempt: number;
    readonly error: string;
    /** `attempt`: the provider refused the message; `provider`: it accepted, then reported failure. */
    readonly stage: 'attempt' | 'provider';
    readonly providerMessageId?: string;
    readonly at: string;
    readonly provider?: string;
  }
>;
export type NotificationDeadLettered = DomainEvent<
  'NotificationDeadLettered',
  {
    readonly notificationId: string;
    readonly attempts: number;
    readonly error: string;
    readonly at: string;
    readonly provider?: string;
  }
>;
type ProviderOutcomeData = {
  readonly notificationId: string;
  readonly providerMessageId: string;
  readonly at: string;
  readonly error?: string;
};
export type NotificationDelivered = DomainEvent<'NotificationDelivered', ProviderOutcomeData>;
export type NotificationUndelivered = DomainEvent<'NotificationUndelivered', ProviderOutcomeData>;
export type NotificationBounced = DomainEvent<'NotificationBounced', ProviderOutcomeData>;
export type NotificationResendRequested = DomainEvent<
  'NotificationResendRequested',
  { readonly notificationId: string; readonly by: string; readonly at: string; readonly round: number }
>;

export type DeliveryEvent =
  | NotificationRequested
  | NotificationSkipped
  | NotificationAttemptStarted
  | NotificationSent
  | NotificationAttemptFailed
  | NotificationFailed
  | NotificationDeadLettered
  | NotificationDelivered
  | NotificationUndelivered
  | NotificationBounced
  | NotificationResendRequested;

export const DELIVERY_EVENT_TYPES: readonly DeliveryEvent['type'][] = [
  'NotificationRequested',
  'NotificationSkipped',
  'NotificationAttemptStarted',
  'NotificationSent',
  'NotificationAttemptFailed',
  'NotificationFailed',
  'NotificationDeadLettered',
  'NotificationDelivered',
  'NotificationUndelivered',
  'NotificationBounced',
  'NotificationResendRequested',
];

// ---------------------------------------------------------------------------------------------------------------
// State

interface Active {
  readonly delivery: DeliveryDetails;
  /** 1 for the first round; each staff re-send starts the next. */
  readonly round: number;
  /** Attempts started in this round. */
  readonly attempts: number;
  readonly lastError?: string;
  /** The provider of the latest attempt (absent before providers were named). */
  readonly provider?: string;
  /**
   * When the first attempt of this round failed transiently: how long the provider has been failing this delivery,
   * which decides failover to the channel's next provider. Cleared by a re-send.
   */
  readonly failingSince?: string;
}

interface Accepted extends Active {
  readonly providerMessageId: string;
  readonly sentAt: string;
}

export type DeliveryState =
  | { readonly status: 'none' }
  | (Active & { readonly status: 'requested'; readonly nextAttemptAt?: string })
  | (Active & { readonly status: 'sending'; readonly attemptStartedAt: string })
  | (Accepted & { readonly status: 'sent' })
  | (Accepted & { readonly status: 'delivered'; readonly deliveredAt: string })
  | (Accepted & { readonly status: 'undelivered'; readonly undeliveredAt: string })
  | (Accepted & { readonly status: 'bounced'; readonly bouncedAt: string })
  | (Active & {
      readonly status: 'failed';
      readonly failedAt: string;
      readonly stage: 'attempt' | 'provider';
      /** Present when the provider had accepted the message before reporting the failure. */
      readonly providerMessageId?: string;
      readonly sentAt?: string;
    })
  | {
      readonly status: 'skipped';
      readonly identity: DeliveryIdentity;
      readonly reason: SkipReason;
      readonly detail?: string;
      readonly skippedAt: string;
      /** Present when the delivery had been requested before it was skipped. */
      readonly delivery?: DeliveryDetails;
    }
  | (Active & { readonly status: 'dead-lettered'; readonly deadLetteredAt: string });

export type DeliveryStatus = DeliveryState['status'];

/** States in which the provider has accepted the message. */
function providerIdOf(state: DeliveryState): string | undefined {
  switch (state.status) {
    case 'sent':
    case 'delivered':
    case 'undelivered':
    case 'bounced':
      return state.providerMessageId;
    case 'failed':
      return state.providerMessageId;
    default:
      return undefined;
  }
}

/** Ordering of provider-reported states: a status never replaces one of equal or higher rank. */
function providerRank(state: DeliveryState): number {
  if (providerIdOf(state) === undefined) return 0;
  return state.status === 'sent' ? 1 : 2;
}

const STATUS_RANK: Readonly<Record<ProviderStatus, number>> = {
  sent: 1,
  delivered: 2,
  undelivered: 2,
  failed: 2,
  bounced: 2,
};

export function initialDeliveryState(): DeliveryState {
  return { status: 'none' };
}

// ---------------------------------------------------------------------------------------------------------------
// decide

export function decideDelivery(command: DeliveryCommand, state: DeliveryState): DeliveryEvent[] {
  switch (command.type) {
    case 'RequestNotification':
      return request(command.data, state);
    case 'SkipNotification':
      return skip(command.data, state);
    case 'StartAttempt':
      return startAttempt(command.data, state);
    case 'RecordProviderAccepted':
      return providerAccepted(command.data, state);
    case 'RecordAttemptFailed':
      return attemptFailed(command.data, state);
    case 'RecordProviderStatus':
      return providerStatus(command.data, state);
    case 'Resend':
      return resend(command.data, state);
  }
}

function notificationIdOf(state: Exclude<DeliveryState, { status: 'none' }>): string {
  return state.status === 'skipped' ? state.identity.notificationId : state.delivery.notificationId;
}

function notRequested(state: DeliveryState): IllegalStateError {
  return state.status === 'skipped'
    ? new IllegalStateError('delivery-skipped', `The notification was skipped (${state.reason}).`, {
        reason: state.reason,
      })
    : new IllegalStateError('delivery-not-requested', 'No notification has been requested on this stream.');
}

function request(data: RequestNotification['data'], state: DeliveryState): DeliveryEvent[] {
  const details = validateRequest(data);
  if (state.status !== 'none') {
    if (notificationIdOf(state) !== details.notificationId) {
      throw new IllegalStateError('delivery-identity-mismatch', 'This stream belongs to another notification.', {
        notificationId: notificationIdOf(state),
      });
    }
    return [];
  }
  return [{ type: 'NotificationRequested', data: details }];
}

function validateCalendarEvent(event: CalendarEventContent): void {
  requireText(event.reservationId, 'content.event.reservationId');
  requireText(event.summary, 'content.event.summary');
  const start = parseInstant(event.start, 'content.event.start');
  const end = parseInstant(event.end, 'content.event.end');
  if (end.getTime() <= start.getTime()) {
    throw new ValidationError('invalid-content', 'A calendar event ends after it starts.', {
      field: 'content.event.end',
    });
  }
  if (normalizeTimeZone(event.timeZone) === null) {
    throw new ValidationError('invalid-content', 'Not an IANA time zone.', { field: 'content.event.timeZone' });
  }
}

function validateRequest(data: RequestNotification['data']): DeliveryDetails {
  requireText(data.notificationId, 'notificationId');
  requireText(data.tenantId, 'tenantId');
  requireText(data.causationEventId, 'causationEventId');
  parseInstant(data.requestedAt, 'requestedAt');
  if (!isDeliveryKind(data.kind))
    throw new ValidationError('invalid-kind', `Unknown kind ${String(data.kind)}.`, { field: 'kind' });
  if (!isChannel(data.channel))
    throw new ValidationError('invalid-channel', `Unknown channel ${String(data.channel)}.`, { field: 'channel' });
  if (!RECIPIENT_TYPES.includes(data.recipient?.type)) {
    throw new ValidationError('invalid-recipient', 'Unknown recipient type.', { field: 'recipient.type' });
  }
  if (!isValidAddress(data.channel, data.recipient.address ?? '')) {
    throw new ValidationError('invalid-recipient', `Not a valid ${addressDescription(data.channel)}.`, {
      field: 'recipient.address',
    });
  }
  requireText(data.content?.text, 'content.text');
  if (data.channel === 'email') requireText(data.content.subject, 'content.subject');
  if (
    data.channel !== 'email' &&
    (data.content.html !== undefined ||
      data.content.ics !== undefined ||
      data.content.subject !== undefined ||
      data.content.attachments !== undefined)
  ) {
    throw new ValidationError(
      'invalid-content',
      data.channel === 'sms' ? 'An SMS carries text only.' : `A ${data.channel} message carries text only.`,
      { field: 'content' },
    );
  }
  if ((data.channel === 'calendar') !== (data.content.event !== undefined)) {
    throw new ValidationError(
      'invalid-content',
      data.channel === 'calendar'
        ? 'A calendar invitation needs its event.'
        : 'Only a calendar invitation has an event.',
      { field: 'content.event' },
    );
  }
  if (data.content.event !== undefined) validateCalendarEvent(data.content.event);
  if (data.content.template !== undefined) {
    const t = data.content.template;
    requireText(t.system, 'content.template.system');
    requireText(t.id, 'content.template.id');
    if (data.channel === 'sms' || data.channel === 'telegram' || !Array.isArray(t.parameters)) {
      throw new ValidationError('invalid-content', `A ${data.channel} message has no provider template.`, {
        field: 'content.template',
      });
    }
  }
  let sms: SmsInfo | undefined;
  if (data.channel === 'sms') {
    const analysis = analyzeSms(data.content.text);
    sms = { encoding: analysis.encoding, parts: analysis.parts };
    if (data.sms !== undefined && (data.sms.encoding !== sms.encoding || data.sms.parts !== sms.parts)) {
      throw new ValidationError('sms-analysis-mismatch', `The text is ${sms.encoding} in ${sms.parts} part(s).`, {
        field: 'sms',
        ...sms,
      });
    }
  } else if (data.sms !== undefined) {
    throw new ValidationError('invalid-content', 'SMS information on an email.', { field: 'sms' });
  }
  if (data.cost !== undefined) requireNonNegativeInteger(data.cost, 'cost');
  if (data.notBefore !== undefined) parseInstant(data.notBefore, 'notBefore');
  if (data.validWhile !== undefined) {
    requireText(data.validWhile.reservationId, 'validWhile.reservationId');
    requireText(data.validWhile.status, 'validWhile.status');
    parseInstant(data.validWhile.start, 'validWhile.start');
  }
  const maxAttempts = data.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  requirePositiveInteger(maxAttempts, 'maxAttempts');
  const { sms: _givenSms, maskedRecipient, maxAttempts: _givenMax, ...rest } = data;
  return {
    ...rest,
    maskedRecipient: maskedRecipient ?? maskAddress(data.channel, data.recipient.address),
    ...(sms ? { sms } : {}),
    maxAttempts,
  };
}

function skip(data: SkipNotification['data'], state: DeliveryState): DeliveryEvent[] {
  parseInstant(data.skippedAt, 'skippedAt');
  if (!SKIP_REASONS.includes(data.reason)) {
    throw new ValidationError('invalid-skip-reason', `Unknown skip reason ${String(data.reason)}.`, {
      field: 'reason',
    });
  }
  const payload = {
    reason: data.reason,
    ...(data.detail !== undefined ? { detail: data.detail } : {}),
    skippedAt: data.skippedAt,
  };
  switch (state.status) {
    case 'none': {
      const identity = data.identity;
      if (identity === undefined) {
        throw new ValidationError('missing-field', 'Skipping an unrequested notification needs its identity.', {
          field: 'identity',
        });
      }
      requireText(identity.notificationId, 'identity.notificationId');
      requireText(identity.tenantId, 'identity.tenantId');
      requireText(identity.causationEventId, 'identity.causationEventId');
      if (!isDeliveryKind(identity.kind))
        throw new ValidationError('invalid-kind', 'Unknown kind.', { field: 'identity.kind' });
      if (!isChannel(identity.channel))
        throw new ValidationError('invalid-channel', 'Unknown channel.', { field: 'identity.channel' });
      if (!RECIPIENT_TYPES.includes(identity.recipientType)) {
        throw new ValidationError('invalid-recipient', 'Unknown recipient type.', { field: 'identity.recipientType' });
      }
      return [{ type: 'NotificationSkipped', data: { ...identity, ...payload } }];
    }
    case 'skipped':
      return [];
    case 'requested':
      return [{ type: 'NotificationSkipped', data: { ...identityOf(state.delivery), ...payload } }];
    case 'sending':
      throw new IllegalStateError('delivery-in-progress', 'An attempt is under way; it cannot be skipped now.');
    default:
      throw new IllegalStateError('delivery-finished', `The notification is already ${state.status}.`, {
        status: state.status,
      });
  }
}

export function identityOf(delivery: DeliveryDetails): DeliveryIdentity {
  return {
    notificationId: delivery.notificationId,
    tenantId: delivery.tenantId,
    ...(delivery.reservationId !== undefined ? { reservationId: delivery.reservationId } : {}),
    ...(delivery.customerId !== undefined ? { customerId: delivery.customerId } : {}),
    ...(delivery.waitlistEntryId !== undefined ? { waitlistEntryId: delivery.waitlistEntryId } : {}),
    ...(delivery.workflowId !== undefined ? { workflowId: delivery.workflowId } : {}),
    ...(delivery.campaignId !== undefined ? { campaignId: delivery.campaignId } : {}),
    kind: delivery.kind,
    channel: delivery.channel,
    recipientType: delivery.recipient.type,
    maskedRecipient: delivery.maskedRecipient,
    causationEventId: delivery.causationEventId,
  };
}

function startAttempt(data: StartAttempt['data'], state: DeliveryState): DeliveryEvent[] {
  requirePositiveInteger(data.attempt, 'attempt');
  parseInstant(data.at, 'at');
  switch (state.status) {
    case 'none':
    case 'skipped':
      throw notRequested(state);
    case 'requested':
      if (data.attempt <= state.attempts) return [];
      if (data.attempt !== state.attempts + 1) throw outOfOrder(data.attempt, state.attempts + 1);
      return [
        {
          type: 'NotificationAttemptStarted',
          data: {
            notificationId: state.delivery.notificationId,
            attempt: data.attempt,
            round: state.round,
            at: data.at,
            ...(data.provider !== undefined ? { provider: data.provider } : {}),
          },
        },
      ];
    case 'sending':
      // The same attempt again means a worker restarted mid-send: it must reconcile with the provider, not resend.
      if (data.attempt <= state.attempts) return [];
      throw new IllegalStateError('attempt-in-progress', `Attempt ${state.attempts} has not reported back yet.`, {
        attempt: state.attempts,
      });
    case 'failed':
    case 'dead-lettered':
      if (data.attempt <= state.attempts) return [];
      throw new IllegalStateError(
        'delivery-finished',
        `The notification is ${state.status}; re-send it to try again.`,
        {
          status: state.status,
        },
      );
    default:
      // Accepted by the provider: whatever attempt a stale job asks for, there is nothing left to send.
      return [];
  }
}

function outOfOrder(attempt: number, expected: number): IllegalStateError {
  return new IllegalStateError('attempt-out-of-order', `Attempt ${attempt} cannot start; the next is ${expected}.`, {
    attempt,
    expected,
  });
}

/** States in which some attempt happened but no acceptance is recorded: an acceptance may still turn up. */
function awaitingAcceptance(
  state: DeliveryState,
): state is Extract<DeliveryState, { status: 'requested' | 'sending' | 'failed' | 'dead-lettered' }> {
  switch (state.status) {
    case 'sending':
      return true;
    case 'requested':
    case 'dead-lettered':
      return state.attempts > 0;
    case 'failed':
      return state.stage === 'attempt' && state.attempts > 0;
    default:
      return false;
  }
}

function sentEvent(state: Active, providerMessageId: string, at: string, provider?: string): NotificationSent {
  const by = provider ?? state.provider;
  return {
    type: 'NotificationSent',
    data: {
      notificationId: state.delivery.notificationId,
      attempt: state.attempts,
      providerMessageId,
      at,
      ...(by !== undefined ? { provider: by } : {}),
    },
  };
}

function providerAccepted(data: RecordProviderAccepted['data'], state: DeliveryState): DeliveryEvent[] {
  requireText(data.providerMessageId, 'providerMessageId');
  parseInstant(data.at, 'at');
  const known = providerIdOf(state);
  if (known !== undefined) {
    if (known === data.providerMessageId) return [];
    throw alreadySent(known, data.providerMessageId);
  }
  // Also from requested/failed/dead-lettered: an attempt recorded as a timeout may have reached the provider after
  // all, which reconciliation discovers. Recording the truth is better than keeping a wrong failure.
  if (!awaitingAcceptance(state))
    throw state.status === 'none' || state.status === 'skipped' ? notRequested(state) : notStarted();
  return [sentEvent(state, data.providerMessageId, data.at, data.provider)];
}

function notStarted(): IllegalStateError {
  return new IllegalStateError('attempt-not-started', 'No attempt has been started.');
}

function alreadySent(known: string, reported: string): IllegalStateError {
  return new IllegalStateError('already-sent', `The notification was already accepted as ${known}.`, {
    providerMessageId: known,
    reported,
  });
}

function attemptFailed(data: RecordAttemptFailed['data'], state: DeliveryState): DeliveryEvent[] {
  requirePositiveInteger(data.attempt, 'attempt');
  requireText(data.error, 'error');
  const at = parseInstant(data.at, 'at');
  if (data.nextAttemptAt !== undefined && parseInstant(data.nextAttemptAt, 'nextAttemptAt').getTime() < at.getTime()) {
    throw new ValidationError('invalid-instant', 'nextAttemptAt must not be before at.', { field: 'nextAttemptAt' });
  }
  switch (state.status) {
    case 'none':
    case 'skipped':
      throw notRequested(state);
    case 'sending':
      break;
    case 'requested':
    case 'failed':
    case 'dead-lettered':
      if (data.attempt <= state.attempts) return [];
      throw notStarted();
    default:
      // The provider accepted the message: a failure report of some attempt changes nothing.
      return [];
  }
  if (data.attempt < state.attempts) return [];
  if (data.attempt > state.attempts) throw outOfOrder(data.attempt, state.attempts);
  const notificationId = state.delivery.notificationId;
  const by = data.provider ?? state.provider;
  const provider = by !== undefined ? { provider: by } : {};
  if (!data.transient) {
    return [
      {
        type: 'NotificationFailed',
        data: { notificationId, attempt: data.attempt, error: data.error, stage: 'attempt', at: data.at, ...provider },
      },
    ];
  }
  if (data.attempt >= state.delivery.maxAttempts) {
    return [
      {
        type: 'NotificationDeadLettered',
        data: { notificationId, attempts: data.attempt, error: data.error, at: data.at, ...provider },
      },
    ];
  }
  const nextAttemptAt = data.nextAttemptAt ?? new Date(at.getTime() + retryDelayMs(data.attempt, 0)).toISOString();
  return [
    {
      type: 'NotificationAttemptFailed',
      data: {
        notificationId,
        attempt: data.attempt,
        error: data.error,
        transient: true,
        at: data.at,
        nextAttemptAt,
        ...provider,
      },
    },
  ];
}

function providerStatus(data: RecordProviderStatus['data'], state: DeliveryState): DeliveryEvent[] {
  if (!PROVIDER_STATUSES.includes(data.status)) {
    throw new ValidationError('invalid-provider-status', `Unknown provider status ${String(data.status)}.`, {
      field: 'status',
    });
  }
  requireText(data.providerMessageId, 'providerMessageId');
  parseInstant(data.at, 'at');
  if (state.status === 'none' || state.status === 'skipped') throw notRequested(state);
  const known = providerIdOf(state);
  const events: DeliveryEvent[] = [];
  let currentRank: number;
  if (known === undefined) {
    // A callback can overtake the worker recording the acceptance: the callback is proof of acceptance.
    if (!awaitingAcceptance(state)) throw notStarted();
    events.push(sentEvent(state, data.providerMessageId, data.at));
    currentRank = STATUS_RANK.sent;
  } else if (known !== data.providerMessageId) {
    throw new IllegalStateError('provider-message-mismatch', 'The status is for another provider message.', {
      providerMessageId: known,
      reported: data.providerMessageId,
    });
  } else {
    currentRank = providerRank(state);
  }
  // Only forward: a late 'sent' after 'delivered', or the same status twice, changes nothing. The first final
  // status wins; a contradicting later one (delivered, then undelivered) is ignored rather than rewriting history.
  if (STATUS_RANK[data.status] <= currentRank) return events;
  const notificationId = state.delivery.notificationId;
  const outcome = {
    notificationId,
    providerMessageId: data.providerMessageId,
    at: data.at,
    ...(data.error !== undefined ? { error: data.error } : {}),
  };
  switch (data.status) {
    case 'sent':
      return events;
    case 'delivered':
      return [...events, { type: 'NotificationDelivered', data: outcome }];
    case 'undelivered':
      return [...events, { type: 'NotificationUndelivered', data: outcome }];
    case 'bounced':
      return [...events, { type: 'NotificationBounced', data: outcome }];
    case 'failed':
      return [
        ...events,
        {
          type: 'NotificationFailed',
          data: {
            notificationId,
            attempt: state.attempts,
            error: data.error ?? 'failed',
            stage: 'provider',
            providerMessageId: data.providerMessageId,
            at: data.at,
          },
        },
      ];
  }
}

function resend(data: Resend['data'], state: DeliveryState): DeliveryEvent[] {
  requireText(data.by, 'by');
  parseInstant(data.at, 'at');
  switch (state.status) {
    case 'none':
    case 'skipped':
      throw notRequested(state);
    case 'requested':
    case 'sending':
      return [];
    case 'failed':
      if (state.stage === 'provider') throw resendAfterAcceptance(state.status);
      break;
    case 'dead-lettered':
      break;
    default:
      throw resendAfterAcceptance(state.status);
  }
  return [
    {
      type: 'NotificationResendRequested',
      data: { notificationId: state.delivery.notificationId, by: data.by, at: data.at, round: state.round + 1 },
    },
  ];
}

function resendAfterAcceptance(status: DeliveryStatus): IllegalStateError {
  return new IllegalStateError(
    'already-sent',
    `The provider accepted this notification (now ${status}); request a new notification to send it again.`,
    { status },
  );
}

// ---------------------------------------------------------------------------------------------------------------
// evolve

export function evolveDelivery(state: DeliveryState, event: DeliveryEvent): DeliveryState {
  switch (event.type) {
    case 'NotificationRequested':
      return {
        status: 'requested',
        delivery: event.data,
        round: 1,
        attempts: 0,
        // Deferred (quiet hours): the dispatcher waits for it like for a retry.
        ...(event.data.notBefore !== undefined ? { nextAttemptAt: event.data.notBefore } : {}),
      };
    case 'NotificationSkipped': {
      const { reason, detail, skippedAt, ...identity } = event.data;
      return {
        status: 'skipped',
        identity,
        reason,
        ...(detail !== undefined ? { detail } : {}),
        skippedAt,
        ...(state.status !== 'none' && state.status !== 'skipped' ? { delivery: state.delivery } : {}),
      };
    }
    case 'NotificationResendRequested':
      if (state.status === 'none' || state.status === 'skipped') return state;
      return {
        status: 'requested',
        delivery: state.delivery,
        round: event.data.round,
        attempts: 0,
        ...lastErrorOf(state),
      };
    default:
      break;
  }
  if (state.status === 'none' || state.status === 'skipped') return state;
  const active: Active = {
    delivery: state.delivery,
    round: state.round,
    attempts: state.attempts,
    ...lastErrorOf(state),
    ...(state.provider !== undefined ? { provider: state.provider } : {}),
    ...(state.failingSince !== undefined ? { failingSince: state.failingSince } : {}),
  };
  switch (event.type) {
    case 'NotificationAttemptStarted': {
      // An event without a provider (recorded before providers were named) leaves none: not the previous one's.
      const { provider: _previous, ...rest } = active;
      return {
        ...rest,
        ...(event.data.provider !== undefined ? { provider: event.data.provider } : {}),
        status: 'sending',
        attempts: event.data.attempt,
        attemptStartedAt: event.data.at,
      };
    }
    case 'NotificationAttemptFailed':
      return {
        ...active,
        status: 'requested',
        lastError: event.data.error,
        nextAttemptAt: event.data.nextAttemptAt,
        failingSince: active.failingSince ?? event.data.at,
      };
    case 'NotificationDeadLettered':
      return { ...active, status: 'dead-lettered', lastError: event.data.error, deadLetteredAt: event.data.at };
    case 'NotificationSent':
      return { ...active, status: 'sent', providerMessageId: event.data.providerMessageId, sentAt: event.data.at };
    case 'NotificationFailed': {
      const accepted = acceptedOf(state);
      return {
        ...active,
        status: 'failed',
        lastError: event.data.error,
        failedAt: event.data.at,
        stage: event.data.stage,
        ...(accepted ?? {}),
      };
    }
    case 'NotificationDelivered':
    case 'NotificationUndelivered':
    case 'NotificationBounced': {
      const accepted = acceptedOf(state) ?? { providerMessageId: event.data.providerMessageId, sentAt: event.data.at };
      const withError = event.data.error !== undefined ? { lastError: event.data.error } : {};
      if (event.type === 'NotificationDelivered')
        return { ...active, ...accepted, status: 'delivered', deliveredAt: event.data.at };
      if (event.type === 'NotificationUndelivered') {
        return { ...active, ...withError, ...accepted, status: 'undelivered', undeliveredAt: event.data.at };
      }
      return { ...active, ...withError, ...accepted, status: 'bounced', bouncedAt: event.data.at };
    }
  }
}

function lastErrorOf(state: Active): { lastError?: string } {
  return state.lastError !== undefined ? { lastError: state.lastError } : {};
}

function acceptedOf(state: DeliveryState): { providerMessageId: string; sentAt: string } | undefined {
  switch (state.status) {
    case 'sent':
    case 'delivered':
    case 'undelivered':
    case 'bounced':
      return { providerMessageId: state.providerMessageId, sentAt: state.sentAt };
    case 'failed':
      return state.providerMessageId !== undefined && state.sentAt !== undefined
        ? { providerMessageId: state.providerMessageId, sentAt: state.sentAt }
        : undefined;
    default:
      return undefined;
  }
}

export const deliveryDecider: Decider<DeliveryCommand, DeliveryState, DeliveryEvent> = {
  decide: decideDelivery,
  evolve: evolveDelivery,
  initialState: initialDeliveryState,
};
