import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DomainError, IllegalStateError, NotFoundError } from '../../../src/domain/shared/errors.js';
import {
  findOffer,
  positionOf,
  waitingInOrder,
  waitlistDecider,
  type FreeSeats,
  type OpenWaitlistState,
  type WaitlistCommand,
  type WaitlistEntry,
  type WaitlistEvent,
  type WaitlistState,
} from '../../../src/domain/waitlist/waitlist.decider.js';
import { ACTOR, allocate, answer, customer, expire, join, MIN, NOW, START, withdraw } from './fixtures.js';

/**
 * The waitlist decider against a model of the seats around it: two lanes with a capacity each, public bookings, and
 * the seats of open offers and booked entries. Free seats are what the inventory would report (capacity minus
 * everything held), and every seat-freeing step allocates like the waitlist manager does. Random sequences of
 * joins, leaves, removals, skips, cancellations, capacity changes, answers, expiries and time passing; after every
 * step the rules users notice must hold.
 */

const LANES = ['lane-1', 'lane-2'] as const;
type Lane = (typeof LANES)[number];
const BASE = Date.parse(NOW);
/** The slot starts 12 hours after the first step: some runs reach the deadline. */
const DEADLINE = new Date(BASE + 12 * 60 * MIN).toISOString();
const WINDOW_SECONDS = 15 * 60;

const laneArb = fc.constantFrom<Lane>(...LANES);
const operation = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('join' as const),
      customer: fc.integer({ min: 1, max: 8 }),
      partySize: fc.integer({ min: 1, max: 3 }),
      lane: fc.option(laneArb, { nil: null, freq: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('leave' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('skip' as const), pick: fc.nat() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('cancel' as const),
      lane: laneArb,
      seats: fc.integer({ min: 1, max: 2 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('book' as const), lane: laneArb }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('capacity' as const),
      lane: laneArb,
      change: fc.integer({ min: -2, max: 2 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('accept' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('decline' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('expire' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('withdraw' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('override' as const), pick: fc.nat(), assign: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('close' as const) }) },
);
const step = fc.record({
  operation,
  minutesLater: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 60, max: 240 })),
  mode: fc.constantFrom<'offer' | 'assign'>('offer', 'offer', 'assign'),
});

interface World {
  state: WaitlistState;
  now: number;
  capacity: Record<Lane, number>;
  /** Seats of bookings from outside the list (and seats lost to them). */
  publicSeats: Record<Lane, number>;
  causes: number;
  joins: number;
  offerIds: Set<string>;
  freedCauses: string[];
  /** An offer went unanswered since the last offer, assignment or exhaustion. */
  unanswered: boolean;
}

const open = (world: World) => world.state as OpenWaitlistState;
const entries = (world: World): readonly WaitlistEntry[] => (world.state.status === 'none' ? [] : world.state.entries);
const nowOf = (world: World) => new Date(world.now).toISOString();

/** Seats of the list's own customers: open offers and entries that got a seat. */
function listSeats(world: World, lane: Lane): number {
  return entries(world)
    .filter(
      (e) => e.offer && e.offer.resourceId === lane && (e.offer.status === 'open' || e.offer.status === 'accepted'),
    )
    .reduce((sum, e) => sum + (e.offer?.seats ?? 0), 0);
}

function freeSeats(world: World): FreeSeats[] {
  return LANES.map((lane) => ({
    resourceId: lane,
    seats: Math.max(0, world.capacity[lane] - world.publicSeats[lane] - listSeats(world, lane)),
  }));
}

const fits = (entry: WaitlistEntry, free: readonly FreeSeats[]) =>
  free.some((f) => (entry.resourceId ?? f.resourceId) === f.resourceId && f.seats >= entry.partySize);

function pickOf<T>(items: readonly T[], pick: number): T | undefined {
  return items.length === 0 ? undefined : items[pick % items.length];
}

const openOffers = (world: World) => entries(world).filter((e) => e.offer?.status === 'open');

/** Decides and applies; a refusal must be one of the typed business refusals and changes nothing. */
function run(world: World, command: WaitlistCommand, allowed: readonly string[]): WaitlistEvent[] {
  let events: WaitlistEvent[];
  try {
    events = waitlistDecider.decide(command, world.state);
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    expect(error instanceof IllegalStateError || error instanceof NotFoundError).toBe(true);
    expect(allowed).toContain((error as DomainError).code);
    return [];
  }
  world.state = events.reduce(waitlistDecider.evolve, world.state);
  return events;
}

/** Allocation as the manager runs it, checked against the rules of order, seats and exhaustion. */
function allocateFreed(world: World, mode: 'offer' | 'assign', withCause: boolean): void {
  const before = world.state;
  const free = freeSeats(world);
  const occupancy = LANES.map((lane) => world.publicSeats[lane] + listSeats(world, lane));
  const cause = withCause
    ? { eventId: `cause-${++world.causes}`, reason: 'cancelled', freedAt: nowOf(world) }
    : undefined;
  const events = run(
    world,
    allocate(free, {
      mode,
      window: WINDOW_SECONDS,
      deadline: DEADLINE,
      now: nowOf(world),
      ...(cause ? { cause } : {}),
    }),
    [],
  );
  const line = waitingInOrder(before);
  const pastDeadline = world.now >= Date.parse(DEADLINE) || before.status === 'closed';
  if (pastDeadline) expect(events).toEqual([]);

  // Seats: what is given per lane never exceeds what was free on it.
  const remaining = free.map((f) => ({ ...f }));
  const allocated: string[] = [];
  for (const event of events) {
    if (event.type !== 'WaitlistOfferMade' && event.type !== 'WaitlistSeatAssigned') continue;
    const entry = line.find((e) => e.entryId === event.data.entryId);
    expect(entry, 'only a waiting entry gets a seat').toBeDefined();
    const target = remaining.find((f) => f.resourceId === event.data.resourceId)!;
    // Offers follow joining order: nobody ahead who was passed over fits the seats free at this moment.
    for (const ahead of line) {
      if (ahead.seq >= entry!.seq) break;
      if (!allocated.includes(ahead.entryId))
        expect(fits(ahead, remaining), `${ahead.entryId} was passed over`).toBe(false);
    }
    expect(event.data.seats).toBe(entry!.partySize);
    expect(entry!.resourceId ?? event.data.resourceId).toBe(event.data.resourceId);
    target.seats -= event.data.seats;
    expect(target.seats).toBeGreaterThanOrEqual(0);
    expect(world.offerIds.has(event.data.offerId), 'an offer id is never reused').toBe(false);
    world.offerIds.add(event.data.offerId);
    allocated.push(entry!.entryId);
    if (event.type === 'WaitlistOfferMade') {
      expect(Date.parse(event.data.expiresAt)).toBe(Math.min(world.now + WINDOW_SECONDS * 1000, Date.parse(DEADLINE)));
    }
  }
  // Every freed seat is offered down the line: afterwards nobody waiting fits what is still free.
  if (!pastDeadline) {
    for (const entry of waitingInOrder(world.state))
      expect(fits(entry, freeSeats(world)), `${entry.entryId} fits`).toBe(false);
  }
  // The seats held after the allocation never exceed a lane's capacity unless they did before (capacity lowered).
  LANES.forEach((lane, index) => {
    const after = world.publicSeats[lane] + listSeats(world, lane);
    if (after > world.capacity[lane]) expect(after).toBeLessThanOrEqual(occupancy[index]!);
  });
  // A freed seat is recorded once per cause, and only when someone waiting fits it.
  const freed = events.filter((e) => e.type === 'WaitlistSeatsFreed');
  if (cause) {
    expect(freed.length).toBe(!pastDeadline && line.some((e) => fits(e, free)) ? 1 : 0);
  }
  // Exhausted: only after an unanswered offer, when seats are left that nobody waiting fits.
  const exhausted = events.find((e) => e.type === 'WaitlistExhausted');
  const leftOver = remaining.some((f) => f.seats > 0);
  const expectExhausted = world.unanswered && !pastDeadline && leftOver;
  expect(exhausted !== undefined).toBe(expectExhausted);
  if (allocated.length > 0 || exhausted) world.unanswered = false;
}

function applyStep(world: World, s: StepValue): void {
  world.now += s.minutesLater * MIN;
  const now = nowOf(world);
  const op = s.operation;
  // Mostly active entries, sometimes ended ones (refused).
  const active = entries(world).filter((e) => e.status === 'waiting' || e.status === 'offered');
  const candidates = [...active, ...active, ...entries(world)];
  let freesSeats = false;
  switch (op.kind) {
    case 'join': {
      if (world.now >= Date.parse(START)) return;
      const command = join(op.customer, {
        customer: customer(op.customer),
        partySize: op.partySize,
        resourceId: op.lane,
        now,
        maxEntries: 6,
      });
      // A fresh entry id per attempt: "one active entry per customer" is the decider's call.
      const events = run(world, { ...command, data: { ...command.data, entryId: `j${++world.joins}` } }, [
        'waitlist-full',
        'waitlist-closed',
      ]);
      if (events.length === 0 && world.state.status !== 'none') {
        const key = `id:c${op.customer}`;
        const activeOfCustomer = world.state.entries.some(
          (e) => e.customerKey === key && (e.status === 'waiting' || e.status === 'offered'),
        );
        const activeCount = world.state.entries.filter((e) => e.status === 'waiting' || e.status === 'offered').length;
        expect(activeOfCustomer || activeCount >= 6 || world.state.status === 'closed').toBe(true);
      }
      for (const event of events)
        if (event.type === 'WaitlistEntryJoined') {
          const state = open(world);
          expect(positionOf(state, event.data.entryId)).toBe(event.data.position);
        }
      freesSeats = events.length > 0; // a join allocates too (seats may be free already)
      break;
    }
    case 'leave':
    case 'remove':
    case 'skip': {
      const entry = pickOf(candidates, op.pick);
      if (!entry) return;
      const stamped = { entryId: entry.entryId, now, actor: ACTOR };
      const command: WaitlistCommand =
        op.kind === 'leave'
          ? { type: 'LeaveWaitlist', data: stamped }
          : op.kind === 'remove'
            ? { type: 'RemoveEntry', data: { ...stamped, reason: 'staff' } }
            : { type: 'SkipEntry', data: { ...stamped, reason: 'staff' } };
      const hadOffer = entry.offer?.status === 'open';
      const events = run(world, command, ['waitlist-entry-not-active']);
      if (hadOffer && events.length > 0) world.unanswered = true;
      freesSeats = events.length > 0;
      break;
    }
    case 'cancel':
      if (world.publicSeats[op.lane] === 0) return;
      world.publicSeats[op.lane] = Math.max(0, world.publicSeats[op.lane] - op.seats);
      freesSeats = true;
      break;
    case 'book': {
      // The booking gate: the public books only seats nobody waiting fits.
      const free = freeSeats(world).find((f) => f.resourceId === op.lane)!;
      const someoneFits = waitingInOrder(world.state).some((e) => fits(e, [free]));
      if (free.seats > 0 && !someoneFits) world.publicSeats[op.lane] += 1;
      return;
    }
    case 'capacity':
      world.capacity[op.lane] = Math.max(1, Math.min(6, world.capacity[op.lane] + op.change));
      freesSeats = op.change > 0;
      break;
    case 'accept':
    case 'decline':
    case 'expire':
    case 'withdraw': {
      const entry = pickOf(op.kind === 'accept' || op.kind === 'decline' ? entries(world) : openOffers(world), op.pick);
      const offerId = entry?.offer?.offerId;
      if (!offerId) return;
      const wasOpen = entry.offer?.status === 'open';
      if (op.kind === 'accept') {
        const events = run(world, answer('AcceptOffer', offerId, now), ['offer-expired', 'offer-not-open']);
        if (events.length > 0) {
          expect(wasOpen).toBe(true);
          expect(world.now).toBeLessThan(Date.parse(entry.offer!.expiresAt));
        }
        return;
      }
      if (op.kind === 'decline') {
        const events = run(world, answer('DeclineOffer', offerId, now), ['offer-expired', 'offer-not-open']);
        if (events.length > 0) world.unanswered = true;
        freesSeats = events.length > 0;
        break;
      }
      if (op.kind === 'expire') {
        const events = run(world, expire(offerId, now), ['offer-not-expired']);
        if (events.length > 0) {
          expect(world.now).toBeGreaterThanOrEqual(Date.parse(entry.offer!.expiresAt));
          world.unanswered = true;
        }
        freesSeats = events.length > 0;
        break;
      }
      // The offer's seats were taken by someone else (lost on the inventory): the entry goes back in its place.
      const seq = entry.seq;
      const events = run(world, withdraw(offerId, now), []);
      if (events.length > 0) {
        const lane = entry.offer!.resourceId as Lane;
        world.publicSeats[lane] += entry.offer!.seats;
        const back = open(world).entries.find((e) => e.entryId === entry.entryId)!;
        expect(back).toMatchObject({ status: 'waiting', seq });
      }
      return;
    }
    case 'override': {
      const entry = pickOf(waitingInOrder(world.state), op.pick);
      if (!entry) return;
      const free = freeSeats(world);
      const events = run(
        world,
        allocate(free, {
          entryId: entry.entryId,
          override: { by: ACTOR, reason: 'promised' },
          mode: op.assign ? 'assign' : 'offer',
          deadline: DEADLINE,
          now,
        }),
        ['no-free-seat', 'waitlist-closed'],
      );
      // Out of order on purpose, but never more seats than are free, and only to the chosen entry.
      for (const event of events) {
        if (event.type === 'WaitlistOfferMade' || event.type === 'WaitlistSeatAssigned') {
          expect(event.data.entryId).toBe(entry.entryId);
          expect(event.data.override).toEqual({ by: ACTOR, reason: 'promised' });
          expect(free.find((f) => f.resourceId === event.data.resourceId)!.seats).toBeGreaterThanOrEqual(
            event.data.seats,
          );
          expect(world.offerIds.has(event.data.offerId)).toBe(false);
          world.offerIds.add(event.data.offerId);
          world.unanswered = false;
        }
      }
      if (events.length === 0) expect(fits(entry, free) && world.now < Date.parse(DEADLINE)).toBe(false);
      return;
    }
    case 'close':
      run(world, { type: 'CloseWaitlist', data: { deadline: DEADLINE, now, actor: ACTOR } }, ['waitlist-not-due']);
      return;
  }
  if (freesSeats && world.state.status !== 'none') allocateFreed(world, s.mode, op.kind === 'cancel');
}

type StepValue = StepOf<typeof step>;
type StepOf<A> = A extends fc.Arbitrary<infer T> ? T : never;

/** What holds after every step, whatever happened. */
function expectConsistent(world: World): void {
  if (world.state.status === 'none') return;
  const state = world.state;
  // A strict line: no ties, positions 1..n in joining order.
  const line = waitingInOrder(state);
  line.forEach((entry, index) => expect(positionOf(state, entry.entryId)).toBe(index + 1));
  const seqs = state.entries.filter((e) => e.status === 'waiting' || e.status === 'offered').map((e) => e.seq);
  expect(new Set(seqs).size).toBe(seqs.length);
  // One active entry per customer.
  const customers = state.entries
    .filter((e) => e.status === 'waiting' || e.status === 'offered')
    .map((e) => e.customerKey);
  expect(new Set(customers).size).toBe(customers.length);
  for (const entry of state.entries) {
    // An entry is offered exactly when its latest offer is open; booked exactly when it was accepted or assigned.
    expect(entry.status === 'offered').toBe(entry.offer?.status === 'open');
    expect(entry.status === 'booked').toBe(entry.offer?.status === 'accepted');
    if (entry.status === 'booked') expect(entry.reservationId).toBe(entry.offer?.offerId);
  }
  // An open offer has exactly one outcome against its expiry, whatever the moment.
  for (const entry of openOffers(world)) {
    const offerId = entry.offer!.offerId;
    for (const at of [world.now, Date.parse(entry.offer!.expiresAt) - 1, Date.parse(entry.offer!.expiresAt)]) {
      const now = new Date(at).toISOString();
      const outcome = (command: WaitlistCommand) => {
        try {
          return waitlistDecider.decide(command, state);
        } catch (error) {
          return error as DomainError;
        }
      };
      const accepted = outcome(answer('AcceptOffer', offerId, now));
      const expired = outcome(expire(offerId, now));
      expect(Array.isArray(accepted) !== Array.isArray(expired), `one of accept/expire at ${now}`).toBe(true);
      if (Array.isArray(accepted)) {
        const after = accepted.reduce(waitlistDecider.evolve, state);
        expect(waitlistDecider.decide(expire(offerId, new Date(at + 60 * MIN).toISOString()), after)).toEqual([]);
        expect(findOffer(after, offerId)?.offer.status).toBe('accepted');
      } else {
        expect((accepted as DomainError).code).toBe('offer-expired');
        const after = (expired as WaitlistEvent[]).reduce(waitlistDecider.evolve, state);
        expect(() =>
          waitlistDecider.decide(answer('AcceptOffer', offerId, new Date(at - MIN).toISOString()), after),
        ).toThrow(expect.objectContaining({ code: 'offer-expired' }));
      }
    }
  }
}

describe('waitlist decider properties', () => {
  it('offers follow joining order, never more seats than are free, every freed seat goes down the line, one outcome per offer', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 50 }), (steps) => {
        const world: World = {
          state: waitlistDecider.initialState(),
          now: BASE,
          capacity: { 'lane-1': 2, 'lane-2': 3 },
          // The slot starts full: the list only exists for full slots.
          publicSeats: { 'lane-1': 2, 'lane-2': 3 },
          causes: 0,
          joins: 0,
          offerIds: new Set(),
          freedCauses: [],
          unanswered: false,
        };
        for (const s of steps) {
          applyStep(world, s);
          expectConsistent(world);
        }
      }),
      { numRuns: 400 },
    );
  });
});
