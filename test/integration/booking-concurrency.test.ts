import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventStore } from '../../src/application/ports/event-store.port.js';
import type { ReadModelStore } from '../../src/application/ports/read-model-store.port.js';
import {
  heldSeats,
  holdsIn,
  resourceDayStreamName,
  slotInventoryDecider,
} from '../../src/domain/booking/slot-inventory.decider.js';
import type { SlotInventoryEvent } from '../../src/domain/booking/slot-inventory.decider.js';
import { fold } from '../../src/domain/shared/decider.js';
import { ConcurrencyError } from '../../src/domain/shared/errors.js';
import { createEventStoreDbEventStore } from '../../src/infrastructure/eventstoredb/eventstoredb-event-store.js';
import { createMongoReadModelStore } from '../../src/infrastructure/mongodb/mongo-read-model-store.js';
import { createSqliteEventStore } from '../../src/infrastructure/sqlite/sqlite-event-store.js';
import { createSqliteReadModelStore } from '../../src/infrastructure/sqlite/sqlite-read-model-store.js';
import { dropDatabase, mongoUnavailableReason, mongoUrlForTests, uniqueDatabaseName } from '../support/mongo.js';
import { silentLogger } from '../support/silent-logger.js';
import { startTestHerald, TEST_ADMIN_KEY, type TestHerald } from '../support/test-herald.js';

/**
 * No seat is sold twice, whatever the concurrency: many clients POST for the last seats of a slot at once, through
 * the HTTP app, against the embedded event store (and EventStoreDB when EVENTSTORE_URL is set), with the read side
 * (availability, idempotency records, checkpoints) on the embedded store and on a real MongoDB wire server.
 *
 * The embedded store answers synchronously, so requests handled in one process would run one after the other and
 * never race. It is given the latency of a networked store (0-2 ms per read and append, at random), so that reads
 * and appends of concurrent requests interleave: the tests check that they did (the peak of store calls in flight).
 * Commands on one stream are queued in-process (decision 0002), so requests of one process no longer lose appends to
 * each other; version conflicts (counted too) come from writers outside the queue.
 */

interface ReadSide {
  readonly name: string;
  create(): Promise<{ store: ReadModelStore; dispose(): Promise<void> }>;
}

interface ConflictCountingStore extends EventStore {
  conflicts: number;
  /** The most reads and appends in flight at once since the last reset. */
  peakInFlight: number;
}

function withLatency(store: EventStore): ConflictCountingStore {
  const pause = () => new Promise<void>((resolve) => setTimeout(resolve, Math.floor(Math.random() * 3)));
  let inFlight = 0;
  const tracked = async <T>(call: () => Promise<T>): Promise<T> => {
    inFlight++;
    wrapped.peakInFlight = Math.max(wrapped.peakInFlight, inFlight);
    try {
      await pause();
      return await call();
    } finally {
      inFlight--;
    }
  };
  const wrapped: ConflictCountingStore = {
    ...store,
    conflicts: 0,
    peakInFlight: 0,
    async readStream(streamName) {
      return tracked(() => store.readStream(streamName));
    },
    async appendToStream(streamName, events, expectedRevision) {
      return tracked(async () => {
        try {
          return await store.appendToStream(streamName, events, expectedRevision);
        } catch (error) {
          if (error instanceof ConcurrencyError) wrapped.conflicts++;
          throw error;
        }
      });
    },
  };
  return wrapped;
}

const embeddedReadModels: ReadSide = {
  name: 'embedded read models',
  async create() {
    const store = createSqliteReadModelStore({ filename: ':memory:' });
    return { store, dispose: async () => undefined };
  },
};

interface Setup {
  readonly name: string;
  readonly eventStore: () => EventStore;
  readonly readSide: ReadSide;
}

const setups: Setup[] = [
  {
    name: 'embedded event store, embedded read models',
    eventStore: () => createSqliteEventStore({ filename: ':memory:' }),
    readSide: embeddedReadModels,
  },
];
const eventStoreUrl = process.env.EVENTSTORE_URL;
if (eventStoreUrl) {
  setups.push({
    name: 'EventStoreDB, embedded read models',
    eventStore: () => createEventStoreDbEventStore({ connectionString: eventStoreUrl, logger: silentLogger() }),
    readSide: embeddedReadModels,
  });
}
const mongoUrl = mongoUrlForTests();
if (mongoUrl !== undefined) {
  setups.push({
    name: 'embedded event store, MongoDB read models',
    eventStore: () => createSqliteEventStore({ filename: ':memory:' }),
    readSide: {
      name: 'MongoDB read models',
      async create() {
        const database = uniqueDatabaseName(import.meta.url);
        const store = await createMongoReadModelStore({ url: mongoUrl, database });
        return {
          store,
          dispose: () => dropDatabase(mongoUrl, database),
        };
      },
    },
  });
} else {
  describe('booking concurrency: MongoDB read models', () => {
    it.skipIf(process.env.CI !== 'true')(`skipped: ${mongoUnavailableReason()}`, () => {
      throw new Error(`CI=true requires MongoDB: ${mongoUnavailableReason()}`);
    });
  });
}

const auth = { authorization: `Bearer ${TEST_ADMIN_KEY}` };
const everyDay = (start: string, end: string) =>
  Object.fromEntries(
    ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'].map((day) => [
      day,
      [{ start, end }],
    ]),
  );

describe.each(setups)('booking under concurrency ($name)', (setup) => {
  let herald: TestHerald;
  let eventStore: ConflictCountingStore;
  let disposeReadSide: () => Promise<void>;

  beforeAll(async () => {
    const readSide = await setup.readSide.create();
    disposeReadSide = readSide.dispose;
    eventStore = withLatency(setup.eventStore());
    herald = await startTestHerald({
      eventStore,
      readModels: readSide.store,
      describe: { eventStore: setup.name, readModels: setup.readSide.name },
    });
  });
  afterAll(async () => {
    await herald?.stop();
    await disposeReadSide?.();
  });

  const inject = (method: 'GET' | 'POST', url: string, payload?: object) =>
    herald.app.inject({ method, url, headers: auth, ...(payload !== undefined ? { payload } : {}) });

  let catalogs = 0;
  async function aService(service: Record<string, unknown>, resources = 1) {
    const prefix = `k${++catalogs}`;
    await inject('POST', '/v1/locations', {
      locationId: `${prefix}-loc`,
      name: 'Pool',
      address: { street: 'Bassengveien 1', city: 'Oslo', country: 'NO' },
      timeZone: 'Europe/Oslo',
    });
    const resourceIds: string[] = [];
    for (let index = 1; index <= resources; index++) {
      const resourceId = `${prefix}-lane-${index}`;
      await inject('POST', '/v1/resources', {
        resourceId,
        locationId: `${prefix}-loc`,
        name: `Lane ${index}`,
        kind: 'lane',
        weeklyHours: everyDay('06:00', '22:00'),
      });
      resourceIds.push(resourceId);
    }
    const created = await inject('POST', '/v1/services', {
      serviceId: `${prefix}-svc`,
      locationId: `${prefix}-loc`,
      name: 'Session',
      durationMinutes: 60,
      resourceIds,
      ...service,
    });
    expect(created.statusCode, created.body).toBe(201);
    return { serviceId: `${prefix}-svc`, resourceIds };
  }

  let customers = 0;
  const bookingOf = (serviceId: string, start: string, extra: Record<string, unknown> = {}) => ({
    serviceId,
    start,
    customer: { name: `Swimmer ${++customers}`, email: `swimmer-${customers}@example.com` },
    ...extra,
  });

  /** Seats held in the resource-day inventory (the aggregate, not a read model), on one slot or the whole day. */
  async function seatsHeld(resourceId: string, localDate: string, slotStart?: string): Promise<number> {
    const { events } = await herald.adapters.eventStore.readStream(
      resourceDayStreamName('default', resourceId, localDate),
    );
    const state = fold(
      slotInventoryDecider,
      events.map((event) => ({ type: event.type, data: event.data }) as SlotInventoryEvent),
    );
    if (slotStart === undefined) return heldSeats(state);
    const start = new Date(slotStart).toISOString();
    return holdsIn(state)
      .filter((hold) => hold.slotStart === start)
      .reduce((sum, hold) => sum + hold.seats, 0);
  }

  /** Fires all requests at once and sorts the answers by status. */
  async function race(payloads: readonly object[]) {
    const responses = await Promise.all(payloads.map((payload) => inject('POST', '/v1/reservations', payload)));
    const byStatus = new Map<number, typeof responses>();
    for (const response of responses)
      byStatus.set(response.statusCode, [...(byStatus.get(response.statusCode) ?? []), response]);
    return { responses, created: byStatus.get(201) ?? [], refused: byStatus.get(409) ?? [] };
  }

  it('sells exactly the remaining seats of a slot to 40 concurrent clients; the rest get 409 slot-full', async () => {
    const { serviceId, resourceIds } = await aService({ seatsPerSlot: 8, maxPartySize: 3 });
    const start = '2030-07-01T10:00:00+02:00';
    expect((await inject('POST', '/v1/reservations', bookingOf(serviceId, start, { partySize: 3 }))).statusCode).toBe(
      201,
    );
    eventStore.peakInFlight = 0;
    const { responses, created, refused } = await race(Array.from({ length: 40 }, () => bookingOf(serviceId, start)));
    // The clients really raced: their reads and appends were in flight at the same time (many of them).
    expect(eventStore.peakInFlight).toBeGreaterThan(10);
    expect(created).toHaveLength(5);
    expect(refused).toHaveLength(35);
    expect(responses.every((response) => response.statusCode === 201 || response.statusCode === 409)).toBe(true);
    for (const response of refused) {
      expect(response.json()).toMatchObject({
        code: 'slot-full',
        remainingSeats: 0,
        waitlist: { href: '/v1/waitlists/entries' },
      });
    }
    expect(await seatsHeld(resourceIds[0] ?? '', '2030-07-01')).toBe(8);

    await herald.settle();
    const slots = await inject(
      'GET',
      `/v1/availability?serviceId=${serviceId}&from=${encodeURIComponent(start)}&to=${encodeURIComponent('2030-07-01T11:00:00+02:00')}&includeFull=true`,
    );
    expect(slots.json().slots).toEqual([expect.objectContaining({ remainingSeats: 0, capacity: 8 })]);
    const listed = await inject('GET', `/v1/reservations?serviceId=${serviceId}&status=confirmed&limit=200`);
    expect(listed.json().items).toHaveLength(6);
  });

  it('never sells two overlapping slots of a resource, whichever starts the clients race for', async () => {
    const { serviceId, resourceIds } = await aService({ seatsPerSlot: 1, slotIntervalMinutes: 15 });
    const starts = ['09:00', '09:15', '09:30', '09:45', '10:00', '10:15', '10:30', '10:45', '11:00'];
    const { created } = await race(
      Array.from({ length: 36 }, (_, index) =>
        bookingOf(serviceId, `2030-07-02T${starts[index % starts.length]}:00+02:00`),
      ),
    );
    const taken = created.map((response) => Date.parse(response.json().start)).sort((a, b) => a - b);
    for (let index = 1; index < taken.length; index++) {
      expect((taken[index] ?? 0) - (taken[index - 1] ?? 0)).toBeGreaterThanOrEqual(60 * 60_000);
    }
    expect(taken.length).toBeGreaterThanOrEqual(1);
    expect(await seatsHeld(resourceIds[0] ?? '', '2030-07-02')).toBe(taken.length);
  });

  it('property: for any capacity, seats taken and number of clients, exactly the free seats are sold', async () => {
    const { serviceId, resourceIds } = await aService({ seatsPerSlot: 6, maxPartySize: 6 });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 1, max: 16 }),
        fc.integer({ min: 1, max: 2 }),
        async (taken, clients, seatsEach) => {
          // A fresh slot per run: one hour of one day of 2030.
          run++;
          const date = new Date(Date.UTC(2030, 7, 1) + Math.floor(run / 12) * 86_400_000).toISOString().slice(0, 10);
          const start = `${date}T${String(8 + (run % 12)).padStart(2, '0')}:00:00+02:00`;
          if (taken > 0) {
            const first = await inject('POST', '/v1/reservations', bookingOf(serviceId, start, { partySize: taken }));
            expect(first.statusCode).toBe(201);
          }
          const { created, refused } = await race(
            Array.from({ length: clients }, () => bookingOf(serviceId, start, { partySize: seatsEach })),
          );
          const free = 6 - taken;
          expect(created.length).toBe(Math.min(clients, Math.floor(free / seatsEach)));
          expect(created.length + refused.length).toBe(clients);
          const sold = taken + created.length * seatsEach;
          expect(sold).toBeLessThanOrEqual(6);
          expect(await seatsHeld(resourceIds[0] ?? '', date, start)).toBe(sold);
        },
      ),
      { numRuns: 25 },
    );
    // Every day's inventory agrees with what was sold: never above the capacity of a slot.
    await herald.settle();
    const listed = await inject('GET', `/v1/reservations?serviceId=${serviceId}&limit=200`);
    const perSlot = new Map<string, number>();
    for (const item of listed.json().items as { start: string; partySize: number }[]) {
      perSlot.set(item.start, (perSlot.get(item.start) ?? 0) + item.partySize);
    }
    for (const seats of perSlot.values()) expect(seats).toBeLessThanOrEqual(6);
  }, 120_000);
});
