import type { Resource } from '../catalog/resource.decider.js';
import type { WorkingSchedule, Weekday } from '../catalog/schedule.js';
import { WEEKDAYS } from '../catalog/schedule.js';
import type { Service } from '../catalog/service.decider.js';
import { invalid, requireInstant, requireInteger, requireTimeZone } from '../catalog/validation.js';
import { firstOverlap, normalizeBusy, subtractIntervals, type MsInterval } from '../calendar/busy-intervals.js';
import { IllegalStateError, ValidationError } from '../shared/errors.js';
import type { InstantRange, OffsetSegment } from '../shared/zoned-time.js';
import {
  DAY_MS,
  MINUTE_MS,
  formatInSegments,
  formatInZone,
  formatLocalDate,
  instantsOfWallTime,
  instantsOfWallTimeRange,
  isoWeekday,
  localMsAt,
  offsetSegments,
  parseInstant,
  parseLocalTime,
  toIsoInstant,
} from '../shared/zoned-time.js';

/**
 * Availability, as a pure function of the catalog, the bookings and `now`.
 *
 * Definitions (the brute-force oracle in the tests implements them minute by minute):
 * - A resource *works* at an instant when the location's wall clock then shows a time inside one of the intervals
 *   its schedule has for the wall date then (weekly hours unless the date is closed, plus extra hours). Working
 *   instants that touch form one *window*, also across midnight and across adjacent intervals.
 * - *Slot starts* are the wall times `interval.start + k * slotIntervalMinutes` before `interval.end`, per interval
 *   and date, turned into instants: a wall time in a spring-forward gap has none, one in a fall-back overlap has
 *   two. So 09:00 stays 09:00 local in every week.
 * - A slot start `s` is *bookable* when `[s, s + duration + buffer)` lies in one window, `s >= now`, and the seats
 *   still free there cover the party. A resource runs one slot at a time (the rule of the resource-day inventory,
 *   docs/decisions/0006): a usage that overlaps the span and is not the same slot (same start, same service) leaves
 *   no seat; otherwise the free seats are the capacity minus the seats of the usages of that same slot.
 * - *Busy times* of a resource's linked external calendars are taken out of its windows (issue 12): a slot must fit
 *   in what is left, so a busy time removes every slot it touches. They come from the last sync, a moment behind.
 */

/** The service fields availability needs; a catalog `Service` fits. */
export type AvailabilityService = Pick<
  Service,
  'durationMinutes' | 'bufferMinutes' | 'seatsPerSlot' | 'slotIntervalMinutes' | 'resourceIds' | 'maxPartySize'
>;

/** The resource fields availability needs; a catalog `Resource` fits. Pass active resources only. */
export type ResourceCalendar = Pick<Resource, 'resourceId'> & WorkingSchedule;

/**
 * Seats a booking (or hold) takes on a resource over `[start, end)`. `end` is the end of the booked service plus its
 * buffer, i.e. `occupiedUntil` of a `SlotSeatsHeld`. Usages that touch but do not overlap a slot do not count.
 */
export interface SeatUsage {
  readonly resourceId: string;
  readonly start: string;
  readonly end: string;
  readonly seats: number;
  /** The service of the slot the seats were taken on; seats are shared only within one service's slot. */
  readonly serviceId?: string | null;
}

/** A time a resource's external calendar says it is busy: `[start, end)`, ISO instants. */
export interface ResourceBusy {
  readonly resourceId: string;
  readonly start: string;
  readonly end: string;
  /** Which linked calendar said so (named by a refusal). */
  readonly calendarId?: string;
}

export interface AvailabilityQuery {
  readonly service: AvailabilityService;
  /** The service's id, matched against `SeatUsage.serviceId` (both absent = the same service). */
  readonly serviceId?: string | null;
  /** IANA zone of the service's location. */
  readonly timeZone: string;
  readonly resources: readonly ResourceCalendar[];
  readonly bookings: readonly SeatUsage[];
  /** Busy times of the resources' linked calendars; absent: none. */
  readonly busy?: readonly ResourceBusy[];
  /** Slots starting in `[from, to)`. */
  readonly from: string;
  readonly to: string;
  readonly now: string;
  /** Only this resource (must be one of the service's). */
  readonly resourceId?: string;
  /** Only slots with at least this many free seats; default 1. */
  readonly partySize?: number;
  /** Also list slots with fewer free seats than `partySize` (e.g. to offer the waitlist); default false. */
  readonly includeFull?: boolean;
}

export interface AvailableSlot {
  readonly resourceId: string;
  /** ISO instant, UTC. */
  readonly start: string;
  /** `start + durationMinutes`, ISO instant, UTC. The buffer is not part of what the customer books. */
  readonly end: string;
  /** `start + durationMinutes + bufferMinutes`: how long the resource is taken. */
  readonly occupiedUntil: string;
  /** The start as the location's wall clock shows it, with offset: `2025-03-30T09:00:00+02:00`. */
  readonly localStart: string;
  readonly timeZone: string;
  readonly capacity: number;
  readonly remainingSeats: number;
}

/** The longest range one query may span; a month view plus margins fits easily. */
export const MAX_AVAILABILITY_RANGE_DAYS = 93;

export function computeAvailability(query: AvailabilityQuery): AvailableSlot[] {
  const timeZone = requireTimeZone('timeZone', query.timeZone);
  const fromMs = parseInstantField('from', query.from);
  const toMs = parseInstantField('to', query.to);
  const nowMs = parseInstantField('now', query.now);
  if (toMs <= fromMs) throw invalid('to', 'after-from', 'to must be after from.');
  if (toMs - fromMs > MAX_AVAILABILITY_RANGE_DAYS * DAY_MS) {
    throw invalid('to', 'range-too-long', `A query spans at most ${MAX_AVAILABILITY_RANGE_DAYS} days.`, {
      maxDays: MAX_AVAILABILITY_RANGE_DAYS,
    });
  }
  const service = query.service;
  const partySize = requireInteger('partySize', query.partySize ?? 1, 1, Number.MAX_SAFE_INTEGER);
  if (partySize > Math.min(service.maxPartySize, service.seatsPerSlot)) {
    throw invalid('partySize', 'party-too-large', `The service takes parties of at most ${service.maxPartySize}.`, {
      maxPartySize: service.maxPartySize,
    });
  }
  if (query.resourceId !== undefined && !service.resourceIds.includes(query.resourceId)) {
    throw invalid('resourceId', 'unknown-resource', `Resource ${query.resourceId} does not deliver this service.`);
  }
  const occupiedMs = (service.durationMinutes + service.bufferMinutes) * MINUTE_MS;
  const calendarRange = dateRange(timeZone, fromMs, toMs, occupiedMs);
  const usagesByResource = groupUsages(query.bookings);
  const busyByResource = groupBusy(query.busy ?? []);
  const serviceId = query.serviceId ?? null;

  const slots: AvailableSlot[] = [];
  for (const resource of query.resources) {
    if (!service.resourceIds.includes(resource.resourceId)) continue;
    if (query.resourceId !== undefined && resource.resourceId !== query.resourceId) continue;
    const calendar = buildCalendar(resource, service.slotIntervalMinutes, calendarRange);
    const windows = withoutBusy(calendar.windows, busyByResource.get(resource.resourceId));
    const usages = usagesByResource.get(resource.resourceId) ?? EMPTY_USAGES;
    for (const start of calendar.slotStarts) {
      if (start < fromMs || start >= toMs || start < nowMs) continue;
      if (!fitsInWindow(windows, start, start + occupiedMs)) continue;
      const remainingSeats = Math.max(
        0,
        service.seatsPerSlot - seatsTaken(usages, start, start + occupiedMs, serviceId),
      );
      if (remainingSeats < partySize && !query.includeFull) continue;
      slots.push(toSlot(resource.resourceId, start, service, calendarRange, remainingSeats));
    }
  }
  slots.sort((a, b) =>
    a.start < b.start
      ? -1
      : a.start > b.start
        ? 1
        : a.resourceId < b.resourceId
          ? -1
          : a.resourceId > b.resourceId
            ? 1
            : 0,
  );
  return slots;
}

// Slot validation at booking time ---------------------------------------------------------------------------------

export const SLOT_RULES = [
  'unknown-resource',
  'party-too-large',
  'in-the-past',
  'closed-day',
  'outside-working-hours',
  'duration-does-not-fit',
  'not-a-slot-start',
] as const;
export type SlotRule = (typeof SLOT_RULES)[number];

export interface SlotRequest {
  readonly service: AvailabilityService;
  readonly timeZone: string;
  /** The resources known to the catalog (at least the requested one, if it exists). */
  readonly resources: readonly ResourceCalendar[];
  readonly resourceId: string;
  readonly start: string;
  readonly partySize: number;
  readonly now: string;
  /** Busy times of the resource's linked calendars; absent: none. */
  readonly busy?: readonly ResourceBusy[];
}

/** A slot that passed `validateSlot`: what the reservation and the slot inventory are created from. */
export type BookableSlot = Omit<AvailableSlot, 'remainingSeats'>;

/**
 * Checks a requested slot against the calendar (not against the seats: the slot inventory owns those). Throws a
 * ValidationError with code `slot-not-bookable` and `details: { field, rule }`, rule one of SLOT_RULES, checked in
 * that order; a malformed field is an `invalid-input` ValidationError as everywhere. A slot on the calendar that a
 * busy time of the resource's linked external calendar overlaps is an IllegalStateError `resource-calendar-busy`
 * (409, rule `calendar-busy`): the request is valid, the resource is taken elsewhere.
 */
export function validateSlot(request: SlotRequest): BookableSlot {
  const timeZone = requireTimeZone('timeZone', request.timeZone);
  const startMs = parseInstantField('start', request.start);
  const nowMs = parseInstantField('now', request.now);
  const service = request.service;
  const resource = request.resources.find((candidate) => candidate.resourceId === request.resourceId);
  if (!resource || !service.resourceIds.includes(request.resourceId)) {
    throw notBookable(
      'resourceId',
      'unknown-resource',
      `Resource ${request.resourceId} does not deliver this service.`,
    );
  }
  const partySize = requireInteger('partySize', request.partySize, 1, Number.MAX_SAFE_INTEGER);
  const maxParty = Math.min(service.maxPartySize, service.seatsPerSlot);
  if (partySize > maxParty) {
    throw notBookable('partySize', 'party-too-large', `The service takes parties of at most ${maxParty}.`, {
      maxPartySize: maxParty,
    });
  }
  if (startMs < nowMs) throw notBookable('start', 'in-the-past', 'The slot starts in the past.');

  const occupiedMs = (service.durationMinutes + service.bufferMinutes) * MINUTE_MS;
  const range = dateRange(timeZone, startMs, startMs + 1, occupiedMs);
  const calendar = buildCalendar(resource, service.slotIntervalMinutes, range);
  const window = windowContaining(calendar.windows, startMs);
  if (!window) {
    const localDate = startOfLocalDay(localMsAt(timeZone, startMs));
    if (intervalsOn(compileSchedule(resource), localDate).length === 0) {
      throw notBookable(
        'start',
        'closed-day',
        `${resource.resourceId} does not work on ${formatLocalDate(localDate)}.`,
      );
    }
    throw notBookable('start', 'outside-working-hours', 'The slot starts outside working hours.');
  }
  if (startMs + occupiedMs > window.end) {
    throw notBookable('start', 'duration-does-not-fit', 'The service does not fit before the end of working hours.', {
      workingUntil: toIsoInstant(window.end),
    });
  }
  if (!calendar.slotStarts.includes(startMs)) {
    throw notBookable('start', 'not-a-slot-start', `Slots start every ${service.slotIntervalMinutes} minutes.`);
  }
  const busy = (request.busy ?? []).filter((b) => b.resourceId === resource.resourceId);
  const blocking = busy.find((b) => {
    const from = parseInstant(b.start);
    const until = parseInstant(b.end);
    return from !== null && until !== null && from < startMs + occupiedMs && until > startMs;
  });
  if (blocking) {
    throw new IllegalStateError(
      'resource-calendar-busy',
      `${resource.resourceId} is busy in its linked calendar from ${blocking.start} to ${blocking.end}.`,
      {
        field: 'start',
        rule: 'calendar-busy',
        resourceId: resource.resourceId,
        busyStart: blocking.start,
        busyEnd: blocking.end,
        ...(blocking.calendarId !== undefined ? { calendarId: blocking.calendarId } : {}),
      },
    );
  }
  const { remainingSeats: _unknown, ...slot } = toSlot(resource.resourceId, startMs, service, range, 0);
  return slot;
}

function notBookable(
  field: string,
  rule: SlotRule,
  message: string,
  extra: Record<string, unknown> = {},
): ValidationError {
  return new ValidationError('slot-not-bookable', message, { field, rule, ...extra });
}

// Calendar construction -------------------------------------------------------------------------------------------

interface DateRange {
  readonly timeZone: string;
  readonly segments: readonly OffsetSegment[];
  /** Local midnights whose intervals can hold a slot start / can hold working time a slot needs. */
  readonly anchorDays: readonly number[];
  readonly windowDays: readonly number[];
  readonly isoCache: Map<number, string>;
  readonly localCache: Map<number, string>;
}

interface Calendar {
  /** Ascending, disjoint, never touching. */
  readonly windows: readonly InstantRange[];
  /** Ascending, unique. */
  readonly slotStarts: readonly number[];
}

interface CompiledSchedule {
  readonly weekly: ReadonlyArray<ReadonlyArray<{ start: number; end: number }>>;
  readonly closed: ReadonlySet<string>;
  readonly extra: ReadonlyMap<string, ReadonlyArray<{ start: number; end: number }>>;
}

function dateRange(timeZone: string, fromMs: number, toMs: number, occupiedMs: number): DateRange {
  const firstDay = startOfLocalDay(localMsAt(timeZone, fromMs)) - DAY_MS;
  const lastAnchorDay = startOfLocalDay(localMsAt(timeZone, toMs)) + DAY_MS;
  const lastWindowDay = startOfLocalDay(localMsAt(timeZone, toMs + occupiedMs)) + DAY_MS;
  const days = (last: number) => {
    const result: number[] = [];
    for (let day = firstDay; day <= last; day += DAY_MS) result.push(day);
    return result;
  };
  // Wall time and instants differ by at most ~26 hours; two days of margin cover every zone.
  const segments = offsetSegments(timeZone, firstDay - 2 * DAY_MS, lastWindowDay + 3 * DAY_MS);
  return {
    timeZone,
    segments,
    anchorDays: days(lastAnchorDay),
    windowDays: days(lastWindowDay),
    isoCache: new Map(),
    localCache: new Map(),
  };
}

function buildCalendar(resource: WorkingSchedule, slotIntervalMinutes: number, range: DateRange): Calendar {
  const schedule = compileSchedule(resource);
  const pieces: InstantRange[] = [];
  for (const day of range.windowDays) {
    for (const interval of intervalsOn(schedule, day)) {
      pieces.push(
        ...instantsOfWallTimeRange(range.segments, day + interval.start * MINUTE_MS, day + interval.end * MINUTE_MS),
      );
    }
  }
  pieces.sort((a, b) => a.start - b.start);
  const windows: InstantRange[] = [];
  for (const piece of pieces) {
    const last = windows[windows.length - 1];
    if (last && piece.start <= last.end)
      windows[windows.length - 1] = { start: last.start, end: Math.max(last.end, piece.end) };
    else windows.push(piece);
  }

  const starts = new Set<number>();
  for (const day of range.anchorDays) {
    for (const interval of intervalsOn(schedule, day)) {
      for (let minute = interval.start; minute < interval.end; minute += slotIntervalMinutes) {
        for (const instant of instantsOfWallTime(range.segments, day + minute * MINUTE_MS)) starts.add(instant);
      }
    }
  }
  return { windows, slotStarts: [...starts].sort((a, b) => a - b) };
}

function compileSchedule(schedule: WorkingSchedule): CompiledSchedule {
  const minutes = (interval: { start: string; end: string }) => ({
    start: parseLocalTime(interval.start) ?? 0,
    end: parseLocalTime(interval.end, true) ?? 0,
  });
  return {
    weekly: WEEKDAYS.map((day: Weekday) => (schedule.weeklyHours[day] ?? []).map(minutes)),
    closed: new Set(schedule.exceptions.closedDates),
    extra: new Map(schedule.exceptions.extraHours.map((extra) => [extra.date, extra.intervals.map(minutes)])),
  };
}

/** Wall-time intervals (minutes after midnight) on the local date starting at `day` (local ms of midnight). */
function intervalsOn(schedule: CompiledSchedule, day: number): ReadonlyArray<{ start: number; end: number }> {
  const date = formatLocalDate(day);
  const weekly = schedule.closed.has(date) ? [] : (schedule.weekly[isoWeekday(day) - 1] ?? []);
  const extra = schedule.extra.get(date);
  return extra ? [...weekly, ...extra] : weekly;
}

function windowContaining(windows: readonly InstantRange[], instant: number): InstantRange | undefined {
  let lo = 0;
  let hi = windows.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const window = windows[mid];
    if (!window) break;
    if (instant < window.start) hi = mid - 1;
    else if (instant >= window.end) lo = mid + 1;
    else return window;
  }
  return undefined;
}

function fitsInWindow(windows: readonly InstantRange[], start: number, end: number): boolean {
  const window = windowContaining(windows, start);
  return window !== undefined && end <= window.end;
}

// Busy times ---------------------------------------------------------------------------------------------------------

function groupBusy(busy: readonly ResourceBusy[]): Map<string, MsInterval[]> {
  const grouped = new Map<string, MsInterval[]>();
  for (const b of busy) {
    const start = parseInstant(b.start);
    const end = parseInstant(b.end);
    if (start === null || end === null || end <= start) continue;
    const list = grouped.get(b.resourceId) ?? [];
    list.push({ start, end });
    grouped.set(b.resourceId, list);
  }
  const all = { start: -Infinity, end: Infinity };
  return new Map([...grouped].map(([resourceId, list]) => [resourceId, normalizeBusy(list, all)]));
}

/** The resource's windows with its busy times taken out (the windows when it has none). */
function withoutBusy(
  windows: readonly InstantRange[],
  busy: readonly MsInterval[] | undefined,
): readonly InstantRange[] {
  return busy && busy.length > 0 && firstOverlap(busy, windows[0]?.start ?? 0, windows.at(-1)?.end ?? 0)
    ? subtractIntervals(windows, busy)
    : windows;
}

// Seats -------------------------------------------------------------------------------------------------------------

interface ParsedUsage {
  readonly start: number;
  readonly end: number;
  readonly seats: number;
  readonly serviceId: string | null;
}

interface ResourceUsages {
  /** Ascending by start. */
  readonly usages: readonly ParsedUsage[];
  readonly longestMs: number;
}

const EMPTY_USAGES: ResourceUsages = { usages: [], longestMs: 0 };

function groupUsages(bookings: readonly SeatUsage[]): Map<string, ResourceUsages> {
  const grouped = new Map<string, ParsedUsage[]>();
  bookings.forEach((booking, index) => {
    const start = parseInstantField(`bookings[${index}].start`, booking.start);
    const end = parseInstantField(`bookings[${index}].end`, booking.end);
    const seats = requireInteger(`bookings[${index}].seats`, booking.seats, 0, Number.MAX_SAFE_INTEGER);
    if (end <= start || seats === 0) return;
    const list = grouped.get(booking.resourceId) ?? [];
    list.push({ start, end, seats, serviceId: booking.serviceId ?? null });
    grouped.set(booking.resourceId, list);
  });
  const result = new Map<string, ResourceUsages>();
  for (const [resourceId, usages] of grouped) {
    usages.sort((a, b) => a.start - b.start);
    result.set(resourceId, { usages, longestMs: Math.max(...usages.map((usage) => usage.end - usage.start)) });
  }
  return result;
}

/**
 * Seats taken on the slot `[start, end)` of `serviceId`: every seat (reported as MAX_SAFE_INTEGER) when another slot
 * overlaps it, since a resource runs one slot at a time; else the seats of the usages of this very slot.
 */
function seatsTaken(resourceUsages: ResourceUsages, start: number, end: number, serviceId: string | null): number {
  const { usages, longestMs } = resourceUsages;
  if (usages.length === 0) return 0;
  // First usage that can still reach `start`: none starting before `start - longestMs` can.
  let lo = 0;
  let hi = usages.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((usages[mid]?.start ?? Infinity) <= start - longestMs) lo = mid + 1;
    else hi = mid;
  }
  let taken = 0;
  for (let index = lo; index < usages.length; index++) {
    const usage = usages[index];
    if (!usage || usage.start >= end) break;
    if (usage.end <= start) continue;
    if (usage.start !== start || usage.serviceId !== serviceId) return Number.MAX_SAFE_INTEGER;
    taken += usage.seats;
  }
  return taken;
}

// Helpers -----------------------------------------------------------------------------------------------------------

function toSlot(
  resourceId: string,
  start: number,
  service: AvailabilityService,
  range: DateRange,
  remainingSeats: number,
): AvailableSlot {
  return {
    resourceId,
    start: cachedIso(range, start),
    end: cachedIso(range, start + service.durationMinutes * MINUTE_MS),
    occupiedUntil: cachedIso(range, start + (service.durationMinutes + service.bufferMinutes) * MINUTE_MS),
    localStart: cachedLocal(range, start),
    timeZone: range.timeZone,
    capacity: service.seatsPerSlot,
    remainingSeats,
  };
}

// Resources of a service share their slot grid, and one slot's end is often the next one's start: formatting each
// instant once per query saves most of the cost of a month view (the caches live and die with one DateRange).
function cachedIso(range: DateRange, epochMs: number): string {
  let text = range.isoCache.get(epochMs);
  if (text === undefined) {
    text = toIsoInstant(epochMs);
    range.isoCache.set(epochMs, text);
  }
  return text;
}

function cachedLocal(range: DateRange, epochMs: number): string {
  let text = range.localCache.get(epochMs);
  if (text === undefined) {
    text = formatInSegments(range.segments, epochMs) ?? formatInZone(range.timeZone, epochMs);
    range.localCache.set(epochMs, text);
  }
  return text;
}

function parseInstantField(field: string, value: unknown): number {
  return parseInstant(requireInstant(field, value)) ?? NaN;
}

function startOfLocalDay(localMs: number): number {
  return localMs - mod(localMs, DAY_MS);
}

function mod(value: number, divisor: number): number {
  return ((value % divisor) + divisor) % divisor;
}
