import {
  locationDecider,
  locationStreamName,
  type LocationCommand,
  type LocationEvent,
  type LocationState,
} from '../../domain/catalog/location.decider.js';
import {
  resourceDecider,
  resourceStreamName,
  type ResourceCommand,
  type ResourceEvent,
  type ResourceState,
} from '../../domain/catalog/resource.decider.js';
import {
  serviceDecider,
  serviceStreamName,
  type ServiceCommand,
  type ServiceEvent,
  type ServiceState,
} from '../../domain/catalog/service.decider.js';
import type { Command, Decider, DomainEvent } from '../../domain/shared/decider.js';
import type { CatalogKind } from '../projections/catalog.projection.js';

/** A catalog entity's stream: one per entity, folded by the entity's decider. */
export interface CatalogStream<C extends Command, S, E extends DomainEvent> {
  readonly kind: CatalogKind;
  readonly streamName: (tenantId: string, id: string) => string;
  readonly decider: Decider<C, S, E>;
}

export const locationStream: CatalogStream<LocationCommand, LocationState, LocationEvent> = {
  kind: 'location',
  streamName: locationStreamName,
  decider: locationDecider,
};

export const resourceStream: CatalogStream<ResourceCommand, ResourceState, ResourceEvent> = {
  kind: 'resource',
  streamName: resourceStreamName,
  decider: resourceDecider,
};

export const serviceStream: CatalogStream<ServiceCommand, ServiceState, ServiceEvent> = {
  kind: 'service',
  streamName: serviceStreamName,
  decider: serviceDecider,
};
