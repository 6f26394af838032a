import type { Customer } from '../../../src/domain/booking/reservation.decider.js';
import type {
  AllocateSeats,
  FreedSeatCause,
  FreeSeats,
  JoinWaitlist,
  WaitlistChannel,
  WaitlistCommand,
  WaitlistEntryJoined,
  WaitlistEvent,
  WaitlistOfferMade,
  WaitlistSeatAssigned,
  WaitlistSlot,
} from '../../../src/domain/waitlist/waitlist.decider.js';

/** Shared builders for the waitlist decider's specifications and properties. */

export const WAITLIST_ID = 'wl-1';
export const TENANT = 'acme';
export const ACTOR = 'apikey:k1';
export const SYSTEM = 'system:waitlist';
export const MIN = 60_000;

/** Two days before the slot; the slot is 2030-06-03 10:00-11:00 in Oslo. */
export const NOW = '2030-06-01T08:00:00.000Z';
export const START = '2030-06-03T08:00:00.000Z';
export const END = '2030-06-03T09:00:00.000Z';
export const later = (minutes: number, from = NOW) => new Date(Date.parse(from) + minutes * MIN).toISOString();

export const SLOT: WaitlistSlot = {
  serviceId: 'swim',
  serviceName: 'Lane swim',
  locationId: 'frogner',
  location: { name: 'Frognerbadet', address: 'Middelthuns gate 28, 0368 Oslo', timeZone: 'Europe/Oslo' },
  start: START,
  end: END,
};

export const customer = (n: number, overrides: Partial<Customer> = {}): Customer => ({
  id: `c${n}`,
  name: `Customer ${n}`,
  email: `c${n}@example.com`,
  phone: `+47911000${String(n).padStart(2, '0')}`,
  locale: 'en',
  ...overrides,
});

export interface JoinOptions {
  readonly customer?: Customer;
  readonly partySize?: number;
  readonly resourceId?: string | null;
  readonly channels?: readonly WaitlistChannel[];
  readonly maxEntries?: number;
  readonly now?: string;
  readonly slot?: WaitlistSlot;
}

/** Entry `e<n>` of customer `c<n>`. */
export const join = (n: number, options: JoinOptions = {}): JoinWaitlist => ({
  type: 'JoinWaitlist',
  data: {
    tenantId: TENANT,
    waitlistId: WAITLIST_ID,
    slot: options.slot ?? SLOT,
    entryId: `e${n}`,
    customer: options.customer ?? customer(n),
    partySize: options.partySize ?? 1,
    ...(options.resourceId !== undefined ? { resourceId: options.resourceId } : {}),
    ...(options.channels ? { channels: options.channels } : {}),
    maxEntries: options.maxEntries ?? 100,
    now: options.now ?? NOW,
    actor: ACTOR,
  },
});

export const joined = (
  n: number,
  seq: number,
  position: number,
  options: Omit<JoinOptions, 'maxEntries'> = {},
): WaitlistEntryJoined => ({
  type: 'WaitlistEntryJoined',
  data: {
    waitlistId: WAITLIST_ID,
    tenantId: TENANT,
    slot: options.slot ?? SLOT,
    entryId: `e${n}`,
    seq,
    customer: options.customer ?? customer(n),
    partySize: options.partySize ?? 1,
    resourceId: options.resourceId ?? null,
    channels: options.channels ?? ['email', 'sms'],
    position,
    joinedAt: options.now ?? NOW,
    actor: ACTOR,
  },
});

export interface AllocateOptions {
  readonly mode?: 'offer' | 'assign';
  readonly window?: number;
  readonly deadline?: string;
  readonly cause?: FreedSeatCause;
  readonly entryId?: string;
  readonly override?: { by: string; reason: string };
  readonly now?: string;
}

export const allocate = (free: readonly FreeSeats[], options: AllocateOptions = {}): AllocateSeats => ({
  type: 'AllocateSeats',
  data: {
    free,
    mode: options.mode ?? 'offer',
    responseWindowSeconds: options.window ?? 900,
    deadline: options.deadline ?? START,
    ...(options.cause ? { cause: options.cause } : {}),
    ...(options.entryId !== undefined ? { entryId: options.entryId } : {}),
    ...(options.override ? { override: options.override } : {}),
    now: options.now ?? NOW,
    actor: SYSTEM,
  },
});

export const lane = (n: number, seats: number): FreeSeats => ({ resourceId: `lane-${n}`, seats });

export const cause = (eventId: string, freedAt = NOW): FreedSeatCause => ({
  eventId,
  reason: 'cancelled',
  reservationId: 'r-gone',
  resourceId: 'lane-1',
  seats: 1,
  freedAt,
});

export interface OfferOptions {
  readonly n?: number;
  readonly resourceId?: string;
  readonly seats?: number;
  readonly now?: string;
  readonly expiresAt?: string;
  readonly cause?: FreedSeatCause | null;
  readonly override?: { by: string; reason: string } | null;
}

/** The `n`-th offer (default 1) of entry `e<entry>`. */
export const offerMade = (entry: number, options: OfferOptions = {}): WaitlistOfferMade => {
  const offerId = `e${entry}.${options.n ?? 1}`;
  const now = options.now ?? NOW;
  return {
    type: 'WaitlistOfferMade',
    data: {
      waitlistId: WAITLIST_ID,
      entryId: `e${entry}`,
      offerId,
      reservationId: offerId,
      resourceId: options.resourceId ?? 'lane-1',
      seats: options.seats ?? 1,
      madeAt: now,
      expiresAt: options.expiresAt ?? later(15, now),
      freedAt: options.cause?.freedAt ?? null,
      causeEventId: options.cause?.eventId ?? null,
      override: options.override ?? null,
      actor: SYSTEM,
    },
  };
};

export const seatAssigned = (entry: number, options: OfferOptions = {}): WaitlistSeatAssigned => {
  const offerId = `e${entry}.${options.n ?? 1}`;
  return {
    type: 'WaitlistSeatAssigned',
    data: {
      waitlistId: WAITLIST_ID,
      entryId: `e${entry}`,
      offerId,
      reservationId: offerId,
      resourceId: options.resourceId ?? 'lane-1',
      seats: options.seats ?? 1,
      assignedAt: options.now ?? NOW,
      freedAt: options.cause?.freedAt ?? null,
      causeEventId: options.cause?.eventId ?? null,
      override: options.override ?? null,
      actor: SYSTEM,
    },
  };
};

/** The reference an answer event carries for entry `e<entry>`'s `n`-th offer. */
export const ref = (entry: number, options: { n?: number; resourceId?: string; seats?: number } = {}) => {
  const offerId = `e${entry}.${options.n ?? 1}`;
  return {
    entryId: `e${entry}`,
    offerId,
    reservationId: offerId,
    resourceId: options.resourceId ?? 'lane-1',
    seats: options.seats ?? 1,
  };
};

type Answer = 'AcceptOffer' | 'DeclineOffer';
export const answer = (type: Answer, offerId: string, now = NOW, via: 'link' | 'sms' | 'api' = 'link') =>
  ({ type, data: { offerId, via, now, actor: 'customer:link' } }) as WaitlistCommand;
export const expire = (offerId: string, now: string): WaitlistCommand => ({
  type: 'ExpireOffer',
  data: { offerId, now, actor: SYSTEM },
});
export const withdraw = (offerId: string, now = NOW, reason = 'seat-lost'): WaitlistCommand => ({
  type: 'WithdrawOffer',
  data: { offerId, reason, now, actor: SYSTEM },
});

export const accepted = (entry: number, now = NOW, options: { n?: number; freedAt?: string | null } = {}) =>
  ({
    type: 'WaitlistOfferAccepted',
    data: {
      waitlistId: WAITLIST_ID,
      ...ref(entry, options),
      via: 'link',
      acceptedAt: now,
      freedAt: options.freedAt ?? null,
      actor: 'customer:link',
    },
  }) as WaitlistEvent;
export const declined = (entry: number, now = NOW, n = 1) =>
  ({
    type: 'WaitlistOfferDeclined',
    data: { waitlistId: WAITLIST_ID, ...ref(entry, { n }), via: 'link', declinedAt: now, actor: 'customer:link' },
  }) as WaitlistEvent;
export const expired = (entry: number, expiresAt: string, now = expiresAt, n = 1) =>
  ({
    type: 'WaitlistOfferExpired',
    data: { waitlistId: WAITLIST_ID, ...ref(entry, { n }), expiresAt, expiredAt: now, actor: SYSTEM },
  }) as WaitlistEvent;
export const withdrawn = (entry: number, now = NOW, n = 1, reason = 'seat-lost') =>
  ({
    type: 'WaitlistOfferWithdrawn',
    data: { waitlistId: WAITLIST_ID, ...ref(entry, { n }), reason, withdrawnAt: now, actor: SYSTEM },
  }) as WaitlistEvent;
