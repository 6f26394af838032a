import type { ReservationDetails } from '../../domain/booking/reservation.decider.js';
import {
  analyzeSms,
  buildIcs,
  CHANNELS,
  decideRecipients,
  deliveryIdentityKey,
  isValidAddress,
  maskAddress,
  priceOf,
  renderCustomTemplate,
  renderMessage,
  reservationIcsUid,
  type Channel,
  type Contact,
  type CustomerPreferences,
  type DeliveryContent,
  type DeliveryIdentity,
  type MessageContext,
  type NotificationKind,
  type ContentAttachment,
  type NotificationSettings,
  type RecipientType,
  type RequestNotification,
  type SkipReason,
} from '../../domain/notification/index.js';
import { neutraliseText } from '../../domain/shared/text.js';

/** The fact a message is about, as the planner needs it. */
export interface NotificationCause {
  readonly eventId: string;
  readonly tenantId: string;
  readonly kind: NotificationKind;
  /** When the causing event was recorded. */
  readonly occurredAt: string;
  readonly reservation: ReservationDetails;
  readonly customerRef?: string;
  /** Kind-specific parts of the message context (previous start, amount, who cancelled, minutes before...). */
  readonly extra?: Partial<MessageContext>;
  /** Calendar invitation to attach to customer emails, when the kind changes the booking. */
  readonly calendar?: { readonly method: 'REQUEST' | 'CANCEL'; readonly sequence: number };
  /** A message about a waitlist entry: recorded on its deliveries for the entry's audit trail. */
  readonly waitlistEntryId?: string;
  /**
   * The reservation the deliveries belong to in the audit trail; default `reservation.reservationId`. Null for a
   * message about no reservation (a waitlist entry that has none yet).
   */
  readonly auditReservationId?: string | null;
}

export interface PlanInput {
  readonly cause: NotificationCause;
  readonly settings: NotificationSettings;
  readonly preferences: CustomerPreferences;
  readonly resourceStaff: readonly Contact[];
  readonly admins: readonly Contact[];
  /** Is the reservation paid: shows the after-payment text in confirmations. */
  readonly paid: boolean;
  readonly afterPaymentText?: string;
  readonly serviceDescription?: string;
  readonly now: string;
  /** Attempts before a delivery is dead-lettered (NOTIFICATION_MAX_ATTEMPTS). */
  readonly maxAttempts?: number;
  /** UUID v5 of the parts; the same cause gives the same ids. */
  readonly deriveId: (...parts: string[]) => string;
}

export type PlannedDelivery =
  | {
      readonly type: 'request';
      readonly request: RequestNotification['data'];
      /** Who and what, for recording a skip when the request cannot go ahead (out of credits). */
      readonly identity: DeliveryIdentity;
    }
  | {
      readonly type: 'skip';
      readonly identity: DeliveryIdentity;
      readonly reason: SkipReason;
      readonly detail?: string;
    };

/** Customer emails that carry the reservation's PDF when the tenant's `reservationPdf` setting is on. */
const PDF_KINDS: ReadonlySet<NotificationKind> = new Set([
  'reservation-confirmed',
  'waitlist-seat-assigned',
  'reservation-rescheduled',
]);

/** The reservation's PDF as an attachment of its email: data only, rendered when the email is sent. */
function reservationPdf(
  reservation: ReservationDetails,
  locale: string,
  senderName: string,
  issuedAt: string,
): ContentAttachment {
  return {
    kind: 'reservation-pdf',
    reservation: {
      reservationId: reservation.reservationId,
      code: reservation.code ?? reservation.reservationId,
      customerName: reservation.customer.name,
      serviceName: reservation.serviceName,
      locationName: reservation.location.name,
      locationAddress: reservation.location.address,
      start: reservation.start,
      end: reservation.end,
      timeZone: reservation.location.timeZone,
      locale,
      partySize: reservation.partySize,
      senderName,
      issuedAt,
    },
  };
}

/** Settings that merely switch a kind or channel off are not recorded as skips: nothing was expected. */
const RECORDED_SKIPS: ReadonlySet<SkipReason> = new Set([
  'blocked-by-customer',
  'opted-out',
  'missing-contact',
  'invalid-contact',
  'insufficient-credits',
  'obsolete',
]);

/**
 * Decides, purely, every delivery a cause leads to: the standard message per enabled channel and recipient,
 * the tenant's custom messages for the kind, and a recorded skip for each recipient that cannot or must not get
 * one. Delivery ids are derived from (cause, kind, channel, recipient), so planning twice gives the same ids.
 */
export function planNotifications(input: PlanInput): PlannedDelivery[] {
  const { cause } = input;
  // A sender name recorded before unsafe characters were refused is neutralised here (it becomes the From header).
  const settings: NotificationSettings = {
    ...input.settings,
    sender: { ...input.settings.sender, name: neutraliseText(input.settings.sender.name, 'line') },
  };
  const reservation = cause.reservation;
  const baseContext: MessageContext = {
    reservationId: reservation.reservationId,
    ...(reservation.code ? { code: reservation.code } : {}),
    customerName: reservation.customer.name,
    serviceName: reservation.serviceName,
    ...(input.serviceDescription ? { serviceDescription: input.serviceDescription } : {}),
    locationName: reservation.location.name,
    locationAddress: reservation.location.address,
    start: reservation.start,
    end: reservation.end,
    timeZone: reservation.location.timeZone,
    locale: reservation.customer.locale || settings.defaultLocale,
    paid: input.paid,
    ...(input.afterPaymentText ? { afterPaymentText: input.afterPaymentText } : {}),
    ...(settings.footer ? { footer: settings.footer } : {}),
    senderName: settings.sender.name,
    ...cause.extra,
  };
  const customer: Contact & { preferences: CustomerPreferences } = {
    ...(cause.customerRef ? { id: cause.customerRef } : {}),
    ...(reservation.customer.email ? { email: reservation.customer.email } : {}),
    ...(reservation.customer.phone ? { phone: reservation.customer.phone } : {}),
    locale: reservation.customer.locale,
    preferences: input.preferences,
  };

  const plans: PlannedDelivery[] = [];
  const auditReservationId =
    cause.auditReservationId === undefined ? reservation.reservationId : cause.auditReservationId;
  const identity = (
    channel: Channel,
    type: RecipientType,
    address: string | undefined,
    kind: NotificationKind,
    variant = '',
  ) => {
    const notificationId = input.deriveId(
      deliveryIdentityKey({
        causationEventId: cause.eventId,
        kind,
        channel,
        recipientAddress: `${address ?? `(none:${type})`}${variant}`,
      }),
    );
    return {
      notificationId,
      tenantId: cause.tenantId,
      ...(auditReservationId ? { reservationId: auditReservationId } : {}),
      ...(type === 'customer' && cause.customerRef ? { customerId: cause.customerRef } : {}),
      ...(cause.waitlistEntryId ? { waitlistEntryId: cause.waitlistEntryId } : {}),
      kind,
      channel,
      recipientType: type,
      ...(address ? { maskedRecipient: maskAddress(channel, address) } : {}),
      causationEventId: cause.eventId,
    } satisfies DeliveryIdentity;
  };
  const request = (
    channel: Channel,
    type: RecipientType,
    address: string,
    content: DeliveryContent,
    smsParts: number | undefined,
    kind: NotificationKind,
    variant = '',
  ): PlannedDelivery => {
    const id = identity(channel, type, address, kind, variant);
    const cost = priceOf(settings.prices, { channel, mode: 'automatic', ...(smsParts ? { smsParts } : {}) });
    return {
      type: 'request',
      identity: id,
      request: {
        notificationId: id.notificationId,
        tenantId: cause.tenantId,
        ...(auditReservationId ? { reservationId: auditReservationId } : {}),
        ...(id.customerId ? { customerId: id.customerId } : {}),
        ...(cause.waitlistEntryId ? { waitlistEntryId: cause.waitlistEntryId } : {}),
        kind,
        channel,
        recipient: { type, address },
        content,
        ...(cost > 0 ? { cost } : {}),
        causationEventId: cause.eventId,
        causedAt: cause.occurredAt,
        requestedAt: input.now,
        ...(input.maxAttempts ? { maxAttempts: input.maxAttempts } : {}),
      },
    };
  };

  for (const channel of CHANNELS) {
    const decision = decideRecipients({
      kind: cause.kind,
      channel,
      settings,
      customer,
      resourceStaff: input.resourceStaff,
      admins: input.admins,
    });
    for (const skipped of decision.skipped) {
      if (!RECORDED_SKIPS.has(skipped.reason)) continue;
      plans.push({
        type: 'skip',
        identity: identity(channel, skipped.type, skipped.address, cause.kind),
        reason: skipped.reason,
      });
    }
    for (const recipient of decision.recipients) {
      const audience = recipient.type === 'customer' ? 'customer' : 'staff';
      // Staff and admins without a locale of their own read the tenant's language, not the customer's.
      const locale = recipient.locale ?? (recipient.type === 'customer' ? baseContext.locale : settings.defaultLocale);
      const context = { ...baseContext, locale };
      if (channel === 'email') {
        const email = renderMessage(cause.kind, 'email', context, audience);
        const ics =
          cause.calendar && recipient.type === 'customer'
            ? {
                method: cause.calendar.method,
                content: buildIcs({
                  method: cause.calendar.method,
                  uid: reservationIcsUid(reservation.reservationId),
                  sequence: cause.calendar.sequence,
                  start: reservation.start,
                  end: reservation.end,
                  summary: reservation.serviceName,
                  location: [reservation.location.name, reservation.location.address].filter(Boolean).join(', '),
                  description: `${reservation.serviceName} (${reservation.reservationId})`,
                  organizer: { name: settings.sender.name, email: settings.sender.address },
                  attendee: { name: reservation.customer.name, email: recipient.address },
                  dtstamp: cause.occurredAt,
                }),
              }
            : undefined;
        plans.push(
          request(
            channel,
            recipient.type,
            recipient.address,
            {
              from: settings.sender,
              subject: email.subject,
              text: email.text,
              html: email.html,
              ...(ics ? { ics } : {}),
              ...(settings.reservationPdf && recipient.type === 'customer' && PDF_KINDS.has(cause.kind)
                ? { attachments: [reservationPdf(reservation, locale, settings.sender.name, cause.occurredAt)] }
                : {}),
            },
            undefined,
            cause.kind,
          ),
        );
      } else {
        const sms = renderMessage(cause.kind, 'sms', context, audience);
        plans.push(request(channel, recipient.type, recipient.address, { text: sms.text }, sms.sms.parts, cause.kind));
      }
    }
  }

  // The tenant's own automatic messages ("60 minutes before start, send TURN ON THE SAUNA" is a reminder-kind one).
  for (const custom of settings.customMessages.filter((message) => message.kind === cause.kind)) {
    // A reminder-kind custom message has its own offset and fires only for the reminder job of that offset.
    if (custom.minutesBefore !== undefined && custom.minutesBefore !== cause.extra?.minutesBefore) continue;
    // The channel's master switch applies to custom messages too; nothing was expected, so nothing is recorded.
    if (!settings.channels[custom.channel]) continue;
    const address =
      custom.to.type === 'custom'
        ? custom.to.address
        : custom.channel === 'email'
          ? reservation.customer.email
          : reservation.customer.phone;
    const type: RecipientType = custom.to.type === 'custom' ? 'custom' : 'customer';
    if (!address) {
      plans.push({
        type: 'skip',
        identity: identity(custom.channel, type, undefined, cause.kind, `#${custom.id}`),
        reason: 'missing-contact',
      });
      continue;
    }
    const refusal: SkipReason | undefined = !isValidAddress(custom.channel, address)
      ? 'invalid-contact'
      : type !== 'customer'
        ? undefined
        : custom.channel === 'sms' && input.preferences.smsOptedOut
          ? 'opted-out'
          : input.preferences.blocked[custom.channel].includes(cause.kind)
            ? 'blocked-by-customer'
            : undefined;
    if (refusal) {
      plans.push({
        type: 'skip',
        identity: identity(custom.channel, type, address, cause.kind, `#${custom.id}`),
        reason: refusal,
      });
      continue;
    }
    const text = renderCustomTemplate(custom.text, cause.kind, baseContext);
    const content: DeliveryContent =
      custom.channel === 'email'
        ? {
            from: settings.sender,
            subject: renderCustomTemplate(custom.subject ?? '', cause.kind, baseContext, 'line'),
            text,
          }
        : { text };
    const parts = custom.channel === 'sms' ? analyzeSms(text).parts : undefined;
    plans.push(request(custom.channel, type, address, content, parts, cause.kind, `#${custom.id}`));
  }
  return plans;
}
