import type { ResourceBusy } from '../../domain/booking/availability.js';
import type { ReadModelStore, StoredDocument } from '../ports/read-model-store.port.js';
import { physicalCollection } from '../projections/projection.js';
import {
  resourceCalendarsProjection,
  type ResourceCalendarDocument,
} from '../projections/resource-calendars.projection.js';

/**
 * The busy times of these resources' linked calendars overlapping `[from, to)`, from the last successful syncs (a
 * failing sync keeps the last good ones). Read-model data, as availability's seats are: a sync is itself a moment
 * behind the provider, and a booking that a later sync finds in conflict is flagged to staff.
 */
export async function busyTimesOf(
  readModels: ReadModelStore,
  tenantId: string,
  resourceIds: readonly string[],
  range: { readonly from: number; readonly to: number },
): Promise<ResourceBusy[]> {
  if (resourceIds.length === 0) return [];
  const docs = await readModels.find<ResourceCalendarDocument & StoredDocument>(
    physicalCollection(resourceCalendarsProjection),
    { tenantId, resourceId: { $in: [...resourceIds] }, status: 'linked' },
  );
  const busy: ResourceBusy[] = [];
  for (const doc of docs) {
    for (const interval of doc.busy ?? []) {
      const start = Date.parse(interval.start);
      const end = Date.parse(interval.end);
      if (start < range.to && end > range.from) {
        busy.push({ resourceId: doc.resourceId, start: interval.start, end: interval.end, calendarId: doc.calendarId });
      }
    }
  }
  return busy;
}
