import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../../src/application/ports/event-store.port.js';
import { deliveriesProjection } from '../../../src/application/projections/deliveries.projection.js';
import {
  physicalCollection,
  projectionConsumer,
  type Projection,
  type ProjectionDocument,
} from '../../../src/application/projections/projection.js';
import { InMemoryReadModels } from './fakes.js';

const TENANT = 'tenant-1';

function event(position: bigint, type: string, data: Record<string, unknown>): RecordedEvent {
  return {
    id: `evt-${position}`,
    streamName: `notification-${String(data.notificationId)}`,
    type,
    data,
    metadata: { tenantId: TENANT },
    revision: 0n,
    position,
    recordedAt: '2030-01-01T00:00:00.000Z',
  };
}

const requested = (position: bigint, notificationId = 'ntf-1') =>
  event(position, 'NotificationRequested', {
    notificationId,
    tenantId: TENANT,
    kind: 'reservation-confirmed',
    channel: 'email',
    recipient: { type: 'customer', address: 'jana@example.com' },
    maskedRecipient: 'j***@example.com',
    content: { subject: 'Reservation confirmed', text: 'Hello' },
    causationEventId: 'evt-0',
    requestedAt: '2030-01-01T10:00:00.000Z',
    maxAttempts: 3,
  });
const started = (position: bigint, attempt: number, notificationId = 'ntf-1') =>
  event(position, 'NotificationAttemptStarted', {
    notificationId,
    attempt,
    round: 1,
    at: '2030-01-01T10:00:01.000Z',
  });
const sent = (position: bigint, notificationId = 'ntf-1') =>
  event(position, 'NotificationSent', {
    notificationId,
    attempt: 1,
    providerMessageId: 'msg-1',
    at: '2030-01-01T10:00:02.000Z',
  });

const collection = physicalCollection(deliveriesProjection);

describe('projectionConsumer', () => {
  it('handles the event types of its projection under a versioned name', () => {
    const consumer = projectionConsumer(new InMemoryReadModels(), deliveriesProjection);
    expect(consumer.name).toBe('projection:deliveries:v1');
    expect(consumer.eventTypes.has('NotificationSent')).toBe(true);
    expect(consumer.eventTypes.has('ReservationConfirmed')).toBe(false);
  });

  it('stores the evolved document with the position of the event that wrote it', async () => {
    const readModels = new InMemoryReadModels();
    const consumer = projectionConsumer(readModels, deliveriesProjection);

    await consumer.handle(requested(7n));
    await consumer.handle(started(9n, 1));

    const doc = await readModels.get(collection, 'tenant-1:ntf-1');
    expect(doc).toMatchObject({ _id: 'tenant-1:ntf-1', _position: '00000000000000000009', status: 'sending' });
  });

  it('changes nothing when the same event is delivered twice', async () => {
    const readModels = new InMemoryReadModels();
    const consumer = projectionConsumer(readModels, deliveriesProjection);
    await consumer.handle(requested(1n));
    await consumer.handle(started(2n, 1));
    const before = readModels.snapshot();
    const calls = readModels.guardedCalls;

    await consumer.handle(started(2n, 1));

    expect(readModels.snapshot()).toEqual(before);
    expect(readModels.guardedCalls, 'a redelivery costs no write').toBe(calls);
    expect(await readModels.get(collection, 'tenant-1:ntf-1')).toMatchObject({ attempts: 1, status: 'sending' });
  });

  it('ignores an older event arriving after a newer one for the same document', async () => {
    const readModels = new InMemoryReadModels();
    const consumer = projectionConsumer(readModels, deliveriesProjection);
    await consumer.handle(requested(1n));
    await consumer.handle(started(2n, 1));
    await consumer.handle(sent(3n));
    const before = readModels.snapshot();

    await consumer.handle(started(2n, 1));
    await consumer.handle(requested(1n));

    expect(readModels.snapshot()).toEqual(before);
    expect(await readModels.get(collection, 'tenant-1:ntf-1')).toMatchObject({ status: 'sent', attempts: 1 });
  });

  it('guards each document by its own position, not by the newest position seen', async () => {
    const readModels = new InMemoryReadModels();
    const consumer = projectionConsumer(readModels, deliveriesProjection);
    await consumer.handle(requested(5n, 'ntf-late'));

    await consumer.handle(requested(3n, 'ntf-early'));

    expect(await readModels.get(collection, 'tenant-1:ntf-early')).toMatchObject({ status: 'requested' });
  });

  it('does not bring back a deleted document when an older event is redelivered', async () => {
    const projection: Projection<ProjectionDocument & { count: number }> = {
      name: 'counter',
      version: 2,
      collection: 'counters',
      eventTypes: ['Counted', 'Reset'],
      documentId: (e) => (e.data.key ? `${e.metadata.tenantId}:${String(e.data.key)}` : null),
      evolve: (doc, e) => (e.type === 'Reset' ? null : { tenantId: e.metadata.tenantId, count: (doc?.count ?? 0) + 1 }),
    };
    const readModels = new InMemoryReadModels();
    const consumer = projectionConsumer(readModels, projection);
    const counted = event(1n, 'Counted', { key: 'a' });

    await consumer.handle(counted);
    await consumer.handle(event(2n, 'Reset', { key: 'a' }));
    expect(await readModels.get('counters_v2', 'tenant-1:a')).toBeNull();

    await consumer.handle(counted);
    expect(await readModels.get('counters_v2', 'tenant-1:a')).toBeNull();

    // Neither an event without a document nor a delete of a document that never existed writes anything.
    await consumer.handle(event(3n, 'Counted', { key: undefined }));
    await consumer.handle(event(4n, 'Reset', { key: 'never-counted' }));
    expect(readModels.guardedCalls).toBe(3);
  });
});
