import { validateSlot, type BookableSlot, type ResourceCalendar } from '../../domain/booking/availability.js';
import {
  reservationDecider,
  reservationStreamName,
  type CancelledBy,
  type Customer,
  type ExistingState,
  type ReservationCommand,
  type ReservationState,
} from '../../domain/booking/reservation.decider.js';
import { formatAddress, type Location } from '../../domain/catalog/location.decider.js';
import { requireInstant } from '../../domain/catalog/validation.js';
import type { Service } from '../../domain/catalog/service.decider.js';
import type { DomainError } from '../../domain/shared/errors.js';
import { IllegalStateError, NotFoundError, ValidationError } from '../../domain/shared/errors.js';
import { MINUTE_MS, normalizeInstant } from '../../domain/shared/zoned-time.js';
import {
  handleCommand,
  isExpectedRevision,
  loadAggregate,
  staleRevision,
  type CommandContext,
  type CommandHandlerDeps,
  type ExpectedRevision,
  type HandleResult,
} from '../command-handler.js';
import { findActiveLocation, findActiveResource, findActiveService } from '../catalog/catalog-queries.js';
import type { Clock } from '../ports/clock.port.js';
import type { Logger } from '../ports/logger.port.js';
import {
  abandonHold,
  confirmSlot,
  holdSlot,
  releaseSlot,
  type HoldOutcome,
  type ReleasedSeats,
  type SlotSeats,
  type SlotToHold,
} from './seat-holds.js';
import type { SeatKeeper } from './seat-keeper.js';
import { claimReservationCode } from './reservation-codes.js';

/**
 * Booking from the catalog and the reservation lifecycle. The order of steps is what keeps seats honest:
 * - book: check the slot against the calendar, hold seats on the resource-day inventory (the only judge of seats),
 *   then record the reservation; if recording fails, give the seats back.
 * - reschedule: hold the new slot first, then record the move, then free the old slot; if the move is refused,
 *   give the new seats back. The old seat is only freed once the new one is taken.
 * - every other transition: record it, then let the seats follow (inline, and again by the seat keeper).
 * A command that makes no sense for the reservation's state is refused by the decider before any seat is touched.
 */
export interface BookingDeps extends CommandHandlerDeps {
  readonly clock: Clock;
  /** RESERVATION_HOLD_MINUTES: how long a requested reservation keeps its seats unconfirmed. */
  readonly holdMinutes: number;
  readonly seatKeeper: Pick<SeatKeeper, 'reconcile'>;
  readonly logger?: Logger;
  /**
   * Whether the seats of a slot belong to its waitlist right now (people wait whose party fits them): then a booking
   * from outside the line is refused, 409 `slot-reserved-for-waitlist`. Absent: no waitlist is consulted.
   */
  readonly waitlistGate?: (
    tenantId: string,
    catalog: BookingCatalog,
    start: string,
    resourceIds: readonly string[],
  ) => Promise<{ readonly waitlistId: string; readonly waiting: number } | null>;
}

export interface WriteOptions {
  /** If-Match: the revision(s) the client accepts; a mismatch is a 412 and nothing changes. */
  readonly expectedRevision?: ExpectedRevision;
}

export interface BookingInput {
  readonly reservationId?: string;
  readonly serviceId: string;
  /** When absent, the first of the service's resources (in its order) that has the seats. */
  readonly resourceId?: string;
  readonly start: string;
  /** Default 1. */
  readonly partySize?: number;
  readonly customer: Customer;
  /** Staff booking for someone outside the waitlist's line (a walk-in) on purpose. */
  readonly bypassWaitlist?: boolean;
}

export type ReservationResult = { reservationId: string; result: HandleResult<ReservationState> };

/** A lifecycle transition's outcome, with the seats it gave back (what the waitlist gets next). */
export type TransitionResult = HandleResult<ReservationState> & { readonly released: readonly ReleasedSeats[] };

// Booking ------------------------------------------------------------------------------------------------------------

export interface BookingCatalog {
  readonly service: Service;
  readonly location: Location;
  /** The calendar of one of the service's resources, read when needed (a booking usually needs one). */
  calendarOf(resourceId: string): Promise<ResourceCalendar[]>;
}

function notBookable(field: string, rule: string, message: string): ValidationError {
  return new ValidationError('slot-not-bookable', message, { field, rule });
}

export async function loadBookingCatalog(
  deps: Pick<BookingDeps, 'eventStore'>,
  tenantId: string,
  serviceId: string,
): Promise<BookingCatalog> {
  const service = await findActiveService(deps.eventStore, tenantId, serviceId);
  if (!service)
    throw notBookable('serviceId', 'unknown-service', `Service ${serviceId} does not exist or is archived.`);
  const location = await findActiveLocation(deps.eventStore, tenantId, service.locationId);
  if (!location) {
    throw notBookable('serviceId', 'unknown-location', `The location of service ${serviceId} is archived.`);
  }
  const calendars = new Map<string, Promise<ResourceCalendar[]>>();
  const calendarOf = (resourceId: string) => {
    let calendar = calendars.get(resourceId);
    if (!calendar) {
      // An unknown, archived or foreign resource has no calendar: validateSlot then names the rule.
      calendar = service.resourceIds.includes(resourceId)
        ? findActiveResource(deps.eventStore, tenantId, resourceId).then((resource) => (resource ? [resource] : []))
        : Promise.resolve([]);
      calendars.set(resourceId, calendar);
    }
    return calendar;
  };
  return { service, location, calendarOf };
}

function slotToHold(
  tenantId: string,
  reservationId: string,
  catalog: BookingCatalog,
  slot: BookableSlot,
  partySize: number,
  expiresAt: string | null,
): SlotToHold {
  return {
    tenantId,
    reservationId,
    resourceId: slot.resourceId,
    timeZone: catalog.location.timeZone,
    slotStart: slot.start,
    serviceId: catalog.service.serviceId,
    occupiedUntil: slot.occupiedUntil,
    seats: partySize,
    capacity: catalog.service.seatsPerSlot,
    expiresAt,
  };
}

const isSeatRefusal = (error: unknown): error is IllegalStateError =>
  error instanceof IllegalStateError && (error.code === 'slot-full' || error.code === 'resource-busy');

/**
 * Books a slot of a catalog service. 400 `slot-not-bookable` naming the rule when the slot is not on the calendar,
 * 409 `slot-full` / `resource-busy` (with `remainingSeats`) when the seats are taken; nothing is appended then.
 */
export async function bookReservation(
  deps: BookingDeps,
  context: CommandContext,
  input: BookingInput,
): Promise<ReservationResult> {
  const tenantId = context.tenantId;
  const catalog = await loadBookingCatalog(deps, tenantId, input.serviceId);
  const nowDate = deps.clock.now();
  const now = nowDate.toISOString();
  const holdExpiresAt = new Date(nowDate.getTime() + deps.holdMinutes * MINUTE_MS).toISOString();
  const partySize = input.partySize ?? 1;
  const reservationId = input.reservationId ?? deps.ids.newId();
  const streamName = reservationStreamName(tenantId, reservationId);
  const candidates = input.resourceId !== undefined ? [input.resourceId] : catalog.service.resourceIds;

  const requestFor = (slot: BookableSlot, code?: string): ReservationCommand => ({
    type: 'RequestReservation',
    data: {
      reservationId,
      tenantId,
      customer: input.customer,
      serviceId: catalog.service.serviceId,
      serviceName: catalog.service.name,
      resourceId: slot.resourceId,
      locationId: catalog.location.locationId,
      location: {
        name: catalog.location.name,
        address: formatAddress(catalog.location.address),
        timeZone: catalog.location.timeZone,
      },
      start: slot.start,
      end: slot.end,
      partySize,
      requiresConfirmation: catalog.service.requiresConfirmation,
      holdExpiresAt,
      ...(code ? { code } : {}),
      now,
      actor: context.actor,
    },
  });

  // A reservation id that exists already: the same booking sent again is answered with it, anything else is a clash.
  const existing = await loadAggregate(deps.eventStore, streamName, reservationDecider);
  if (existing.state.status !== 'none' && existing.revision !== 'no_stream') {
    const r = existing.state.reservation;
    const same =
      r.source === 'internal' &&
      r.serviceId === input.serviceId &&
      Date.parse(r.start) === Date.parse(input.start) &&
      r.partySize === partySize &&
      (input.resourceId === undefined || r.resourceId === input.resourceId);
    if (!same) {
      throw new IllegalStateError('reservation-already-exists', `Reservation ${reservationId} already exists.`, {
        reservationId,
        status: existing.state.status,
      });
    }
    return { reservationId, result: { state: existing.state, newEvents: [], revision: existing.revision } };
  }

  if (deps.waitlistGate && !input.bypassWaitlist) {
    const normalizedStart = normalizeInstant(input.start);
    const reserved = normalizedStart ? await deps.waitlistGate(tenantId, catalog, normalizedStart, candidates) : null;
    if (reserved) {
      throw new IllegalStateError(
        'slot-reserved-for-waitlist',
        'The free seats of this slot go to the customers on its waitlist, in the order they joined.',
        { remainingSeats: 0, requestedSeats: partySize, waitlistId: reserved.waitlistId, waiting: reserved.waiting },
      );
    }
  }

  let firstInvalid: DomainError | undefined;
  const refusals: IllegalStateError[] = [];
  let taken: { slot: BookableSlot; outcome: HoldOutcome } | undefined;
  for (const resourceId of candidates) {
    let slot: BookableSlot;
    try {
      slot = validateSlot({
        service: catalog.service,
        timeZone: catalog.location.timeZone,
        resources: await catalog.calendarOf(resourceId),
        resourceId,
        start: input.start,
        partySize,
        now,
      });
      // Everything the reservation itself would refuse (customer, ...) is refused before a seat is touched.
      reservationDecider.decide(requestFor(slot), { status: 'none' });
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      firstInvalid ??= error;
      continue;
    }
    try {
      const outcome = await holdSlot(
        deps,
        context,
        slotToHold(tenantId, reservationId, catalog, slot, partySize, holdExpiresAt),
        now,
      );
      taken = { slot, outcome };
      break;
    } catch (error) {
      if (!isSeatRefusal(error)) throw error;
      refusals.push(error);
    }
  }
  if (!taken) {
    if (refusals.length === 0) throw firstInvalid ?? notBookable('resourceId', 'unknown-resource', 'No resource.');
    if (refusals.length === 1 && refusals[0]) throw refusals[0];
    const remainingSeats = Math.max(...refusals.map((error) => Number(error.details.remainingSeats ?? 0)));
    throw new IllegalStateError('slot-full', `No resource has ${partySize} free seat(s) at ${input.start}.`, {
      remainingSeats,
      requestedSeats: partySize,
      capacity: catalog.service.seatsPerSlot,
    });
  }

  const { slot, outcome } = taken;
  const seats: SlotSeats = {
    tenantId,
    reservationId,
    resourceId: slot.resourceId,
    timeZone: catalog.location.timeZone,
    slotStart: slot.start,
  };
  let result: HandleResult<ReservationState>;
  try {
    // The code is claimed once the seats are held, so a refused booking rarely leaves a claimed code unused.
    const code = await claimReservationCode(deps, context, reservationId);
    result = await handleCommand(deps, streamName, reservationDecider, requestFor(slot, code), context);
  } catch (error) {
    await abandonHold(deps, context, seats, outcome, now).catch((giveBack: unknown) =>
      logFailure(deps, giveBack, seats),
    );
    throw error;
  }
  if (result.state.status === 'confirmed') {
    // Final at once: the seats stop being tentative. The seat keeper repeats this if it fails here.
    await confirmSlot(deps, context, seats, now).catch((error: unknown) => logFailure(deps, error, seats));
  }
  return { reservationId, result };
}

// Transitions --------------------------------------------------------------------------------------------------------

type Stamped = { reservationId: string; now: string; actor: string };
const reasonOf = (input: { reason?: string }) => (input.reason ? { reason: input.reason } : {});
const bypassOf = (input: { bypassWaitlist?: boolean }) => (input.bypassWaitlist ? { bypassWaitlist: true } : {});

async function loadExisting(
  deps: BookingDeps,
  tenantId: string,
  reservationId: string,
  options: WriteOptions,
): Promise<{ state: ExistingState; revision: bigint }> {
  const { state, revision } = await loadAggregate(
    deps.eventStore,
    reservationStreamName(tenantId, reservationId),
    reservationDecider,
  );
  if (state.status === 'none' || revision === 'no_stream') {
    throw new NotFoundError('reservation-not-found', `Reservation ${reservationId} does not exist.`, { reservationId });
  }
  if (options.expectedRevision !== undefined && !isExpectedRevision(revision, options.expectedRevision)) {
    throw staleRevision(revision, options.expectedRevision);
  }
  return { state, revision };
}

/**
 * Runs one lifecycle command: refused by the decider (409/400/404) or by If-Match (412) before anything is
 * appended; `before` runs only when the command will change something.
 */
async function transition(
  deps: BookingDeps,
  context: CommandContext,
  reservationId: string,
  options: WriteOptions,
  build: (stamped: Stamped) => ReservationCommand,
  hooks: { before?: (state: ExistingState) => Promise<void>; seatsFollow?: boolean } = {},
): Promise<TransitionResult> {
  const { state } = await loadExisting(deps, context.tenantId, reservationId, options);
  const command = build({ reservationId, now: deps.clock.now().toISOString(), actor: context.actor });
  const decided = reservationDecider.decide(command, state);
  if (decided.length > 0 && hooks.before) await hooks.before(state);
  const result = await handleCommand(
    deps,
    reservationStreamName(context.tenantId, reservationId),
    reservationDecider,
    command,
    context,
    options.expectedRevision !== undefined ? { expectedRevision: options.expectedRevision } : {},
  );
  if (hooks.seatsFollow && result.newEvents.length > 0) {
    const reconciled = await deps.seatKeeper
      .reconcile(context.tenantId, reservationId, context)
      .catch((error: unknown) => logFailure(deps, error, { tenantId: context.tenantId, reservationId }));
    return { ...result, released: reconciled?.released ?? [] };
  }
  return { ...result, released: [] };
}

/** requested -> confirmed. The seats become final first; a hold lost after expiry is taken again if still free. */
export async function confirmReservation(
  deps: BookingDeps,
  context: CommandContext,
  reservationId: string,
  options: WriteOptions = {},
): Promise<TransitionResult> {
  return transition(
    deps,
    context,
    reservationId,
    options,
    (stamped) => ({ type: 'ConfirmReservation', data: stamped }),
    {
      before: async (state) => {
        const r = state.reservation;
        if (r.source !== 'internal' || !r.resourceId || !r.serviceId) return;
        const seats: SlotSeats = {
          tenantId: context.tenantId,
          reservationId,
          resourceId: r.resourceId,
          timeZone: r.location.timeZone,
          slotStart: r.start,
        };
        const now = deps.clock.now().toISOString();
        try {
          await confirmSlot(deps, context, seats, now);
        } catch (error) {
          if (!(error instanceof IllegalStateError) || error.code !== 'slot-hold-not-found') throw error;
          const catalog = await loadBookingCatalog(deps, context.tenantId, r.serviceId);
          const occupiedUntil = new Date(Date.parse(r.end) + catalog.service.bufferMinutes * MINUTE_MS).toISOString();
          try {
            await holdSlot(
              deps,
              context,
              {
                ...seats,
                serviceId: r.serviceId,
                occupiedUntil,
                seats: r.partySize,
                capacity: catalog.service.seatsPerSlot,
                expiresAt: null,
              },
              now,
            );
          } catch (refusal) {
            if (!isSeatRefusal(refusal)) throw refusal;
            throw new IllegalStateError(
              'reservation-hold-lost',
              'The hold expired and its seats were given to another booking; the reservation cannot be confirmed.',
              { reservationId, status: state.status, remainingSeats: refusal.details.remainingSeats ?? 0 },
            );
          }
          await confirmSlot(deps, context, seats, now);
        }
      },
    },
  );
}

export async function cancelReservation(
  deps: BookingDeps,
  context: CommandContext,
  reservationId: string,
  input: { by: CancelledBy; reason?: string; bypassWaitlist?: boolean },
  options: WriteOptions = {},
): Promise<TransitionResult> {
  return transition(
    deps,
    context,
    reservationId,
    options,
    (stamped) => ({
      type: 'CancelReservation',
      data: { ...stamped, by: input.by, ...reasonOf(input), ...bypassOf(input) },
    }),
    { seatsFollow: true },
  );
}

/** A transition that takes nothing but an optional reason and frees the seats. */
function freeingTransition(type: 'DeclineReservation' | 'DeleteReservation' | 'MarkNotTaken') {
  return (
    deps: BookingDeps,
    context: CommandContext,
    reservationId: string,
    input: { reason?: string; bypassWaitlist?: boolean },
    options: WriteOptions = {},
  ): Promise<TransitionResult> =>
    transition(
      deps,
      context,
      reservationId,
      options,
      (stamped) => ({ type, data: { ...stamped, ...reasonOf(input), ...bypassOf(input) } }),
      { seatsFollow: true },
    );
}

export const declineReservation = freeingTransition('DeclineReservation');
export const deleteReservation = freeingTransition('DeleteReservation');
export const markNotTaken = freeingTransition('MarkNotTaken');

export async function completeReservation(
  deps: BookingDeps,
  context: CommandContext,
  reservationId: string,
  options: WriteOptions = {},
): Promise<TransitionResult> {
  return transition(deps, context, reservationId, options, (stamped) => ({
    type: 'CompleteReservation',
    data: stamped,
  }));
}

export async function recordPayment(
  deps: BookingDeps,
  context: CommandContext,
  reservationId: string,
  input: { paymentId: string; amount: number; currency: string },
  options: WriteOptions = {},
): Promise<TransitionResult> {
  return transition(deps, context, reservationId, options, (stamped) => ({
    type: 'RecordPayment',
    data: { ...stamped, ...input },
  }));
}

// Reschedule ---------------------------------------------------------------------------------------------------------

/**
 * Moves a reservation to another slot atomically as seen by everyone else: the new seats are held first, the move
 * is recorded, then the old seats are freed. If the move is refused (a stale If-Match, a concurrent cancellation),
 * the new seats are given back and the old ones were never touched.
 */
export async function rescheduleReservation(
  deps: BookingDeps,
  context: CommandContext,
  reservationId: string,
  input: { start: string; resourceId?: string; reason?: string },
  options: WriteOptions = {},
): Promise<HandleResult<ReservationState>> {
  const tenantId = context.tenantId;
  const { state, revision } = await loadExisting(deps, tenantId, reservationId, options);
  const r = state.reservation;
  if (r.source !== 'internal' || !r.serviceId || !r.resourceId) {
    throw new IllegalStateError(
      'reservation-not-reschedulable',
      'This reservation was not booked from the catalog; reschedule it in the system that owns it.',
      { reservationId, status: state.status, source: r.source },
    );
  }
  const catalog = await loadBookingCatalog(deps, tenantId, r.serviceId);
  const nowDate = deps.clock.now();
  const now = nowDate.toISOString();
  const startMs = Date.parse(requireInstant('start', input.start));
  const targetResourceId = input.resourceId ?? r.resourceId;
  const target = {
    service: catalog.service,
    // Working hours are wall times of the location as it is now; seats stay in the reservation's own zone (0006).
    timeZone: catalog.location.timeZone,
    resources: await catalog.calendarOf(targetResourceId),
    resourceId: targetResourceId,
    start: input.start,
    partySize: r.partySize,
    now,
  };
  const command: ReservationCommand = {
    type: 'RescheduleReservation',
    data: {
      reservationId,
      now,
      actor: context.actor,
      newStart: input.start,
      // Placeholder until the slot is validated; the decider's state checks come first (409 before 400).
      newEnd: new Date(startMs + catalog.service.durationMinutes * MINUTE_MS).toISOString(),
      newResourceId: target.resourceId,
      ...(input.reason ? { reason: input.reason } : {}),
    },
  };
  if (state.status !== 'requested' && state.status !== 'confirmed') reservationDecider.decide(command, state);
  const slot = validateSlot(target);
  const move: ReservationCommand = {
    ...command,
    data: { ...command.data, newStart: slot.start, newEnd: slot.end, newResourceId: slot.resourceId },
  } as ReservationCommand;
  if (reservationDecider.decide(move, state).length === 0) {
    return { state, newEvents: [], revision };
  }

  const expiresAt =
    state.status === 'requested'
      ? new Date(
          Math.max(Date.parse(state.holdExpiresAt), nowDate.getTime() + deps.holdMinutes * MINUTE_MS),
        ).toISOString()
      : new Date(nowDate.getTime() + deps.holdMinutes * MINUTE_MS).toISOString();
  const newSeats: SlotToHold = {
    tenantId,
    reservationId,
    resourceId: slot.resourceId,
    timeZone: r.location.timeZone,
    slotStart: slot.start,
    serviceId: r.serviceId,
    occupiedUntil: slot.occupiedUntil,
    seats: r.partySize,
    capacity: catalog.service.seatsPerSlot,
    expiresAt,
  };
  const outcome = await holdSlot(deps, context, newSeats, now);
  let result: HandleResult<ReservationState>;
  try {
    result = await handleCommand(
      deps,
      reservationStreamName(tenantId, reservationId),
      reservationDecider,
      move,
      context,
      options.expectedRevision !== undefined ? { expectedRevision: options.expectedRevision } : {},
    );
  } catch (error) {
    await abandonHold(deps, context, newSeats, outcome, now).catch((giveBack: unknown) =>
      logFailure(deps, giveBack, newSeats),
    );
    throw error;
  }
  const follow = async () => {
    if (result.state.status === 'confirmed') await confirmSlot(deps, context, newSeats, now);
    await releaseSlot(
      deps,
      context,
      { tenantId, reservationId, resourceId: r.resourceId ?? '', timeZone: r.location.timeZone, slotStart: r.start },
      'rescheduled',
      now,
    );
  };
  await follow().catch((error: unknown) => logFailure(deps, error, newSeats));
  return result;
}

function logFailure(deps: BookingDeps, error: unknown, where: { tenantId: string; reservationId: string }): void {
  // The seat keeper repeats the step from the reservation's events; nothing is lost, it is only later.
  deps.logger?.warn(
    {
      tenantId: where.tenantId,
      reservationId: where.reservationId,
      err: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    },
    'seat follow-up failed; the seat keeper will retry',
  );
}
