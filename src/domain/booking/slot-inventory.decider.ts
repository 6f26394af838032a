import { compoundStreamName } from '../catalog/stream-name.js';
import { invalid, requireId, requireInstant, requireInteger, requireOneOf } from '../catalog/validation.js';
import type { Command, Decider, DomainEvent } from '../shared/decider.js';
import { IllegalStateError } from '../shared/errors.js';
import { parseInstant } from '../shared/zoned-time.js';

/**
 * The seats of one slot: one aggregate per (resource, slot start). It is the only place that decides whether a seat
 * is free, under optimistic concurrency on its stream; availability read models only advise.
 *
 * A hold is tentative until confirmed. A tentative hold whose `expiresAt` has passed still counts until someone
 * needs the seats: the next HoldSeats reclaims it (SlotSeatsReleased, reason `hold-expired`) in the same append, so
 * a crashed booking never leaks seats for longer than its hold.
 *
 * Caveat: slots of one resource that overlap in time (a 60-minute service offered every 30 minutes, or two services
 * with different grids on one resource) are different aggregates, so this aggregate alone does not stop both from
 * being sold. Availability hides overlapping slots (it counts seats in use at every moment), but under concurrency
 * only a coarser owner (all slots of a resource-day) or a service grid with slotIntervalMinutes >= duration + buffer
 * and one grid per resource makes the invariant hold. Open decision for the application layer.
 */

export const MAX_SLOT_SEATS = 10_000;

export interface SlotHold {
  readonly reservationId: string;
  readonly seats: number;
  /** `held` = tentative, `confirmed` = final until released. */
  readonly status: 'held' | 'confirmed';
  /** When a tentative hold may be reclaimed; null = never (the reservation's own expiry decides). */
  readonly expiresAt: string | null;
  readonly occupiedUntil: string;
}

export type SlotInventoryState =
  | { readonly status: 'untouched' }
  | {
      readonly status: 'open';
      readonly resourceId: string;
      readonly slotStart: string;
      /** Capacity as given by the latest hold (the service's seatsPerSlot then). */
      readonly capacity: number;
      readonly holds: Readonly<Record<string, SlotHold>>;
    };

export const SLOT_RELEASE_REASONS = [
  'cancelled',
  'declined',
  'deleted',
  'not-taken',
  'hold-expired',
  'rescheduled',
  /** The booking that took the hold failed before it was recorded (compensation). */
  'abandoned',
] as const;
export type SlotReleaseReason = (typeof SLOT_RELEASE_REASONS)[number];

// Commands -------------------------------------------------------------------------------------------------------

export type HoldSeats = Command<
  'HoldSeats',
  {
    readonly resourceId: string;
    /** ISO instant; the slot's identity together with the resource. */
    readonly slotStart: string;
    readonly reservationId: string;
    readonly seats: number;
    /** Seats the slot has in total (the service's seatsPerSlot). */
    readonly capacity: number;
    /** End of the booked service plus buffer: how long the resource is taken (for availability read models). */
    readonly occupiedUntil: string;
    /** Tentative holds may be reclaimed from then on; omit or null for a hold that waits for ConfirmSeats. */
    readonly expiresAt?: string | null;
    readonly now: string;
  }
>;

export type ReleaseSeats = Command<
  'ReleaseSeats',
  { readonly reservationId: string; readonly reason: SlotReleaseReason; readonly now: string }
>;

export type ConfirmSeats = Command<'ConfirmSeats', { readonly reservationId: string; readonly now: string }>;

export type SlotInventoryCommand = HoldSeats | ReleaseSeats | ConfirmSeats;

// Events ---------------------------------------------------------------------------------------------------------

export type SlotSeatsHeld = DomainEvent<
  'SlotSeatsHeld',
  {
    readonly resourceId: string;
    readonly slotStart: string;
    readonly reservationId: string;
    readonly seats: number;
    readonly capacity: number;
    readonly occupiedUntil: string;
    readonly expiresAt: string | null;
    /** Free seats after this hold. */
    readonly remainingSeats: number;
    readonly heldAt: string;
  }
>;

export type SlotSeatsReleased = DomainEvent<
  'SlotSeatsReleased',
  {
    readonly resourceId: string;
    readonly slotStart: string;
    readonly reservationId: string;
    readonly seats: number;
    readonly reason: SlotReleaseReason;
    /** Free seats after the release, against the latest capacity. */
    readonly remainingSeats: number;
    readonly releasedAt: string;
  }
>;

export type SlotSeatsConfirmed = DomainEvent<
  'SlotSeatsConfirmed',
  {
    readonly resourceId: string;
    readonly slotStart: string;
    readonly reservationId: string;
    readonly seats: number;
    readonly confirmedAt: string;
  }
>;

export type SlotInventoryEvent = SlotSeatsHeld | SlotSeatsReleased | SlotSeatsConfirmed;

/** `slot-<tenantId>+<resourceId>+<slotStart as ...Z>`; the start is normalised, so equal instants share a stream. */
export function slotStreamName(tenantId: string, resourceId: string, slotStart: string): string {
  return compoundStreamName(
    'slot',
    tenantId,
    requireId('resourceId', resourceId),
    requireInstant('slotStart', slotStart),
  );
}

/** Seats taken by every hold, tentative or confirmed. */
export function heldSeats(state: SlotInventoryState): number {
  if (state.status === 'untouched') return 0;
  return Object.values(state.holds).reduce((sum, hold) => sum + hold.seats, 0);
}

// Decider --------------------------------------------------------------------------------------------------------

function decide(command: SlotInventoryCommand, state: SlotInventoryState): SlotInventoryEvent[] {
  switch (command.type) {
    case 'HoldSeats':
      return decideHold(command.data, state);
    case 'ReleaseSeats': {
      const data = command.data;
      const reason = requireOneOf('reason', data.reason, SLOT_RELEASE_REASONS);
      const releasedAt = requireInstant('now', data.now);
      if (state.status === 'untouched') return [];
      const hold = state.holds[data.reservationId];
      if (!hold) return [];
      return [
        {
          type: 'SlotSeatsReleased',
          data: {
            resourceId: state.resourceId,
            slotStart: state.slotStart,
            reservationId: hold.reservationId,
            seats: hold.seats,
            reason,
            remainingSeats: Math.max(0, state.capacity - (heldSeats(state) - hold.seats)),
            releasedAt,
          },
        },
      ];
    }
    case 'ConfirmSeats': {
      const data = command.data;
      const confirmedAt = requireInstant('now', data.now);
      const hold = state.status === 'open' ? state.holds[data.reservationId] : undefined;
      if (state.status === 'untouched' || !hold) {
        throw new IllegalStateError(
          'slot-hold-not-found',
          `Reservation ${data.reservationId} holds no seats on this slot (never held, released, or reclaimed after expiry).`,
          { reservationId: data.reservationId },
        );
      }
      if (hold.status === 'confirmed') return [];
      // An expired hold that nobody reclaimed still has its seats: confirming it takes nothing from anyone.
      return [
        {
          type: 'SlotSeatsConfirmed',
          data: {
            resourceId: state.resourceId,
            slotStart: state.slotStart,
            reservationId: hold.reservationId,
            seats: hold.seats,
            confirmedAt,
          },
        },
      ];
    }
  }
}

function decideHold(data: HoldSeats['data'], state: SlotInventoryState): SlotInventoryEvent[] {
  const resourceId = requireId('resourceId', data.resourceId);
  const slotStart = requireInstant('slotStart', data.slotStart);
  const reservationId = requireId('reservationId', data.reservationId);
  const seats = requireInteger('seats', data.seats, 1, MAX_SLOT_SEATS);
  const capacity = requireInteger('capacity', data.capacity, 1, MAX_SLOT_SEATS);
  const occupiedUntil = requireInstant('occupiedUntil', data.occupiedUntil);
  if ((parseInstant(occupiedUntil) ?? 0) <= (parseInstant(slotStart) ?? 0)) {
    throw invalid('occupiedUntil', 'after-slot-start', 'occupiedUntil must be after slotStart.');
  }
  const expiresAt =
    data.expiresAt === undefined || data.expiresAt === null ? null : requireInstant('expiresAt', data.expiresAt);
  const now = requireInstant('now', data.now);
  const nowMs = parseInstant(now) ?? 0;

  if (state.status === 'open' && (state.resourceId !== resourceId || state.slotStart !== slotStart)) {
    throw new IllegalStateError('slot-mismatch', 'The command addresses another slot than this stream holds.', {
      resourceId: state.resourceId,
      slotStart: state.slotStart,
    });
  }
  const holds = state.status === 'open' ? state.holds : {};
  const isExpired = (hold: SlotHold) =>
    hold.status === 'held' && hold.expiresAt !== null && (parseInstant(hold.expiresAt) ?? 0) <= nowMs;

  const existing = holds[reservationId];
  if (existing && !isExpired(existing)) {
    if (existing.seats === seats) return [];
    throw new IllegalStateError(
      'slot-hold-conflict',
      `Reservation ${reservationId} already holds ${existing.seats} seats on this slot.`,
      { reservationId, heldSeats: existing.seats, requestedSeats: seats },
    );
  }

  const reclaimed = Object.values(holds).filter(isExpired);
  const stillHeld = Object.values(holds)
    .filter((hold) => !isExpired(hold))
    .reduce((sum, hold) => sum + hold.seats, 0);
  const remainingSeats = Math.max(0, capacity - stillHeld);
  if (seats > remainingSeats) {
    throw new IllegalStateError('slot-full', `Only ${remainingSeats} of ${capacity} seats are left on this slot.`, {
      remainingSeats,
      requestedSeats: seats,
      capacity,
    });
  }

  let freeAfterReleases = capacity - heldSeats(state);
  const releases: SlotSeatsReleased[] = reclaimed.map((hold) => {
    freeAfterReleases += hold.seats;
    return {
      type: 'SlotSeatsReleased',
      data: {
        resourceId,
        slotStart,
        reservationId: hold.reservationId,
        seats: hold.seats,
        reason: 'hold-expired',
        remainingSeats: Math.max(0, freeAfterReleases),
        releasedAt: now,
      },
    };
  });
  return [
    ...releases,
    {
      type: 'SlotSeatsHeld',
      data: {
        resourceId,
        slotStart,
        reservationId,
        seats,
        capacity,
        occupiedUntil,
        expiresAt,
        remainingSeats: remainingSeats - seats,
        heldAt: now,
      },
    },
  ];
}

function evolve(state: SlotInventoryState, event: SlotInventoryEvent): SlotInventoryState {
  switch (event.type) {
    case 'SlotSeatsHeld': {
      const { resourceId, slotStart, reservationId, seats, capacity, expiresAt, occupiedUntil } = event.data;
      const holds = state.status === 'open' ? state.holds : {};
      return {
        status: 'open',
        resourceId,
        slotStart,
        capacity,
        holds: { ...holds, [reservationId]: { reservationId, seats, status: 'held', expiresAt, occupiedUntil } },
      };
    }
    case 'SlotSeatsReleased': {
      if (state.status === 'untouched') return state;
      const { [event.data.reservationId]: _released, ...holds } = state.holds;
      return { ...state, holds };
    }
    case 'SlotSeatsConfirmed': {
      if (state.status === 'untouched') return state;
      const hold = state.holds[event.data.reservationId];
      if (!hold) return state;
      return { ...state, holds: { ...state.holds, [hold.reservationId]: { ...hold, status: 'confirmed' } } };
    }
  }
}

export const slotInventoryDecider: Decider<SlotInventoryCommand, SlotInventoryState, SlotInventoryEvent> = {
  decide,
  evolve,
  initialState: () => ({ status: 'untouched' }),
};
