import { describeAsOf, foldAsOf, type AsOf } from '../as-of.js';
import { validateSlot, type BookableSlot } from '../../domain/booking/availability.js';
import {
  reservationDecider,
  reservationStreamName,
  type Customer,
  type ReservationCommand,
  type ReservationState,
} from '../../domain/booking/reservation.decider.js';
import {
  holdsIn,
  localDateOf,
  overlaps,
  resourceDayStreamName,
  sharesSlot,
  slotInventoryDecider,
  type SlotReleaseReason,
} from '../../domain/booking/slot-inventory.decider.js';
import { formatAddress } from '../../domain/catalog/location.decider.js';
import { ConcurrencyError, IllegalStateError, NotFoundError, ValidationError } from '../../domain/shared/errors.js';
import { MINUTE_MS } from '../../domain/shared/zoned-time.js';
import {
  allocationDeadline,
  policyFor,
  waitlistSettingsDecider,
  waitlistSettingsOf,
  waitlistSettingsStreamName,
  type WaitlistPolicy,
  type WaitlistSettings,
} from '../../domain/waitlist/waitlist-settings.js';
import {
  customerKeyOf,
  findEntry,
  findOffer,
  isActive,
  planAllocation,
  positionOf,
  waitingInOrder,
  anyFits,
  waitlistDecider,
  waitlistKey,
  waitlistStreamName,
  type FreedSeatCause,
  type FreeSeats,
  type OfferAnswerVia,
  type OpenWaitlistState,
  type Override,
  type WaitlistChannel,
  type WaitlistCommand,
  type WaitlistEntry,
  type WaitlistEvent,
  type WaitlistMode,
  type WaitlistOfferMade,
  type WaitlistSeatAssigned,
  type WaitlistSlot,
  type WaitlistState,
} from '../../domain/waitlist/waitlist.decider.js';
import { loadBookingCatalog, type BookingCatalog } from '../booking/booking-commands.js';
import {
  abandonHold,
  confirmSlot,
  holdSlot,
  releaseSlot,
  type HoldOutcome,
  type SlotSeats,
} from '../booking/seat-holds.js';
import { createSeatReconciler } from '../booking/seat-keeper.js';
import {
  appendDecided,
  handleCommand,
  loadAggregate,
  type CommandContext,
  type CommandHandlerDeps,
  type ExpectedRevision,
  type HandleResult,
} from '../command-handler.js';
import type { Clock } from '../ports/clock.port.js';
import type { IdSource } from '../ports/id-source.port.js';
import type { EventStore } from '../ports/event-store.port.js';
import type { Logger } from '../ports/logger.port.js';
import type { Scheduler } from '../ports/scheduler.port.js';
import { codeForReservation } from '../booking/reservation-codes.js';

/**
 * Waitlists: joining, leaving, allocation of freed seats, offers and their answers, admin overrides. The waitlist
 * aggregate decides who is next; the resource-day inventory decides whether a seat is free. The order of steps
 * keeps both honest (docs/decisions/0012-waitlist.md):
 * - allocate: decide from the waitlist, hold the seats of each offer on the inventory (as a tentative hold under the
 *   offer's reservation id, expiring with the offer), then append the offers at the revision decided from. A lost
 *   race decides again; holds no longer needed are given back.
 * - accept: make the offer's hold final, record the acceptance (it loses to an expiry recorded first), book the
 *   reservation under the offer's id.
 * - decline, expiry, withdrawal, leaving with an open offer: record it, then give the seats back; the release frees
 *   the seat, and the freed seat is allocated again — the next entry in line.
 */
export interface WaitlistDeps extends CommandHandlerDeps {
  readonly clock: Clock;
  readonly scheduler: Pick<Scheduler, 'schedule' | 'cancel'>;
  /** RESERVATION_HOLD_MINUTES: the tentative hold of an assigned seat until its reservation is recorded. */
  readonly holdMinutes: number;
  readonly logger?: Logger;
}

export const OFFER_EXPIRY_JOB = 'waitlist.offer-expiry';
export const WAITLIST_CLOSE_JOB = 'waitlist.close';
export const WAITLIST_ACTOR = 'system:waitlist';

export function offerExpiryKey(tenantId: string, offerId: string): string {
  return `waitlist-offer:${tenantId}:${offerId}`;
}

export function waitlistCloseKey(tenantId: string, waitlistId: string): string {
  return `waitlist-close:${tenantId}:${waitlistId}`;
}

/** The waitlist of a slot has a derived id: the same service and start always name the same list. */
export function waitlistIdFor(ids: IdSource, tenantId: string, serviceId: string, start: string): string {
  return ids.derive('waitlist', tenantId, waitlistKey(serviceId, start));
}

const isSeatRefusal = (error: unknown): error is IllegalStateError =>
  error instanceof IllegalStateError &&
  (error.code === 'slot-full' || error.code === 'resource-busy' || error.code === 'slot-contention');

// Settings -----------------------------------------------------------------------------------------------------------

export async function loadWaitlistSettings(
  eventStore: EventStore,
  tenantId: string,
): Promise<{ settings: WaitlistSettings; revision: bigint | undefined }> {
  const { state, revision } = await loadAggregate(
    eventStore,
    waitlistSettingsStreamName(tenantId),
    waitlistSettingsDecider,
  );
  return { settings: waitlistSettingsOf(state), revision: revision === 'no_stream' ? undefined : revision };
}

export async function changeWaitlistSettings(
  deps: CommandHandlerDeps & { readonly clock: Clock },
  context: CommandContext,
  settings: WaitlistSettings,
  expectedRevision?: ExpectedRevision,
): Promise<{ settings: WaitlistSettings; revision: bigint | undefined }> {
  const result = await handleCommand(
    deps,
    waitlistSettingsStreamName(context.tenantId),
    waitlistSettingsDecider,
    {
      type: 'ChangeWaitlistSettings',
      data: { tenantId: context.tenantId, settings, now: deps.clock.now().toISOString(), actor: context.actor },
    },
    context,
    expectedRevision !== undefined ? { expectedRevision } : {},
  );
  return {
    settings: waitlistSettingsOf(result.state),
    revision: result.revision === 'no_stream' ? undefined : result.revision,
  };
}

async function policyOf(deps: CommandHandlerDeps, tenantId: string, serviceId: string): Promise<WaitlistPolicy> {
  return policyFor((await loadWaitlistSettings(deps.eventStore, tenantId)).settings, serviceId);
}

// Reading a waitlist --------------------------------------------------------------------------------------------------

export async function loadWaitlist(
  eventStore: EventStore,
  tenantId: string,
  waitlistId: string,
): Promise<{ state: WaitlistState; revision: bigint | 'no_stream' }> {
  const { state, revision } = await loadAggregate(
    eventStore,
    waitlistStreamName(tenantId, waitlistId),
    waitlistDecider,
  );
  return { state, revision };
}

export async function requireWaitlist(
  eventStore: EventStore,
  tenantId: string,
  waitlistId: string,
  asOf?: AsOf,
): Promise<{ state: OpenWaitlistState; revision: bigint }> {
  const { events } = await eventStore.readStream(waitlistStreamName(tenantId, waitlistId));
  const { state, revision } = foldAsOf(events, waitlistDecider, asOf);
  if (state.status === 'none' || revision === 'no_stream') {
    throw new NotFoundError('waitlist-not-found', `Waitlist ${waitlistId} does not exist.`, {
      waitlistId,
      ...(asOf && events.length > 0
        ? { detail: `Waitlist ${waitlistId} did not exist yet at ${describeAsOf(asOf)}.` }
        : {}),
    });
  }
  return { state, revision };
}

// Free seats ---------------------------------------------------------------------------------------------------------

/**
 * Seats free on the slot, per resource of the service (in its order), from the inventory itself: the service's
 * seats minus the holds on that slot; zero when another slot takes the resource or the slot is not on its calendar
 * (closed, an exception). Expired tentative holds count as free (the inventory reclaims them); holds in `ignore`
 * (taken by the caller a moment ago: a reservation id, or `<reservationId>@<resourceId>` for its hold on one
 * resource) too.
 */
export async function freeSeatsFor(
  deps: Pick<CommandHandlerDeps, 'eventStore'>,
  tenantId: string,
  catalog: BookingCatalog,
  slot: Pick<WaitlistSlot, 'start'>,
  now: string,
  ignore: ReadonlySet<string> = new Set(),
): Promise<FreeSeats[]> {
  const free: FreeSeats[] = [];
  const service = catalog.service;
  for (const resourceId of service.resourceIds) {
    let bookable: BookableSlot;
    try {
      bookable = validateSlot({
        service,
        timeZone: catalog.location.timeZone,
        resources: await catalog.calendarOf(resourceId),
        resourceId,
        start: slot.start,
        partySize: 1,
        // The calendar question only: a running slot's seat (a no-show) is still that slot's seat.
        now: slot.start,
      });
    } catch (error) {
      if (error instanceof ValidationError) continue;
      throw error;
    }
    const { state } = await loadAggregate(
      deps.eventStore,
      resourceDayStreamName(tenantId, resourceId, localDateOf(catalog.location.timeZone, bookable.start)),
      slotInventoryDecider,
    );
    const nowMs = Date.parse(now);
    const candidate = {
      slotStart: bookable.start,
      occupiedUntil: bookable.occupiedUntil,
      serviceId: service.serviceId,
    };
    const inTheWay = holdsIn(state).filter(
      (hold) =>
        !ignore.has(hold.reservationId) &&
        !ignore.has(`${hold.reservationId}@${resourceId}`) &&
        !(hold.status === 'held' && hold.expiresAt !== null && Date.parse(hold.expiresAt) <= nowMs) &&
        overlaps(hold, candidate),
    );
    const seats = inTheWay.some((hold) => !sharesSlot(hold, candidate))
      ? 0
      : Math.max(0, service.seatsPerSlot - inTheWay.reduce((sum, hold) => sum + hold.seats, 0));
    free.push({ resourceId, seats });
  }
  return free;
}

function slotSeatsOf(tenantId: string, slot: WaitlistSlot, reservationId: string, resourceId: string): SlotSeats {
  return { tenantId, reservationId, resourceId, timeZone: slot.location.timeZone, slotStart: slot.start };
}

/** Gives back the seats held for an offer; harmless when they are gone. */
export async function releaseOfferSeats(
  deps: CommandHandlerDeps,
  context: CommandContext,
  tenantId: string,
  slot: WaitlistSlot,
  offer: { readonly reservationId: string; readonly resourceId: string },
  reason: SlotReleaseReason,
  now: string,
): Promise<void> {
  await releaseSlot(deps, context, slotSeatsOf(tenantId, slot, offer.reservationId, offer.resourceId), reason, now);
}

// Join, leave, admin changes -------------------------------------------------------------------------------------------

export interface JoinInput {
  readonly serviceId: string;
  readonly start: string;
  readonly resourceId?: string;
  /** Default 1. */
  readonly partySize?: number;
  readonly customer: Customer;
  readonly channels?: readonly WaitlistChannel[];
}

export interface JoinResult {
  readonly waitlistId: string;
  readonly entry: WaitlistEntry;
  readonly position: number | null;
  readonly state: OpenWaitlistState;
  readonly revision: bigint;
  /** False when the customer already had an active entry (it is returned). */
  readonly created: boolean;
}

function activeEntryOf(state: WaitlistState, customer: Customer): WaitlistEntry | undefined {
  if (state.status === 'none') return undefined;
  const key = customerKeyOf(customer);
  return state.entries.find((entry) => isActive(entry) && entry.customerKey === key);
}

/**
 * Puts a customer on the waitlist of a full slot. 409 `slot-available` (with the booking to send instead) when the
 * slot has seats for the party and nobody is waiting; `waitlist-disabled`, `waitlist-closed` (past the cut-off),
 * `waitlist-full` (the cap); 400 `slot-not-bookable` when the time is not a slot of the service.
 */
export async function joinWaitlist(deps: WaitlistDeps, context: CommandContext, input: JoinInput): Promise<JoinResult> {
  const tenantId = context.tenantId;
  const now = deps.clock.now().toISOString();
  const policy = await policyOf(deps, tenantId, input.serviceId);
  if (!policy.enabled) {
    throw new IllegalStateError('waitlist-disabled', 'The waitlist is switched off for this service.', {
      serviceId: input.serviceId,
    });
  }
  const catalog = await loadBookingCatalog(deps, tenantId, input.serviceId);
  const partySize = input.partySize ?? 1;
  const candidates = input.resourceId !== undefined ? [input.resourceId] : catalog.service.resourceIds;
  let bookable: BookableSlot | undefined;
  let firstInvalid: ValidationError | undefined;
  for (const resourceId of candidates) {
    try {
      bookable = validateSlot({
        service: catalog.service,
        timeZone: catalog.location.timeZone,
        resources: await catalog.calendarOf(resourceId),
        resourceId,
        start: input.start,
        partySize,
        now,
      });
      break;
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      firstInvalid ??= error;
    }
  }
  if (!bookable) throw firstInvalid ?? new ValidationError('slot-not-bookable', 'The slot is not bookable.', {});
  const slot: WaitlistSlot = {
    serviceId: catalog.service.serviceId,
    serviceName: catalog.service.name,
    locationId: catalog.location.locationId,
    location: {
      name: catalog.location.name,
      address: formatAddress(catalog.location.address),
      timeZone: catalog.location.timeZone,
    },
    start: bookable.start,
    end: bookable.end,
  };
  const waitlistId = waitlistIdFor(deps.ids, tenantId, slot.serviceId, slot.start);
  const stream = waitlistStreamName(tenantId, waitlistId);
  const { state: before } = await loadAggregate(deps.eventStore, stream, waitlistDecider);

  const existing = activeEntryOf(before, input.customer);
  if (!existing) {
    if (Date.parse(now) >= Date.parse(allocationDeadline(policy, slot))) {
      throw new IllegalStateError('waitlist-closed', 'The slot is too close to its start for the waitlist.', {
        waitlistId,
        cutoffMinutes: policy.cutoffMinutes,
      });
    }
    const free = (await freeSeatsFor(deps, tenantId, catalog, slot, now)).filter(
      (f) => input.resourceId === undefined || f.resourceId === input.resourceId,
    );
    const seatsLeft = Math.max(0, ...free.map((f) => f.seats));
    if (waitingInOrder(before).length === 0 && seatsLeft >= partySize) {
      throw new IllegalStateError('slot-available', `The slot has ${seatsLeft} free seat(s): book it instead.`, {
        remainingSeats: seatsLeft,
        booking: {
          href: '/v1/reservations',
          method: 'POST',
          body: {
            serviceId: slot.serviceId,
            start: slot.start,
            partySize,
            ...(input.resourceId ? { resourceId: input.resourceId } : {}),
          },
        },
      });
    }
  }
  const result = await handleCommand(
    deps,
    stream,
    waitlistDecider,
    {
      type: 'JoinWaitlist',
      data: {
        tenantId,
        waitlistId,
        slot,
        entryId: deps.ids.newId(),
        customer: input.customer,
        partySize,
        ...(input.resourceId !== undefined ? { resourceId: input.resourceId } : {}),
        ...(input.channels ? { channels: input.channels } : {}),
        maxEntries: policy.maxEntries,
        now,
        actor: context.actor,
      },
    },
    context,
  );
  const state = result.state as OpenWaitlistState;
  const joined = result.newEvents[0]?.data as { entryId?: string } | undefined;
  const entry = joined?.entryId ? findEntry(state, joined.entryId) : activeEntryOf(state, input.customer);
  if (!entry || result.revision === 'no_stream') throw new Error('joined entry not found');
  return {
    waitlistId,
    entry,
    position: positionOf(state, entry.entryId),
    state,
    revision: result.revision,
    created: result.newEvents.length > 0,
  };
}

interface WithdrawnOffer {
  readonly offerId: string;
  readonly reservationId: string;
  readonly resourceId: string;
}

type EntryChange =
  | { readonly kind: 'leave' }
  | { readonly kind: 'remove'; readonly reason: string }
  | { readonly kind: 'skip'; readonly reason: string };

/**
 * The customer leaves, or staff remove or skip an entry (skip: to the end of the line). An open offer of the entry is
 * withdrawn and its seats given back, which passes them on to the next in line.
 */
export async function changeEntry(
  deps: WaitlistDeps,
  context: CommandContext,
  waitlistId: string,
  entryId: string,
  change: EntryChange,
  options: { expectedRevision?: ExpectedRevision } = {},
): Promise<HandleResult<WaitlistState>> {
  const tenantId = context.tenantId;
  const { state } = await requireWaitlist(deps.eventStore, tenantId, waitlistId);
  const now = deps.clock.now().toISOString();
  const stamped = { entryId, now, actor: context.actor };
  const command: WaitlistCommand =
    change.kind === 'leave'
      ? { type: 'LeaveWaitlist', data: stamped }
      : change.kind === 'remove'
        ? { type: 'RemoveEntry', data: { ...stamped, reason: change.reason } }
        : { type: 'SkipEntry', data: { ...stamped, reason: change.reason } };
  const result = await handleCommand(
    deps,
    waitlistStreamName(tenantId, waitlistId),
    waitlistDecider,
    command,
    context,
    options.expectedRevision !== undefined ? { expectedRevision: options.expectedRevision } : {},
  );
  for (const event of result.newEvents) {
    const withdrawn = (event.data as { withdrawnOffer?: WithdrawnOffer | null }).withdrawnOffer;
    if (!withdrawn) continue;
    await deps.scheduler.cancel(offerExpiryKey(tenantId, withdrawn.offerId));
    await releaseOfferSeats(deps, context, tenantId, state.slot, withdrawn, 'offer-withdrawn', now).catch(
      (error: unknown) => logFailure(deps, error, 'releasing a withdrawn offer failed; the waitlist manager retries'),
    );
  }
  return result;
}

// Allocation -------------------------------------------------------------------------------------------------------

export interface AllocationOptions {
  /** The freed seats that started this allocation (recorded once as WaitlistSeatsFreed). */
  readonly cause?: FreedSeatCause;
  /** Admin override: only this entry, out of order. */
  readonly entryId?: string;
  readonly override?: Override;
  /** Admin override: offer or assign regardless of the policy's mode. */
  readonly mode?: WaitlistMode;
  /** Admin "allocate urgently": ignore the cut-off (until the slot's end) and a switched-off waitlist. */
  readonly urgent?: boolean;
}

export interface Allocated {
  readonly entryId: string;
  readonly offerId: string;
  readonly reservationId: string;
  readonly resourceId: string;
  readonly seats: number;
  readonly mode: WaitlistMode;
  /** When an offer runs out; null for an assignment. */
  readonly expiresAt: string | null;
  readonly customerName: string;
}

export interface AllocationOutcome {
  readonly waitlistId: string;
  readonly allocated: readonly Allocated[];
  /** Nobody waiting takes the free seats: they are back in public availability (staff are told). */
  readonly exhausted: boolean;
  /** Why nothing was allocated, when nothing was. */
  readonly skipped?: 'no-waitlist' | 'disabled' | 'service-unavailable' | 'nothing-to-allocate';
}

const MAX_ALLOCATION_ROUNDS = 8;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Gives the seats free on the slot to the waitlist, in line order (or to one entry, for an admin override). Safe to
 * run at any time and from anywhere, as often as wanted: seats already held for offers are not free, so a second
 * run allocates nothing new; two runs at once race on the waitlist stream and the loser decides again.
 *
 * A run records only offers whose seats it held itself. Two runs deciding the same offer (the same id, so the same
 * hold) would otherwise share one hold that neither owns: the one that loses the race on the waitlist stream gives
 * back the holds its new decision does not keep, and could take the seats of the offer the winner recorded. So a run
 * that finds an offer's seats held already decides again once their taker has recorded or given them back.
 */
export async function allocateWaitlist(
  deps: WaitlistDeps,
  context: CommandContext,
  waitlistId: string,
  options: AllocationOptions = {},
): Promise<AllocationOutcome> {
  const tenantId = context.tenantId;
  const stream = waitlistStreamName(tenantId, waitlistId);
  /** Holds this call took, by the offer's reservation id and resource; given back unless their offer is recorded. */
  const taken = new Map<string, { seats: SlotSeats; outcome: HoldOutcome; expiresAt: string }>();
  // One instant for every round: an offer decided again keeps the window of the hold an earlier round took.
  const now = deps.clock.now().toISOString();
  const holdKeyOf = (reservationId: string, resourceId: string) => `${reservationId}@${resourceId}`;
  let kept = new Set<string>();
  let contended = false;
  try {
    for (let round = 0; round < MAX_ALLOCATION_ROUNDS; round++) {
      // Seats held by another run's decision in flight: wait for it to record or give them back.
      if (round > 0 && contended) await sleep(Math.min(200, 5 * 2 ** round) * (0.5 + Math.random() / 2));
      contended = false;
      const { state, revision } = await loadAggregate(deps.eventStore, stream, waitlistDecider);
      if (state.status === 'none') return { waitlistId, allocated: [], exhausted: false, skipped: 'no-waitlist' };
      const policy = await policyOf(deps, tenantId, state.slot.serviceId);
      if (!policy.enabled && !options.urgent && !options.override) {
        return { waitlistId, allocated: [], exhausted: false, skipped: 'disabled' };
      }
      let catalog: BookingCatalog;
      try {
        catalog = await loadBookingCatalog(deps, tenantId, state.slot.serviceId);
      } catch (error) {
        if (error instanceof ValidationError) {
          return { waitlistId, allocated: [], exhausted: false, skipped: 'service-unavailable' };
        }
        throw error;
      }
      const free = await freeSeatsFor(deps, tenantId, catalog, state.slot, now, new Set(taken.keys()));
      const mode = options.mode ?? policy.mode;
      const decided = waitlistDecider.decide(
        {
          type: 'AllocateSeats',
          data: {
            free,
            mode,
            responseWindowSeconds: policy.responseWindowSeconds,
            deadline: options.urgent ? state.slot.end : allocationDeadline(policy, state.slot),
            ...(options.cause ? { cause: options.cause } : {}),
            ...(options.entryId !== undefined ? { entryId: options.entryId } : {}),
            ...(options.override ? { override: options.override } : {}),
            now,
            actor: context.actor,
          },
        },
        state,
      );
      if (decided.length === 0) {
        return { waitlistId, allocated: [], exhausted: false, skipped: 'nothing-to-allocate' };
      }
      const allocations = decided.filter(
        (event): event is WaitlistOfferMade | WaitlistSeatAssigned =>
          event.type === 'WaitlistOfferMade' || event.type === 'WaitlistSeatAssigned',
      );
      const expiryOf = (allocation: WaitlistOfferMade | WaitlistSeatAssigned) =>
        allocation.type === 'WaitlistOfferMade'
          ? allocation.data.expiresAt
          : new Date(Date.parse(now) + deps.holdMinutes * MINUTE_MS).toISOString();
      // Holds an earlier round took that this decision does not keep go back first: another run may need them.
      const wanted = new Map(allocations.map((a) => [holdKeyOf(a.data.reservationId, a.data.resourceId), expiryOf(a)]));
      for (const [key, hold] of [...taken]) {
        if (wanted.get(key) === hold.expiresAt) continue;
        taken.delete(key);
        await abandonHold(deps, context, hold.seats, hold.outcome, now).catch((error: unknown) =>
          logFailure(deps, error, 'giving back an unused waitlist hold failed; it runs out on its own'),
        );
      }
      let refused = false;
      // In one order for every run (by offer id), so that two runs deciding overlapping offers never wait for each
      // other's holds in a circle.
      const holdOrder = [...allocations].sort((a, b) => (a.data.offerId < b.data.offerId ? -1 : 1));
      for (const allocation of holdOrder) {
        const { reservationId, resourceId, seats, offerId } = allocation.data;
        if (taken.has(holdKeyOf(reservationId, resourceId))) continue;
        const offer = allocation.type === 'WaitlistOfferMade';
        const expiresAt = expiryOf(allocation);
        if (offer) {
          // Scheduled before the seats are held: a crash after the hold and before the offer is recorded leaves a
          // hold that this job gives back when it runs out.
          await deps.scheduler.schedule({
            name: OFFER_EXPIRY_JOB,
            key: offerExpiryKey(tenantId, offerId),
            runAt: new Date(expiresAt),
            tenantId,
            data: {
              waitlistId,
              offerId,
              reservationId,
              resourceId,
              slotStart: state.slot.start,
              timeZone: state.slot.location.timeZone,
            },
          });
        }
        const seatsRef = slotSeatsOf(tenantId, state.slot, reservationId, resourceId);
        try {
          const outcome = await holdSlot(
            deps,
            context,
            {
              ...seatsRef,
              serviceId: catalog.service.serviceId,
              occupiedUntil: new Date(
                Date.parse(state.slot.end) + catalog.service.bufferMinutes * MINUTE_MS,
              ).toISOString(),
              seats,
              capacity: catalog.service.seatsPerSlot,
              expiresAt,
            },
            now,
          );
          if (outcome.newlyHeld.length === 0) {
            // Held already, not by this call: the same offer decided by a concurrent run (or by one that crashed,
            // whose hold runs out with its window). Its expiry job is that run's too: left in place.
            contended = true;
            refused = true;
            break;
          }
          taken.set(holdKeyOf(reservationId, resourceId), { seats: seatsRef, outcome, expiresAt });
        } catch (error) {
          if (!isSeatRefusal(error)) throw error;
          if (offer) await deps.scheduler.cancel(offerExpiryKey(tenantId, offerId));
          refused = true;
          break;
        }
      }
      if (refused) continue;
      try {
        await appendDecided(deps, stream, decided, revision, context);
      } catch (error) {
        if (error instanceof ConcurrencyError) continue;
        throw error;
      }
      kept = new Set(allocations.map((a) => holdKeyOf(a.data.reservationId, a.data.resourceId)));
      const allocated = allocations.map((allocation): Allocated => {
        const entry = findEntry(state, allocation.data.entryId);
        return {
          entryId: allocation.data.entryId,
          offerId: allocation.data.offerId,
          reservationId: allocation.data.reservationId,
          resourceId: allocation.data.resourceId,
          seats: allocation.data.seats,
          mode: allocation.type === 'WaitlistOfferMade' ? 'offer' : 'assign',
          expiresAt: allocation.type === 'WaitlistOfferMade' ? allocation.data.expiresAt : null,
          customerName: entry?.customer.name ?? '',
        };
      });
      // An assigned seat is booked at once (the waitlist manager does it again if this fails).
      for (const assigned of allocated.filter((a) => a.mode === 'assign')) {
        await bookAllocation(deps, context, waitlistId, assigned.offerId).catch((error: unknown) =>
          logFailure(deps, error, 'booking an assigned seat failed; the waitlist manager retries'),
        );
      }
      return { waitlistId, allocated, exhausted: decided.some((event) => event.type === 'WaitlistExhausted') };
    }
    // Thrown, not answered with nothing: the waitlist manager then handles the release again later.
    throw new ConcurrencyError('waitlist-allocation-contention', 'The waitlist kept changing; allocate again.', {
      waitlistId,
    });
  } finally {
    const releasedAt = deps.clock.now().toISOString();
    // A run records only offers whose seats it held itself, so a hold this run took and did not keep is nobody
    // else's; still, should a concurrent run have recorded the very offer (same state, same decision, same id) on the
    // same resource, that hold is the offer's now and stays.
    const recorded = new Set<string>();
    if ([...taken.keys()].some((key) => !kept.has(key))) {
      const { state } = await loadAggregate(deps.eventStore, stream, waitlistDecider);
      if (state.status !== 'none') {
        for (const entry of state.entries) {
          if (entry.offer && (entry.offer.status === 'open' || entry.offer.status === 'accepted')) {
            recorded.add(holdKeyOf(entry.offer.reservationId, entry.offer.resourceId));
          }
        }
      }
    }
    for (const [key, hold] of taken) {
      if (kept.has(key) || recorded.has(key)) continue;
      await abandonHold(deps, context, hold.seats, hold.outcome, releasedAt).catch((error: unknown) =>
        logFailure(deps, error, 'giving back an unused waitlist hold failed; it runs out on its own'),
      );
    }
  }
}

// Offers ---------------------------------------------------------------------------------------------------------------

/**
 * Books the reservation an accepted offer or an assignment turns into: the offer's id is the reservation's id, its
 * held seats become final. Idempotent: an existing reservation is answered as it is.
 */
export async function bookAllocation(
  deps: WaitlistDeps,
  context: CommandContext,
  waitlistId: string,
  offerId: string,
): Promise<HandleResult<ReservationState> & { reservationId: string }> {
  const tenantId = context.tenantId;
  const { state } = await requireWaitlist(deps.eventStore, tenantId, waitlistId);
  const found = findOffer(state, offerId);
  if (!found || found.offer.status !== 'accepted') {
    throw new IllegalStateError('offer-not-accepted', `Offer ${offerId} has not been accepted.`, { offerId });
  }
  const { entry, offer } = found;
  const code = await codeForReservation(deps, context, offer.reservationId);
  const nowDate = deps.clock.now();
  const now = nowDate.toISOString();
  const command: ReservationCommand = {
    type: 'RequestReservation',
    data: {
      reservationId: offer.reservationId,
      tenantId,
      customer: entry.customer,
      serviceId: state.slot.serviceId,
      serviceName: state.slot.serviceName,
      resourceId: offer.resourceId,
      locationId: state.slot.locationId,
      location: state.slot.location,
      start: state.slot.start,
      end: state.slot.end,
      partySize: entry.partySize,
      requiresConfirmation: false,
      holdExpiresAt: new Date(nowDate.getTime() + deps.holdMinutes * MINUTE_MS).toISOString(),
      origin: { type: 'waitlist', waitlistId, entryId: entry.entryId, offerId, mode: offer.mode },
      ...(code ? { code } : {}),
      now,
      actor: context.actor,
    },
  };
  const result = await handleCommand(
    deps,
    reservationStreamName(tenantId, offer.reservationId),
    reservationDecider,
    command,
    context,
  );
  // The held seats become final (taken again if they were lost and are still free).
  await createSeatReconciler(deps)(tenantId, offer.reservationId, context);
  return { ...result, reservationId: offer.reservationId };
}

export interface AcceptResult {
  readonly reservationId: string;
  readonly reservation: HandleResult<ReservationState> & { readonly reservationId: string };
  /** False when the offer had been accepted already (the same answer again). */
  readonly accepted: boolean;
}

/**
 * The customer takes the offered seat. 409 `offer-expired` after the window (also when the expiry wins a race with
 * this acceptance), `offer-not-open` when declined or withdrawn, `offer-seat-lost` when the held seats are gone;
 * never a second booking: the reservation's id is the offer's.
 */
export async function acceptOffer(
  deps: WaitlistDeps,
  context: CommandContext,
  waitlistId: string,
  offerId: string,
  via: OfferAnswerVia,
): Promise<AcceptResult> {
  const tenantId = context.tenantId;
  const stream = waitlistStreamName(tenantId, waitlistId);
  const { state } = await requireWaitlist(deps.eventStore, tenantId, waitlistId);
  const found = findOffer(state, offerId);
  if (!found) throw new NotFoundError('offer-not-found', `Offer ${offerId} does not exist.`, { offerId });
  if (found.offer.status === 'accepted') {
    const reservation = await bookAllocation(deps, context, waitlistId, offerId);
    return { reservationId: found.offer.reservationId, reservation, accepted: false };
  }
  const now = deps.clock.now().toISOString();
  const command: WaitlistCommand = { type: 'AcceptOffer', data: { offerId, via, now, actor: context.actor } };
  waitlistDecider.decide(command, state); // refused (expired, declined...) before any seat is touched
  const seats = slotSeatsOf(tenantId, state.slot, found.offer.reservationId, found.offer.resourceId);
  try {
    await confirmSlot(deps, context, seats, now);
  } catch (error) {
    if (!(error instanceof IllegalStateError) || error.code !== 'slot-hold-not-found') throw error;
    await handleCommand(
      deps,
      stream,
      waitlistDecider,
      { type: 'WithdrawOffer', data: { offerId, reason: 'seat-lost', now, actor: WAITLIST_ACTOR } },
      context,
    );
    throw new IllegalStateError('offer-seat-lost', 'The seat of this offer is no longer held; staff have been told.', {
      offerId,
    });
  }
  try {
    await handleCommand(deps, stream, waitlistDecider, command, context);
  } catch (error) {
    // The expiry (or a decline) was recorded first: that is the outcome; the seats go back.
    if (error instanceof IllegalStateError) {
      const { state: after } = await loadWaitlist(deps.eventStore, tenantId, waitlistId);
      if (findOffer(after, offerId)?.offer.status !== 'accepted') {
        await releaseSlot(deps, context, seats, 'offer-expired', now).catch(() => undefined);
      }
    }
    throw error;
  }
  await deps.scheduler.cancel(offerExpiryKey(tenantId, offerId));
  const reservation = await bookAllocation(deps, context, waitlistId, offerId);
  return { reservationId: found.offer.reservationId, reservation, accepted: true };
}

/** The customer turns the offer down; the seats go to the next in line. */
export async function declineOffer(
  deps: WaitlistDeps,
  context: CommandContext,
  waitlistId: string,
  offerId: string,
  via: OfferAnswerVia,
): Promise<HandleResult<WaitlistState>> {
  const tenantId = context.tenantId;
  const { state } = await requireWaitlist(deps.eventStore, tenantId, waitlistId);
  const now = deps.clock.now().toISOString();
  const result = await handleCommand(
    deps,
    waitlistStreamName(tenantId, waitlistId),
    waitlistDecider,
    { type: 'DeclineOffer', data: { offerId, via, now, actor: context.actor } },
    context,
  );
  const found = findOffer(state, offerId);
  if (result.newEvents.length > 0 && found) {
    await deps.scheduler.cancel(offerExpiryKey(tenantId, offerId));
    await releaseOfferSeats(deps, context, tenantId, state.slot, found.offer, 'offer-declined', now).catch(
      (error: unknown) => logFailure(deps, error, 'releasing a declined offer failed; the waitlist manager retries'),
    );
  }
  return result;
}

export interface OfferExpiryJobData {
  readonly waitlistId: string;
  readonly offerId: string;
  readonly reservationId: string;
  readonly resourceId: string;
  readonly slotStart: string;
  readonly timeZone: string;
}

/**
 * The response window ran out: the offer expires and its seats go to the next in line. Also gives back the seats of
 * an offer that was never recorded (a crash between holding and recording). Too early: runs again at the expiry.
 */
export async function expireOffer(
  deps: WaitlistDeps,
  tenantId: string,
  data: OfferExpiryJobData,
  context: CommandContext,
): Promise<void> {
  const now = deps.clock.now().toISOString();
  let state: WaitlistState;
  try {
    state = (
      await handleCommand(
        deps,
        waitlistStreamName(tenantId, data.waitlistId),
        waitlistDecider,
        { type: 'ExpireOffer', data: { offerId: data.offerId, now, actor: WAITLIST_ACTOR } },
        context,
      )
    ).state;
  } catch (error) {
    if (error instanceof IllegalStateError && error.code === 'offer-not-expired') {
      await deps.scheduler.schedule({
        name: OFFER_EXPIRY_JOB,
        key: offerExpiryKey(tenantId, data.offerId),
        runAt: new Date(String(error.details.expiresAt)),
        tenantId,
        data: { ...data },
      });
      return;
    }
    throw error;
  }
  const found = findOffer(state, data.offerId);
  if (found?.offer.status === 'accepted' || found?.offer.status === 'open') return;
  if (!found) {
    // Never recorded: give the seats back unless a reservation owns them after all.
    const { revision } = await deps.eventStore.readStream(reservationStreamName(tenantId, data.reservationId));
    if (revision !== 'no_stream') return;
  }
  await releaseSlot(
    deps,
    context,
    {
      tenantId,
      reservationId: data.reservationId,
      resourceId: data.resourceId,
      timeZone: data.timeZone,
      slotStart: data.slotStart,
    },
    'offer-expired',
    now,
  );
}

/** The deadline passed: entries still waiting will not get a seat. Too early (the cut-off changed): runs again. */
export async function closeWaitlist(
  deps: WaitlistDeps,
  tenantId: string,
  waitlistId: string,
  context: CommandContext,
): Promise<void> {
  const { state } = await loadWaitlist(deps.eventStore, tenantId, waitlistId);
  if (state.status !== 'open') return;
  const policy = await policyOf(deps, tenantId, state.slot.serviceId);
  const deadline = allocationDeadline(policy, state.slot);
  try {
    await handleCommand(
      deps,
      waitlistStreamName(tenantId, waitlistId),
      waitlistDecider,
      { type: 'CloseWaitlist', data: { deadline, now: deps.clock.now().toISOString(), actor: WAITLIST_ACTOR } },
      context,
    );
  } catch (error) {
    if (!(error instanceof IllegalStateError) || error.code !== 'waitlist-not-due') throw error;
    await scheduleClose(deps, tenantId, waitlistId, deadline);
  }
}

export async function scheduleClose(
  deps: Pick<WaitlistDeps, 'scheduler'>,
  tenantId: string,
  waitlistId: string,
  deadline: string,
): Promise<void> {
  await deps.scheduler.schedule({
    name: WAITLIST_CLOSE_JOB,
    key: waitlistCloseKey(tenantId, waitlistId),
    runAt: new Date(deadline),
    tenantId,
    data: { waitlistId },
  });
}

// Staff warning and the booking gate ------------------------------------------------------------------------------------

export interface NextInLine {
  readonly entryId: string;
  readonly position: number;
  readonly customerName: string;
  readonly partySize: number;
  readonly outcome: WaitlistMode;
}

export interface FreeingPreview {
  readonly waitlistId: string;
  readonly enabled: boolean;
  readonly mode: WaitlistMode;
  readonly waiting: number;
  /** Who would get the seats if they were freed now, in order; empty: they would go back to public availability. */
  readonly next: readonly NextInLine[];
  readonly responseWindowSeconds: number;
}

/**
 * The staff warning of seed 004, as a dry run: who gets the seats of this reservation if it is freed now. Nothing is
 * changed. Null for a reservation that holds no seats of Herald's inventory.
 */
export async function previewFreeing(
  deps: WaitlistDeps,
  tenantId: string,
  reservation: Exclude<ReservationState, { status: 'none' }>,
): Promise<FreeingPreview | null> {
  const r = reservation.reservation;
  if (r.source !== 'internal' || !r.serviceId || !r.resourceId) return null;
  const waitlistId = waitlistIdFor(deps.ids, tenantId, r.serviceId, r.start);
  const policy = await policyOf(deps, tenantId, r.serviceId);
  const { state } = await loadWaitlist(deps.eventStore, tenantId, waitlistId);
  const line = waitingInOrder(state);
  const base = {
    waitlistId,
    enabled: policy.enabled,
    mode: policy.mode,
    waiting: line.length,
    responseWindowSeconds: policy.responseWindowSeconds,
  };
  const now = deps.clock.now().toISOString();
  if (
    state.status !== 'open' ||
    !policy.enabled ||
    line.length === 0 ||
    Date.parse(now) >= Date.parse(allocationDeadline(policy, state.slot))
  ) {
    return { ...base, next: [] };
  }
  let catalog: BookingCatalog;
  try {
    catalog = await loadBookingCatalog(deps, tenantId, r.serviceId);
  } catch (error) {
    if (error instanceof ValidationError) return { ...base, next: [] };
    throw error;
  }
  // As if freed: the reservation's own hold does not count.
  const free = await freeSeatsFor(deps, tenantId, catalog, state.slot, now, new Set([r.reservationId]));
  const { allocations } = planAllocation(line, free);
  return {
    ...base,
    next: allocations.map((allocation) => {
      const entry = findEntry(state, allocation.entryId)!;
      return {
        entryId: entry.entryId,
        position: positionOf(state, entry.entryId) ?? 0,
        customerName: entry.customer.name,
        partySize: entry.partySize,
        outcome: policy.mode,
      };
    }),
  };
}

export interface WaitlistPriority {
  readonly waitlistId: string;
  readonly waiting: number;
}

/**
 * Whether seats a booking asks for belong to the slot's waitlist: it is on, people wait whose party fits the seats
 * free right now, and the cut-off has not passed. Then the seats are about to be offered in line order, and a
 * booking from outside the line must not take them (fairness).
 */
export async function waitlistPriority(
  deps: WaitlistDeps,
  tenantId: string,
  catalog: BookingCatalog,
  start: string,
  resourceIds: readonly string[],
): Promise<WaitlistPriority | null> {
  const { state } = await loadWaitlist(
    deps.eventStore,
    tenantId,
    waitlistIdFor(deps.ids, tenantId, catalog.service.serviceId, start),
  );
  if (state.status !== 'open') return null;
  const line = waitingInOrder(state);
  if (line.length === 0) return null;
  const policy = await policyOf(deps, tenantId, catalog.service.serviceId);
  const now = deps.clock.now().toISOString();
  if (!policy.enabled || Date.parse(now) >= Date.parse(allocationDeadline(policy, state.slot))) return null;
  const free = (await freeSeatsFor(deps, tenantId, catalog, state.slot, now)).filter((f) =>
    resourceIds.includes(f.resourceId),
  );
  return anyFits(line, free) ? { waitlistId: state.waitlistId, waiting: line.length } : null;
}

function logFailure(deps: WaitlistDeps, error: unknown, message: string): void {
  deps.logger?.warn({ err: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }, message);
}

export type { WaitlistEvent };

// Answers by SMS -------------------------------------------------------------------------------------------------------

const ACCEPT_WORDS = new Set(['YES', 'Y', 'ANO', 'JA']);
const DECLINE_WORDS = new Set(['NO', 'N', 'NE', 'NEI']);

/** YES/ANO/JA take an offer, NO/NE/NEI let it go (the whole message, any case, without diacritics or punctuation). */
export function parseOfferReply(body: string): 'accept' | 'decline' | undefined {
  const word = body
    .trim()
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[.!]+$/, '')
    .toUpperCase();
  if (ACCEPT_WORDS.has(word)) return 'accept';
  if (DECLINE_WORDS.has(word)) return 'decline';
  return undefined;
}

export interface OpenOfferOfPhone {
  readonly waitlistId: string;
  readonly offerId: string;
}

export type SmsAnswerOutcome =
  | { readonly outcome: 'not-an-answer' | 'no-open-offer' | 'ambiguous' }
  | { readonly outcome: 'accepted'; readonly reservationId: string }
  | { readonly outcome: 'declined' }
  | { readonly outcome: 'refused'; readonly code: string };

/**
 * An SMS reply to an offer. Acts only when the sender has exactly one open offer (found by the caller in the
 * entries read model); with several, the reply is ambiguous and the claim links are the way.
 */
export async function answerOfferBySms(
  deps: WaitlistDeps,
  context: CommandContext,
  body: string,
  openOffers: readonly OpenOfferOfPhone[],
): Promise<SmsAnswerOutcome> {
  const answer = parseOfferReply(body);
  if (!answer) return { outcome: 'not-an-answer' };
  if (openOffers.length === 0) return { outcome: 'no-open-offer' };
  if (openOffers.length > 1) return { outcome: 'ambiguous' };
  const [offer] = openOffers as [OpenOfferOfPhone];
  try {
    if (answer === 'accept') {
      const result = await acceptOffer(deps, context, offer.waitlistId, offer.offerId, 'sms');
      return { outcome: 'accepted', reservationId: result.reservationId };
    }
    await declineOffer(deps, context, offer.waitlistId, offer.offerId, 'sms');
    return { outcome: 'declined' };
  } catch (error) {
    if (error instanceof IllegalStateError || error instanceof NotFoundError) {
      return { outcome: 'refused', code: error.code };
    }
    throw error;
  }
}

/**
 * The offers and assignments a freed seat led to, whoever made them (the request that freed it, or the waitlist
 * manager reacting to the release a moment earlier): what staff are told after freeing a seat.
 */
export async function allocationsCausedBy(
  deps: Pick<WaitlistDeps, 'eventStore'>,
  tenantId: string,
  waitlistId: string,
  causeEventId: string,
): Promise<Allocated[]> {
  const { events } = await deps.eventStore.readStream(waitlistStreamName(tenantId, waitlistId));
  let state: WaitlistState = waitlistDecider.initialState();
  const allocated: Allocated[] = [];
  for (const recorded of events) {
    const event = { type: recorded.type, data: recorded.data } as WaitlistEvent;
    state = waitlistDecider.evolve(state, event);
    if (event.type !== 'WaitlistOfferMade' && event.type !== 'WaitlistSeatAssigned') continue;
    if (event.data.causeEventId !== causeEventId) continue;
    allocated.push({
      entryId: event.data.entryId,
      offerId: event.data.offerId,
      reservationId: event.data.reservationId,
      resourceId: event.data.resourceId,
      seats: event.data.seats,
      mode: event.type === 'WaitlistOfferMade' ? 'offer' : 'assign',
      expiresAt: event.type === 'WaitlistOfferMade' ? event.data.expiresAt : null,
      customerName: findEntry(state, event.data.entryId)?.customer.name ?? '',
    });
  }
  return allocated;
}
