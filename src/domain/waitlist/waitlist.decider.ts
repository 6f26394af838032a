import { validateCustomer, type Customer, type LocationSnapshot } from '../booking/reservation.decider.js';
import { compoundStreamName } from '../catalog/stream-name.js';
import {
  invalid,
  requireId,
  requireInstant,
  requireInteger,
  requireOneOf,
  requireText,
  requireTimeZone,
} from '../catalog/validation.js';
import type { Command, Decider, DomainEvent } from '../shared/decider.js';
import { IllegalStateError, NotFoundError } from '../shared/errors.js';
import { parseInstant } from '../shared/zoned-time.js';

/**
 * The waitlist of one slot: a service at one start time (any of its resources, or the one an entry asks for).
 * It decides who is next; the resource-day inventory decides whether a seat is free. The application holds the
 * seats of an offer on the inventory before the offer is recorded here, so an offer always has its seats.
 *
 *   entry: waiting -> offered -> booked (accepted) | declined | expired | waiting (offer withdrawn: seat lost)
 *          waiting -> booked (assigned) | left | removed | closed (the slot passed without a seat for it)
 *
 * Order is the order of joining (`seq`, strictly increasing within the stream: no ties). Allocation is first fit
 * in that order: the first waiting entry whose party fits the seats free on a resource it accepts gets them. An
 * entry whose party is larger than what was freed keeps its place and is first in line for the next seats that fit
 * it (docs/decisions/0012-waitlist.md).
 *
 * Ids are built from ids already in the state (`<entryId>.<n>` for an entry's n-th offer, which is also the id of
 * the reservation it turns into), so deciding twice from the same state gives the same ids.
 */

export const WAITLIST_MODES = ['offer', 'assign'] as const;
export type WaitlistMode = (typeof WAITLIST_MODES)[number];

export const WAITLIST_CHANNELS = ['email', 'sms'] as const;
export type WaitlistChannel = (typeof WAITLIST_CHANNELS)[number];

/** How an offer was answered: the claim page, an SMS reply, the API. */
export const OFFER_ANSWER_VIA = ['link', 'sms', 'api'] as const;
export type OfferAnswerVia = (typeof OFFER_ANSWER_VIA)[number];

export const MAX_WAITLIST_PARTY_SIZE = 10_000;

export interface WaitlistSlot {
  readonly serviceId: string;
  readonly serviceName: string;
  readonly locationId: string;
  readonly location: LocationSnapshot;
  /** ISO instants (UTC). */
  readonly start: string;
  readonly end: string;
}

/** Who took an action outside the normal order, and why: every admin override carries one. */
export interface Override {
  readonly by: string;
  readonly reason: string;
}

export type OfferStatus = 'open' | 'accepted' | 'declined' | 'expired' | 'withdrawn';

export interface WaitlistOffer {
  readonly offerId: string;
  /** `offer`: the customer answers; `assign`: the seat was booked for them at once. */
  readonly mode: WaitlistMode;
  /** The reservation the offer becomes when accepted; its seats are held under this id. */
  readonly reservationId: string;
  readonly resourceId: string;
  readonly seats: number;
  readonly madeAt: string;
  readonly expiresAt: string;
  /** When the seats were freed, if a release caused the offer. */
  readonly freedAt: string | null;
  readonly status: OfferStatus;
}

export type EntryStatus = 'waiting' | 'offered' | 'booked' | 'declined' | 'expired' | 'left' | 'removed' | 'closed';

export interface WaitlistEntry {
  readonly entryId: string;
  /** Joining order; moved to the end when staff skip the entry. */
  readonly seq: number;
  readonly customer: Customer;
  /** `id:`, `email:` or `phone:` key: one active entry per customer and waitlist. */
  readonly customerKey: string;
  readonly partySize: number;
  /** Null: any of the service's resources. */
  readonly resourceId: string | null;
  /** How the customer wants to be told (the customer's contacts permitting). */
  readonly channels: readonly WaitlistChannel[];
  readonly joinedAt: string;
  readonly status: EntryStatus;
  /** The latest offer or assignment, if any. */
  readonly offer: WaitlistOffer | null;
  /** Offers a later one replaced (each withdrawn: the entry was skipped, or its seats were lost). */
  readonly earlierOffers?: readonly WaitlistOffer[];
  readonly offerCount: number;
  /** The reservation the entry turned into. */
  readonly reservationId: string | null;
}

export type WaitlistState =
  | { readonly status: 'none' }
  | {
      readonly status: 'open' | 'closed';
      readonly waitlistId: string;
      readonly tenantId: string;
      readonly slot: WaitlistSlot;
      /** In joining order of first appearance; `seq` gives the current order. */
      readonly entries: readonly WaitlistEntry[];
      readonly nextSeq: number;
      /** Causes (event ids) already recorded as a freed seat. */
      readonly freedCauses: readonly string[];
      /** An offer ended unaccepted since the last WaitlistExhausted: staff are told if nobody takes the seat. */
      readonly unservedOffer: boolean;
    };

export type OpenWaitlistState = Exclude<WaitlistState, { status: 'none' }>;

// Commands -------------------------------------------------------------------------------------------------------

interface Stamped {
  readonly now: string;
  /** `apikey:<id>`, `customer:link`, `system:waitlist`... copied into the event. */
  readonly actor: string;
}

export type JoinWaitlist = Command<
  'JoinWaitlist',
  Stamped & {
    readonly tenantId: string;
    readonly waitlistId: string;
    readonly slot: WaitlistSlot;
    readonly entryId: string;
    readonly customer: Customer;
    readonly partySize: number;
    readonly resourceId?: string | null;
    readonly channels?: readonly WaitlistChannel[];
    /** The list cap in force (settings). */
    readonly maxEntries: number;
  }
>;

export type LeaveWaitlist = Command<'LeaveWaitlist', Stamped & { readonly entryId: string }>;
export type RemoveEntry = Command<'RemoveEntry', Stamped & { readonly entryId: string; readonly reason: string }>;
/** Staff pass an entry over: it goes to the end of the line (its open offer, if any, is withdrawn). */
export type SkipEntry = Command<'SkipEntry', Stamped & { readonly entryId: string; readonly reason: string }>;

export interface FreeSeats {
  readonly resourceId: string;
  readonly seats: number;
}

export interface FreedSeatCause {
  /** The event that freed the seats (SlotSeatsReleased, a capacity change...). */
  readonly eventId: string;
  readonly reason: string;
  readonly reservationId?: string;
  readonly resourceId?: string;
  readonly seats?: number;
  readonly freedAt: string;
}

/**
 * Gives seats that are free on the inventory (`free`, per resource, in the service's order of resources) to waiting
 * entries in joining order, first fit. With `entryId` (an admin override) only that entry is considered.
 */
export type AllocateSeats = Command<
  'AllocateSeats',
  Stamped & {
    readonly free: readonly FreeSeats[];
    readonly mode: WaitlistMode;
    readonly responseWindowSeconds: number;
    /** No offer or assignment at or after this instant (start minus the cut-off). */
    readonly deadline: string;
    readonly cause?: FreedSeatCause;
    readonly entryId?: string;
    readonly override?: Override;
  }
>;

export type AcceptOffer = Command<'AcceptOffer', Stamped & { readonly offerId: string; readonly via: OfferAnswerVia }>;
export type DeclineOffer = Command<
  'DeclineOffer',
  Stamped & { readonly offerId: string; readonly via: OfferAnswerVia }
>;
/** The response window ran out (the scheduled job). Too early is refused, so the job runs again later. */
export type ExpireOffer = Command<'ExpireOffer', Stamped & { readonly offerId: string }>;
/** The offer's seats could not be kept (lost on the inventory): the entry goes back to waiting in its place. */
export type WithdrawOffer = Command<'WithdrawOffer', Stamped & { readonly offerId: string; readonly reason: string }>;
/** The slot passed its deadline: entries still waiting will not get a seat. */
export type CloseWaitlist = Command<'CloseWaitlist', Stamped & { readonly deadline: string }>;

export type WaitlistCommand =
  | JoinWaitlist
  | LeaveWaitlist
  | RemoveEntry
  | SkipEntry
  | AllocateSeats
  | AcceptOffer
  | DeclineOffer
  | ExpireOffer
  | WithdrawOffer
  | CloseWaitlist;

// Events ---------------------------------------------------------------------------------------------------------

type Base = { readonly waitlistId: string; readonly actor: string };
type OfferRef = {
  readonly entryId: string;
  readonly offerId: string;
  readonly reservationId: string;
  readonly resourceId: string;
  readonly seats: number;
};

export type WaitlistEntryJoined = DomainEvent<
  'WaitlistEntryJoined',
  Base & {
    readonly tenantId: string;
    readonly slot: WaitlistSlot;
    readonly entryId: string;
    readonly seq: number;
    readonly customer: Customer;
    readonly partySize: number;
    readonly resourceId: string | null;
    readonly channels: readonly WaitlistChannel[];
    /** Place in line when joining (1 = next). */
    readonly position: number;
    readonly joinedAt: string;
  }
>;

export type WaitlistEntryLeft = DomainEvent<
  'WaitlistEntryLeft',
  Base & { readonly entryId: string; readonly withdrawnOffer: OfferRef | null; readonly leftAt: string }
>;

export type WaitlistEntryRemoved = DomainEvent<
  'WaitlistEntryRemoved',
  Base & {
    readonly entryId: string;
    readonly reason: string;
    readonly withdrawnOffer: OfferRef | null;
    readonly removedAt: string;
  }
>;

export type WaitlistEntrySkipped = DomainEvent<
  'WaitlistEntrySkipped',
  Base & {
    readonly entryId: string;
    readonly reason: string;
    /** The new joining order: after everyone else. */
    readonly seq: number;
    readonly withdrawnOffer: OfferRef | null;
    readonly skippedAt: string;
  }
>;

/** "A time slot became free" for customers on this waitlist: other automations may react to it. */
export type WaitlistSeatsFreed = DomainEvent<
  'WaitlistSeatsFreed',
  Base & {
    readonly cause: FreedSeatCause;
    readonly free: readonly FreeSeats[];
    /** Entries waiting when the seats were freed. */
    readonly waiting: number;
    readonly recordedAt: string;
  }
>;

export type WaitlistOfferMade = DomainEvent<
  'WaitlistOfferMade',
  Base &
    OfferRef & {
      readonly madeAt: string;
      readonly expiresAt: string;
      /** When the seats were freed (the start of "freed to filled"). */
      readonly freedAt: string | null;
      /** The event that freed the seats (a release on the inventory), when one did. */
      readonly causeEventId: string | null;
      readonly override: Override | null;
    }
>;

export type WaitlistSeatAssigned = DomainEvent<
  'WaitlistSeatAssigned',
  Base &
    OfferRef & {
      readonly assignedAt: string;
      readonly freedAt: string | null;
      readonly causeEventId: string | null;
      readonly override: Override | null;
    }
>;

export type WaitlistOfferAccepted = DomainEvent<
  'WaitlistOfferAccepted',
  Base & OfferRef & { readonly via: OfferAnswerVia; readonly acceptedAt: string; readonly freedAt: string | null }
>;

export type WaitlistOfferDeclined = DomainEvent<
  'WaitlistOfferDeclined',
  Base & OfferRef & { readonly via: OfferAnswerVia; readonly declinedAt: string }
>;

export type WaitlistOfferExpired = DomainEvent<
  'WaitlistOfferExpired',
  Base & OfferRef & { readonly expiresAt: string; readonly expiredAt: string }
>;

export type WaitlistOfferWithdrawn = DomainEvent<
  'WaitlistOfferWithdrawn',
  Base & OfferRef & { readonly reason: string; readonly withdrawnAt: string }
>;

/** Seats are free and no waiting entry takes them after an offer went unanswered: they go back to the public. */
export type WaitlistExhausted = DomainEvent<
  'WaitlistExhausted',
  Base & { readonly free: readonly FreeSeats[]; readonly waiting: number; readonly exhaustedAt: string }
>;

export type WaitlistClosed = DomainEvent<
  'WaitlistClosed',
  Base & { readonly closedEntries: readonly string[]; readonly deadline: string; readonly closedAt: string }
>;

export type WaitlistEvent =
  | WaitlistEntryJoined
  | WaitlistEntryLeft
  | WaitlistEntryRemoved
  | WaitlistEntrySkipped
  | WaitlistSeatsFreed
  | WaitlistOfferMade
  | WaitlistSeatAssigned
  | WaitlistOfferAccepted
  | WaitlistOfferDeclined
  | WaitlistOfferExpired
  | WaitlistOfferWithdrawn
  | WaitlistExhausted
  | WaitlistClosed;

export const WAITLIST_EVENT_TYPES: readonly WaitlistEvent['type'][] = [
  'WaitlistEntryJoined',
  'WaitlistEntryLeft',
  'WaitlistEntryRemoved',
  'WaitlistEntrySkipped',
  'WaitlistSeatsFreed',
  'WaitlistOfferMade',
  'WaitlistSeatAssigned',
  'WaitlistOfferAccepted',
  'WaitlistOfferDeclined',
  'WaitlistOfferExpired',
  'WaitlistOfferWithdrawn',
  'WaitlistExhausted',
  'WaitlistClosed',
];

/** `waitlist-<tenantId>+<waitlistId>`. */
export function waitlistStreamName(tenantId: string, waitlistId: string): string {
  return compoundStreamName('waitlist', tenantId, requireId('waitlistId', waitlistId));
}

/** The identity of a slot's waitlist, for the application to derive its id from: service and start instant. */
export function waitlistKey(serviceId: string, start: string): string {
  return `${requireId('serviceId', serviceId)}@${requireInstant('start', start)}`;
}

/** A customer is the same customer by id when the booking system gave one, else by email, else by phone. */
export function customerKeyOf(customer: Pick<Customer, 'id' | 'email' | 'phone'>): string {
  if (customer.id) return `id:${customer.id}`;
  if (customer.email) return `email:${customer.email.trim().toLowerCase()}`;
  if (customer.phone) return `phone:${customer.phone}`;
  return '';
}

export const ACTIVE_ENTRY_STATUSES: readonly EntryStatus[] = ['waiting', 'offered'];

export function isActive(entry: WaitlistEntry): boolean {
  return entry.status === 'waiting' || entry.status === 'offered';
}

/** Waiting entries in line order. */
export function waitingInOrder(state: WaitlistState): WaitlistEntry[] {
  if (state.status === 'none') return [];
  return state.entries.filter((entry) => entry.status === 'waiting').sort((a, b) => a.seq - b.seq);
}

/** 1 = next in line; null when the entry is not waiting. */
export function positionOf(state: WaitlistState, entryId: string): number | null {
  const line = waitingInOrder(state);
  const index = line.findIndex((entry) => entry.entryId === entryId);
  return index < 0 ? null : index + 1;
}

export function findEntry(state: WaitlistState, entryId: string): WaitlistEntry | undefined {
  return state.status === 'none' ? undefined : state.entries.find((entry) => entry.entryId === entryId);
}

/** The offer with this id and its entry: usually the entry's latest offer, else one a later offer replaced. */
export function findOffer(
  state: WaitlistState,
  offerId: string,
): { entry: WaitlistEntry; offer: WaitlistOffer } | undefined {
  if (state.status === 'none') return undefined;
  for (const entry of state.entries) {
    if (entry.offer?.offerId === offerId) return { entry, offer: entry.offer };
  }
  for (const entry of state.entries) {
    const earlier = entry.earlierOffers?.find((offer) => offer.offerId === offerId);
    if (earlier) return { entry, offer: earlier };
  }
  return undefined;
}

export interface Allocation {
  readonly entryId: string;
  readonly resourceId: string;
  readonly seats: number;
}

/**
 * First fit in line order: each waiting entry, in turn, takes the first resource (in the given order, or the one it
 * asked for) that still has its party's seats. Pure; the decider and the staff preview use it.
 */
export function planAllocation(
  line: readonly WaitlistEntry[],
  free: readonly FreeSeats[],
): { allocations: Allocation[]; remaining: FreeSeats[] } {
  const remaining = free.map((f) => ({ ...f }));
  const allocations: Allocation[] = [];
  for (const entry of line) {
    const target = remaining.find(
      (f) => (entry.resourceId === null || entry.resourceId === f.resourceId) && f.seats >= entry.partySize,
    );
    if (!target) continue;
    target.seats -= entry.partySize;
    allocations.push({ entryId: entry.entryId, resourceId: target.resourceId, seats: entry.partySize });
  }
  return { allocations, remaining };
}

/** Whether any waiting entry fits the seats (the freed seats belong to the waitlist, not to the public). */
export function anyFits(line: readonly WaitlistEntry[], free: readonly FreeSeats[]): boolean {
  return line.some((entry) =>
    free.some((f) => (entry.resourceId === null || entry.resourceId === f.resourceId) && f.seats >= entry.partySize),
  );
}

// Decide -----------------------------------------------------------------------------------------------------------

function decide(command: WaitlistCommand, state: WaitlistState): WaitlistEvent[] {
  switch (command.type) {
    case 'JoinWaitlist':
      return decideJoin(command.data, state);
    case 'LeaveWaitlist': {
      const { now, actor } = stamp(command.data);
      const { current, entry } = requireEntry(state, command.data.entryId);
      if (entry.status === 'left') return [];
      requireActive(entry, 'left');
      return [
        {
          type: 'WaitlistEntryLeft',
          data: {
            waitlistId: current.waitlistId,
            entryId: entry.entryId,
            withdrawnOffer: openOfferRef(entry),
            leftAt: now,
            actor,
          },
        },
      ];
    }
    case 'RemoveEntry': {
      const { now, actor } = stamp(command.data);
      const reason = requireText('reason', command.data.reason, 1000);
      const { current, entry } = requireEntry(state, command.data.entryId);
      if (entry.status === 'removed') return [];
      requireActive(entry, 'removed');
      return [
        {
          type: 'WaitlistEntryRemoved',
          data: {
            waitlistId: current.waitlistId,
            entryId: entry.entryId,
            reason,
            withdrawnOffer: openOfferRef(entry),
            removedAt: now,
            actor,
          },
        },
      ];
    }
    case 'SkipEntry': {
      const { now, actor } = stamp(command.data);
      const reason = requireText('reason', command.data.reason, 1000);
      const { current, entry } = requireEntry(state, command.data.entryId);
      requireActive(entry, 'skipped');
      return [
        {
          type: 'WaitlistEntrySkipped',
          data: {
            waitlistId: current.waitlistId,
            entryId: entry.entryId,
            reason,
            seq: current.nextSeq,
            withdrawnOffer: openOfferRef(entry),
            skippedAt: now,
            actor,
          },
        },
      ];
    }
    case 'AllocateSeats':
      return decideAllocation(command.data, state);
    case 'AcceptOffer': {
      const { now, actor } = stamp(command.data);
      const via = requireOneOf('via', command.data.via, OFFER_ANSWER_VIA);
      const { current, entry, offer } = requireOffer(state, command.data.offerId);
      if (offer.status === 'accepted') return [];
      requireOpen(offer, 'accepted');
      if (instant(now) >= instant(offer.expiresAt)) {
        throw new IllegalStateError('offer-expired', `The offer ran out at ${offer.expiresAt}.`, {
          offerId: offer.offerId,
          status: 'expired',
          expiresAt: offer.expiresAt,
        });
      }
      return [
        {
          type: 'WaitlistOfferAccepted',
          data: {
            waitlistId: current.waitlistId,
            ...offerRef(entry, offer),
            via,
            acceptedAt: now,
            freedAt: offer.freedAt,
            actor,
          },
        },
      ];
    }
    case 'DeclineOffer': {
      const { now, actor } = stamp(command.data);
      const via = requireOneOf('via', command.data.via, OFFER_ANSWER_VIA);
      const { current, entry, offer } = requireOffer(state, command.data.offerId);
      if (offer.status === 'declined') return [];
      requireOpen(offer, 'declined');
      return [
        {
          type: 'WaitlistOfferDeclined',
          data: { waitlistId: current.waitlistId, ...offerRef(entry, offer), via, declinedAt: now, actor },
        },
      ];
    }
    case 'ExpireOffer': {
      const { now, actor } = stamp(command.data);
      const found = state.status === 'none' ? undefined : findOffer(state, command.data.offerId);
      // The job fires blindly: an offer that was answered, withdrawn or never recorded leaves nothing to expire.
      if (!found || found.offer.status !== 'open' || state.status === 'none') return [];
      if (instant(now) < instant(found.offer.expiresAt)) {
        throw new IllegalStateError('offer-not-expired', `The offer runs until ${found.offer.expiresAt}.`, {
          offerId: found.offer.offerId,
          expiresAt: found.offer.expiresAt,
        });
      }
      return [
        {
          type: 'WaitlistOfferExpired',
          data: {
            waitlistId: state.waitlistId,
            ...offerRef(found.entry, found.offer),
            expiresAt: found.offer.expiresAt,
            expiredAt: now,
            actor,
          },
        },
      ];
    }
    case 'WithdrawOffer': {
      const { now, actor } = stamp(command.data);
      const reason = requireText('reason', command.data.reason, 1000);
      const { current, entry, offer } = requireOffer(state, command.data.offerId);
      if (offer.status === 'withdrawn') return [];
      requireOpen(offer, 'withdrawn');
      return [
        {
          type: 'WaitlistOfferWithdrawn',
          data: { waitlistId: current.waitlistId, ...offerRef(entry, offer), reason, withdrawnAt: now, actor },
        },
      ];
    }
    case 'CloseWaitlist': {
      const { now, actor } = stamp(command.data);
      const deadline = requireInstant('deadline', command.data.deadline);
      if (state.status !== 'open') return [];
      if (instant(now) < instant(deadline)) {
        throw new IllegalStateError('waitlist-not-due', `The waitlist stays open until ${deadline}.`, { deadline });
      }
      return [
        {
          type: 'WaitlistClosed',
          data: {
            waitlistId: state.waitlistId,
            closedEntries: waitingInOrder(state).map((entry) => entry.entryId),
            deadline,
            closedAt: now,
            actor,
          },
        },
      ];
    }
  }
}

function decideJoin(data: JoinWaitlist['data'], state: WaitlistState): WaitlistEvent[] {
  const { now, actor } = stamp(data);
  const tenantId = requireId('tenantId', data.tenantId);
  const waitlistId = requireId('waitlistId', data.waitlistId);
  const entryId = requireId('entryId', data.entryId);
  const slot = validateSlot(data.slot);
  const customer = validateCustomer(data.customer);
  const customerKey = customerKeyOf(customer);
  if (!customer.email && !customer.phone) {
    throw invalid('customer', 'contact', 'A waitlist entry needs an email address or a phone number to be told.');
  }
  const partySize = requireInteger('partySize', data.partySize, 1, MAX_WAITLIST_PARTY_SIZE);
  const resourceId =
    data.resourceId === undefined || data.resourceId === null ? null : requireId('resourceId', data.resourceId);
  const channels = validateChannels(data.channels, customer);
  const maxEntries = requireInteger('maxEntries', data.maxEntries, 1, 100_000);
  if (instant(now) >= instant(slot.start)) throw invalid('start', 'in-the-past', 'The slot has already started.');

  if (state.status !== 'none') {
    if (state.waitlistId !== waitlistId || state.slot.serviceId !== slot.serviceId || state.slot.start !== slot.start) {
      throw new IllegalStateError('waitlist-mismatch', 'The command addresses another slot than this waitlist.', {
        waitlistId: state.waitlistId,
      });
    }
    const sameId = state.entries.find((entry) => entry.entryId === entryId);
    if (sameId) {
      const same =
        sameId.customerKey === customerKey && sameId.partySize === partySize && sameId.resourceId === resourceId;
      if (same) return [];
      throw new IllegalStateError('waitlist-entry-exists', `Entry ${entryId} already exists.`, { entryId });
    }
    // One active entry per customer: joining again is answered with the entry they have.
    if (state.entries.some((entry) => isActive(entry) && entry.customerKey === customerKey)) return [];
    if (state.status === 'closed') {
      throw new IllegalStateError('waitlist-closed', 'This waitlist is closed: the slot is too close or over.', {
        waitlistId,
      });
    }
    const active = state.entries.filter(isActive).length;
    if (active >= maxEntries) {
      throw new IllegalStateError('waitlist-full', `The waitlist has reached its limit of ${maxEntries} entries.`, {
        waitlistId,
        maxEntries,
      });
    }
  }
  const position = waitingInOrder(state).length + 1;
  return [
    {
      type: 'WaitlistEntryJoined',
      data: {
        waitlistId,
        tenantId,
        slot: state.status === 'none' ? slot : state.slot,
        entryId,
        seq: state.status === 'none' ? 1 : state.nextSeq,
        customer,
        partySize,
        resourceId,
        channels,
        position,
        joinedAt: now,
        actor,
      },
    },
  ];
}

function decideAllocation(data: AllocateSeats['data'], state: WaitlistState): WaitlistEvent[] {
  const { now, actor } = stamp(data);
  const mode = requireOneOf('mode', data.mode, WAITLIST_MODES);
  const window = requireInteger('responseWindowSeconds', data.responseWindowSeconds, 1, 7 * 24 * 3600);
  const deadline = requireInstant('deadline', data.deadline);
  const free = validateFree(data.free);
  const override = data.override ? validateOverride(data.override) : null;
  if (state.status === 'none') {
    if (data.entryId !== undefined) throw entryNotFound(data.entryId);
    return [];
  }
  const line = waitingInOrder(state);
  let candidates = line;
  if (data.entryId !== undefined) {
    const { entry } = requireEntry(state, data.entryId);
    if (entry.status !== 'waiting') {
      throw new IllegalStateError('waitlist-entry-not-waiting', `Entry ${entry.entryId} is ${entry.status}.`, {
        entryId: entry.entryId,
        status: entry.status,
      });
    }
    candidates = [entry];
  }
  if (state.status === 'closed' || instant(now) >= instant(deadline)) {
    if (data.entryId !== undefined) {
      throw new IllegalStateError('waitlist-closed', 'No seat can be given any more: the deadline has passed.', {
        deadline,
      });
    }
    // Past the cut-off the seat is the public's (the booking gate lets it go): not a seat freed for this list.
    return [];
  }
  const events: WaitlistEvent[] = [];
  if (data.cause && !state.freedCauses.includes(data.cause.eventId) && anyFits(line, free)) {
    events.push({
      type: 'WaitlistSeatsFreed',
      data: { waitlistId: state.waitlistId, cause: data.cause, free, waiting: line.length, recordedAt: now, actor },
    });
  }
  const { allocations, remaining } = planAllocation(candidates, free);
  if (data.entryId !== undefined && allocations.length === 0) {
    throw new IllegalStateError('no-free-seat', 'No resource has free seats for this entry right now.', {
      entryId: data.entryId,
      free,
    });
  }
  const freedAt = data.cause?.freedAt ?? null;
  const causeEventId = data.cause?.eventId ?? null;
  const expiresAt = new Date(Math.min(instant(now) + window * 1000, instant(deadline))).toISOString();
  for (const allocation of allocations) {
    const entry = findEntry(state, allocation.entryId)!;
    const offerId = `${entry.entryId}.${entry.offerCount + 1}`;
    const ref = { entryId: entry.entryId, offerId, reservationId: offerId, ...pick(allocation) };
    events.push(
      mode === 'offer'
        ? {
            type: 'WaitlistOfferMade',
            data: {
              waitlistId: state.waitlistId,
              ...ref,
              madeAt: now,
              expiresAt,
              freedAt,
              causeEventId,
              override,
              actor,
            },
          }
        : {
            type: 'WaitlistSeatAssigned',
            data: { waitlistId: state.waitlistId, ...ref, assignedAt: now, freedAt, causeEventId, override, actor },
          },
    );
  }
  const after = line.filter((entry) => !allocations.some((a) => a.entryId === entry.entryId));
  const left = remaining.filter((f) => f.seats > 0);
  if (data.entryId === undefined && state.unservedOffer && left.length > 0 && !anyFits(after, left)) {
    events.push({
      type: 'WaitlistExhausted',
      data: { waitlistId: state.waitlistId, free: left, waiting: after.length, exhaustedAt: now, actor },
    });
  }
  return events;
}

function pick(allocation: Allocation): { resourceId: string; seats: number } {
  return { resourceId: allocation.resourceId, seats: allocation.seats };
}

// Evolve -----------------------------------------------------------------------------------------------------------

function evolve(state: WaitlistState, event: WaitlistEvent): WaitlistState {
  if (event.type === 'WaitlistEntryJoined') {
    const d = event.data;
    const entry: WaitlistEntry = {
      entryId: d.entryId,
      seq: d.seq,
      customer: d.customer,
      customerKey: customerKeyOf(d.customer),
      partySize: d.partySize,
      resourceId: d.resourceId,
      channels: d.channels,
      joinedAt: d.joinedAt,
      status: 'waiting',
      offer: null,
      offerCount: 0,
      reservationId: null,
    };
    if (state.status === 'none') {
      return {
        status: 'open',
        waitlistId: d.waitlistId,
        tenantId: d.tenantId,
        slot: d.slot,
        entries: [entry],
        nextSeq: d.seq + 1,
        freedCauses: [],
        unservedOffer: false,
      };
    }
    return { ...state, entries: [...state.entries, entry], nextSeq: Math.max(state.nextSeq, d.seq + 1) };
  }
  if (state.status === 'none') return state;
  const update = (entryId: string, change: (entry: WaitlistEntry) => WaitlistEntry): OpenWaitlistState => ({
    ...state,
    entries: state.entries.map((entry) => (entry.entryId === entryId ? change(entry) : entry)),
  });
  const endOffer = (entry: WaitlistEntry, status: OfferStatus): WaitlistOffer | null =>
    entry.offer && entry.offer.status === 'open' ? { ...entry.offer, status } : entry.offer;
  // A new offer replaces an ended one, which stays findable: its link then says it ended, not that it never existed.
  const replaced = (entry: WaitlistEntry) =>
    entry.offer ? { earlierOffers: [...(entry.earlierOffers ?? []), entry.offer] } : {};
  switch (event.type) {
    case 'WaitlistEntryLeft':
      return {
        ...update(event.data.entryId, (e) => ({ ...e, status: 'left', offer: endOffer(e, 'withdrawn') })),
        unservedOffer: state.unservedOffer || event.data.withdrawnOffer !== null,
      };
    case 'WaitlistEntryRemoved':
      return {
        ...update(event.data.entryId, (e) => ({ ...e, status: 'removed', offer: endOffer(e, 'withdrawn') })),
        unservedOffer: state.unservedOffer || event.data.withdrawnOffer !== null,
      };
    case 'WaitlistEntrySkipped':
      return {
        ...update(event.data.entryId, (e) => ({
          ...e,
          status: 'waiting',
          seq: event.data.seq,
          offer: endOffer(e, 'withdrawn'),
        })),
        nextSeq: Math.max(state.nextSeq, event.data.seq + 1),
        unservedOffer: state.unservedOffer || event.data.withdrawnOffer !== null,
      };
    case 'WaitlistSeatsFreed':
      return { ...state, freedCauses: [...state.freedCauses, event.data.cause.eventId].slice(-200) };
    case 'WaitlistOfferMade': {
      const d = event.data;
      return {
        ...update(d.entryId, (e) => ({
          ...e,
          ...replaced(e),
          status: 'offered',
          offerCount: e.offerCount + 1,
          offer: {
            offerId: d.offerId,
            mode: 'offer',
            reservationId: d.reservationId,
            resourceId: d.resourceId,
            seats: d.seats,
            madeAt: d.madeAt,
            expiresAt: d.expiresAt,
            freedAt: d.freedAt,
            status: 'open',
          },
        })),
        unservedOffer: false,
      };
    }
    case 'WaitlistSeatAssigned': {
      const d = event.data;
      return {
        ...update(d.entryId, (e) => ({
          ...e,
          ...replaced(e),
          status: 'booked',
          offerCount: e.offerCount + 1,
          reservationId: d.reservationId,
          offer: {
            offerId: d.offerId,
            mode: 'assign',
            reservationId: d.reservationId,
            resourceId: d.resourceId,
            seats: d.seats,
            madeAt: d.assignedAt,
            expiresAt: d.assignedAt,
            freedAt: d.freedAt,
            status: 'accepted',
          },
        })),
        unservedOffer: false,
      };
    }
    case 'WaitlistOfferAccepted':
      return update(event.data.entryId, (e) => ({
        ...e,
        status: 'booked',
        reservationId: event.data.reservationId,
        offer: endOffer(e, 'accepted'),
      }));
    case 'WaitlistOfferDeclined':
      return {
        ...update(event.data.entryId, (e) => ({ ...e, status: 'declined', offer: endOffer(e, 'declined') })),
        unservedOffer: true,
      };
    case 'WaitlistOfferExpired':
      return {
        ...update(event.data.entryId, (e) => ({ ...e, status: 'expired', offer: endOffer(e, 'expired') })),
        unservedOffer: true,
      };
    case 'WaitlistOfferWithdrawn':
      return update(event.data.entryId, (e) => ({ ...e, status: 'waiting', offer: endOffer(e, 'withdrawn') }));
    case 'WaitlistExhausted':
      return { ...state, unservedOffer: false };
    case 'WaitlistClosed': {
      const closed = new Set(event.data.closedEntries);
      return {
        ...state,
        status: 'closed',
        entries: state.entries.map((e) => (closed.has(e.entryId) ? { ...e, status: 'closed' } : e)),
      };
    }
  }
}

export const waitlistDecider: Decider<WaitlistCommand, WaitlistState, WaitlistEvent> = {
  decide,
  evolve,
  initialState: () => ({ status: 'none' }),
};

// Rules and validation ----------------------------------------------------------------------------------------------

function stamp(data: Stamped): Stamped {
  return { now: requireInstant('now', data.now), actor: requireText('actor', data.actor) };
}

function instant(iso: string): number {
  return parseInstant(iso) ?? NaN;
}

function entryNotFound(entryId: string): NotFoundError {
  return new NotFoundError('waitlist-entry-not-found', `Waitlist entry ${entryId} does not exist.`, { entryId });
}

function requireEntry(state: WaitlistState, entryId: string): { current: OpenWaitlistState; entry: WaitlistEntry } {
  if (state.status === 'none') throw entryNotFound(entryId);
  const entry = findEntry(state, entryId);
  if (!entry) throw entryNotFound(entryId);
  return { current: state, entry };
}

function requireActive(entry: WaitlistEntry, verb: string): void {
  if (!isActive(entry)) {
    throw new IllegalStateError('waitlist-entry-not-active', `An entry that is ${entry.status} cannot be ${verb}.`, {
      entryId: entry.entryId,
      status: entry.status,
    });
  }
}

function requireOffer(
  state: WaitlistState,
  offerId: string,
): { current: OpenWaitlistState; entry: WaitlistEntry; offer: WaitlistOffer } {
  const found = state.status === 'none' ? undefined : findOffer(state, offerId);
  if (!found || state.status === 'none') {
    throw new NotFoundError('offer-not-found', `Offer ${offerId} does not exist.`, { offerId });
  }
  return { current: state, ...found };
}

function requireOpen(offer: WaitlistOffer, verb: string): void {
  if (offer.status === 'open') return;
  const code = offer.status === 'expired' ? 'offer-expired' : 'offer-not-open';
  throw new IllegalStateError(code, `An offer that is ${offer.status} cannot be ${verb}.`, {
    offerId: offer.offerId,
    status: offer.status,
  });
}

function offerRef(entry: WaitlistEntry, offer: WaitlistOffer): OfferRef {
  return {
    entryId: entry.entryId,
    offerId: offer.offerId,
    reservationId: offer.reservationId,
    resourceId: offer.resourceId,
    seats: offer.seats,
  };
}

function openOfferRef(entry: WaitlistEntry): OfferRef | null {
  return entry.offer && entry.offer.status === 'open' ? offerRef(entry, entry.offer) : null;
}

function validateSlot(value: unknown): WaitlistSlot {
  if (typeof value !== 'object' || value === null) throw invalid('slot', 'required', 'slot is required.');
  const raw = value as Record<string, unknown>;
  const location = (raw.location ?? {}) as Record<string, unknown>;
  const start = requireInstant('start', raw.start);
  const end = requireInstant('end', raw.end);
  if (instant(end) <= instant(start)) throw invalid('end', 'after-start', 'end must be after start.');
  return {
    serviceId: requireId('serviceId', raw.serviceId),
    serviceName: requireText('serviceName', raw.serviceName),
    locationId: requireId('locationId', raw.locationId),
    location: {
      name: requireText('location.name', location.name),
      address: requireText('location.address', location.address, 500),
      timeZone: requireTimeZone('location.timeZone', location.timeZone),
    },
    start,
    end,
  };
}

function validateChannels(value: unknown, customer: Customer): WaitlistChannel[] {
  const available: WaitlistChannel[] = [
    ...(customer.email ? (['email'] as const) : []),
    ...(customer.phone ? (['sms'] as const) : []),
  ];
  if (value === undefined || value === null) return available;
  if (!Array.isArray(value) || value.length === 0) {
    throw invalid('channels', 'non-empty', 'channels must list email and/or sms.');
  }
  const channels = [...new Set(value.map((channel) => requireOneOf('channels', channel, WAITLIST_CHANNELS)))];
  for (const channel of channels) {
    if (!available.includes(channel)) {
      throw invalid('channels', 'contact', `The customer has no ${channel === 'email' ? 'email address' : 'phone'}.`);
    }
  }
  return WAITLIST_CHANNELS.filter((channel) => channels.includes(channel));
}

function validateFree(value: unknown): FreeSeats[] {
  if (!Array.isArray(value)) throw invalid('free', 'list', 'free must list seats per resource.');
  return value.map((f: { resourceId?: unknown; seats?: unknown }, index) => ({
    resourceId: requireId(`free[${index}].resourceId`, f.resourceId),
    seats: requireInteger(`free[${index}].seats`, f.seats, 0, MAX_WAITLIST_PARTY_SIZE),
  }));
}

function validateOverride(value: Override): Override {
  return { by: requireText('override.by', value.by), reason: requireText('override.reason', value.reason, 1000) };
}

/** The same join sent twice describes the same entry (used by the API to answer a retry with the entry). */
export function sameJoin(entry: WaitlistEntry, customer: Customer, partySize: number, resourceId: string | null) {
  return (
    customerKeyOf(customer) === entry.customerKey && entry.partySize === partySize && entry.resourceId === resourceId
  );
}
