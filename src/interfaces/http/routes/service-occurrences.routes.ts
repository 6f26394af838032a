import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  getOccurrenceTexts,
  setOccurrenceTexts,
  type OccurrenceView,
} from '../../../application/catalog/service-occurrences.js';
import { commandContext, requireRole } from '../auth.js';
import type { HttpDeps } from '../http-deps.js';
import { etagFor, expectedRevisionFrom } from '../conditional.js';
import { id, ifMatchHeaders, instant, json, multiline, problems } from '../schemas/common.js';

const params = z.object({
  serviceId: id,
  start: instant.describe('The slot: its start instant, e.g. 2030-12-01T17:00:00Z (URL-encoded).'),
});

const occurrenceSchema = z
  .object({
    serviceId: z.string(),
    start: z.string(),
    description: z.string().optional(),
    afterPaymentText: z.string().optional(),
  })
  .meta({ id: 'ServiceOccurrence' });

const view = (occurrence: OccurrenceView): z.infer<typeof occurrenceSchema> => ({
  serviceId: occurrence.serviceId,
  start: occurrence.start,
  ...(occurrence.description ? { description: occurrence.description } : {}),
  ...(occurrence.afterPaymentText ? { afterPaymentText: occurrence.afterPaymentText } : {}),
});

/** Texts of one occurrence of a service (one slot/date), besides the service's own (seed 001, issue 9 item 8). */
export function serviceOccurrenceRoutes(deps: HttpDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/services/:serviceId/occurrences/:start',
      {
        schema: {
          operationId: 'getServiceOccurrence',
          tags: ['catalog'],
          summary: 'The texts of one occurrence (slot) of a service; none set reads as none.',
          params,
          response: {
            200: json(occurrenceSchema, 'The texts of this occurrence.', { ETag: true }),
            ...problems(400, 401, 403, 404),
          },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin', 'staff', 'integration');
        const occurrence = await getOccurrenceTexts(
          deps.eventStore,
          principal.tenantId,
          request.params.serviceId,
          request.params.start,
        );
        return reply.header('etag', etagFor(occurrence.revision)).send(view(occurrence));
      },
    );

    app.put(
      '/services/:serviceId/occurrences/:start',
      {
        schema: {
          operationId: 'setServiceOccurrence',
          tags: ['catalog'],
          summary: "Set the texts of one occurrence: shown after the service's own in that slot's messages.",
          description:
            '`afterPaymentText` goes into the confirmation (once paid) and the payment receipt of reservations in this ' +
            'slot, after the service’s after-payment text; `description` into the emails about the booking, after the ' +
            "service's description. Both empty removes them. If-Match: the service's ETag.",
          params,
          headers: ifMatchHeaders,
          body: z.strictObject({
            description: multiline(4000).optional(),
            afterPaymentText: multiline(2000).optional(),
          }),
          response: {
            200: json(occurrenceSchema, 'The texts of this occurrence now.', { ETag: true }),
            ...problems(400, 401, 403, 404, 409, 412, 415),
          },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin');
        const occurrence = await setOccurrenceTexts(
          deps,
          commandContext(principal, request.id),
          request.params.serviceId,
          request.params.start,
          request.body,
          expectedRevisionFrom(request),
        );
        return reply.header('etag', etagFor(occurrence.revision)).send(view(occurrence));
      },
    );
  };
}
