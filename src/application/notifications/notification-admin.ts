import {
  creditAccountDecider,
  customerPreferencesDecider,
  normalizeAddress,
  notificationSettingsDecider,
  type BlockedKinds,
  type CreditEvent,
  type CustomerPreferences,
  type NotificationSettings,
} from '../../domain/notification/index.js';
import { IllegalStateError } from '../../domain/shared/errors.js';
import {
  handleCommand,
  loadAggregate,
  type CommandContext,
  type CommandHandlerDeps,
  type ExpectedRevision,
} from '../command-handler.js';
import type { Clock } from '../ports/clock.port.js';
import type { EventStore } from '../ports/event-store.port.js';
import type { IdSource } from '../ports/id-source.port.js';
import type { Filter, ReadModelStore } from '../ports/read-model-store.port.js';
import { deliveriesProjection } from '../projections/deliveries.projection.js';
import { physicalCollection } from '../projections/projection.js';
import {
  reservationDetailsProjection,
  type ReservationDocument,
} from '../projections/reservation-details.projection.js';
import { customerRefOf, tenantDefaultSettings } from './notification-settings.js';
import {
  creditsStreamName,
  customerPreferencesStreamName,
  notificationSettingsStreamName,
} from './notification-streams.js';

/**
 * Admin use cases of the notification engine: tenant settings, customer preferences, credits. Each change is a
 * command through its decider (validated there, recorded as an event); reads fold the stream, so they are never
 * stale and their revision is the ETag.
 */

export interface NotificationAdminDeps extends CommandHandlerDeps {
  readonly clock: Clock;
}

/** A stream revision as an ETag value, or undefined for a stream never written (nothing to match yet). */
export type Revision = bigint | undefined;

const revisionOf = (revision: bigint | 'no_stream'): Revision => (revision === 'no_stream' ? undefined : revision);

// ---------------------------------------------------------------------------------------------------------------
// Settings

export interface SettingsView {
  readonly settings: NotificationSettings;
  /** Undefined while the tenant runs on Herald's defaults. */
  readonly revision: Revision;
}

export async function readNotificationSettings(eventStore: EventStore, tenantId: string): Promise<SettingsView> {
  const { state, revision } = await loadAggregate(
    eventStore,
    notificationSettingsStreamName(tenantId),
    notificationSettingsDecider,
  );
  return {
    settings: state.status === 'configured' ? state.settings : await tenantDefaultSettings(eventStore, tenantId),
    revision: revisionOf(revision),
  };
}

/** Replaces the whole settings document. `expectedRevision` (If-Match) makes a stale write a ConcurrencyError (412). */
export async function changeNotificationSettings(
  deps: NotificationAdminDeps,
  context: CommandContext,
  settings: NotificationSettings,
  expectedRevision?: ExpectedRevision,
): Promise<SettingsView & { readonly changed: boolean }> {
  const result = await handleCommand(
    deps,
    notificationSettingsStreamName(context.tenantId),
    notificationSettingsDecider,
    {
      type: 'ChangeNotificationSettings',
      data: { tenantId: context.tenantId, settings, at: deps.clock.now().toISOString(), by: context.actor },
    },
    context,
    expectedRevision !== undefined ? { expectedRevision } : {},
  );
  return {
    settings:
      result.state.status === 'configured'
        ? result.state.settings
        : await tenantDefaultSettings(deps.eventStore, context.tenantId),
    revision: revisionOf(result.revision),
    changed: result.newEvents.length > 0,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Customer preferences

export interface PreferencesView extends CustomerPreferences {
  readonly customerRef: string;
  readonly revision: Revision;
  readonly changedAt: string | null;
  readonly smsOptOutChangedAt: string | null;
}

export async function readCustomerPreferences(
  eventStore: EventStore,
  tenantId: string,
  customerRef: string,
): Promise<PreferencesView> {
  const { state, revision } = await loadAggregate(
    eventStore,
    customerPreferencesStreamName(tenantId, customerRef),
    customerPreferencesDecider,
  );
  if (state.status === 'default') {
    return {
      customerRef,
      blocked: { email: [], sms: [] },
      smsOptedOut: false,
      revision: revisionOf(revision),
      changedAt: null,
      smsOptOutChangedAt: null,
    };
  }
  return {
    customerRef,
    blocked: state.blocked,
    smsOptedOut: state.smsOptedOut,
    revision: revisionOf(revision),
    changedAt: state.changedAt,
    smsOptOutChangedAt: state.smsOptOutChangedAt ?? null,
    ...(state.telegramChatId !== undefined ? { telegramChatId: state.telegramChatId } : {}),
  };
}

export interface PreferencesChange {
  /** Channels left out keep their blocked kinds. */
  readonly blocked?: Partial<BlockedKinds>;
  readonly smsOptedOut?: boolean;
}

/**
 * Staff (or the booking system) changes what a customer gets. Blocked kinds and the SMS opt-out are separate
 * facts (the opt-out also arrives by STOP/START keywords), so this may record up to two events; If-Match guards the
 * first, the second follows on the revision just written.
 */
export async function changeCustomerPreferences(
  deps: NotificationAdminDeps,
  context: CommandContext,
  customerRef: string,
  change: PreferencesChange,
  expectedRevision?: ExpectedRevision,
): Promise<PreferencesView> {
  const stream = customerPreferencesStreamName(context.tenantId, customerRef);
  const at = deps.clock.now().toISOString();
  const ref = { customerId: customerRef, tenantId: context.tenantId };
  let guard: ExpectedRevision | undefined = expectedRevision;
  if (change.blocked !== undefined) {
    await handleCommand(
      deps,
      stream,
      customerPreferencesDecider,
      { type: 'ChangeCustomerPreferences', data: { ...ref, blocked: change.blocked, at, by: context.actor } },
      context,
      guard !== undefined ? { expectedRevision: guard } : {},
    );
    // The client's precondition was checked by the first command; the second must not fail on our own write.
    guard = undefined;
  }
  if (change.smsOptedOut !== undefined) {
    const data = { ...ref, source: 'staff' as const, at };
    await handleCommand(
      deps,
      stream,
      customerPreferencesDecider,
      change.smsOptedOut ? { type: 'OptOutOfSms', data } : { type: 'OptInToSms', data },
      context,
      guard !== undefined ? { expectedRevision: guard } : {},
    );
  }
  return readCustomerPreferences(deps.eventStore, context.tenantId, customerRef);
}

export interface CustomerMatch {
  readonly customerRef: string;
  /** The booking system's id, when it sent one (then it is also the ref). */
  readonly customerId: string | null;
  readonly name: string;
  readonly reservations: number;
}

/**
 * Which customer refs belong to an email address or phone number, from the reservations read model. Also returns
 * the ref Herald derives from the address alone: the one a future reservation without a booking-system customer id
 * (and, for a phone, without an email) is planned under, so preferences can be set before the first booking.
 */
export async function lookupCustomers(
  readModels: ReadModelStore,
  ids: IdSource,
  tenantId: string,
  by: { readonly email: string } | { readonly phone: string },
): Promise<{ items: CustomerMatch[]; derivedCustomerRef: string }> {
  // Emails are matched case-insensitively through `customerKey` (customers without a booking-system id) and as
  // given or lower-cased through `customer.email` (customers with one, whose key is their id).
  const filters: Filter[] =
    'email' in by
      ? [
          { tenantId, customerKey: `email:${normalizeAddress('email', by.email)}` },
          { tenantId, 'customer.email': { $in: [...new Set([by.email.trim(), normalizeAddress('email', by.email)])] } },
        ]
      : [{ tenantId, 'customer.phone': normalizeAddress('sms', by.phone) }];
  const collection = physicalCollection(reservationDetailsProjection);
  const found = new Map<string, ReservationDocument>();
  for (const filter of filters) {
    const docs = await readModels.find<ReservationDocument & { _id: string }>(collection, filter, { limit: 1000 });
    for (const doc of docs) found.set(doc._id, doc);
  }
  const docs = [...found.values()];
  const matches = new Map<string, CustomerMatch>();
  for (const doc of docs) {
    const customerRef = customerRefOf(ids, tenantId, doc.customer);
    if (!customerRef) continue;
    const known = matches.get(customerRef);
    matches.set(
      customerRef,
      known
        ? { ...known, reservations: known.reservations + 1 }
        : { customerRef, customerId: doc.customer.id ?? null, name: doc.customer.name, reservations: 1 },
    );
  }
  const derivedCustomerRef = customerRefOf(
    ids,
    tenantId,
    'email' in by ? { email: by.email } : { phone: normalizeAddress('sms', by.phone) },
  )!;
  return { items: [...matches.values()], derivedCustomerRef };
}

// ---------------------------------------------------------------------------------------------------------------
// Credits

export interface CreditEntry {
  readonly type: 'charge' | 'refund' | 'top-up';
  readonly amount: number;
  readonly balanceAfter: number;
  readonly at: string;
  readonly deliveryId?: string;
  readonly topUpId?: string;
  readonly by?: string;
  readonly reason?: string;
}

function entryOf(event: CreditEvent): CreditEntry | null {
  switch (event.type) {
    case 'CreditsLowBalanceThresholdSet':
    case 'CreditsBalanceLow':
      return null;
    case 'CreditsCharged':
      return {
        type: 'charge',
        deliveryId: event.data.deliveryId,
        amount: event.data.amount,
        balanceAfter: event.data.balanceAfter,
        at: event.data.at,
      };
    case 'CreditsRefunded':
      return {
        type: 'refund',
        deliveryId: event.data.deliveryId,
        amount: event.data.amount,
        balanceAfter: event.data.balanceAfter,
        at: event.data.at,
        ...(event.data.reason !== undefined ? { reason: event.data.reason } : {}),
      };
    case 'CreditsToppedUp':
      return {
        type: 'top-up',
        topUpId: event.data.topUpId,
        amount: event.data.amount,
        balanceAfter: event.data.balanceAfter,
        at: event.data.at,
        by: event.data.by,
      };
  }
}

/** The balance and the latest account entries, newest first. */
export async function readCredits(
  eventStore: EventStore,
  tenantId: string,
  limit = 50,
): Promise<{
  balance: number;
  revision: Revision;
  entries: CreditEntry[];
  lowBalanceThreshold: number | null;
  lowBalance: boolean;
}> {
  const { state, revision, events } = await loadAggregate(
    eventStore,
    creditsStreamName(tenantId),
    creditAccountDecider,
  );
  const entries: CreditEntry[] = [];
  for (const recorded of [...events].reverse()) {
    if (entries.length >= limit) break;
    const entry = entryOf({ type: recorded.type, data: recorded.data } as CreditEvent);
    if (entry) entries.push(entry);
  }
  return {
    balance: state.status === 'open' ? state.balance : 0,
    revision: revisionOf(revision),
    entries,
    lowBalanceThreshold: state.status === 'open' ? (state.lowBalanceThreshold ?? null) : null,
    lowBalance: state.status === 'open' && state.lowBalanceAlerted === true,
  };
}

/** Sets (or with null, removes) the balance below which admins are alerted, once per crossing. */
export async function setLowBalanceThreshold(
  deps: NotificationAdminDeps,
  context: CommandContext,
  threshold: number | null,
): Promise<void> {
  await handleCommand(
    deps,
    creditsStreamName(context.tenantId),
    creditAccountDecider,
    { type: 'SetLowBalanceThreshold', data: { threshold, at: deps.clock.now().toISOString(), by: context.actor } },
    context,
  );
}

/** Idempotent by `topUpId`: the same top-up again changes nothing; the same id with another amount is a 409. */
export async function topUpCredits(
  deps: NotificationAdminDeps,
  context: CommandContext,
  input: { readonly topUpId: string; readonly amount: number },
): Promise<{ balance: number; created: boolean }> {
  const stream = creditsStreamName(context.tenantId);
  const { state } = await loadAggregate(deps.eventStore, stream, creditAccountDecider);
  if (
    state.status === 'open' &&
    Object.hasOwn(state.topUps, input.topUpId) &&
    state.topUps[input.topUpId] !== input.amount
  ) {
    throw new IllegalStateError(
      'top-up-mismatch',
      `Top-up ${input.topUpId} was recorded with amount ${state.topUps[input.topUpId]}.`,
      {
        topUpId: input.topUpId,
        amount: state.topUps[input.topUpId],
      },
    );
  }
  const result = await handleCommand(
    deps,
    stream,
    creditAccountDecider,
    {
      type: 'TopUpCredits',
      data: { topUpId: input.topUpId, amount: input.amount, at: deps.clock.now().toISOString(), by: context.actor },
    },
    context,
  );
  return { balance: result.state.status === 'open' ? result.state.balance : 0, created: result.newEvents.length > 0 };
}

// ---------------------------------------------------------------------------------------------------------------

/**
 * Indexes the admin queries need beyond those the projections declare: customers by address (lookup, inbound
 * STOP), deliveries by provider message id without a tenant (status callbacks) and the sent-SMS log by send time.
 */
export async function ensureNotificationAdminIndexes(readModels: ReadModelStore): Promise<void> {
  const reservations = physicalCollection(reservationDetailsProjection);
  const deliveries = physicalCollection(deliveriesProjection);
  await readModels.ensureIndex(reservations, ['tenantId', 'customer.phone']);
  await readModels.ensureIndex(reservations, ['tenantId', 'customer.email']);
  await readModels.ensureIndex(deliveries, ['providerMessageId']);
  await readModels.ensureIndex(deliveries, ['tenantId', 'channel', 'sentAt']);
  await readModels.ensureIndex(deliveries, ['tenantId', 'requestedAt']);
}

/**
 * The customer pressed Start in the Telegram bot through their own link: their messages on the Telegram channel go
 * to this chat from now on (the same chat again changes nothing; another one replaces it).
 */
export async function linkTelegramChat(
  deps: NotificationAdminDeps,
  context: CommandContext,
  customerRef: string,
  chatId: string,
): Promise<void> {
  await handleCommand(
    deps,
    customerPreferencesStreamName(context.tenantId, customerRef),
    customerPreferencesDecider,
    {
      type: 'LinkTelegramChat',
      data: { customerId: customerRef, tenantId: context.tenantId, chatId, at: deps.clock.now().toISOString() },
    },
    context,
  );
}
