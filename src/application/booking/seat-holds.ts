import {
  holdsOf,
  localDateOf,
  resourceDaysOf,
  resourceDayStreamName,
  slotInventoryDecider,
  type SlotInventoryCommand,
  type SlotReleaseReason,
  type SlotSeatsReleased,
} from '../../domain/booking/slot-inventory.decider.js';
import { ConcurrencyError, IllegalStateError } from '../../domain/shared/errors.js';
import { handleCommand, loadAggregate, type CommandContext, type CommandHandlerDeps } from '../command-handler.js';

/**
 * Seats on the resource-day inventory (docs/decisions/0006) for one slot of one reservation. A slot past local
 * midnight lives on several days: holds go in date order and are given back when a later day refuses; releases go in
 * reverse, so the start day, whose hold names the other days, is released last and a retry finds them again.
 */

/**
 * A busy resource-day is one hot stream: writers that lost a race read again and retry (with backoff) more often
 * than the command handler's default before giving up.
 */
const HOT_STREAM_RETRIES = 25;

export interface SlotSeats {
  readonly tenantId: string;
  readonly reservationId: string;
  readonly resourceId: string;
  /** The zone the reservation was booked in (its location snapshot): it fixes the days. */
  readonly timeZone: string;
  readonly slotStart: string;
}

export interface SlotToHold extends SlotSeats {
  readonly serviceId: string;
  readonly occupiedUntil: string;
  readonly seats: number;
  readonly capacity: number;
  readonly expiresAt: string | null;
}

/** Seats a release gave back, as recorded (the id of the SlotSeatsReleased event is the cause of what follows). */
export interface ReleasedSeats {
  readonly eventId: string;
  readonly tenantId: string;
  readonly resourceId: string;
  readonly slotStart: string;
  readonly serviceId: string | null;
  readonly reservationId: string;
  readonly seats: number;
  readonly reason: SlotReleaseReason;
  readonly bypassWaitlist: boolean;
}

/** Days on which this call appended a hold (to give back on failure); empty when the hold was already there. */
export interface HoldOutcome {
  readonly newlyHeld: readonly string[];
}

export async function holdSlot(
  deps: CommandHandlerDeps,
  context: CommandContext,
  slot: SlotToHold,
  now: string,
): Promise<HoldOutcome> {
  const days = resourceDaysOf(slot.timeZone, slot.slotStart, slot.occupiedUntil);
  const newlyHeld: string[] = [];
  try {
    for (const localDate of days) {
      const command: SlotInventoryCommand = {
        type: 'HoldSeats',
        data: {
          resourceId: slot.resourceId,
          localDate,
          timeZone: slot.timeZone,
          slotStart: slot.slotStart,
          serviceId: slot.serviceId,
          reservationId: slot.reservationId,
          seats: slot.seats,
          capacity: slot.capacity,
          occupiedUntil: slot.occupiedUntil,
          expiresAt: slot.expiresAt,
          now,
        },
      };
      const result = await handleCommand(
        deps,
        resourceDayStreamName(slot.tenantId, slot.resourceId, localDate),
        slotInventoryDecider,
        command,
        context,
        { maxRetries: HOT_STREAM_RETRIES },
      );
      if (result.newEvents.some((event) => event.type === 'SlotSeatsHeld')) newlyHeld.push(localDate);
    }
  } catch (error) {
    // The refusal is the answer; a failed give-back leaves tentative holds that expire on their own.
    await releaseDays(deps, context, slot, [...newlyHeld].reverse(), 'abandoned', now).catch(() => undefined);
    if (error instanceof ConcurrencyError) {
      throw new IllegalStateError('slot-contention', 'Too many bookings for this resource at once; try again.', {
        retryable: true,
      });
    }
    throw error;
  }
  return { newlyHeld };
}

/** Gives back what `holdSlot` took, after the step that needed the seats failed. */
export async function abandonHold(
  deps: CommandHandlerDeps,
  context: CommandContext,
  slot: SlotSeats,
  outcome: HoldOutcome,
  now: string,
): Promise<void> {
  await releaseDays(deps, context, slot, [...outcome.newlyHeld].reverse(), 'abandoned', now);
}

/** Releases the reservation's hold on this slot on every day it touches; harmless when there is none. */
export async function releaseSlot(
  deps: CommandHandlerDeps,
  context: CommandContext,
  slot: SlotSeats,
  reason: SlotReleaseReason,
  now: string,
  options: { readonly bypassWaitlist?: boolean } = {},
): Promise<ReleasedSeats[]> {
  const days = await daysOfHold(deps, slot);
  return releaseDays(deps, context, slot, [...days].reverse(), reason, now, options.bypassWaitlist === true);
}

/**
 * Makes the reservation's hold on this slot final on every day; the start day last, so that a confirmed hold there
 * means the whole slot is final (then nothing more is read or written). Throws IllegalStateError
 * `slot-hold-not-found` when the hold is gone (released, or reclaimed after it expired).
 */
export async function confirmSlot(
  deps: CommandHandlerDeps,
  context: CommandContext,
  slot: SlotSeats,
  now: string,
): Promise<void> {
  const startDay = localDateOf(slot.timeZone, slot.slotStart);
  const { state } = await loadAggregate(
    deps.eventStore,
    resourceDayStreamName(slot.tenantId, slot.resourceId, startDay),
    slotInventoryDecider,
  );
  const hold = holdsOf(state, slot.reservationId).find((candidate) => candidate.slotStart === slot.slotStart);
  if (!hold) {
    throw new IllegalStateError(
      'slot-hold-not-found',
      `Reservation ${slot.reservationId} holds no seats on this slot (released, or reclaimed after expiry).`,
      { reservationId: slot.reservationId, slotStart: slot.slotStart },
    );
  }
  if (hold.status === 'confirmed') return;
  const days = resourceDaysOf(slot.timeZone, hold.slotStart, hold.occupiedUntil);
  for (const localDate of [...days].reverse()) {
    await handleCommand(
      deps,
      resourceDayStreamName(slot.tenantId, slot.resourceId, localDate),
      slotInventoryDecider,
      { type: 'ConfirmSeats', data: { reservationId: slot.reservationId, slotStart: slot.slotStart, now } },
      context,
      { maxRetries: HOT_STREAM_RETRIES },
    );
  }
}

/** Whether the reservation still holds this slot on its start day. */
export async function holdsSlot(deps: Pick<CommandHandlerDeps, 'eventStore'>, slot: SlotSeats): Promise<boolean> {
  const startDay = localDateOf(slot.timeZone, slot.slotStart);
  const { state } = await loadAggregate(
    deps.eventStore,
    resourceDayStreamName(slot.tenantId, slot.resourceId, startDay),
    slotInventoryDecider,
  );
  return holdsOf(state, slot.reservationId).some((hold) => hold.slotStart === slot.slotStart);
}

async function daysOfHold(deps: Pick<CommandHandlerDeps, 'eventStore'>, slot: SlotSeats): Promise<string[]> {
  const startDay = localDateOf(slot.timeZone, slot.slotStart);
  const { state } = await loadAggregate(
    deps.eventStore,
    resourceDayStreamName(slot.tenantId, slot.resourceId, startDay),
    slotInventoryDecider,
  );
  const hold = holdsOf(state, slot.reservationId).find((candidate) => candidate.slotStart === slot.slotStart);
  return hold ? resourceDaysOf(slot.timeZone, hold.slotStart, hold.occupiedUntil) : [startDay];
}

async function releaseDays(
  deps: CommandHandlerDeps,
  context: CommandContext,
  slot: SlotSeats,
  days: readonly string[],
  reason: SlotReleaseReason,
  now: string,
  bypassWaitlist = false,
): Promise<ReleasedSeats[]> {
  const released: ReleasedSeats[] = [];
  for (const localDate of days) {
    const result = await handleCommand(
      deps,
      resourceDayStreamName(slot.tenantId, slot.resourceId, localDate),
      slotInventoryDecider,
      {
        type: 'ReleaseSeats',
        data: {
          reservationId: slot.reservationId,
          slotStart: slot.slotStart,
          reason,
          ...(bypassWaitlist ? { bypassWaitlist } : {}),
          now,
        },
      },
      context,
      { maxRetries: HOT_STREAM_RETRIES },
    );
    // One event per slot: the start day's (a slot past midnight is released on its other days too).
    if (localDate !== localDateOf(slot.timeZone, slot.slotStart)) continue;
    for (const event of result.newEvents) {
      if (event.type !== 'SlotSeatsReleased') continue;
      const data = event.data as SlotSeatsReleased['data'];
      released.push({
        eventId: event.id,
        tenantId: slot.tenantId,
        resourceId: data.resourceId,
        slotStart: data.slotStart,
        serviceId: data.serviceId ?? null,
        reservationId: data.reservationId,
        seats: data.seats,
        reason: data.reason,
        bypassWaitlist: data.bypassWaitlist === true,
      });
    }
  }
  return released;
}
