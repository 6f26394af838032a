import { compoundStreamName } from '../catalog/stream-name.js';
import { invalid, jsonEqual, requireId, requireInstant, requireInteger, requireText } from '../catalog/validation.js';
import type { Channel } from '../notification/kinds.js';
import { CHANNELS } from '../notification/kinds.js';
import { validateStaffMessageText } from '../notification/templates.js';
import type { Command, Decider, DomainEvent } from '../shared/decider.js';
import { IllegalStateError, NotFoundError } from '../shared/errors.js';
import { requireSafeText } from '../shared/text.js';

/**
 * A campaign: one staff-written message to many recipients (seed 001's bulk "Send e-mail" / "Send SMS"), sent as
 * a tracked, throttled, cancellable run (decision 0014).
 *
 *   none -> preparing (the recipients snapshot arrives in chunks) -> running -> completed | cancelled
 *
 * The recipients are decided once, at creation, and recorded here; the runner walks them per channel in batches,
 * recording each batch (`CampaignBatchProcessed`) after its deliveries were requested. A delivery's id derives from
 * (campaign, recipient, channel), so a batch run twice (a crash before its record) requests nothing new.
 */

export const MAX_CAMPAIGN_RECIPIENTS = 50_000;
/** Recipients per `CampaignRecipientsAdded`: an event stays far below EventStoreDB's 1 MiB append limit. */
export const CAMPAIGN_CHUNK_SIZE = 500;

export type CampaignAudience =
  | {
      readonly type: 'reservations';
      readonly filter: {
        readonly serviceId?: string;
        readonly locationId?: string;
        readonly resourceId?: string;
        readonly from?: string;
        readonly to?: string;
        readonly status?: readonly string[];
      };
    }
  | {
      readonly type: 'customers';
      readonly filter: {
        readonly query?: string;
        readonly tag?: string;
        readonly lastVisitBefore?: string;
        readonly lastVisitAfter?: string;
        readonly minReservations?: number;
      };
    };

/** The text per channel; the channels of a campaign are the ones it has a text for. */
export interface CampaignMessage {
  readonly email?: { readonly subject: string; readonly text: string };
  readonly sms?: { readonly text: string };
}

/** One recipient as decided at creation: who, how to reach them, and the reservation the message is about. */
export interface CampaignRecipient {
  /** The customer ref: the key of the recipient's deliveries. */
  readonly key: string;
  readonly name: string;
  readonly email?: string;
  readonly phone?: string;
  readonly locale: string;
  readonly reservation?: {
    readonly reservationId: string;
    readonly code?: string;
    readonly serviceName: string;
    readonly locationName: string;
    readonly locationAddress?: string;
    readonly start: string;
    readonly end: string;
    readonly timeZone: string;
    readonly partySize?: number;
  };
}

export interface CampaignDefinition {
  readonly campaignId: string;
  readonly tenantId: string;
  readonly name: string;
  readonly audience: CampaignAudience;
  readonly message: CampaignMessage;
  readonly channels: readonly Channel[];
}

export interface ChannelProgress {
  /** Index of the next recipient to process on this channel. */
  readonly next: number;
  readonly requested: number;
  readonly skipped: number;
  /** When the next batch may run (the throttle). */
  readonly nextAt?: string;
}

interface Existing {
  readonly campaign: CampaignDefinition;
  readonly recipients: readonly CampaignRecipient[];
  readonly chunks: number;
  readonly createdAt: string;
  readonly createdBy: string;
}

interface Started extends Existing {
  readonly startedAt: string;
  readonly progress: Readonly<Partial<Record<Channel, ChannelProgress>>>;
  /** Messages a second per channel in force when it started. */
  readonly throttle: Readonly<Partial<Record<Channel, number>>>;
}

export type CampaignState =
  | { readonly status: 'none' }
  | (Existing & { readonly status: 'preparing' })
  | (Started & { readonly status: 'running' })
  | (Started & { readonly status: 'completed'; readonly completedAt: string })
  | (Existing &
      Partial<Omit<Started, keyof Existing>> & {
        readonly status: 'cancelled';
        readonly cancelledAt: string;
        readonly reason: string;
        readonly cancelledBy: string;
      });

// Commands -----------------------------------------------------------------------------------------------------------

export type CreateCampaign = Command<
  'CreateCampaign',
  {
    readonly campaignId: string;
    readonly tenantId: string;
    readonly name: string;
    readonly audience: CampaignAudience;
    readonly message: CampaignMessage;
    readonly now: string;
    readonly actor: string;
  }
>;
export type AddCampaignRecipients = Command<
  'AddCampaignRecipients',
  { readonly campaignId: string; readonly chunk: number; readonly recipients: readonly CampaignRecipient[] }
>;
export type StartCampaign = Command<
  'StartCampaign',
  { readonly campaignId: string; readonly throttle: Partial<Record<Channel, number>>; readonly now: string }
>;
export type RecordCampaignBatch = Command<
  'RecordCampaignBatch',
  {
    readonly campaignId: string;
    readonly channel: Channel;
    readonly from: number;
    readonly to: number;
    readonly requested: number;
    readonly skipped: number;
    readonly at: string;
    readonly nextAt: string;
  }
>;
export type CancelCampaign = Command<
  'CancelCampaign',
  { readonly campaignId: string; readonly reason?: string; readonly now: string; readonly actor: string }
>;
export type CampaignCommand =
  CreateCampaign | AddCampaignRecipients | StartCampaign | RecordCampaignBatch | CancelCampaign;

// Events -------------------------------------------------------------------------------------------------------------

export type CampaignCreated = DomainEvent<
  'CampaignCreated',
  CampaignDefinition & { readonly createdAt: string; readonly actor: string }
>;
export type CampaignRecipientsAdded = DomainEvent<
  'CampaignRecipientsAdded',
  {
    readonly campaignId: string;
    readonly chunk: number;
    /** Index of the first of these recipients in the campaign. */
    readonly from: number;
    readonly recipients: readonly CampaignRecipient[];
  }
>;
export type CampaignStarted = DomainEvent<
  'CampaignStarted',
  {
    readonly campaignId: string;
    readonly recipientCount: number;
    readonly channels: readonly Channel[];
    readonly throttle: Partial<Record<Channel, number>>;
    readonly startedAt: string;
  }
>;
export type CampaignBatchProcessed = DomainEvent<
  'CampaignBatchProcessed',
  {
    readonly campaignId: string;
    readonly channel: Channel;
    readonly from: number;
    readonly to: number;
    readonly requested: number;
    readonly skipped: number;
    /** Every recipient of this channel has been processed. */
    readonly done: boolean;
    readonly at: string;
    readonly nextAt: string;
  }
>;
export type CampaignCompleted = DomainEvent<
  'CampaignCompleted',
  { readonly campaignId: string; readonly channels: readonly Channel[]; readonly completedAt: string }
>;
export type CampaignCancelled = DomainEvent<
  'CampaignCancelled',
  {
    readonly campaignId: string;
    readonly channels: readonly Channel[];
    readonly reason: string;
    readonly cancelledAt: string;
    readonly actor: string;
  }
>;
export type CampaignEvent =
  | CampaignCreated
  | CampaignRecipientsAdded
  | CampaignStarted
  | CampaignBatchProcessed
  | CampaignCompleted
  | CampaignCancelled;

export const CAMPAIGN_EVENT_TYPES: readonly CampaignEvent['type'][] = [
  'CampaignCreated',
  'CampaignRecipientsAdded',
  'CampaignStarted',
  'CampaignBatchProcessed',
  'CampaignCompleted',
  'CampaignCancelled',
];

export function campaignStreamName(tenantId: string, campaignId: string): string {
  return compoundStreamName('campaign', tenantId, requireId('campaignId', campaignId));
}

// Validation ---------------------------------------------------------------------------------------------------------

export const MAX_SMS_TEXT = 1_600;
export const MAX_EMAIL_TEXT = 20_000;

/** A staff-written message: safe text (shared/text.ts) and known placeholders, per channel; at least one channel. */
export function validateCampaignMessage(message: CampaignMessage, prefix = 'message'): CampaignMessage {
  if (typeof message !== 'object' || message === null || (!message.email && !message.sms)) {
    throw invalid(prefix, 'channel', `${prefix} needs an email or an sms text (or both).`);
  }
  const text = (field: string, value: unknown, max: number, kind: 'line' | 'multiline') => {
    const checked = requireSafeText(field, requireText(field, value, max, kind), kind);
    validateStaffMessageText(checked, field);
    return checked;
  };
  return {
    ...(message.email
      ? {
          email: {
            subject: text(`${prefix}.email.subject`, message.email.subject, 300, 'line'),
            text: text(`${prefix}.email.text`, message.email.text, MAX_EMAIL_TEXT, 'multiline'),
          },
        }
      : {}),
    ...(message.sms ? { sms: { text: text(`${prefix}.sms.text`, message.sms.text, MAX_SMS_TEXT, 'multiline') } } : {}),
  };
}

export function channelsOf(message: CampaignMessage): Channel[] {
  return CHANNELS.filter((channel) => message[channel] !== undefined);
}

function validateRecipient(value: CampaignRecipient, field: string): CampaignRecipient {
  requireText(`${field}.key`, value?.key, 200);
  requireText(`${field}.locale`, value.locale, 35);
  return value;
}

// Decider ------------------------------------------------------------------------------------------------------------

function requireExisting(state: CampaignState, campaignId: string): Exclude<CampaignState, { status: 'none' }> {
  if (state.status === 'none') {
    throw new NotFoundError('campaign-not-found', `Campaign ${campaignId} does not exist.`, { campaignId });
  }
  return state;
}

function decide(command: CampaignCommand, state: CampaignState): CampaignEvent[] {
  switch (command.type) {
    case 'CreateCampaign': {
      const data = command.data;
      const message = validateCampaignMessage(data.message);
      const definition: CampaignDefinition = {
        campaignId: requireId('campaignId', data.campaignId),
        tenantId: requireId('tenantId', data.tenantId),
        name: requireText('name', data.name, 200),
        audience: data.audience,
        message,
        channels: channelsOf(message),
      };
      const createdAt = requireInstant('now', data.now);
      const actor = requireText('actor', data.actor);
      if (data.audience?.type !== 'reservations' && data.audience?.type !== 'customers') {
        throw invalid('audience.type', 'one-of', 'audience.type must be reservations or customers.');
      }
      if (state.status !== 'none') {
        if (jsonEqual(state.campaign, definition)) return [];
        throw new IllegalStateError('campaign-already-exists', `Campaign ${definition.campaignId} already exists.`, {
          campaignId: definition.campaignId,
          status: state.status,
        });
      }
      return [{ type: 'CampaignCreated', data: { ...definition, createdAt, actor } }];
    }
    case 'AddCampaignRecipients': {
      const current = requireExisting(state, command.data.campaignId);
      const chunk = requireInteger('chunk', command.data.chunk, 0, MAX_CAMPAIGN_RECIPIENTS);
      if (chunk < current.chunks) return [];
      if (current.status !== 'preparing') {
        throw new IllegalStateError('campaign-started', 'The recipients of a started campaign are fixed.', {
          status: current.status,
        });
      }
      if (chunk !== current.chunks) {
        throw new IllegalStateError('chunk-out-of-order', `Chunk ${current.chunks} comes next.`, {
          expected: current.chunks,
        });
      }
      const recipients = command.data.recipients.map((r, i) => validateRecipient(r, `recipients[${i}]`));
      if (recipients.length === 0 || recipients.length > CAMPAIGN_CHUNK_SIZE) {
        throw invalid('recipients', 'chunk-size', `A chunk holds 1 to ${CAMPAIGN_CHUNK_SIZE} recipients.`);
      }
      if (current.recipients.length + recipients.length > MAX_CAMPAIGN_RECIPIENTS) {
        throw invalid('recipients', 'max', `A campaign has at most ${MAX_CAMPAIGN_RECIPIENTS} recipients.`);
      }
      const known = new Set(current.recipients.map((r) => r.key));
      if (
        recipients.some((r) => known.has(r.key)) ||
        new Set(recipients.map((r) => r.key)).size !== recipients.length
      ) {
        throw invalid('recipients', 'unique', 'A recipient is in a campaign once.');
      }
      return [
        {
          type: 'CampaignRecipientsAdded',
          data: { campaignId: current.campaign.campaignId, chunk, from: current.recipients.length, recipients },
        },
      ];
    }
    case 'StartCampaign': {
      const current = requireExisting(state, command.data.campaignId);
      const startedAt = requireInstant('now', command.data.now);
      if (current.status !== 'preparing') return [];
      const throttle: Partial<Record<Channel, number>> = {};
      for (const channel of current.campaign.channels) {
        throttle[channel] = requireInteger(`throttle.${channel}`, command.data.throttle[channel], 1, 100_000);
      }
      const started: CampaignStarted = {
        type: 'CampaignStarted',
        data: {
          campaignId: current.campaign.campaignId,
          recipientCount: current.recipients.length,
          channels: current.campaign.channels,
          throttle,
          startedAt,
        },
      };
      if (current.recipients.length > 0) return [started];
      return [
        started,
        {
          type: 'CampaignCompleted',
          data: {
            campaignId: current.campaign.campaignId,
            channels: current.campaign.channels,
            completedAt: startedAt,
          },
        },
      ];
    }
    case 'RecordCampaignBatch': {
      const data = command.data;
      const current = requireExisting(state, data.campaignId);
      if (current.status === 'preparing' || !current.progress) {
        throw new IllegalStateError('campaign-not-started', 'The campaign has not started.', {
          status: current.status,
        });
      }
      const progress = current.progress[data.channel];
      if (!progress) throw invalid('channel', 'campaign-channel', `The campaign sends no ${data.channel}.`);
      const from = requireInteger('from', data.from, 0, MAX_CAMPAIGN_RECIPIENTS);
      const to = requireInteger('to', data.to, from + 1, current.recipients.length);
      // A batch run again after a crash before its record, or by a stale job: recorded already.
      if (from < progress.next) return [];
      if (from > progress.next) {
        throw new IllegalStateError('batch-out-of-order', `The next batch starts at ${progress.next}.`, {
          expected: progress.next,
        });
      }
      const at = requireInstant('at', data.at);
      const done = to === current.recipients.length;
      const batch: CampaignBatchProcessed = {
        type: 'CampaignBatchProcessed',
        data: {
          campaignId: current.campaign.campaignId,
          channel: data.channel,
          from,
          to,
          requested: requireInteger('requested', data.requested, 0, to - from),
          skipped: requireInteger('skipped', data.skipped, 0, to - from),
          done,
          at,
          nextAt: requireInstant('nextAt', data.nextAt),
        },
      };
      // A batch recorded after a cancellation is a fact (its deliveries were requested); no more follow.
      if (current.status !== 'running') return [batch];
      const allDone = current.campaign.channels.every((channel) =>
        channel === data.channel ? done : (current.progress?.[channel]?.next ?? 0) >= current.recipients.length,
      );
      if (!allDone) return [batch];
      return [
        batch,
        {
          type: 'CampaignCompleted',
          data: { campaignId: current.campaign.campaignId, channels: current.campaign.channels, completedAt: at },
        },
      ];
    }
    case 'CancelCampaign': {
      const current = requireExisting(state, command.data.campaignId);
      const cancelledAt = requireInstant('now', command.data.now);
      const actor = requireText('actor', command.data.actor);
      const reason = command.data.reason === undefined ? '' : requireText('reason', command.data.reason, 500);
      if (current.status === 'cancelled') return [];
      if (current.status === 'completed') {
        throw new IllegalStateError('campaign-completed', 'The campaign has already sent every message.', {
          status: current.status,
        });
      }
      return [
        {
          type: 'CampaignCancelled',
          data: {
            campaignId: current.campaign.campaignId,
            channels: current.campaign.channels,
            reason,
            cancelledAt,
            actor,
          },
        },
      ];
    }
  }
}

function evolve(state: CampaignState, event: CampaignEvent): CampaignState {
  switch (event.type) {
    case 'CampaignCreated': {
      const { createdAt, actor, ...campaign } = event.data;
      return { status: 'preparing', campaign, recipients: [], chunks: 0, createdAt, createdBy: actor };
    }
    case 'CampaignRecipientsAdded':
      if (state.status === 'none') return state;
      return { ...state, recipients: [...state.recipients, ...event.data.recipients], chunks: event.data.chunk + 1 };
    case 'CampaignStarted': {
      if (state.status === 'none') return state;
      const progress: Partial<Record<Channel, ChannelProgress>> = {};
      for (const channel of event.data.channels) {
        progress[channel] = { next: 0, requested: 0, skipped: 0, nextAt: event.data.startedAt };
      }
      return {
        ...state,
        status: 'running',
        startedAt: event.data.startedAt,
        progress,
        throttle: event.data.throttle,
      } as CampaignState;
    }
    case 'CampaignBatchProcessed': {
      if (state.status === 'none' || state.status === 'preparing' || !state.progress) return state;
      const before = state.progress[event.data.channel] ?? { next: 0, requested: 0, skipped: 0 };
      return {
        ...state,
        progress: {
          ...state.progress,
          [event.data.channel]: {
            next: event.data.to,
            requested: before.requested + event.data.requested,
            skipped: before.skipped + event.data.skipped,
            nextAt: event.data.nextAt,
          },
        },
      };
    }
    case 'CampaignCompleted':
      if (state.status !== 'running') return state;
      return { ...state, status: 'completed', completedAt: event.data.completedAt };
    case 'CampaignCancelled':
      if (state.status === 'none') return state;
      return {
        ...state,
        status: 'cancelled',
        cancelledAt: event.data.cancelledAt,
        reason: event.data.reason,
        cancelledBy: event.data.actor,
      };
  }
}

export const campaignDecider: Decider<CampaignCommand, CampaignState, CampaignEvent> = {
  decide,
  evolve,
  initialState: () => ({ status: 'none' }),
};
