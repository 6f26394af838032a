import { compoundStreamName } from '../catalog/stream-name.js';
import {
  invalid,
  requireId,
  requireInstant,
  requireInteger,
  requireOneOf,
  requireTimeZone,
} from '../catalog/validation.js';
import type { Command, Decider, DomainEvent } from '../shared/decider.js';
import { IllegalStateError } from '../shared/errors.js';
import { DAY_MS, formatLocalDate, localMsAt, parseInstant, parseLocalDate } from '../shared/zoned-time.js';

/**
 * The seats of one resource on one local day (in its location's zone): one aggregate per (tenant, resource, day),
 * the `resource-day` inventory. It is the only place that decides whether a seat is free, under optimistic
 * concurrency on its stream; availability read models only advise. See docs/decisions/0006.
 *
 * The rule: a resource runs one slot at a time. Holds with the same start (and the same service) share that slot's
 * seats up to its capacity; a hold whose `[slotStart, occupiedUntil)` overlaps a hold of another reservation with
 * a different start or service is refused (`resource-busy`). Because every slot of the day is decided in one
 * stream, two overlapping slots (a 60-minute service offered every 30 minutes, two services with different grids
 * on one stylist) can never both be sold, whatever the concurrency.
 *
 * A slot that runs past local midnight is held on every day it touches (`resourceDaysOf`), each day's stream
 * deciding alone; the application takes them in date order and gives back what it took when a later day refuses.
 *
 * Holds of one reservation never block each other: a reschedule holds the new slot before it releases the old one.
 *
 * A hold is tentative until confirmed. A tentative hold whose `expiresAt` has passed still counts until someone
 * needs the seats: the next HoldSeats it stands in the way of reclaims it (SlotSeatsReleased, reason
 * `hold-expired`) in the same append, so a crashed booking never leaks seats for longer than its hold.
 */

export const MAX_SLOT_SEATS = 10_000;

export interface SlotHold {
  readonly reservationId: string;
  /** ISO instant: the slot's identity on the resource, together with the service. */
  readonly slotStart: string;
  /** End of the booked service plus buffer: how long the resource is taken. */
  readonly occupiedUntil: string;
  /** The service whose slot this is; holds share seats only within one service's slot. Null: unknown. */
  readonly serviceId: string | null;
  readonly seats: number;
  /** Seats the slot had in total when this hold was taken (the service's seatsPerSlot). */
  readonly capacity: number;
  /** `held` = tentative, `confirmed` = final until released. */
  readonly status: 'held' | 'confirmed';
  /** When a tentative hold may be reclaimed; null = never (the reservation's own expiry decides). */
  readonly expiresAt: string | null;
}

/**
 * What happened to the holds, oldest first; read it through `holdsIn`. A busy day has hundreds of holds, and a
 * state that copied a map of them on every event would make each fold quadratic. So the log is a persistent
 * append-only list: states share one buffer, each seeing its first `length` entries; appending to a state that is
 * not the newest view of its buffer copies that prefix. No state ever sees another one change.
 */
export interface HoldLog {
  readonly entries: readonly HoldLogEntry[];
  readonly length: number;
}

export type HoldLogEntry =
  | { readonly kind: 'held'; readonly hold: SlotHold }
  | { readonly kind: 'released' | 'confirmed'; readonly key: string };

export type SlotInventoryState =
  | { readonly status: 'untouched' }
  | {
      readonly status: 'open';
      readonly resourceId: string;
      /** `YYYY-MM-DD` in the location's zone. */
      readonly localDate: string;
      readonly log: HoldLog;
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
  /** A waitlist offer's seats: the customer declined, the window ran out, or the offer was withdrawn. */
  'offer-declined',
  'offer-expired',
  'offer-withdrawn',
] as const;
export type SlotReleaseReason = (typeof SLOT_RELEASE_REASONS)[number];

// Commands -------------------------------------------------------------------------------------------------------

export type HoldSeats = Command<
  'HoldSeats',
  {
    readonly resourceId: string;
    /** The day of this stream; `[slotStart, occupiedUntil)` must touch it in `timeZone`. */
    readonly localDate: string;
    /** IANA zone of the resource's location. */
    readonly timeZone: string;
    /** ISO instant; the slot's identity together with the resource and the service. */
    readonly slotStart: string;
    /** Omit or null when unknown: then the slot is shared only with other holds without a service. */
    readonly serviceId?: string | null;
    readonly reservationId: string;
    readonly seats: number;
    /** Seats the slot has in total (the service's seatsPerSlot). */
    readonly capacity: number;
    /** End of the booked service plus buffer: how long the resource is taken. */
    readonly occupiedUntil: string;
    /** Tentative holds may be reclaimed from then on; omit or null for a hold that waits for ConfirmSeats. */
    readonly expiresAt?: string | null;
    readonly now: string;
  }
>;

/** Releases the reservation's hold on `slotStart`, or every hold it has on this day when `slotStart` is omitted. */
export type ReleaseSeats = Command<
  'ReleaseSeats',
  {
    readonly reservationId: string;
    readonly slotStart?: string;
    readonly reason: SlotReleaseReason;
    /** An admin freed the seats explicitly without handing them to the waitlist. */
    readonly bypassWaitlist?: boolean;
    readonly now: string;
  }
>;

/** Makes the reservation's hold on `slotStart` (or all its holds on this day) final. */
export type ConfirmSeats = Command<
  'ConfirmSeats',
  { readonly reservationId: string; readonly slotStart?: string; readonly now: string }
>;

export type SlotInventoryCommand = HoldSeats | ReleaseSeats | ConfirmSeats;

// Events ---------------------------------------------------------------------------------------------------------
// Names and fields kept from the one-aggregate-per-slot design (never written by a release); `localDate` and
// `serviceId` came with the resource-day owner (docs/decisions/0006).

export type SlotSeatsHeld = DomainEvent<
  'SlotSeatsHeld',
  {
    readonly resourceId: string;
    readonly localDate: string;
    readonly slotStart: string;
    readonly serviceId: string | null;
    readonly reservationId: string;
    readonly seats: number;
    readonly capacity: number;
    readonly occupiedUntil: string;
    readonly expiresAt: string | null;
    /** Free seats on this slot after this hold. */
    readonly remainingSeats: number;
    readonly heldAt: string;
  }
>;

export type SlotSeatsReleased = DomainEvent<
  'SlotSeatsReleased',
  {
    readonly resourceId: string;
    readonly localDate: string;
    readonly slotStart: string;
    /** The service of the released hold (absent in events recorded before waitlists). */
    readonly serviceId?: string | null;
    readonly reservationId: string;
    readonly seats: number;
    readonly reason: SlotReleaseReason;
    /** Free seats on the slot after the release, against the released hold's capacity. */
    readonly remainingSeats: number;
    /** Present (true) when an admin freed the seats without handing them to the waitlist. */
    readonly bypassWaitlist?: boolean;
    readonly releasedAt: string;
  }
>;

export type SlotSeatsConfirmed = DomainEvent<
  'SlotSeatsConfirmed',
  {
    readonly resourceId: string;
    readonly localDate: string;
    readonly slotStart: string;
    readonly reservationId: string;
    readonly seats: number;
    readonly confirmedAt: string;
  }
>;

export type SlotInventoryEvent = SlotSeatsHeld | SlotSeatsReleased | SlotSeatsConfirmed;

export const SLOT_INVENTORY_EVENT_TYPES: readonly SlotInventoryEvent['type'][] = [
  'SlotSeatsHeld',
  'SlotSeatsReleased',
  'SlotSeatsConfirmed',
];

/** `resourceday-<tenantId>+<resourceId>+<YYYY-MM-DD>`: the seats of one resource on one local day. */
export function resourceDayStreamName(tenantId: string, resourceId: string, localDate: string): string {
  return compoundStreamName(
    'resourceday',
    tenantId,
    requireId('resourceId', resourceId),
    requireLocalDate('localDate', localDate),
  );
}

/**
 * The local dates (in `timeZone`) that `[slotStart, occupiedUntil)` touches, ascending: the resource-day streams a
 * hold on that slot goes to. Usually one; two or more for a slot that runs past local midnight.
 */
export function resourceDaysOf(timeZone: string, slotStart: string, occupiedUntil: string): string[] {
  const zone = requireTimeZone('timeZone', timeZone);
  const start = instant(requireInstant('slotStart', slotStart));
  const end = instant(requireInstant('occupiedUntil', occupiedUntil));
  const first = startOfDay(localMsAt(zone, start));
  const last = startOfDay(localMsAt(zone, Math.max(start, end - 1)));
  const days: string[] = [];
  for (let day = first; day <= last; day += DAY_MS) days.push(formatLocalDate(day));
  return days;
}

/** The local date (in `timeZone`) at an instant: the resource-day a slot starting then belongs to first. */
export function localDateOf(timeZone: string, at: string): string {
  return formatLocalDate(
    startOfDay(localMsAt(requireTimeZone('timeZone', timeZone), instant(requireInstant('at', at)))),
  );
}

export function holdKey(reservationId: string, slotStart: string): string {
  return `${reservationId}@${slotStart}`;
}

const EMPTY_LOG: HoldLog = { entries: [], length: 0 };

function append(log: HoldLog, entry: HoldLogEntry): HoldLog {
  if (log.entries.length === log.length) {
    // This state is the newest view of the buffer: extend it in place, older views keep their own length.
    (log.entries as HoldLogEntry[]).push(entry);
    return { entries: log.entries, length: log.length + 1 };
  }
  return { entries: [...log.entries.slice(0, log.length), entry], length: log.length + 1 };
}

// Derived once per state (states are immutable, so the cache can never be stale).
const holdsCache = new WeakMap<HoldLog, ReadonlyMap<string, SlotHold>>();

function holdTable(state: SlotInventoryState): ReadonlyMap<string, SlotHold> {
  if (state.status === 'untouched') return new Map();
  let table = holdsCache.get(state.log);
  if (!table) {
    const building = new Map<string, SlotHold>();
    for (let index = 0; index < state.log.length; index++) {
      const entry = state.log.entries[index];
      if (!entry) continue;
      if (entry.kind === 'held') building.set(holdKey(entry.hold.reservationId, entry.hold.slotStart), entry.hold);
      else if (entry.kind === 'released') building.delete(entry.key);
      else {
        const hold = building.get(entry.key);
        if (hold) building.set(entry.key, { ...hold, status: 'confirmed' });
      }
    }
    table = building;
    holdsCache.set(state.log, table);
  }
  return table;
}

/** Every hold of the day, tentative or confirmed, in the order they were taken. */
export function holdsIn(state: SlotInventoryState): SlotHold[] {
  return [...holdTable(state).values()];
}

/** Seats taken by every hold of the day, tentative or confirmed. */
export function heldSeats(state: SlotInventoryState): number {
  return holdsIn(state).reduce((sum, hold) => sum + hold.seats, 0);
}

/** The holds of one reservation on this day. */
export function holdsOf(state: SlotInventoryState, reservationId: string): SlotHold[] {
  return holdsIn(state).filter((hold) => hold.reservationId === reservationId);
}

/** Whether two holds are the same slot of the resource: same start, same service. */
export function sharesSlot(
  a: Pick<SlotHold, 'slotStart' | 'serviceId'>,
  b: Pick<SlotHold, 'slotStart' | 'serviceId'>,
): boolean {
  return a.slotStart === b.slotStart && a.serviceId === b.serviceId;
}

export function overlaps(
  a: Pick<SlotHold, 'slotStart' | 'occupiedUntil'>,
  b: Pick<SlotHold, 'slotStart' | 'occupiedUntil'>,
): boolean {
  return instant(a.slotStart) < instant(b.occupiedUntil) && instant(b.slotStart) < instant(a.occupiedUntil);
}

// Decider --------------------------------------------------------------------------------------------------------

function decide(command: SlotInventoryCommand, state: SlotInventoryState): SlotInventoryEvent[] {
  switch (command.type) {
    case 'HoldSeats':
      return decideHold(command.data, state);
    case 'ReleaseSeats': {
      const data = command.data;
      const reservationId = requireId('reservationId', data.reservationId);
      const reason = requireOneOf('reason', data.reason, SLOT_RELEASE_REASONS);
      const releasedAt = requireInstant('now', data.now);
      const slotStart = optionalInstant('slotStart', data.slotStart);
      if (state.status === 'untouched') return [];
      const released = holdsOf(state, reservationId).filter(
        (hold) => slotStart === null || hold.slotStart === slotStart,
      );
      return releaseEvents(
        { ...state, holds: holdsIn(state) },
        released,
        reason,
        releasedAt,
        data.bypassWaitlist === true,
      );
    }
    case 'ConfirmSeats': {
      const data = command.data;
      const reservationId = requireId('reservationId', data.reservationId);
      const confirmedAt = requireInstant('now', data.now);
      const slotStart = optionalInstant('slotStart', data.slotStart);
      const holds = holdsOf(state, reservationId).filter((hold) => slotStart === null || hold.slotStart === slotStart);
      if (state.status === 'untouched' || holds.length === 0) {
        throw new IllegalStateError(
          'slot-hold-not-found',
          `Reservation ${reservationId} holds no seats here (never held, released, or reclaimed after expiry).`,
          { reservationId, ...(slotStart ? { slotStart } : {}) },
        );
      }
      // An expired hold that nobody reclaimed still has its seats: confirming it takes nothing from anyone.
      return holds
        .filter((hold) => hold.status === 'held')
        .map((hold) => ({
          type: 'SlotSeatsConfirmed' as const,
          data: {
            resourceId: state.resourceId,
            localDate: state.localDate,
            slotStart: hold.slotStart,
            reservationId: hold.reservationId,
            seats: hold.seats,
            confirmedAt,
          },
        }));
    }
  }
}

function decideHold(data: HoldSeats['data'], state: SlotInventoryState): SlotInventoryEvent[] {
  const resourceId = requireId('resourceId', data.resourceId);
  const localDate = requireLocalDate('localDate', data.localDate);
  const timeZone = requireTimeZone('timeZone', data.timeZone);
  const slotStart = requireInstant('slotStart', data.slotStart);
  const serviceId =
    data.serviceId === undefined || data.serviceId === null ? null : requireId('serviceId', data.serviceId);
  const reservationId = requireId('reservationId', data.reservationId);
  const seats = requireInteger('seats', data.seats, 1, MAX_SLOT_SEATS);
  const capacity = requireInteger('capacity', data.capacity, 1, MAX_SLOT_SEATS);
  const occupiedUntil = requireInstant('occupiedUntil', data.occupiedUntil);
  if (instant(occupiedUntil) <= instant(slotStart)) {
    throw invalid('occupiedUntil', 'after-slot-start', 'occupiedUntil must be after slotStart.');
  }
  if (!resourceDaysOf(timeZone, slotStart, occupiedUntil).includes(localDate)) {
    throw invalid('localDate', 'day-of-slot', `The slot does not touch ${localDate} in ${timeZone}.`);
  }
  const expiresAt = optionalInstant('expiresAt', data.expiresAt);
  const now = requireInstant('now', data.now);
  const nowMs = instant(now);

  if (state.status === 'open' && (state.resourceId !== resourceId || state.localDate !== localDate)) {
    throw new IllegalStateError('slot-mismatch', 'The command addresses another resource-day than this stream holds.', {
      resourceId: state.resourceId,
      localDate: state.localDate,
    });
  }
  const candidate = { slotStart, occupiedUntil, serviceId };
  const holds = holdsIn(state);
  const isExpired = (hold: SlotHold) =>
    hold.status === 'held' && hold.expiresAt !== null && instant(hold.expiresAt) <= nowMs;

  const existing = holds.find((hold) => hold.reservationId === reservationId && hold.slotStart === slotStart);
  if (existing && !isExpired(existing)) {
    if (existing.seats === seats && existing.serviceId === serviceId) return [];
    throw new IllegalStateError(
      'slot-hold-conflict',
      `Reservation ${reservationId} already holds ${existing.seats} seats on this slot.`,
      { reservationId, heldSeats: existing.seats, requestedSeats: seats },
    );
  }

  // Expired tentative holds in the way are reclaimed (own expired hold on this slot included); others stay.
  const reclaimed = holds.filter(
    (hold) =>
      isExpired(hold) && (hold === existing || (hold.reservationId !== reservationId && overlaps(hold, candidate))),
  );
  const others = holds.filter(
    (hold) => hold.reservationId !== reservationId && !reclaimed.includes(hold) && overlaps(hold, candidate),
  );
  const busy = others.filter((hold) => !sharesSlot(hold, candidate));
  if (busy.length > 0) {
    throw new IllegalStateError(
      'resource-busy',
      'The resource is taken by another slot that overlaps this one; it runs one slot at a time.',
      {
        remainingSeats: 0,
        requestedSeats: seats,
        capacity,
        busyFrom: busy.map((hold) => hold.slotStart).sort()[0],
        busyUntil: busy
          .map((hold) => hold.occupiedUntil)
          .sort()
          .at(-1),
      },
    );
  }
  const remainingSeats = Math.max(0, capacity - others.reduce((sum, hold) => sum + hold.seats, 0));
  if (seats > remainingSeats) {
    throw new IllegalStateError('slot-full', `Only ${remainingSeats} of ${capacity} seats are left on this slot.`, {
      remainingSeats,
      requestedSeats: seats,
      capacity,
    });
  }

  return [
    ...releaseEvents({ resourceId, localDate, holds }, reclaimed, 'hold-expired', now),
    {
      type: 'SlotSeatsHeld',
      data: {
        resourceId,
        localDate,
        slotStart,
        serviceId,
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

function releaseEvents(
  state: { readonly resourceId: string; readonly localDate: string; readonly holds: readonly SlotHold[] },
  released: readonly SlotHold[],
  reason: SlotReleaseReason,
  releasedAt: string,
  bypassWaitlist = false,
): SlotSeatsReleased[] {
  let remaining = [...state.holds];
  return released.map((hold) => {
    remaining = remaining.filter((other) => other !== hold);
    const stillOnSlot = remaining.filter((other) => sharesSlot(other, hold)).reduce((sum, h) => sum + h.seats, 0);
    return {
      type: 'SlotSeatsReleased',
      data: {
        resourceId: state.resourceId,
        localDate: state.localDate,
        slotStart: hold.slotStart,
        serviceId: hold.serviceId,
        reservationId: hold.reservationId,
        seats: hold.seats,
        reason,
        remainingSeats: Math.max(0, hold.capacity - stillOnSlot),
        ...(bypassWaitlist ? { bypassWaitlist: true } : {}),
        releasedAt,
      },
    };
  });
}

function evolve(state: SlotInventoryState, event: SlotInventoryEvent): SlotInventoryState {
  switch (event.type) {
    case 'SlotSeatsHeld': {
      const { resourceId, slotStart, reservationId, seats, capacity, expiresAt, occupiedUntil } = event.data;
      const { localDate } = event.data;
      const log = state.status === 'open' ? state.log : EMPTY_LOG;
      const hold: SlotHold = {
        reservationId,
        slotStart,
        occupiedUntil,
        serviceId: event.data.serviceId,
        seats,
        capacity,
        status: 'held',
        expiresAt,
      };
      return { status: 'open', resourceId, localDate, log: append(log, { kind: 'held', hold }) };
    }
    case 'SlotSeatsReleased':
    case 'SlotSeatsConfirmed': {
      if (state.status === 'untouched') return state;
      const kind = event.type === 'SlotSeatsReleased' ? 'released' : 'confirmed';
      return {
        ...state,
        log: append(state.log, { kind, key: holdKey(event.data.reservationId, event.data.slotStart) }),
      };
    }
  }
}

export const slotInventoryDecider: Decider<SlotInventoryCommand, SlotInventoryState, SlotInventoryEvent> = {
  decide,
  evolve,
  initialState: () => ({ status: 'untouched' }),
};

// Helpers ----------------------------------------------------------------------------------------------------------

function instant(iso: string): number {
  return parseInstant(iso) ?? NaN;
}

function optionalInstant(field: string, value: unknown): string | null {
  return value === undefined || value === null ? null : requireInstant(field, value);
}

function requireLocalDate(field: string, value: unknown): string {
  const localMs = parseLocalDate(value);
  if (localMs === null) throw invalid(field, 'local-date', `${field} must be a date YYYY-MM-DD.`);
  return formatLocalDate(localMs);
}

function startOfDay(localMs: number): number {
  return localMs - (((localMs % DAY_MS) + DAY_MS) % DAY_MS);
}
