import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { findAvailability } from '../../../application/booking/availability-query.js';
import { requireRole } from '../auth.js';
import type { HttpDeps } from '../http-deps.js';
import { availabilityQuerySchema, availabilitySchema } from '../schemas/booking.js';
import { json, problems } from '../schemas/common.js';

/** Bookable slots from the read models; the seats are checked again, by the aggregate, when booking. */
export function availabilityRoutes(deps: HttpDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/availability',
      {
        schema: {
          operationId: 'getAvailability',
          tags: ['booking'],
          summary: 'Bookable slots of a service with their remaining seats, in the location’s time zone.',
          querystring: availabilityQuerySchema,
          response: { 200: json(availabilitySchema, 'The slots, earliest first.'), ...problems(403, 404) },
        },
      },
      async (request) => {
        const principal = requireRole(request, 'admin', 'staff', 'integration');
        const { serviceId, from, to, resourceId, locationId, partySize, includeFull } = request.query;
        return findAvailability(deps, principal.tenantId, {
          serviceId,
          from,
          to,
          includeFull,
          ...(resourceId !== undefined ? { resourceId } : {}),
          ...(locationId !== undefined ? { locationId } : {}),
          ...(partySize !== undefined ? { partySize } : {}),
        });
      },
    );
  };
}
