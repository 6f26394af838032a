import {
  codeFromDigest,
  normalizeReservationCode,
  reservationCodeDecider,
  reservationCodeStreamName,
} from '../../domain/booking/reservation-code.js';
import { reservationDecider, reservationStreamName } from '../../domain/booking/reservation.decider.js';
import { IllegalStateError } from '../../domain/shared/errors.js';
import { handleCommand, loadAggregate, type CommandContext, type CommandHandlerDeps } from '../command-handler.js';
import type { EventStore } from '../ports/event-store.port.js';

/** Candidates tried before giving up: with a few thousand codes in use, the first one is taken once in 10^5. */
const MAX_CANDIDATES = 16;

/**
 * Claims the short code of a new reservation on its own stream (appended with `no_stream`) and returns it. The
 * candidates are derived from (tenant, reservation id, attempt), so a retried booking walks the same candidates and
 * finds its own claim again; a code another reservation holds moves on to the next candidate.
 */
export async function claimReservationCode(
  deps: CommandHandlerDeps & { readonly clock: { now(): Date } },
  context: CommandContext,
  reservationId: string,
): Promise<string> {
  for (let attempt = 0; attempt < MAX_CANDIDATES; attempt++) {
    const code = codeFromDigest(deps.ids.derive('reservation-code', context.tenantId, reservationId, String(attempt)));
    try {
      await handleCommand(
        deps,
        reservationCodeStreamName(context.tenantId, code),
        reservationCodeDecider,
        { type: 'ClaimReservationCode', data: { code, reservationId, now: deps.clock.now().toISOString() } },
        context,
      );
      return code;
    } catch (error) {
      if (error instanceof IllegalStateError && error.code === 'reservation-code-taken') continue;
      throw error;
    }
  }
  throw new Error(`no free reservation code after ${MAX_CANDIDATES} candidates`);
}

/**
 * The code a reservation about to be recorded carries: the one it already has when it exists (a retry), none when
 * it was recorded before codes existed, else a newly claimed one.
 */
export async function codeForReservation(
  deps: CommandHandlerDeps & { readonly clock: { now(): Date } },
  context: CommandContext,
  reservationId: string,
): Promise<string | undefined> {
  const { state } = await loadAggregate(
    deps.eventStore,
    reservationStreamName(context.tenantId, reservationId),
    reservationDecider,
  );
  if (state.status !== 'none') return state.reservation.code;
  return claimReservationCode(deps, context, reservationId);
}

/**
 * The reservation id a path or body names, by its id or its short code (any case, dashes and spaces ignored),
 * resolved through the event store. An id wins over a code: a reservation whose id looks like a code stays
 * reachable by it. Unknown values come back unchanged (the caller answers 404 for them as before).
 */
export async function resolveReservationRef(
  eventStore: EventStore,
  tenantId: string,
  idOrCode: string,
): Promise<string> {
  const code = normalizeReservationCode(idOrCode);
  if (code === null) return idOrCode;
  const byId = await eventStore.readStream(reservationStreamName(tenantId, idOrCode));
  if (byId.revision !== 'no_stream') return idOrCode;
  const { state } = await loadAggregate(eventStore, reservationCodeStreamName(tenantId, code), reservationCodeDecider);
  return state.status === 'claimed' ? state.reservationId : idOrCode;
}
