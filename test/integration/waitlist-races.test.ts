import { describe, expect, it } from 'vitest';
import {
  bookReservation,
  cancelReservation,
  type BookingDeps,
} from '../../src/application/booking/booking-commands.js';
import { createSeatReconciler } from '../../src/application/booking/seat-keeper.js';
import { createLocation, createResource, createService } from '../../src/application/catalog/catalog-commands.js';
import { loadAggregate, type CommandContext } from '../../src/application/command-handler.js';
import type { EventStore, NewEvent } from '../../src/application/ports/event-store.port.js';
import {
  allocateWaitlist,
  joinWaitlist,
  loadWaitlist,
  waitlistIdFor,
  type WaitlistDeps,
} from '../../src/application/waitlist/waitlist-commands.js';
import {
  holdsOf,
  resourceDayStreamName,
  slotInventoryDecider,
} from '../../src/domain/booking/slot-inventory.decider.js';
import { findOffer } from '../../src/domain/waitlist/waitlist.decider.js';
import { createSqliteEventStore } from '../../src/infrastructure/sqlite/sqlite-event-store.js';
import { uuidIdSource } from '../../src/infrastructure/uuid-id-source.js';

/**
 * Interleavings the waitlist property test (waitlist-properties.test.ts) found, pinned down: two allocations of one
 * waitlist, their steps ordered by gates on the event store.
 */

const TENANT = 'acme';
const START = '2030-06-03T10:00:00+02:00';
const context: CommandContext = { tenantId: TENANT, actor: 'test' };
const hours = [{ start: '06:00', end: '22:00' }];
const weeklyHours = Object.fromEntries(
  ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'].map((day) => [day, hours]),
);

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Hooks {
  beforeAppend?(streamName: string, events: readonly NewEvent[]): Promise<void>;
  afterAppend?(streamName: string, events: readonly NewEvent[]): void;
}

/** The same store, with hooks around appends: one allocation's view of it. */
function gated(store: EventStore, hooks: Hooks): EventStore {
  return {
    ...store,
    async appendToStream(streamName, events, expectedRevision) {
      await hooks.beforeAppend?.(streamName, events);
      const result = await store.appendToStream(streamName, events, expectedRevision);
      hooks.afterAppend?.(streamName, events);
      return result;
    },
  };
}

/** A pool lane with one seat at START, booked; one customer waiting; the booking cancelled: one seat free. */
async function aFreedSeat(clock: { now: () => Date }) {
  const eventStore = createSqliteEventStore({ filename: ':memory:' });
  const base = { eventStore, ids: uuidIdSource, clock };
  await createLocation(base, context, {
    locationId: 'pool',
    name: 'Frognerbadet',
    address: { street: 'Middelthuns gate 28', city: 'Oslo', country: 'NO' },
    timeZone: 'Europe/Oslo',
  });
  await createResource(base, context, {
    resourceId: 'lane-1',
    locationId: 'pool',
    name: 'Lane 1',
    kind: 'lane',
    weeklyHours,
  });
  await createService(base, context, {
    serviceId: 'swim',
    locationId: 'pool',
    name: 'Lane swim',
    durationMinutes: 60,
    seatsPerSlot: 1,
    maxPartySize: 1,
    resourceIds: ['lane-1'],
  });
  const booking: BookingDeps = { ...base, holdMinutes: 10, seatKeeper: { reconcile: createSeatReconciler(base) } };
  const { reservationId } = await bookReservation(booking, context, {
    serviceId: 'swim',
    start: START,
    customer: { name: 'Public', email: 'public@example.com', locale: 'en' },
  });
  const waitlist = (store: EventStore): WaitlistDeps => ({
    eventStore: store,
    ids: uuidIdSource,
    clock,
    holdMinutes: 10,
    scheduler: { schedule: async () => undefined, cancel: async () => undefined },
  });
  const joined = await joinWaitlist(waitlist(eventStore), context, {
    serviceId: 'swim',
    start: START,
    customer: { id: 'c1', name: 'First in line', email: 'first@example.com', locale: 'en' },
  });
  await cancelReservation(booking, context, reservationId, { by: 'customer' });
  const waitlistId = waitlistIdFor(uuidIdSource, TENANT, 'swim', new Date(START).toISOString());
  const heldFor = async (offerId: string) => {
    const { state } = await loadAggregate(
      eventStore,
      resourceDayStreamName(TENANT, 'lane-1', '2030-06-03'),
      slotInventoryDecider,
    );
    return holdsOf(state, offerId);
  };
  return { eventStore, waitlist, waitlistId, entryId: joined.entry.entryId, heldFor };
}

describe('waitlist allocation races', () => {
  it('two allocations deciding the same offer: the seats held for it stay held once it is recorded', async () => {
    const clock = { now: () => new Date('2030-06-01T08:00:00Z') };
    const { eventStore, waitlist, waitlistId, entryId, heldFor } = await aFreedSeat(clock);
    const inventory = (streamName: string) => streamName.startsWith('resourceday-');
    const waitlistStream = (streamName: string) => streamName.startsWith('waitlist-');
    const aHeld = deferred();
    const bRecorded = deferred();
    // A takes the seats first, then waits (a while at most) for B to record before recording itself.
    const a = gated(eventStore, {
      async beforeAppend(streamName) {
        if (waitlistStream(streamName)) await Promise.race([bRecorded.promise, sleep(300)]);
      },
      afterAppend(streamName, events) {
        if (inventory(streamName) && events.some((e) => e.type === 'SlotSeatsHeld')) aHeld.resolve();
      },
    });
    // B decides the same offer from the same state, and finds its seats held already.
    const b = gated(eventStore, {
      async beforeAppend(streamName) {
        if (inventory(streamName)) await aHeld.promise;
      },
      afterAppend(streamName, events) {
        if (waitlistStream(streamName) && events.some((e) => e.type === 'WaitlistOfferMade')) bRecorded.resolve();
      },
    });

    await Promise.all([
      allocateWaitlist(waitlist(a), context, waitlistId),
      allocateWaitlist(waitlist(b), context, waitlistId),
    ]);

    const { state } = await loadWaitlist(eventStore, TENANT, waitlistId);
    const offerId = `${entryId}.1`;
    expect(findOffer(state, offerId)?.offer).toMatchObject({ status: 'open', resourceId: 'lane-1', seats: 1 });
    // The customer offered the seat can take it: it is held for the offer.
    expect(await heldFor(offerId)).toEqual([expect.objectContaining({ seats: 1, status: 'held' })]);
  });

  it('an offer decided again after a lost race keeps the window of the seats held for it', async () => {
    let now = Date.parse('2030-06-01T08:00:00Z');
    const clock = { now: () => new Date(now) };
    const { eventStore, waitlist, waitlistId, entryId, heldFor } = await aFreedSeat(clock);
    // Someone joins between the allocation's decision and its append, while a little time passes.
    let joinedMeanwhile = false;
    const store = gated(eventStore, {
      async beforeAppend(streamName, events) {
        if (!streamName.startsWith('waitlist-') || joinedMeanwhile) return;
        if (!events.some((e) => e.type === 'WaitlistOfferMade')) return;
        joinedMeanwhile = true;
        now += 250;
        await joinWaitlist(waitlist(eventStore), context, {
          serviceId: 'swim',
          start: START,
          customer: { id: 'c2', name: 'Second in line', email: 'second@example.com', locale: 'en' },
        });
      },
    });

    await allocateWaitlist(waitlist(store), context, waitlistId);

    const { state } = await loadWaitlist(eventStore, TENANT, waitlistId);
    const offer = findOffer(state, `${entryId}.1`)?.offer;
    expect(offer?.status).toBe('open');
    expect(await heldFor(`${entryId}.1`)).toEqual([expect.objectContaining({ expiresAt: offer?.expiresAt })]);
  });
});
