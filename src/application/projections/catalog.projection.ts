import type { LocationEvent } from '../../domain/catalog/location.decider.js';
import type { ResourceEvent } from '../../domain/catalog/resource.decider.js';
import type { ServiceEvent } from '../../domain/catalog/service.decider.js';
import type { RecordedEvent } from '../ports/event-store.port.js';
import type { Projection } from './projection.js';

export const CATALOG_KINDS = ['location', 'resource', 'service'] as const;
export type CatalogKind = (typeof CATALOG_KINDS)[number];

type CatalogEvent = LocationEvent | ResourceEvent | ServiceEvent;

export const CATALOG_EVENT_TYPES: readonly CatalogEvent['type'][] = [
  'LocationCreated',
  'LocationUpdated',
  'LocationArchived',
  'ResourceCreated',
  'ResourceUpdated',
  'ResourceScheduleChanged',
  'ResourceArchived',
  'ServiceCreated',
  'ServiceUpdated',
  'ServiceArchived',
  'ServiceOccurrenceTextsChanged',
];

/**
 * "What does the catalog hold?": one document per location, resource and service, with the entity's fields at the
 * top level (so `locationId` filters all three kinds), its status and the stream revision (the ETag).
 */
export interface CatalogDocument extends Record<string, unknown> {
  tenantId: string;
  /** Which kind of entity (not `kind`: a resource has a `kind` of its own). */
  entity: CatalogKind;
  /** The entity's own id (also present as locationId / resourceId / serviceId). */
  id: string;
  locationId: string;
  status: 'active' | 'archived';
  revision: number;
  createdAt: string;
  updatedAt: string;
  archivedAt?: string;
}

export function catalogDocumentId(tenantId: string, kind: CatalogKind, id: string): string {
  return `${tenantId}:${kind}:${id}`;
}

function kindOf(type: string): CatalogKind | null {
  if (type.startsWith('Location')) return 'location';
  if (type.startsWith('Resource')) return 'resource';
  if (type.startsWith('Service')) return 'service';
  return null;
}

function entityIdOf(kind: CatalogKind, data: Record<string, unknown>): string | null {
  const value = data[`${kind}Id`];
  return typeof value === 'string' ? value : null;
}

export const catalogProjection: Projection<CatalogDocument> = {
  name: 'catalog',
  version: 1,
  collection: 'catalog',
  eventTypes: CATALOG_EVENT_TYPES,
  indexes: [
    ['tenantId', 'entity', 'locationId'],
    ['tenantId', 'entity', 'id'],
  ],
  documentId(event) {
    const kind = kindOf(event.type);
    const id = kind ? entityIdOf(kind, event.data) : null;
    return kind && id ? catalogDocumentId(event.metadata.tenantId, kind, id) : null;
  },
  evolve(doc, recorded: RecordedEvent) {
    const event = { type: recorded.type, data: recorded.data } as CatalogEvent;
    const kind = kindOf(event.type);
    if (!kind) return doc;
    const touch = (next: CatalogDocument): CatalogDocument => ({
      ...next,
      revision: Number(recorded.revision),
      updatedAt: recorded.recordedAt,
    });
    switch (event.type) {
      case 'LocationCreated':
      case 'ResourceCreated':
      case 'ServiceCreated': {
        const { createdAt: _createdAt, actor: _actor, ...entity } = event.data;
        const id = entityIdOf(kind, entity as Record<string, unknown>) ?? '';
        return {
          ...entity,
          tenantId: recorded.metadata.tenantId,
          entity: kind,
          id,
          locationId: entity.locationId,
          status: 'active',
          revision: Number(recorded.revision),
          createdAt: recorded.recordedAt,
          updatedAt: recorded.recordedAt,
        };
      }
      case 'LocationUpdated':
      case 'ResourceUpdated':
      case 'ServiceUpdated':
        return doc ? touch({ ...doc, ...event.data.changes }) : null;
      case 'ResourceScheduleChanged':
        return doc ? touch({ ...doc, weeklyHours: event.data.weeklyHours, exceptions: event.data.exceptions }) : null;
      case 'LocationArchived':
      case 'ResourceArchived':
      case 'ServiceArchived':
        return doc ? touch({ ...doc, status: 'archived', archivedAt: event.data.archivedAt }) : null;
      case 'ServiceOccurrenceTextsChanged':
        // The texts live in the stream (the planner reads them there); the revision moves on.
        return doc ? touch(doc) : null;
    }
  },
};
