import {
  computeAvailability,
  type AvailableSlot,
  type ResourceCalendar,
  type SeatUsage,
} from '../../domain/booking/availability.js';
import { localDateOf } from '../../domain/booking/slot-inventory.decider.js';
import type { Service } from '../../domain/catalog/service.decider.js';
import { invalid, requireInstant } from '../../domain/catalog/validation.js';
import { MINUTE_MS } from '../../domain/shared/zoned-time.js';
import { busyTimesOf } from '../calendars/busy-times.js';
import { findCatalogDocuments } from '../catalog/catalog-queries.js';
import type { Clock } from '../ports/clock.port.js';
import type { ReadModelStore } from '../ports/read-model-store.port.js';
import { resourceDayUsageProjection, type ResourceDayUsageDocument } from '../projections/availability.projection.js';
import type { CatalogDocument } from '../projections/catalog.projection.js';
import { physicalCollection } from '../projections/projection.js';

export interface AvailabilityRequest {
  readonly serviceId: string;
  readonly from: string;
  readonly to: string;
  readonly resourceId?: string;
  readonly locationId?: string;
  readonly partySize?: number;
  readonly includeFull?: boolean;
}

export interface AvailabilityAnswer {
  readonly serviceId: string;
  readonly locationId: string;
  readonly timeZone: string;
  readonly slots: AvailableSlot[];
}

/**
 * Bookable slots, from read models only: the catalog projection (service, location, calendars) and the seats in
 * use per resource and day (a copy of the resource-day inventories). An answer may be a moment behind; booking
 * checks the seats again in the aggregate. Expired tentative holds are counted as free, as the aggregate would
 * reclaim them.
 */
export async function findAvailability(
  deps: { readonly readModels: ReadModelStore; readonly clock: Clock },
  tenantId: string,
  request: AvailabilityRequest,
): Promise<AvailabilityAnswer> {
  const now = deps.clock.now();
  const [serviceDoc] = await findCatalogDocuments(deps.readModels, tenantId, 'service', [request.serviceId]);
  if (!serviceDoc || serviceDoc.status !== 'active') {
    throw invalid('serviceId', 'unknown-service', `Service ${request.serviceId} does not exist or is archived.`);
  }
  const service = serviceDoc as unknown as Service & CatalogDocument;
  const [locationDoc] = await findCatalogDocuments(deps.readModels, tenantId, 'location', [service.locationId]);
  if (!locationDoc || locationDoc.status !== 'active') {
    throw invalid('serviceId', 'unknown-location', `The location of service ${request.serviceId} is archived.`);
  }
  const timeZone = String(locationDoc.timeZone);
  const answer = { serviceId: service.serviceId, locationId: service.locationId, timeZone };
  if (request.locationId !== undefined && request.locationId !== service.locationId) return { ...answer, slots: [] };

  const wanted = request.resourceId !== undefined ? [request.resourceId] : service.resourceIds;
  const resourceDocs = (await findCatalogDocuments(deps.readModels, tenantId, 'resource', wanted)).filter(
    (doc) => doc.status === 'active',
  );
  const resources = resourceDocs as unknown as ResourceCalendar[];

  const from = requireInstant('from', request.from);
  const to = requireInstant('to', request.to);
  const occupiedMs = (service.durationMinutes + service.bufferMinutes) * MINUTE_MS;
  const bookings = await seatUsages(deps.readModels, tenantId, {
    resourceIds: resources.map((resource) => resource.resourceId),
    firstDay: localDateOf(timeZone, from),
    lastDay: localDateOf(timeZone, new Date(Math.max(Date.parse(to), Date.parse(from)) + occupiedMs).toISOString()),
    nowMs: now.getTime(),
  });
  // Busy times of linked external calendars (issue 12): taken out of the resources' working hours.
  const busy = await busyTimesOf(
    deps.readModels,
    tenantId,
    resources.map((resource) => resource.resourceId),
    { from: Date.parse(from), to: Math.max(Date.parse(to), Date.parse(from)) + occupiedMs },
  );
  const slots = computeAvailability({
    service,
    serviceId: service.serviceId,
    timeZone,
    resources,
    bookings,
    busy,
    from,
    to,
    now: now.toISOString(),
    ...(request.resourceId !== undefined ? { resourceId: request.resourceId } : {}),
    ...(request.partySize !== undefined ? { partySize: request.partySize } : {}),
    ...(request.includeFull !== undefined ? { includeFull: request.includeFull } : {}),
  });
  return { ...answer, slots };
}

async function seatUsages(
  readModels: ReadModelStore,
  tenantId: string,
  range: { resourceIds: string[]; firstDay: string; lastDay: string; nowMs: number },
): Promise<SeatUsage[]> {
  if (range.resourceIds.length === 0) return [];
  const docs = await readModels.find<ResourceDayUsageDocument & { _id: string }>(
    physicalCollection(resourceDayUsageProjection),
    {
      tenantId,
      resourceId: { $in: range.resourceIds },
      localDate: { $gte: range.firstDay, $lte: range.lastDay },
    },
  );
  // A slot past midnight is held on each day it touches: count it once.
  const usages = new Map<string, SeatUsage>();
  for (const doc of docs) {
    for (const hold of doc.holds) {
      const expired = hold.status === 'held' && hold.expiresAt !== null && Date.parse(hold.expiresAt) <= range.nowMs;
      if (expired) continue;
      usages.set(`${doc.resourceId}|${hold.reservationId}|${hold.slotStart}`, {
        resourceId: doc.resourceId,
        start: hold.slotStart,
        end: hold.occupiedUntil,
        seats: hold.seats,
        serviceId: hold.serviceId,
      });
    }
  }
  return [...usages.values()];
}
