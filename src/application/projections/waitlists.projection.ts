import type { EntryStatus, WaitlistEvent } from '../../domain/waitlist/waitlist.decider.js';
import { WAITLIST_EVENT_TYPES } from '../../domain/waitlist/waitlist.decider.js';
import type { Projection } from './projection.js';

/** "Which slots have a waitlist, and how long is it?" One document per waitlist (staff lists, re-allocation). */
export interface WaitlistDocument extends Record<string, unknown> {
  tenantId: string;
  waitlistId: string;
  serviceId: string;
  serviceName: string;
  locationId: string;
  locationName: string;
  timeZone: string;
  start: string;
  end: string;
  status: 'open' | 'closed';
  waiting: number;
  offered: number;
  booked: number;
  /** Status of every entry, by id (the counts are derived from it). */
  entries: Record<string, EntryStatus>;
  updatedAt: string;
}

export function waitlistDocumentId(tenantId: string, waitlistId: string): string {
  return `${tenantId}:${waitlistId}`;
}

function counted(doc: WaitlistDocument, entries: Record<string, EntryStatus>, at: string): WaitlistDocument {
  const statuses = Object.values(entries);
  const count = (status: EntryStatus) => statuses.filter((s) => s === status).length;
  return {
    ...doc,
    entries,
    waiting: count('waiting'),
    offered: count('offered'),
    booked: count('booked'),
    updatedAt: at,
  };
}

const ENTRY_STATUS: Partial<Record<WaitlistEvent['type'], EntryStatus>> = {
  WaitlistEntryLeft: 'left',
  WaitlistEntryRemoved: 'removed',
  WaitlistEntrySkipped: 'waiting',
  WaitlistOfferMade: 'offered',
  WaitlistSeatAssigned: 'booked',
  WaitlistOfferAccepted: 'booked',
  WaitlistOfferDeclined: 'declined',
  WaitlistOfferExpired: 'expired',
  WaitlistOfferWithdrawn: 'waiting',
};

export const waitlistsProjection: Projection<WaitlistDocument> = {
  name: 'waitlists',
  version: 1,
  collection: 'waitlists',
  eventTypes: WAITLIST_EVENT_TYPES,
  indexes: [
    ['tenantId', 'status', 'start'],
    ['tenantId', 'serviceId', 'start'],
    ['tenantId', 'start'],
  ],
  documentId: (event) => {
    const waitlistId = (event.data as { waitlistId?: unknown }).waitlistId;
    return typeof waitlistId === 'string' ? waitlistDocumentId(event.metadata.tenantId, waitlistId) : null;
  },
  evolve(doc, recorded) {
    const event = { type: recorded.type, data: recorded.data } as WaitlistEvent;
    const at = recorded.recordedAt;
    if (event.type === 'WaitlistEntryJoined') {
      const base: WaitlistDocument = doc ?? {
        tenantId: recorded.metadata.tenantId,
        waitlistId: event.data.waitlistId,
        serviceId: event.data.slot.serviceId,
        serviceName: event.data.slot.serviceName,
        locationId: event.data.slot.locationId,
        locationName: event.data.slot.location.name,
        timeZone: event.data.slot.location.timeZone,
        start: event.data.slot.start,
        end: event.data.slot.end,
        status: 'open',
        waiting: 0,
        offered: 0,
        booked: 0,
        entries: {},
        updatedAt: at,
      };
      return counted(base, { ...base.entries, [event.data.entryId]: 'waiting' }, at);
    }
    if (!doc) return null;
    if (event.type === 'WaitlistClosed') {
      const entries = { ...doc.entries };
      for (const entryId of event.data.closedEntries) entries[entryId] = 'closed';
      return counted({ ...doc, status: 'closed' }, entries, at);
    }
    const status = ENTRY_STATUS[event.type];
    const entryId = (event.data as { entryId?: unknown }).entryId;
    if (!status || typeof entryId !== 'string') return { ...doc, updatedAt: at };
    return counted(doc, { ...doc.entries, [entryId]: status }, at);
  },
};
