import {
  CAMPAIGN_CHUNK_SIZE,
  campaignDecider,
  campaignStreamName,
  channelsOf,
  MAX_CAMPAIGN_RECIPIENTS,
  validateCampaignMessage,
  type CampaignAudience,
  type CampaignMessage,
  type CampaignRecipient,
  type CampaignState,
} from '../../domain/campaign/campaign.decider.js';
import { customerPreferencesOf, DEFAULT_CUSTOMER_PREFERENCES, type Channel } from '../../domain/notification/index.js';
import { IllegalStateError, NotFoundError, ValidationError } from '../../domain/shared/errors.js';
import { invalid, requireInstant } from '../../domain/catalog/validation.js';
import { handleCommand, loadAggregate, type CommandContext, type CommandHandlerDeps } from '../command-handler.js';
import { allCustomers, customersByRef } from '../customers/customers.js';
import { readCredits } from '../notifications/notification-admin.js';
import { customerRefOf, loadNotificationSettings } from '../notifications/notification-settings.js';
import type { Clock } from '../ports/clock.port.js';
import type { EventStore } from '../ports/event-store.port.js';
import type { FieldCondition, ReadModelStore, StoredDocument } from '../ports/read-model-store.port.js';
import {
  reservationDetailsProjection,
  type ReservationDocument,
} from '../projections/reservation-details.projection.js';
import { deliveriesProjection } from '../projections/deliveries.projection.js';
import type { CustomerDocument } from '../projections/customers.projection.js';
import { physicalCollection } from '../projections/projection.js';
import { tenantTimeZone } from './manual-messages.js';
import { exclusionOf, renderStaffContent, staffMessageContext, type ExclusionReason } from './staff-deliveries.js';

export interface CampaignDeps extends CommandHandlerDeps {
  readonly clock: Clock;
  readonly readModels: ReadModelStore;
  /** Messages a second per channel (CAMPAIGN_SMS_PER_SECOND, CAMPAIGN_EMAIL_PER_SECOND). */
  readonly throttle: Readonly<Record<Channel, number>>;
}

export interface BulkInput {
  readonly audience: CampaignAudience;
  readonly message: CampaignMessage;
}

export interface AudienceResult {
  readonly recipients: CampaignRecipient[];
  /** Preferences as the customers read model has them (the runner checks the customer streams again at send time). */
  readonly preferences: Map<string, CustomerDocument>;
  /** Reservations that matched but whose customer has neither id, email nor phone: nobody to write to. */
  readonly unreachable: number;
}

/**
 * Who a bulk message goes to: the customers of the reservations that match (each customer once, with their first
 * matching reservation for the placeholders) or the customers that match. From the read models, at the time of the
 * request: a reservation recorded a moment ago may not be in it yet.
 */
export async function resolveAudience(
  deps: Pick<CampaignDeps, 'readModels' | 'ids'>,
  tenantId: string,
  audience: CampaignAudience,
): Promise<AudienceResult> {
  const recipients: CampaignRecipient[] = [];
  const seen = new Set<string>();
  let unreachable = 0;
  const tooMany = () =>
    new ValidationError(
      'too-many-recipients',
      `A bulk message goes to at most ${MAX_CAMPAIGN_RECIPIENTS} recipients.`,
      {
        field: 'audience',
        max: MAX_CAMPAIGN_RECIPIENTS,
      },
    );
  if (audience.type === 'reservations') {
    // One query over the reservations read model (start order, then id): a campaign's audience is read whole.
    const filter = audience.filter;
    const query: Record<string, FieldCondition> = { tenantId };
    if (filter.status && filter.status.length > 0) query.status = { $in: [...filter.status] };
    if (filter.serviceId) query.serviceId = filter.serviceId;
    if (filter.resourceId) query.resourceId = filter.resourceId;
    if (filter.locationId) query.locationId = filter.locationId;
    const from = filter.from !== undefined ? requireInstant('from', filter.from) : undefined;
    const to = filter.to !== undefined ? requireInstant('to', filter.to) : undefined;
    if (from && to && to <= from) throw invalid('to', 'after-from', 'to must be after from.');
    if (from || to) query.start = { ...(from ? { $gte: from } : {}), ...(to ? { $lt: to } : {}) };
    const docs = await deps.readModels.find<ReservationDocument & StoredDocument>(
      physicalCollection(reservationDetailsProjection),
      query,
      { sort: { field: 'start', direction: 1 }, limit: MAX_CAMPAIGN_RECIPIENTS * 2 + 1 },
    );
    if (docs.length > MAX_CAMPAIGN_RECIPIENTS * 2) throw tooMany();
    for (const doc of docs) {
      const key = customerRefOf(deps.ids, tenantId, doc.customer);
      if (!key) {
        unreachable++;
        continue;
      }
      if (seen.has(key)) continue;
      seen.add(key);
      if (recipients.length >= MAX_CAMPAIGN_RECIPIENTS) throw tooMany();
      recipients.push({
        key,
        name: doc.customer.name,
        ...(doc.customer.email ? { email: doc.customer.email } : {}),
        ...(doc.customer.phone ? { phone: doc.customer.phone } : {}),
        locale: doc.customer.locale,
        reservation: {
          reservationId: doc.reservationId,
          ...(doc.code ? { code: doc.code } : {}),
          serviceName: doc.serviceName,
          locationName: doc.location.name,
          locationAddress: doc.location.address,
          start: doc.start,
          end: doc.end,
          timeZone: doc.location.timeZone,
          partySize: doc.partySize,
        },
      });
    }
    return { recipients, preferences: await customersByRef(deps.readModels, tenantId, [...seen]), unreachable };
  }
  const { customers, truncated } = await allCustomers(
    deps.readModels,
    tenantId,
    audience.filter,
    MAX_CAMPAIGN_RECIPIENTS,
  );
  if (truncated) throw tooMany();
  const preferences = new Map<string, CustomerDocument>();
  for (const customer of customers) {
    preferences.set(customer.customerRef, customer);
    recipients.push({
      key: customer.customerRef,
      name: customer.name ?? '',
      ...(customer.email ? { email: customer.email } : {}),
      ...(customer.phone ? { phone: customer.phone } : {}),
      locale: customer.locale ?? '',
    });
  }
  return { recipients, preferences, unreachable };
}

function preferencesOf(doc: CustomerDocument | undefined) {
  if (!doc) return DEFAULT_CUSTOMER_PREFERENCES;
  return customerPreferencesOf({
    status: 'customised',
    customerId: doc.customerRef,
    tenantId: doc.tenantId,
    blocked: doc.blocked as never,
    smsOptedOut: doc.smsOptedOut,
    changedAt: doc.updatedAt,
  });
}

export interface ChannelPreview {
  readonly recipients: number;
  readonly excluded: number;
  /** SMS only: parts in all, and the recipients per number of parts. */
  readonly parts?: number;
  readonly credits: number;
}

export interface BulkPreview {
  /** Distinct customers the filter matched. */
  readonly matched: number;
  readonly unreachable: number;
  readonly channels: Partial<Record<Channel, ChannelPreview>>;
  readonly credits: { readonly total: number; readonly balance: number; readonly sufficient: boolean };
  /** Who does not get it on a channel, and why (the first 200). */
  readonly excluded: readonly { customerRef: string; name: string; channel: Channel; reason: ExclusionReason }[];
  readonly excludedTotal: number;
  /** The message as the first recipient gets it, per channel. */
  readonly sample: Partial<Record<Channel, { subject?: string; text: string }>>;
}

/**
 * What a bulk message would do, changing nothing: who it reaches on which channel, who is left out and why, the
 * SMS parts and the credits it costs (rendered per recipient, so the placeholders' lengths count).
 */
export async function previewBulk(
  deps: CampaignDeps,
  tenantId: string,
  input: BulkInput,
  resolved?: AudienceResult,
): Promise<BulkPreview> {
  const message = validateCampaignMessage(input.message);
  const audience = resolved ?? (await resolveAudience(deps, tenantId, input.audience));
  const settings = await loadNotificationSettings(deps.eventStore, tenantId);
  const timeZone = await tenantTimeZone(deps.eventStore, tenantId);
  const channels: Partial<Record<Channel, ChannelPreview>> = {};
  const excluded: BulkPreview['excluded'][number][] = [];
  let excludedTotal = 0;
  let total = 0;
  const sample: BulkPreview['sample'] = {};
  for (const channel of channelsOf(message)) {
    let recipients = 0;
    let out = 0;
    let parts = 0;
    let credits = 0;
    for (const recipient of audience.recipients) {
      const reason = exclusionOf(
        recipient,
        channel,
        'bulk-message',
        preferencesOf(audience.preferences.get(recipient.key)),
      );
      if (reason) {
        out++;
        excludedTotal++;
        if (excluded.length < 200) excluded.push({ customerRef: recipient.key, name: recipient.name, channel, reason });
        continue;
      }
      const rendered = renderStaffContent(
        message,
        channel,
        staffMessageContext(recipient, settings, timeZone),
        settings,
        'bulk',
      );
      recipients++;
      credits += rendered.cost;
      if (rendered.sms) parts += rendered.sms.parts;
      if (!sample[channel]) {
        sample[channel] = {
          ...(rendered.content.subject ? { subject: rendered.content.subject } : {}),
          text: rendered.content.text,
        };
      }
    }
    channels[channel] = { recipients, excluded: out, ...(channel === 'sms' ? { parts } : {}), credits };
    total += credits;
  }
  const { balance } = await readCredits(deps.eventStore, tenantId, 1);
  return {
    matched: audience.recipients.length,
    unreachable: audience.unreachable,
    channels,
    credits: { total, balance, sufficient: total <= balance },
    excluded,
    excludedTotal,
    sample,
  };
}

export interface CampaignCreation extends BulkInput {
  readonly name: string;
}

/**
 * Creates and starts a campaign: the recipients decided now (from the read models) are recorded in the campaign's
 * stream in chunks, then `CampaignStarted` hands it to the runner. Refused (nothing recorded) when the credits do
 * not cover it at today's preferences (409 insufficient-credits). Retried with the same id — the client's
 * `campaignId` or one derived from the Idempotency-Key — it finds the campaign and continues or answers it as it is.
 */
export async function createCampaign(
  deps: CampaignDeps,
  context: CommandContext,
  campaignId: string,
  input: CampaignCreation,
): Promise<{ state: CampaignState; created: boolean }> {
  const tenantId = context.tenantId;
  const stream = campaignStreamName(tenantId, campaignId);
  const now = deps.clock.now().toISOString();
  const create = {
    type: 'CreateCampaign' as const,
    data: {
      campaignId,
      tenantId,
      name: input.name,
      audience: input.audience,
      message: input.message,
      now,
      actor: context.actor,
    },
  };
  const existing = await loadAggregate(deps.eventStore, stream, campaignDecider);
  campaignDecider.decide(create, existing.state); // a different campaign under this id: 409 before anything else
  if (existing.state.status !== 'none' && existing.state.status !== 'preparing') {
    return { state: existing.state, created: false };
  }
  const audience = await resolveAudience(deps, tenantId, input.audience);
  const preview = await previewBulk(deps, tenantId, input, audience);
  if (!preview.credits.sufficient && existing.state.status === 'none') {
    throw new IllegalStateError(
      'insufficient-credits',
      `The campaign costs ${preview.credits.total} credits, ${preview.credits.balance} available.`,
      { required: preview.credits.total, balance: preview.credits.balance },
    );
  }
  const { recipients } = audience;
  let { state } = await handleCommand(deps, stream, campaignDecider, create, context);
  // Resumed after a crash during creation: the recipients recorded stay, those found now are added after them.
  const recorded = new Set(state.status === 'none' ? [] : state.recipients.map((r) => r.key));
  const remaining = recipients.filter((r) => !recorded.has(r.key));
  let chunk = state.status === 'none' ? 0 : state.chunks;
  for (let i = 0; i < remaining.length; i += CAMPAIGN_CHUNK_SIZE) {
    ({ state } = await handleCommand(
      deps,
      stream,
      campaignDecider,
      {
        type: 'AddCampaignRecipients',
        data: { campaignId, chunk, recipients: remaining.slice(i, i + CAMPAIGN_CHUNK_SIZE) },
      },
      context,
    ));
    chunk++;
  }
  ({ state } = await handleCommand(
    deps,
    stream,
    campaignDecider,
    {
      type: 'StartCampaign',
      data: { campaignId, throttle: { ...deps.throttle }, now: deps.clock.now().toISOString() },
    },
    context,
  ));
  return { state, created: true };
}

export async function cancelCampaign(
  deps: CampaignDeps,
  context: CommandContext,
  campaignId: string,
  reason?: string,
): Promise<CampaignState> {
  await requireCampaign(deps.eventStore, context.tenantId, campaignId);
  const { state } = await handleCommand(
    deps,
    campaignStreamName(context.tenantId, campaignId),
    campaignDecider,
    {
      type: 'CancelCampaign',
      data: { campaignId, ...(reason ? { reason } : {}), now: deps.clock.now().toISOString(), actor: context.actor },
    },
    context,
  );
  return state;
}

export async function requireCampaign(
  eventStore: EventStore,
  tenantId: string,
  campaignId: string,
): Promise<{ state: Exclude<CampaignState, { status: 'none' }>; revision: bigint }> {
  const { state, revision } = await loadAggregate(
    eventStore,
    campaignStreamName(tenantId, campaignId),
    campaignDecider,
  );
  if (state.status === 'none' || revision === 'no_stream') {
    throw new NotFoundError('campaign-not-found', `Campaign ${campaignId} does not exist.`, { campaignId });
  }
  return { state, revision };
}

/** What the campaign's deliveries have come to so far, per channel and status (the deliveries read model). */
export async function campaignDeliveryCounts(
  readModels: ReadModelStore,
  tenantId: string,
  campaignId: string,
  channels: readonly Channel[],
): Promise<Partial<Record<Channel, Record<string, number>>>> {
  const statuses = [
    'requested',
    'sending',
    'retrying',
    'sent',
    'delivered',
    'undelivered',
    'bounced',
    'failed',
    'dead-lettered',
    'skipped',
  ];
  const collection = physicalCollection(deliveriesProjection);
  const result: Partial<Record<Channel, Record<string, number>>> = {};
  for (const channel of channels) {
    const counts: Record<string, number> = {};
    for (const status of statuses) {
      const n = await readModels.count(collection, { tenantId, campaignId, channel, status });
      if (n > 0) counts[status] = n;
    }
    result[channel] = counts;
  }
  return result;
}
