import { invalid } from '../../domain/catalog/validation.js';
import type { Address, LocationCommand, LocationState } from '../../domain/catalog/location.decider.js';
import type {
  ResourceCommand,
  ResourceKind,
  ResourceState,
  StaffContact,
} from '../../domain/catalog/resource.decider.js';
import type { ScheduleExceptions, WeeklyHours } from '../../domain/catalog/schedule.js';
import type { ServiceCommand, ServiceSettings, ServiceState } from '../../domain/catalog/service.decider.js';
import type { Command, DomainEvent } from '../../domain/shared/decider.js';
import {
  handleCommand,
  type CommandContext,
  type CommandHandlerDeps,
  type ExpectedRevision,
  type HandleResult,
} from '../command-handler.js';
import type { Clock } from '../ports/clock.port.js';
import { findActiveLocation, findActiveResource } from './catalog-queries.js';
import { locationStream, resourceStream, serviceStream, type CatalogStream } from './catalog-streams.js';

/**
 * Catalog changes: each one command on the entity's own stream, so each change is an event with its actor.
 * References between entities (a resource's location, a service's location and resources) are checked here, against
 * the streams, because each decider only sees its own aggregate.
 */
export interface CatalogCommandsDeps extends CommandHandlerDeps {
  readonly clock: Clock;
}

export interface WriteOptions {
  /** If-Match: the revision(s) the client accepts; a mismatch is a 412. */
  readonly expectedRevision?: ExpectedRevision;
}

type Stamp = { now: string; actor: string };
const stamp = (deps: CatalogCommandsDeps, context: CommandContext): Stamp => ({
  now: deps.clock.now().toISOString(),
  actor: context.actor,
});

/** One command on the entity's own stream. */
function write<C extends Command, S, E extends DomainEvent>(
  deps: CatalogCommandsDeps,
  context: CommandContext,
  stream: CatalogStream<C, S, E>,
  id: string,
  command: NoInfer<C>,
  options: WriteOptions = {},
): Promise<HandleResult<S>> {
  return handleCommand(deps, stream.streamName(context.tenantId, id), stream.decider, command, context, options);
}

/** The create command on the new entity's stream, answered with the entity's id. */
async function create<C extends Command, S, E extends DomainEvent>(
  deps: CatalogCommandsDeps,
  context: CommandContext,
  stream: CatalogStream<C, S, E>,
  id: string,
  command: NoInfer<C>,
): Promise<{ id: string; result: HandleResult<S> }> {
  return { id, result: await write(deps, context, stream, id, command) };
}

// Locations ----------------------------------------------------------------------------------------------------------

export interface LocationInput {
  readonly locationId?: string;
  readonly name: string;
  readonly address: Address;
  readonly timeZone: string;
}

export async function createLocation(
  deps: CatalogCommandsDeps,
  context: CommandContext,
  input: LocationInput,
): Promise<{ id: string; result: HandleResult<LocationState> }> {
  const id = input.locationId ?? deps.ids.newId();
  return create(deps, context, locationStream, id, {
    type: 'CreateLocation',
    data: { ...input, locationId: id, tenantId: context.tenantId, ...stamp(deps, context) },
  });
}

export async function updateLocation(
  deps: CatalogCommandsDeps,
  context: CommandContext,
  locationId: string,
  changes: Partial<Omit<LocationInput, 'locationId'>>,
  options: WriteOptions = {},
): Promise<HandleResult<LocationState>> {
  const command: LocationCommand = {
    type: 'UpdateLocation',
    data: { ...changes, locationId, ...stamp(deps, context) },
  };
  return write(deps, context, locationStream, locationId, command, options);
}

export async function archiveLocation(
  deps: CatalogCommandsDeps,
  context: CommandContext,
  locationId: string,
  reason: string | undefined,
  options: WriteOptions = {},
): Promise<HandleResult<LocationState>> {
  const command: LocationCommand = {
    type: 'ArchiveLocation',
    data: { locationId, ...(reason ? { reason } : {}), ...stamp(deps, context) },
  };
  return write(deps, context, locationStream, locationId, command, options);
}

// Resources ----------------------------------------------------------------------------------------------------------

export interface ResourceInput {
  readonly resourceId?: string;
  readonly locationId: string;
  readonly name: string;
  readonly kind: ResourceKind;
  readonly weeklyHours: Partial<WeeklyHours>;
  readonly exceptions?: Partial<ScheduleExceptions>;
  readonly contact?: StaffContact;
}

export async function createResource(
  deps: CatalogCommandsDeps,
  context: CommandContext,
  input: ResourceInput,
): Promise<{ id: string; result: HandleResult<ResourceState> }> {
  await requireActiveLocation(deps, context.tenantId, input.locationId);
  const id = input.resourceId ?? deps.ids.newId();
  return create(deps, context, resourceStream, id, {
    type: 'CreateResource',
    data: { ...input, resourceId: id, tenantId: context.tenantId, ...stamp(deps, context) },
  });
}

export async function updateResource(
  deps: CatalogCommandsDeps,
  context: CommandContext,
  resourceId: string,
  changes: { name?: string; kind?: ResourceKind; contact?: StaffContact },
  options: WriteOptions = {},
): Promise<HandleResult<ResourceState>> {
  const command: ResourceCommand = {
    type: 'UpdateResource',
    data: { ...changes, resourceId, ...stamp(deps, context) },
  };
  return write(deps, context, resourceStream, resourceId, command, options);
}

export async function changeResourceSchedule(
  deps: CatalogCommandsDeps,
  context: CommandContext,
  resourceId: string,
  schedule: { weeklyHours: Partial<WeeklyHours>; exceptions?: Partial<ScheduleExceptions> },
  options: WriteOptions = {},
): Promise<HandleResult<ResourceState>> {
  const command: ResourceCommand = {
    type: 'ChangeResourceSchedule',
    data: { ...schedule, resourceId, ...stamp(deps, context) },
  };
  return write(deps, context, resourceStream, resourceId, command, options);
}

export async function archiveResource(
  deps: CatalogCommandsDeps,
  context: CommandContext,
  resourceId: string,
  reason: string | undefined,
  options: WriteOptions = {},
): Promise<HandleResult<ResourceState>> {
  const command: ResourceCommand = {
    type: 'ArchiveResource',
    data: { resourceId, ...(reason ? { reason } : {}), ...stamp(deps, context) },
  };
  return write(deps, context, resourceStream, resourceId, command, options);
}

// Services -----------------------------------------------------------------------------------------------------------

export type ServiceInput = Partial<ServiceSettings> &
  Pick<ServiceSettings, 'name' | 'durationMinutes' | 'seatsPerSlot' | 'resourceIds'> & {
    readonly serviceId?: string;
    readonly locationId: string;
  };

export async function createService(
  deps: CatalogCommandsDeps,
  context: CommandContext,
  input: ServiceInput,
): Promise<{ id: string; result: HandleResult<ServiceState> }> {
  await requireActiveLocation(deps, context.tenantId, input.locationId);
  await requireResourcesAt(deps, context.tenantId, input.resourceIds, input.locationId);
  const id = input.serviceId ?? deps.ids.newId();
  return create(deps, context, serviceStream, id, {
    type: 'CreateService',
    data: { ...input, serviceId: id, tenantId: context.tenantId, ...stamp(deps, context) },
  });
}

export async function updateService(
  deps: CatalogCommandsDeps,
  context: CommandContext,
  serviceId: string,
  changes: Partial<ServiceSettings>,
  options: WriteOptions & { locationId?: string } = {},
): Promise<HandleResult<ServiceState>> {
  if (changes.resourceIds && options.locationId) {
    await requireResourcesAt(deps, context.tenantId, changes.resourceIds, options.locationId);
  }
  const { locationId: _locationId, ...writeOptions } = options;
  const command: ServiceCommand = { type: 'UpdateService', data: { ...changes, serviceId, ...stamp(deps, context) } };
  return write(deps, context, serviceStream, serviceId, command, writeOptions);
}

export async function archiveService(
  deps: CatalogCommandsDeps,
  context: CommandContext,
  serviceId: string,
  reason: string | undefined,
  options: WriteOptions = {},
): Promise<HandleResult<ServiceState>> {
  const command: ServiceCommand = {
    type: 'ArchiveService',
    data: { serviceId, ...(reason ? { reason } : {}), ...stamp(deps, context) },
  };
  return write(deps, context, serviceStream, serviceId, command, options);
}

// References ---------------------------------------------------------------------------------------------------------

async function requireActiveLocation(deps: CatalogCommandsDeps, tenantId: string, locationId: string): Promise<void> {
  if (!(await findActiveLocation(deps.eventStore, tenantId, locationId))) {
    throw invalid('locationId', 'unknown-location', `Location ${locationId} does not exist or is archived.`);
  }
}

async function requireResourcesAt(
  deps: CatalogCommandsDeps,
  tenantId: string,
  resourceIds: readonly string[],
  locationId: string,
): Promise<void> {
  for (const [index, resourceId] of resourceIds.entries()) {
    const resource = await findActiveResource(deps.eventStore, tenantId, resourceId);
    if (!resource) {
      throw invalid(
        `resourceIds[${index}]`,
        'unknown-resource',
        `Resource ${resourceId} does not exist or is archived.`,
      );
    }
    if (resource.locationId !== locationId) {
      throw invalid(
        `resourceIds[${index}]`,
        'same-location',
        `Resource ${resourceId} works at location ${resource.locationId}, not at the service's location ${locationId}.`,
      );
    }
  }
}
