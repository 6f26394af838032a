import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type {
  AvailabilityQuery,
  AvailabilityService,
  AvailableSlot,
  ResourceCalendar,
  SeatUsage,
} from '../../../src/domain/booking/availability.js';
import { computeAvailability, validateSlot } from '../../../src/domain/booking/availability.js';
import type { TimeInterval, WeeklyHours } from '../../../src/domain/catalog/schedule.js';
import { WEEKDAYS } from '../../../src/domain/catalog/schedule.js';
import type { DomainError } from '../../../src/domain/shared/errors.js';
import { ValidationError } from '../../../src/domain/shared/errors.js';

const MIN = 60_000;
const DAY = 24 * 60 * MIN;

const everyDay = (...intervals: TimeInterval[]): WeeklyHours =>
  Object.fromEntries(WEEKDAYS.map((day) => [day, intervals])) as unknown as WeeklyHours;
const noHours = everyDay();
const calendar = (
  resourceId: string,
  weeklyHours: WeeklyHours,
  exceptions: Partial<ResourceCalendar['exceptions']> = {},
): ResourceCalendar => ({
  resourceId,
  weeklyHours,
  exceptions: { closedDates: [], extraHours: [], ...exceptions },
});
const appointment: AvailabilityService = {
  durationMinutes: 60,
  bufferMinutes: 0,
  seatsPerSlot: 1,
  slotIntervalMinutes: 60,
  resourceIds: ['anna', 'bo'],
  maxPartySize: 1,
};
const query = (overrides: Partial<AvailabilityQuery>): AvailabilityQuery => ({
  service: appointment,
  timeZone: 'Europe/Oslo',
  resources: [calendar('anna', everyDay({ start: '09:00', end: '12:00' }))],
  bookings: [],
  from: '2025-06-02T00:00:00+02:00',
  to: '2025-06-03T00:00:00+02:00',
  now: '2025-01-01T00:00:00Z',
  ...overrides,
});
const localStarts = (slots: AvailableSlot[]) => slots.map((slot) => slot.localStart);
const errorOf = (run: () => unknown): DomainError => {
  try {
    run();
  } catch (error) {
    return error as DomainError;
  }
  throw new Error('expected an error');
};

describe('availability', () => {
  describe('working hours', () => {
    it('offers a slot every interval whose service fits in the working hours', () => {
      const slots = computeAvailability(query({}));
      expect(slots).toEqual([
        {
          resourceId: 'anna',
          start: '2025-06-02T07:00:00.000Z',
          end: '2025-06-02T08:00:00.000Z',
          occupiedUntil: '2025-06-02T08:00:00.000Z',
          localStart: '2025-06-02T09:00:00+02:00',
          timeZone: 'Europe/Oslo',
          capacity: 1,
          remainingSeats: 1,
        },
        expect.objectContaining({ localStart: '2025-06-02T10:00:00+02:00' }),
        expect.objectContaining({ localStart: '2025-06-02T11:00:00+02:00' }),
      ]);
    });

    it('keeps the buffer inside the working hours but out of the booked end', () => {
      const service = { ...appointment, durationMinutes: 45, bufferMinutes: 15, slotIntervalMinutes: 30 };
      const slots = computeAvailability(query({ service }));
      expect(localStarts(slots).map((start) => start.slice(11, 16))).toEqual([
        '09:00',
        '09:30',
        '10:00',
        '10:30',
        '11:00',
      ]);
      expect(slots[4]).toMatchObject({ end: '2025-06-02T09:45:00.000Z', occupiedUntil: '2025-06-02T10:00:00.000Z' });
    });

    it('anchors slots at each interval start and lets a service run on into an adjacent interval', () => {
      const resources = [
        calendar('anna', everyDay({ start: '09:10', end: '10:00' }, { start: '10:00', end: '11:00' })),
      ];
      const service = { ...appointment, durationMinutes: 40, slotIntervalMinutes: 40 };
      expect(
        localStarts(computeAvailability(query({ service, resources }))).map((start) => start.slice(11, 16)),
      ).toEqual([
        '09:10',
        '09:50', // runs on into the second interval
        '10:00',
      ]);
    });

    it('lets a window run across midnight', () => {
      const resources = [
        calendar('anna', {
          ...noHours,
          friday: [{ start: '22:00', end: '24:00' }],
          saturday: [{ start: '00:00', end: '02:00' }],
        }),
      ];
      const service = { ...appointment, durationMinutes: 180, slotIntervalMinutes: 60 };
      const slots = computeAvailability(
        query({ service, resources, from: '2025-06-06T00:00:00Z', to: '2025-06-08T00:00:00Z' }),
      );
      expect(localStarts(slots)).toEqual(['2025-06-06T22:00:00+02:00', '2025-06-06T23:00:00+02:00']);
    });

    it('drops the weekly hours of a closed date', () => {
      const resources = [calendar('anna', everyDay({ start: '09:00', end: '12:00' }), { closedDates: ['2025-06-02'] })];
      expect(computeAvailability(query({ resources }))).toEqual([]);
    });

    it('adds extra hours on a date, also on a closed one (= special hours that day)', () => {
      const extra = { extraHours: [{ date: '2025-06-02', intervals: [{ start: '18:00', end: '20:00' }] }] };
      const open = [calendar('anna', everyDay({ start: '09:00', end: '12:00' }), extra)];
      expect(localStarts(computeAvailability(query({ resources: open }))).map((start) => start.slice(11, 16))).toEqual([
        '09:00',
        '10:00',
        '11:00',
        '18:00',
        '19:00',
      ]);
      const closed = [
        calendar('anna', everyDay({ start: '09:00', end: '12:00' }), { ...extra, closedDates: ['2025-06-02'] }),
      ];
      expect(
        localStarts(computeAvailability(query({ resources: closed }))).map((start) => start.slice(11, 16)),
      ).toEqual(['18:00', '19:00']);
    });

    it('leaves out slots that start before now', () => {
      const slots = computeAvailability(query({ now: '2025-06-02T10:15:00+02:00' }));
      expect(localStarts(slots)).toEqual(['2025-06-02T11:00:00+02:00']);
    });

    it('lists the slots of several resources by start, then resource', () => {
      const resources = [
        calendar('bo', everyDay({ start: '10:00', end: '11:00' })),
        calendar('anna', everyDay({ start: '09:00', end: '11:00' })),
      ];
      expect(
        computeAvailability(query({ resources })).map((slot) => `${slot.localStart.slice(11, 16)} ${slot.resourceId}`),
      ).toEqual(['09:00 anna', '10:00 anna', '10:00 bo']);
      expect(computeAvailability(query({ resources, resourceId: 'bo' })).map((slot) => slot.resourceId)).toEqual([
        'bo',
      ]);
    });

    it('ignores resources that do not deliver the service', () => {
      const resources = [calendar('stranger', everyDay({ start: '09:00', end: '12:00' }))];
      expect(computeAvailability(query({ resources }))).toEqual([]);
    });
  });

  describe('seats', () => {
    const swimming: AvailabilityService = {
      durationMinutes: 60,
      bufferMinutes: 0,
      seatsPerSlot: 10,
      slotIntervalMinutes: 60,
      resourceIds: ['lane'],
      maxPartySize: 6,
    };
    const lane = [calendar('lane', everyDay({ start: '09:00', end: '11:00' }))];
    const usage = (start: string, end: string, seats: number, resourceId = 'lane'): SeatUsage => ({
      resourceId,
      start,
      end,
      seats,
    });

    it('subtracts the seats booked on a slot', () => {
      const bookings = [
        usage('2025-06-02T07:00:00Z', '2025-06-02T08:00:00Z', 3),
        usage('2025-06-02T07:00:00Z', '2025-06-02T08:00:00Z', 4),
      ];
      const slots = computeAvailability(query({ service: swimming, resources: lane, bookings }));
      expect(slots.map((slot) => slot.remainingSeats)).toEqual([3, 10]);
    });

    it('hides a slot with fewer seats than the party, unless asked to include full slots', () => {
      const bookings = [usage('2025-06-02T07:00:00Z', '2025-06-02T08:00:00Z', 7)];
      expect(
        computeAvailability(query({ service: swimming, resources: lane, bookings, partySize: 4 })).map((slot) =>
          slot.localStart.slice(11, 16),
        ),
      ).toEqual(['10:00']);
      expect(
        computeAvailability(
          query({ service: swimming, resources: lane, bookings, partySize: 4, includeFull: true }),
        ).map((slot) => slot.remainingSeats),
      ).toEqual([3, 10]);
      const full = [usage('2025-06-02T07:00:00Z', '2025-06-02T08:00:00Z', 10)];
      expect(computeAvailability(query({ service: swimming, resources: lane, bookings: full })).length).toBe(1);
    });

    it('blocks every overlapping slot of an appointment, not just the one with the same start', () => {
      const service = { ...appointment, slotIntervalMinutes: 30 };
      const bookings = [usage('2025-06-02T09:30:00+02:00', '2025-06-02T10:30:00+02:00', 1, 'anna')];
      const slots = computeAvailability(query({ service, bookings }));
      expect(localStarts(slots).map((start) => start.slice(11, 16))).toEqual(['10:30', '11:00']);
    });

    it('does not count a booking that only touches the slot', () => {
      const bookings = [usage('2025-06-02T08:00:00+02:00', '2025-06-02T09:00:00+02:00', 1, 'anna')];
      expect(computeAvailability(query({ bookings })).length).toBe(3);
    });

    it('runs one slot at a time: seats taken on an overlapping slot with another start leave none', () => {
      const service = { ...swimming, durationMinutes: 120, slotIntervalMinutes: 120 };
      const bookings = [usage('2025-06-02T10:00:00+02:00', '2025-06-02T11:00:00+02:00', 5)];
      expect(
        computeAvailability(query({ service, resources: lane, bookings, includeFull: true })).map(
          (slot) => slot.remainingSeats,
        ),
      ).toEqual([0]);
      const grid30 = { ...swimming, slotIntervalMinutes: 30 };
      const classAt9 = [usage('2025-06-02T09:00:00+02:00', '2025-06-02T10:00:00+02:00', 2)];
      expect(
        computeAvailability(query({ service: grid30, resources: lane, bookings: classAt9, includeFull: true })).map(
          (slot) => [slot.localStart.slice(11, 16), slot.remainingSeats],
        ),
      ).toEqual([
        ['09:00', 8],
        ['09:30', 0],
        ['10:00', 10],
      ]);
    });

    it('shares a slot only with seats of the same service', () => {
      const bookings = [
        { ...usage('2025-06-02T07:00:00Z', '2025-06-02T08:00:00Z', 3), serviceId: 'swim' },
        { ...usage('2025-06-02T08:00:00Z', '2025-06-02T09:00:00Z', 3), serviceId: 'aqua-fit' },
      ];
      expect(
        computeAvailability(
          query({ service: swimming, serviceId: 'swim', resources: lane, bookings, includeFull: true }),
        ).map((slot) => slot.remainingSeats),
      ).toEqual([7, 0]);
    });
  });

  describe('daylight saving time', () => {
    const weekOf = (
      timeZone: string,
      from: string,
      to: string,
      resources = [calendar('anna', everyDay({ start: '09:00', end: '12:00' }))],
    ) => computeAvailability(query({ timeZone, resources, from, to }));

    it('keeps 09:00 at 09:00 local through the Europe/Oslo spring-forward week', () => {
      const slots = weekOf('Europe/Oslo', '2025-03-24T00:00:00+01:00', '2025-03-31T00:00:00+02:00');
      expect(slots).toHaveLength(21);
      expect(new Set(slots.map((slot) => slot.localStart.slice(11, 16)))).toEqual(new Set(['09:00', '10:00', '11:00']));
      const nineOClock = slots.filter((slot) => slot.localStart.slice(11, 16) === '09:00');
      expect(nineOClock.map((slot) => slot.start.slice(5, 16))).toEqual([
        '03-24T08:00',
        '03-25T08:00',
        '03-26T08:00',
        '03-27T08:00',
        '03-28T08:00',
        '03-29T08:00',
        '03-30T07:00', // summer time from Sunday 02:00
      ]);
      expect(nineOClock.at(-1)?.localStart).toBe('2025-03-30T09:00:00+02:00');
    });

    it('keeps 09:00 at 09:00 local through the Europe/Oslo fall-back week', () => {
      const slots = weekOf('Europe/Oslo', '2025-10-20T00:00:00+02:00', '2025-10-27T00:00:00+01:00');
      const nineOClock = slots.filter((slot) => slot.localStart.slice(11, 16) === '09:00');
      expect(nineOClock.map((slot) => slot.start.slice(5, 16))).toEqual([
        '10-20T07:00',
        '10-21T07:00',
        '10-22T07:00',
        '10-23T07:00',
        '10-24T07:00',
        '10-25T07:00',
        '10-26T08:00', // winter time from Sunday 03:00
      ]);
    });

    it('skips the wall times a spring-forward night does not have (Oslo, 02:00-03:00)', () => {
      const resources = [calendar('anna', everyDay({ start: '00:00', end: '06:00' }))];
      const slots = weekOf('Europe/Oslo', '2025-03-29T12:00:00Z', '2025-03-30T12:00:00Z', resources);
      expect(localStarts(slots)).toEqual([
        '2025-03-30T00:00:00+01:00',
        '2025-03-30T01:00:00+01:00',
        '2025-03-30T03:00:00+02:00',
        '2025-03-30T04:00:00+02:00',
        '2025-03-30T05:00:00+02:00',
      ]);
      // The night is five real hours long: a five-hour service fits at midnight, a six-hour one nowhere.
      const long = (durationMinutes: number) =>
        computeAvailability(
          query({
            timeZone: 'Europe/Oslo',
            resources,
            service: { ...appointment, durationMinutes },
            from: '2025-03-29T12:00:00Z',
            to: '2025-03-30T12:00:00Z',
          }),
        );
      expect(localStarts(long(300))).toEqual(['2025-03-30T00:00:00+01:00']);
      expect(long(360)).toEqual([]);
    });

    it('starts working hours that begin inside the gap at the transition (Oslo 02:30-05:00)', () => {
      const resources = [calendar('anna', everyDay({ start: '02:30', end: '05:00' }))];
      const service = { ...appointment, durationMinutes: 30, slotIntervalMinutes: 30 };
      const slots = computeAvailability(
        query({
          timeZone: 'Europe/Oslo',
          resources,
          service,
          from: '2025-03-29T12:00:00Z',
          to: '2025-03-30T12:00:00Z',
        }),
      );
      expect(localStarts(slots)).toEqual([
        '2025-03-30T03:00:00+02:00',
        '2025-03-30T03:30:00+02:00',
        '2025-03-30T04:00:00+02:00',
        '2025-03-30T04:30:00+02:00',
      ]);
    });

    it('offers both 02:00s of a fall-back night (Oslo)', () => {
      const resources = [calendar('anna', everyDay({ start: '00:00', end: '06:00' }))];
      const slots = weekOf('Europe/Oslo', '2025-10-25T12:00:00Z', '2025-10-26T12:00:00Z', resources);
      expect(localStarts(slots)).toEqual([
        '2025-10-26T00:00:00+02:00',
        '2025-10-26T01:00:00+02:00',
        '2025-10-26T02:00:00+02:00',
        '2025-10-26T02:00:00+01:00',
        '2025-10-26T03:00:00+01:00',
        '2025-10-26T04:00:00+01:00',
        '2025-10-26T05:00:00+01:00',
      ]);
    });

    it('keeps a 90-minute class grid in Europe/Prague across fall-back', () => {
      const resources = [calendar('anna', everyDay({ start: '08:00', end: '20:00' }))];
      const service = { ...appointment, durationMinutes: 90, slotIntervalMinutes: 90 };
      const slots = computeAvailability(
        query({
          timeZone: 'Europe/Prague',
          resources,
          service,
          from: '2025-10-25T00:00:00Z',
          to: '2025-10-27T00:00:00Z',
        }),
      );
      const times = ['08:00', '09:30', '11:00', '12:30', '14:00', '15:30', '17:00', '18:30'];
      expect(localStarts(slots)).toEqual([
        ...times.map((time) => `2025-10-25T${time}:00+02:00`),
        ...times.map((time) => `2025-10-26T${time}:00+01:00`),
      ]);
    });

    it('handles a half-hour shift (Australia/Lord_Howe falls back from 02:00 to 01:30)', () => {
      const resources = [calendar('anna', everyDay({ start: '01:00', end: '03:00' }))];
      const service = { ...appointment, durationMinutes: 30, slotIntervalMinutes: 30 };
      const slots = computeAvailability(
        query({
          timeZone: 'Australia/Lord_Howe',
          resources,
          service,
          from: '2025-04-05T10:00:00Z',
          to: '2025-04-06T10:00:00Z',
        }),
      );
      expect(localStarts(slots)).toEqual([
        '2025-04-06T01:00:00+11:00',
        '2025-04-06T01:30:00+11:00',
        '2025-04-06T01:30:00+10:30',
        '2025-04-06T02:00:00+10:30',
        '2025-04-06T02:30:00+10:30',
      ]);
    });
  });

  describe('bad queries', () => {
    it.each([
      ['from', { from: '2025-06-02T00:00:00' }, 'instant-with-zone'],
      ['to', { to: '2025-06-01T00:00:00Z' }, 'after-from'],
      ['to', { to: '2025-12-01T00:00:00Z' }, 'range-too-long'],
      ['timeZone', { timeZone: '+02:00' }, 'iana-time-zone'],
      ['resourceId', { resourceId: 'stranger' }, 'unknown-resource'],
      ['partySize', { partySize: 2 }, 'party-too-large'],
      [
        'bookings[0].end',
        { bookings: [{ resourceId: 'anna', start: '2025-06-02T07:00:00Z', end: 'later', seats: 1 }] },
        'instant-with-zone',
      ],
    ] as const)('rejects a bad %s with rule %s', (field, overrides, rule) => {
      const error = errorOf(() => computeAvailability(query(overrides as Partial<AvailabilityQuery>)));
      expect(error).toBeInstanceOf(ValidationError);
      expect(error.details).toMatchObject({ field, rule });
    });
  });

  describe('validateSlot', () => {
    const classService: AvailabilityService = {
      durationMinutes: 60,
      bufferMinutes: 15,
      seatsPerSlot: 8,
      slotIntervalMinutes: 90,
      resourceIds: ['anna'],
      maxPartySize: 4,
    };
    const resources = [
      calendar(
        'anna',
        { ...noHours, monday: [{ start: '09:00', end: '12:00' }], wednesday: [{ start: '09:00', end: '12:00' }] },
        { closedDates: ['2025-06-04'] },
      ),
    ];
    const request = (start: string, overrides: Record<string, unknown> = {}) => ({
      service: classService,
      timeZone: 'Europe/Oslo',
      resources,
      resourceId: 'anna',
      start,
      partySize: 2,
      now: '2025-06-01T00:00:00Z',
      ...overrides,
    });

    it('returns the normalised slot when every rule holds', () => {
      expect(validateSlot(request('2025-06-02T10:30:00+02:00'))).toEqual({
        resourceId: 'anna',
        start: '2025-06-02T08:30:00.000Z',
        end: '2025-06-02T09:30:00.000Z',
        occupiedUntil: '2025-06-02T09:45:00.000Z',
        localStart: '2025-06-02T10:30:00+02:00',
        timeZone: 'Europe/Oslo',
        capacity: 8,
      });
    });

    it.each([
      ['resourceId', request('2025-06-02T09:00:00+02:00', { resourceId: 'bo' }), 'unknown-resource'],
      ['partySize', request('2025-06-02T09:00:00+02:00', { partySize: 5 }), 'party-too-large'],
      ['start', request('2025-06-02T09:00:00+02:00', { now: '2025-06-02T08:00:00Z' }), 'in-the-past'],
      ['start', request('2025-06-03T09:00:00+02:00'), 'closed-day'], // a Tuesday without hours
      ['start', request('2025-06-04T09:00:00+02:00'), 'closed-day'], // a closed Wednesday
      ['start', request('2025-06-02T08:00:00+02:00'), 'outside-working-hours'],
      ['start', request('2025-06-02T12:00:00+02:00'), 'outside-working-hours'],
      ['start', request('2025-06-02T11:00:00+02:00'), 'duration-does-not-fit'],
      ['start', request('2025-06-02T09:15:00+02:00'), 'not-a-slot-start'],
    ])('says which rule a slot breaks: %s %s', (field, input, rule) => {
      const error = errorOf(() => validateSlot(input));
      expect(error).toBeInstanceOf(ValidationError);
      expect(error.code).toBe('slot-not-bookable');
      expect(error.details).toMatchObject({ field, rule });
    });

    it('rejects a time without a zone as bad input', () => {
      const error = errorOf(() => validateSlot(request('2025-06-02T09:00:00')));
      expect(error.code).toBe('invalid-input');
      expect(error.details).toMatchObject({ field: 'start', rule: 'instant-with-zone' });
    });
  });
});

// Brute force --------------------------------------------------------------------------------------------------------

/**
 * The definition of availability, minute by minute, with its own Intl formatter: a minute works when the wall
 * clock then shows a time in one of that wall date's intervals; a slot starts at a minute whose wall time is
 * `interval.start + k * step` in such an interval, and is bookable when every minute of `duration + buffer` works.
 */
function bruteForce(
  q: AvailabilityQuery,
): Array<Pick<AvailableSlot, 'resourceId' | 'start' | 'remainingSeats' | 'localStart'>> {
  const formatter = new Intl.DateTimeFormat('en-US', {
    timeZone: q.timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    timeZoneName: 'longOffset',
  });
  const from = Date.parse(q.from);
  const to = Date.parse(q.to);
  const now = Date.parse(q.now);
  const length = q.service.durationMinutes + q.service.bufferMinutes;
  const starts = (to - from) / MIN;
  const walls = Array.from({ length: starts + length }, (_, index) => {
    const parts = Object.fromEntries(
      formatter.formatToParts(from + index * MIN).map((part) => [part.type, part.value]),
    );
    const date = `${parts.year}-${parts.month}-${parts.day}`;
    const weekday = (new Date(`${date}T00:00:00Z`).getUTCDay() + 6) % 7;
    const offset = parts.timeZoneName === 'GMT' ? '+00:00' : String(parts.timeZoneName).slice(3);
    return {
      date,
      weekday,
      minute: Number(parts.hour) * 60 + Number(parts.minute),
      local: `${date}T${parts.hour}:${parts.minute}:00${offset}`,
    };
  });
  const toMinutes = (time: string) => Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));
  const result: Array<Pick<AvailableSlot, 'resourceId' | 'start' | 'remainingSeats' | 'localStart'>> = [];
  for (const resource of q.resources) {
    if (!q.service.resourceIds.includes(resource.resourceId)) continue;
    if (q.resourceId !== undefined && q.resourceId !== resource.resourceId) continue;
    const byDate = new Map<string, Array<{ start: number; end: number }>>();
    const intervals = (date: string, weekday: number) => {
      let list = byDate.get(date);
      if (!list) {
        list = [
          ...(resource.exceptions.closedDates.includes(date)
            ? []
            : resource.weeklyHours[WEEKDAYS[weekday] ?? 'monday']),
          ...resource.exceptions.extraHours.filter((extra) => extra.date === date).flatMap((extra) => extra.intervals),
        ].map((interval) => ({ start: toMinutes(interval.start), end: toMinutes(interval.end) }));
        byDate.set(date, list);
      }
      return list;
    };
    const working = walls.map((wall) =>
      intervals(wall.date, wall.weekday).some((i) => i.start <= wall.minute && wall.minute < i.end),
    );
    const anchor = walls.map((wall) =>
      intervals(wall.date, wall.weekday).some(
        (i) =>
          i.start <= wall.minute &&
          wall.minute < i.end &&
          (wall.minute - i.start) % q.service.slotIntervalMinutes === 0,
      ),
    );
    // A resource runs one slot at a time: a booking in some minute of the slot that is not this very slot (same
    // start, same service) takes every seat; bookings of this slot share its seats.
    const bookings = q.bookings.filter((booking) => booking.resourceId === resource.resourceId);
    for (let index = 0; index < starts; index++) {
      const start = from + index * MIN;
      if (start < now || !anchor[index]) continue;
      if (!working.slice(index, index + length).every(Boolean)) continue;
      let taken = 0;
      for (const booking of bookings) {
        const [bookingStart, bookingEnd] = [Date.parse(booking.start), Date.parse(booking.end)];
        const inSomeMinute = Array.from({ length }, (_, k) => start + k * MIN).some(
          (minute) => bookingStart <= minute && minute < bookingEnd,
        );
        if (!inSomeMinute) continue;
        const sameSlot = bookingStart === start && (booking.serviceId ?? null) === (q.serviceId ?? null);
        taken += sameSlot ? booking.seats : Infinity;
      }
      const remainingSeats = Math.max(0, q.service.seatsPerSlot - taken);
      if (remainingSeats < (q.partySize ?? 1) && !q.includeFull) continue;
      result.push({
        resourceId: resource.resourceId,
        start: new Date(start).toISOString(),
        remainingSeats,
        localStart: walls[index]?.local ?? '',
      });
    }
  }
  return result.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.resourceId < b.resourceId ? -1 : 1));
}

// Each zone with the UTC day of a 2025 DST change there, so that most generated ranges contain one.
const ZONES_AND_CHANGES: Array<[string, string]> = [
  ['Europe/Oslo', '2025-03-30'],
  ['Europe/Oslo', '2025-10-26'],
  ['Europe/Prague', '2025-03-30'],
  ['Europe/Prague', '2025-10-26'],
  ['America/New_York', '2025-03-09'],
  ['America/New_York', '2025-11-02'],
  ['America/St_Johns', '2025-11-02'],
  ['America/Santiago', '2025-04-06'],
  ['America/Santiago', '2025-09-07'],
  ['Australia/Lord_Howe', '2025-04-05'],
  ['Australia/Lord_Howe', '2025-10-04'],
  ['Pacific/Chatham', '2025-09-27'],
  ['Asia/Kolkata', '2025-06-15'],
  ['UTC', '2025-06-15'],
];

const hhmm = (minutes: number) =>
  `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
// 0-2 disjoint intervals on a 5-minute grid, often long enough for a service, sometimes at night.
const intervalsArb: fc.Arbitrary<TimeInterval[]> = fc.oneof(
  { weight: 1, arbitrary: fc.constant<TimeInterval[]>([]) },
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        fc.integer({ min: 0, max: 276 }),
        fc.integer({ min: 1, max: 144 }),
        fc.integer({ min: 0, max: 36 }),
        fc.integer({ min: 0, max: 144 }),
      )
      .map(([start, length, gap, secondLength]) => {
        const firstEnd = Math.min(288, start + length);
        const intervals: TimeInterval[] = [{ start: hhmm(start * 5), end: hhmm(firstEnd * 5) }];
        const secondStart = firstEnd + gap;
        const secondEnd = Math.min(288, secondStart + secondLength);
        if (secondLength > 0 && secondEnd > secondStart)
          intervals.push({ start: hhmm(secondStart * 5), end: hhmm(secondEnd * 5) });
        return intervals;
      }),
  },
);

const scenarioArb = fc
  .record({
    zone: fc.constantFrom(...ZONES_AND_CHANGES),
    fromOffset: fc.integer({ min: 0, max: 2 * 24 * 60 }),
    rangeMinutes: fc.integer({ min: 60, max: 4 * 24 * 60 }),
    nowOffset: fc.oneof(fc.integer({ min: -24 * 60, max: 0 }), fc.integer({ min: 0, max: 24 * 60 })),
    resources: fc.uniqueArray(
      fc.record({
        resourceId: fc.constantFrom('a', 'b', 'c'),
        weeklyHours: fc.tuple(
          intervalsArb,
          intervalsArb,
          intervalsArb,
          intervalsArb,
          intervalsArb,
          intervalsArb,
          intervalsArb,
        ),
        closedDays: fc.uniqueArray(fc.integer({ min: -1, max: 7 }), { maxLength: 2 }),
        extra: fc.uniqueArray(fc.record({ day: fc.integer({ min: -1, max: 7 }), intervals: intervalsArb }), {
          maxLength: 2,
          selector: (entry) => entry.day,
        }),
      }),
      { minLength: 1, maxLength: 3, selector: (resource) => resource.resourceId },
    ),
    deliveredBy: fc.subarray(['b', 'c', 'z']).map((others) => ['a', ...others]),
    service: fc.record({
      duration: fc.integer({ min: 1, max: 24 }),
      buffer: fc.integer({ min: 0, max: 6 }),
      interval: fc.constantFrom(5, 10, 15, 20, 30, 45, 60, 90, 120),
      seats: fc.integer({ min: 1, max: 4 }),
    }),
    bookings: fc.array(
      fc.record({
        resourceId: fc.constantFrom('a', 'b', 'c'),
        startStep: fc.integer({ min: -12 * 12, max: 4 * 24 * 12 }),
        length: fc.oneof(
          fc.integer({ min: 1, max: 480 }),
          fc.integer({ min: 1, max: 32 }).map((n) => n * 15),
        ),
        seats: fc.integer({ min: 1, max: 3 }),
        chained: fc.boolean(),
        serviceId: fc.constantFrom<string | null>('svc', 'svc', 'other', null),
      }),
      { maxLength: 30 },
    ),
    partyFraction: fc.double({ min: 0, max: 1, noNaN: true }),
    includeFull: fc.boolean(),
    onlyOne: fc.boolean(),
  })
  .map((scenario): AvailabilityQuery => {
    const [timeZone, changeDay] = scenario.zone;
    const base = Date.parse(`${changeDay}T00:00:00Z`) - 2 * DAY;
    const from = base + scenario.fromOffset * MIN;
    const dateOf = (day: number) => new Date(base + day * DAY).toISOString().slice(0, 10);
    const maxPartySize = Math.max(1, Math.ceil(scenario.service.seats * scenario.partyFraction));
    return {
      timeZone,
      serviceId: 'svc',
      service: {
        durationMinutes: scenario.service.duration * 5,
        bufferMinutes: scenario.service.buffer * 5,
        slotIntervalMinutes: scenario.service.interval,
        seatsPerSlot: scenario.service.seats,
        maxPartySize,
        resourceIds: scenario.deliveredBy,
      },
      // The first resource is always 'a', which always delivers the service.
      resources: scenario.resources.map((resource, index) => ({
        resourceId: index === 0 ? 'a' : resource.resourceId === 'a' ? 'd' : resource.resourceId,
        weeklyHours: Object.fromEntries(
          WEEKDAYS.map((day, index) => [day, resource.weeklyHours[index] ?? []]),
        ) as unknown as WeeklyHours,
        exceptions: {
          closedDates: resource.closedDays.map(dateOf),
          extraHours: resource.extra
            .filter((entry) => entry.intervals.length > 0)
            .map((entry) => ({ date: dateOf(entry.day), intervals: entry.intervals })),
        },
      })),
      // On the 5-minute grid of the slots, and often back to back, so that bookings touch slots and each other.
      bookings: scenario.bookings.reduce<SeatUsage[]>((list, booking) => {
        const previous = list[list.length - 1];
        const start = booking.chained && previous ? Date.parse(previous.end) : base + booking.startStep * 5 * MIN;
        const resourceId = booking.chained && previous ? previous.resourceId : booking.resourceId;
        list.push({
          resourceId,
          start: new Date(start).toISOString(),
          end: new Date(start + booking.length * MIN).toISOString(),
          seats: booking.seats,
          serviceId: booking.serviceId,
        });
        return list;
      }, []),
      from: new Date(from).toISOString(),
      to: new Date(from + scenario.rangeMinutes * MIN).toISOString(),
      now: new Date(from + scenario.nowOffset * MIN).toISOString(),
      partySize: Math.max(1, Math.ceil(maxPartySize * scenario.partyFraction)),
      includeFull: scenario.includeFull,
      ...(scenario.onlyOne && scenario.deliveredBy[0] !== 'z' ? { resourceId: scenario.deliveredBy[0] } : {}),
    };
  });

describe('availability against a brute-force computation (property)', () => {
  it('equals the minute-by-minute definition on generated calendars, bookings and DST weeks', () => {
    fc.assert(
      fc.property(scenarioArb, (q) => {
        const fast = computeAvailability(q).map(({ resourceId, start, remainingSeats, localStart }) => ({
          resourceId,
          start,
          remainingSeats,
          localStart,
        }));
        expect(fast).toEqual(bruteForce(q));
      }),
      { numRuns: 250 },
    );
  }, 60_000);

  it('validateSlot accepts exactly the starts availability lists (seats aside)', () => {
    fc.assert(
      fc.property(
        scenarioArb,
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 10, maxLength: 10 }),
        (q, picks) => {
          const listed = computeAvailability({ ...q, includeFull: true, resourceId: undefined });
          const listedKeys = new Set(listed.map((slot) => `${slot.resourceId} ${slot.start}`));
          const from = Date.parse(q.from);
          const minutes = (Date.parse(q.to) - from) / MIN;
          const candidates = [
            ...listed.slice(0, 10).map((slot) => ({ resourceId: slot.resourceId, start: slot.start })),
            ...picks.map((pick, index) => ({
              resourceId: q.resources[index % q.resources.length]?.resourceId ?? 'a',
              // Inside [from, to): a pick of exactly 1 would land on `to`, which availability does not list.
              start: new Date(from + Math.min(minutes - 1, Math.floor(pick * minutes)) * MIN).toISOString(),
            })),
          ];
          for (const candidate of candidates) {
            let accepted = true;
            try {
              validateSlot({
                service: q.service,
                timeZone: q.timeZone,
                resources: q.resources,
                resourceId: candidate.resourceId,
                start: candidate.start,
                partySize: q.partySize ?? 1,
                now: q.now,
              });
            } catch (error) {
              expect(error).toBeInstanceOf(ValidationError);
              accepted = false;
            }
            expect(accepted, `${candidate.resourceId} ${candidate.start}`).toBe(
              listedKeys.has(`${candidate.resourceId} ${candidate.start}`),
            );
          }
        },
      ),
      { numRuns: 150 },
    );
  }, 60_000);
});
