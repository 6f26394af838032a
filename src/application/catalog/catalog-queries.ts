import type { Location, LocationState } from '../../domain/catalog/location.decider.js';
import {
  resourceDecider,
  resourceStreamName,
  type Resource,
  type ResourceState,
} from '../../domain/catalog/resource.decider.js';
import {
  serviceDecider,
  serviceStreamName,
  type Service,
  type ServiceState,
} from '../../domain/catalog/service.decider.js';
import type { Contact } from '../../domain/notification/index.js';
import type { Command, DomainEvent } from '../../domain/shared/decider.js';
import { NotFoundError } from '../../domain/shared/errors.js';
import { normalizeInstant } from '../../domain/shared/zoned-time.js';
import { loadAggregate } from '../command-handler.js';
import type { EventStore } from '../ports/event-store.port.js';
import type { Filter, ReadModelStore } from '../ports/read-model-store.port.js';
import { catalogProjection, type CatalogDocument, type CatalogKind } from '../projections/catalog.projection.js';
import { physicalCollection } from '../projections/projection.js';
import { locationStream, resourceStream, serviceStream, type CatalogStream } from './catalog-streams.js';

type Existing<S> = Exclude<S, { status: 'none' }>;
type Active<S> = Extract<S, { status: 'active' }>;

export interface Loaded<S> {
  readonly state: Existing<S>;
  readonly revision: bigint;
}

/** One catalog entity read from its stream: never stale, and its revision is the ETag. 404 when it never existed. */
export async function getLocation(
  eventStore: EventStore,
  tenantId: string,
  locationId: string,
): Promise<Loaded<LocationState>> {
  return loadExisting(eventStore, tenantId, locationStream, locationId);
}

export async function getResource(
  eventStore: EventStore,
  tenantId: string,
  resourceId: string,
): Promise<Loaded<ResourceState>> {
  return loadExisting(eventStore, tenantId, resourceStream, resourceId);
}

export async function getService(
  eventStore: EventStore,
  tenantId: string,
  serviceId: string,
): Promise<Loaded<ServiceState>> {
  return loadExisting(eventStore, tenantId, serviceStream, serviceId);
}

async function loadExisting<C extends Command, S extends { status: string }, E extends DomainEvent>(
  eventStore: EventStore,
  tenantId: string,
  stream: CatalogStream<C, S, E>,
  id: string,
): Promise<Loaded<S>> {
  const { kind } = stream;
  const { state, revision } = await loadAggregate(eventStore, stream.streamName(tenantId, id), stream.decider);
  if (state.status === 'none' || revision === 'no_stream') {
    throw new NotFoundError(`${kind}-not-found`, `The ${kind} ${id} does not exist.`, { [`${kind}Id`]: id });
  }
  return { state: state as Existing<S>, revision };
}

/** The active entity, or null when it does not exist or is archived (for booking and lookups). */
export async function findActiveLocation(
  eventStore: EventStore,
  tenantId: string,
  locationId: string,
): Promise<Location | null> {
  return (await findActive(eventStore, tenantId, locationStream, locationId))?.location ?? null;
}

export async function findActiveResource(
  eventStore: EventStore,
  tenantId: string,
  resourceId: string,
): Promise<Resource | null> {
  return (await findActive(eventStore, tenantId, resourceStream, resourceId))?.resource ?? null;
}

export async function findActiveService(
  eventStore: EventStore,
  tenantId: string,
  serviceId: string,
): Promise<Service | null> {
  return (await findActive(eventStore, tenantId, serviceStream, serviceId))?.service ?? null;
}

async function findActive<C extends Command, S extends { status: string }, E extends DomainEvent>(
  eventStore: EventStore,
  tenantId: string,
  stream: CatalogStream<C, S, E>,
  id: string,
): Promise<Active<S> | null> {
  const { state } = await loadAggregate(eventStore, stream.streamName(tenantId, id), stream.decider);
  return state.status === 'active' ? (state as Active<S>) : null;
}

export interface CatalogListFilter {
  readonly locationId?: string;
  /** Default false: archived entities are left out. */
  readonly includeArchived?: boolean;
}

/** Catalog entities of one kind from the read model, by id. */
export async function listCatalog(
  readModels: ReadModelStore,
  tenantId: string,
  kind: CatalogKind,
  filter: CatalogListFilter = {},
): Promise<CatalogDocument[]> {
  const query: Record<string, Filter[string]> = { tenantId, entity: kind };
  if (filter.locationId) query.locationId = filter.locationId;
  if (!filter.includeArchived) query.status = 'active';
  const docs = await readModels.find<CatalogDocument & { _id: string }>(physicalCollection(catalogProjection), query, {
    sort: { field: 'id', direction: 1 },
    limit: 10_000,
  });
  return docs.map(withoutStoreFields);
}

/** Several catalog documents by id from the read model (availability). */
export async function findCatalogDocuments(
  readModels: ReadModelStore,
  tenantId: string,
  kind: CatalogKind,
  ids: readonly string[],
): Promise<CatalogDocument[]> {
  if (ids.length === 0) return [];
  const docs = await readModels.find<CatalogDocument & { _id: string }>(
    physicalCollection(catalogProjection),
    { tenantId, entity: kind, id: { $in: [...ids] } },
    { limit: ids.length },
  );
  return docs.map(withoutStoreFields);
}

function withoutStoreFields(doc: CatalogDocument & { _id: string; _position?: string }): CatalogDocument {
  const { _id: _ignoredId, _position: _ignoredPosition, ...rest } = doc;
  return rest as CatalogDocument;
}

/**
 * What the notification planner needs from the catalog, read from the streams so that a resource or service
 * created a moment ago is already known.
 */
export function catalogLookups(eventStore: EventStore): {
  resourceStaff: (tenantId: string, resourceId: string) => Promise<Contact[]>;
  /**
   * The service's description and after-payment text, each followed by the texts of the occurrence at `start` (the
   * slot the reservation is in) when it has any.
   */
  serviceTexts: (
    tenantId: string,
    serviceId: string,
    start?: string,
  ) => Promise<{ description?: string; afterPaymentText?: string }>;
} {
  return {
    async resourceStaff(tenantId, resourceId) {
      const { state } = await loadAggregate(eventStore, resourceStreamName(tenantId, resourceId), resourceDecider);
      if (state.status === 'none') return [];
      const { contact } = state.resource;
      if (!contact.email && !contact.phone) return [];
      return [
        {
          id: `resource:${resourceId}`,
          ...(contact.email ? { email: contact.email } : {}),
          ...(contact.phone ? { phone: contact.phone } : {}),
        },
      ];
    },
    async serviceTexts(tenantId, serviceId, start) {
      const { state } = await loadAggregate(eventStore, serviceStreamName(tenantId, serviceId), serviceDecider);
      if (state.status === 'none') return {};
      const occurrence = start !== undefined ? state.occurrences?.[normalizeInstant(start) ?? start] : undefined;
      const join = (...texts: (string | undefined)[]) => texts.filter((text) => text && text.trim()).join('\n\n');
      const description = join(state.service.description, occurrence?.description);
      const afterPaymentText = join(state.service.afterPaymentText, occurrence?.afterPaymentText);
      return {
        ...(description ? { description } : {}),
        ...(afterPaymentText ? { afterPaymentText } : {}),
      };
    },
  };
}
