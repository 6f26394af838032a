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
  type CatalogCommandsDeps,
  type WriteOptions,
} from '../../../application/catalog/catalog-commands.js';
import {
  getLocation,
  getResource,
  getService,
  listCatalog,
  type Loaded,
} from '../../../application/catalog/catalog-queries.js';
import type { CommandContext, HandleResult } from '../../../application/command-handler.js';
import type { EventStore } from '../../../application/ports/event-store.port.js';
import type { CatalogKind } from '../../../application/projections/catalog.projection.js';
import type { LocationState } from '../../../domain/catalog/location.decider.js';
import type { ResourceState } from '../../../domain/catalog/resource.decider.js';
import type { ServiceState } from '../../../domain/catalog/service.decider.js';
import { commandContext, requireRole } from '../auth.js';
import type { HttpDeps } from '../http-deps.js';
import { etagFor, writeOptionsFrom } from '../conditional.js';
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
import { id, ifMatchHeaders, json, problems } from '../schemas/common.js';

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

/**
 * Answers a write with the entity and its revision as the ETag; a write that left nothing behind is a 500 (a bug,
 * never a client error).
 */
function sendWritten<S extends { status: string }, V>(
  reply: FastifyReply,
  result: HandleResult<S>,
  toView: (state: Existing<S>, revision: bigint) => V,
  status = 200,
  location?: string,
) {
  if (result.state.status === 'none' || result.revision === 'no_stream') throw new Error('catalog write left no state');
  if (location) reply.header('location', location);
  return reply
    .code(status)
    .header('etag', etagFor(result.revision))
    .send(toView(result.state as Existing<S>, result.revision));
}

const readers = ['admin', 'staff', 'integration'] as const;

/** One catalog entity's routes: what differs between locations, resources and services. */
interface CatalogEntityRoutes<S extends { status: string }, View, Create, Update, IdParam extends string> {
  readonly kind: CatalogKind;
  /** `Location`: the noun of the operationIds (createLocation, listLocations, getLocation...). */
  readonly noun: string;
  /** `/locations`: the collection; one entity is `<path>/:<idParam>`. */
  readonly path: string;
  readonly idParam: IdParam;
  readonly view: z.ZodType<View>;
  readonly toView: (state: Existing<S>, revision: bigint) => View;
  readonly listQuery: z.ZodType<{ locationId?: string; includeArchived: boolean }>;
  readonly load: (eventStore: EventStore, tenantId: string, id: string) => Promise<Loaded<S>>;
  readonly create: {
    readonly summary: string;
    /** What creating can run into besides 403 and 409 (already exists): 404 for a location it refers to. */
    readonly problems: readonly number[];
    readonly body: z.ZodType<Create>;
    readonly run: (
      deps: CatalogCommandsDeps,
      context: CommandContext,
      input: Create,
    ) => Promise<{ id: string; result: HandleResult<S> }>;
  };
  readonly update: {
    readonly summary: string;
    readonly body: z.ZodType<Update>;
    readonly run: (
      deps: CatalogCommandsDeps,
      context: CommandContext,
      id: string,
      changes: Update,
      options: WriteOptions,
    ) => Promise<HandleResult<S>>;
  };
  readonly archive: {
    readonly summary: string;
    readonly run: (
      deps: CatalogCommandsDeps,
      context: CommandContext,
      id: string,
      reason: string | undefined,
      options: WriteOptions,
    ) => Promise<HandleResult<S>>;
  };
}

/**
 * POST (create), GET (list), GET one, PATCH and DELETE (archive) of one entity. Admins write, every role reads; a
 * write answers the entity with its revision as the ETag, and PATCH and DELETE honour If-Match (a stale one is 412).
 */
function registerCatalogEntity<S extends { status: string }, View, Create, Update, IdParam extends string>(
  app: Parameters<FastifyPluginAsyncZod>[0],
  deps: HttpDeps,
  entity: CatalogEntityRoutes<S, View, Create, Update, IdParam>,
): void {
  const { toView, noun } = entity;
  // Fastify's type provider cannot resolve request and reply types through these generics: the view schema is
  // widened (toView types the view), and the params and bodies are cast to what their schemas have validated.
  const view: z.ZodType = entity.view;
  const params = z.object({ [entity.idParam]: id } as Record<IdParam, typeof id>);
  const one = `${entity.path}/:${entity.idParam}`;
  const idOf = (request: { params: unknown }) => (request.params as Record<IdParam, string>)[entity.idParam];

  app.post(
    entity.path,
    {
      schema: {
        operationId: `create${noun}`,
        tags: ['catalog'],
        summary: entity.create.summary,
        body: entity.create.body,
        response: {
          201: json(view, 'Created.', { ETag: true, Location: true }),
          200: json(view, 'Already created with this id and the same settings.', { ETag: true, Location: true }),
          ...problems(403, 409, ...entity.create.problems),
        },
      },
    },
    async (request, reply) => {
      const principal = requireRole(request, 'admin');
      const { id: entityId, result } = await entity.create.run(
        deps,
        commandContext(principal, request.id),
        request.body as Create,
      );
      return sendWritten(
        reply,
        result,
        toView,
        result.newEvents.length > 0 ? 201 : 200,
        `/v1${entity.path}/${entityId}`,
      );
    },
  );
  app.get(
    entity.path,
    {
      schema: {
        operationId: `list${noun}s`,
        tags: ['catalog'],
        querystring: entity.listQuery,
        response: {
          200: json(z.object({ items: z.array(view) }), 'Every match (archived ones on request).'),
          ...problems(403),
        },
      },
    },
    async (request) => {
      const principal = requireRole(request, ...readers);
      const items = await listCatalog(deps.readModels, principal.tenantId, entity.kind, {
        ...(request.query.locationId ? { locationId: request.query.locationId } : {}),
        includeArchived: request.query.includeArchived,
      });
      return { items: items as unknown as View[] };
    },
  );
  app.get(
    one,
    {
      schema: {
        operationId: `get${noun}`,
        tags: ['catalog'],
        params,
        response: { 200: json(view, 'The current state.', { ETag: true }), ...problems(403, 404) },
      },
    },
    async (request, reply) => {
      const principal = requireRole(request, ...readers);
      const { state, revision } = await entity.load(deps.eventStore, principal.tenantId, idOf(request));
      return reply.header('etag', etagFor(revision)).send(toView(state, revision));
    },
  );
  app.patch(
    one,
    {
      schema: {
        operationId: `update${noun}`,
        tags: ['catalog'],
        summary: entity.update.summary,
        params,
        headers: ifMatchHeaders,
        body: entity.update.body,
        response: { 200: json(view, 'The state after the change.', { ETag: true }), ...problems(403, 404, 409, 412) },
      },
    },
    async (request, reply) => {
      const principal = requireRole(request, 'admin');
      const result = await entity.update.run(
        deps,
        commandContext(principal, request.id),
        idOf(request),
        request.body as Update,
        writeOptionsFrom(request),
      );
      return sendWritten(reply, result, toView);
    },
  );
  app.delete(
    one,
    {
      schema: {
        operationId: `archive${noun}`,
        tags: ['catalog'],
        summary: entity.archive.summary,
        params,
        querystring: archiveQuery,
        headers: ifMatchHeaders,
        response: { 200: json(view, 'The archived entity.', { ETag: true }), ...problems(403, 404, 409, 412) },
      },
    },
    async (request, reply) => {
      const principal = requireRole(request, 'admin');
      const result = await entity.archive.run(
        deps,
        commandContext(principal, request.id),
        idOf(request),
        request.query.reason,
        writeOptionsFrom(request),
      );
      return sendWritten(reply, result, toView);
    },
  );
}

/** Locations, resources and services: admins write, every role reads. Each change is one event on its stream. */
export function catalogRoutes(deps: HttpDeps): FastifyPluginAsyncZod {
  return async (app) => {
    registerCatalogEntity(app, deps, {
      kind: 'location',
      noun: 'Location',
      path: '/locations',
      idParam: 'locationId',
      view: locationViewSchema,
      toView: locationView,
      listQuery: catalogListQuery.omit({ locationId: true }),
      load: getLocation,
      create: {
        summary: 'Create a location (address and IANA time zone).',
        problems: [],
        body: createLocationSchema,
        run: createLocation,
      },
      update: {
        summary: 'Change name, address or time zone. If-Match: a stale revision is 412.',
        body: updateLocationSchema,
        run: updateLocation,
      },
      archive: { summary: 'Archive a location (its history stays).', run: archiveLocation },
    });

    registerCatalogEntity(app, deps, {
      kind: 'resource',
      noun: 'Resource',
      path: '/resources',
      idParam: 'resourceId',
      view: resourceViewSchema,
      toView: resourceView,
      listQuery: catalogListQuery,
      load: getResource,
      create: {
        summary: 'Create a resource (a stylist, a lane, a room) with weekly hours, exceptions and a staff contact.',
        problems: [404],
        body: createResourceSchema,
        run: createResource,
      },
      update: {
        summary: 'Change name, kind or staff contact. If-Match: a stale revision is 412.',
        body: updateResourceSchema,
        run: updateResource,
      },
      archive: {
        summary: 'Archive a resource: it is no longer offered; existing reservations stay.',
        run: archiveResource,
      },
    });
    app.put(
      '/resources/:resourceId/schedule',
      {
        schema: {
          operationId: 'replaceResourceSchedule',
          tags: ['catalog'],
          summary: 'Replace weekly hours and exceptions (closed days, extra hours). If-Match: a stale revision is 412.',
          params: z.object({ resourceId: id }),
          headers: ifMatchHeaders,
          body: scheduleSchema,
          response: {
            200: json(resourceViewSchema, 'The resource with its new schedule.', { ETag: true }),
            ...problems(403, 404, 409, 412),
          },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin');
        const result = await changeResourceSchedule(
          deps,
          commandContext(principal, request.id),
          request.params.resourceId,
          request.body,
          writeOptionsFrom(request),
        );
        return sendWritten(reply, result, resourceView);
      },
    );

    registerCatalogEntity(app, deps, {
      kind: 'service',
      noun: 'Service',
      path: '/services',
      idParam: 'serviceId',
      view: serviceViewSchema,
      toView: serviceView,
      listQuery: catalogListQuery,
      load: getService,
      create: {
        summary: 'Create a service: duration, seats per slot, buffer, party size, resources, confirmation step, texts.',
        problems: [404],
        body: createServiceSchema,
        run: createService,
      },
      update: {
        summary: 'Change a service; the result must still be valid. If-Match: a stale revision is 412.',
        body: updateServiceSchema,
        // New resources must work at the service's location: read it first (404 when the service does not exist).
        run: async (commandDeps, context, serviceId, changes, options) => {
          const current = await getService(commandDeps.eventStore, context.tenantId, serviceId);
          return updateService(commandDeps, context, serviceId, changes, {
            locationId: current.state.service.locationId,
            ...options,
          });
        },
      },
      archive: {
        summary: 'Archive a service: it can no longer be booked; existing reservations stay.',
        run: archiveService,
      },
    });
  };
}
