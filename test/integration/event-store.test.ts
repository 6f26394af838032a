import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, describe, expect, it } from 'vitest';
import type { NewEvent } from '../../src/application/ports/event-store.port.js';
import { createEventStoreDbEventStore } from '../../src/infrastructure/eventstoredb/eventstoredb-event-store.js';
import { createSqliteEventStore } from '../../src/infrastructure/sqlite/sqlite-event-store.js';
import { silentLogger } from '../support/silent-logger.js';
import { eventStoreContract } from './event-store.contract.js';

const tempRoot = mkdtempSync(join(tmpdir(), 'herald-event-store-'));
afterAll(() => rmSync(tempRoot, { recursive: true, force: true }));
/** A file in a directory that does not exist yet: the store creates it. */
const tempFile = () => join(tempRoot, randomUUID(), 'events.db');

eventStoreContract('SQLite in memory', async () => createSqliteEventStore({ filename: ':memory:' }));
eventStoreContract('SQLite file', async () => createSqliteEventStore({ filename: tempFile() }));

const eventStoreUrl = process.env.EVENTSTORE_URL;

// Skipped only when no server is configured. A configured server that cannot be reached fails every test,
// in CI and locally alike.
describe.skipIf(!eventStoreUrl)('EventStoreDB at EVENTSTORE_URL', () => {
  eventStoreContract('EventStoreDB', async () => {
    const store = createEventStoreDbEventStore({ connectionString: eventStoreUrl!, logger: silentLogger() });
    try {
      await store.ping();
    } catch (error) {
      await store.close();
      throw new Error(`EVENTSTORE_URL is set but EventStoreDB cannot be reached: ${String(error)}`);
    }
    return store;
  });
});

describe('SQLite event store', () => {
  const event = (): NewEvent => ({
    id: randomUUID(),
    type: 'ReservationRequested',
    data: { seats: 2 },
    metadata: { tenantId: 'tenant-1' },
  });

  it('starts empty', async () => {
    const store = createSqliteEventStore({ filename: ':memory:' });

    expect(await store.headPosition()).toBe(-1n);
    expect(await store.readAll()).toEqual([]);
    await store.close();
  });

  it('keeps its events, and keeps positions growing, when the file is closed and opened again', async () => {
    const filename = tempFile();
    const first = createSqliteEventStore({ filename });
    const written = event();
    const appended = await first.appendToStream('reservation-1', [written], 'no_stream');
    await first.close();

    const reopened = createSqliteEventStore({ filename });
    const { events, revision } = await reopened.readStream('reservation-1');
    const next = await reopened.appendToStream('reservation-2', [event()], 'no_stream');
    await reopened.close();

    expect(revision).toBe(0n);
    expect(events).toMatchObject([{ id: written.id, data: written.data, metadata: written.metadata }]);
    expect(next.position > appended.position).toBe(true);
  });

  it('stamps recordedAt with its clock', async () => {
    const store = createSqliteEventStore({
      filename: ':memory:',
      clock: { now: () => new Date('2025-03-01T09:30:00Z') },
    });
    await store.appendToStream('reservation-1', [event()], 'no_stream');

    expect((await store.readStream('reservation-1')).events[0]?.recordedAt).toBe('2025-03-01T09:30:00.000Z');
    await store.close();
  });

  it('wakes a waiting subscriber as soon as an event is appended, without waiting for the poll', async () => {
    const store = createSqliteEventStore({ filename: ':memory:', pollIntervalMs: 60_000 });
    const subscription = store.subscribeToAll();
    const pending = subscription[Symbol.asyncIterator]().next();

    const start = performance.now();
    await store.appendToStream('reservation-1', [event()], 'no_stream');
    const delivered = await pending;
    const elapsedMs = performance.now() - start;
    await store.close();

    expect(delivered.value).toMatchObject({ streamName: 'reservation-1' });
    // Typically well under 50 ms; the bound is loose on purpose, it only has to be far below the 60 s poll.
    expect(elapsedMs).toBeLessThan(1_000);
  });

  it('sees events that another connection appended to the same file, by polling', async () => {
    const filename = tempFile();
    const reader = createSqliteEventStore({ filename, pollIntervalMs: 20 });
    const writer = createSqliteEventStore({ filename });
    const pending = reader.subscribeToAll()[Symbol.asyncIterator]().next();

    await writer.appendToStream('reservation-1', [event()], 'no_stream');

    expect((await pending).value).toMatchObject({ streamName: 'reservation-1' });
    await Promise.all([reader.close(), writer.close()]);
  });

  it('ends its open subscriptions when it is closed', async () => {
    const store = createSqliteEventStore({ filename: ':memory:' });
    const pending = store.subscribeToAll()[Symbol.asyncIterator]().next();

    await store.close();

    expect(await pending).toEqual({ done: true, value: undefined });
  });
});
