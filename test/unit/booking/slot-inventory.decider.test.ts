import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type {
  HoldSeats,
  SlotInventoryCommand,
  SlotInventoryEvent,
  SlotInventoryState,
  SlotReleaseReason,
} from '../../../src/domain/booking/slot-inventory.decider.js';
import { heldSeats, slotInventoryDecider, slotStreamName } from '../../../src/domain/booking/slot-inventory.decider.js';
import { fold } from '../../../src/domain/shared/decider.js';
import type { DomainError } from '../../../src/domain/shared/errors.js';
import { IllegalStateError, ValidationError } from '../../../src/domain/shared/errors.js';
import { deciderSpec } from '../support/decider-spec.js';

const spec = deciderSpec(slotInventoryDecider);

const SLOT = '2025-03-30T07:00:00.000Z';
const UNTIL = '2025-03-30T08:15:00.000Z';
const NOW = '2025-03-20T10:00:00.000Z';
const EXPIRES = '2025-03-20T10:10:00.000Z';
const LATER = '2025-03-20T10:30:00.000Z';

const hold = (reservationId: string, seats: number, overrides: Partial<HoldSeats['data']> = {}): HoldSeats => ({
  type: 'HoldSeats',
  data: {
    resourceId: 'pool-lane-1',
    slotStart: SLOT,
    reservationId,
    seats,
    capacity: 4,
    occupiedUntil: UNTIL,
    expiresAt: EXPIRES,
    now: NOW,
    ...overrides,
  },
});
const release = (reservationId: string, reason: SlotReleaseReason = 'cancelled', now = NOW): SlotInventoryCommand => ({
  type: 'ReleaseSeats',
  data: { reservationId, reason, now },
});
const confirm = (reservationId: string, now = NOW): SlotInventoryCommand => ({
  type: 'ConfirmSeats',
  data: { reservationId, now },
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
    slotStart: SLOT,
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
): SlotInventoryEvent => ({
  type: 'SlotSeatsReleased',
  data: { resourceId: 'pool-lane-1', slotStart: SLOT, reservationId, seats, reason, remainingSeats, releasedAt },
});
const confirmed = (reservationId: string, seats: number): SlotInventoryEvent => ({
  type: 'SlotSeatsConfirmed',
  data: { resourceId: 'pool-lane-1', slotStart: SLOT, reservationId, seats, confirmedAt: NOW },
});

describe('slot inventory decider', () => {
  it('names streams slot-<tenant>+<resource>+<start in UTC>, so equal instants share a stream', () => {
    expect(slotStreamName('acme', 'pool-lane-1', '2025-03-30T09:00:00+02:00')).toBe(
      'slot-acme+pool-lane-1+2025-03-30T07:00:00.000Z',
    );
    expect(slotStreamName('acme', 'pool-lane-1', SLOT)).toBe(
      slotStreamName('acme', 'pool-lane-1', '2025-03-30T07:00Z'),
    );
    expect(() => slotStreamName('acme', 'pool-lane-1', '2025-03-30T09:00')).toThrow(ValidationError);
  });

  describe('HoldSeats', () => {
    it('holds seats on an untouched slot', () => {
      spec
        .given([])
        .when(hold('r-1', 2))
        .then([held('r-1', 2, 2)]);
    });

    it('holds the last seats', () => {
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

    it('reclaims expired tentative holds in the same append when seats are needed', () => {
      spec
        .given([held('r-1', 2, 2), held('r-2', 2, 0)])
        .when(hold('r-3', 3, { now: LATER, expiresAt: null }))
        .then([
          released('r-1', 2, 2, 'hold-expired', LATER),
          released('r-2', 2, 4, 'hold-expired', LATER),
          held('r-3', 3, 1, { heldAt: LATER, expiresAt: null }),
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

    it('refuses a command meant for another slot', () => {
      spec
        .given([held('r-1', 2, 2)])
        .when(hold('r-2', 1, { resourceId: 'pool-lane-2' }))
        .thenThrows(IllegalStateError, { code: 'slot-mismatch' });
    });

    it.each([
      ['seats', { seats: 0 }, 'range'],
      ['capacity', { capacity: 0 }, 'range'],
      ['capacity', { capacity: 2.5 }, 'integer'],
      ['slotStart', { slotStart: '2025-03-30 07:00' }, 'instant-with-zone'],
      ['occupiedUntil', { occupiedUntil: SLOT }, 'after-slot-start'],
      ['expiresAt', { expiresAt: 'soon' }, 'instant-with-zone'],
      ['reservationId', { reservationId: 'a+b' }, 'id'],
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
      expect(state).toMatchObject({ holds: { 'r-1': { status: 'confirmed', seats: 2 } } });
    });

    it('confirms an expired hold nobody reclaimed: its seats are still there', () => {
      spec
        .given([held('r-1', 2, 2)])
        .when(confirm('r-1', LATER))
        .then([
          { ...confirmed('r-1', 2), data: { ...confirmed('r-1', 2).data, confirmedAt: LATER } } as SlotInventoryEvent,
        ]);
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

  describe('seat invariant (property)', () => {
    const CAPACITY = 5;
    const BASE = Date.parse(NOW);
    const reservationIds = ['r-1', 'r-2', 'r-3', 'r-4', 'r-5', 'r-6', 'r-7'];
    const operation = fc.oneof(
      fc.record({
        kind: fc.constant('hold' as const),
        reservation: fc.constantFrom(...reservationIds),
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

    it('never holds more seats than the capacity, for any sequence of holds, releases, confirmations and expiries', () => {
      fc.assert(
        fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
          let state: SlotInventoryState = slotInventoryDecider.initialState();
          let clock = BASE;
          const confirmedSeats = new Map<string, number>();
          for (const { operation: op, minutesLater } of steps) {
            clock += minutesLater * 60_000;
            const now = new Date(clock).toISOString();
            const command: SlotInventoryCommand =
              op.kind === 'hold'
                ? hold(op.reservation, op.seats, {
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
              expect(['slot-full', 'slot-hold-conflict', 'slot-hold-not-found']).toContain((error as DomainError).code);
              if ((error as DomainError).code === 'slot-full') {
                expect((error as DomainError).details.remainingSeats).toBeLessThan(
                  op.kind === 'hold' ? op.seats : Infinity,
                );
              }
            }
            state = events.reduce(slotInventoryDecider.evolve, state);
            expect(heldSeats(state)).toBeLessThanOrEqual(CAPACITY);
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
            if (op.kind === 'release') confirmedSeats.delete(op.reservation);
            for (const event of events)
              if (event.type === 'SlotSeatsConfirmed') confirmedSeats.set(event.data.reservationId, event.data.seats);
            for (const [reservationId, seats] of confirmedSeats) {
              expect(state.status === 'open' ? state.holds[reservationId] : undefined).toMatchObject({
                status: 'confirmed',
                seats,
              });
            }
          }
        }),
        { numRuns: 500 },
      );
    });

    it('lets exactly the remaining seats through when many clients race for them under optimistic concurrency', () => {
      // An in-memory stream with an expected-version append, the way the command handler uses the event store.
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 4 }), // seats already taken
          fc.integer({ min: 1, max: 12 }), // clients, one seat each
          fc.array(fc.nat(), { minLength: 200, maxLength: 200 }), // scheduler choices
          (taken, clients, schedule) => {
            const stream: SlotInventoryEvent[] = [];
            const append = (events: SlotInventoryEvent[], expectedVersion: number) => {
              if (stream.length !== expectedVersion) return false;
              stream.push(...events);
              return true;
            };
            if (taken > 0)
              append([held('walk-in', taken, CAPACITY - taken, { capacity: CAPACITY, expiresAt: null })], 0);

            type Client = {
              phase: 'read' | 'write' | 'done';
              version: number;
              state: SlotInventoryState;
              outcome?: 'held' | 'full';
            };
            const states: Client[] = Array.from({ length: clients }, () => ({
              phase: 'read',
              version: 0,
              state: { status: 'untouched' },
            }));
            let cursor = 0;
            while (states.some((client) => client.phase !== 'done')) {
              const pending = states.filter((client) => client.phase !== 'done');
              const client = pending[(schedule[cursor++ % schedule.length] ?? 0) % pending.length];
              if (!client) break;
              const index = states.indexOf(client);
              if (client.phase === 'read') {
                client.version = stream.length;
                client.state = fold(slotInventoryDecider, stream);
                client.phase = 'write';
                continue;
              }
              try {
                const events = slotInventoryDecider.decide(
                  hold(`r-${index}`, 1, { capacity: CAPACITY, expiresAt: null }),
                  client.state,
                );
                if (append(events, client.version)) {
                  client.phase = 'done';
                  client.outcome = 'held';
                } else {
                  client.phase = 'read'; // version conflict: read again and retry
                }
              } catch (error) {
                expect((error as DomainError).code).toBe('slot-full');
                client.phase = 'done';
                client.outcome = 'full';
              }
            }
            const winners = states.filter((client) => client.outcome === 'held').length;
            expect(winners).toBe(Math.min(clients, CAPACITY - taken));
            expect(heldSeats(fold(slotInventoryDecider, stream))).toBe(taken + winners);
          },
        ),
        { numRuns: 300 },
      );
    });
  });
});
