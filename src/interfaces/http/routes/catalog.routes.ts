import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  archiveLocation,
  archiveResource,
  archiveService,
  changeResourceSchedule,
  createLocation,
  createResource,
  createService,
  updateLocation,
  updateResource,
  updateService,
} from '../../../application/catalog/catalog-commands.js';
import { getLocation, getResource, getService, listCatalog } from '../../../application/catalog/catalog-queries.js';
import type { HandleResult } from '../../../application/command-handler.js';
import type { LocationState } from '../../../domain/catalog/location.decider.js';
import type { ResourceState } from '../../../domain/catalog/resource.decider.js';
import type { ServiceState } from '../../../domain/catalog/service.decider.js';
import { requireRole } from '../auth.js';
import type { HttpDeps } from '../http-deps.js';
import { etagFor, expectedRevisionFrom } from '../idempotency.js';
import {
  archiveQuery,
  catalogListQuery,
  createLocationSchema,
  createResourceSchema,
  createServiceSchema,
  locationViewSchema,
  resourceViewSchema,
  scheduleSchema,
  serviceViewSchema,
  updateLocationSchema,
  updateResourceSchema,
  updateServiceSchema,
} from '../schemas/catalog.js';
import { id, problems } from '../schemas/common.js';
import { commandContext } from './reservations.routes.js';

type Existing<S> = Exclude<S, { status: 'none' }>;

function locationView(state: Existing<LocationState>, revision: bigint): z.infer<typeof locationViewSchema> {
  return { ...state.location, status: state.status, revision: Number(revision) };
}
function resourceView(state: Existing<ResourceState>, revision: bigint): z.infer<typeof resourceViewSchema> {
  // Readonly domain arrays into the view's mutable ones: a plain JSON copy.
  return JSON.parse(JSON.stringify({ ...state.resource, status: state.status, revision: Number(revision) })) as z.infer<
    typeof resourceViewSchema
  >;
}
function serviceView(state: Existing<ServiceState>, revision: bigint): z.infer<typeof serviceViewSchema> {
  const { resourceIds, ...service } = state.service;
  return { ...service, resourceIds: [...resourceIds], status: state.status, revision: Number(revision) };
}

/** The state and revision after a write, or a 500 when the write left nothing behind (a bug, never a client error). */
function written<S extends { status: string }>(result: HandleResult<S>): { state: Existing<S>; revision: bigint } {
  if (result.state.status === 'none' || result.revision === 'no_stream') throw new Error('catalog write left no state');
  return { state: result.state as Existing<S>, revision: result.revision };
}

function sendWritten<V>(reply: FastifyReply, status: number, revision: bigint, view: V, location?: string) {
  if (location) reply.header('location', location);
  return reply.code(status).header('etag', etagFor(revision)).send(view);
}

const readers = ['admin', 'staff', 'integration'] as const;
const ifMatch = z.object({ 'if-match': z.string().optional() }).loose();

/** Locations, resources and services: admins write, every role reads. Each change is one event on its stream. */
export function catalogRoutes(deps: HttpDeps): FastifyPluginAsyncZod {
  return async (app) => {
    // Locations ------------------------------------------------------------------------------------------------------
    app.post(
      '/locations',
      {
        schema: {
          tags: ['catalog'],
          summary: 'Create a location (address and IANA time zone).',
          body: createLocationSchema,
          response: { 201: locationViewSchema, 200: locationViewSchema, ...problems(400, 401, 403, 409, 422) },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin');
        const { id: locationId, result } = await createLocation(
          deps,
          commandContext(principal, request.id),
          request.body,
        );
        const { state, revision } = written(result);
        return sendWritten(
          reply,
          result.newEvents.length > 0 ? 201 : 200,
          revision,
          locationView(state, revision),
          `/v1/locations/${locationId}`,
        );
      },
    );
    app.get(
      '/locations',
      {
        schema: {
          tags: ['catalog'],
          querystring: catalogListQuery.omit({ locationId: true }),
          response: { 200: z.object({ items: z.array(locationViewSchema) }), ...problems(400, 401, 403) },
        },
      },
      async (request) => {
        const principal = requireRole(request, ...readers);
        const items = await listCatalog(deps.readModels, principal.tenantId, 'location', {
          includeArchived: request.query.includeArchived,
        });
        return { items: items as unknown as z.infer<typeof locationViewSchema>[] };
      },
    );
    const locationParams = z.object({ locationId: id });
    app.get(
      '/locations/:locationId',
      {
        schema: {
          tags: ['catalog'],
          params: locationParams,
          response: { 200: locationViewSchema, ...problems(400, 401, 403, 404) },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, ...readers);
        const { state, revision } = await getLocation(deps.eventStore, principal.tenantId, request.params.locationId);
        return reply.header('etag', etagFor(revision)).send(locationView(state, revision));
      },
    );
    app.patch(
      '/locations/:locationId',
      {
        schema: {
          tags: ['catalog'],
          summary: 'Change name, address or time zone. If-Match: a stale revision is 412.',
          params: locationParams,
          headers: ifMatch,
          body: updateLocationSchema,
          response: { 200: locationViewSchema, ...problems(400, 401, 403, 404, 409, 412) },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin');
        const expectedRevision = expectedRevisionFrom(request);
        const result = await updateLocation(
          deps,
          commandContext(principal, request.id),
          request.params.locationId,
          request.body,
          expectedRevision !== undefined ? { expectedRevision } : {},
        );
        const { state, revision } = written(result);
        return sendWritten(reply, 200, revision, locationView(state, revision));
      },
    );
    app.delete(
      '/locations/:locationId',
      {
        schema: {
          tags: ['catalog'],
          summary: 'Archive a location (its history stays).',
          params: locationParams,
          querystring: archiveQuery,
          headers: ifMatch,
          response: { 200: locationViewSchema, ...problems(400, 401, 403, 404, 412) },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin');
        const expectedRevision = expectedRevisionFrom(request);
        const result = await archiveLocation(
          deps,
          commandContext(principal, request.id),
          request.params.locationId,
          request.query.reason,
          expectedRevision !== undefined ? { expectedRevision } : {},
        );
        const { state, revision } = written(result);
        return sendWritten(reply, 200, revision, locationView(state, revision));
      },
    );

    // Resources ------------------------------------------------------------------------------------------------------
    app.post(
      '/resources',
      {
        schema: {
          tags: ['catalog'],
          summary: 'Create a resource (a stylist, a lane, a room) with weekly hours, exceptions and a staff contact.',
          body: createResourceSchema,
          response: { 201: resourceViewSchema, 200: resourceViewSchema, ...problems(400, 401, 403, 409, 422) },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin');
        const { id: resourceId, result } = await createResource(
          deps,
          commandContext(principal, request.id),
          request.body,
        );
        const { state, revision } = written(result);
        return sendWritten(
          reply,
          result.newEvents.length > 0 ? 201 : 200,
          revision,
          resourceView(state, revision),
          `/v1/resources/${resourceId}`,
        );
      },
    );
    app.get(
      '/resources',
      {
        schema: {
          tags: ['catalog'],
          querystring: catalogListQuery,
          response: { 200: z.object({ items: z.array(resourceViewSchema) }), ...problems(400, 401, 403) },
        },
      },
      async (request) => {
        const principal = requireRole(request, ...readers);
        const items = await listCatalog(deps.readModels, principal.tenantId, 'resource', {
          ...(request.query.locationId ? { locationId: request.query.locationId } : {}),
          includeArchived: request.query.includeArchived,
        });
        return { items: items as unknown as z.infer<typeof resourceViewSchema>[] };
      },
    );
    const resourceParams = z.object({ resourceId: id });
    app.get(
      '/resources/:resourceId',
      {
        schema: {
          tags: ['catalog'],
          params: resourceParams,
          response: { 200: resourceViewSchema, ...problems(400, 401, 403, 404) },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, ...readers);
        const { state, revision } = await getResource(deps.eventStore, principal.tenantId, request.params.resourceId);
        return reply.header('etag', etagFor(revision)).send(resourceView(state, revision));
      },
    );
    app.patch(
      '/resources/:resourceId',
      {
        schema: {
          tags: ['catalog'],
          summary: 'Change name, kind or staff contact. If-Match: a stale revision is 412.',
          params: resourceParams,
          headers: ifMatch,
          body: updateResourceSchema,
          response: { 200: resourceViewSchema, ...problems(400, 401, 403, 404, 409, 412) },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin');
        const expectedRevision = expectedRevisionFrom(request);
        const result = await updateResource(
          deps,
          commandContext(principal, request.id),
          request.params.resourceId,
          request.body,
          expectedRevision !== undefined ? { expectedRevision } : {},
        );
        const { state, revision } = written(result);
        return sendWritten(reply, 200, revision, resourceView(state, revision));
      },
    );
    app.put(
      '/resources/:resourceId/schedule',
      {
        schema: {
          tags: ['catalog'],
          summary: 'Replace weekly hours and exceptions (closed days, extra hours). If-Match: a stale revision is 412.',
          params: resourceParams,
          headers: ifMatch,
          body: scheduleSchema,
          response: { 200: resourceViewSchema, ...problems(400, 401, 403, 404, 409, 412) },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin');
        const expectedRevision = expectedRevisionFrom(request);
        const result = await changeResourceSchedule(
          deps,
          commandContext(principal, request.id),
          request.params.resourceId,
          request.body,
          expectedRevision !== undefined ? { expectedRevision } : {},
        );
        const { state, revision } = written(result);
        return sendWritten(reply, 200, revision, resourceView(state, revision));
      },
    );
    app.delete(
      '/resources/:resourceId',
      {
        schema: {
          tags: ['catalog'],
          summary: 'Archive a resource: it is no longer offered; existing reservations stay.',
          params: resourceParams,
          querystring: archiveQuery,
          headers: ifMatch,
          response: { 200: resourceViewSchema, ...problems(400, 401, 403, 404, 412) },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin');
        const expectedRevision = expectedRevisionFrom(request);
        const result = await archiveResource(
          deps,
          commandContext(principal, request.id),
          request.params.resourceId,
          request.query.reason,
          expectedRevision !== undefined ? { expectedRevision } : {},
        );
        const { state, revision } = written(result);
        return sendWritten(reply, 200, revision, resourceView(state, revision));
      },
    );

    // Services -------------------------------------------------------------------------------------------------------
    app.post(
      '/services',
      {
        schema: {
          tags: ['catalog'],
          summary:
            'Create a service: duration, seats per slot, buffer, party size, resources, confirmation step, texts.',
          body: createServiceSchema,
          response: { 201: serviceViewSchema, 200: serviceViewSchema, ...problems(400, 401, 403, 409, 422) },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin');
        const { id: serviceId, result } = await createService(
          deps,
          commandContext(principal, request.id),
          request.body,
        );
        const { state, revision } = written(result);
        return sendWritten(
          reply,
          result.newEvents.length > 0 ? 201 : 200,
          revision,
          serviceView(state, revision),
          `/v1/services/${serviceId}`,
        );
      },
    );
    app.get(
      '/services',
      {
        schema: {
          tags: ['catalog'],
          querystring: catalogListQuery,
          response: { 200: z.object({ items: z.array(serviceViewSchema) }), ...problems(400, 401, 403) },
        },
      },
      async (request) => {
        const principal = requireRole(request, ...readers);
        const items = await listCatalog(deps.readModels, principal.tenantId, 'service', {
          ...(request.query.locationId ? { locationId: request.query.locationId } : {}),
          includeArchived: request.query.includeArchived,
        });
        return { items: items as unknown as z.infer<typeof serviceViewSchema>[] };
      },
    );
    const serviceParams = z.object({ serviceId: id });
    app.get(
      '/services/:serviceId',
      {
        schema: {
          tags: ['catalog'],
          params: serviceParams,
          response: { 200: serviceViewSchema, ...problems(400, 401, 403, 404) },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, ...readers);
        const { state, revision } = await getService(deps.eventStore, principal.tenantId, request.params.serviceId);
        return reply.header('etag', etagFor(revision)).send(serviceView(state, revision));
      },
    );
    app.patch(
      '/services/:serviceId',
      {
        schema: {
          tags: ['catalog'],
          summary: 'Change a service; the result must still be valid. If-Match: a stale revision is 412.',
          params: serviceParams,
          headers: ifMatch,
          body: updateServiceSchema,
          response: { 200: serviceViewSchema, ...problems(400, 401, 403, 404, 409, 412) },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin');
        const expectedRevision = expectedRevisionFrom(request);
        const current = await getService(deps.eventStore, principal.tenantId, request.params.serviceId);
        const result = await updateService(
          deps,
          commandContext(principal, request.id),
          request.params.serviceId,
          request.body,
          {
            locationId: current.state.service.locationId,
            ...(expectedRevision !== undefined ? { expectedRevision } : {}),
          },
        );
        const { state, revision } = written(result);
        return sendWritten(reply, 200, revision, serviceView(state, revision));
      },
    );
    app.delete(
      '/services/:serviceId',
      {
        schema: {
          tags: ['catalog'],
          summary: 'Archive a service: it can no longer be booked; existing reservations stay.',
          params: serviceParams,
          querystring: archiveQuery,
          headers: ifMatch,
          response: { 200: serviceViewSchema, ...problems(400, 401, 403, 404, 412) },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin');
        const expectedRevision = expectedRevisionFrom(request);
        const result = await archiveService(
          deps,
          commandContext(principal, request.id),
          request.params.serviceId,
          request.query.reason,
          expectedRevision !== undefined ? { expectedRevision } : {},
        );
        const { state, revision } = written(result);
        return sendWritten(reply, 200, revision, serviceView(state, revision));
      },
    );
  };
}
