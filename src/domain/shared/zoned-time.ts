/**
 * Wall-clock time in IANA zones, computed with the built-in `Intl.DateTimeFormat` only (no clock, no library).
 * For a given ICU/tzdata build every function here is deterministic, so the domain stays pure.
 *
 * Vocabulary:
 * - an *instant* is epoch milliseconds (UTC), serialised as ISO-8601 with `Z`;
 * - a *wall time* is what a clock on the wall of the location shows; we encode it as "local milliseconds": the
 *   epoch milliseconds the same Y-M-D h:m:s would have in UTC (`Date.UTC(...)`). Wall times are only ever compared
 *   with each other, never with instants.
 * - a *local date* is `YYYY-MM-DD`, a *local time* is `HH:MM`.
 *
 * Daylight-saving changes make the wall-time -> instant mapping partial (a spring-forward gap has no instant) and
 * multivalued (a fall-back overlap has two). `offsetSegments` + `instantsOfWallTime(Range)` give the exact preimage;
 * `wallTimeToInstant` picks one instant the way Temporal's `disambiguation` option does.
 */

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

export type LocalDate = string;
export type LocalTime = string;

export interface WallClock {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

/** A stretch of time `[start, end)` (epoch ms) during which the zone keeps one UTC offset. */
export interface OffsetSegment {
  readonly start: number;
  readonly end: number;
  readonly offsetMs: number;
}

/** `[start, end)` in epoch ms. */
export interface InstantRange {
  readonly start: number;
  readonly end: number;
}

// Creating an Intl.DateTimeFormat costs ~100x a format call, so formatters are memoised per zone. The cache holds
// no state that could change an answer: same zone in, same formatter out.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

// Building a DateTimeFormat per check was a measurable share of booking and planning (docs/benchmarks.md).
const normalizedZones = new Map<string, string | null>();

/**
 * The zone name to store, or `null` when `Intl` does not know the zone. Only the letter case is normalised
 * (`europe/oslo` -> `Europe/Oslo`): ICU may resolve a valid name to an alias (`Asia/Kolkata` -> `Asia/Calcutta`,
 * `CET` -> `Europe/Brussels`), and we keep what the user chose. Offsets such as `+01:00` are not IANA zones.
 */
export function normalizeTimeZone(timeZone: string): string | null {
  if (typeof timeZone !== 'string' || timeZone.trim() === '' || /^[+-]/.test(timeZone)) return null;
  const known = normalizedZones.get(timeZone);
  if (known !== undefined) return known;
  let normalized: string | null;
  try {
    const resolved = new Intl.DateTimeFormat('en-US', { timeZone }).resolvedOptions().timeZone;
    normalized = resolved.toLowerCase() === timeZone.toLowerCase() ? resolved : timeZone;
  } catch {
    normalized = null;
  }
  // Bounded, since names come from requests: cleared rather than grown without limit.
  if (normalizedZones.size >= 1_024) normalizedZones.clear();
  normalizedZones.set(timeZone, normalized);
  return normalized;
}

export function isValidTimeZone(timeZone: string): boolean {
  return normalizeTimeZone(timeZone) !== null;
}

function floorToSecond(epochMs: number): number {
  return epochMs - (((epochMs % 1000) + 1000) % 1000);
}

/** What a wall clock in `timeZone` shows at the instant (second precision). */
export function wallClockAt(timeZone: string, epochMs: number): WallClock {
  const fields: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(epochMs)) {
    if (part.type !== 'literal') fields[part.type] = Number(part.value);
  }
  return {
    year: fields.year ?? NaN,
    month: fields.month ?? NaN,
    day: fields.day ?? NaN,
    // Some ICU builds print midnight as 24 even with h23.
    hour: (fields.hour ?? NaN) % 24,
    minute: fields.minute ?? NaN,
    second: fields.second ?? NaN,
  };
}

export function wallClockToLocalMs(wall: WallClock): number {
  return Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
}

/** The wall time (local ms) at an instant. */
export function localMsAt(timeZone: string, epochMs: number): number {
  return wallClockToLocalMs(wallClockAt(timeZone, epochMs)) + (epochMs - floorToSecond(epochMs));
}

/** UTC offset of the zone at the instant, in milliseconds (east positive). */
export function offsetMsAt(timeZone: string, epochMs: number): number {
  const second = floorToSecond(epochMs);
  return wallClockToLocalMs(wallClockAt(timeZone, second)) - second;
}

// Probing every 3 hours finds every transition of the modern tz database; two transitions that cancel out within
// 3 hours do not occur there.
const PROBE_STEP_MS = 3 * HOUR_MS;

/** The offsets the zone keeps over `[startMs, endMs)`, split at each transition (found exactly, to the ms). */
export function offsetSegments(timeZone: string, startMs: number, endMs: number): OffsetSegment[] {
  const segments: OffsetSegment[] = [];
  let segmentStart = startMs;
  let offset = offsetMsAt(timeZone, startMs);
  let probe = startMs;
  while (probe < endMs) {
    const next = Math.min(probe + PROBE_STEP_MS, endMs);
    const nextOffset = offsetMsAt(timeZone, next);
    if (nextOffset !== offset) {
      let lo = probe; // offset(lo) === offset
      let hi = next; // offset(hi) !== offset
      while (hi - lo > 1) {
        const mid = lo + Math.floor((hi - lo) / 2);
        if (offsetMsAt(timeZone, mid) === offset) lo = mid;
        else hi = mid;
      }
      segments.push({ start: segmentStart, end: hi, offsetMs: offset });
      segmentStart = hi;
      offset = offsetMsAt(timeZone, hi);
      // A second transition inside (hi, next] is picked up by probing again from hi.
      probe = hi;
      continue;
    }
    probe = next;
  }
  segments.push({ start: segmentStart, end: endMs, offsetMs: offset });
  return segments;
}

/** Every instant (0, 1 or 2 of them, ascending) whose wall time is `localMs`, within the segments' span. */
export function instantsOfWallTime(segments: readonly OffsetSegment[], localMs: number): number[] {
  const instants: number[] = [];
  for (const segment of segments) {
    const instant = localMs - segment.offsetMs;
    if (instant >= segment.start && instant < segment.end) instants.push(instant);
  }
  return instants;
}

/**
 * Every instant whose wall time lies in `[startLocalMs, endLocalMs)`, as ascending disjoint ranges. A gap shortens
 * the result; an overlap can split it in two (02:00-02:30 on a fall-back night happens twice).
 */
export function instantsOfWallTimeRange(
  segments: readonly OffsetSegment[],
  startLocalMs: number,
  endLocalMs: number,
): InstantRange[] {
  const ranges: InstantRange[] = [];
  for (const segment of segments) {
    const start = Math.max(startLocalMs - segment.offsetMs, segment.start);
    const end = Math.min(endLocalMs - segment.offsetMs, segment.end);
    if (start >= end) continue;
    const last = ranges[ranges.length - 1];
    if (last && start <= last.end) ranges[ranges.length - 1] = { start: last.start, end: Math.max(last.end, end) };
    else ranges.push({ start, end });
  }
  return ranges;
}

/**
 * Temporal's disambiguation: in a gap `compatible`/`later` move forward by the gap's length and `earlier` backward;
 * in an overlap `compatible`/`earlier` take the first instant and `later` the second; `reject` returns null for both.
 */
export type Disambiguation = 'compatible' | 'earlier' | 'later' | 'reject';

/** The instant a wall time denotes in the zone (see Disambiguation), or null when rejected. */
export function wallTimeToInstant(
  timeZone: string,
  localMs: number,
  disambiguation: Disambiguation = 'compatible',
): number | null {
  const segments = offsetSegments(timeZone, localMs - 2 * DAY_MS, localMs + 2 * DAY_MS);
  const instants = instantsOfWallTime(segments, localMs);
  const [first, second] = instants;
  if (first !== undefined && second === undefined) return first;
  if (first !== undefined && second !== undefined) {
    if (disambiguation === 'reject') return null;
    return disambiguation === 'later' ? second : first;
  }
  if (disambiguation === 'reject') return null;
  // In a gap: the offsets before and after the transition that skipped this wall time.
  const before = offsetMsAt(timeZone, localMs - DAY_MS);
  const after = offsetMsAt(timeZone, localMs + DAY_MS);
  return disambiguation === 'earlier' ? localMs - after : localMs - before;
}

/** `+02:00`, `-03:30`, `+00:00`. */
export function formatOffset(offsetMs: number): string {
  const sign = offsetMs < 0 ? '-' : '+';
  const totalMinutes = Math.trunc(Math.abs(offsetMs) / MINUTE_MS);
  return `${sign}${pad2(Math.floor(totalMinutes / 60))}:${pad2(totalMinutes % 60)}`;
}

/** The instant as local ISO-8601 with its offset in the zone: `2025-03-30T09:00:00+02:00`. */
export function formatInZone(timeZone: string, epochMs: number): string {
  const wall = wallClockAt(timeZone, epochMs);
  const offset = wallClockToLocalMs(wall) - floorToSecond(epochMs);
  return `${formatLocalDate(wall)}T${pad2(wall.hour)}:${pad2(wall.minute)}:${pad2(wall.second)}${formatOffset(offset)}`;
}

/** Like formatInZone, for an instant inside the segments: plain arithmetic, no Intl call. */
export function formatInSegments(segments: readonly OffsetSegment[], epochMs: number): string | null {
  const segment = segments.find((candidate) => candidate.start <= epochMs && epochMs < candidate.end);
  if (!segment) return null;
  return `${new Date(epochMs + segment.offsetMs).toISOString().slice(0, 19)}${formatOffset(segment.offsetMs)}`;
}

export function toIsoInstant(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

const INSTANT_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:(Z)|([+-])(\d{2}):(\d{2}))$/;

/**
 * Epoch ms of a strict ISO-8601 instant that carries its zone (`Z` or `±HH:MM`); null for anything else, including
 * a local time without a zone. Parsed by hand: `Date.parse` accepts implementation-defined formats.
 */
export function parseInstant(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const match = INSTANT_PATTERN.exec(value);
  if (!match) return null;
  const [, y, mo, d, h, mi, s, fraction, zulu, sign, oh, om] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = s === undefined ? 0 : Number(s);
  if (!isValidYmd(year, month, day) || hour > 23 || minute > 59 || second > 59) return null;
  let offsetMs = 0;
  if (zulu === undefined) {
    const offsetHours = Number(oh);
    const offsetMinutes = Number(om);
    if (offsetHours > 23 || offsetMinutes > 59) return null;
    offsetMs = (sign === '-' ? -1 : 1) * (offsetHours * HOUR_MS + offsetMinutes * MINUTE_MS);
  }
  const millis = fraction === undefined ? 0 : Number(fraction.slice(0, 3).padEnd(3, '0'));
  return Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMs;
}

/** The canonical `...Z` form of an instant string, or null when it is not a zoned ISO-8601 instant. */
export function normalizeInstant(value: unknown): string | null {
  const epochMs = parseInstant(value);
  return epochMs === null ? null : toIsoInstant(epochMs);
}

const LOCAL_DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Local ms of the date's midnight, or null when not a real `YYYY-MM-DD` date. */
export function parseLocalDate(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const match = LOCAL_DATE_PATTERN.exec(value);
  if (!match) return null;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  return isValidYmd(year, month, day) ? Date.UTC(year, month - 1, day) : null;
}

const LOCAL_TIME_PATTERN = /^([01]\d|2[0-4]):([0-5]\d)$/;

/** Minutes after midnight of `HH:MM` (`24:00` -> 1440 when `allowEndOfDay`), or null. */
export function parseLocalTime(value: unknown, allowEndOfDay = false): number | null {
  if (typeof value !== 'string') return null;
  const match = LOCAL_TIME_PATTERN.exec(value);
  if (!match) return null;
  const minutes = Number(match[1]) * 60 + Number(match[2]);
  if (minutes > 1440 || (minutes === 1440 && !allowEndOfDay)) return null;
  return minutes;
}

export function formatLocalTime(minutes: number): LocalTime {
  return `${pad2(Math.floor(minutes / 60))}:${pad2(minutes % 60)}`;
}

/** `YYYY-MM-DD` of a local ms value or a wall clock. */
export function formatLocalDate(value: number | Pick<WallClock, 'year' | 'month' | 'day'>): LocalDate {
  if (typeof value === 'number') {
    const date = new Date(value);
    return `${date.getUTCFullYear()}-${pad2(date.getUTCMonth() + 1)}-${pad2(date.getUTCDate())}`;
  }
  return `${value.year}-${pad2(value.month)}-${pad2(value.day)}`;
}

/** ISO weekday of a local ms value: 1 = Monday ... 7 = Sunday. */
export function isoWeekday(localMs: number): number {
  const days = Math.floor(localMs / DAY_MS);
  // 1970-01-01 was a Thursday (4).
  return ((((days + 3) % 7) + 7) % 7) + 1;
}

function isValidYmd(year: number, month: number, day: number): boolean {
  if (year < 1900 || month < 1 || month > 12 || day < 1) return false;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return day <= daysInMonth;
}

function pad2(value: number): string {
  return String(value).padStart(2, '0');
}
