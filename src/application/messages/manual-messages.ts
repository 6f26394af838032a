import {
  validateCampaignMessage,
  type CampaignMessage,
  type CampaignRecipient,
} from '../../domain/campaign/campaign.decider.js';
import {
  creditAccountDecider,
  deliveryDecider,
  type Channel,
  type DeliveryState,
} from '../../domain/notification/index.js';
import { IllegalStateError, ValidationError } from '../../domain/shared/errors.js';
import { tenantDecider, tenantStreamName } from '../../domain/tenancy/tenant.decider.js';
import { resolveReservationRef } from '../booking/reservation-codes.js';
import { handleCommand, loadAggregate, type CommandContext, type CommandHandlerDeps } from '../command-handler.js';
import { getCustomer } from '../customers/customers.js';
import {
  customerRefOf,
  loadCustomerPreferences,
  loadNotificationSettings,
} from '../notifications/notification-settings.js';
import { creditsStreamName, deliveryStreamName } from '../notifications/notification-streams.js';
import type { Clock } from '../ports/clock.port.js';
import type { EventStore } from '../ports/event-store.port.js';
import type { ReadModelStore } from '../ports/read-model-store.port.js';
import { getReservation } from '../reservations/reservation-queries.js';
import { exclusionOf, renderStaffContent, staffDeliveryRequest, staffMessageContext } from './staff-deliveries.js';

export interface ManualMessageDeps extends CommandHandlerDeps {
  readonly clock: Clock;
  readonly readModels: ReadModelStore;
  /** Attempts before a delivery is dead-lettered (NOTIFICATION_MAX_ATTEMPTS). */
  readonly maxAttempts?: number;
}

export interface ManualMessageInput {
  readonly channel: Channel;
  /** A customer (their contact from the customers read model), or the customer of a reservation (id or code). */
  readonly to: { readonly customerRef: string } | { readonly reservationId: string };
  /** Email only. */
  readonly subject?: string;
  readonly text: string;
  /** The client's id of this message: the same id is the same message (never sent twice). */
  readonly messageId?: string;
  /** Email to a reservation's customer only: attach the reservation's PDF (code, QR code, details). */
  readonly attachReservationPdf?: boolean;
}

export interface ManualMessageResult {
  readonly notificationId: string;
  readonly created: boolean;
  readonly state: DeliveryState;
}

/** The zone times are shown in when a message is about no reservation: the tenant's. */
export async function tenantTimeZone(eventStore: EventStore, tenantId: string): Promise<string> {
  const { state } = await loadAggregate(eventStore, tenantStreamName(tenantId), tenantDecider);
  return state.status === 'none' ? 'UTC' : state.tenant.timeZone;
}

async function recipientOf(
  deps: ManualMessageDeps,
  tenantId: string,
  to: ManualMessageInput['to'],
): Promise<CampaignRecipient> {
  if ('reservationId' in to) {
    const reservationId = await resolveReservationRef(deps.eventStore, tenantId, to.reservationId);
    const { state } = await getReservation(deps.eventStore, tenantId, reservationId);
    const r = state.reservation;
    const key = customerRefOf(deps.ids, tenantId, r.customer);
    if (!key) {
      throw new IllegalStateError('missing-contact', 'The customer of this reservation has no email or phone.', {
        reservationId,
      });
    }
    return {
      key,
      name: r.customer.name,
      ...(r.customer.email ? { email: r.customer.email } : {}),
      ...(r.customer.phone ? { phone: r.customer.phone } : {}),
      locale: r.customer.locale,
      reservation: {
        reservationId: r.reservationId,
        ...(r.code ? { code: r.code } : {}),
        serviceName: r.serviceName,
        locationName: r.location.name,
        locationAddress: r.location.address,
        start: r.start,
        end: r.end,
        timeZone: r.location.timeZone,
        partySize: r.partySize,
      },
    };
  }
  const customer = await getCustomer(deps.readModels, tenantId, to.customerRef);
  return {
    key: customer.customerRef,
    name: customer.name ?? '',
    ...(customer.email ? { email: customer.email } : {}),
    ...(customer.phone ? { phone: customer.phone } : {}),
    locale: customer.locale ?? '',
  };
}

/**
 * A message staff write to one customer, or to the customer of one reservation (seed 001: "Customer detail -
 * messages can be sent using the buttons"): one delivery of kind `manual-message`, charged per the price list
 * (an SMS per part, a hand-sent email at `emailManual`), in the audit trail of the customer and the reservation.
 *
 * Refused with nothing recorded (409): no contact on the channel, an invalid one, the customer opted out of SMS or
 * blocked manual messages on it, not enough credits. The delivery id derives from the client's `messageId`, else
 * the Idempotency-Key, so a retried request finds the delivery it made and sends nothing twice.
 */
export async function sendManualMessage(
  deps: ManualMessageDeps,
  context: CommandContext,
  input: ManualMessageInput,
  idempotencyKey?: string,
): Promise<ManualMessageResult> {
  const tenantId = context.tenantId;
  if (input.channel === 'email' && (input.subject === undefined || input.subject.trim() === '')) {
    throw new ValidationError('invalid-input', 'An email needs a subject.', { field: 'subject', rule: 'required' });
  }
  const message: CampaignMessage = validateCampaignMessage(
    input.channel === 'email'
      ? { email: { subject: input.subject ?? '', text: input.text } }
      : { sms: { text: input.text } },
    'body',
  );
  const notificationId = input.messageId
    ? deps.ids.derive('manual-message', tenantId, 'message', input.messageId)
    : idempotencyKey
      ? deps.ids.derive('manual-message', tenantId, 'idempotency-key', idempotencyKey)
      : deps.ids.newId();
  const stream = deliveryStreamName(tenantId, notificationId);
  const existing = await loadAggregate(deps.eventStore, stream, deliveryDecider);
  if (existing.state.status !== 'none') return { notificationId, created: false, state: existing.state };

  const recipient = await recipientOf(deps, tenantId, input.to);
  const preferences = await loadCustomerPreferences(deps.eventStore, tenantId, recipient.key);
  const excluded = exclusionOf(recipient, input.channel, 'manual-message', preferences);
  if (excluded) {
    const messages: Record<typeof excluded, string> = {
      'missing-contact': `The customer has no ${input.channel === 'email' ? 'email address' : 'phone number'}.`,
      'invalid-contact': `The customer's ${input.channel === 'email' ? 'email address' : 'phone number'} is not valid.`,
      'opted-out': 'The customer opted out of SMS.',
      'blocked-by-customer': `The customer does not want messages from staff by ${input.channel === 'email' ? 'email' : 'SMS'}.`,
    };
    throw new IllegalStateError(excluded, messages[excluded], { channel: input.channel, customerRef: recipient.key });
  }
  const settings = await loadNotificationSettings(deps.eventStore, tenantId);
  const context_ = staffMessageContext(recipient, settings, await tenantTimeZone(deps.eventStore, tenantId));
  const rendered = renderStaffContent(message, input.channel, context_, settings, 'manual');
  const { cost } = rendered;
  const now = deps.clock.now().toISOString();
  let content = rendered.content;
  if (input.attachReservationPdf) {
    const r = recipient.reservation;
    if (input.channel !== 'email' || !r) {
      throw new ValidationError('invalid-input', 'Only an email about a reservation can carry its PDF.', {
        field: 'attachReservationPdf',
        rule: 'email-to-reservation',
      });
    }
    content = {
      ...content,
      attachments: [
        {
          kind: 'reservation-pdf',
          reservation: {
            reservationId: r.reservationId,
            code: r.code ?? r.reservationId,
            customerName: recipient.name,
            serviceName: r.serviceName,
            locationName: r.locationName,
            ...(r.locationAddress ? { locationAddress: r.locationAddress } : {}),
            start: r.start,
            end: r.end,
            timeZone: r.timeZone,
            locale: context_.locale,
            partySize: r.partySize ?? 1,
            senderName: context_.senderName,
            issuedAt: now,
          },
        },
      ],
    };
  }
  if (cost > 0) {
    // Out of credits is a 409 (IllegalStateError insufficient-credits) before anything is recorded.
    await handleCommand(
      deps,
      creditsStreamName(tenantId),
      creditAccountDecider,
      { type: 'ChargeCredits', data: { deliveryId: notificationId, amount: cost, at: now } },
      context,
    );
  }
  const result = await handleCommand(
    deps,
    stream,
    deliveryDecider,
    {
      type: 'RequestNotification',
      data: staffDeliveryRequest({
        notificationId,
        tenantId,
        kind: 'manual-message',
        channel: input.channel,
        recipient,
        content,
        cost,
        causationEventId: notificationId,
        requestedAt: now,
        ...(deps.maxAttempts ? { maxAttempts: deps.maxAttempts } : {}),
      }),
    },
    context,
  );
  return { notificationId, created: result.newEvents.length > 0, state: result.state };
}
