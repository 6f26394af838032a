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

export const CHANNELS = ['email', 'sms'] as const;
export type Channel = (typeof CHANNELS)[number];

export const RECIPIENT_TYPES = ['customer', 'staff', 'admin', 'custom'] as const;
export type RecipientType = (typeof RECIPIENT_TYPES)[number];

export function isNotificationKind(value: unknown): value is NotificationKind {
  return typeof value === 'string' && (NOTIFICATION_KINDS as readonly string[]).includes(value);
}

export function isDeliveryKind(value: unknown): value is DeliveryKind {
  return typeof value === 'string' && (DELIVERY_KINDS as readonly string[]).includes(value);
}

export function isChannel(value: unknown): value is Channel {
  return value === 'email' || value === 'sms';
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
  return channel === 'email' ? trimmed.toLowerCase() : trimmed.replace(/[\s\-.()]/g, '');
}

export function isValidAddress(channel: Channel, address: string): boolean {
  const normalized = normalizeAddress(channel, address);
  return channel === 'email' ? isEmailAddress(normalized) : isE164Phone(normalized);
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
