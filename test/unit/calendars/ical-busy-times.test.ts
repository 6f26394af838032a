import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { normalizeBusy, toBusyIntervals } from '../../../src/domain/calendar/busy-intervals.js';
import { busyFromIcal, IcalFeedError } from '../../../src/infrastructure/calendars/ical-busy-times.js';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/calendars/${name}`, import.meta.url), 'utf8');

/** The feed's busy times in a window, merged and as ISO instants (what a sync records). */
function busyOf(name: string, from: string, to: string, timeZone = 'Europe/Prague') {
  const window = { start: Date.parse(from), end: Date.parse(to) };
  const raw = busyFromIcal(fixture(name), { from: window.start, to: window.end, defaultTimeZone: timeZone });
  return toBusyIntervals(normalizeBusy(raw, window));
}

describe('busy times from an iCal feed', () => {
  it('expands a weekly RRULE at the same wall time across the spring DST change (VTIMEZONE of the feed)', () => {
    expect(busyOf('oslo-weekly-dst.ics', '2030-03-01T00:00:00Z', '2030-05-01T00:00:00Z', 'Europe/Oslo')).toEqual([
      // 09:00 Oslo: CET (+01) before 31 March 2030, CEST (+02) after.
      { start: '2030-03-18T08:00:00.000Z', end: '2030-03-18T09:00:00.000Z' },
      { start: '2030-03-25T08:00:00.000Z', end: '2030-03-25T09:00:00.000Z' },
      { start: '2030-04-01T07:00:00.000Z', end: '2030-04-01T08:00:00.000Z' },
      { start: '2030-04-08T07:00:00.000Z', end: '2030-04-08T08:00:00.000Z' },
    ]);
  });

  it('honours EXDATE, a moved and a cancelled RECURRENCE-ID, free and cancelled events, all-day and floating times', () => {
    expect(busyOf('exceptions.ics', '2030-06-01T00:00:00Z', '2030-06-15T00:00:00Z')).toEqual([
      { start: '2030-06-03T08:00:00.000Z', end: '2030-06-03T08:30:00.000Z' },
      // 4 June: EXDATE. 5 June: moved to 12:00.
      { start: '2030-06-05T12:00:00.000Z', end: '2030-06-05T13:00:00.000Z' },
      // 6 June: cancelled this once. 7 June: the series, and a floating 09:00 in the resource's zone (CEST).
      { start: '2030-06-07T07:00:00.000Z', end: '2030-06-07T08:30:00.000Z' },
      // Two whole days in Prague (from local midnight); transparent lunch, cancelled visit, Herald's own: not busy.
      { start: '2030-06-09T22:00:00.000Z', end: '2030-06-11T22:00:00.000Z' },
    ]);
  });

  it('reads an Outlook feed with a Windows zone name and VFREEBUSY periods across the autumn DST change', () => {
    expect(busyOf('outlook-windows-zone.ics', '2030-10-15T00:00:00Z', '2030-11-15T00:00:00Z')).toEqual([
      { start: '2030-10-21T08:00:00.000Z', end: '2030-10-21T09:00:00.000Z' },
      { start: '2030-10-28T09:00:00.000Z', end: '2030-10-28T10:00:00.000Z' },
      { start: '2030-11-01T08:00:00.000Z', end: '2030-11-01T10:00:00.000Z' },
      { start: '2030-11-04T09:00:00.000Z', end: '2030-11-04T10:00:00.000Z' },
    ]);
  });

  it('uses the zone database for a TZID without VTIMEZONE', () => {
    expect(busyOf('prague-no-vtimezone.ics', '2030-10-15T00:00:00Z', '2030-11-15T00:00:00Z', 'UTC')).toEqual([
      { start: '2030-10-21T12:00:00.000Z', end: '2030-10-21T13:30:00.000Z' },
      { start: '2030-10-28T13:00:00.000Z', end: '2030-10-28T14:30:00.000Z' },
      { start: '2030-11-04T13:00:00.000Z', end: '2030-11-04T14:30:00.000Z' },
    ]);
  });

  it('fails a rule that repeats too often to expand instead of spinning, and refuses what is not iCalendar', () => {
    const minutely = [
      'BEGIN:VCALENDAR',
      'VERSION:2.0',
      'BEGIN:VEVENT',
      'UID:spin@example.com',
      'DTSTART:19900101T000000Z',
      'DTEND:19900101T000100Z',
      'RRULE:FREQ=MINUTELY',
      'END:VEVENT',
      'END:VCALENDAR',
    ].join('\r\n');
    expect(() =>
      busyFromIcal(minutely, {
        from: Date.parse('2030-01-01T00:00:00Z'),
        to: Date.parse('2030-02-01T00:00:00Z'),
        defaultTimeZone: 'UTC',
        maxOccurrences: 10_000,
      }),
    ).toThrow(IcalFeedError);
    expect(() => busyFromIcal('<html>not a calendar</html>', { from: 0, to: 1, defaultTimeZone: 'UTC' })).toThrow(
      IcalFeedError,
    );
  });
});
