import type { SlotInventoryEvent } from '../../domain/booking/slot-inventory.decider.js';
import { SLOT_INVENTORY_EVENT_TYPES } from '../../domain/booking/slot-inventory.decider.js';
import type { Projection } from './projection.js';

/** One hold as the availability read model keeps it. */
export interface UsageHold {
  reservationId: string;
  slotStart: string;
  occupiedUntil: string;
  serviceId: string | null;
  seats: number;
  status: 'held' | 'confirmed';
  expiresAt: string | null;
}

/**
 * "Which seats of this resource are taken that day?": a copy of the resource-day inventory's holds, for
 * availability. It only advises: the aggregate decides at booking time.
 */
export interface ResourceDayUsageDocument extends Record<string, unknown> {
  tenantId: string;
  resourceId: string;
  localDate: string;
  holds: UsageHold[];
}

export function resourceDayUsageId(tenantId: string, resourceId: string, localDate: string): string {
  return `${tenantId}:${resourceId}:${localDate}`;
}

const sameHold = (hold: UsageHold, reservationId: string, slotStart: string) =>
  hold.reservationId === reservationId && hold.slotStart === slotStart;

export const resourceDayUsageProjection: Projection<ResourceDayUsageDocument> = {
  name: 'resource-day-usage',
  version: 1,
  collection: 'resource_day_usage',
  eventTypes: SLOT_INVENTORY_EVENT_TYPES,
  indexes: [['tenantId', 'resourceId', 'localDate']],
  documentId(event) {
    const { resourceId, localDate } = event.data as { resourceId?: unknown; localDate?: unknown };
    return typeof resourceId === 'string' && typeof localDate === 'string'
      ? resourceDayUsageId(event.metadata.tenantId, resourceId, localDate)
      : null;
  },
  evolve(doc, recorded) {
    const event = { type: recorded.type, data: recorded.data } as SlotInventoryEvent;
    const current: ResourceDayUsageDocument = doc ?? {
      tenantId: recorded.metadata.tenantId,
      resourceId: event.data.resourceId,
      localDate: event.data.localDate,
      holds: [],
    };
    const { reservationId, slotStart } = event.data;
    const others = current.holds.filter((hold) => !sameHold(hold, reservationId, slotStart));
    switch (event.type) {
      case 'SlotSeatsHeld':
        return {
          ...current,
          holds: [
            ...others,
            {
              reservationId,
              slotStart,
              occupiedUntil: event.data.occupiedUntil,
              serviceId: event.data.serviceId,
              seats: event.data.seats,
              status: 'held',
              expiresAt: event.data.expiresAt,
            },
          ],
        };
      case 'SlotSeatsReleased':
        return { ...current, holds: others };
      case 'SlotSeatsConfirmed':
        return {
          ...current,
          holds: current.holds.map((hold) =>
            sameHold(hold, reservationId, slotStart) ? { ...hold, status: 'confirmed' as const } : hold,
          ),
        };
    }
  },
};
