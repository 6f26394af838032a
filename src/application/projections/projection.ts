import type { RecordedEvent } from '../ports/event-store.port.js';
import type { ProjectionWrite, ReadModelStore } from '../ports/read-model-store.port.js';
import type { EventConsumer } from '../subscriptions/checkpointed-subscriber.js';

export type ProjectionDocument = Record<string, unknown> & { tenantId: string };

/**
 * A projection is data: which events it reads, which document an event belongs to, and how the document evolves.
 * `evolve` never throws on a recorded event: it builds the best document it can (null deletes / skips).
 * One projection answers one question a user asks.
 */
export interface Projection<D extends ProjectionDocument = ProjectionDocument> {
  readonly name: string;
  /** Bump to rebuild: a new version reads from position zero into a new collection. */
  readonly version: number;
  /** Logical collection; the physical one is `<collection>_v<version>`. */
  readonly collection: string;
  readonly eventTypes: readonly string[];
  /** The document this event updates (include the tenant), or null to ignore the event. */
  documentId(event: RecordedEvent): string | null;
  evolve(document: D | null, event: RecordedEvent): D | null;
  /** Fields queries filter or sort by. */
  readonly indexes?: readonly (readonly string[])[];
}

export function physicalCollection(projection: Pick<Projection, 'collection' | 'version'>): string {
  return `${projection.collection}_v${projection.version}`;
}

export function projectionConsumerName(projection: Pick<Projection, 'name' | 'version'>): string {
  return `projection:${projection.name}:v${projection.version}`;
}

/** Turns a projection into a checkpointed consumer whose writes are guarded by the event's global position. */
export function projectionConsumer(readModels: ReadModelStore, projection: Projection): EventConsumer {
  const collection = physicalCollection(projection);
  return {
    name: projectionConsumerName(projection),
    eventTypes: new Set(projection.eventTypes),
    async handle(event) {
      const id = projection.documentId(event);
      if (id === null) return;
      const existing = await readModels.get<ProjectionDocument & { _id: string; _position?: string }>(collection, id);
      if (existing?._position !== undefined && BigInt(existing._position) >= event.position) return;
      const current = existing ? stripStoreFields(existing) : null;
      const next = projection.evolve(current as never, event);
      if (next === null && existing === null) return;
      await readModels.putGuarded(collection, id, next, event.position);
    },
    async handleBatch(events) {
      // Each document is read once, evolved through its events in log order, and written once: one read and one
      // write (one transaction on SQLite) for the whole batch, with the same guard as event by event.
      const byDocument = new Map<string, RecordedEvent[]>();
      for (const event of events) {
        const id = projection.documentId(event);
        if (id === null) continue;
        const list = byDocument.get(id);
        if (list) list.push(event);
        else byDocument.set(id, [event]);
      }
      if (byDocument.size === 0) return;
      const stored = await readModels.getForUpdate(collection, [...byDocument.keys()]);
      const writes: ProjectionWrite[] = [];
      for (const [id, documentEvents] of byDocument) {
        const found = stored.get(id);
        let doc = found?.doc ? (stripStoreFields(found.doc) as ProjectionDocument) : null;
        let everPresent = doc !== null;
        let position: bigint | undefined;
        for (const event of documentEvents) {
          if (found?.position !== undefined && found.position >= event.position) continue;
          doc = projection.evolve(doc as never, event);
          everPresent ||= doc !== null;
          position = event.position;
        }
        if (position === undefined || !everPresent) continue;
        writes.push({ id, doc, position });
      }
      await readModels.putGuardedBatch(collection, writes);
    },
  };
}

function stripStoreFields(doc: Record<string, unknown>): Record<string, unknown> {
  const { _id: _ignoredId, _position: _ignoredPosition, ...rest } = doc;
  return rest;
}

export async function ensureProjectionIndexes(
  readModels: ReadModelStore,
  projections: readonly Projection[],
): Promise<void> {
  for (const projection of projections) {
    for (const fields of projection.indexes ?? []) await readModels.ensureIndex(physicalCollection(projection), fields);
  }
}

/**
 * Inline projection (Marten's word): applies a stream's events to the read model right after the command that
 * appended them, so the writer's next request sees its own write (a new key authenticates at once, a revoked one
 * stops at once). The same guarded writes as the checkpointed consumer: whichever comes second changes nothing.
 * Pass the whole stream, in order: a document is only ever built from a complete prefix of its stream.
 */
export async function projectInline(
  readModels: ReadModelStore,
  projection: Projection,
  events: readonly RecordedEvent[],
): Promise<void> {
  const consumer = projectionConsumer(readModels, projection);
  for (const event of events) if (consumer.eventTypes.has(event.type)) await consumer.handle(event);
}
