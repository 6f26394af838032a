import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../../src/application/ports/event-store.port.js';
import {
  resourceDayUsageProjection,
  type ResourceDayUsageDocument,
} from '../../../src/application/projections/availability.projection.js';
import { catalogProjection, type CatalogDocument } from '../../../src/application/projections/catalog.projection.js';

let position = 0n;
function recorded(type: string, data: Record<string, unknown>, streamName = 's', revision = 0n): RecordedEvent {
  position++;
  return {
    id: `e${position}`,
    streamName,
    type,
    data,
    metadata: { tenantId: 'acme', actor: 'apikey:k1' },
    revision,
    position,
    recordedAt: `2030-01-01T00:00:${String(Number(position) % 60).padStart(2, '0')}.000Z`,
  };
}

function run<D extends Record<string, unknown> & { tenantId: string }>(
  projection: {
    documentId(event: RecordedEvent): string | null;
    evolve(doc: D | null, event: RecordedEvent): D | null;
  },
  events: RecordedEvent[],
): Map<string, D> {
  const docs = new Map<string, D>();
  for (const event of events) {
    const id = projection.documentId(event);
    if (id === null) continue;
    const next = projection.evolve(docs.get(id) ?? null, event);
    if (next === null) docs.delete(id);
    else docs.set(id, next);
  }
  return docs;
}

describe('resource-day usage projection (availability read model)', () => {
  const held = (reservationId: string, slotStart: string, extra: Record<string, unknown> = {}) =>
    recorded('SlotSeatsHeld', {
      resourceId: 'lane-1',
      localDate: '2030-06-03',
      slotStart,
      serviceId: 'swim',
      reservationId,
      seats: 2,
      capacity: 8,
      occupiedUntil: '2030-06-03T09:00:00.000Z',
      expiresAt: '2030-06-01T08:15:00.000Z',
      remainingSeats: 6,
      heldAt: '2030-06-01T08:00:00.000Z',
      ...extra,
    });
  const release = (reservationId: string, slotStart: string) =>
    recorded('SlotSeatsReleased', {
      resourceId: 'lane-1',
      localDate: '2030-06-03',
      slotStart,
      reservationId,
      seats: 2,
      reason: 'cancelled',
      remainingSeats: 8,
      releasedAt: '2030-06-01T09:00:00.000Z',
    });

  it('keeps the holds of one resource and day, confirmed or not, and drops released ones', () => {
    const docs = run<ResourceDayUsageDocument>(resourceDayUsageProjection, [
      held('r-1', '2030-06-03T08:00:00.000Z'),
      held('r-2', '2030-06-03T08:00:00.000Z'),
      recorded('SlotSeatsConfirmed', {
        resourceId: 'lane-1',
        localDate: '2030-06-03',
        slotStart: '2030-06-03T08:00:00.000Z',
        reservationId: 'r-1',
        seats: 2,
        confirmedAt: '2030-06-01T08:01:00.000Z',
      }),
      release('r-2', '2030-06-03T08:00:00.000Z'),
    ]);
    expect([...docs.keys()]).toEqual(['acme:lane-1:2030-06-03']);
    expect(docs.get('acme:lane-1:2030-06-03')?.holds).toEqual([
      {
        reservationId: 'r-1',
        slotStart: '2030-06-03T08:00:00.000Z',
        occupiedUntil: '2030-06-03T09:00:00.000Z',
        serviceId: 'swim',
        seats: 2,
        status: 'confirmed',
        expiresAt: '2030-06-01T08:15:00.000Z',
      },
    ]);
  });

  it('tells two slots of one reservation apart (a reschedule within the day)', () => {
    const docs = run<ResourceDayUsageDocument>(resourceDayUsageProjection, [
      held('r-1', '2030-06-03T08:00:00.000Z'),
      held('r-1', '2030-06-03T10:00:00.000Z', { occupiedUntil: '2030-06-03T11:00:00.000Z' }),
      release('r-1', '2030-06-03T08:00:00.000Z'),
    ]);
    expect(docs.get('acme:lane-1:2030-06-03')?.holds.map((hold) => hold.slotStart)).toEqual([
      '2030-06-03T10:00:00.000Z',
    ]);
  });

  it('ignores events it cannot place', () => {
    expect(resourceDayUsageProjection.documentId(recorded('SlotSeatsHeld', { resourceId: 'lane-1' }))).toBeNull();
  });
});

describe('catalog projection', () => {
  it('builds one document per entity with its status and revision, keeping a resource’s own kind', () => {
    const docs = run<CatalogDocument>(catalogProjection, [
      recorded('LocationCreated', {
        locationId: 'loc',
        tenantId: 'acme',
        name: 'Pool',
        address: { street: 'a', city: 'b', country: 'NO' },
        timeZone: 'Europe/Oslo',
        createdAt: 'x',
        actor: 'y',
      }),
      recorded(
        'ResourceCreated',
        {
          resourceId: 'lane-1',
          tenantId: 'acme',
          locationId: 'loc',
          name: 'Lane 1',
          kind: 'lane',
          weeklyHours: {},
          exceptions: { closedDates: [], extraHours: [] },
          contact: {},
          createdAt: 'x',
          actor: 'y',
        },
        'resource-acme+lane-1',
        0n,
      ),
      recorded(
        'ResourceScheduleChanged',
        {
          resourceId: 'lane-1',
          weeklyHours: { monday: [{ start: '09:00', end: '10:00' }] },
          exceptions: { closedDates: ['2030-06-05'], extraHours: [] },
          changedAt: 'x',
          actor: 'y',
        },
        'resource-acme+lane-1',
        1n,
      ),
      recorded(
        'ResourceUpdated',
        { resourceId: 'lane-1', changes: { kind: 'room' }, updatedAt: 'x', actor: 'y' },
        'resource-acme+lane-1',
        2n,
      ),
      recorded(
        'ResourceArchived',
        { resourceId: 'lane-1', reason: '', archivedAt: '2030-02-01T00:00:00Z', actor: 'y' },
        'resource-acme+lane-1',
        3n,
      ),
    ]);
    expect(docs.get('acme:location:loc')).toMatchObject({
      entity: 'location',
      id: 'loc',
      locationId: 'loc',
      status: 'active',
    });
    expect(docs.get('acme:resource:lane-1')).toMatchObject({
      entity: 'resource',
      id: 'lane-1',
      kind: 'room',
      weeklyHours: { monday: [{ start: '09:00', end: '10:00' }] },
      exceptions: { closedDates: ['2030-06-05'] },
      status: 'archived',
      archivedAt: '2030-02-01T00:00:00Z',
      revision: 3,
    });
  });

  it('does not invent a document from an update of an entity it never saw created', () => {
    const docs = run<CatalogDocument>(catalogProjection, [
      recorded('ServiceUpdated', { serviceId: 'svc', changes: { name: 'X' }, updatedAt: 'x', actor: 'y' }),
    ]);
    expect(docs.size).toBe(0);
  });
});
