import type { ReservationDetails } from '../../domain/booking/reservation.decider.js';
import {
  analyzeSms,
  blockedOn,
  buildIcs,
  channelEnabled,
  contactAddress,
  customMessageIdOf,
  isSettingsChannel,
  decideRecipients,
  deliveryIdentityKey,
  isValidAddress,
  maskAddress,
  priceOf,
  renderCustomTemplate,
  quietUntil,
  quietWindowFor,
  renderMessage,
  reservationIcsUid,
  resolveLanguage,
  type Channel,
  type Contact,
  type CustomerPreferences,
  type CalendarEventContent,
  type DeliveryContent,
  type DeliveryIdentity,
  type MessageContext,
  type NotificationKind,
  type ContentAttachment,
  type NotificationSettings,
  type RecipientType,
  type RequestNotification,
  type SkipReason,
  type Workflow,
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
  /** The signed link of the customer's own page: in customer messages only (it is the customer's key). */
  readonly customerPageUrl?: string;
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
  /** The workflows this cause starts (triggered, enabled, in scope): each one plans its deliveries. */
  readonly workflows: readonly Workflow[];
  /** Caused by the customer's own action: exempt from quiet hours when the tenant says so. */
  readonly byCustomer?: boolean;
  /**
   * The reservation's status when the cause happened. A message deferred by quiet hours carries it with the start
   * (`validWhile`): if either has changed when the quiet hours end, the message is obsolete and not sent.
   */
  readonly reservationStatus?: string;
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
  'quiet-hours',
]);

/**
 * Decides, purely, every delivery a cause leads to: for each workflow it starts, its message (Herald's standard one
 * or the tenant's own) to each of its recipients, and a recorded skip for each recipient that cannot or must not get
 * one. Customers inside quiet hours get it deferred (or skipped when too late). Delivery ids are derived from
 * (cause, kind, channel, recipient), so planning twice gives the same ids.
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
    // The chat the customer linked by pressing Start in the tenant's Telegram bot (docs/channels.md, "Telegram").
    ...(input.preferences.telegramChatId ? { telegram: input.preferences.telegramChatId } : {}),
    locale: reservation.customer.locale,
    preferences: input.preferences,
  };

  /**
   * The calendar channel invites to the reservation: only a new booking's invitation (a confirmation or an assigned
   * seat). A reschedule or a cancellation would have to change the event created earlier, which the providers'
   * insert cannot do: calendar workflows plan nothing for those (docs/channels/calendar.md, "Limits").
   */
  const calendarEvent: CalendarEventContent | undefined =
    cause.calendar?.method === 'REQUEST' && cause.kind !== 'reservation-rescheduled'
      ? {
          reservationId: reservation.reservationId,
          ...(reservation.code ? { code: reservation.code } : {}),
          start: reservation.start,
          end: reservation.end,
          timeZone: reservation.location.timeZone,
          summary: neutraliseText(reservation.serviceName, 'line'),
          location: neutraliseText(
            [reservation.location.name, reservation.location.address].filter(Boolean).join(', '),
            'line',
          ),
          description: '',
        }
      : undefined;
  const withEvent = (channel: Channel, content: DeliveryContent): DeliveryContent =>
    channel === 'calendar' && calendarEvent
      ? {
          ...content,
          event: {
            ...calendarEvent,
            description: `${content.text}\n\n${
              reservation.code
                ? `Reservation ${reservation.code} (${reservation.reservationId})`
                : `Reservation ${reservation.reservationId}`
            }`,
          },
        }
      : content;

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
        content: withEvent(channel, content),
        ...(cost > 0 ? { cost } : {}),
        causationEventId: cause.eventId,
        causedAt: cause.occurredAt,
        requestedAt: input.now,
        ...(input.maxAttempts ? { maxAttempts: input.maxAttempts } : {}),
      },
    };
  };

  /** Herald's standard message of the cause's kind, to the workflow's recipients on its channel. */
  const standardDeliveries = (workflow: Workflow, channel: Channel): PlannedDelivery[] => {
    const out: PlannedDelivery[] = [];
    const r = workflow.recipients;
    // The recipient rules of the settings, for exactly this workflow: one kind, one channel, its recipients.
    const only: NotificationSettings = {
      ...settings,
      kinds: {
        ...settings.kinds,
        [cause.kind]: {
          email: channel === 'email',
          sms: channel === 'sms',
          ...(isSettingsChannel(channel) ? {} : { [channel]: true }),
          recipients: {
            customer: r.customer,
            resourceStaff: r.resourceStaff,
            admins: r.admins,
            custom: r.addresses.length > 0,
          },
        },
      },
      customRecipients: { ...settings.customRecipients, [channel]: r.addresses },
    };
    const decision = decideRecipients({
      kind: cause.kind,
      channel,
      settings: only,
      customer,
      resourceStaff: input.resourceStaff,
      admins: input.admins,
    });
    for (const skipped of decision.skipped) {
      if (!RECORDED_SKIPS.has(skipped.reason)) continue;
      out.push({
        type: 'skip',
        identity: identity(channel, skipped.type, skipped.address, cause.kind),
        reason: skipped.reason,
      });
    }
    for (const recipient of decision.recipients) {
      const audience = recipient.type === 'customer' ? 'customer' : 'staff';
      // Staff and admins without a locale of their own read the tenant's language, not the customer's.
      const locale = recipient.locale ?? (recipient.type === 'customer' ? baseContext.locale : settings.defaultLocale);
      const context = {
        ...baseContext,
        locale,
        ...(recipient.type === 'customer' && cause.customerPageUrl ? { pageUrl: cause.customerPageUrl } : {}),
      };
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
        out.push(
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
        // SMS, WhatsApp and Telegram carry the short text (WhatsApp: inside the 24-hour customer service window).
        const sms = renderMessage(cause.kind, 'sms', context, audience);
        const parts = channel === 'sms' ? sms.sms.parts : undefined;
        out.push(request(channel, recipient.type, recipient.address, { text: sms.text }, parts, cause.kind));
      }
    }
    return out;
  };

  /**
   * The tenant's own text ("60 minutes before start, send TURN ON THE SAUNA"). Messages migrated from the settings'
   * custom messages keep that message's identity (`#<id>`), so an upgraded tenant's deliveries keep their ids.
   */
  const customDeliveries = (
    workflow: Workflow,
    render: (context: MessageContext) => { content: DeliveryContent; parts?: number },
  ): PlannedDelivery[] => {
    const out: PlannedDelivery[] = [];
    const channel = workflow.channel;
    const migrated = customMessageIdOf(workflow);
    const variant = migrated !== undefined ? `#${migrated}` : `#wf:${workflow.workflowId}`;
    const candidates: { type: RecipientType; address: string | undefined; locale?: string }[] = [];
    if (workflow.recipients.customer) {
      candidates.push({
        type: 'customer',
        address: contactAddress(customer, channel),
      });
    }
    const contactsOf = (type: RecipientType, contacts: readonly Contact[]) => {
      for (const contact of contacts) {
        candidates.push({
          type,
          address: contactAddress(contact, channel),
          ...(contact.locale ? { locale: contact.locale } : {}),
        });
      }
    };
    if (workflow.recipients.resourceStaff) contactsOf('staff', input.resourceStaff);
    if (workflow.recipients.admins) contactsOf('admin', input.admins);
    for (const address of workflow.recipients.addresses) candidates.push({ type: 'custom', address });
    const seen = new Set<string>();
    for (const candidate of candidates) {
      const { type, address } = candidate;
      if (!address) {
        out.push({
          type: 'skip',
          identity: identity(channel, type, undefined, cause.kind, variant),
          reason: 'missing-contact',
        });
        continue;
      }
      const key = `${type}|${address}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const refusal: SkipReason | undefined = !isValidAddress(channel, address)
        ? 'invalid-contact'
        : type !== 'customer'
          ? undefined
          : channel === 'sms' && input.preferences.smsOptedOut
            ? 'opted-out'
            : blockedOn(input.preferences.blocked, channel).includes(cause.kind)
              ? 'blocked-by-customer'
              : undefined;
      if (refusal) {
        out.push({ type: 'skip', identity: identity(channel, type, address, cause.kind, variant), reason: refusal });
        continue;
      }
      // The customer's language for the customer (and, as before workflows, for everyone of a migrated message).
      const locale =
        type === 'customer' || migrated !== undefined
          ? baseContext.locale
          : (candidate.locale ?? settings.defaultLocale);
      const context = { ...baseContext, locale };
      const { content, parts } = render(context);
      out.push(request(channel, type, address, content, parts, cause.kind, variant));
    }
    return out;
  };

  /** The tenant's own text, in the recipient's language. */
  const customText =
    (channel: Channel, message: Extract<Workflow['message'], { type: 'custom' }>) =>
    (context: MessageContext): { content: DeliveryContent; parts?: number } => {
      const texts = message.translations?.[resolveLanguage(context.locale)] ?? message;
      const text = renderCustomTemplate(texts.text, cause.kind, context);
      const content: DeliveryContent =
        channel === 'email'
          ? {
              from: settings.sender,
              subject: renderCustomTemplate(texts.subject ?? '', cause.kind, context, 'line'),
              text,
            }
          : { text };
      return { content, ...(channel === 'sms' ? { parts: analyzeSms(text).parts } : {}) };
    };

  /**
   * A template prepared at the provider: its parameters are the named placeholders, filled like a custom text (one
   * line each: WhatsApp refuses parameters with line breaks). The text kept for the audit trail is Herald's standard
   * text of the kind when it has one, else the template and its parameters.
   */
  const externalTemplate =
    (channel: Channel, message: Extract<Workflow['message'], { type: 'external' }>) =>
    (context: MessageContext): { content: DeliveryContent } => {
      const parameters = (message.parameters ?? []).map((name) => ({
        name,
        value: renderCustomTemplate(`{{${name}}}`, cause.kind, context, 'line') || '-',
      }));
      const template = {
        system: message.system,
        id: message.template,
        language: message.language ?? resolveLanguage(context.locale),
        parameters,
      };
      const standard = cause.kind !== 'custom-message';
      const summary = `${message.system} template ${message.template}`;
      if (channel === 'email') {
        const email = standard ? renderMessage(cause.kind, 'email', context) : undefined;
        return {
          content: {
            from: settings.sender,
            subject: email?.subject ?? summary,
            text: email?.text ?? `${summary}: ${parameters.map((p) => p.value).join(' | ')}`,
            template,
          },
        };
      }
      const text = standard
        ? renderMessage(cause.kind, 'sms', context).text
        : `${summary}: ${parameters.map((p) => p.value).join(' | ')}`;
      return { content: { text, template } };
    };

  /** Quiet hours (customers only): when a message to this customer on this channel may go out, if at all. */
  const whenQuiet = (channel: Channel): { notBefore?: string; skip?: string } => {
    const nowMs = Date.parse(input.now);
    const window = quietWindowFor(settings.quietHours, channel, reservation.locationId);
    if (!window || (input.byCustomer && settings.quietHours?.exemptCustomerActions)) return {};
    const until = quietUntil(window, reservation.location.timeZone, nowMs);
    if (until <= nowMs) return {};
    if (until >= Date.parse(reservation.start)) return { skip: `quiet hours until ${new Date(until).toISOString()}` };
    return { notBefore: new Date(until).toISOString() };
  };
  /** A customer's request inside quiet hours is deferred to their end, or skipped when that is after the start. */
  const toCustomer = (plan: PlannedDelivery): PlannedDelivery => {
    if (plan.type !== 'request' || plan.request.recipient.type !== 'customer') return plan;
    const quiet = whenQuiet(plan.request.channel);
    if (quiet.skip) return { type: 'skip', identity: plan.identity, reason: 'quiet-hours', detail: quiet.skip };
    if (!quiet.notBefore) return plan;
    const validWhile =
      input.reservationStatus !== undefined && plan.request.reservationId === reservation.reservationId
        ? { reservationId: reservation.reservationId, status: input.reservationStatus, start: reservation.start }
        : undefined;
    return {
      ...plan,
      request: { ...plan.request, notBefore: quiet.notBefore, ...(validWhile ? { validWhile } : {}) },
    };
  };

  /** Every delivery names the workflow that planned it, for the audit trail (not part of its id). */
  const fromWorkflow =
    (workflowId: string) =>
    (plan: PlannedDelivery): PlannedDelivery =>
      plan.type === 'skip'
        ? { ...plan, identity: { ...plan.identity, workflowId } }
        : { ...plan, identity: { ...plan.identity, workflowId }, request: { ...plan.request, workflowId } };

  for (const workflow of input.workflows) {
    const channel = workflow.channel;
    // The channel's master switch applies to every workflow; nothing was expected, so nothing is recorded.
    if (!channelEnabled(settings, channel)) continue;
    // A calendar invitation needs a reservation to invite to (see calendarEvent).
    if (channel === 'calendar' && !calendarEvent) continue;
    const named = fromWorkflow(workflow.workflowId);
    if (workflow.message.type === 'standard') {
      plans.push(...standardDeliveries(workflow, channel).map(toCustomer).map(named));
    } else if (workflow.message.type === 'custom') {
      plans.push(...customDeliveries(workflow, customText(channel, workflow.message)).map(toCustomer).map(named));
    } else {
      plans.push(...customDeliveries(workflow, externalTemplate(channel, workflow.message)).map(toCustomer).map(named));
    }
  }
  return plans;
}
