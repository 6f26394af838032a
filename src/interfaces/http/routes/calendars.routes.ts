import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  calendarView,
  changeResourceCalendar,
  getResourceCalendar,
  linkResourceCalendar,
  listResourceCalendars,
  syncResourceCalendarNow,
  unlinkResourceCalendar,
  type CalendarLinkView,
  type ResourceCalendarDeps,
} from '../../../application/calendars/resource-calendars.js';
import { NotFoundError } from '../../../domain/shared/errors.js';
import { commandContext, requireRole } from '../auth.js';
import { etagFor, writeOptionsFrom } from '../conditional.js';
import type { HttpDeps } from '../http-deps.js';
import {
  calendarChangeSchema,
  calendarLinkInputSchema,
  calendarLinkSchema,
  calendarParams,
  calendarSyncResultSchema,
  resourceCalendarsParams,
} from '../schemas/calendars.js';
import { empty, ifMatchHeaders, json, problems } from '../schemas/common.js';

const view = (link: CalendarLinkView) => link as z.infer<typeof calendarLinkSchema>;

/**
 * Provider calendars (issue 12): a resource's links to external calendars whose busy times block its availability.
 * Secrets (a feed's secret address, a token) go in once and never come out: answers show a hint.
 */
export function calendarRoutes(deps: HttpDeps): FastifyPluginAsyncZod {
  const calendars = (): ResourceCalendarDeps => {
    if (!deps.calendars) throw new NotFoundError('not-found', 'Provider calendars are not available here.', {});
    return deps.calendars;
  };
  return async (app) => {
    app.get(
      '/resources/:resourceId/calendars',
      {
        schema: {
          operationId: 'listResourceCalendars',
          tags: ['calendars'],
          summary: 'The external calendars linked to a resource, with their last successful sync.',
          params: resourceCalendarsParams,
          response: {
            200: json(z.object({ items: z.array(calendarLinkSchema) }), 'The linked calendars.'),
            ...problems(403, 404),
          },
        },
      },
      async (request) => {
        const principal = requireRole(request, 'admin', 'staff');
        const items = await listResourceCalendars(calendars(), principal.tenantId, request.params.resourceId);
        return { items: items.map(view) };
      },
    );

    app.post(
      '/resources/:resourceId/calendars',
      {
        schema: {
          operationId: 'linkResourceCalendar',
          tags: ['calendars'],
          summary:
            'Link an external calendar (an iCal feed; Google or Microsoft where enabled): its busy times block the ' +
            'resource’s slots. The first sync runs at once; then every syncIntervalMinutes.',
          params: resourceCalendarsParams,
          body: calendarLinkInputSchema,
          response: {
            201: json(calendarLinkSchema, 'Linked.', { ETag: true, Location: true }),
            ...problems(403, 404, 409),
          },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin');
        const { resourceId } = request.params;
        const { state, revision } = await linkResourceCalendar(
          calendars(),
          commandContext(principal, request.id),
          resourceId,
          request.body,
        );
        return reply
          .code(201)
          .header('etag', etagFor(revision))
          .header('location', `/v1/resources/${resourceId}/calendars/${state.link.calendarId}`)
          .send(view(calendarView(state, revision)));
      },
    );

    app.get(
      '/resources/:resourceId/calendars/:calendarId',
      {
        schema: {
          operationId: 'getResourceCalendar',
          tags: ['calendars'],
          summary: 'One calendar link: its last successful sync, the error since (if any), the next sync.',
          params: calendarParams,
          response: { 200: json(calendarLinkSchema, 'The link.', { ETag: true }), ...problems(403, 404) },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin', 'staff');
        const link = await getResourceCalendar(
          { eventStore: calendars().eventStore, jobs: calendars().scheduler },
          principal.tenantId,
          request.params.resourceId,
          request.params.calendarId,
        );
        return reply.header('etag', etagFor(BigInt(link.revision))).send(view(link));
      },
    );

    app.patch(
      '/resources/:resourceId/calendars/:calendarId',
      {
        schema: {
          operationId: 'changeResourceCalendar',
          tags: ['calendars'],
          summary: 'Rename a link, change its sync interval, or replace its secret (a new feed address or token).',
          params: calendarParams,
          headers: ifMatchHeaders,
          body: calendarChangeSchema,
          response: {
            200: json(calendarLinkSchema, 'The link now.', { ETag: true }),
            ...problems(403, 404, 409, 412),
          },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin');
        const link = await changeResourceCalendar(
          calendars(),
          commandContext(principal, request.id),
          request.params.resourceId,
          request.params.calendarId,
          request.body,
          writeOptionsFrom(request),
        );
        return reply.header('etag', etagFor(BigInt(link.revision))).send(view(link));
      },
    );

    app.delete(
      '/resources/:resourceId/calendars/:calendarId',
      {
        schema: {
          operationId: 'unlinkResourceCalendar',
          tags: ['calendars'],
          summary: 'Unlink a calendar: its busy times stop blocking the resource and its syncs stop.',
          params: calendarParams,
          headers: ifMatchHeaders,
          response: { 204: empty('Unlinked.'), ...problems(403, 404, 412) },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin');
        await unlinkResourceCalendar(
          calendars(),
          commandContext(principal, request.id),
          request.params.resourceId,
          request.params.calendarId,
          writeOptionsFrom(request),
        );
        return reply.code(204).send();
      },
    );

    app.post(
      '/resources/:resourceId/calendars/:calendarId/sync',
      {
        schema: {
          operationId: 'syncResourceCalendar',
          tags: ['calendars'],
          summary:
            'Sync now. The outcome is recorded either way (a failure keeps the last good busy times). 409 ' +
            '`calendar-sync-deferred` while the provider’s Retry-After is in force.',
          params: calendarParams,
          response: {
            200: json(calendarSyncResultSchema, 'The link after the sync.', { ETag: true }),
            ...problems(403, 404, 409),
          },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin', 'staff');
        const result = await syncResourceCalendarNow(
          calendars(),
          commandContext(principal, request.id),
          request.params.resourceId,
          request.params.calendarId,
        );
        return reply
          .header('etag', etagFor(BigInt(result.revision)))
          .send(result as z.infer<typeof calendarSyncResultSchema>);
      },
    );
  };
}
