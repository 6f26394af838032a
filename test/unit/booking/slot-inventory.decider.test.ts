import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type {
  HoldSeats,
  SlotHold,
  SlotInventoryCommand,
  SlotInventoryEvent,
  SlotInventoryState,
  SlotReleaseReason,
} from '../../../src/domain/booking/slot-inventory.decider.js';
import {
  heldSeats,
  holdsIn,
  overlaps,
  resourceDaysOf,
  resourceDayStreamName,
  sharesSlot,
  slotInventoryDecider,
} from '../../../src/domain/booking/slot-inventory.decider.js';
import { fold } from '../../../src/domain/shared/decider.js';
import type { DomainError } from '../../../src/domain/shared/errors.js';
import { IllegalStateError, ValidationError } from '../../../src/domain/shared/errors.js';
import { deciderSpec } from '../support/decider-spec.js';

const spec = deciderSpec(slotInventoryDecider);

// 2025-03-30 is the spring-forward day in Oslo: 09:00 local is 07:00Z.
const DAY = '2025-03-30';
const ZONE = 'Europe/Oslo';
const SLOT = '2025-03-30T07:00:00.000Z';
const UNTIL = '2025-03-30T08:15:00.000Z';
const NOW = '2025-03-20T10:00:00.000Z';
const EXPIRES = '2025-03-20T10:10:00.000Z';
const LATER = '2025-03-20T10:30:00.000Z';
const MIN = 60_000;
const at = (minutesAfterSlot: number) => new Date(Date.parse(SLOT) + minutesAfterSlot * MIN).toISOString();

const hold = (reservationId: string, seats: number, overrides: Partial<HoldSeats['data']> = {}): HoldSeats => ({
  type: 'HoldSeats',
  data: {
    resourceId: 'pool-lane-1',
    localDate: DAY,
    timeZone: ZONE,
    slotStart: SLOT,
    serviceId: 'swim',
    reservationId,
    seats,
    capacity: 4,
    occupiedUntil: UNTIL,
    expiresAt: EXPIRES,
    now: NOW,
    ...overrides,
  },
});
const release = (
  reservationId: string,
  reason: SlotReleaseReason = 'cancelled',
  now = NOW,
  slotStart?: string,
): SlotInventoryCommand => ({
  type: 'ReleaseSeats',
  data: { reservationId, reason, now, ...(slotStart ? { slotStart } : {}) },
});
const confirm = (reservationId: string, now = NOW, slotStart?: string): SlotInventoryCommand => ({
  type: 'ConfirmSeats',
  data: { reservationId, now, ...(slotStart ? { slotStart } : {}) },
});

const held = (
  reservationId: string,
  seats: number,
  remainingSeats: number,
  overrides: Record<string, unknown> = {},
): SlotInventoryEvent => ({
  type: 'SlotSeatsHeld',
  data: {
    resourceId: 'pool-lane-1',
    localDate: DAY,
    slotStart: SLOT,
    serviceId: 'swim',
    reservationId,
    seats,
    capacity: 4,
    occupiedUntil: UNTIL,
    expiresAt: EXPIRES,
    remainingSeats,
    heldAt: NOW,
    ...overrides,
  },
});
const released = (
  reservationId: string,
  seats: number,
  remainingSeats: number,
  reason: SlotReleaseReason = 'cancelled',
  releasedAt = NOW,
  slotStart = SLOT,
  serviceId: string | null = 'swim',
): SlotInventoryEvent => ({
  type: 'SlotSeatsReleased',
  data: {
    resourceId: 'pool-lane-1',
    localDate: DAY,
    slotStart,
    serviceId,
    reservationId,
    seats,
    reason,
    remainingSeats,
    releasedAt,
  },
});
const confirmed = (reservationId: string, seats: number, confirmedAt = NOW, slotStart = SLOT): SlotInventoryEvent => ({
  type: 'SlotSeatsConfirmed',
  data: { resourceId: 'pool-lane-1', localDate: DAY, slotStart, reservationId, seats, confirmedAt },
});

describe('resource-day inventory decider', () => {
  describe('streams and days', () => {
    it('names streams resourceday-<tenant>+<resource>+<local date>', () => {
      expect(resourceDayStreamName('acme', 'pool-lane-1', DAY)).toBe('resourceday-acme+pool-lane-1+2025-03-30');
      expect(() => resourceDayStreamName('acme', 'pool-lane-1', '2025-02-30')).toThrow(ValidationError);
      expect(() => resourceDayStreamName('acme', 'a+b', DAY)).toThrow(ValidationError);
    });

    it('puts a slot on the local day(s) it touches in the location zone, also across DST and midnight', () => {
      // 00:30 local on the spring-forward day is still the 30th, though it is the 29th in UTC.
      expect(resourceDaysOf(ZONE, '2025-03-29T23:30:00Z', '2025-03-30T00:30:00Z')).toEqual(['2025-03-30']);
      expect(resourceDaysOf(ZONE, SLOT, UNTIL)).toEqual([DAY]);
      // 23:00-01:00 local runs over midnight: both days.
      expect(resourceDaysOf(ZONE, '2025-06-01T21:00:00Z', '2025-06-01T23:00:00Z')).toEqual([
        '2025-06-01',
        '2025-06-02',
      ]);
      // Ending exactly at midnight stays on one day.
      expect(resourceDaysOf(ZONE, '2025-06-01T21:00:00Z', '2025-06-01T22:00:00Z')).toEqual(['2025-06-01']);
      expect(resourceDaysOf('America/New_York', '2025-11-02T04:30:00Z', '2025-11-02T05:30:00Z')).toEqual([
        '2025-11-02',
      ]);
    });
  });

  describe('HoldSeats', () => {
    it('holds seats on an untouched day', () => {
      spec
        .given([])
        .when(hold('r-1', 2))
        .then([held('r-1', 2, 2)]);
    });

    it('holds the last seats of a slot', () => {
      spec
        .given([held('r-1', 2, 2)])
        .when(hold('r-2', 2))
        .then([held('r-2', 2, 0)]);
    });

    it('is a no-op for a reservation that already holds the same seats', () => {
      spec
        .given([held('r-1', 2, 2)])
        .when(hold('r-1', 2, { now: '2025-03-20T10:05:00.000Z' }))
        .thenNothing();
    });

    it('refuses the same reservation with another number of seats', () => {
      spec
        .given([held('r-1', 2, 2)])
        .when(hold('r-1', 3))
        .thenThrows(IllegalStateError, { code: 'slot-hold-conflict', details: { heldSeats: 2, requestedSeats: 3 } });
    });

    it('refuses when the slot is full, saying how many seats are left', () => {
      spec
        .given([held('r-1', 2, 2), held('r-2', 2, 0)])
        .when(hold('r-3', 1))
        .thenThrows(IllegalStateError, {
          code: 'slot-full',
          details: { remainingSeats: 0, requestedSeats: 1, capacity: 4 },
        });
    });

    it('refuses a party larger than the seats left', () => {
      spec
        .given([held('r-1', 3, 1)])
        .when(hold('r-2', 2))
        .thenThrows(IllegalStateError, { code: 'slot-full', details: { remainingSeats: 1 } });
    });

    it('refuses a slot with another start that overlaps a held one: the resource runs one slot at a time', () => {
      // A 75-minute class every 30 minutes: 09:30 overlaps 09:00 although 09:00 still has seats.
      spec
        .given([held('r-1', 1, 3)])
        .when(hold('r-2', 1, { slotStart: at(30), occupiedUntil: at(105) }))
        .thenThrows(IllegalStateError, {
          code: 'resource-busy',
          details: { remainingSeats: 0, busyFrom: SLOT, busyUntil: UNTIL },
        });
      // ... and the other way round: an earlier start that runs into a held slot.
      spec
        .given([held('r-1', 1, 3)])
        .when(hold('r-2', 1, { slotStart: at(-30), occupiedUntil: at(15) }))
        .thenThrows(IllegalStateError, { code: 'resource-busy' });
    });

    it('refuses another service on the same start: two services never share a slot', () => {
      spec
        .given([held('r-1', 1, 3)])
        .when(hold('r-2', 1, { serviceId: 'aqua-fit' }))
        .thenThrows(IllegalStateError, { code: 'resource-busy' });
    });

    it('takes a slot that only touches a held one (back to back)', () => {
      spec
        .given([held('r-1', 1, 3)])
        .when(hold('r-2', 1, { slotStart: UNTIL, occupiedUntil: at(150) }))
        .then([held('r-2', 1, 3, { slotStart: UNTIL, occupiedUntil: at(150) })]);
    });

    it("never lets a reservation's own holds block it (a reschedule holds the new slot before freeing the old)", () => {
      spec
        .given([held('r-1', 1, 3)])
        .when(hold('r-1', 1, { slotStart: at(30), occupiedUntil: at(105) }))
        .then([held('r-1', 1, 3, { slotStart: at(30), occupiedUntil: at(105) })]);
    });

    it('reclaims expired tentative holds in the way in the same append', () => {
      spec
        .given([held('r-1', 2, 2), held('r-2', 2, 0)])
        .when(hold('r-3', 3, { now: LATER, expiresAt: null }))
        .then([
          released('r-1', 2, 2, 'hold-expired', LATER),
          released('r-2', 2, 4, 'hold-expired', LATER),
          held('r-3', 3, 1, { heldAt: LATER, expiresAt: null }),
        ]);
    });

    it('reclaims an expired hold of an overlapping slot, and leaves expired holds elsewhere alone', () => {
      const elsewhere = held('r-9', 1, 3, { slotStart: at(240), occupiedUntil: at(300) });
      spec
        .given([held('r-1', 1, 3), elsewhere])
        .when(hold('r-2', 1, { slotStart: at(30), occupiedUntil: at(105), now: LATER, expiresAt: null }))
        .then([
          released('r-1', 1, 4, 'hold-expired', LATER),
          held('r-2', 1, 3, { slotStart: at(30), occupiedUntil: at(105), heldAt: LATER, expiresAt: null }),
        ]);
    });

    it('never reclaims a confirmed hold', () => {
      spec
        .given([held('r-1', 2, 2), confirmed('r-1', 2), held('r-2', 2, 0)])
        .when(hold('r-3', 3, { now: LATER }))
        .thenThrows(IllegalStateError, { code: 'slot-full', details: { remainingSeats: 2 } });
    });

    it('lets a reservation whose own hold expired hold again', () => {
      spec
        .given([held('r-1', 2, 2)])
        .when(hold('r-1', 2, { now: LATER, expiresAt: null }))
        .then([released('r-1', 2, 4, 'hold-expired', LATER), held('r-1', 2, 2, { heldAt: LATER, expiresAt: null })]);
    });

    it('counts against the capacity given now (a reduced capacity takes effect for new holds)', () => {
      spec
        .given([held('r-1', 2, 2)])
        .when(hold('r-2', 1, { capacity: 2 }))
        .thenThrows(IllegalStateError, { code: 'slot-full', details: { remainingSeats: 0, capacity: 2 } });
    });

    it('refuses a command meant for another resource-day', () => {
      spec
        .given([held('r-1', 2, 2)])
        .when(hold('r-2', 1, { resourceId: 'pool-lane-2' }))
        .thenThrows(IllegalStateError, { code: 'slot-mismatch' });
      spec
        .given([held('r-1', 2, 2)])
        .when(
          hold('r-2', 1, {
            localDate: '2025-03-31',
            slotStart: '2025-03-31T07:00:00Z',
            occupiedUntil: '2025-03-31T08:00:00Z',
          }),
        )
        .thenThrows(IllegalStateError, { code: 'slot-mismatch' });
    });

    it('holds a slot running past midnight on the next day too, where it blocks the early slots', () => {
      const late = { slotStart: '2025-03-30T21:30:00.000Z', occupiedUntil: '2025-03-30T22:30:00.000Z' };
      const nextDay = { localDate: '2025-03-31', ...late };
      const state = spec
        .given([])
        .when(hold('r-1', 1, nextDay))
        .then([held('r-1', 1, 3, nextDay)]);
      expect(() =>
        slotInventoryDecider.decide(
          hold('r-2', 1, {
            localDate: '2025-03-31',
            slotStart: '2025-03-30T22:00:00.000Z',
            occupiedUntil: '2025-03-30T23:00:00.000Z',
          }),
          state,
        ),
      ).toThrow(expect.objectContaining({ code: 'resource-busy' }));
    });

    it.each([
      ['seats', { seats: 0 }, 'range'],
      ['capacity', { capacity: 0 }, 'range'],
      ['capacity', { capacity: 2.5 }, 'integer'],
      ['slotStart', { slotStart: '2025-03-30 07:00' }, 'instant-with-zone'],
      ['occupiedUntil', { occupiedUntil: SLOT }, 'after-slot-start'],
      ['expiresAt', { expiresAt: 'soon' }, 'instant-with-zone'],
      ['reservationId', { reservationId: 'a+b' }, 'id'],
      ['localDate', { localDate: '2025-03-31' }, 'day-of-slot'],
      ['localDate', { localDate: '30.3.2025' }, 'local-date'],
      ['timeZone', { timeZone: '+02:00' }, 'iana-time-zone'],
      ['serviceId', { serviceId: 'a b' }, 'id'],
    ] as const)('rejects a bad %s', (field, overrides, rule) => {
      spec
        .given([])
        .when(hold('r-1', 1, overrides as Partial<HoldSeats['data']>))
        .thenThrows(ValidationError, { details: { field, rule } });
    });
  });

  describe('ReleaseSeats', () => {
    it('frees the seats of a tentative hold', () => {
      spec
        .given([held('r-1', 2, 2), held('r-2', 2, 0)])
        .when(release('r-1'))
        .then([released('r-1', 2, 2)]);
    });

    it('frees the seats of a confirmed hold', () => {
      spec
        .given([held('r-1', 2, 2), confirmed('r-1', 2)])
        .when(release('r-1', 'not-taken'))
        .then([released('r-1', 2, 4, 'not-taken')]);
    });

    it('frees only the named slot of a reservation that holds two (the old one after a reschedule)', () => {
      const newer = { slotStart: at(120), occupiedUntil: at(180) };
      spec
        .given([held('r-1', 1, 3), held('r-1', 1, 3, newer)])
        .when(release('r-1', 'rescheduled', NOW, SLOT))
        .then([released('r-1', 1, 4, 'rescheduled')]);
      spec
        .given([held('r-1', 1, 3), held('r-1', 1, 3, newer)])
        .when(release('r-1', 'cancelled'))
        .then([released('r-1', 1, 4), released('r-1', 1, 4, 'cancelled', NOW, at(120))]);
    });

    it('is a no-op for a reservation that holds nothing (never held or already released)', () => {
      spec.given([]).when(release('r-1')).thenNothing();
      spec
        .given([held('r-1', 2, 2), released('r-1', 2, 4)])
        .when(release('r-1'))
        .thenNothing();
    });

    it('needs a known reason', () => {
      spec
        .given([held('r-1', 2, 2)])
        .when(release('r-1', 'because' as SlotReleaseReason))
        .thenThrows(ValidationError, { details: { field: 'reason', rule: 'one-of' } });
    });
  });

  describe('ConfirmSeats', () => {
    it('makes a tentative hold final', () => {
      const state = spec
        .given([held('r-1', 2, 2)])
        .when(confirm('r-1'))
        .then([confirmed('r-1', 2)]);
      expect(holdsIn(state)).toMatchObject([{ reservationId: 'r-1', slotStart: SLOT, status: 'confirmed', seats: 2 }]);
    });

    it('confirms an expired hold nobody reclaimed: its seats are still there', () => {
      spec
        .given([held('r-1', 2, 2)])
        .when(confirm('r-1', LATER))
        .then([confirmed('r-1', 2, LATER)]);
    });

    it('confirms only the named slot', () => {
      const newer = { slotStart: at(120), occupiedUntil: at(180) };
      spec
        .given([held('r-1', 1, 3), held('r-1', 1, 3, newer)])
        .when(confirm('r-1', NOW, at(120)))
        .then([confirmed('r-1', 1, NOW, at(120))]);
    });

    it('is a no-op on a confirmed hold', () => {
      spec
        .given([held('r-1', 2, 2), confirmed('r-1', 2)])
        .when(confirm('r-1'))
        .thenNothing();
    });

    it('refuses when the hold is gone (released, or reclaimed after expiry)', () => {
      spec
        .given([])
        .when(confirm('r-1'))
        .thenThrows(IllegalStateError, { code: 'slot-hold-not-found', details: { reservationId: 'r-1' } });
      spec
        .given([held('r-1', 2, 2), released('r-1', 2, 4, 'hold-expired', LATER)])
        .when(confirm('r-1'))
        .thenThrows(IllegalStateError, { code: 'slot-hold-not-found' });
    });
  });

  it('keeps every state as it was when a later state is evolved from it (the log is shared, never rewritten)', () => {
    const base = fold(slotInventoryDecider, [held('r-1', 1, 3)]);
    const a = slotInventoryDecider.evolve(base, held('r-2', 1, 2));
    const b = slotInventoryDecider.evolve(base, released('r-1', 1, 4));
    const c = slotInventoryDecider.evolve(a, confirmed('r-2', 1));
    expect(holdsIn(base).map((hold) => hold.reservationId)).toEqual(['r-1']);
    expect(holdsIn(a).map((hold) => [hold.reservationId, hold.status])).toEqual([
      ['r-1', 'held'],
      ['r-2', 'held'],
    ]);
    expect(holdsIn(b)).toEqual([]);
    expect(holdsIn(c).map((hold) => [hold.reservationId, hold.status])).toEqual([
      ['r-1', 'held'],
      ['r-2', 'confirmed'],
    ]);
    expect(holdsIn(slotInventoryDecider.evolve(b, held('r-3', 2, 2))).map((hold) => hold.reservationId)).toEqual([
      'r-3',
    ]);
    expect(holdsIn(a).map((hold) => hold.reservationId)).toEqual(['r-1', 'r-2']);
  });

  describe('seat invariant (property)', () => {
    const CAPACITY = 5;
    const BASE = Date.parse(NOW);
    const reservationIds = ['r-1', 'r-2', 'r-3', 'r-4', 'r-5', 'r-6', 'r-7'];
    // Starts on a 15-minute grid from 09:00, 15-90 minutes long, two services: plenty of overlaps.
    const slotArb = fc.record({
      startStep: fc.integer({ min: 0, max: 12 }),
      lengthSteps: fc.integer({ min: 1, max: 6 }),
      serviceId: fc.constantFrom('swim', 'swim', 'aqua-fit'),
    });
    const slotOf = (slot: { startStep: number; lengthSteps: number; serviceId: string }) => ({
      slotStart: at(slot.startStep * 15),
      occupiedUntil: at((slot.startStep + slot.lengthSteps) * 15),
      serviceId: slot.serviceId,
    });
    const operation = fc.oneof(
      fc.record({
        kind: fc.constant('hold' as const),
        reservation: fc.constantFrom(...reservationIds),
        slot: slotArb,
        seats: fc.integer({ min: 1, max: 3 }),
        holdMinutes: fc.option(fc.integer({ min: 1, max: 30 }), { nil: null }),
      }),
      fc.record({
        kind: fc.constant('release' as const),
        reservation: fc.constantFrom(...reservationIds),
        reason: fc.constantFrom<SlotReleaseReason>('cancelled', 'declined', 'hold-expired', 'rescheduled'),
      }),
      fc.record({ kind: fc.constant('confirm' as const), reservation: fc.constantFrom(...reservationIds) }),
    );
    const step = fc.record({ operation, minutesLater: fc.integer({ min: 0, max: 10 }) });

    /** The rule, checked on a state: overlapping holds of different reservations are one slot, within capacity. */
    const expectOneSlotAtATime = (state: SlotInventoryState, capacity: number) => {
      const holds: SlotHold[] = holdsIn(state);
      for (const a of holds) {
        const sharing = holds.filter((b) => sharesSlot(a, b));
        expect(sharing.reduce((sum, b) => sum + b.seats, 0)).toBeLessThanOrEqual(capacity);
        for (const b of holds) {
          if (a.reservationId !== b.reservationId && overlaps(a, b)) expect(sharesSlot(a, b)).toBe(true);
        }
      }
    };

    it('never sells two overlapping slots of a resource, nor more seats than a slot has, whatever the sequence', () => {
      fc.assert(
        fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
          let state: SlotInventoryState = slotInventoryDecider.initialState();
          let clock = BASE;
          const confirmedHolds = new Map<string, number>();
          for (const { operation: op, minutesLater } of steps) {
            clock += minutesLater * 60_000;
            const now = new Date(clock).toISOString();
            const command: SlotInventoryCommand =
              op.kind === 'hold'
                ? hold(op.reservation, op.seats, {
                    ...slotOf(op.slot),
                    capacity: CAPACITY,
                    now,
                    expiresAt: op.holdMinutes === null ? null : new Date(clock + op.holdMinutes * 60_000).toISOString(),
                  })
                : op.kind === 'release'
                  ? release(op.reservation, op.reason, now)
                  : confirm(op.reservation, now);
            const before = heldSeats(state);
            let events: SlotInventoryEvent[] = [];
            try {
              events = slotInventoryDecider.decide(command, state);
            } catch (error) {
              // Only the expected refusals; nothing else may go wrong.
              expect(error).toBeInstanceOf(IllegalStateError);
              const code = (error as DomainError).code;
              expect(['slot-full', 'resource-busy', 'slot-hold-conflict', 'slot-hold-not-found']).toContain(code);
              if (code === 'slot-full' && op.kind === 'hold') {
                expect((error as DomainError).details.remainingSeats).toBeLessThan(op.seats);
              }
            }
            state = events.reduce(slotInventoryDecider.evolve, state);
            expectOneSlotAtATime(state, CAPACITY);
            // The stream alone tells the same story as the state.
            const fromEvents = events.reduce(
              (sum, event) =>
                sum +
                (event.type === 'SlotSeatsHeld'
                  ? event.data.seats
                  : event.type === 'SlotSeatsReleased'
                    ? -event.data.seats
                    : 0),
              before,
            );
            expect(heldSeats(state)).toBe(fromEvents);
            // A confirmed hold stays until its own reservation releases it: expiry never takes it.
            if (op.kind === 'release') {
              for (const key of [...confirmedHolds.keys()])
                if (key.startsWith(`${op.reservation}@`)) confirmedHolds.delete(key);
            }
            for (const event of events) {
              if (event.type === 'SlotSeatsConfirmed')
                confirmedHolds.set(`${event.data.reservationId}@${event.data.slotStart}`, event.data.seats);
            }
            for (const [key, seats] of confirmedHolds) {
              expect(holdsIn(state).find((hold) => `${hold.reservationId}@${hold.slotStart}` === key)).toMatchObject({
                status: 'confirmed',
                seats,
              });
            }
          }
        }),
        { numRuns: 500 },
      );
    });

    type Client = {
      phase: 'read' | 'write' | 'done';
      version: number;
      state: SlotInventoryState;
      outcome?: 'held' | 'refused';
    };

    /** Clients racing through read-decide-append on one in-memory stream, interleaved by `schedule`. */
    const race = (
      stream: SlotInventoryEvent[],
      commands: readonly HoldSeats[],
      schedule: readonly number[],
    ): Client[] => {
      const append = (events: SlotInventoryEvent[], expectedVersion: number) => {
        if (stream.length !== expectedVersion) return false;
        stream.push(...events);
        return true;
      };
      const clients: Client[] = commands.map(() => ({ phase: 'read', version: 0, state: { status: 'untouched' } }));
      let cursor = 0;
      while (clients.some((client) => client.phase !== 'done')) {
        const pending = clients.filter((client) => client.phase !== 'done');
        const client = pending[(schedule[cursor++ % schedule.length] ?? 0) % pending.length];
        if (!client) break;
        const command = commands[clients.indexOf(client)];
        if (!command) break;
        if (client.phase === 'read') {
          client.version = stream.length;
          client.state = fold(slotInventoryDecider, stream);
          client.phase = 'write';
          continue;
        }
        try {
          const events = slotInventoryDecider.decide(command, client.state);
          if (append(events, client.version)) {
            client.phase = 'done';
            client.outcome = 'held';
          } else {
            client.phase = 'read'; // version conflict: read again and retry
          }
        } catch (error) {
          expect(['slot-full', 'resource-busy']).toContain((error as DomainError).code);
          client.phase = 'done';
          client.outcome = 'refused';
        }
      }
      return clients;
    };

    it('lets exactly the remaining seats through when many clients race for them under optimistic concurrency', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 4 }), // seats already taken
          fc.integer({ min: 1, max: 12 }), // clients, one seat each
          fc.array(fc.nat(), { minLength: 200, maxLength: 200 }), // scheduler choices
          (taken, clients, schedule) => {
            const stream: SlotInventoryEvent[] = [];
            if (taken > 0)
              stream.push(held('walk-in', taken, CAPACITY - taken, { capacity: CAPACITY, expiresAt: null }));
            const commands = Array.from({ length: clients }, (_, index) =>
              hold(`r-${index}`, 1, { capacity: CAPACITY, expiresAt: null }),
            );
            const winners = race(stream, commands, schedule).filter((client) => client.outcome === 'held').length;
            expect(winners).toBe(Math.min(clients, CAPACITY - taken));
            expect(heldSeats(fold(slotInventoryDecider, stream))).toBe(taken + winners);
          },
        ),
        { numRuns: 300 },
      );
    });

    it('sells only one of several overlapping slots when clients race for different starts', () => {
      fc.assert(
        fc.property(
          fc.array(slotArb, { minLength: 2, maxLength: 8 }),
          fc.array(fc.nat(), { minLength: 200, maxLength: 200 }),
          (slots, schedule) => {
            const stream: SlotInventoryEvent[] = [];
            const commands = slots.map((slot, index) =>
              hold(`r-${index}`, 1, { ...slotOf(slot), capacity: 1, expiresAt: null }),
            );
            race(stream, commands, schedule);
            expectOneSlotAtATime(fold(slotInventoryDecider, stream), 1);
          },
        ),
        { numRuns: 300 },
      );
    });
  });
});
