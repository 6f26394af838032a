import type { SlotSeatsReleased } from '../../domain/booking/slot-inventory.decider.js';
import { resourceDayStreamName } from '../../domain/booking/slot-inventory.decider.js';
import type { ServiceUpdated } from '../../domain/catalog/service.decider.js';
import { allocationDeadline, policyFor } from '../../domain/waitlist/waitlist-settings.js';
import {
  findOffer,
  type FreedSeatCause,
  type WaitlistEvent,
  waitlistDecider,
  waitlistStreamName,
} from '../../domain/waitlist/waitlist.decider.js';
import type { CommandContext } from '../command-handler.js';
import { loadAggregate } from '../command-handler.js';
import type { Clock } from '../ports/clock.port.js';
import type { EventStore, RecordedEvent } from '../ports/event-store.port.js';
import type { IdSource } from '../ports/id-source.port.js';
import type { ReadModelStore, StoredDocument } from '../ports/read-model-store.port.js';
import type { JobHandler } from '../ports/scheduler.port.js';
import type { Intent, ProcessManager } from '../process-managers/process-manager.js';
import type { CommandIntent, IntentHandler } from '../process-managers/process-manager-runner.js';
import { physicalCollection } from '../projections/projection.js';
import { waitlistsProjection, type WaitlistDocument } from '../projections/waitlists.projection.js';
import {
  allocateWaitlist,
  bookAllocation,
  closeWaitlist,
  expireOffer,
  loadWaitlist,
  loadWaitlistSettings,
  OFFER_EXPIRY_JOB,
  offerExpiryKey,
  releaseOfferSeats,
  WAITLIST_ACTOR,
  WAITLIST_CLOSE_JOB,
  waitlistCloseKey,
  waitlistIdFor,
  type OfferExpiryJobData,
  type WaitlistDeps,
} from './waitlist-commands.js';

/**
 * The waitlist manager: a process manager in the one shape (`react -> intents`). It turns freed seats into
 * allocations (a release on the inventory, more capacity, a waitlist switched on), keeps each offer's expiry job,
 * books accepted offers and assignments, and gives back the seats of offers that ended unaccepted — whose release in
 * turn frees the seat for the next in line.
 */
export const WAITLIST_TARGET = 'waitlist';

const EVENT_TYPES = [
  'SlotSeatsReleased',
  'WaitlistEntryJoined',
  'WaitlistOfferMade',
  'WaitlistSeatAssigned',
  'WaitlistOfferAccepted',
  'WaitlistOfferDeclined',
  'WaitlistOfferExpired',
  'WaitlistOfferWithdrawn',
  'WaitlistEntryLeft',
  'WaitlistEntryRemoved',
  'WaitlistEntrySkipped',
  'ServiceUpdated',
  'ResourceScheduleChanged',
  'ResourceUpdated',
  'WaitlistSettingsChanged',
] as const;

/** At most this many open waitlists are re-allocated for one capacity or settings change (the rest on their next release). */
const MAX_REALLOCATIONS = 1_000;

export type WaitlistIntentCommand =
  | {
      readonly type: 'AllocateWaitlist';
      readonly data: { readonly waitlistId: string; readonly cause?: FreedSeatCause };
    }
  | { readonly type: 'BookAllocation'; readonly data: { readonly waitlistId: string; readonly offerId: string } }
  | {
      readonly type: 'ReleaseOfferSeats';
      readonly data: {
        readonly waitlistId: string;
        readonly reservationId: string;
        readonly resourceId: string;
        readonly reason: 'offer-declined' | 'offer-expired' | 'offer-withdrawn';
      };
    };

export interface WaitlistManagerDeps {
  readonly eventStore: EventStore;
  readonly ids: IdSource;
  readonly clock: Clock;
  readonly readModels: ReadModelStore;
}

function command(tenantId: string, waitlistId: string, cause: string, data: WaitlistIntentCommand): Intent {
  return {
    kind: 'command',
    target: WAITLIST_TARGET,
    tenantId,
    aggregateId: waitlistId,
    command: data,
    idempotencyKey: cause,
  };
}

export function createWaitlistManager(deps: WaitlistManagerDeps): ProcessManager & { readonly concurrency: number } {
  /** The service of a released hold: in the event since waitlists exist, else from the hold that was released. */
  const serviceOfRelease = async (event: RecordedEvent, data: SlotSeatsReleased['data']) => {
    if (data.serviceId !== undefined) return data.serviceId;
    const { events } = await deps.eventStore.readStream(
      resourceDayStreamName(event.metadata.tenantId, data.resourceId, data.localDate),
    );
    const held = events.find(
      (e) =>
        e.type === 'SlotSeatsHeld' &&
        (e.data as { reservationId?: unknown }).reservationId === data.reservationId &&
        (e.data as { slotStart?: unknown }).slotStart === data.slotStart,
    );
    return ((held?.data as { serviceId?: string | null } | undefined)?.serviceId ?? null) as string | null;
  };

  const openWaitlists = async (tenantId: string, filter: (doc: WaitlistDocument) => boolean) => {
    const docs = await deps.readModels.find<WaitlistDocument & StoredDocument>(
      physicalCollection(waitlistsProjection),
      { tenantId, status: 'open', end: { $gt: deps.clock.now().toISOString() } },
      { sort: { field: 'start', direction: 1 }, limit: MAX_REALLOCATIONS },
    );
    return docs.filter(filter);
  };

  const reallocate = (tenantId: string, cause: string, docs: readonly WaitlistDocument[]) =>
    docs.map((doc) =>
      command(tenantId, doc.waitlistId, cause, { type: 'AllocateWaitlist', data: { waitlistId: doc.waitlistId } }),
    );

  return {
    name: 'waitlist-manager',
    eventTypes: EVENT_TYPES,
    concurrency: 8,
    async react(event) {
      const tenantId = event.metadata.tenantId;
      switch (event.type) {
        case 'SlotSeatsReleased': {
          const data = event.data as SlotSeatsReleased['data'];
          if (data.bypassWaitlist === true) return [];
          const serviceId = await serviceOfRelease(event, data);
          if (!serviceId) return [];
          const waitlistId = waitlistIdFor(deps.ids, tenantId, serviceId, data.slotStart);
          const { revision } = await deps.eventStore.readStream(waitlistStreamName(tenantId, waitlistId));
          if (revision === 'no_stream') return [];
          const cause: FreedSeatCause = {
            eventId: event.id,
            reason: data.reason,
            reservationId: data.reservationId,
            resourceId: data.resourceId,
            seats: data.seats,
            freedAt: data.releasedAt,
          };
          return [command(tenantId, waitlistId, event.id, { type: 'AllocateWaitlist', data: { waitlistId, cause } })];
        }
        case 'ServiceUpdated': {
          const { serviceId, changes } = event.data as ServiceUpdated['data'];
          if (changes.seatsPerSlot === undefined && changes.resourceIds === undefined) return [];
          return reallocate(tenantId, event.id, await openWaitlists(tenantId, (doc) => doc.serviceId === serviceId));
        }
        case 'ResourceScheduleChanged':
        case 'ResourceUpdated': {
          // Working hours or an exception changed: any list of the tenant may gain seats; allocation finds out.
          return reallocate(tenantId, event.id, await openWaitlists(tenantId, (doc) => doc.waiting > 0));
        }
        case 'WaitlistSettingsChanged':
          return reallocate(tenantId, event.id, await openWaitlists(tenantId, (doc) => doc.waiting > 0));
      }
      const waitlistEvent = { type: event.type, data: event.data } as WaitlistEvent;
      const waitlistId = waitlistEvent.data.waitlistId;
      switch (waitlistEvent.type) {
        case 'WaitlistEntryJoined': {
          const { settings } = await loadWaitlistSettings(deps.eventStore, tenantId);
          const deadline = allocationDeadline(
            policyFor(settings, waitlistEvent.data.slot.serviceId),
            waitlistEvent.data.slot,
          );
          return [
            {
              kind: 'schedule',
              job: {
                name: WAITLIST_CLOSE_JOB,
                key: waitlistCloseKey(tenantId, waitlistId),
                runAt: new Date(deadline),
                tenantId,
                data: { waitlistId },
              },
            },
            // Seats may be free already (freed while the line was still being served, or capacity added).
            command(tenantId, waitlistId, event.id, { type: 'AllocateWaitlist', data: { waitlistId } }),
          ];
        }
        case 'WaitlistOfferMade': {
          const { state } = await loadWaitlist(deps.eventStore, tenantId, waitlistId);
          if (state.status === 'none') return [];
          const d = waitlistEvent.data;
          const jobData: OfferExpiryJobData = {
            waitlistId,
            offerId: d.offerId,
            reservationId: d.reservationId,
            resourceId: d.resourceId,
            slotStart: state.slot.start,
            timeZone: state.slot.location.timeZone,
          };
          // Only while the offer is open: an answer recorded since must not bring its expiry back.
          if (findOffer(state, d.offerId)?.offer.status !== 'open') return [];
          return [
            {
              kind: 'schedule',
              job: {
                name: OFFER_EXPIRY_JOB,
                key: offerExpiryKey(tenantId, d.offerId),
                runAt: new Date(d.expiresAt),
                tenantId,
                data: { ...jobData },
              },
            },
          ];
        }
        case 'WaitlistSeatAssigned':
        case 'WaitlistOfferAccepted': {
          const { offerId } = waitlistEvent.data;
          return [
            { kind: 'cancel-schedule', key: offerExpiryKey(tenantId, offerId) },
            command(tenantId, waitlistId, event.id, { type: 'BookAllocation', data: { waitlistId, offerId } }),
          ];
        }
        case 'WaitlistOfferDeclined':
        case 'WaitlistOfferExpired':
        case 'WaitlistOfferWithdrawn': {
          const { offerId, reservationId, resourceId } = waitlistEvent.data;
          const reason =
            waitlistEvent.type === 'WaitlistOfferDeclined'
              ? 'offer-declined'
              : waitlistEvent.type === 'WaitlistOfferExpired'
                ? 'offer-expired'
                : 'offer-withdrawn';
          return [
            { kind: 'cancel-schedule', key: offerExpiryKey(tenantId, offerId) },
            command(tenantId, waitlistId, event.id, {
              type: 'ReleaseOfferSeats',
              data: { waitlistId, reservationId, resourceId, reason },
            }),
          ];
        }
        case 'WaitlistEntryLeft':
        case 'WaitlistEntryRemoved':
        case 'WaitlistEntrySkipped': {
          const withdrawn = waitlistEvent.data.withdrawnOffer;
          if (!withdrawn) return [];
          return [
            { kind: 'cancel-schedule', key: offerExpiryKey(tenantId, withdrawn.offerId) },
            command(tenantId, waitlistId, event.id, {
              type: 'ReleaseOfferSeats',
              data: {
                waitlistId,
                reservationId: withdrawn.reservationId,
                resourceId: withdrawn.resourceId,
                reason: 'offer-withdrawn',
              },
            }),
          ];
        }
        default:
          return [];
      }
    },
  };
}

/** Executes the waitlist manager's command intents. */
export function createWaitlistIntentHandler(deps: WaitlistDeps): IntentHandler {
  return async (intent: CommandIntent, context: CommandContext) => {
    const command = intent.command as WaitlistIntentCommand;
    switch (command.type) {
      case 'AllocateWaitlist':
        await allocateWaitlist(
          deps,
          context,
          command.data.waitlistId,
          command.data.cause ? { cause: command.data.cause } : {},
        );
        return;
      case 'BookAllocation':
        await bookAllocation(deps, context, command.data.waitlistId, command.data.offerId);
        return;
      case 'ReleaseOfferSeats': {
        const { state } = await loadAggregate(
          deps.eventStore,
          waitlistStreamName(context.tenantId, command.data.waitlistId),
          waitlistDecider,
        );
        if (state.status === 'none') return;
        await releaseOfferSeats(
          deps,
          context,
          context.tenantId,
          state.slot,
          command.data,
          command.data.reason,
          deps.clock.now().toISOString(),
        );
        return;
      }
    }
  };
}

/** Scheduled jobs of waitlists: each sends a command back, which the deciders make harmless to repeat. */
export function createWaitlistJobs(deps: WaitlistDeps): Record<string, JobHandler> {
  const context = (tenantId: string, key: string): CommandContext => ({
    tenantId,
    actor: WAITLIST_ACTOR,
    causationId: key,
    correlationId: key,
  });
  return {
    [OFFER_EXPIRY_JOB]: (job) =>
      expireOffer(deps, job.tenantId, job.data as unknown as OfferExpiryJobData, context(job.tenantId, job.key)),
    [WAITLIST_CLOSE_JOB]: (job) =>
      closeWaitlist(deps, job.tenantId, String(job.data.waitlistId), context(job.tenantId, job.key)),
  };
}
