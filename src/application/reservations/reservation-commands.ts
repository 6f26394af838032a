import {
  reservationDecider,
  reservationStreamName,
  type Customer,
  type LocationSnapshot,
  type ReservationCommand,
  type ReservationState,
} from '../../domain/booking/reservation.decider.js';
import { handleCommand, type CommandContext, type CommandHandlerDeps, type HandleResult } from '../command-handler.js';
import type { Clock } from '../ports/clock.port.js';
import { codeForReservation } from '../booking/reservation-codes.js';

export interface ExternalReservationInput {
  readonly reservationId?: string;
  readonly customer: Customer;
  readonly serviceName: string;
  readonly location: LocationSnapshot;
  readonly start: string;
  readonly end: string;
  readonly partySize?: number;
  readonly external?: { readonly system: string; readonly reference: string };
}

export interface ReservationCommandsDeps extends CommandHandlerDeps {
  readonly clock: Clock;
}

/**
 * Records a reservation another system has already finalized: Herald's job is then to tell everyone about it.
 * The reservation id is derived from the external reference when there is one, so reporting it twice is harmless.
 */
export async function recordExternalReservation(
  deps: ReservationCommandsDeps,
  context: CommandContext,
  input: ExternalReservationInput,
): Promise<{ reservationId: string; result: HandleResult<ReservationState> }> {
  const reservationId =
    input.reservationId ??
    (input.external
      ? deps.ids.derive('external-reservation', context.tenantId, input.external.system, input.external.reference)
      : deps.ids.newId());
  const code = await codeForReservation(deps, context, reservationId);
  const command: ReservationCommand = {
    type: 'RecordExternalReservation',
    data: {
      reservationId,
      tenantId: context.tenantId,
      customer: input.customer,
      serviceName: input.serviceName,
      location: input.location,
      start: input.start,
      end: input.end,
      ...(input.partySize !== undefined ? { partySize: input.partySize } : {}),
      external: input.external ?? { system: 'api', reference: reservationId },
      ...(code ? { code } : {}),
      now: deps.clock.now().toISOString(),
      actor: context.actor,
    },
  };
  const result = await handleCommand(
    deps,
    reservationStreamName(context.tenantId, reservationId),
    reservationDecider,
    command,
    context,
  );
  return { reservationId, result };
}
