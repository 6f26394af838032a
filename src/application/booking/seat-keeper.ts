import {
  reservationDecider,
  reservationStreamName,
  type ReservationEvent,
  type ReservationState,
} from '../../domain/booking/reservation.decider.js';
import type { SlotReleaseReason } from '../../domain/booking/slot-inventory.decider.js';
import { serviceDecider, serviceStreamName } from '../../domain/catalog/service.decider.js';
import { IllegalStateError, NotFoundError } from '../../domain/shared/errors.js';
import { MINUTE_MS } from '../../domain/shared/zoned-time.js';
import {
  handleCommand,
  loadAggregate,
  toDomainEvent,
  type CommandContext,
  type CommandHandlerDeps,
} from '../command-handler.js';
import type { Clock } from '../ports/clock.port.js';
import type { RecordedEvent } from '../ports/event-store.port.js';
import type { Logger } from '../ports/logger.port.js';
import type { JobHandler, Scheduler } from '../ports/scheduler.port.js';
import { RESERVATION_EVENT_TYPES } from '../projections/reservation-details.projection.js';
import type { EventConsumer } from '../subscriptions/checkpointed-subscriber.js';
import type { Intent, ProcessManager } from '../process-managers/process-manager.js';
import { processManagerConsumer, type IntentHandler } from '../process-managers/process-manager-runner.js';
import { confirmSlot, holdSlot, holdsSlot, releaseSlot, type ReleasedSeats, type SlotSeats } from './seat-holds.js';

export const HOLD_EXPIRY_JOB = 'reservation.hold-expiry';
/** Intents of this target bring a reservation's seats in line with its state. */
export const SEATS_TARGET = 'seats';
const SYSTEM_ACTOR = 'system:seat-keeper';
const EXPIRY_ACTOR = 'system:hold-expiry';

const RELEASE_REASON: Partial<Record<ReservationState['status'], SlotReleaseReason>> = {
  cancelled: 'cancelled',
  declined: 'declined',
  deleted: 'deleted',
  'not-taken': 'not-taken',
  expired: 'hold-expired',
};

export interface SeatReconcilerDeps extends CommandHandlerDeps {
  readonly clock: Clock;
  readonly logger?: Logger;
}

export interface SeatKeeperDeps extends SeatReconcilerDeps {
  readonly scheduler: Scheduler;
  readonly logger: Logger;
}

export type Reconcile = SeatKeeper['reconcile'];

export interface SeatKeeper {
  /** Process manager: after every reservation event, the seats follow the reservation. */
  readonly consumer: EventConsumer;
  /** `reservation.hold-expiry`: expires a requested reservation whose hold ran out, and frees its seats. */
  readonly holdExpiryJob: JobHandler;
  /**
   * Brings the resource-day holds in line with the reservation's current state: the current slot is held
   * (confirmed once the reservation is), every earlier slot (reschedules) and the slot of an ended reservation are
   * released. Idempotent: run it as often as you like, from the process manager or inline after a transition.
   */
  reconcile(tenantId: string, reservationId: string, context?: Partial<CommandContext>): Promise<Reconciled>;
}

export interface Reconciled {
  readonly status: ReservationState['status'] | 'not-ours';
  /** Seats this run gave back (none when they already were). */
  readonly released: readonly ReleasedSeats[];
}

export function holdExpiryKey(tenantId: string, reservationId: string): string {
  return `hold-expiry:${tenantId}:${reservationId}`;
}

/** Every (resource, start) the reservation has ever had, from its events. */
function slotsInHistory(events: readonly RecordedEvent[]): Array<{ resourceId: string; start: string }> {
  const seen = new Map<string, { resourceId: string; start: string }>();
  const add = (resourceId: string | null, start: string) => {
    if (resourceId) seen.set(`${resourceId}|${start}`, { resourceId, start });
  };
  for (const recorded of events) {
    const event = toDomainEvent<ReservationEvent>(recorded);
    if (event.type === 'ReservationRequested' || event.type === 'ReservationConfirmed') {
      add(event.data.reservation.resourceId, event.data.reservation.start);
    } else if (event.type === 'ReservationRescheduled') {
      add(event.data.previous.resourceId, event.data.previous.start);
      add(event.data.new.resourceId, event.data.new.start);
    }
  }
  return [...seen.values()];
}

/** The reconciliation alone (for the HTTP edge, which runs it inline after a transition). */
export function createSeatReconciler(deps: SeatReconcilerDeps): Reconcile {
  const now = () => deps.clock.now().toISOString();

  const reconcile: Reconcile = async (tenantId, reservationId, given = {}) => {
    const { state, events } = await loadAggregate(
      deps.eventStore,
      reservationStreamName(tenantId, reservationId),
      reservationDecider,
    );
    if (state.status === 'none') return { status: 'none', released: [] };
    const reservation = state.reservation;
    // External reservations were never sold from our inventory.
    if (reservation.source !== 'internal' || !reservation.resourceId || !reservation.serviceId) {
      return { status: 'not-ours', released: [] };
    }
    const released: ReleasedSeats[] = [];
    const context: CommandContext = { tenantId, actor: SYSTEM_ACTOR, ...given };
    const seatsAt = (resourceId: string, start: string): SlotSeats => ({
      tenantId,
      reservationId,
      resourceId,
      timeZone: reservation.location.timeZone,
      slotStart: start,
    });
    const current = seatsAt(reservation.resourceId, reservation.start);

    for (const slot of slotsInHistory(events)) {
      if (slot.resourceId === current.resourceId && slot.start === current.slotStart) continue;
      released.push(...(await releaseSlot(deps, context, seatsAt(slot.resourceId, slot.start), 'rescheduled', now())));
    }

    const reason = RELEASE_REASON[state.status];
    if (reason) {
      released.push(
        ...(await releaseSlot(deps, context, current, reason, now(), {
          bypassWaitlist: state.bypassWaitlist === true,
        })),
      );
      return { status: state.status, released };
    }
    if (state.status === 'confirmed') {
      try {
        await confirmSlot(deps, context, current, now());
      } catch (error) {
        if (!(error instanceof IllegalStateError) || error.code !== 'slot-hold-not-found') throw error;
        // The hold was lost (expired and reclaimed, or released by a race): take the seats again if they are free.
        await rehold(context, current, state, null);
      }
      return { status: state.status, released };
    }
    if (state.status === 'requested' && Date.parse(state.holdExpiresAt) > deps.clock.now().getTime()) {
      if (!(await holdsSlot(deps, current))) await rehold(context, current, state, state.holdExpiresAt);
    }
    return { status: state.status, released };
  };

  /** Whether the reservation has ended (and so owns no seats), and why. */
  const endOf = async (slot: SlotSeats) => {
    const { state } = await loadAggregate(
      deps.eventStore,
      reservationStreamName(slot.tenantId, slot.reservationId),
      reservationDecider,
    );
    if (state.status === 'none') return undefined;
    const reason = RELEASE_REASON[state.status];
    return reason ? { reason, bypassWaitlist: state.bypassWaitlist === true } : undefined;
  };

  const rehold = async (
    context: CommandContext,
    slot: SlotSeats,
    state: Exclude<ReservationState, { status: 'none' }>,
    expiresAt: string | null,
  ) => {
    const reservation = state.reservation;
    const { state: service } = await loadAggregate(
      deps.eventStore,
      serviceStreamName(slot.tenantId, reservation.serviceId ?? ''),
      serviceDecider,
    );
    if (service.status === 'none') return;
    const occupiedUntil = new Date(
      Date.parse(reservation.end) + service.service.bufferMinutes * MINUTE_MS,
    ).toISOString();
    try {
      await holdSlot(
        deps,
        context,
        {
          ...slot,
          serviceId: service.service.serviceId,
          occupiedUntil,
          seats: reservation.partySize,
          capacity: service.service.seatsPerSlot,
          expiresAt,
        },
        now(),
      );
      // Decided from a state read before this hold: a reservation that ended since gives the seats back at once.
      // (A reconciliation after its end that looked before this hold found nothing to release.)
      const ended = await endOf(slot);
      if (ended) {
        await releaseSlot(deps, context, slot, ended.reason, now(), { bypassWaitlist: ended.bypassWaitlist });
        return;
      }
      if (state.status === 'confirmed') await confirmSlot(deps, context, slot, now());
    } catch (error) {
      if (!(error instanceof IllegalStateError)) throw error;
      // Ended meanwhile: nothing was lost.
      if (await endOf(slot)) return;
      deps.logger?.error(
        { tenantId: slot.tenantId, reservationId: slot.reservationId, code: error.code },
        'a reservation lost its seats and they could not be taken again; staff must resolve it',
      );
    }
  };

  return reconcile;
}

export function createSeatKeeper(deps: SeatKeeperDeps): SeatKeeper {
  const now = () => deps.clock.now().toISOString();
  const reconcile = createSeatReconciler(deps);

  /** Process manager (the one shape): after a reservation event, its seats follow it and its hold may expire. */
  const manager: ProcessManager & { readonly concurrency: number } = {
    name: 'seat-keeper',
    eventTypes: RESERVATION_EVENT_TYPES,
    concurrency: 8,
    async react(event) {
      const reservationId = (event.data as { reservationId?: unknown }).reservationId;
      if (typeof reservationId !== 'string') return [];
      const tenantId = event.metadata.tenantId;
      const domainEvent = toDomainEvent<ReservationEvent>(event);
      const created = domainEvent.type === 'ReservationRequested' || domainEvent.type === 'ReservationConfirmed';
      // External reservations were never sold from our inventory.
      if (created && domainEvent.data.reservation.source !== 'internal') return [];
      const intents: Intent[] = [];
      if (domainEvent.type === 'ReservationRequested' && domainEvent.data.reservation.requiresConfirmation) {
        // Runs at holdExpiresAt; a no-op by then unless the reservation is still a running hold.
        intents.push({
          kind: 'schedule',
          job: {
            name: HOLD_EXPIRY_JOB,
            key: holdExpiryKey(tenantId, reservationId),
            runAt: new Date(domainEvent.data.holdExpiresAt),
            tenantId,
            data: { reservationId },
          },
        });
      }
      // Seats follow the current state, so one reconciliation per append is enough: an event followed by others in
      // its stream (Requested + Confirmed in one append, a redelivered old event) leaves it to the last one.
      const { revision } = await deps.eventStore.readStream(event.streamName);
      if (revision !== 'no_stream' && revision > event.revision) return intents;
      intents.push({
        kind: 'command',
        target: SEATS_TARGET,
        tenantId,
        aggregateId: reservationId,
        command: {
          type: 'ReconcileSeats',
          data: { reservationId, cancelExpiry: domainEvent.type !== 'PaymentRecorded' },
        },
        idempotencyKey: event.id,
      });
      return intents;
    },
  };

  const handlers: Record<string, IntentHandler> = {
    [SEATS_TARGET]: async (intent, context) => {
      const { reservationId, cancelExpiry } = intent.command.data as { reservationId: string; cancelExpiry: boolean };
      const { status } = await reconcile(intent.tenantId, reservationId, context);
      if (status === 'not-ours' || status === 'none') return;
      // Confirmed or ended: the hold can no longer expire. (The job would be a no-op; this keeps the queue clean.)
      if (status !== 'requested' && cancelExpiry)
        await deps.scheduler.cancel(holdExpiryKey(intent.tenantId, reservationId));
    },
  };
  const consumer = processManagerConsumer(manager, { scheduler: deps.scheduler, handlers, logger: deps.logger });

  const holdExpiryJob: JobHandler = async (job) => {
    const { reservationId } = job.data as { reservationId: string };
    const context: CommandContext = { tenantId: job.tenantId, actor: EXPIRY_ACTOR, causationId: job.key };
    // A no-op unless the reservation is still a running hold; too early (clock skew) throws and the job retries.
    try {
      await handleCommand(
        deps,
        reservationStreamName(job.tenantId, reservationId),
        reservationDecider,
        { type: 'ExpireHold', data: { reservationId, now: now(), actor: EXPIRY_ACTOR } },
        context,
      );
    } catch (error) {
      if (error instanceof NotFoundError) return;
      throw error;
    }
    await reconcile(job.tenantId, reservationId, context);
  };

  return { consumer, holdExpiryJob, reconcile };
}
