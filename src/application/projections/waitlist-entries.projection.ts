import type { EntryStatus, WaitlistEvent } from '../../domain/waitlist/waitlist.decider.js';
import { WAITLIST_EVENT_TYPES } from '../../domain/waitlist/waitlist.decider.js';
import type { Projection } from './projection.js';

/**
 * "What happened to each waitlist entry, and when?" One document per entry: the source of waitlist analytics
 * (joined → offered → booked), of staff lists, and of matching an SMS reply to the sender's open offer.
 */
export interface WaitlistEntryDocument extends Record<string, unknown> {
  tenantId: string;
  waitlistId: string;
  entryId: string;
  serviceId: string;
  serviceName: string;
  locationId: string;
  start: string;
  customerName: string;
  /** Lower-case email and E.164 phone, for lookups (never logged, never in analytics output). */
  customerEmail: string | null;
  customerPhone: string | null;
  partySize: number;
  status: EntryStatus;
  joinedAt: string;
  /** Local day of joining in the location's zone is not needed for analytics; UTC day is. */
  joinedDay: string;
  offers: number;
  /** The latest offer or assignment. */
  offerId: string | null;
  offerStatus: string | null;
  offerExpiresAt: string | null;
  firstOfferedAt: string | null;
  mode: 'offer' | 'assign' | null;
  bookedAt: string | null;
  reservationId: string | null;
  /** When the seats the entry got were freed: "freed to filled" is bookedAt - freedAt. */
  freedAt: string | null;
  answeredVia: string | null;
  endedAt: string | null;
  updatedAt: string;
}

export function waitlistEntryDocumentId(tenantId: string, entryId: string): string {
  return `${tenantId}:${entryId}`;
}

export const waitlistEntriesProjection: Projection<WaitlistEntryDocument> = {
  name: 'waitlist-entries',
  version: 1,
  collection: 'waitlist_entries',
  eventTypes: WAITLIST_EVENT_TYPES,
  indexes: [
    ['tenantId', 'joinedAt'],
    ['tenantId', 'serviceId', 'joinedAt'],
    ['tenantId', 'customerPhone', 'status'],
    ['tenantId', 'waitlistId'],
    ['tenantId', 'reservationId'],
  ],
  documentId: (event) => {
    // WaitlistClosed names no single entry: an entry still waiting after its slot's start was not served.
    const entryId = (event.data as { entryId?: unknown }).entryId;
    return typeof entryId === 'string' ? waitlistEntryDocumentId(event.metadata.tenantId, entryId) : null;
  },
  evolve(doc, recorded) {
    const event = { type: recorded.type, data: recorded.data } as WaitlistEvent;
    const at = recorded.recordedAt;
    if (event.type === 'WaitlistEntryJoined') {
      if (doc) return doc;
      const d = event.data;
      return {
        tenantId: recorded.metadata.tenantId,
        waitlistId: d.waitlistId,
        entryId: d.entryId,
        serviceId: d.slot.serviceId,
        serviceName: d.slot.serviceName,
        locationId: d.slot.locationId,
        start: d.slot.start,
        customerName: d.customer.name,
        customerEmail: d.customer.email?.toLowerCase() ?? null,
        customerPhone: d.customer.phone ?? null,
        partySize: d.partySize,
        status: 'waiting',
        joinedAt: d.joinedAt,
        joinedDay: d.joinedAt.slice(0, 10),
        offers: 0,
        offerId: null,
        offerStatus: null,
        offerExpiresAt: null,
        firstOfferedAt: null,
        mode: null,
        bookedAt: null,
        reservationId: null,
        freedAt: null,
        answeredVia: null,
        endedAt: null,
        updatedAt: at,
      };
    }
    if (!doc) return null;
    const touch = (next: Partial<WaitlistEntryDocument>): WaitlistEntryDocument => ({ ...doc, ...next, updatedAt: at });
    switch (event.type) {
      case 'WaitlistOfferMade':
        return touch({
          status: 'offered',
          offers: doc.offers + 1,
          offerId: event.data.offerId,
          offerStatus: 'open',
          offerExpiresAt: event.data.expiresAt,
          firstOfferedAt: doc.firstOfferedAt ?? event.data.madeAt,
          mode: 'offer',
        });
      case 'WaitlistSeatAssigned':
        return touch({
          status: 'booked',
          offers: doc.offers + 1,
          offerId: event.data.offerId,
          offerStatus: 'accepted',
          firstOfferedAt: doc.firstOfferedAt ?? event.data.assignedAt,
          mode: 'assign',
          bookedAt: event.data.assignedAt,
          reservationId: event.data.reservationId,
          freedAt: event.data.freedAt,
          endedAt: event.data.assignedAt,
        });
      case 'WaitlistOfferAccepted':
        return touch({
          status: 'booked',
          offerStatus: 'accepted',
          bookedAt: event.data.acceptedAt,
          reservationId: event.data.reservationId,
          freedAt: event.data.freedAt,
          answeredVia: event.data.via,
          endedAt: event.data.acceptedAt,
        });
      case 'WaitlistOfferDeclined':
        return touch({
          status: 'declined',
          offerStatus: 'declined',
          answeredVia: event.data.via,
          endedAt: event.data.declinedAt,
        });
      case 'WaitlistOfferExpired':
        return touch({ status: 'expired', offerStatus: 'expired', endedAt: event.data.expiredAt });
      case 'WaitlistOfferWithdrawn':
        return touch({ status: 'waiting', offerStatus: 'withdrawn' });
      case 'WaitlistEntryLeft':
        return touch({
          status: 'left',
          ...(event.data.withdrawnOffer ? { offerStatus: 'withdrawn' } : {}),
          endedAt: event.data.leftAt,
        });
      case 'WaitlistEntryRemoved':
        return touch({
          status: 'removed',
          ...(event.data.withdrawnOffer ? { offerStatus: 'withdrawn' } : {}),
          endedAt: event.data.removedAt,
        });
      case 'WaitlistEntrySkipped':
        return touch({ status: 'waiting', ...(event.data.withdrawnOffer ? { offerStatus: 'withdrawn' } : {}) });
      default:
        return doc;
    }
  },
};
