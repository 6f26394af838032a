import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/application/ports/clock.port.js';
import type { EventStore, RecordedEvent } from '../../src/application/ports/event-store.port.js';
import type { ScheduledJob } from '../../src/application/ports/scheduler.port.js';
import {
  OFFER_EXPIRY_JOB,
  WAITLIST_CLOSE_JOB,
  offerExpiryKey,
  waitlistIdFor,
} from '../../src/application/waitlist/waitlist-commands.js';
import {
  reservationDecider,
  type ReservationEvent,
  type ReservationState,
} from '../../src/domain/booking/reservation.decider.js';
import {
  holdsIn,
  slotInventoryDecider,
  type SlotHold,
  type SlotInventoryEvent,
  type SlotInventoryState,
} from '../../src/domain/booking/slot-inventory.decider.js';
import { serviceDecider, type ServiceEvent, type ServiceState } from '../../src/domain/catalog/service.decider.js';
import { ConcurrencyError } from '../../src/domain/shared/errors.js';
import {
  waitingInOrder,
  waitlistDecider,
  waitlistStreamName,
  type WaitlistEntry,
  type WaitlistEvent,
  type WaitlistState,
} from '../../src/domain/waitlist/waitlist.decider.js';
import { createSqliteEventStore } from '../../src/infrastructure/sqlite/sqlite-event-store.js';
import { silentLogger } from '../support/silent-logger.js';
import { startTestHerald, type TestHerald } from '../support/test-herald.js';

/**
 * The waitlist as a whole, on real (embedded, in-memory) stores, driven the way production drives it: HTTP requests
 * (joins, leaves, skips, removals, cancellations with their inline allocation, capacity changes, the list switched
 * off and on, answers, admin offers), the waitlist manager reacting to what they record, and the expiry jobs run by
 * hand at a clock the test moves. Random waves of operations run concurrently (`Promise.all`), and the event store
 * yields at random between reads and appends so that their steps interleave and optimistic concurrency is exercised
 * (the conflicts are counted).
 *
 * After every run the whole history of the tenant is replayed from the event store (the truth) and checked:
 * (a) no seat is double-booked: every hold fits the capacity it was taken under, every confirmed reservation and
 *     every open offer has its own hold, and no hold outlives its owner;
 * (b) offers follow joining order: whoever was passed over for an offer could not fit the seats free at that moment;
 * (c) at quiescence, no waiting entry fits the seats still free;
 * (d) an offer's seats are never given back while it is open; an accept racing the expiry has exactly one outcome.
 */

const BASE = Date.parse('2030-06-01T08:00:00.000Z');
// 2030-06-03 10:00 in Oslo: the slot every run waits for (each run is its own tenant).
const START = new Date('2030-06-03T10:00:00+02:00').toISOString();
const LANES = ['lane-1', 'lane-2'] as const;
const WINDOW_SECONDS = 600;

interface TestClock extends Clock {
  /** Moves the clock forward (never back). */
  set(ms: number): void;
  /** A new run, a new tenant: time starts again. */
  reset(ms: number): void;
  at(): number;
  /** Milliseconds added after every reading: time passes while concurrent steps run. */
  tick: number;
}

function testClock(): TestClock {
  let now = BASE;
  const clock: TestClock = {
    tick: 0,
    now() {
      const date = new Date(now);
      now += clock.tick;
      return date;
    },
    set(ms) {
      now = Math.max(now, ms);
    },
    reset(ms) {
      now = ms;
    },
    at: () => now,
  };
  return clock;
}

/** Small fast PRNG so that a run's interleaving follows its seed. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface YieldingStore extends EventStore {
  conflicts: number;
  random: () => number;
}

/** The embedded store answers at once; this one yields at random first, like a networked store would. */
function withYields(store: EventStore): YieldingStore {
  const pause = (): Promise<void> => {
    const r = wrapped.random();
    if (r < 0.4) return Promise.resolve();
    if (r < 0.9) return new Promise((resolve) => setImmediate(resolve));
    return new Promise((resolve) => setTimeout(resolve, 1));
  };
  const wrapped: YieldingStore = {
    ...store,
    conflicts: 0,
    random: Math.random,
    async readStream(streamName) {
      await pause();
      return store.readStream(streamName);
    },
    async appendToStream(streamName, events, expectedRevision) {
      await pause();
      try {
        return await store.appendToStream(streamName, events, expectedRevision);
      } catch (error) {
        if (error instanceof ConcurrencyError) wrapped.conflicts++;
        throw error;
      }
    },
  };
  return wrapped;
}

// Operations --------------------------------------------------------------------------------------------------------

const pick = fc.nat({ max: 1000 });
const joining = fc.record({
  kind: fc.constant('join' as const),
  customer: fc.integer({ min: 1, max: 9 }),
  partySize: fc.constantFrom(1, 1, 2),
  lane: fc.constantFrom(null, null, 0, 1),
});
const operation = fc.oneof(
  { weight: 5, arbitrary: joining },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('leave' as const), pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('skip' as const), pick }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('cancel' as const), pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('book' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('capacity' as const), delta: fc.constantFrom(-1, 1, 1) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('accept' as const), pick }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('decline' as const), pick }) },
  {
    weight: 2,
    // Milliseconds before the window closes; at or after it (lead <= 0) the accept comes too late.
    arbitrary: fc.record({ kind: fc.constant('race' as const), pick, lead: fc.integer({ min: -20, max: 40 }) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('override' as const), pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('switch' as const) }) },
);
type Operation = typeof operation extends fc.Arbitrary<infer T> ? T : never;

const wave = fc.record({
  operations: fc.array(operation, { minLength: 1, maxLength: 3 }),
  /** Time passing before the wave: expiry jobs that are due run during it. */
  minutesLater: fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 1, max: 12 })),
  settle: fc.boolean(),
});
const scenario = fc.record({
  seatsPerSlot: fc.integer({ min: 1, max: 3 }),
  mode: fc.constantFrom<'offer' | 'assign'>('offer', 'offer', 'assign'),
  /** Customers in line before the first wave. */
  waiting: fc.array(joining, { maxLength: 4 }),
  waves: fc.array(wave, { minLength: 1, maxLength: 9 }),
  seed: fc.integer(),
});
type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

/**
 * One scenario run first, before the random ones, in which every outcome a customer can see happens: a freed seat
 * offered, declined, offered to the next, left to run out, offered to the third and accepted. Fifty random runs saw no
 * decline (or no expiry) in about one suite run out of three, which failed the "never happened" checks below
 * although every property held; this one makes those checks about the random runs' properties, not their luck.
 */
const EVERY_OUTCOME: Scenario = {
  seatsPerSlot: 1,
  mode: 'offer',
  waiting: [1, 2, 3].map((customer) => ({ kind: 'join' as const, customer, partySize: 1, lane: null })),
  waves: [
    // A booked seat is cancelled: offered to the first in line.
    { operations: [{ kind: 'cancel', pick: 0 }], minutesLater: 0, settle: true },
    // Declined: offered to the second.
    { operations: [{ kind: 'decline', pick: 0 }], minutesLater: 0, settle: true },
    // The second's window runs out (the expiry job runs in this wave): offered to the third. The wave's operation
    // declines the first offer again (pick 2 of [open, open, first, second]), which changes nothing.
    { operations: [{ kind: 'decline', pick: 2 }], minutesLater: WINDOW_SECONDS / 60 + 2, settle: true },
    // Accepted: booked.
    { operations: [{ kind: 'accept', pick: 0 }], minutesLater: 0, settle: true },
  ],
  seed: 1,
};

// The system ---------------------------------------------------------------------------------------------------------

const clock = testClock();
const logger = silentLogger();
let store: YieldingStore;
let herald: TestHerald;

beforeAll(async () => {
  store = withYields(createSqliteEventStore({ filename: ':memory:' }));
  herald = await startTestHerald({ clock, eventStore: store, logger });
});
afterAll(async () => {
  await herald?.stop();
});

const everyDay = { start: '06:00', end: '22:00' };
const weeklyHours = Object.fromEntries(
  ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'].map((day) => [day, [everyDay]]),
);

interface Answer {
  readonly offerId: string;
  readonly status: number;
  readonly code?: string;
}

interface Run {
  readonly tenantId: string;
  readonly auth: { authorization: string };
  readonly waitlistId: string;
  seatsPerSlot: number;
  readonly settings: Record<string, unknown>;
  readonly booked: string[];
  readonly answers: Answer[];
  readonly fromPosition: bigint;
}

const customerOf = (tenantId: string, n: number) => ({
  id: `${tenantId}-c${n}`,
  name: `Swimmer ${n}`,
  email: `swimmer-${n}@example.com`,
  phone: `+4791${String(100000 + n).padStart(6, '0')}`,
  locale: 'en',
});

async function request(run: Run, method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: object) {
  return herald.app.inject({
    method,
    url: `/v1${url}`,
    headers: run.auth,
    ...(payload !== undefined ? { payload } : {}),
  });
}

let runs = 0;
async function setUp(s: Scenario): Promise<Run> {
  const tenantId = `wp${++runs}`;
  const auth = await herald.keyFor(tenantId);
  const run: Run = {
    tenantId,
    auth,
    waitlistId: waitlistIdFor(herald.ids, tenantId, 'swim', START),
    seatsPerSlot: s.seatsPerSlot,
    settings: {
      enabled: true,
      mode: s.mode,
      responseWindowSeconds: WINDOW_SECONDS,
      maxEntries: 20,
      cutoffMinutes: 0,
      services: {},
    },
    booked: [],
    answers: [],
    fromPosition: await store.headPosition(),
  };
  clock.reset(BASE);
  const created = async (url: string, payload: object) => {
    const response = await request(run, 'POST', url, payload);
    expect(response.statusCode, response.body).toBe(201);
  };
  await created('/locations', {
    locationId: 'pool',
    name: 'Frognerbadet',
    address: { street: 'Middelthuns gate 28', city: 'Oslo', country: 'NO' },
    timeZone: 'Europe/Oslo',
  });
  for (const resourceId of LANES) {
    await created('/resources', { resourceId, locationId: 'pool', name: resourceId, kind: 'lane', weeklyHours });
  }
  await created('/services', {
    serviceId: 'swim',
    locationId: 'pool',
    name: 'Lane swim',
    durationMinutes: 60,
    seatsPerSlot: s.seatsPerSlot,
    maxPartySize: Math.min(2, s.seatsPerSlot),
    resourceIds: [...LANES],
  });
  const settings = await request(run, 'PUT', '/settings/waitlist', run.settings);
  expect(settings.statusCode, settings.body).toBe(200);
  // Full: every seat of both lanes booked by the public.
  for (let i = 0; i < 2 * s.seatsPerSlot; i++) {
    const booking = await request(run, 'POST', '/reservations', {
      serviceId: 'swim',
      start: START,
      customer: customerOf(tenantId, 100 + i),
    });
    expect(booking.statusCode, booking.body).toBe(201);
    run.booked.push(booking.json().reservationId);
  }
  await herald.settle();
  for (const join of s.waiting) await operate(run, join, waitlistDecider.initialState());
  await herald.settle();
  return run;
}

async function waitlistState(run: Run): Promise<WaitlistState> {
  const { events } = await herald.adapters.eventStore.readStream(waitlistStreamName(run.tenantId, run.waitlistId));
  return events.reduce(
    (state, event) => waitlistDecider.evolve(state, { type: event.type, data: event.data } as WaitlistEvent),
    waitlistDecider.initialState(),
  );
}

const entriesOf = (state: WaitlistState) => (state.status === 'none' ? [] : state.entries);
const choose = <T>(items: readonly T[], n: number): T | undefined =>
  items.length === 0 ? undefined : items[n % items.length];

/**
 * Runs a scheduled job as the scheduler would: taken off the queue while it runs (a job that schedules its key again
 * leaves the new one), put back when it fails.
 */
async function runJob(job: ScheduledJob): Promise<void> {
  await herald.adapters.scheduler.cancel(job.key);
  try {
    await herald.runJob(job);
  } catch (error) {
    await herald.adapters.scheduler.schedule(job);
    throw error;
  }
}

async function dueJobs(run: Run): Promise<ScheduledJob[]> {
  const pending = await herald.adapters.scheduler.pending({ tenantId: run.tenantId });
  return pending.filter(
    (job) => (job.name === OFFER_EXPIRY_JOB || job.name === WAITLIST_CLOSE_JOB) && job.runAt.getTime() <= clock.at(),
  );
}

async function operate(run: Run, op: Operation, state: WaitlistState): Promise<void> {
  const entries = entriesOf(state);
  const active = entries.filter((e) => e.status === 'waiting' || e.status === 'offered');
  const open = entries.filter((e) => e.offer?.status === 'open');
  switch (op.kind) {
    case 'join': {
      const response = await request(run, 'POST', '/waitlists/entries', {
        serviceId: 'swim',
        start: START,
        customer: customerOf(run.tenantId, op.customer),
        partySize: op.partySize,
        ...(op.lane !== null ? { resourceId: LANES[op.lane] } : {}),
      });
      expectOneOf(response, [200, 201, 400, 409]);
      return;
    }
    case 'leave':
    case 'skip':
    case 'remove': {
      const entry = choose(active, op.pick);
      if (!entry) return;
      const response =
        op.kind === 'leave'
          ? await request(run, 'DELETE', `/waitlists/${run.waitlistId}/entries/${entry.entryId}`)
          : await request(run, 'POST', `/waitlists/${run.waitlistId}/entries/${entry.entryId}/${op.kind}`, {
              reason: 'staff decision',
            });
      expectOneOf(response, [200, 409]);
      return;
    }
    case 'cancel': {
      const reservations = [
        ...run.booked,
        ...entries.filter((e) => e.status === 'booked' && e.reservationId).map((e) => e.reservationId!),
      ];
      const reservationId = choose(reservations, op.pick);
      if (!reservationId) return;
      const response = await request(run, 'POST', `/reservations/${reservationId}/cancel`, { by: 'customer' });
      // 404: an assigned seat whose reservation the manager has not booked yet.
      expectOneOf(response, [200, 404, 409]);
      return;
    }
    case 'book': {
      const response = await request(run, 'POST', '/reservations', {
        serviceId: 'swim',
        start: START,
        customer: customerOf(run.tenantId, 200 + run.booked.length),
      });
      expectOneOf(response, [201, 409]);
      if (response.statusCode === 201) run.booked.push(response.json().reservationId);
      return;
    }
    case 'capacity': {
      const seats = Math.max(1, Math.min(4, run.seatsPerSlot + op.delta));
      if (seats === run.seatsPerSlot) return;
      run.seatsPerSlot = seats;
      const response = await request(run, 'PATCH', '/services/swim', {
        seatsPerSlot: seats,
        maxPartySize: Math.min(2, seats),
      });
      expect(response.statusCode, response.body).toBe(200);
      return;
    }
    case 'accept':
    case 'decline': {
      // Mostly open offers; sometimes one that was already answered (a second click, a late link).
      const offered = [...open, ...open, ...entries.filter((e) => e.offer)];
      const entry = choose(offered, op.pick);
      if (!entry?.offer) return;
      await answer(run, op.kind, entry.offer.offerId);
      return;
    }
    case 'race': {
      // The customer accepts just as the window closes (the wave set the clock there), while the expiry job runs.
      const entry = choose(open, op.pick);
      if (!entry?.offer) return;
      const offer = entry.offer;
      const job = (await herald.adapters.scheduler.pending({ tenantId: run.tenantId })).find(
        (pending) => pending.key === offerExpiryKey(run.tenantId, offer.offerId),
      );
      await Promise.all([answer(run, 'accept', offer.offerId), job ? runJob(job) : Promise.resolve()]);
      return;
    }
    case 'switch': {
      // Staff switch the waitlist off and on again: it resumes where it stopped.
      for (const enabled of [false, true]) {
        const response = await request(run, 'PUT', '/settings/waitlist', { ...run.settings, enabled });
        expect(response.statusCode, response.body).toBe(200);
      }
      return;
    }
    case 'override': {
      // Staff give a seat to a chosen entry out of order.
      const entry = choose(
        entries.filter((e) => e.status === 'waiting'),
        op.pick,
      );
      if (!entry) return;
      const response = await request(run, 'POST', `/waitlists/${run.waitlistId}/entries/${entry.entryId}/offer`, {
        reason: 'promised a place',
      });
      expectOneOf(response, [200, 409]);
      return;
    }
  }
}

async function answer(run: Run, kind: 'accept' | 'decline', offerId: string): Promise<void> {
  const response = await request(run, 'POST', `/waitlists/${run.waitlistId}/offers/${offerId}/${kind}`, {});
  expectOneOf(response, [200, 409]);
  if (kind === 'accept') {
    run.answers.push({
      offerId,
      status: response.statusCode,
      ...(response.statusCode === 200 ? {} : { code: response.json().code as string }),
    });
  }
}

function expectOneOf(response: { statusCode: number; body: string }, statuses: readonly number[]): void {
  expect(statuses, response.body).toContain(response.statusCode);
}

async function play(run: Run, s: Scenario): Promise<void> {
  for (const w of s.waves) {
    const race = w.operations.find((op) => op.kind === 'race');
    if (w.minutesLater > 0 || race) {
      // Time passes between bursts of activity; the manager keeps up with it.
      await herald.settle();
      clock.set(clock.at() + w.minutesLater * 60_000);
    }
    const state = await waitlistState(run);
    if (race?.kind === 'race') {
      // Just before an offer runs out, time passing while the wave runs: the answer and the expiry race.
      const offer = choose(
        entriesOf(state).filter((e) => e.offer?.status === 'open'),
        race.pick,
      )?.offer;
      if (offer) clock.set(Date.parse(offer.expiresAt) - race.lead);
      clock.tick = 1;
    }
    try {
      const jobs = await dueJobs(run);
      await Promise.all([...w.operations.map((op) => operate(run, op, state)), ...jobs.map(runJob)]);
    } finally {
      clock.tick = 0;
    }
    if (w.settle) await herald.settle();
  }
  // Quiescence: the manager has handled everything and no job is due.
  for (let round = 0; round < 20; round++) {
    await herald.settle();
    const jobs = await dueJobs(run);
    if (jobs.length === 0) return;
    await Promise.all(jobs.map(runJob));
  }
  expect.fail('jobs kept falling due');
}

/**
 * What the runs together went through, counted from the replayed histories: the checks above hold only if these
 * happened (a property that never saw an offer expire, or an order check that was always skipped, proves nothing).
 */
const seen = {
  offers: 0,
  assigned: 0,
  accepted: 0,
  declined: 0,
  expired: 0,
  /** Accepts answered 200 (booked) and refused (409: the window ran out, the seat is gone...). */
  acceptsBooked: 0,
  acceptsRefused: 0,
  /** Offers judged for joining order with somebody waiting ahead of them, and those not judged (a seat freed late). */
  orderJudged: 0,
  orderNotJudged: 0,
  /** Runs whose end state was judged for (c) with somebody still waiting. */
  quiescenceJudged: 0,
};
const COUNTED = {
  WaitlistOfferMade: 'offers',
  WaitlistSeatAssigned: 'assigned',
  WaitlistOfferAccepted: 'accepted',
  WaitlistOfferDeclined: 'declined',
  WaitlistOfferExpired: 'expired',
} as const;

// The history, replayed ------------------------------------------------------------------------------------------------

const sameAppend = (a: RecordedEvent, b: RecordedEvent) =>
  a.streamName === b.streamName &&
  a.position + 1n === b.position &&
  JSON.stringify(a.metadata) === JSON.stringify(b.metadata);

const fits = (entry: WaitlistEntry, free: ReadonlyMap<string, number>) =>
  [...free].some(([lane, seats]) => (entry.resourceId ?? lane) === lane && seats >= entry.partySize);

const describeEntry = (entry: WaitlistEntry) =>
  `${entry.entryId} (seq ${entry.seq}, party ${entry.partySize}, lane ${entry.resourceId ?? 'any'})`;

/** Live holds of the slot on one lane at `now`: a tentative hold past its expiry is free to take. */
function liveHolds(inventory: SlotInventoryState | undefined, now: number): SlotHold[] {
  if (!inventory) return [];
  return holdsIn(inventory).filter(
    (hold) =>
      hold.slotStart === START &&
      !(hold.status === 'held' && hold.expiresAt !== null && Date.parse(hold.expiresAt) <= now),
  );
}

function checkHistory(run: Run, history: readonly RecordedEvent[]): void {
  let service: ServiceState = serviceDecider.initialState();
  const capacities = new Set<number>();
  const inventories = new Map<string, SlotInventoryState>();
  let waitlist: WaitlistState = waitlistDecider.initialState();
  const reservations = new Map<string, ReservationState>();
  const waitlistStream = waitlistStreamName(run.tenantId, run.waitlistId);
  let lastWaitlistPosition = -1n;
  /** Seats freed or capacity changed: where the free seats a decision saw may differ from the ones after it. */
  const freeing: bigint[] = [];
  const positionOf = new Map(history.map((e) => [e.id, e.position]));
  /** The last waitlist event before the current append: what its decision was made from. */
  let batchBase = -1n;
  const laneOf = (streamName: string) => LANES.find((lane) => streamName.includes(`+${lane}+`))!;
  const openOffer = (reservationId: string) =>
    entriesOf(waitlist).find((e) => e.offer?.reservationId === reservationId && e.offer.status === 'open');
  const capacity = () => (service.status === 'active' ? service.service.seatsPerSlot : 0);

  for (let index = 0; index < history.length; index++) {
    const event = history[index]!;
    const where = `${event.type} at ${event.position} (${event.streamName})`;
    if (event.streamName.startsWith('service-')) {
      service = serviceDecider.evolve(service, { type: event.type, data: event.data } as ServiceEvent);
      if (service.status === 'active') capacities.add(service.service.seatsPerSlot);
      if (event.type === 'ServiceUpdated') freeing.push(event.position);
    } else if (event.streamName.startsWith('resourceday-')) {
      const lane = laneOf(event.streamName);
      const domainEvent = { type: event.type, data: event.data } as SlotInventoryEvent;
      if (domainEvent.type === 'SlotSeatsReleased' && domainEvent.data.slotStart === START) {
        freeing.push(event.position);
        // (d) The seats of an open offer are given back only once it ended (or, run out, reclaimed by another hold).
        const offered = openOffer(domainEvent.data.reservationId);
        if (offered?.offer?.resourceId === lane && domainEvent.data.reason !== 'hold-expired') {
          expect.fail(
            `${where}: the seats of open offer ${offered.offer!.offerId} were released (${domainEvent.data.reason})`,
          );
        }
      }
      const inventory = slotInventoryDecider.evolve(
        inventories.get(lane) ?? slotInventoryDecider.initialState(),
        domainEvent,
      );
      inventories.set(lane, inventory);
      if (domainEvent.type === 'SlotSeatsHeld' && domainEvent.data.slotStart === START) {
        // (a) Every hold fits the capacity it was taken under, which the service really had.
        const held = holdsIn(inventory)
          .filter((hold) => hold.slotStart === START)
          .reduce((sum, hold) => sum + hold.seats, 0);
        expect(held, where).toBeLessThanOrEqual(domainEvent.data.capacity);
        expect([...capacities], where).toContain(domainEvent.data.capacity);
      }
    } else if (event.streamName === waitlistStream) {
      const domainEvent = { type: event.type, data: event.data } as WaitlistEvent;
      if (domainEvent.type in COUNTED) seen[COUNTED[domainEvent.type as keyof typeof COUNTED]]++;
      if (index === 0 || !sameAppend(history[index - 1]!, event)) batchBase = lastWaitlistPosition;
      if (
        (domainEvent.type === 'WaitlistOfferMade' || domainEvent.type === 'WaitlistSeatAssigned') &&
        domainEvent.data.override === null
      ) {
        checkOrder(domainEvent, index);
      }
      waitlist = waitlistDecider.evolve(waitlist, domainEvent);
      lastWaitlistPosition = event.position;
    } else if (event.streamName.startsWith('reservation-')) {
      const reservationId = String(event.data.reservationId);
      reservations.set(
        reservationId,
        reservationDecider.evolve(reservations.get(reservationId) ?? reservationDecider.initialState(), {
          type: event.type,
          data: event.data,
        } as ReservationEvent),
      );
    }
    // (a) At every moment, every confirmed reservation of the slot has its own seats on the inventory.
    for (const [reservationId, state] of reservations) {
      if (state.status !== 'confirmed') continue;
      const lane = state.reservation.resourceId!;
      const hold = holdsIn(inventories.get(lane) ?? slotInventoryDecider.initialState()).find(
        (h) => h.reservationId === reservationId && h.slotStart === START,
      );
      if (!hold || hold.seats !== state.reservation.partySize) {
        expect.fail(`${where}: confirmed reservation ${reservationId} holds no seats on ${lane}`);
      }
    }
  }

  /**
   * (b) Nobody waiting ahead of this entry fits the seats that were free when it got them. The decision read the
   * seats after the waitlist event it was decided from and after the event that caused it; a seat freed (or
   * capacity changed) later than both may have come too late for it (the next allocation serves it), so such
   * offers are not judged here.
   */
  function checkOrder(
    event: Extract<WaitlistEvent, { type: 'WaitlistOfferMade' | 'WaitlistSeatAssigned' }>,
    index: number,
  ): void {
    // The offers of one append were decided together, from the waitlist as it was before the first of them.
    let last = index;
    while (last + 1 < history.length && sameAppend(history[last]!, history[last + 1]!)) last++;
    const cause = positionOf.get(String(history[index]!.metadata.causationId)) ?? -1n;
    const decidedAfter = cause > batchBase ? cause : batchBase;
    const offeredAt = history[index]!.position;
    if (freeing.some((position) => position > decidedAfter && position < offeredAt)) {
      seen.orderNotJudged++;
      return;
    }
    const batch = new Set(
      history
        .slice(index, last + 1)
        .filter((e) => e.type === 'WaitlistOfferMade' || e.type === 'WaitlistSeatAssigned')
        .map((e) => String(e.data.reservationId)),
    );
    const madeAt = Date.parse(event.type === 'WaitlistOfferMade' ? event.data.madeAt : event.data.assignedAt);
    const free = new Map(
      LANES.map((lane) => [
        lane,
        capacity() -
          liveHolds(inventories.get(lane), madeAt)
            .filter((hold) => !batch.has(hold.reservationId))
            .reduce((sum, hold) => sum + hold.seats, 0),
      ]),
    );
    const line = waitingInOrder(waitlist);
    const entry = line.find((e) => e.entryId === event.data.entryId);
    if (!entry) expect.fail(`${event.type} for ${event.data.entryId}, who is not waiting`);
    if (line.some((ahead) => ahead.seq < entry.seq)) seen.orderJudged++;
    for (const ahead of line) {
      if (ahead.seq >= entry.seq) break;
      if (fits(ahead, free)) {
        expect.fail(
          `${describeEntry(entry)} got ${event.data.seats} seat(s) on ${event.data.resourceId} while ` +
            `${describeEntry(ahead)} was ahead and fitted the free seats ${JSON.stringify([...free])}`,
        );
      }
    }
  }

  // Quiescence ---------------------------------------------------------------------------------------------------
  const now = clock.at();
  const entries = entriesOf(waitlist);
  for (const lane of LANES) {
    const holds = liveHolds(inventories.get(lane), now);
    for (const hold of holds) {
      // (a) No hold outlives its owner: a confirmed reservation or an open offer.
      const reservation = reservations.get(hold.reservationId);
      const owner =
        reservation?.status === 'confirmed' ||
        entries.some((e) => e.offer?.reservationId === hold.reservationId && e.offer.status === 'open');
      if (!owner) {
        expect.fail(
          `${lane}: hold of ${hold.reservationId} (${hold.status}) belongs to nobody (reservation ${reservation?.status ?? 'none'})`,
        );
      }
    }
    // (a) Never more seats than the service ever had.
    expect(holds.reduce((sum, hold) => sum + hold.seats, 0)).toBeLessThanOrEqual(Math.max(...capacities));
  }
  for (const entry of entries) {
    const offer = entry.offer;
    if (!offer) continue;
    const reservation = reservations.get(offer.reservationId);
    if (offer.status === 'open') {
      // Every due expiry job ran: an offer still open is within its window.
      if (Date.parse(offer.expiresAt) <= now) expect.fail(`open offer ${offer.offerId} is past its window`);
      // (d) An open offer has its own seats, held for it until it runs out.
      const hold = liveHolds(inventories.get(offer.resourceId), Date.parse(offer.expiresAt) - 1).find(
        (h) => h.reservationId === offer.reservationId,
      );
      if (!hold || hold.seats !== offer.seats) expect.fail(`open offer ${offer.offerId} has no seats held`);
      expect(reservation, `open offer ${offer.offerId} has a reservation`).toBeUndefined();
    } else if (offer.status === 'accepted') {
      // Accepted or assigned: booked, once, under the offer's id.
      if (!reservation || reservation.status === 'none') expect.fail(`accepted offer ${offer.offerId} is not booked`);
      expect(reservation.reservation.origin?.offerId).toBe(offer.offerId);
    } else {
      // Declined, expired, withdrawn: never a reservation.
      expect(reservation, `${offer.status} offer ${offer.offerId} has a reservation`).toBeUndefined();
    }
  }
  // (d) Every answer the customer got is the outcome that was recorded: booked, or not booked at all.
  for (const given of run.answers) {
    const offer = entries.find((e) => e.offer?.offerId === given.offerId)?.offer;
    const booked = reservations.get(given.offerId);
    if (given.status === 200) {
      seen.acceptsBooked++;
      expect(offer?.status, `accept of ${given.offerId} answered 200`).toBe('accepted');
      // Booked (and perhaps cancelled since, by a later step).
      expect(['confirmed', 'cancelled'], `accept of ${given.offerId} answered 200`).toContain(booked?.status);
    } else {
      seen.acceptsRefused++;
      // Refused (the window ran out, declined, left...): whatever ended the offer, it was never booked.
      expect(offer?.status, `accept of ${given.offerId} answered ${given.code}`).not.toBe('accepted');
      expect(booked, `accept of ${given.offerId} answered ${given.code}`).toBeUndefined();
    }
  }
  // (c) Every freed seat went down the list until nobody waiting fits what is still free.
  if (waitlist.status === 'open' && now < Date.parse(START)) {
    const free = new Map(
      LANES.map((lane) => [
        lane,
        Math.max(0, capacity() - liveHolds(inventories.get(lane), now).reduce((sum, hold) => sum + hold.seats, 0)),
      ]),
    );
    if (waitingInOrder(waitlist).length > 0) seen.quiescenceJudged++;
    for (const entry of waitingInOrder(waitlist)) {
      if (fits(entry, free))
        expect.fail(`${describeEntry(entry)} still waits, and ${JSON.stringify([...free])} are free`);
    }
  }
}

describe('waitlist on real stores (property)', () => {
  it('never double-books, follows joining order, fills every freed seat, and gives every offer one outcome', async () => {
    let conflicts = 0;
    const started = performance.now();
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        store.random = mulberry32(s.seed);
        const before = store.conflicts;
        const run = await setUp(s);
        try {
          await play(run, s);
        } finally {
          store.random = Math.random;
          conflicts += store.conflicts - before;
        }
        const history = (await store.readAll({ after: run.fromPosition })).filter(
          (event) => event.metadata.tenantId === run.tenantId,
        );
        checkHistory(run, history);
        // Nothing failed on the way (a handler retried, a reservation that lost its seats...).
        const failures = logger.errors.splice(0);
        expect(failures, JSON.stringify(failures)).toEqual([]);
      }),
      // A failure found late still reports its (partly shrunk) counterexample and seed within the test's time.
      { numRuns: 50, interruptAfterTimeLimit: 100_000, examples: [[EVERY_OUTCOME]] },
    );
    const summary = { ...seen, conflicts, seconds: Math.round((performance.now() - started) / 100) / 10 };
    // One line, so that a run shows what it exercised.
    process.stdout.write(`waitlist property: ${JSON.stringify(summary)}\n`);
    // The runs really raced: appends lost to others and were decided again.
    expect(conflicts).toBeGreaterThan(0);
    // Not vacuous: every outcome a customer can see happened, and the order and end-state checks really judged.
    for (const [what, count] of Object.entries(seen)) {
      if (what !== 'orderNotJudged')
        expect(count, `${what} never happened: ${JSON.stringify(summary)}`).toBeGreaterThan(0);
    }
  }, 150_000);
});
