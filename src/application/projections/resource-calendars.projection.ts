import type { BusyInterval } from '../../domain/calendar/busy-intervals.js';
import {
  RESOURCE_CALENDAR_EVENT_TYPES,
  type CalendarProvider,
  type ResourceCalendarEvent,
  type SyncError,
} from '../../domain/calendar/resource-calendar.decider.js';
import type { Projection } from './projection.js';

/**
 * "Which external calendars does this resource follow, how did their last sync go, and when are they busy?": one
 * document per linked calendar, without its secrets. Availability and booking read the busy times of the linked ones.
 */
export interface ResourceCalendarDocument extends Record<string, unknown> {
  tenantId: string;
  calendarId: string;
  resourceId: string;
  name: string;
  provider: CalendarProvider;
  /** What the API shows of the secret: the feed's host, the calendar's id, the token's last characters. */
  hint: string;
  /** Google's calendar id / Graph's user and schedule: not secrets, shown as they are. */
  target: string | null;
  syncIntervalMinutes: number;
  status: 'linked' | 'unlinked';
  linkedAt: string;
  unlinkedAt: string | null;
  lastSyncedAt: string | null;
  horizonEnd: string | null;
  busyCount: number;
  truncated: boolean;
  busy: BusyInterval[];
  lastError: (SyncError & { since: string }) | null;
  revision: number;
}

export function resourceCalendarDocumentId(tenantId: string, calendarId: string): string {
  return `${tenantId}:${calendarId}`;
}

export const resourceCalendarsProjection: Projection<ResourceCalendarDocument> = {
  name: 'resource-calendars',
  version: 1,
  collection: 'resource_calendars',
  eventTypes: RESOURCE_CALENDAR_EVENT_TYPES,
  indexes: [
    ['tenantId', 'resourceId', 'status'],
    ['tenantId', 'calendarId'],
  ],
  documentId(event) {
    const calendarId = (event.data as { calendarId?: unknown }).calendarId;
    return typeof calendarId === 'string' ? resourceCalendarDocumentId(event.metadata.tenantId, calendarId) : null;
  },
  evolve(doc, recorded) {
    const event = { type: recorded.type, data: recorded.data } as ResourceCalendarEvent;
    const revision = Number(recorded.revision);
    switch (event.type) {
      case 'ResourceCalendarLinked': {
        const d = event.data;
        return {
          tenantId: recorded.metadata.tenantId,
          calendarId: d.calendarId,
          resourceId: d.resourceId,
          name: d.name,
          provider: d.source.provider,
          hint: d.source.hint,
          target:
            d.source.provider === 'google'
              ? d.source.calendar
              : d.source.provider === 'microsoft'
                ? `${d.source.user} / ${d.source.schedule}`
                : null,
          syncIntervalMinutes: d.syncIntervalMinutes,
          status: 'linked',
          linkedAt: d.linkedAt,
          unlinkedAt: null,
          lastSyncedAt: null,
          horizonEnd: null,
          busyCount: 0,
          truncated: false,
          busy: [],
          lastError: null,
          revision,
        };
      }
      case 'ResourceCalendarChanged': {
        if (!doc) return null;
        const { name, syncIntervalMinutes, source } = event.data.changes;
        return {
          ...doc,
          ...(name !== undefined ? { name } : {}),
          ...(syncIntervalMinutes !== undefined ? { syncIntervalMinutes } : {}),
          ...(source !== undefined ? { hint: source.hint } : {}),
          revision,
        };
      }
      case 'ResourceCalendarUnlinked':
        return doc ? { ...doc, status: 'unlinked', unlinkedAt: event.data.unlinkedAt, revision } : null;
      case 'ResourceCalendarSynced': {
        if (!doc) return null;
        const d = event.data;
        return {
          ...doc,
          lastSyncedAt: d.syncedAt,
          horizonEnd: d.horizonEnd,
          busyCount: d.busyCount,
          truncated: d.truncated,
          busy: d.changed && d.busy ? d.busy.map((b) => ({ start: b.start, end: b.end })) : doc.busy,
          lastError: null,
          revision,
        };
      }
      case 'ResourceCalendarSyncFailed':
        return doc ? { ...doc, lastError: { ...event.data.error, since: event.data.failedAt }, revision } : null;
    }
  },
};
