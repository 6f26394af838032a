import {
  reservationDecider,
  reservationStreamName,
  type ReservationState,
} from '../../domain/booking/reservation.decider.js';
import { NotFoundError } from '../../domain/shared/errors.js';
import { describeAsOf, foldAsOf, type AsOf } from '../as-of.js';
import type { EventStore, RecordedEvent } from '../ports/event-store.port.js';
import type { ReadModelStore } from '../ports/read-model-store.port.js';
import { physicalCollection } from '../projections/projection.js';
import { deliveriesProjection, type DeliveryDocument } from '../projections/deliveries.projection.js';

export type ExistingReservation = Exclude<ReservationState, { status: 'none' }>;

/**
 * One reservation, read from its stream (never stale, and its revision is the ETag). Another tenant's reservation
 * does not exist for the caller: the tenant is part of the stream name. With `asOf`, the reservation as it was then,
 * folded from the events up to that point (404 when it did not exist yet).
 */
export async function getReservation(
  eventStore: EventStore,
  tenantId: string,
  reservationId: string,
  asOf?: AsOf,
): Promise<{ state: ExistingReservation; revision: bigint; events: RecordedEvent[] }> {
  const stream = await eventStore.readStream(reservationStreamName(tenantId, reservationId));
  const notFound = (detail?: string) =>
    new NotFoundError('reservation-not-found', `Reservation ${reservationId} does not exist.`, {
      reservationId,
      ...(detail ? { detail } : {}),
    });
  if (stream.revision === 'no_stream') throw notFound();
  const { state, revision, events } = foldAsOf(stream.events, reservationDecider, asOf);
  if (state.status === 'none' || revision === 'no_stream') {
    throw notFound(asOf ? `Reservation ${reservationId} did not exist yet at ${describeAsOf(asOf)}.` : undefined);
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
