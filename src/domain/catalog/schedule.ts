import type { LocalDate, LocalTime } from '../shared/zoned-time.js';
import { formatLocalDate, parseLocalDate, parseLocalTime } from '../shared/zoned-time.js';
import { invalid } from './validation.js';

export const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** Wall-time interval `[start, end)` within one local date; `end` may be `24:00`. */
export interface TimeInterval {
  readonly start: LocalTime;
  readonly end: LocalTime;
}

/** Every weekday is present (an empty list = not working); intervals ascending and disjoint. */
export type WeeklyHours = Readonly<Record<Weekday, readonly TimeInterval[]>>;

export interface ExtraHours {
  readonly date: LocalDate;
  readonly intervals: readonly TimeInterval[];
}

/**
 * Exceptions to the weekly hours. A closed date drops that date's weekly hours; extra hours are added on top of
 * whatever is left, so "closed + extra 10:00-12:00" means "only 10:00-12:00 that day".
 */
export interface ScheduleExceptions {
  readonly closedDates: readonly LocalDate[];
  readonly extraHours: readonly ExtraHours[];
}

export interface WorkingSchedule {
  readonly weeklyHours: WeeklyHours;
  readonly exceptions: ScheduleExceptions;
}

export const NO_EXCEPTIONS: ScheduleExceptions = { closedDates: [], extraHours: [] };

/** Validates and normalises weekly hours: all seven days present, intervals sorted. Missing days mean closed. */
export function validateWeeklyHours(field: string, value: unknown): WeeklyHours {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(field, 'required', `${field} must map weekdays to lists of intervals.`);
  }
  const raw = value as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (!(WEEKDAYS as readonly string[]).includes(key)) {
      throw invalid(`${field}.${key}`, 'weekday', `${key} is not a weekday (monday ... sunday).`);
    }
  }
  const result = {} as Record<Weekday, readonly TimeInterval[]>;
  for (const day of WEEKDAYS) result[day] = validateIntervals(`${field}.${day}`, raw[day] ?? []);
  return result;
}

export function validateExceptions(field: string, value: unknown): ScheduleExceptions {
  if (value === undefined || value === null) return NO_EXCEPTIONS;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw invalid(field, 'object', `${field} must have closedDates and extraHours.`);
  }
  const raw = value as Record<string, unknown>;
  const closedRaw = raw.closedDates ?? [];
  if (!Array.isArray(closedRaw)) throw invalid(`${field}.closedDates`, 'array', 'closedDates must be a list of dates.');
  const closedDates = [
    ...new Set(closedRaw.map((date, index) => requireLocalDate(`${field}.closedDates[${index}]`, date))),
  ].sort();

  const extraRaw = raw.extraHours ?? [];
  if (!Array.isArray(extraRaw)) throw invalid(`${field}.extraHours`, 'array', 'extraHours must be a list.');
  const seen = new Set<string>();
  const extraHours = extraRaw.map((entry: unknown, index): ExtraHours => {
    const path = `${field}.extraHours[${index}]`;
    if (typeof entry !== 'object' || entry === null)
      throw invalid(path, 'object', `${path} must have date and intervals.`);
    const { date, intervals } = entry as Record<string, unknown>;
    const localDate = requireLocalDate(`${path}.date`, date);
    if (seen.has(localDate))
      throw invalid(`${path}.date`, 'unique-date', `${localDate} has extra hours twice; merge them.`);
    seen.add(localDate);
    const validated = validateIntervals(`${path}.intervals`, intervals);
    if (validated.length === 0) throw invalid(`${path}.intervals`, 'non-empty', `${path}.intervals must not be empty.`);
    return { date: localDate, intervals: validated };
  });
  extraHours.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  return { closedDates, extraHours };
}

export function validateSchedule(weeklyHours: unknown, exceptions: unknown): WorkingSchedule {
  return {
    weeklyHours: validateWeeklyHours('weeklyHours', weeklyHours),
    exceptions: validateExceptions('exceptions', exceptions),
  };
}

function requireLocalDate(field: string, value: unknown): LocalDate {
  const localMs = parseLocalDate(value);
  if (localMs === null) throw invalid(field, 'local-date', `${field} must be a date YYYY-MM-DD.`);
  return formatLocalDate(localMs);
}

function validateIntervals(field: string, value: unknown): TimeInterval[] {
  if (!Array.isArray(value)) throw invalid(field, 'array', `${field} must be a list of {start, end} intervals.`);
  const parsed = value.map((entry: unknown, index) => {
    const path = `${field}[${index}]`;
    if (typeof entry !== 'object' || entry === null) throw invalid(path, 'object', `${path} must be {start, end}.`);
    const { start, end } = entry as Record<string, unknown>;
    const startMinutes = parseLocalTime(start);
    if (startMinutes === null)
      throw invalid(`${path}.start`, 'local-time', `${path}.start must be HH:MM (00:00-23:59).`);
    const endMinutes = parseLocalTime(end, true);
    if (endMinutes === null) throw invalid(`${path}.end`, 'local-time', `${path}.end must be HH:MM (00:01-24:00).`);
    if (endMinutes <= startMinutes) throw invalid(path, 'start-before-end', `${path} must end after it starts.`);
    return { start: start as string, end: end as string, startMinutes, endMinutes };
  });
  parsed.sort((a, b) => a.startMinutes - b.startMinutes);
  for (let index = 1; index < parsed.length; index++) {
    const previous = parsed[index - 1];
    const current = parsed[index];
    if (previous && current && current.startMinutes < previous.endMinutes) {
      throw invalid(
        field,
        'non-overlapping',
        `${field} has overlapping intervals ${previous.start}-${previous.end} and ${current.start}-${current.end}.`,
      );
    }
  }
  return parsed.map(({ start, end }) => ({ start, end }));
}

/** The wall-time intervals (minutes after midnight) a schedule has on a local date, from weekly hours + exceptions. */
export function intervalsOnDate(
  schedule: WorkingSchedule,
  date: LocalDate,
  weekday: Weekday,
): Array<{ start: number; end: number }> {
  const result: Array<{ start: number; end: number }> = [];
  if (!schedule.exceptions.closedDates.includes(date)) {
    for (const interval of schedule.weeklyHours[weekday]) result.push(toMinutes(interval));
  }
  for (const extra of schedule.exceptions.extraHours) {
    if (extra.date === date) for (const interval of extra.intervals) result.push(toMinutes(interval));
  }
  return result;
}

function toMinutes(interval: TimeInterval): { start: number; end: number } {
  return { start: parseLocalTime(interval.start) ?? 0, end: parseLocalTime(interval.end, true) ?? 0 };
}
