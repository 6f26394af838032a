import { describe, expect, it } from 'vitest';
import { createSeatReconciler } from '../../../src/application/booking/seat-keeper.js';
import { handleCommand, loadAggregate, type CommandContext } from '../../../src/application/command-handler.js';
import type { EventStore } from '../../../src/application/ports/event-store.port.js';
import { reservationDecider, reservationStreamName } from '../../../src/domain/booking/reservation.decider.js';
import {
  holdsOf,
  resourceDayStreamName,
  slotInventoryDecider,
} from '../../../src/domain/booking/slot-inventory.decider.js';
import { serviceDecider, serviceStreamName } from '../../../src/domain/catalog/service.decider.js';
import { uuidIdSource } from '../../../src/infrastructure/uuid-id-source.js';
import { createSqliteEventStore } from '../../../src/infrastructure/sqlite/sqlite-event-store.js';
import { silentLogger } from '../../support/silent-logger.js';

const TENANT = 'acme';
const NOW = '2030-06-01T08:00:00.000Z';
const START = '2030-06-03T08:00:00.000Z';
const END = '2030-06-03T09:00:00.000Z';
const DAY = '2030-06-03';
const context: CommandContext = { tenantId: TENANT, actor: 'test' };

/**
 * The reconciliation reads a reservation, then acts on the inventory: a reservation cancelled in between must not
 * end up holding seats (the seat keeper's own reconciliation after the cancellation may have looked before).
 */
describe('seat reconciliation racing the end of a reservation', () => {
  it('a reconciliation that read the reservation before it was cancelled leaves no seats held', async () => {
    const real = createSqliteEventStore({ filename: ':memory:' });
    const deps = { eventStore: real, ids: uuidIdSource };
    await handleCommand(
      deps,
      serviceStreamName(TENANT, 'swim'),
      serviceDecider,
      {
        type: 'CreateService',
        data: {
          serviceId: 'swim',
          tenantId: TENANT,
          locationId: 'pool',
          name: 'Lane swim',
          durationMinutes: 60,
          seatsPerSlot: 2,
          maxPartySize: 1,
          resourceIds: ['lane-1'],
          now: NOW,
          actor: 'test',
        },
      },
      context,
    );
    const reservationStream = reservationStreamName(TENANT, 'r1');
    await handleCommand(
      deps,
      reservationStream,
      reservationDecider,
      {
        type: 'RequestReservation',
        data: {
          reservationId: 'r1',
          tenantId: TENANT,
          customer: { name: 'Ada', email: 'ada@example.com', locale: 'en' },
          serviceId: 'swim',
          serviceName: 'Lane swim',
          resourceId: 'lane-1',
          locationId: 'pool',
          location: { name: 'Frognerbadet', address: 'Middelthuns gate 28', timeZone: 'Europe/Oslo' },
          start: START,
          end: END,
          partySize: 1,
          requiresConfirmation: false,
          holdExpiresAt: '2030-06-01T08:10:00.000Z',
          now: NOW,
          actor: 'test',
        },
      },
      context,
    );
    // Cancelled, and its seats (never taken here) are not held.
    await handleCommand(
      deps,
      reservationStream,
      reservationDecider,
      { type: 'CancelReservation', data: { reservationId: 'r1', by: 'customer', now: NOW, actor: 'test' } },
      context,
    );
    // The reconciliation's first read of the reservation is from before the cancellation.
    let stale = true;
    const eventStore: EventStore = {
      ...real,
      async readStream(streamName) {
        const result = await real.readStream(streamName);
        if (streamName !== reservationStream || !stale) return result;
        stale = false;
        const events = result.events.filter((event) => event.type !== 'ReservationCancelled');
        return { events, revision: events.at(-1)!.revision };
      },
    };
    const logger = silentLogger();
    const reconcile = createSeatReconciler({
      eventStore,
      ids: uuidIdSource,
      clock: { now: () => new Date(NOW) },
      logger,
    });

    await reconcile(TENANT, 'r1', context);

    const { state } = await loadAggregate(real, resourceDayStreamName(TENANT, 'lane-1', DAY), slotInventoryDecider);
    expect(holdsOf(state, 'r1')).toEqual([]);
    expect(logger.errors).toEqual([]);
  });
});
