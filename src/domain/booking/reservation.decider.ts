import { compoundStreamName } from '../catalog/stream-name.js';
import {
  invalid,
  jsonEqual,
  optionalText,
  requireBoolean,
  requireEmail,
  requireId,
  requireInstant,
  requireInteger,
  requireLocale,
  requireOneOf,
  requirePhone,
  requireText,
  requireTimeZone,
} from '../catalog/validation.js';
import type { Command, Decider, DomainEvent } from '../shared/decider.js';
import { IllegalStateError, NotFoundError } from '../shared/errors.js';
import { parseInstant } from '../shared/zoned-time.js';
import { optionalReservationCode } from './reservation-code.js';

/**
 * One reservation's lifecycle. Seats are not this aggregate's business: the slot inventory owns them, and the
 * application layer holds/releases seats there around these commands (hold before RequestReservation, release
 * after a transition whose event names a `slot` and a status that held seats).
 *
 *   none -> requested -> confirmed -> completed | not-taken
 *   none -> confirmed (no confirmation step, or an external reservation)
 *   requested -> declined | expired;  requested, confirmed -> cancelled;  any -> deleted
 *   requested, confirmed --reschedule--> same status, new time/resource
 *
 * Resending a command whose outcome is already in the state returns []. A command that no longer applies because
 * the reservation moved on throws IllegalStateError `reservation-not-<verb>able` with the current status, except
 * ExpireHold: the hold-expiry job fires blindly, so anything but a still-running hold makes it a no-op.
 */

// Value types ------------------------------------------------------------------------------------------------------

export interface Customer {
  readonly id?: string;
  readonly name: string;
  readonly email?: string;
  /** E.164. */
  readonly phone?: string;
  /** BCP 47, e.g. `nb-NO`: the language of the messages the customer gets. */
  readonly locale: string;
}

/** The location as the customer sees it, copied into the reservation so messages survive catalog changes. */
export interface LocationSnapshot {
  readonly name: string;
  /** One line, as printed in messages. */
  readonly address: string;
  readonly timeZone: string;
}

export interface ExternalReference {
  /** The system that owns the reservation, e.g. `legacy-pos`. */
  readonly system: string;
  /** Its id for the reservation there. */
  readonly reference: string;
}

export interface ReservationDetails {
  readonly reservationId: string;
  readonly tenantId: string;
  /** `external`: reported by another system as already final; no catalog service or slot behind it necessarily. */
  readonly source: 'internal' | 'external';
  readonly customer: Customer;
  readonly serviceId: string | null;
  readonly serviceName: string;
  readonly resourceId: string | null;
  readonly locationId: string | null;
  readonly location: LocationSnapshot;
  /** ISO instants, UTC; `location.timeZone` gives their wall time. */
  readonly start: string;
  readonly end: string;
  readonly partySize: number;
  readonly requiresConfirmation: boolean;
  readonly external: ExternalReference | null;
  /** Where the booking came from when not a direct booking: a waitlist offer or assignment. Kept for good. */
  readonly origin?: ReservationOrigin;
  /**
   * The short code customers read and type (reservation-code.ts), unique in the tenant. Absent on reservations
   * recorded before codes existed: messages then show the id.
   */
  readonly code?: string;
}

/** "Came from the waitlist": the entry and offer a reservation was booked from, and how. */
export interface ReservationOrigin {
  readonly type: 'waitlist';
  readonly waitlistId: string;
  readonly entryId: string;
  readonly offerId: string;
  /** `offer`: the customer accepted an offer; `assign`: the seat was booked for them directly. */
  readonly mode: 'offer' | 'assign';
}

export interface RecordedPayment {
  readonly paymentId: string;
  /** Integer amount in the currency's minor unit (cents, øre). */
  readonly amount: number;
  /** ISO 4217, upper case. */
  readonly currency: string;
  readonly recordedAt: string;
}

/** What a seat-keeping reader needs from a transition: which seats on which slot. */
export interface SlotReference {
  readonly serviceId: string | null;
  readonly resourceId: string | null;
  readonly start: string;
  readonly end: string;
  readonly timeZone: string;
  readonly partySize: number;
}

// State ------------------------------------------------------------------------------------------------------------

interface Existing {
  readonly reservation: ReservationDetails;
  readonly payments: readonly RecordedPayment[];
  /** An admin ended it and freed its seats without handing them to the waitlist. */
  readonly bypassWaitlist?: boolean;
}

export type ReservationStatus = ReservationState['status'];
/** Statuses in which the reservation holds seats on its slot. */
export type SeatHoldingStatus = 'requested' | 'confirmed';

export type ReservationState =
  | { readonly status: 'none' }
  | (Existing & { readonly status: 'requested'; readonly holdExpiresAt: string })
  | (Existing & { readonly status: 'confirmed'; readonly confirmedAt: string })
  | (Existing & {
      readonly status: 'cancelled';
      readonly cancelledBy: CancelledBy;
      readonly reason: string;
      readonly cancelledAt: string;
    })
  | (Existing & { readonly status: 'declined'; readonly reason: string; readonly declinedAt: string })
  | (Existing & {
      readonly status: 'deleted';
      readonly previousStatus: ExistingStatus;
      readonly reason: string;
      readonly deletedAt: string;
    })
  | (Existing & { readonly status: 'not-taken'; readonly markedAt: string })
  | (Existing & { readonly status: 'completed'; readonly completedAt: string })
  | (Existing & { readonly status: 'expired'; readonly expiredAt: string });

export type ExistingState = Exclude<ReservationState, { status: 'none' }>;
export type ExistingStatus = ExistingState['status'];

export const CANCELLED_BY = ['customer', 'staff'] as const;
export type CancelledBy = (typeof CANCELLED_BY)[number];

// Commands ---------------------------------------------------------------------------------------------------------

interface Stamped {
  readonly reservationId: string;
  readonly now: string;
  /** Who asks, e.g. `customer:c-42`, `staff:u-7`, `system:hold-expiry`. Copied into the event. */
  readonly actor: string;
}

export type RequestReservation = Command<
  'RequestReservation',
  Stamped & {
    readonly tenantId: string;
    readonly customer: Customer;
    readonly serviceId: string;
    readonly serviceName: string;
    readonly resourceId: string;
    readonly locationId: string;
    readonly location: LocationSnapshot;
    readonly start: string;
    readonly end: string;
    readonly partySize: number;
    /** false: the request is confirmed in the same append. */
    readonly requiresConfirmation: boolean;
    readonly holdExpiresAt: string;
    readonly origin?: ReservationOrigin;
    /** Claimed on its own stream before the reservation is recorded (see reservation-code.ts). */
    readonly code?: string;
  }
>;

export type RecordExternalReservation = Command<
  'RecordExternalReservation',
  Stamped & {
    readonly tenantId: string;
    readonly customer: Customer;
    /** Free text; the service need not exist in our catalog. */
    readonly serviceName: string;
    readonly serviceId?: string;
    readonly resourceId?: string;
    readonly locationId?: string;
    readonly location: LocationSnapshot;
    readonly start: string;
    readonly end: string;
    /** Default 1. */
    readonly partySize?: number;
    readonly external: ExternalReference;
    /** Claimed on its own stream before the reservation is recorded (see reservation-code.ts). */
    readonly code?: string;
  }
>;

export type ConfirmReservation = Command<'ConfirmReservation', Stamped>;
/** `bypassWaitlist`: an admin frees the seats without handing them to the slot's waitlist. */
interface Freeing {
  readonly reason?: string;
  readonly bypassWaitlist?: boolean;
}
export type CancelReservation = Command<'CancelReservation', Stamped & Freeing & { readonly by: CancelledBy }>;
export type DeclineReservation = Command<'DeclineReservation', Stamped & Freeing>;
export type DeleteReservation = Command<'DeleteReservation', Stamped & Freeing>;
export type MarkNotTaken = Command<'MarkNotTaken', Stamped & Freeing>;
export type CompleteReservation = Command<'CompleteReservation', Stamped>;
export type ExpireHold = Command<'ExpireHold', Stamped>;
export type RescheduleReservation = Command<
  'RescheduleReservation',
  Stamped & {
    readonly newStart: string;
    readonly newEnd: string;
    /** Default: the current resource. */
    readonly newResourceId?: string;
    readonly reason?: string;
  }
>;
export type RecordPayment = Command<
  'RecordPayment',
  Stamped & { readonly paymentId: string; readonly amount: number; readonly currency: string }
>;

export type ReservationCommand =
  | RequestReservation
  | RecordExternalReservation
  | ConfirmReservation
  | CancelReservation
  | DeclineReservation
  | DeleteReservation
  | MarkNotTaken
  | CompleteReservation
  | ExpireHold
  | RescheduleReservation
  | RecordPayment;

// Events -----------------------------------------------------------------------------------------------------------

export type ReservationRequested = DomainEvent<
  'ReservationRequested',
  {
    readonly reservationId: string;
    readonly reservation: ReservationDetails;
    readonly holdExpiresAt: string;
    readonly requestedAt: string;
    readonly actor: string;
  }
>;

/** The reservation is final. Carries the whole reservation, so a confirmation message needs nothing else. */
export type ReservationConfirmed = DomainEvent<
  'ReservationConfirmed',
  {
    readonly reservationId: string;
    readonly source: 'internal' | 'external';
    readonly reservation: ReservationDetails;
    readonly confirmedAt: string;
    readonly actor: string;
    /**
     * Present (true) when the reservation had already ended when it was recorded: a historical import from another
     * system. It is recorded like any other, but customers and staff are sent no confirmation (decision 0011).
     */
    readonly historical?: true;
  }
>;

export type ReservationCancelled = DomainEvent<
  'ReservationCancelled',
  {
    readonly reservationId: string;
    readonly by: CancelledBy;
    readonly reason: string;
    readonly previousStatus: SeatHoldingStatus;
    readonly slot: SlotReference;
    /** Present (true) when an admin freed the seats without handing them to the waitlist. */
    readonly bypassWaitlist?: boolean;
    readonly cancelledAt: string;
    readonly actor: string;
  }
>;

export type ReservationDeclined = DomainEvent<
  'ReservationDeclined',
  {
    readonly reservationId: string;
    readonly reason: string;
    readonly slot: SlotReference;
    /** Present (true) when an admin freed the seats without handing them to the waitlist. */
    readonly bypassWaitlist?: boolean;
    readonly declinedAt: string;
    readonly actor: string;
  }
>;

/** `previousStatus` tells whether seats were still held (requested, confirmed). */
export type ReservationDeleted = DomainEvent<
  'ReservationDeleted',
  {
    readonly reservationId: string;
    readonly reason: string;
    readonly previousStatus: ExistingStatus;
    readonly slot: SlotReference;
    /** Present (true) when an admin freed the seats without handing them to the waitlist. */
    readonly bypassWaitlist?: boolean;
    readonly deletedAt: string;
    readonly actor: string;
  }
>;

/** No-show. Frees the seat (the waitlist may offer it while the slot is still running). */
export type ReservationMarkedNotTaken = DomainEvent<
  'ReservationMarkedNotTaken',
  {
    readonly reservationId: string;
    readonly reason: string;
    readonly slot: SlotReference;
    /** Present (true) when an admin freed the seats without handing them to the waitlist. */
    readonly bypassWaitlist?: boolean;
    readonly markedAt: string;
    readonly actor: string;
  }
>;

export type ReservationCompleted = DomainEvent<
  'ReservationCompleted',
  { readonly reservationId: string; readonly completedAt: string; readonly actor: string }
>;

export type ReservationHoldExpired = DomainEvent<
  'ReservationHoldExpired',
  {
    readonly reservationId: string;
    readonly holdExpiresAt: string;
    readonly slot: SlotReference;
    readonly expiredAt: string;
    readonly actor: string;
  }
>;

export interface ScheduledTime {
  readonly start: string;
  readonly end: string;
  readonly resourceId: string | null;
}

export type ReservationRescheduled = DomainEvent<
  'ReservationRescheduled',
  {
    readonly reservationId: string;
    /** Unchanged by the reschedule. */
    readonly status: SeatHoldingStatus;
    readonly previous: ScheduledTime;
    readonly new: ScheduledTime;
    readonly timeZone: string;
    readonly partySize: number;
    readonly serviceId: string | null;
    readonly reason: string;
    readonly rescheduledAt: string;
    readonly actor: string;
  }
>;

export type PaymentRecorded = DomainEvent<
  'PaymentRecorded',
  {
    readonly reservationId: string;
    readonly paymentId: string;
    readonly amount: number;
    readonly currency: string;
    readonly recordedAt: string;
    readonly actor: string;
  }
>;

export type ReservationEvent =
  | ReservationRequested
  | ReservationConfirmed
  | ReservationCancelled
  | ReservationDeclined
  | ReservationDeleted
  | ReservationMarkedNotTaken
  | ReservationCompleted
  | ReservationHoldExpired
  | ReservationRescheduled
  | PaymentRecorded;

/** `reservation-<tenantId>+<reservationId>` (see compoundStreamName): the tenant is part of the stream id. */
export function reservationStreamName(tenantId: string, reservationId: string): string {
  return compoundStreamName('reservation', tenantId, requireId('reservationId', reservationId));
}

export function slotReferenceOf(reservation: ReservationDetails): SlotReference {
  return {
    serviceId: reservation.serviceId,
    resourceId: reservation.resourceId,
    start: reservation.start,
    end: reservation.end,
    timeZone: reservation.location.timeZone,
    partySize: reservation.partySize,
  };
}

// Decider ----------------------------------------------------------------------------------------------------------

const MAX_PARTY_SIZE = 10_000;

function decide(command: ReservationCommand, state: ReservationState): ReservationEvent[] {
  switch (command.type) {
    case 'RequestReservation':
      return decideRequest(command.data, state);
    case 'RecordExternalReservation':
      return decideExternal(command.data, state);
    case 'ConfirmReservation': {
      const current = requireExisting(state, command.data.reservationId);
      const { now, actor } = stamp(command.data);
      if (current.status === 'confirmed') return [];
      if (current.status !== 'requested') throw notAllowed('reservation-not-confirmable', 'confirmed', current);
      return [
        {
          type: 'ReservationConfirmed',
          data: {
            reservationId: current.reservation.reservationId,
            source: 'internal',
            reservation: current.reservation,
            confirmedAt: now,
            actor,
          },
        },
      ];
    }
    case 'CancelReservation': {
      const current = requireExisting(state, command.data.reservationId);
      const { now, actor } = stamp(command.data);
      const by = requireOneOf('by', command.data.by, CANCELLED_BY);
      const reason = optionalText('reason', command.data.reason, 1000);
      if (current.status === 'cancelled') return [];
      if (current.status !== 'requested' && current.status !== 'confirmed') {
        throw notAllowed('reservation-not-cancellable', 'cancelled', current);
      }
      return [
        {
          type: 'ReservationCancelled',
          data: {
            reservationId: current.reservation.reservationId,
            by,
            reason,
            previousStatus: current.status,
            slot: slotReferenceOf(current.reservation),
            ...bypass(command.data),
            cancelledAt: now,
            actor,
          },
        },
      ];
    }
    case 'DeclineReservation': {
      const current = requireExisting(state, command.data.reservationId);
      const { now, actor } = stamp(command.data);
      const reason = optionalText('reason', command.data.reason, 1000);
      if (current.status === 'declined') return [];
      if (current.status !== 'requested') throw notAllowed('reservation-not-declinable', 'declined', current);
      return [
        {
          type: 'ReservationDeclined',
          data: {
            reservationId: current.reservation.reservationId,
            reason,
            slot: slotReferenceOf(current.reservation),
            ...bypass(command.data),
            declinedAt: now,
            actor,
          },
        },
      ];
    }
    case 'DeleteReservation': {
      const current = requireExisting(state, command.data.reservationId);
      const { now, actor } = stamp(command.data);
      const reason = optionalText('reason', command.data.reason, 1000);
      if (current.status === 'deleted') return [];
      return [
        {
          type: 'ReservationDeleted',
          data: {
            reservationId: current.reservation.reservationId,
            reason,
            previousStatus: current.status,
            slot: slotReferenceOf(current.reservation),
            ...bypass(command.data),
            deletedAt: now,
            actor,
          },
        },
      ];
    }
    case 'MarkNotTaken': {
      const current = requireExisting(state, command.data.reservationId);
      const { now, actor } = stamp(command.data);
      const reason = optionalText('reason', command.data.reason, 1000);
      if (current.status === 'not-taken') return [];
      if (current.status !== 'confirmed')
        throw notAllowed('reservation-not-markable-not-taken', 'marked not taken', current);
      requireStarted(current, now);
      return [
        {
          type: 'ReservationMarkedNotTaken',
          data: {
            reservationId: current.reservation.reservationId,
            reason,
            slot: slotReferenceOf(current.reservation),
            ...bypass(command.data),
            markedAt: now,
            actor,
          },
        },
      ];
    }
    case 'CompleteReservation': {
      const current = requireExisting(state, command.data.reservationId);
      const { now, actor } = stamp(command.data);
      if (current.status === 'completed') return [];
      if (current.status !== 'confirmed') throw notAllowed('reservation-not-completable', 'completed', current);
      requireStarted(current, now);
      return [
        {
          type: 'ReservationCompleted',
          data: { reservationId: current.reservation.reservationId, completedAt: now, actor },
        },
      ];
    }
    case 'ExpireHold': {
      const current = requireExisting(state, command.data.reservationId);
      const { now, actor } = stamp(command.data);
      if (current.status !== 'requested') return [];
      if (instant(now) < instant(current.holdExpiresAt)) {
        throw new IllegalStateError('reservation-hold-not-expired', `The hold runs until ${current.holdExpiresAt}.`, {
          reservationId: current.reservation.reservationId,
          status: current.status,
          holdExpiresAt: current.holdExpiresAt,
        });
      }
      return [
        {
          type: 'ReservationHoldExpired',
          data: {
            reservationId: current.reservation.reservationId,
            holdExpiresAt: current.holdExpiresAt,
            slot: slotReferenceOf(current.reservation),
            expiredAt: now,
            actor,
          },
        },
      ];
    }
    case 'RescheduleReservation':
      return decideReschedule(command.data, state);
    case 'RecordPayment': {
      const current = requireExisting(state, command.data.reservationId);
      const { now, actor } = stamp(command.data);
      const paymentId = requireId('paymentId', command.data.paymentId);
      const amount = requireInteger('amount', command.data.amount, 1, Number.MAX_SAFE_INTEGER);
      const currency = requireText('currency', command.data.currency, 3);
      if (!/^[A-Z]{3}$/.test(currency))
        throw invalid('currency', 'iso-4217', 'currency must be an ISO 4217 code such as NOK.');
      const known = current.payments.find((payment) => payment.paymentId === paymentId);
      if (known) {
        if (known.amount === amount && known.currency === currency) return [];
        throw new IllegalStateError('payment-conflict', `Payment ${paymentId} was recorded with another amount.`, {
          paymentId,
          recordedAmount: known.amount,
          recordedCurrency: known.currency,
        });
      }
      // Payments are facts from the payment provider: they are recorded whatever the reservation's status.
      return [
        {
          type: 'PaymentRecorded',
          data: {
            reservationId: current.reservation.reservationId,
            paymentId,
            amount,
            currency,
            recordedAt: now,
            actor,
          },
        },
      ];
    }
  }
}

function decideRequest(data: RequestReservation['data'], state: ReservationState): ReservationEvent[] {
  const { now, actor } = stamp(data);
  const { start, end } = requireTimeRange('start', data.start, 'end', data.end);
  // A seat from the waitlist may be taken while its session runs (a no-show's seat), never after it ended.
  const late = data.origin ? instant(end) <= instant(now) : instant(start) < instant(now);
  if (late) throw invalid('start', 'in-the-past', 'The reservation starts in the past.');
  const holdExpiresAt = requireInstant('holdExpiresAt', data.holdExpiresAt);
  if (instant(holdExpiresAt) <= instant(now)) {
    throw invalid('holdExpiresAt', 'after-now', 'holdExpiresAt must be after now.');
  }
  const reservation: ReservationDetails = {
    reservationId: requireId('reservationId', data.reservationId),
    tenantId: requireId('tenantId', data.tenantId),
    source: 'internal',
    customer: validateCustomer(data.customer),
    serviceId: requireId('serviceId', data.serviceId),
    serviceName: requireText('serviceName', data.serviceName),
    resourceId: requireId('resourceId', data.resourceId),
    locationId: requireId('locationId', data.locationId),
    location: validateLocationSnapshot(data.location),
    start,
    end,
    partySize: requireInteger('partySize', data.partySize, 1, MAX_PARTY_SIZE),
    requiresConfirmation: requireBoolean('requiresConfirmation', data.requiresConfirmation),
    external: null,
    ...(data.origin ? { origin: validateOrigin(data.origin) } : {}),
    ...codeOf(data.code),
  };
  if (state.status !== 'none') return alreadyRecorded(state, reservation);
  const requested: ReservationRequested = {
    type: 'ReservationRequested',
    data: { reservationId: reservation.reservationId, reservation, holdExpiresAt, requestedAt: now, actor },
  };
  if (reservation.requiresConfirmation) return [requested];
  return [
    requested,
    {
      type: 'ReservationConfirmed',
      data: { reservationId: reservation.reservationId, source: 'internal', reservation, confirmedAt: now, actor },
    },
  ];
}

function decideExternal(data: RecordExternalReservation['data'], state: ReservationState): ReservationEvent[] {
  const { now, actor } = stamp(data);
  const { start, end } = requireTimeRange('start', data.start, 'end', data.end);
  if (typeof data.external !== 'object' || data.external === null) {
    throw invalid('external', 'required', 'external must name the system and its reference.');
  }
  const optionalId = (field: string, value: string | undefined) =>
    value === undefined || value === null ? null : requireId(field, value);
  // An external reservation may lie in the past (an import): it is a fact, not a request.
  const reservation: ReservationDetails = {
    reservationId: requireId('reservationId', data.reservationId),
    tenantId: requireId('tenantId', data.tenantId),
    source: 'external',
    customer: validateCustomer(data.customer),
    serviceId: optionalId('serviceId', data.serviceId),
    serviceName: requireText('serviceName', data.serviceName),
    resourceId: optionalId('resourceId', data.resourceId),
    locationId: optionalId('locationId', data.locationId),
    location: validateLocationSnapshot(data.location),
    start,
    end,
    partySize: requireInteger('partySize', data.partySize ?? 1, 1, MAX_PARTY_SIZE),
    requiresConfirmation: false,
    external: {
      system: requireText('external.system', data.external.system, 100),
      reference: requireText('external.reference', data.external.reference, 200),
    },
    ...codeOf(data.code),
  };
  if (state.status !== 'none') return alreadyRecorded(state, reservation);
  return [
    {
      type: 'ReservationConfirmed',
      data: {
        reservationId: reservation.reservationId,
        source: 'external',
        reservation,
        confirmedAt: now,
        actor,
        ...(hasEnded(reservation, now) ? { historical: true as const } : {}),
      },
    },
  ];
}

function decideReschedule(data: RescheduleReservation['data'], state: ReservationState): ReservationEvent[] {
  const current = requireExisting(state, data.reservationId);
  const { now, actor } = stamp(data);
  const { start, end } = requireTimeRange('newStart', data.newStart, 'newEnd', data.newEnd);
  const resourceId =
    data.newResourceId === undefined || data.newResourceId === null
      ? current.reservation.resourceId
      : requireId('newResourceId', data.newResourceId);
  const reason = optionalText('reason', data.reason, 1000);
  const target: ScheduledTime = { start, end, resourceId };
  const previous: ScheduledTime = {
    start: current.reservation.start,
    end: current.reservation.end,
    resourceId: current.reservation.resourceId,
  };
  if ((current.status === 'requested' || current.status === 'confirmed') && jsonEqual(target, previous)) return [];
  if (current.status !== 'requested' && current.status !== 'confirmed') {
    throw notAllowed('reservation-not-reschedulable', 'rescheduled', current);
  }
  if (instant(start) < instant(now)) throw invalid('newStart', 'in-the-past', 'The new time is in the past.');
  return [
    {
      type: 'ReservationRescheduled',
      data: {
        reservationId: current.reservation.reservationId,
        status: current.status,
        previous,
        new: target,
        timeZone: current.reservation.location.timeZone,
        partySize: current.reservation.partySize,
        serviceId: current.reservation.serviceId,
        reason,
        rescheduledAt: now,
        actor,
      },
    },
  ];
}

// Rules and validation ----------------------------------------------------------------------------------------------

function bypass(data: Freeing): { bypassWaitlist?: true } {
  return data.bypassWaitlist === true ? { bypassWaitlist: true } : {};
}

function requireExisting(state: ReservationState, reservationId: string): ExistingState {
  if (state.status === 'none') {
    throw new NotFoundError('reservation-not-found', `Reservation ${reservationId} does not exist.`, { reservationId });
  }
  return state;
}

function notAllowed(code: string, verb: string, current: ExistingState): IllegalStateError {
  return new IllegalStateError(code, `A ${current.status} reservation cannot be ${verb}.`, {
    reservationId: current.reservation.reservationId,
    status: current.status,
  });
}

function requireStarted(current: ExistingState, now: string): void {
  if (instant(now) < instant(current.reservation.start)) {
    throw new IllegalStateError('reservation-not-started', `The reservation starts at ${current.reservation.start}.`, {
      reservationId: current.reservation.reservationId,
      status: current.status,
      start: current.reservation.start,
    });
  }
}

function codeOf(code: unknown): { code?: string } {
  const valid = optionalReservationCode('code', code);
  return valid !== undefined ? { code: valid } : {};
}

/**
 * A create command for a reservation that exists: a retry when it describes the same reservation, else a clash.
 * A reservation recorded before codes existed has none; a retry that brings one is still the same reservation.
 */
function alreadyRecorded(current: ExistingState, reservation: ReservationDetails): [] {
  const { code: _code, ...withoutCode } = reservation;
  if (jsonEqual(current.reservation, current.reservation.code === undefined ? withoutCode : reservation)) return [];
  throw new IllegalStateError(
    'reservation-already-exists',
    `Reservation ${reservation.reservationId} already exists.`,
    {
      reservationId: reservation.reservationId,
      status: current.status,
    },
  );
}

function stamp(data: { now: string; actor: string }): { now: string; actor: string } {
  return { now: requireInstant('now', data.now), actor: requireText('actor', data.actor) };
}

function requireTimeRange(
  startField: string,
  startValue: unknown,
  endField: string,
  endValue: unknown,
): { start: string; end: string } {
  const start = requireInstant(startField, startValue);
  const end = requireInstant(endField, endValue);
  if (instant(end) <= instant(start))
    throw invalid(endField, 'after-start', `${endField} must be after ${startField}.`);
  return { start, end };
}

/** Whether the reservation was over at `at`: a confirmation of it would tell the customer nothing they can use. */
export function hasEnded(reservation: Pick<ReservationDetails, 'end'>, at: string): boolean {
  return instant(reservation.end) <= instant(at);
}

function instant(iso: string): number {
  return parseInstant(iso) ?? NaN;
}

export function validateCustomer(value: unknown): Customer {
  if (typeof value !== 'object' || value === null) throw invalid('customer', 'required', 'customer is required.');
  const raw = value as Record<string, unknown>;
  const present = (field: unknown) => field !== undefined && field !== null && field !== '';
  return {
    ...(present(raw.id) ? { id: requireId('customer.id', raw.id) } : {}),
    name: requireText('customer.name', raw.name),
    ...(present(raw.email) ? { email: requireEmail('customer.email', raw.email) } : {}),
    ...(present(raw.phone) ? { phone: requirePhone('customer.phone', raw.phone) } : {}),
    locale: requireLocale('customer.locale', raw.locale),
  };
}

function validateOrigin(value: ReservationOrigin): ReservationOrigin {
  return {
    type: requireOneOf('origin.type', value.type, ['waitlist'] as const),
    waitlistId: requireId('origin.waitlistId', value.waitlistId),
    entryId: requireId('origin.entryId', value.entryId),
    offerId: requireId('origin.offerId', value.offerId),
    mode: requireOneOf('origin.mode', value.mode, ['offer', 'assign'] as const),
  };
}

function validateLocationSnapshot(value: unknown): LocationSnapshot {
  if (typeof value !== 'object' || value === null) throw invalid('location', 'required', 'location is required.');
  const raw = value as Record<string, unknown>;
  return {
    name: requireText('location.name', raw.name),
    address: requireText('location.address', raw.address, 500),
    timeZone: requireTimeZone('location.timeZone', raw.timeZone),
  };
}

// Evolve -----------------------------------------------------------------------------------------------------------

function evolve(state: ReservationState, event: ReservationEvent): ReservationState {
  switch (event.type) {
    case 'ReservationRequested':
      return {
        status: 'requested',
        reservation: event.data.reservation,
        payments: [],
        holdExpiresAt: event.data.holdExpiresAt,
      };
    case 'ReservationConfirmed':
      return {
        status: 'confirmed',
        reservation: event.data.reservation,
        payments: state.status === 'none' ? [] : state.payments,
        confirmedAt: event.data.confirmedAt,
      };
  }
  if (state.status === 'none') return state;
  const { reservation, payments } = state;
  const bypassed = (event.data as { bypassWaitlist?: boolean }).bypassWaitlist === true ? { bypassWaitlist: true } : {};
  switch (event.type) {
    case 'ReservationCancelled':
      return {
        status: 'cancelled',
        reservation,
        payments,
        ...bypassed,
        cancelledBy: event.data.by,
        reason: event.data.reason,
        cancelledAt: event.data.cancelledAt,
      };
    case 'ReservationDeclined':
      return {
        status: 'declined',
        reservation,
        payments,
        ...bypassed,
        reason: event.data.reason,
        declinedAt: event.data.declinedAt,
      };
    case 'ReservationDeleted':
      return {
        status: 'deleted',
        reservation,
        payments,
        ...bypassed,
        previousStatus: event.data.previousStatus,
        reason: event.data.reason,
        deletedAt: event.data.deletedAt,
      };
    case 'ReservationMarkedNotTaken':
      return { status: 'not-taken', reservation, payments, ...bypassed, markedAt: event.data.markedAt };
    case 'ReservationCompleted':
      return { status: 'completed', reservation, payments, completedAt: event.data.completedAt };
    case 'ReservationHoldExpired':
      return { status: 'expired', reservation, payments, expiredAt: event.data.expiredAt };
    case 'ReservationRescheduled':
      return {
        ...state,
        reservation: {
          ...reservation,
          start: event.data.new.start,
          end: event.data.new.end,
          resourceId: event.data.new.resourceId,
        },
      };
    case 'PaymentRecorded': {
      const { paymentId, amount, currency, recordedAt } = event.data;
      return { ...state, payments: [...payments, { paymentId, amount, currency, recordedAt }] };
    }
  }
}

export const reservationDecider: Decider<ReservationCommand, ReservationState, ReservationEvent> = {
  decide,
  evolve,
  initialState: () => ({ status: 'none' }),
};
