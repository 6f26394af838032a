import { requireSafeText } from '../shared/text.js';
import type { Command, Decider, DomainEvent } from '../shared/decider.js';
import { ValidationError } from '../shared/errors.js';
import type { PriceList } from './credits.js';
import { DEFAULT_PRICE_LIST, validatePriceList } from './credits.js';
import type { SkipReason } from './delivery.decider.js';
import type { Channel, DeliveryKind, NotificationKind, RecipientType, SettingsChannel } from './kinds.js';
import {
  addressDescription,
  CHANNELS,
  contactKindOf,
  SETTINGS_CHANNELS,
  CUSTOMER_BLOCKABLE_KINDS,
  DELIVERY_KINDS,
  isChannel,
  isDeliveryKind,
  isEmailAddress,
  isNotificationKind,
  isTelegramChatId,
  isValidAddress,
  normalizeAddress,
  NOTIFICATION_KINDS,
} from './kinds.js';
import { validateCustomTemplate } from './templates.js';
import { validateQuietHours, type QuietHours } from './quiet-hours.js';
import { parseInstant, requireText } from './validation.js';

// ===============================================================================================================
// SMS keywords

/** Twilio's default opt-out and opt-in keywords (Advanced Opt-Out defaults), plus the help ones. */
export const SMS_OPT_OUT_KEYWORDS = ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT'] as const;
export const SMS_OPT_IN_KEYWORDS = ['START', 'YES', 'UNSTOP'] as const;
export const SMS_HELP_KEYWORDS = ['HELP', 'INFO'] as const;

export type SmsKeywordAction = 'opt-out' | 'opt-in' | 'help';

/**
 * Recognises a keyword reply the way Twilio does: the whole message, trimmed, case-insensitive. "Stop" is a
 * keyword; "please stop the reminders" is a conversation, not an opt-out.
 */
export function parseSmsKeyword(
  body: string,
): { readonly action: SmsKeywordAction; readonly keyword: string } | undefined {
  const keyword = body.trim().toUpperCase();
  if ((SMS_OPT_OUT_KEYWORDS as readonly string[]).includes(keyword)) return { action: 'opt-out', keyword };
  if ((SMS_OPT_IN_KEYWORDS as readonly string[]).includes(keyword)) return { action: 'opt-in', keyword };
  if ((SMS_HELP_KEYWORDS as readonly string[]).includes(keyword)) return { action: 'help', keyword };
  return undefined;
}

// ===============================================================================================================
// Customer preferences

/** A value for each settings channel (email, SMS), and optionally for the channels workflows add. */
export type PerChannel<T> = Readonly<Record<SettingsChannel, T>> &
  Partial<Readonly<Record<Exclude<Channel, SettingsChannel>, T>>>;

export type BlockedKinds = PerChannel<readonly DeliveryKind[]>;

/** What `decideRecipients` needs to know about a customer. */
export interface CustomerPreferences {
  readonly blocked: BlockedKinds;
  readonly smsOptedOut: boolean;
  /** The Telegram chat the customer linked (pressed Start in the tenant's bot): their address on that channel. */
  readonly telegramChatId?: string;
}

export const DEFAULT_CUSTOMER_PREFERENCES: CustomerPreferences = {
  blocked: { email: [], sms: [] },
  smsOptedOut: false,
};

export type CustomerPreferencesState =
  | { readonly status: 'default' }
  | {
      readonly status: 'customised';
      readonly customerId: string;
      readonly tenantId: string;
      readonly blocked: BlockedKinds;
      readonly smsOptedOut: boolean;
      readonly smsOptOutChangedAt?: string;
      readonly telegramChatId?: string;
      readonly changedAt: string;
      /** Staff's labels for the customer (`vip`, `yoga-regular`), for searching and bulk messages. */
      readonly tags?: readonly string[];
    };

export type SmsOptSource = 'keyword' | 'customer' | 'staff';

interface CustomerRef {
  readonly customerId: string;
  readonly tenantId: string;
}

export type ChangeCustomerPreferences = Command<
  'ChangeCustomerPreferences',
  CustomerRef & { readonly blocked: Partial<BlockedKinds>; readonly at: string; readonly by: string }
>;
export type OptOutOfSms = Command<
  'OptOutOfSms',
  CustomerRef & {
    readonly source: SmsOptSource;
    readonly keyword?: string;
    readonly phone?: string;
    readonly at: string;
  }
>;
export type OptInToSms = Command<
  'OptInToSms',
  CustomerRef & {
    readonly source: SmsOptSource;
    readonly keyword?: string;
    readonly phone?: string;
    readonly at: string;
  }
>;
/** The customer pressed Start in the tenant's Telegram bot through a link Herald issued for them. */
export type LinkTelegramChat = Command<
  'LinkTelegramChat',
  CustomerRef & { readonly chatId: string; readonly at: string }
>;
/** Replaces the customer's tags (an empty list removes them all). */
export type ChangeCustomerTags = Command<
  'ChangeCustomerTags',
  CustomerRef & { readonly tags: readonly string[]; readonly at: string; readonly by: string }
>;
export type CustomerPreferencesCommand =
  ChangeCustomerPreferences | OptOutOfSms | OptInToSms | LinkTelegramChat | ChangeCustomerTags;

export type CustomerPreferencesChanged = DomainEvent<
  'CustomerPreferencesChanged',
  CustomerRef & { readonly blocked: BlockedKinds; readonly at: string; readonly by: string }
>;
type SmsOptData = CustomerRef & {
  readonly source: SmsOptSource;
  readonly keyword?: string;
  readonly phone?: string;
  readonly at: string;
};
export type CustomerSmsOptedOut = DomainEvent<'CustomerSmsOptedOut', SmsOptData>;
export type CustomerSmsOptedIn = DomainEvent<'CustomerSmsOptedIn', SmsOptData>;
export type CustomerTelegramChatLinked = DomainEvent<
  'CustomerTelegramChatLinked',
  CustomerRef & { readonly chatId: string; readonly at: string }
>;
export type CustomerTagsChanged = DomainEvent<
  'CustomerTagsChanged',
  CustomerRef & { readonly tags: readonly string[]; readonly at: string; readonly by: string }
>;
export type CustomerPreferencesEvent =
  | CustomerPreferencesChanged
  | CustomerSmsOptedOut
  | CustomerSmsOptedIn
  | CustomerTelegramChatLinked
  | CustomerTagsChanged;

export const MAX_CUSTOMER_TAGS = 50;
export const MAX_CUSTOMER_TAG_LENGTH = 50;

/**
 * Tags as stored: trimmed, one line (shared/text.ts), 1-50 characters, at most 50, the same tag in another case
 * kept once (the first spelling), sorted case-insensitively so that the same set compares equal.
 */
export function normalizeCustomerTags(tags: readonly unknown[]): string[] {
  if (!Array.isArray(tags)) throw new ValidationError('invalid-tags', 'tags must be a list.', { field: 'tags' });
  const byKey = new Map<string, string>();
  for (const [index, raw] of tags.entries()) {
    const field = `tags[${index}]`;
    const tag = requireSafeText(field, requireText(raw as string, field).trim(), 'line');
    if (tag.length > MAX_CUSTOMER_TAG_LENGTH) {
      throw new ValidationError('invalid-tags', `A tag has at most ${MAX_CUSTOMER_TAG_LENGTH} characters.`, { field });
    }
    const key = tag.toLowerCase();
    if (!byKey.has(key)) byKey.set(key, tag);
  }
  if (byKey.size > MAX_CUSTOMER_TAGS) {
    throw new ValidationError('invalid-tags', `A customer has at most ${MAX_CUSTOMER_TAGS} tags.`, { field: 'tags' });
  }
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, tag]) => tag);
}

/** The customer's tags (none when never tagged). */
export function customerTagsOf(state: CustomerPreferencesState): readonly string[] {
  return state.status === 'customised' ? (state.tags ?? []) : [];
}

export function initialCustomerPreferencesState(): CustomerPreferencesState {
  return { status: 'default' };
}

/** The preferences in force (defaults when the customer never changed anything). */
export function customerPreferencesOf(state: CustomerPreferencesState): CustomerPreferences {
  return state.status === 'default'
    ? DEFAULT_CUSTOMER_PREFERENCES
    : {
        blocked: state.blocked,
        smsOptedOut: state.smsOptedOut,
        ...(state.telegramChatId !== undefined ? { telegramChatId: state.telegramChatId } : {}),
      };
}

function normalizeBlocked(blocked: Partial<BlockedKinds>): BlockedKinds {
  const result: Partial<Record<Channel, DeliveryKind[]>> & Record<SettingsChannel, DeliveryKind[]> = {
    email: [],
    sms: [],
  };
  for (const [channel, kinds] of Object.entries(blocked)) {
    if (!isChannel(channel))
      throw new ValidationError('invalid-channel', `Unknown channel ${channel}.`, { field: `blocked.${channel}` });
    for (const kind of kinds ?? []) {
      if (!isDeliveryKind(kind))
        throw new ValidationError('invalid-kind', `Unknown kind ${String(kind)}.`, { field: `blocked.${channel}` });
      if (!CUSTOMER_BLOCKABLE_KINDS.includes(kind)) {
        throw new ValidationError('kind-not-blockable', `${kind} cannot be blocked by a customer.`, {
          field: `blocked.${channel}`,
          kind,
        });
      }
      const list = (result[channel] ??= []);
      if (!list.includes(kind)) list.push(kind);
    }
  }
  // Canonical order, so that "the same preferences" compare equal and a resent change is a no-op. Channels beyond
  // email and SMS appear only when something is blocked on them (documents stay as they were for the others).
  for (const channel of CHANNELS) {
    const list = result[channel];
    if (list === undefined) continue;
    if (list.length === 0 && !(SETTINGS_CHANNELS as readonly string[]).includes(channel)) delete result[channel];
    else list.sort((a, b) => DELIVERY_KINDS.indexOf(a) - DELIVERY_KINDS.indexOf(b));
  }
  return result;
}

/** The kinds a customer blocked on a channel (none when the channel is not mentioned). */
export function blockedOn(blocked: BlockedKinds, channel: Channel): readonly DeliveryKind[] {
  return blocked[channel] ?? [];
}

function sameBlocked(a: BlockedKinds, b: BlockedKinds): boolean {
  return CHANNELS.every((c) => {
    const x = blockedOn(a, c);
    const y = blockedOn(b, c);
    return x.length === y.length && x.every((kind, i) => kind === y[i]);
  });
}

function validateRef(ref: CustomerRef, at: string): void {
  requireText(ref.customerId, 'customerId');
  requireText(ref.tenantId, 'tenantId');
  parseInstant(at, 'at');
}

export function decideCustomerPreferences(
  command: CustomerPreferencesCommand,
  state: CustomerPreferencesState,
): CustomerPreferencesEvent[] {
  const current = customerPreferencesOf(state);
  switch (command.type) {
    case 'ChangeCustomerPreferences': {
      const { customerId, tenantId, at, by } = command.data;
      validateRef(command.data, at);
      requireText(by, 'by');
      // A channel left out keeps what it had.
      const blocked = normalizeBlocked({ ...current.blocked, ...command.data.blocked });
      if (sameBlocked(blocked, current.blocked)) return [];
      return [{ type: 'CustomerPreferencesChanged', data: { customerId, tenantId, blocked, at, by } }];
    }
    case 'OptOutOfSms':
    case 'OptInToSms': {
      validateRef(command.data, command.data.at);
      const optOut = command.type === 'OptOutOfSms';
      if (current.smsOptedOut === optOut) return [];
      const data = optData(command.data);
      return [optOut ? { type: 'CustomerSmsOptedOut', data } : { type: 'CustomerSmsOptedIn', data }];
    }
    case 'LinkTelegramChat': {
      const { customerId, tenantId, chatId, at } = command.data;
      validateRef(command.data, at);
      if (typeof chatId !== 'string' || !isTelegramChatId(chatId)) {
        throw new ValidationError('invalid-recipient', 'Not a Telegram chat id.', { field: 'chatId' });
      }
      if (current.telegramChatId === chatId) return [];
      return [{ type: 'CustomerTelegramChatLinked', data: { customerId, tenantId, chatId, at } }];
    }
    case 'ChangeCustomerTags': {
      const { customerId, tenantId, at, by } = command.data;
      validateRef(command.data, at);
      requireText(by, 'by');
      const tags = normalizeCustomerTags(command.data.tags);
      const currentTags = customerTagsOf(state);
      if (tags.length === currentTags.length && tags.every((tag, i) => tag === currentTags[i])) return [];
      return [{ type: 'CustomerTagsChanged', data: { customerId, tenantId, tags, at, by } }];
    }
  }
}

function optData(data: SmsOptData): SmsOptData {
  return {
    customerId: data.customerId,
    tenantId: data.tenantId,
    source: data.source,
    ...(data.keyword !== undefined ? { keyword: data.keyword } : {}),
    ...(data.phone !== undefined ? { phone: data.phone } : {}),
    at: data.at,
  };
}

export function evolveCustomerPreferences(
  state: CustomerPreferencesState,
  event: CustomerPreferencesEvent,
): CustomerPreferencesState {
  const base =
    state.status === 'customised'
      ? state
      : {
          status: 'customised' as const,
          customerId: event.data.customerId,
          tenantId: event.data.tenantId,
          ...DEFAULT_CUSTOMER_PREFERENCES,
        };
  switch (event.type) {
    case 'CustomerPreferencesChanged':
      return { ...base, blocked: event.data.blocked, changedAt: event.data.at };
    case 'CustomerSmsOptedOut':
      return { ...base, smsOptedOut: true, smsOptOutChangedAt: event.data.at, changedAt: event.data.at };
    case 'CustomerSmsOptedIn':
      return { ...base, smsOptedOut: false, smsOptOutChangedAt: event.data.at, changedAt: event.data.at };
    case 'CustomerTelegramChatLinked':
      return { ...base, telegramChatId: event.data.chatId, changedAt: event.data.at };
    case 'CustomerTagsChanged':
      return { ...base, tags: event.data.tags, changedAt: event.data.at };
  }
}

export const customerPreferencesDecider: Decider<
  CustomerPreferencesCommand,
  CustomerPreferencesState,
  CustomerPreferencesEvent
> = {
  decide: decideCustomerPreferences,
  evolve: evolveCustomerPreferences,
  initialState: initialCustomerPreferencesState,
};

/** The command an inbound SMS keyword stands for, if any (HELP is answered by the provider, not recorded here). */
export function commandForInboundSms(
  body: string,
  customer: CustomerRef & { readonly phone: string; readonly at: string },
): OptOutOfSms | OptInToSms | undefined {
  const parsed = parseSmsKeyword(body);
  if (parsed === undefined || parsed.action === 'help') return undefined;
  const data = { ...customer, source: 'keyword' as const, keyword: parsed.keyword };
  return parsed.action === 'opt-out' ? { type: 'OptOutOfSms', data } : { type: 'OptInToSms', data };
}

// ===============================================================================================================
// Tenant notification settings

export interface KindSettings extends Partial<Readonly<Record<Exclude<Channel, SettingsChannel>, boolean>>> {
  readonly email: boolean;
  readonly sms: boolean;
  /** Who receives this kind. `custom` sends to `customRecipients` of the channel. */
  readonly recipients: {
    readonly customer: boolean;
    readonly resourceStaff: boolean;
    readonly admins: boolean;
    readonly custom: boolean;
  };
}

/** A tenant's own automatic message, sent beside the standard ones when `kind` happens. */
export interface CustomMessageSetting {
  readonly id: string;
  readonly kind: NotificationKind;
  readonly channel: Channel;
  /** Email only; may use placeholders. */
  readonly subject?: string;
  /** `{{field}}` placeholders, checked by `validateCustomTemplate`. */
  readonly text: string;
  /** The customer of the reservation, or a fixed address/number (e.g. a device switched by SMS). */
  readonly to: { readonly type: 'customer' } | { readonly type: 'custom'; readonly address: string };
  /** `reservation-reminder` only: minutes before the start at which it goes out (its own reminder job). */
  readonly minutesBefore?: number;
}

export interface NotificationSettings {
  /** Master switches per channel; a channel beyond email and SMS that is not mentioned is on (`channelEnabled`). */
  readonly channels: PerChannel<boolean>;
  readonly kinds: Readonly<Record<NotificationKind, KindSettings>>;
  /** Minutes before the start at which reminders go out, per channel (e.g. email 1440, sms 1440 and 180). */
  readonly reminderOffsets: Readonly<Record<SettingsChannel, readonly number[]>>;
  /** Extra addresses and numbers, for kinds whose `recipients.custom` is on. */
  readonly customRecipients: PerChannel<readonly string[]>;
  readonly sender: { readonly name: string; readonly address: string };
  /** Appended to every customer email. */
  readonly footer?: string;
  /** BCP 47 tag used when a recipient has none. */
  readonly defaultLocale: string;
  readonly prices: PriceList;
  readonly customMessages: readonly CustomMessageSetting[];
  /** The tenant's administrators: recipients of kinds whose `recipients.admins` is on (staff alerts). */
  readonly admins?: readonly Contact[];
  /** Windows per channel (and per location) in which customers are sent nothing; absent: none. */
  readonly quietHours?: QuietHours;
  /**
   * Attach the reservation's PDF (its code as text and QR code, and its details) to the customer's confirmation,
   * seat-assigned and rescheduled emails. Absent: false.
   */
  readonly reservationPdf?: boolean;
}

const CUSTOMER_ONLY = { customer: true, resourceStaff: false, admins: false, custom: false } as const;

/**
 * The master switch of a channel. WhatsApp and Telegram are off only when the tenant turned them off: a workflow
 * that names them (or a waitlist entry that chose them) is the tenant's and the customer's choice already.
 */
export function channelEnabled(settings: Pick<NotificationSettings, 'channels'>, channel: Channel): boolean {
  return settings.channels[channel] ?? !(SETTINGS_CHANNELS as readonly string[]).includes(channel);
}

/** Email on for everything customers get, SMS off; staff alerts to the admins; a reminder a day before by email. */
export function defaultNotificationSettings(sender: {
  readonly name: string;
  readonly address: string;
}): NotificationSettings {
  const kinds = Object.fromEntries(
    NOTIFICATION_KINDS.map((kind): [NotificationKind, KindSettings] => [
      kind,
      kind === 'staff-alert'
        ? {
            email: true,
            sms: false,
            recipients: { customer: false, resourceStaff: false, admins: true, custom: false },
          }
        : { email: true, sms: false, recipients: CUSTOMER_ONLY },
    ]),
  ) as Record<NotificationKind, KindSettings>;
  return {
    channels: { email: true, sms: true },
    kinds,
    reminderOffsets: { email: [1440], sms: [] },
    customRecipients: { email: [], sms: [] },
    sender,
    defaultLocale: 'en',
    prices: DEFAULT_PRICE_LIST,
    customMessages: [],
  };
}

/**
 * Settings written before a kind existed (or a document that leaves a kind out) get that kind's default: kinds are
 * added over time, and a tenant's stored settings must keep working.
 */
export function withEveryKind(settings: NotificationSettings): NotificationSettings {
  const kinds = settings.kinds ?? ({} as NotificationSettings['kinds']);
  if (NOTIFICATION_KINDS.every((kind) => kinds[kind] !== undefined)) return settings;
  const defaults = defaultNotificationSettings(settings.sender ?? { name: '', address: '' }).kinds;
  return {
    ...settings,
    kinds: Object.fromEntries(NOTIFICATION_KINDS.map((kind) => [kind, kinds[kind] ?? defaults[kind]])) as Record<
      NotificationKind,
      KindSettings
    >,
  };
}

const MAX_REMINDER_OFFSET_MINUTES = 60 * 24 * 60;
const MAX_FOOTER_LENGTH = 4000;

/** Validates a complete settings document; returns it with lists de-duplicated and sorted. */
export function validateNotificationSettings(given: NotificationSettings): NotificationSettings {
  let settings = given;
  for (const channel of CHANNELS) {
    const optional = !(SETTINGS_CHANNELS as readonly string[]).includes(channel);
    if (optional && settings.channels?.[channel] === undefined) continue;
    if (typeof settings.channels?.[channel] !== 'boolean') {
      throw new ValidationError('invalid-settings', `channels.${channel} must be true or false.`, {
        field: `channels.${channel}`,
      });
    }
  }
  for (const key of Object.keys(settings.kinds ?? {})) {
    if (!isNotificationKind(key))
      throw new ValidationError('invalid-kind', `Unknown kind ${key}.`, { field: `kinds.${key}` });
  }
  settings = withEveryKind(settings);
  for (const kind of NOTIFICATION_KINDS) {
    const entry = settings.kinds?.[kind];
    const flags = entry ? [entry.email, entry.sms, ...Object.values(entry.recipients ?? {})] : [];
    if (!entry || flags.length !== 6 || flags.some((flag) => typeof flag !== 'boolean')) {
      throw new ValidationError('invalid-settings', `kinds.${kind} needs email, sms and the four recipient switches.`, {
        field: `kinds.${kind}`,
      });
    }
  }
  const reminderOffsets = {} as Record<SettingsChannel, number[]>;
  const customRecipients = {} as Record<SettingsChannel, string[]>;
  for (const channel of SETTINGS_CHANNELS) {
    const offsets = settings.reminderOffsets?.[channel] ?? [];
    for (const offset of offsets) {
      if (!Number.isSafeInteger(offset) || offset <= 0 || offset > MAX_REMINDER_OFFSET_MINUTES) {
        throw new ValidationError(
          'invalid-reminder-offset',
          `Reminder offsets must be whole minutes greater than zero (got ${offset}).`,
          {
            field: `reminderOffsets.${channel}`,
            value: offset,
          },
        );
      }
    }
    reminderOffsets[channel] = [...new Set(offsets)].sort((a, b) => b - a);
    const addresses = settings.customRecipients?.[channel] ?? [];
    for (const address of addresses) {
      if (!isValidAddress(channel, address)) {
        throw new ValidationError('invalid-recipient', `${address} is not a valid ${addressDescription(channel)}.`, {
          field: `customRecipients.${channel}`,
          value: address,
        });
      }
    }
    customRecipients[channel] = [...new Set(addresses.map((a) => normalizeAddress(channel, a)))];
  }
  // The sender name goes into the From header, subjects and texts into headers, emails and SMS (shared/text.ts).
  const senderName = requireSafeText('sender.name', requireText(settings.sender?.name, 'sender.name').trim(), 'line');
  if (!isEmailAddress(settings.sender?.address?.trim() ?? '')) {
    throw new ValidationError('invalid-sender', 'The sender address must be an email address.', {
      field: 'sender.address',
    });
  }
  const footer = settings.footer === undefined ? undefined : requireSafeText('footer', settings.footer, 'multiline');
  if (footer !== undefined && footer.length > MAX_FOOTER_LENGTH) {
    throw new ValidationError('invalid-settings', `The footer may have at most ${MAX_FOOTER_LENGTH} characters.`, {
      field: 'footer',
    });
  }
  try {
    if (Intl.getCanonicalLocales(requireText(settings.defaultLocale, 'defaultLocale')).length !== 1)
      throw new RangeError();
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    throw new ValidationError('invalid-locale', `${settings.defaultLocale} is not a language tag.`, {
      field: 'defaultLocale',
    });
  }
  validatePriceList(settings.prices ?? ({} as PriceList));
  if (settings.reservationPdf !== undefined && typeof settings.reservationPdf !== 'boolean') {
    throw new ValidationError('invalid-settings', 'reservationPdf must be true or false.', { field: 'reservationPdf' });
  }
  for (const [index, admin] of (settings.admins ?? []).entries()) {
    if (admin.email !== undefined && !isValidAddress('email', admin.email)) {
      throw new ValidationError('invalid-recipient', `${admin.email} is not a valid email address.`, {
        field: `admins[${index}].email`,
      });
    }
    if (admin.phone !== undefined && !isValidAddress('sms', admin.phone)) {
      throw new ValidationError('invalid-recipient', `${admin.phone} is not a valid E.164 number.`, {
        field: `admins[${index}].phone`,
      });
    }
  }
  const ids = new Set<string>();
  for (const [index, message] of (settings.customMessages ?? []).entries()) {
    const field = `customMessages[${index}]`;
    requireText(message.id, `${field}.id`);
    if (ids.has(message.id))
      throw new ValidationError('duplicate-custom-message', `Two custom messages share id ${message.id}.`, { field });
    ids.add(message.id);
    if (!isNotificationKind(message.kind))
      throw new ValidationError('invalid-kind', `Unknown kind ${String(message.kind)}.`, { field: `${field}.kind` });
    if (!isChannel(message.channel))
      throw new ValidationError('invalid-channel', 'Unknown channel.', { field: `${field}.channel` });
    requireSafeText(`${field}.text`, requireText(message.text, `${field}.text`), 'multiline');
    validateCustomTemplate(message.text, message.kind);
    if (message.minutesBefore !== undefined) {
      if (message.kind !== 'reservation-reminder') {
        throw new ValidationError('invalid-custom-message', 'Only reminder messages have minutesBefore.', {
          field: `${field}.minutesBefore`,
        });
      }
      if (
        !Number.isSafeInteger(message.minutesBefore) ||
        message.minutesBefore <= 0 ||
        message.minutesBefore > MAX_REMINDER_OFFSET_MINUTES
      ) {
        throw new ValidationError('invalid-reminder-offset', 'minutesBefore must be whole minutes greater than zero.', {
          field: `${field}.minutesBefore`,
        });
      }
    }
    if (message.channel === 'email') {
      const subject = requireSafeText(`${field}.subject`, requireText(message.subject, `${field}.subject`), 'line');
      validateCustomTemplate(subject, message.kind);
    }
    if (message.to?.type === 'custom') {
      if (!isValidAddress(message.channel, message.to.address)) {
        throw new ValidationError('invalid-recipient', `${message.to.address} is not a valid recipient.`, {
          field: `${field}.to.address`,
        });
      }
    } else if (message.to?.type !== 'customer') {
      throw new ValidationError('invalid-recipient', 'A custom message goes to the customer or to a custom address.', {
        field: `${field}.to`,
      });
    }
  }
  return {
    ...settings,
    ...(settings.quietHours !== undefined ? { quietHours: validateQuietHours(settings.quietHours) } : {}),
    sender: { name: senderName, address: settings.sender.address.trim() },
    ...(footer !== undefined ? { footer } : {}),
    reminderOffsets,
    customRecipients,
    customMessages: (settings.customMessages ?? []).map((message) => ({
      ...message,
      text: requireSafeText('text', message.text, 'multiline'),
    })),
  };
}

export type NotificationSettingsState =
  | { readonly status: 'default' }
  | {
      readonly status: 'configured';
      readonly tenantId: string;
      readonly settings: NotificationSettings;
      readonly changedAt: string;
    };

export type ChangeNotificationSettings = Command<
  'ChangeNotificationSettings',
  { readonly tenantId: string; readonly settings: NotificationSettings; readonly at: string; readonly by: string }
>;
export type NotificationSettingsCommand = ChangeNotificationSettings;

export type NotificationSettingsChanged = DomainEvent<
  'NotificationSettingsChanged',
  { readonly tenantId: string; readonly settings: NotificationSettings; readonly at: string; readonly by: string }
>;
export type NotificationSettingsEvent = NotificationSettingsChanged;

export function initialNotificationSettingsState(): NotificationSettingsState {
  return { status: 'default' };
}

export function decideNotificationSettings(
  command: NotificationSettingsCommand,
  state: NotificationSettingsState,
): NotificationSettingsEvent[] {
  const { tenantId, at, by } = command.data;
  requireText(tenantId, 'tenantId');
  requireText(by, 'by');
  parseInstant(at, 'at');
  const settings = validateNotificationSettings(command.data.settings);
  if (state.status === 'configured' && canonicalJson(state.settings) === canonicalJson(settings)) return [];
  return [{ type: 'NotificationSettingsChanged', data: { tenantId, settings, at, by } }];
}

export function evolveNotificationSettings(
  _state: NotificationSettingsState,
  event: NotificationSettingsEvent,
): NotificationSettingsState {
  return {
    status: 'configured',
    tenantId: event.data.tenantId,
    settings: event.data.settings,
    changedAt: event.data.at,
  };
}

export const notificationSettingsDecider: Decider<
  NotificationSettingsCommand,
  NotificationSettingsState,
  NotificationSettingsEvent
> = {
  decide: decideNotificationSettings,
  evolve: evolveNotificationSettings,
  initialState: initialNotificationSettingsState,
};

/** JSON with object keys sorted, so equal settings compare equal whatever order the client sent. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}

// ===============================================================================================================
// Recipients

export interface Contact {
  /** Customer id, staff id, admin user id: carried into the delivery for the audit trail. */
  readonly id?: string;
  readonly email?: string;
  readonly phone?: string;
  /** A Telegram chat id (a customer's linked chat: `CustomerTelegramChatLinked`). */
  readonly telegram?: string;
  readonly locale?: string;
}

export interface RecipientsInput {
  readonly kind: NotificationKind;
  readonly channel: Channel;
  readonly settings: NotificationSettings;
  /** The customer of the reservation; absent for messages about no customer. */
  readonly customer?: Contact & { readonly preferences?: CustomerPreferences };
  /** The staff member(s) of the booked resource. */
  readonly resourceStaff?: readonly Contact[];
  readonly admins?: readonly Contact[];
}

export interface ChosenRecipient {
  readonly type: RecipientType;
  /** Normalised address (lower-case email, compact E.164). */
  readonly address: string;
  readonly contactId?: string;
  readonly locale?: string;
}

export interface SkippedRecipient {
  readonly type: RecipientType;
  readonly reason: SkipReason;
  readonly address?: string;
  readonly contactId?: string;
}

export interface RecipientDecision {
  readonly recipients: readonly ChosenRecipient[];
  readonly skipped: readonly SkippedRecipient[];
}

/**
 * Who gets a message of `kind` on `channel`, and who does not and why. Every candidate the tenant's settings name
 * ends up in exactly one list, so a message that is not sent is recorded as skipped with its reason, never
 * silently dropped. The same address reached twice (an admin who is also the resource's staff) gets it once.
 * Credits are not considered here: they are charged, or found wanting, when the delivery is requested.
 */
export function decideRecipients(input: RecipientsInput): RecipientDecision {
  const { kind, channel, settings } = input;
  const kindSettings = settings.kinds[kind];
  const candidates: {
    type: RecipientType;
    contact: Contact & { preferences?: CustomerPreferences };
    /** A fixed address of the settings or a workflow: the address itself (a staff room has no contact field). */
    address?: string;
  }[] = [];
  if (kindSettings.recipients.customer && input.customer)
    candidates.push({ type: 'customer', contact: input.customer });
  if (kindSettings.recipients.resourceStaff)
    for (const contact of input.resourceStaff ?? []) candidates.push({ type: 'staff', contact });
  if (kindSettings.recipients.admins)
    for (const contact of input.admins ?? []) candidates.push({ type: 'admin', contact });
  if (kindSettings.recipients.custom) {
    for (const address of settings.customRecipients[channel] ?? []) {
      candidates.push({ type: 'custom', contact: {}, address });
    }
  }

  const gate: SkipReason | undefined = !channelEnabled(settings, channel)
    ? 'channel-disabled'
    : !kindSettings[channel]
      ? 'kind-disabled'
      : undefined;
  const recipients: ChosenRecipient[] = [];
  const skipped: SkippedRecipient[] = [];
  const seen = new Set<string>();
  for (const { type, contact, address: fixed } of candidates) {
    const raw = fixed ?? contactAddress(contact, channel);
    const address = raw !== undefined && raw.trim() !== '' ? normalizeAddress(channel, raw) : undefined;
    const ids = { ...(contact.id !== undefined ? { contactId: contact.id } : {}) };
    const withAddress = address !== undefined ? { address } : {};
    const reason: SkipReason | undefined =
      gate ??
      (address === undefined
        ? 'missing-contact'
        : !isValidAddress(channel, address)
          ? 'invalid-contact'
          : type === 'customer' && channel === 'sms' && contact.preferences?.smsOptedOut
            ? 'opted-out'
            : type === 'customer' &&
                contact.preferences &&
                blockedOn(contact.preferences.blocked, channel).includes(kind)
              ? 'blocked-by-customer'
              : undefined);
    if (reason !== undefined) {
      skipped.push({ type, reason, ...withAddress, ...ids });
      continue;
    }
    if (address === undefined || seen.has(address)) continue;
    seen.add(address);
    recipients.push({ type, address, ...ids, ...(contact.locale !== undefined ? { locale: contact.locale } : {}) });
  }
  return { recipients, skipped };
}

/**
 * A contact's address on a channel: email, phone (SMS and WhatsApp) or Telegram chat. People have no staff-chat
 * address: staff chat posts to a room, named in a workflow's custom recipients. Contacts carry no push
 * registration token yet (no route registers an app's device): push goes to tokens a workflow names as custom
 * recipients, and a customer recipient on push is skipped as missing-contact, visibly. Realtime (Pusher) goes to
 * channel names, likewise named by workflows.
 */
export function contactAddress(contact: Contact, channel: Channel): string | undefined {
  const kind = contactKindOf(channel);
  return kind === 'room' || kind === 'device' || kind === 'live-channel' ? undefined : contact[kind];
}
