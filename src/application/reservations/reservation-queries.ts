import {
  reservationDecider,
  reservationStreamName,
  type ReservationState,
} from '../../domain/booking/reservation.decider.js';
import { NotFoundError } from '../../domain/shared/errors.js';
import { loadAggregate } from '../command-handler.js';
import type { EventStore, RecordedEvent } from '../ports/event-store.port.js';
import type { ReadModelStore } from '../ports/read-model-store.port.js';
import { physicalCollection } from '../projections/projection.js';
import { deliveriesProjection, type DeliveryDocument } from '../projections/deliveries.projection.js';

export type ExistingReservation = Exclude<ReservationState, { status: 'none' }>;

/**
 * One reservation, read from its stream (never stale, and its revision is the ETag). Another tenant's reservation
 * does not exist for the caller: the tenant is part of the stream name.
 */
export async function getReservation(
  eventStore: EventStore,
  tenantId: string,
  reservationId: string,
): Promise<{ state: ExistingReservation; revision: bigint; events: RecordedEvent[] }> {
  const { state, revision, events } = await loadAggregate(
    eventStore,
    reservationStreamName(tenantId, reservationId),
    reservationDecider,
  );
  if (state.status === 'none' || revision === 'no_stream') {
    throw new NotFoundError('reservation-not-found', `Reservation ${reservationId} does not exist.`, { reservationId });
  }
  return { state, revision, events };
}

export async function listReservationNotifications(
  readModels: ReadModelStore,
  tenantId: string,
  reservationId: string,
): Promise<DeliveryDocument[]> {
  return readModels.find<DeliveryDocument & { _id: string }>(
    physicalCollection(deliveriesProjection),
    { tenantId, reservationId },
    { sort: { field: 'requestedAt', direction: 1 }, limit: 1000 },
  );
}
