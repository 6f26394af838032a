import { isEmailAddress } from '../shared/email-address.js';
/** Vocabulary shared by templates, deliveries, preferences and settings. Persisted as strings: never rename. */
export const NOTIFICATION_KINDS = [
  'reservation-confirmed',
  'reservation-cancelled',
  'reservation-declined',
  'reservation-rescheduled',
  'payment-received',
  'reservation-reminder',
  'waitlist-offer',
  'waitlist-seat-assigned',
  'staff-alert',
  'waitlist-joined',
  'waitlist-offer-expired',
  /** A tenant's own workflow message on a trigger without a standard message (a follow-up, a freed slot...). */
  'custom-message',
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

/**
 * Messages staff write instead of the automatic ones: `manual-message` to one customer or reservation, and
 * `bulk-message` for a campaign. They have no standard template and no per-kind settings; a delivery may be of
 * either vocabulary, and a customer may block them like any kind. Persisted as strings: never rename.
 */
export const MESSAGE_KINDS = ['manual-message', 'bulk-message'] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];
/** What a delivery is about: an automatic kind or a staff-written message. */
export type DeliveryKind = NotificationKind | MessageKind;
export const DELIVERY_KINDS: readonly DeliveryKind[] = [...NOTIFICATION_KINDS, ...MESSAGE_KINDS];

/** Kinds a customer may block; internal alerts are not theirs to block. */
export const CUSTOMER_BLOCKABLE_KINDS: readonly DeliveryKind[] = DELIVERY_KINDS.filter((k) => k !== 'staff-alert');

/** Every way a message leaves Herald (each through the channel port and its providers). Persisted: never rename. */
export const CHANNELS = [
  'email',
  'sms',
  'whatsapp',
  'telegram',
  'staff-chat',
  'crm',
  'push',
  'realtime',
  'calendar',
  'meeting',
] as const;
export type Channel = (typeof CHANNELS)[number];

/**
 * The channels of the notification settings: per-kind switches, reminder offsets and custom recipients, from which
 * the ready-made workflows are derived. The others are chosen by a tenant's own workflows (and a waitlist entry's
 * channels), so a tenant that never asked for WhatsApp or Telegram sends exactly what it sent before.
 */
export const SETTINGS_CHANNELS = ['email', 'sms'] as const;
export type SettingsChannel = (typeof SETTINGS_CHANNELS)[number];

export function isSettingsChannel(channel: Channel): channel is SettingsChannel {
  return channel === 'email' || channel === 'sms';
}

/**
 * What a channel sends to: an email address, a phone number (SMS, WhatsApp), a Telegram chat id, the name of a
 * staff room (staff chat: the Slack, Teams or Discord webhook configured for the tenant posts to one room; the name
 * is a label for the audit trail, the webhook URL is a credential), or an app's push registration token (push: the
 * token Firebase gave the tenant's app on one device; contacts carry none yet, so workflows name tokens as custom
 * recipients), or a Pusher channel name (realtime: the channel the tenant's page or app subscribes to, named in
 * a workflow's custom recipients).
 */
export type ContactKind = 'email' | 'phone' | 'telegram' | 'room' | 'device' | 'live-channel';

export function contactKindOf(channel: Channel): ContactKind {
  // A CRM "delivery" is an event or tag on the customer's contact there, which the CRM identifies by email; a
  // calendar "delivery" is an event in the tenant's calendar with the customer's email as attendee; a meeting
  // "delivery" registers the customer's email for an online meeting (Zoom, Webex), which mails the join link.
  return channel === 'email' || channel === 'crm' || channel === 'calendar' || channel === 'meeting'
    ? 'email'
    : channel === 'telegram'
      ? 'telegram'
      : channel === 'staff-chat'
        ? 'room'
        : channel === 'push'
          ? 'device'
          : channel === 'realtime'
            ? 'live-channel'
            : 'phone';
}

/** A Pusher channel name: the characters Pusher allows, at most 164 (the SDK allows 200; Pusher documents 164). */
const LIVE_CHANNEL = /^[A-Za-z0-9_\-=@,.;]{1,164}$/;

/** An FCM registration token: URL-safe base64 with `:` and `-`, about 150-250 characters in practice. */
const DEVICE_TOKEN = /^[A-Za-z0-9_:-]{32,4096}$/;

/** A staff room's label: `staff`, `front-desk`, `ops.alerts`. */
const ROOM_LABEL = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** How people call a channel in texts. */
export const CHANNEL_LABELS: Readonly<Record<Channel, string>> = {
  email: 'email',
  sms: 'SMS',
  whatsapp: 'WhatsApp',
  telegram: 'Telegram',
  'staff-chat': 'staff chat',
  crm: 'CRM',
  push: 'push notification',
  realtime: 'realtime event',
  calendar: 'calendar invitation',
  meeting: 'meeting registration',
};

/** How the recipient of a channel is named in messages ("not a valid …"). */
export function addressDescription(channel: Channel): string {
  const kind = contactKindOf(channel);
  return kind === 'email'
    ? 'email address'
    : kind === 'phone'
      ? 'E.164 phone number'
      : kind === 'room'
        ? 'staff room label (a-z, 0-9, . _ -)'
        : kind === 'device'
          ? 'push registration token'
          : kind === 'live-channel'
            ? 'Pusher channel name'
            : 'Telegram chat id';
}

export const RECIPIENT_TYPES = ['customer', 'staff', 'admin', 'custom'] as const;
export type RecipientType = (typeof RECIPIENT_TYPES)[number];

export function isNotificationKind(value: unknown): value is NotificationKind {
  return typeof value === 'string' && (NOTIFICATION_KINDS as readonly string[]).includes(value);
}

export function isDeliveryKind(value: unknown): value is DeliveryKind {
  return typeof value === 'string' && (DELIVERY_KINDS as readonly string[]).includes(value);
}

export function isChannel(value: unknown): value is Channel {
  return typeof value === 'string' && (CHANNELS as readonly string[]).includes(value);
}

/** A Telegram chat id: an integer (negative for groups; -100… for supergroups and channels), at most 52 bits. */
const TELEGRAM_CHAT_ID = /^-?[1-9]\d{0,15}$/;

export function isTelegramChatId(value: string): boolean {
  return TELEGRAM_CHAT_ID.test(value);
}

/** E.164: a plus, a non-zero digit, at most 15 digits in all. */
const E164_PATTERN = /^\+[1-9]\d{6,14}$/;

/** src/domain/shared/email-address.ts: the one rule (internationalised addresses included). */
export { isEmailAddress };

export function isE164Phone(value: string): boolean {
  return E164_PATTERN.test(value);
}

/**
 * The canonical form of an address, used in delivery identities and de-duplication: emails lower-cased and trimmed,
 * phone numbers without spaces, dashes, dots or parentheses.
 */
export function normalizeAddress(channel: Channel, address: string): string {
  const trimmed = address.trim();
  switch (contactKindOf(channel)) {
    case 'email':
    case 'room':
      return trimmed.toLowerCase();
    case 'phone':
      return trimmed.replace(/[\s\-.()]/g, '');
    case 'telegram':
    case 'device':
    case 'live-channel':
      return trimmed;
  }
}

export function isValidAddress(channel: Channel, address: string): boolean {
  const normalized = normalizeAddress(channel, address);
  switch (contactKindOf(channel)) {
    case 'email':
      return isEmailAddress(normalized);
    case 'phone':
      return isE164Phone(normalized);
    case 'telegram':
      return isTelegramChatId(normalized);
    case 'room':
      return ROOM_LABEL.test(normalized);
    case 'device':
      return DEVICE_TOKEN.test(normalized);
    case 'live-channel':
      return LIVE_CHANNEL.test(normalized);
  }
}

/**
 * The identity of one delivery: (causing event, kind, channel, recipient). The application turns this key into
 * the stream id (`notification-<derived id>`), so a replayed or redelivered event lands on the same stream.
 */
export function deliveryIdentityKey(input: {
  readonly causationEventId: string;
  readonly kind: DeliveryKind;
  readonly channel: Channel;
  readonly recipientAddress: string;
}): string {
  return [
    input.causationEventId,
    input.kind,
    input.channel,
    normalizeAddress(input.channel, input.recipientAddress),
  ].join('|');
}
