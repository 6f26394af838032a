import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { handleCommand, type CommandContext } from '../../../src/application/command-handler.js';
import type { EventStore } from '../../../src/application/ports/event-store.port.js';
import type { Decider } from '../../../src/domain/shared/decider.js';
import { ConcurrencyError, IllegalStateError } from '../../../src/domain/shared/errors.js';
import { createSqliteEventStore } from '../../../src/infrastructure/sqlite/sqlite-event-store.js';

// A small aggregate in the waitlist's shape: an offer that is either expired or accepted, never both, and a command
// that records what it decided from (so a test can compare it with what the stream really held before it).
type Event =
  | { type: 'Opened'; data: object }
  | { type: 'Noted'; data: object }
  | { type: 'Expired'; data: object }
  | { type: 'Accepted'; data: object }
  | { type: 'Recorded'; data: { before: string[] } };
type Cmd = { type: 'Expire'; data: object } | { type: 'Accept'; data: object } | { type: 'Record'; data: object };

const decider: Decider<Cmd, string[], Event> = {
  initialState: () => [],
  evolve: (state, event) => [...state, event.type],
  decide(command, state) {
    switch (command.type) {
      case 'Expire':
        return state.includes('Expired') || state.includes('Accepted') ? [] : [{ type: 'Expired', data: {} }];
      case 'Accept':
        if (state.includes('Expired')) throw new IllegalStateError('offer-expired', 'The offer ran out.');
        return state.includes('Accepted') ? [] : [{ type: 'Accepted', data: {} }];
      case 'Record':
        return [{ type: 'Recorded', data: { before: state } }];
    }
  },
};

const ids = { newId: () => randomUUID(), derive: (...parts: readonly string[]) => parts.join(':') };
const context: CommandContext = { tenantId: 't1', actor: 'test' };
const STREAM = 'offer-1';

let store: EventStore | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

async function openedStore(): Promise<EventStore> {
  store = createSqliteEventStore({ filename: ':memory:' });
  await store.appendToStream(
    STREAM,
    [{ id: randomUUID(), type: 'Opened', data: {}, metadata: { tenantId: 't1' } }],
    'no_stream',
  );
  return store;
}

/**
 * A writer outside the per-stream queue (the waitlist allocation appends what it decided with `appendDecided`;
 * another process) gets in first with as many events as the queued command: the command's append fails.
 */
function writeOutsideTheQueue(eventStore: EventStore): Promise<unknown> {
  return eventStore.appendToStream(
    STREAM,
    [{ id: randomUUID(), type: 'Noted', data: {}, metadata: { tenantId: 't1' } }],
    0n,
  );
}

const types = async (eventStore: EventStore) => (await eventStore.readStream(STREAM)).events.map((e) => e.type);

describe('handleCommand: commands queued on one stream', () => {
  it('never refuses a command because of an append that then failed', async () => {
    const eventStore = await openedStore();
    const outside = writeOutsideTheQueue(eventStore);
    // The expiry decides on revision 0 and loses to the writer outside the queue (no retry, so it stays lost).
    const expiry = handleCommand({ eventStore, ids }, STREAM, decider, { type: 'Expire', data: {} }, context, {
      maxRetries: 0,
    });
    // The customer's accept, queued behind the expiry.
    const accept = handleCommand({ eventStore, ids }, STREAM, decider, { type: 'Accept', data: {} }, context);
    await outside;
    await expect(expiry).rejects.toBeInstanceOf(ConcurrencyError);
    // The offer never expired, so the accept is not refused: it is recorded.
    const accepted = await accept;
    expect(accepted.newEvents.map((e) => e.type)).toEqual(['Accepted']);
    expect(await types(eventStore)).toEqual(['Opened', 'Noted', 'Accepted']);
  });

  it('decides every appended command on the stream as it really was before it', async () => {
    const eventStore = await openedStore();
    const outside = writeOutsideTheQueue(eventStore);
    const expiry = handleCommand({ eventStore, ids }, STREAM, decider, { type: 'Expire', data: {} }, context, {
      maxRetries: 0,
    });
    const record = handleCommand({ eventStore, ids }, STREAM, decider, { type: 'Record', data: {} }, context);
    await outside;
    await expect(expiry).rejects.toBeInstanceOf(ConcurrencyError);
    await record;
    const { events } = await eventStore.readStream(STREAM);
    const recorded = events.findIndex((e) => e.type === 'Recorded');
    expect(recorded).toBeGreaterThan(0);
    // What the command decided from is exactly what preceded its event: never the failed expiry.
    expect(events[recorded]!.data.before).toEqual(events.slice(0, recorded).map((e) => e.type));
  });

  it('still queues commands on one stream without conflicts between them', async () => {
    const eventStore = await openedStore();
    const records = await Promise.all(
      Array.from({ length: 20 }, () =>
        handleCommand({ eventStore, ids }, STREAM, decider, { type: 'Record', data: {} }, context, { maxRetries: 0 }),
      ),
    );
    expect(records.every((r) => r.newEvents.length === 1)).toBe(true);
    const { events } = await eventStore.readStream(STREAM);
    expect(events).toHaveLength(21);
    events.forEach((event, index) => {
      if (index > 0) expect(event.data.before).toEqual(events.slice(0, index).map((e) => e.type));
    });
  });
});
