import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { recordExternalReservation } from '../../../application/reservations/reservation-commands.js';
import { getReservation, listReservationNotifications } from '../../../application/reservations/reservation-queries.js';
import { commandContext, requireRole } from '../auth.js';
import type { HttpDeps } from '../http-deps.js';
import { etagFor } from '../conditional.js';
import { asOfOf, asOfQuery, id, json, problems } from '../schemas/common.js';
import { isBooking, reservationPostSchema } from '../schemas/booking.js';
import { deliverySchema, reservationSchema } from '../schemas/reservations.js';
import { checkReservationBody, handleBookingPost, reservationView } from './booking.routes.js';

const params = z.object({ reservationId: id.describe('The reservation id, or its short code.') });

export function reservationRoutes(deps: HttpDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/reservations',
      {
        schema: {
          operationId: 'createReservation',
          tags: ['reservations'],
          summary:
            'Book a slot of a catalog service (with serviceId), or record a reservation finalized elsewhere (with serviceName and location); confirmations go out by email and SMS.',
          body: reservationPostSchema,
          response: {
            201: json(reservationSchema, 'Recorded (or booked).', { ETag: true, Location: true }),
            200: json(reservationSchema, 'Already recorded: the same reservationId or external reference.', {
              ETag: true,
              Location: true,
            }),
            ...problems(403, 404, 409),
          },
        },
        preValidation: checkReservationBody,
      },
      async (request, reply) => {
        if (isBooking(request.body)) return handleBookingPost(deps, request, reply, request.body);
        const principal = requireRole(request, 'admin', 'staff', 'integration');
        const { reservationId, result } = await recordExternalReservation(
          deps,
          commandContext(principal, request.id),
          request.body,
        );
        if (result.state.status === 'none' || result.revision === 'no_stream')
          throw new Error('reservation not recorded');
        return reply
          .code(result.newEvents.length > 0 ? 201 : 200)
          .header('location', `/v1/reservations/${reservationId}`)
          .header('etag', etagFor(result.revision))
          .send(reservationView(result.state, result.revision));
      },
    );

    app.get(
      '/reservations/:reservationId',
      {
        schema: {
          operationId: 'getReservation',
          tags: ['reservations'],
          summary: 'One reservation, now or as it was at a revision or an instant (asOf).',
          params,
          querystring: asOfQuery,
          response: { 200: json(reservationSchema, 'The reservation.', { ETag: true }), ...problems(403, 404) },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin', 'staff', 'integration');
        const { state, revision } = await getReservation(
          deps.eventStore,
          principal.tenantId,
          request.params.reservationId,
          asOfOf(request.query),
        );
        return reply.header('etag', etagFor(revision)).send(reservationView(state, revision));
      },
    );

    app.get(
      '/reservations/:reservationId/notifications',
      {
        schema: {
          operationId: 'listReservationNotifications',
          tags: ['notifications'],
          summary: 'Every delivery caused by this reservation, with its status history (the audit trail).',
          params,
          response: {
            200: json(z.object({ items: z.array(deliverySchema) }), 'The deliveries, oldest first.'),
            ...problems(403, 404),
          },
        },
      },
      async (request) => {
        const principal = requireRole(request, 'admin', 'staff', 'integration');
        await getReservation(deps.eventStore, principal.tenantId, request.params.reservationId);
        const items = await listReservationNotifications(
          deps.readModels,
          principal.tenantId,
          request.params.reservationId,
        );
        return { items };
      },
    );
  };
}
