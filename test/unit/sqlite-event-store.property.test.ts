import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { NewEvent } from '../../src/application/ports/event-store.port.js';
import { ConcurrencyError } from '../../src/domain/shared/errors.js';
import { createSqliteEventStore } from '../../src/infrastructure/sqlite/sqlite-event-store.js';

const newEvents = (count: number): NewEvent[] =>
  Array.from({ length: count }, () => ({
    id: randomUUID(),
    type: 'SeatHeld',
    data: {},
    metadata: { tenantId: 'tenant-1' },
  }));

/** A writer appends `events` either with the revision it read before anyone in its round wrote, or with 'any'. */
const writer = fc.record({ events: fc.integer({ min: 1, max: 3 }), checked: fc.boolean() });

describe('SQLite event store under concurrent appends', () => {
  it('never leaves a gap or a duplicate revision, and appends exactly what it acknowledged', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(writer, { minLength: 1, maxLength: 4 }), { maxLength: 8 }), async (rounds) => {
        const store = createSqliteEventStore({ filename: ':memory:' });
        let acknowledged = 0;
        try {
          for (const round of rounds) {
            const { revision } = await store.readStream('slot-1');
            const outcomes = await Promise.allSettled(
              round.map((w) => store.appendToStream('slot-1', newEvents(w.events), w.checked ? revision : 'any')),
            );
            outcomes.forEach((outcome, i) => {
              if (outcome.status === 'fulfilled') acknowledged += round[i]!.events;
              else expect(outcome.reason).toBeInstanceOf(ConcurrencyError);
            });
          }

          const { events } = await store.readStream('slot-1');
          expect(events.map((event) => event.revision)).toEqual(events.map((_, i) => BigInt(i)));
          expect(events).toHaveLength(acknowledged);
          const positions = events.map((event) => event.position);
          expect(positions.every((position, i) => i === 0 || position > positions[i - 1]!)).toBe(true);
        } finally {
          await store.close();
        }
      }),
      { numRuns: 100 },
    );
  });
});
