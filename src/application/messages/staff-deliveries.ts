import type { CampaignMessage, CampaignRecipient } from '../../domain/campaign/campaign.decider.js';
import {
  isValidAddress,
  maskAddress,
  normalizeAddress,
  priceOf,
  staffEmail,
  staffSms,
  type Channel,
  type CustomerPreferences,
  type DeliveryContent,
  type DeliveryIdentity,
  type MessageKind,
  type NotificationSettings,
  type RequestNotification,
  type SkipReason,
  type StaffMessageContext,
} from '../../domain/notification/index.js';
import { neutraliseText } from '../../domain/shared/text.js';

/** Why a recipient does not get a staff-written message on a channel. */
export type ExclusionReason = Extract<
  SkipReason,
  'missing-contact' | 'invalid-contact' | 'opted-out' | 'blocked-by-customer'
>;

/** The reason a recipient cannot or must not get `kind` on `channel`, or undefined when they may. */
export function exclusionOf(
  recipient: Pick<CampaignRecipient, 'email' | 'phone'>,
  channel: Channel,
  kind: MessageKind,
  preferences: CustomerPreferences,
): ExclusionReason | undefined {
  const raw = channel === 'email' ? recipient.email : recipient.phone;
  if (!raw || raw.trim() === '') return 'missing-contact';
  if (!isValidAddress(channel, raw)) return 'invalid-contact';
  if (channel === 'sms' && preferences.smsOptedOut) return 'opted-out';
  if (preferences.blocked[channel].includes(kind)) return 'blocked-by-customer';
  return undefined;
}

/** The placeholders' context of a recipient: their name and reservation, times in its location's zone. */
export function staffMessageContext(
  recipient: CampaignRecipient,
  settings: NotificationSettings,
  fallbackTimeZone: string,
): StaffMessageContext {
  return {
    customerName: recipient.name,
    senderName: neutraliseText(settings.sender.name, 'line'),
    locale: recipient.locale || settings.defaultLocale,
    timeZone: recipient.reservation?.timeZone ?? fallbackTimeZone,
    ...(recipient.reservation
      ? {
          reservation: {
            reservationId: recipient.reservation.reservationId,
            ...(recipient.reservation.code ? { code: recipient.reservation.code } : {}),
            serviceName: recipient.reservation.serviceName,
            locationName: recipient.reservation.locationName,
            ...(recipient.reservation.locationAddress
              ? { locationAddress: recipient.reservation.locationAddress }
              : {}),
            start: recipient.reservation.start,
            end: recipient.reservation.end,
          },
        }
      : {}),
  };
}

/** The content of one staff-written message to one recipient, and what it costs. */
export function renderStaffContent(
  message: CampaignMessage,
  channel: Channel,
  context: StaffMessageContext,
  settings: NotificationSettings,
  mode: 'manual' | 'bulk',
): { content: DeliveryContent; cost: number; sms?: { encoding: 'GSM-7' | 'UCS-2'; parts: number } } {
  if (channel === 'email') {
    const email = staffEmail(message.email!, context, settings.footer);
    const sender = { ...settings.sender, name: neutraliseText(settings.sender.name, 'line') };
    return {
      content: { from: sender, subject: email.subject, text: email.text, html: email.html },
      cost: priceOf(settings.prices, { channel, mode }),
    };
  }
  const sms = staffSms(message.sms!.text, context);
  return {
    content: { text: sms.text },
    cost: priceOf(settings.prices, { channel, mode, smsParts: Math.max(1, sms.sms.parts) }),
    sms: { encoding: sms.sms.encoding, parts: sms.sms.parts },
  };
}

export interface StaffDeliveryInput {
  readonly notificationId: string;
  readonly tenantId: string;
  readonly kind: MessageKind;
  readonly channel: Channel;
  readonly recipient: CampaignRecipient;
  readonly content: DeliveryContent;
  readonly cost: number;
  readonly causationEventId: string;
  readonly causedAt?: string;
  readonly requestedAt: string;
  readonly campaignId?: string;
  readonly maxAttempts?: number;
}

/** Who and what, for the audit trail of a skip (or of a request that cannot go ahead). */
export function staffDeliveryIdentity(
  input: Omit<StaffDeliveryInput, 'content' | 'cost' | 'requestedAt'>,
): DeliveryIdentity {
  const raw = input.channel === 'email' ? input.recipient.email : input.recipient.phone;
  return {
    notificationId: input.notificationId,
    tenantId: input.tenantId,
    ...(input.recipient.reservation ? { reservationId: input.recipient.reservation.reservationId } : {}),
    customerId: input.recipient.key,
    ...(input.campaignId ? { campaignId: input.campaignId } : {}),
    kind: input.kind,
    channel: input.channel,
    recipientType: 'customer',
    ...(raw ? { maskedRecipient: maskAddress(input.channel, raw) } : {}),
    causationEventId: input.causationEventId,
  };
}

export function staffDeliveryRequest(input: StaffDeliveryInput): RequestNotification['data'] {
  const raw = (input.channel === 'email' ? input.recipient.email : input.recipient.phone) ?? '';
  return {
    notificationId: input.notificationId,
    tenantId: input.tenantId,
    ...(input.recipient.reservation ? { reservationId: input.recipient.reservation.reservationId } : {}),
    customerId: input.recipient.key,
    ...(input.campaignId ? { campaignId: input.campaignId } : {}),
    kind: input.kind,
    channel: input.channel,
    recipient: { type: 'customer', address: normalizeAddress(input.channel, raw) },
    content: input.content,
    ...(input.cost > 0 ? { cost: input.cost } : {}),
    causationEventId: input.causationEventId,
    ...(input.causedAt ? { causedAt: input.causedAt } : {}),
    requestedAt: input.requestedAt,
    ...(input.maxAttempts ? { maxAttempts: input.maxAttempts } : {}),
  };
}
