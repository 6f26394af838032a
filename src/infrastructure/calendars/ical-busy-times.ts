import ICAL from 'ical.js';
import type { MsInterval } from '../../domain/calendar/busy-intervals.js';
import { DAY_MS, isValidTimeZone, wallTimeToInstant } from '../../domain/shared/zoned-time.js';

/**
 * Busy times from an iCalendar feed (RFC 5545) with ical.js (Mozilla's parser, MPL-2.0): what Google Calendar and
 * Outlook publish as a calendar's "secret address in iCal format".
 *
 * - Events are busy unless TRANSP:TRANSPARENT ("show as free") or STATUS:CANCELLED; a cancelled or transparent
 *   RECURRENCE-ID override frees just that occurrence, a moved one is busy at its new time.
 * - RRULE/RDATE recurrences are expanded (EXDATE removed) up to the window's end; at most `maxOccurrences` occurrences
 *   are looked at per feed, so a rule repeating every minute since 1990 fails the sync instead of spinning.
 * - Times are converted with the feed's own VTIMEZONE definitions (what the producer meant); a TZID without a
 *   definition that is an IANA zone uses the zone database; floating times and all-day dates are wall times of
 *   `defaultTimeZone` (the resource's location). Weekly 09:00 stays 09:00 across a DST change.
 * - VFREEBUSY components' FREEBUSY periods count too (FBTYPE other than FREE).
 * - Herald's own invitations (UID `reservation-…@herald.invalid`) are skipped: their seats are counted already.
 */
export interface IcalBusyOptions {
  /** The window, epoch ms: busy times overlapping `[from, to)` are returned (not clipped). */
  readonly from: number;
  readonly to: number;
  /** IANA zone for floating times and all-day dates. */
  readonly defaultTimeZone: string;
  readonly maxOccurrences?: number;
}

export class IcalFeedError extends Error {}

const HERALD_UID = /^reservation-.+@herald\.invalid$/;
const DEFAULT_MAX_OCCURRENCES = 200_000;

type IcalTime = InstanceType<typeof ICAL.Time>;
type IcalComponent = InstanceType<typeof ICAL.Component>;
type IcalEvent = InstanceType<typeof ICAL.Event>;

export function busyFromIcal(text: string, options: IcalBusyOptions): MsInterval[] {
  let root: IcalComponent;
  try {
    root = new ICAL.Component(ICAL.parse(text) as unknown as unknown[]);
  } catch {
    // The parser's message may quote the feed (event titles): it is not repeated.
    throw new IcalFeedError('not an iCalendar feed (it could not be parsed)');
  }
  if (root.name !== 'vcalendar') {
    const calendar = root.getFirstSubcomponent('vcalendar');
    if (!calendar) throw new IcalFeedError('not an iCalendar feed (no VCALENDAR)');
    root = calendar;
  }
  const budget = { left: options.maxOccurrences ?? DEFAULT_MAX_OCCURRENCES };
  const busy: MsInterval[] = [];
  const overlaps = (interval: MsInterval) => interval.start < options.to && interval.end > options.from;
  const push = (interval: MsInterval | null) => {
    if (interval && interval.end > interval.start && overlaps(interval)) busy.push(interval);
  };

  const masters = new Map<string, IcalEvent>();
  const exceptions: IcalEvent[] = [];
  const singles: IcalEvent[] = [];
  for (const component of root.getAllSubcomponents('vevent')) {
    let event: IcalEvent;
    try {
      event = new ICAL.Event(component);
    } catch {
      continue; // one broken event does not hide the others
    }
    const uid = event.uid ?? '';
    if (HERALD_UID.test(uid)) continue;
    if (event.isRecurrenceException()) exceptions.push(event);
    else if (event.isRecurring()) masters.set(uid, event);
    else singles.push(event);
  }
  // Overrides belong to their series: the series asks them for the occurrence they replace.
  for (const exception of exceptions) {
    const master = masters.get(exception.uid);
    if (master) master.relateException(exception);
    else singles.push(exception); // an override without its series (a partial feed): stands alone
  }

  for (const event of singles) {
    if (!isBusy(event.component)) continue;
    push(intervalOf(event.component, event.startDate, event.endDate, options.defaultTimeZone));
  }
  for (const exception of exceptions) {
    // Each override counts at its own (possibly moved) time, whatever the series' window holds.
    if (!masters.has(exception.uid) || !isBusy(exception.component)) continue;
    push(intervalOf(exception.component, exception.startDate, exception.endDate, options.defaultTimeZone));
  }
  for (const master of masters.values()) {
    if (!isBusy(master.component)) continue; // a cancelled or free series: every occurrence
    const iterator = master.iterator();
    for (let next = iterator.next(); next; next = iterator.next()) {
      if (--budget.left < 0) {
        throw new IcalFeedError(
          `a recurring event repeats too often to expand (more than ${options.maxOccurrences ?? DEFAULT_MAX_OCCURRENCES} occurrences)`,
        );
      }
      const details = master.getOccurrenceDetails(next);
      const start = instantOf(master.component, 'dtstart', details.startDate, options.defaultTimeZone);
      if (start === null) break;
      if (start >= options.to) break;
      // Replaced by an override: counted above, at the override's time.
      if (details.item !== master) continue;
      push(intervalOf(master.component, details.startDate, details.endDate, options.defaultTimeZone));
    }
  }

  for (const freebusy of root.getAllSubcomponents('vfreebusy')) {
    for (const property of freebusy.getAllProperties('freebusy')) {
      const type = String(property.getParameter('fbtype') ?? 'BUSY').toUpperCase();
      if (type === 'FREE') continue;
      for (const value of property.getValues()) {
        const period = value as InstanceType<typeof ICAL.Period>;
        try {
          const start = period.start.toUnixTime() * 1000;
          const end = period.getEnd().toUnixTime() * 1000;
          push({ start, end });
        } catch {
          // a malformed period is skipped
        }
      }
    }
  }
  return busy;
}

function isBusy(component: IcalComponent): boolean {
  const status = String(component.getFirstPropertyValue('status') ?? '').toUpperCase();
  const transp = String(component.getFirstPropertyValue('transp') ?? 'OPAQUE').toUpperCase();
  return status !== 'CANCELLED' && transp !== 'TRANSPARENT';
}

function intervalOf(
  component: IcalComponent,
  start: IcalTime,
  end: IcalTime | null | undefined,
  defaultTimeZone: string,
): MsInterval | null {
  const startMs = instantOf(component, 'dtstart', start, defaultTimeZone);
  if (startMs === null) return null;
  // No DTEND/DURATION: a date lasts a day, a date-time is a moment (busy for no time at all).
  const endMs = end
    ? instantOf(component, component.hasProperty('dtend') ? 'dtend' : 'dtstart', end, defaultTimeZone)
    : start.isDate
      ? startMs + DAY_MS
      : startMs;
  return endMs === null ? null : { start: startMs, end: endMs };
}

/**
 * The instant of an ical.js time. A zone ical.js resolved (UTC, or a VTIMEZONE of the feed) is used as is; otherwise
 * the property's TZID if it is an IANA zone, else `defaultTimeZone` (floating time, all-day date, unknown zone).
 */
function instantOf(
  component: IcalComponent,
  propertyName: string,
  time: IcalTime,
  defaultTimeZone: string,
): number | null {
  const tzid = time.zone?.tzid;
  if (!time.isDate && tzid && tzid !== 'floating') return time.toUnixTime() * 1000;
  const declared = component.getFirstProperty(propertyName)?.getParameter('tzid');
  const zone = !time.isDate && typeof declared === 'string' && isValidTimeZone(declared) ? declared : defaultTimeZone;
  const localMs = Date.UTC(
    time.year,
    time.month - 1,
    time.day,
    time.isDate ? 0 : time.hour,
    time.isDate ? 0 : time.minute,
    time.isDate ? 0 : time.second,
  );
  return wallTimeToInstant(zone, localMs);
}
