import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  bookReservation,
  cancelReservation,
  completeReservation,
  confirmReservation,
  declineReservation,
  deleteReservation,
  markNotTaken,
  recordPayment,
  rescheduleReservation,
  type BookingDeps,
  type WriteOptions,
} from '../../../application/booking/booking-commands.js';
import { getReservationHistory, listReservations } from '../../../application/booking/reservation-search.js';
import { createSeatReconciler } from '../../../application/booking/seat-keeper.js';
import type { ReleasedSeats } from '../../../application/booking/seat-holds.js';
import { getReservation } from '../../../application/reservations/reservation-queries.js';
import {
  allocateWaitlist,
  allocationsCausedBy,
  loadWaitlistSettings,
  previewFreeing,
  WAITLIST_ACTOR,
  waitlistIdFor,
  waitlistPriority,
  type FreeingPreview,
} from '../../../application/waitlist/waitlist-commands.js';
import { outcomeView, previewSchema, type allocationOutcomeSchema } from '../schemas/waitlist.js';
import type { CommandContext, HandleResult } from '../../../application/command-handler.js';
import type { ReservationState } from '../../../domain/booking/reservation.decider.js';
import { IllegalStateError, NotFoundError } from '../../../domain/shared/errors.js';
import { policyFor } from '../../../domain/waitlist/waitlist-settings.js';
import { commandContext, requireRole } from '../auth.js';
import type { HttpDeps } from '../http-deps.js';
import { etagFor, writeOptionsFrom } from '../conditional.js';
import { HttpProblem, problem } from '../problem.js';
import {
  bookReservationSchema,
  cancelSchema,
  freeingSchema,
  historySchema,
  isBooking,
  paymentSchema,
  rescheduleSchema,
  reservationListQuery,
  reservationPageSchema,
} from '../schemas/booking.js';
import { asOfOf, asOfQuery, id, ifMatchHeaders, json, problems } from '../schemas/common.js';
import { createReservationSchema, freedReservationSchema, reservationSchema } from '../schemas/reservations.js';

const DEFAULT_HOLD_MINUTES = 10;
const bookingDepsCache = new WeakMap<HttpDeps, BookingDeps>();

/** What the booking use cases need, built once per app from the HTTP deps. */
export function bookingDepsFrom(deps: HttpDeps): BookingDeps {
  let booking = bookingDepsCache.get(deps);
  if (!booking) {
    const base = { eventStore: deps.eventStore, ids: deps.ids, clock: deps.clock };
    booking = {
      ...base,
      holdMinutes: deps.reservationHoldMinutes ?? DEFAULT_HOLD_MINUTES,
      seatKeeper: { reconcile: createSeatReconciler(base) },
      waitlistGate: (tenantId, catalog, start, resourceIds) =>
        waitlistPriority(deps.waitlist, tenantId, catalog, start, resourceIds),
    };
    bookingDepsCache.set(deps, booking);
  }
  return booking;
}

type ReservationView = z.infer<typeof reservationSchema>;

export function reservationView(state: ReservationState, revision: bigint | 'no_stream'): ReservationView {
  if (state.status === 'none' || revision === 'no_stream') throw new Error('reservation has no state');
  const r = state.reservation;
  return {
    reservationId: r.reservationId,
    ...(r.code ? { code: r.code } : {}),
    status: state.status,
    source: r.source,
    customer: r.customer,
    serviceId: r.serviceId,
    serviceName: r.serviceName,
    resourceId: r.resourceId,
    locationId: r.locationId,
    location: r.location,
    start: r.start,
    end: r.end,
    partySize: r.partySize,
    payments: [...state.payments],
    revision: Number(revision),
    ...(state.status === 'requested' ? { holdExpiresAt: state.holdExpiresAt } : {}),
    ...(r.origin ? { origin: { ...r.origin } } : {}),
  };
}

function sendReservation(
  reply: FastifyReply,
  result: HandleResult<ReservationState>,
  status = 200,
  extra: Record<string, unknown> = {},
) {
  if (result.revision === 'no_stream') throw new Error('reservation has no revision');
  return reply
    .code(status)
    .header('etag', etagFor(result.revision))
    .send({ ...reservationView(result.state, result.revision), ...extra });
}

/**
 * preValidation of POST /v1/reservations: the body is one of two shapes (`serviceId` tells them apart); validating
 * it against the right one gives errors that name the field instead of "matches no shape".
 */
export async function checkReservationBody(request: FastifyRequest): Promise<void> {
  const schema = isBooking(request.body) ? bookReservationSchema : createReservationSchema;
  const parsed = schema.safeParse(request.body);
  if (parsed.success) return;
  const errors = parsed.error.issues.map((issue) => ({
    field: ['body', ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  throw new HttpProblem(
    problem(400, 'validation-failed', 'The request is not valid.', {
      detail: errors.map((error) => `${error.field}: ${error.message}`).join('; '),
      errors,
    }),
  );
}

/**
 * POST /v1/reservations with `serviceId`: book a slot of the catalog. 201 requested (or confirmed when the service
 * needs no confirmation); 400 `slot-not-bookable` naming the rule; 409 `slot-full` / `resource-busy` with
 * `remainingSeats` and a `waitlist` hint.
 */
export async function handleBookingPost(
  deps: HttpDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  body: z.infer<typeof bookReservationSchema>,
): Promise<FastifyReply> {
  const principal = requireRole(request, 'admin', 'staff', 'integration');
  if (body.bypassWaitlist) requireRole(request, 'admin', 'staff');
  try {
    const { reservationId, result } = await bookReservation(
      bookingDepsFrom(deps),
      commandContext(principal, request.id),
      body,
    );
    reply.header('location', `/v1/reservations/${reservationId}`);
    return sendReservation(reply, result, result.newEvents.length > 0 ? 201 : 200);
  } catch (error) {
    if (
      error instanceof IllegalStateError &&
      (error.code === 'slot-full' || error.code === 'resource-busy' || error.code === 'slot-reserved-for-waitlist')
    ) {
      const { settings } = await loadWaitlistSettings(deps.eventStore, principal.tenantId);
      if (!policyFor(settings, body.serviceId).enabled) throw error;
      throw new IllegalStateError(error.code, error.message, {
        ...error.details,
        // For the waitlist: where to ask to be told when a seat frees up, and what to send.
        waitlist: {
          href: '/v1/waitlists/entries',
          method: 'POST',
          body: {
            serviceId: body.serviceId,
            start: body.start,
            partySize: body.partySize ?? 1,
            ...(body.resourceId ? { resourceId: body.resourceId } : {}),
            customer: body.customer,
          },
        },
      });
    }
    throw error;
  }
}

const params = z.object({ reservationId: id.describe('The reservation id, or its short code.') });
const transitionResponses = {
  200: json(reservationSchema, 'The reservation as it is now.', { ETag: true }),
  ...problems(403, 404, 409, 412),
};
const freeingResponses = {
  200: json(freedReservationSchema, 'The reservation as it is now, and who on the waitlist got its seats.', {
    ETag: true,
  }),
  ...problems(403, 404, 409, 412),
};

/**
 * Seats a staff transition gave back go to the slot's waitlist at once, so the answer can say who was offered (or
 * given) them. The waitlist manager does the same from the release event: whichever runs first allocates, the other
 * finds the seats taken.
 */
async function allocateFreed(
  deps: HttpDeps,
  tenantId: string,
  correlationId: string,
  released: readonly ReleasedSeats[],
): Promise<z.infer<typeof allocationOutcomeSchema>[]> {
  const outcomes: z.infer<typeof allocationOutcomeSchema>[] = [];
  for (const seats of released) {
    if (seats.bypassWaitlist || !seats.serviceId) continue;
    const waitlistId = waitlistIdFor(deps.ids, tenantId, seats.serviceId, seats.slotStart);
    try {
      const outcome = await allocateWaitlist(
        deps.waitlist,
        { tenantId, actor: WAITLIST_ACTOR, causationId: seats.eventId, correlationId },
        waitlistId,
        {
          cause: {
            eventId: seats.eventId,
            reason: seats.reason,
            reservationId: seats.reservationId,
            resourceId: seats.resourceId,
            seats: seats.seats,
            freedAt: deps.clock.now().toISOString(),
          },
        },
      );
      if (outcome.skipped === 'no-waitlist') continue;
      // The waitlist manager may have allocated from the release first: report what the release led to.
      const allocated =
        outcome.allocated.length > 0
          ? outcome.allocated
          : await allocationsCausedBy(deps.waitlist, tenantId, waitlistId, seats.eventId);
      outcomes.push(outcomeView({ ...outcome, allocated, ...(allocated.length > 0 ? { skipped: undefined } : {}) }));
    } catch (error) {
      deps.waitlist.logger?.warn(
        { tenantId, waitlistId, err: error instanceof Error ? error.message : String(error) },
        'inline waitlist allocation failed; the waitlist manager allocates from the release',
      );
    }
  }
  return outcomes;
}
const allRoles = ['admin', 'staff', 'integration'] as const;

type Transition<Body> = (
  context: CommandContext,
  reservationId: string,
  body: Body,
  options: WriteOptions,
) => Promise<HandleResult<ReservationState> & { readonly released?: readonly ReleasedSeats[] }>;

/** The reservation lifecycle, the reservation list and the audit history. */
export function bookingRoutes(deps: HttpDeps): FastifyPluginAsyncZod {
  const booking = bookingDepsFrom(deps);
  return async (app) => {
    /**
     * POST /reservations/:reservationId/<action>: one lifecycle command, refused by a stale If-Match (412); the
     * reservation as it is afterwards is the answer.
     */
    const transitionRoute = <Body = undefined>(
      action: string,
      operationId: string,
      summary: string,
      body: z.ZodType<Body> | undefined,
      run: Transition<Body>,
      freesSeats = false,
    ) =>
      app.post(
        `/reservations/:reservationId/${action}`,
        {
          schema: {
            operationId,
            tags: ['reservations'],
            summary,
            params,
            headers: ifMatchHeaders,
            ...(body ? { body } : {}),
            response: freesSeats ? freeingResponses : transitionResponses,
          },
        },
        async (request, reply) => {
          const principal = requireRole(request, ...allRoles);
          if ((request.body as { bypassWaitlist?: boolean } | undefined)?.bypassWaitlist) requireRole(request, 'admin');
          const result = await run(
            commandContext(principal, request.id),
            request.params.reservationId,
            // What the body schema has validated: fastify cannot type it through the generic.
            request.body as Body,
            writeOptionsFrom(request),
          );
          if (!freesSeats) return sendReservation(reply, result);
          const waitlist = await allocateFreed(deps, principal.tenantId, request.id, result.released ?? []);
          return sendReservation(reply, result, 200, { waitlist });
        },
      );

    app.get(
      '/reservations',
      {
        schema: {
          operationId: 'listReservations',
          tags: ['reservations'],
          summary: 'Reservations by status, start range, customer, service, resource and location; cursor pages.',
          querystring: reservationListQuery,
          response: { 200: json(reservationPageSchema, 'One page of reservations.'), ...problems(403) },
        },
      },
      async (request) => {
        const principal = requireRole(request, ...allRoles);
        const { cursor, limit, status, ...filter } = request.query;
        const page = await listReservations(
          deps.readModels,
          principal.tenantId,
          {
            ...filter,
            ...(status
              ? {
                  status: status
                    .split(',')
                    .map((value) => value.trim())
                    .filter(Boolean),
                }
              : {}),
          },
          { ...(cursor ? { cursor } : {}), ...(limit ? { limit } : {}) },
        );
        return page as unknown as z.infer<typeof reservationPageSchema>;
      },
    );

    app.get(
      '/reservations/:reservationId/history',
      {
        schema: {
          operationId: 'getReservationHistory',
          tags: ['reservations'],
          summary:
            'Every event of the reservation, oldest first, with who did it and what caused it (up to asOf, when given).',
          params,
          querystring: asOfQuery,
          response: { 200: json(historySchema, 'The history.', { ETag: true }), ...problems(403, 404) },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, ...allRoles);
        const { revision, events } = await getReservationHistory(
          deps.eventStore,
          principal.tenantId,
          request.params.reservationId,
          asOfOf(request.query),
        );
        return reply
          .header('etag', etagFor(revision))
          .send({ reservationId: request.params.reservationId, revision: Number(revision), events });
      },
    );

    transitionRoute(
      'confirm',
      'confirmReservation',
      'Confirm a requested reservation (its seats become final).',
      undefined,
      (context, reservationId, _body, options) => confirmReservation(booking, context, reservationId, options),
    );
    transitionRoute(
      'cancel',
      'cancelReservation',
      'Cancel (by customer or staff); the seats are freed and go to the waitlist (the answer says to whom).',
      cancelSchema,
      (context, reservationId, body, options) => cancelReservation(booking, context, reservationId, body, options),
      true,
    );
    transitionRoute(
      'decline',
      'declineReservation',
      'Decline a requested reservation (staff); the seats are freed and go to the waitlist.',
      freeingSchema.nullish(),
      (context, reservationId, body, options) =>
        declineReservation(booking, context, reservationId, body ?? {}, options),
      true,
    );
    transitionRoute(
      'no-show',
      'markReservationNoShow',
      'Mark a confirmed reservation as not taken (no-show); the seat is freed and goes to the waitlist.',
      freeingSchema.nullish(),
      (context, reservationId, body, options) => markNotTaken(booking, context, reservationId, body ?? {}, options),
      true,
    );
    transitionRoute(
      'complete',
      'completeReservation',
      'Mark a confirmed reservation that has started as completed.',
      undefined,
      (context, reservationId, _body, options) => completeReservation(booking, context, reservationId, options),
    );
    transitionRoute(
      'reschedule',
      'rescheduleReservation',
      'Move to another slot: the new seat is taken before the old one is freed.',
      rescheduleSchema,
      (context, reservationId, { start, resourceId, reason }, options) =>
        rescheduleReservation(
          booking,
          context,
          reservationId,
          { start, ...(resourceId ? { resourceId } : {}), ...(reason ? { reason } : {}) },
          options,
        ),
    );
    transitionRoute(
      'payments',
      'recordReservationPayment',
      'Record a payment (the provider’s id makes a repeat harmless).',
      paymentSchema,
      (context, reservationId, payment, options) => recordPayment(booking, context, reservationId, payment, options),
    );

    app.delete(
      '/reservations/:reservationId',
      {
        schema: {
          operationId: 'deleteReservation',
          tags: ['reservations'],
          summary: 'Delete a reservation (it stays in the history); its seats are freed.',
          params,
          headers: ifMatchHeaders,
          querystring: z.strictObject({
            reason: z.string().max(1000).optional(),
            bypassWaitlist: z
              .enum(['true', 'false'])
              .optional()
              .describe('Admin only: free the seats without handing them to the waitlist.'),
          }),
          response: freeingResponses,
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, ...allRoles);
        const bypassWaitlist = request.query.bypassWaitlist === 'true';
        if (bypassWaitlist) requireRole(request, 'admin');
        const result = await deleteReservation(
          booking,
          commandContext(principal, request.id),
          request.params.reservationId,
          { ...(request.query.reason !== undefined ? { reason: request.query.reason } : {}), bypassWaitlist },
          writeOptionsFrom(request),
        );
        const waitlist = await allocateFreed(deps, principal.tenantId, request.id, result.released);
        return sendReservation(reply, result, 200, { waitlist });
      },
    );

    app.get(
      '/reservations/:reservationId/waitlist-preview',
      {
        schema: {
          operationId: 'previewReservationFreeing',
          tags: ['waitlists'],
          summary: 'Before freeing a seat: who on the waitlist would get it (a dry run, nothing changes).',
          description:
            'The warning of seed 004: when staff free a seat, the next customer on the waiting list automatically ' +
            'receives the offer. 404 for a reservation that holds no seats of the catalog (external).',
          params,
          response: {
            200: json(previewSchema, 'Who would get the seats, and the warning to show.'),
            ...problems(403, 404),
          },
        },
      },
      async (request) => {
        const principal = requireRole(request, 'admin', 'staff');
        const { state } = await getReservation(deps.eventStore, principal.tenantId, request.params.reservationId);
        const preview = await previewFreeing(deps.waitlist, principal.tenantId, state);
        if (!preview) {
          throw new NotFoundError(
            'no-waitlist',
            'This reservation holds no seats of the catalog: no waitlist applies.',
            {
              reservationId: request.params.reservationId,
            },
          );
        }
        return { ...preview, next: preview.next.map((n) => ({ ...n })), warning: previewWarning(preview) };
      },
    );
  };
}

/** The warning staff see before freeing a seat (seed 004), in plain words. */
function previewWarning(preview: FreeingPreview): string {
  if (!preview.enabled) return 'The waitlist is switched off: the seat goes back to public availability.';
  const [first] = preview.next;
  if (!first) {
    return preview.waiting > 0
      ? 'Nobody waiting can take this seat (party size, resource or cut-off): it goes back to public availability.'
      : 'Nobody is waiting: the seat goes back to public availability.';
  }
  const minutes = Math.round(preview.responseWindowSeconds / 60);
  const others = preview.next.length > 1 ? ` (and ${preview.next.length - 1} more for the other freed seats)` : '';
  return preview.mode === 'assign'
    ? `${first.customerName}, number ${first.position} on the waitlist, will automatically get this seat${others}.`
    : `${first.customerName}, number ${first.position} on the waitlist, will automatically be offered this seat for ${minutes} minutes${others}.`;
}
