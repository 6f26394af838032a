import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodePosition,
  encodePosition,
  type Filter,
  type ReadModelStore,
  type StoredDocument,
} from '../../src/application/ports/read-model-store.port.js';

export interface ReadModelStoreSubject {
  readonly store: ReadModelStore;
  /** Closes the store and removes whatever the subject created (a test database). */
  dispose(): Promise<void>;
}

/**
 * The behaviour every ReadModelStore adapter must show. It is also what decides whether a test server is good
 * enough to stand in for MongoDB: a failure here is fixed in the adapter (with a portable operation) or written
 * down as a limit, never skipped.
 */
export function readModelStoreContract(name: string, factory: () => Promise<ReadModelStoreSubject>): void {
  describe(`ReadModelStore contract: ${name}`, () => {
    let subject: ReadModelStoreSubject | undefined;
    let collectionCounter = 0;
    const store = (): ReadModelStore => {
      if (subject === undefined) throw new Error('store not created');
      return subject.store;
    };
    /** Every test works in collections of its own. */
    const freshCollection = (): string => `contract_${++collectionCounter}`;
    const ids = (docs: readonly StoredDocument[]): string[] => docs.map((doc) => doc._id);

    beforeAll(async () => {
      subject = await factory();
    });
    afterAll(async () => {
      await subject?.dispose();
    });

    it('answers ping', async () => {
      await expect(store().ping()).resolves.toBeUndefined();
    });

    describe('get, put, delete', () => {
      it('returns null for a document that was never written', async () => {
        expect(await store().get(freshCollection(), 'nope')).toBeNull();
      });

      it('reads back what put wrote, and put replaces the whole document', async () => {
        const c = freshCollection();
        await store().put(c, { _id: 'k1', name: 'Ada', plan: 'pro' });
        expect(await store().get(c, 'k1')).toEqual({ _id: 'k1', name: 'Ada', plan: 'pro' });

        await store().put(c, { _id: 'k1', name: 'Ada L.' });
        expect(await store().get(c, 'k1')).toEqual({ _id: 'k1', name: 'Ada L.' });
      });

      it('round-trips nested objects, arrays and every JSON scalar', async () => {
        const c = freshCollection();
        const doc = {
          _id: 'res-1',
          guest: { name: 'Zoë Ünal', contact: { email: 'zoe@example.com', phone: null }, tags: [] },
          seats: [1, 2.5, -3, 0],
          lines: [
            { sku: 'A', qty: 2, notes: ['window', 'quiet'] },
            { sku: 'B', qty: 1, extras: {} },
          ],
          matrix: [[1, 2], [], [['deep']]],
          confirmed: true,
          cancelled: false,
          note: '',
          emoji: '🎉 — “quotes” \\ backslash \n newline',
          big: 9_007_199_254_740_991,
          tiny: 1e-7,
        };
        await store().put(c, doc);
        expect(await store().get(c, 'res-1')).toEqual(doc);
      });

      it('stores documents as JSON: undefined fields are dropped, like in every store', async () => {
        const c = freshCollection();
        await store().put(c, { _id: 'u', kept: 1, dropped: undefined });
        expect(await store().get(c, 'u')).toEqual({ _id: 'u', kept: 1 });
      });

      it('deletes a document, and deleting a missing one is harmless', async () => {
        const c = freshCollection();
        await store().put(c, { _id: 'gone', v: 1 });
        await store().delete(c, 'gone');
        await store().delete(c, 'never-there');
        expect(await store().get(c, 'gone')).toBeNull();
        expect(await store().count(c, {})).toBe(0);
      });

      it('keeps collections apart: the same _id in two collections are two documents', async () => {
        const a = freshCollection();
        const b = freshCollection();
        await store().put(a, { _id: 'same', from: 'a' });
        await store().put(b, { _id: 'same', from: 'b' });
        await store().delete(a, 'same');
        expect(await store().get(a, 'same')).toBeNull();
        expect(await store().get(b, 'same')).toEqual({ _id: 'same', from: 'b' });
        expect(await store().find(b, {})).toHaveLength(1);
      });
    });

    describe('putGuardedMany and scan (the rebuild and its verification)', () => {
      it('writes a batch with each write guarded on its own, and deletes leave tombstones that scan shows', async () => {
        const c = freshCollection();
        const other = freshCollection();
        await store().putGuarded(c, 'newer', { v: 'kept' }, 50n);
        await store().putGuarded(c, 'older', { v: 'old' }, 1n);
        await store().putGuarded(c, 'gone', { v: 'soon deleted' }, 1n);
        await store().putGuardedMany([
          { collection: c, id: 'newer', doc: { v: 'stale' }, position: 10n },
          { collection: c, id: 'older', doc: { v: 'new', tags: ['a'] }, position: 10n },
          { collection: c, id: 'gone', doc: null, position: 10n },
          { collection: c, id: 'fresh', doc: { v: 'fresh' }, position: 11n },
          { collection: other, id: 'x', doc: { v: 'elsewhere' }, position: 12n },
        ]);
        expect(await store().get(c, 'newer')).toMatchObject({ v: 'kept', _position: encodePosition(50n) });
        expect(await store().get(c, 'older')).toMatchObject({ v: 'new', _position: encodePosition(10n) });
        expect(await store().get(c, 'gone')).toBeNull();
        expect(await store().find(c, { tags: 'a' })).toHaveLength(1);
        expect(await store().get(other, 'x')).toMatchObject({ v: 'elsewhere' });

        const all = await store().scan(c, { limit: 100 });
        expect(all.map((row) => row._id)).toEqual(['fresh', 'gone', 'newer', 'older']);
        expect(all[1]).toEqual({ _id: 'gone', _position: encodePosition(10n), _deleted: true });
        expect(all[0]).toEqual({ _id: 'fresh', v: 'fresh', _position: encodePosition(11n) });
        const page = await store().scan(c, { after: 'gone', limit: 1 });
        expect(page.map((row) => row._id)).toEqual(['newer']);
        expect(await store().scan(freshCollection(), { limit: 10 })).toEqual([]);
      });

      it('scans in byte order of the id, the same in every store', async () => {
        const c = freshCollection();
        const ids = ['b', 'B', 'a-1', 'a_1', 'a.1', 'a:1', 'Z9', '0'];
        await store().putGuardedMany(ids.map((id, i) => ({ collection: c, id, doc: { i }, position: BigInt(i) })));
        const scanned = (await store().scan(c, { limit: 100 })).map((row) => row._id);
        expect(scanned).toEqual([...ids].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
      });
    });

    describe('putGuarded', () => {
      it('writes an absent document once and records the position', async () => {
        const c = freshCollection();
        expect(await store().putGuarded(c, 'r1', { status: 'requested' }, 5n)).toBe(true);
        const doc = await store().get(c, 'r1');
        expect(doc).toEqual({ _id: 'r1', status: 'requested', _position: encodePosition(5n) });
        expect(decodePosition(doc?._position)).toBe(5n);
      });

      it('ignores the same event delivered twice: nothing changes', async () => {
        const c = freshCollection();
        expect(await store().putGuarded(c, 'r1', { status: 'confirmed', seats: 2 }, 7n)).toBe(true);
        expect(await store().putGuarded(c, 'r1', { status: 'confirmed', seats: 2 }, 7n)).toBe(false);
        expect(await store().putGuarded(c, 'r1', { status: 'something else' }, 7n)).toBe(false);
        expect(await store().get(c, 'r1')).toEqual({
          _id: 'r1',
          status: 'confirmed',
          seats: 2,
          _position: encodePosition(7n),
        });
      });

      it('ignores lower positions and applies higher ones', async () => {
        const c = freshCollection();
        await store().putGuarded(c, 'r1', { status: 'confirmed' }, 10n);
        expect(await store().putGuarded(c, 'r1', { status: 'requested' }, 9n)).toBe(false);
        expect(await store().putGuarded(c, 'r1', { status: 'cancelled' }, 11n)).toBe(true);
        expect(await store().get(c, 'r1')).toMatchObject({ status: 'cancelled', _position: encodePosition(11n) });
      });

      it('compares positions as numbers, beyond 2^53 and across digit counts', async () => {
        const c = freshCollection();
        await store().putGuarded(c, 'r1', { v: 'nine' }, 9n);
        expect(await store().putGuarded(c, 'r1', { v: 'ten' }, 10n)).toBe(true);
        const huge = 2n ** 63n - 1n;
        expect(await store().putGuarded(c, 'r1', { v: 'huge' }, huge)).toBe(true);
        expect(await store().putGuarded(c, 'r1', { v: 'lower' }, huge - 1n)).toBe(false);
        expect(decodePosition((await store().get(c, 'r1'))?._position)).toBe(huge);
      });

      it('takes the id from the argument and the position from the guard, not from the document', async () => {
        const c = freshCollection();
        await store().putGuarded(c, 'real-id', { _id: 'other', _position: '99999999999999999999', v: 1 }, 3n);
        expect(await store().get(c, 'real-id')).toEqual({ _id: 'real-id', v: 1, _position: encodePosition(3n) });
        expect(await store().get(c, 'other')).toBeNull();
      });

      it('overwrites a document written by put without a position', async () => {
        const c = freshCollection();
        await store().put(c, { _id: 'r1', legacy: true });
        expect(await store().putGuarded(c, 'r1', { status: 'new' }, 1n)).toBe(true);
        expect(await store().get(c, 'r1')).toEqual({ _id: 'r1', status: 'new', _position: encodePosition(1n) });
      });

      it('deletes with a guard, and a redelivered older event does not bring the document back', async () => {
        const c = freshCollection();
        await store().putGuarded(c, 'r1', { status: 'confirmed' }, 5n);
        expect(await store().putGuarded(c, 'r1', null, 4n)).toBe(false);
        expect(await store().get(c, 'r1')).toMatchObject({ status: 'confirmed' });

        expect(await store().putGuarded(c, 'r1', null, 8n)).toBe(true);
        expect(await store().get(c, 'r1')).toBeNull();
        expect(await store().putGuarded(c, 'r1', null, 8n)).toBe(false);
        expect(await store().putGuarded(c, 'r1', { status: 'confirmed' }, 5n)).toBe(false);
        expect(await store().get(c, 'r1')).toBeNull();
        expect(await store().find(c, {})).toEqual([]);
        expect(await store().find(c, { status: null })).toEqual([]);
        expect(await store().count(c, {})).toBe(0);
        expect(await store().count(c, { _id: 'r1' })).toBe(0);

        expect(await store().putGuarded(c, 'r1', { status: 'reopened' }, 9n)).toBe(true);
        expect(await store().get(c, 'r1')).toMatchObject({ status: 'reopened', _position: encodePosition(9n) });
      });

      it('ends with the highest position when writes race, for new and for existing documents', async () => {
        const c = freshCollection();
        await store().putGuarded(c, 'existing', { position: 0 }, 0n);
        const positions = fc.sample(
          fc.shuffledSubarray(
            [...Array(30).keys()].map((n) => n + 1),
            { minLength: 30 },
          ),
          { numRuns: 1, seed: 42 },
        )[0]!;
        const writes = ['fresh', 'existing'].flatMap((id) =>
          positions.map((p) => store().putGuarded(c, id, { position: p }, BigInt(p))),
        );
        const results = await Promise.all(writes);
        expect(results.filter(Boolean).length).toBeGreaterThanOrEqual(2);
        for (const id of ['fresh', 'existing']) {
          expect(await store().get(c, id)).toEqual({ _id: id, position: 30, _position: encodePosition(30n) });
        }
        expect(await store().putGuarded(c, 'fresh', { position: 30 }, 30n)).toBe(false);
      });

      it('ends deleted when a racing guarded delete has the highest position', async () => {
        const c = freshCollection();
        const writes = [3n, 1n, 4n, 2n].map((p) => store().putGuarded(c, 'r', { p: Number(p) }, p));
        await Promise.all([...writes, store().putGuarded(c, 'r', null, 5n)]);
        expect(await store().get(c, 'r')).toBeNull();
      });
    });

    describe('getForUpdate and putGuardedBatch (a projection batch)', () => {
      it('reads documents with their guards, tombstones included, and skips unknown ids', async () => {
        const c = freshCollection();
        await store().putGuarded(c, 'live', { v: 1 }, 4n);
        await store().putGuarded(c, 'gone', { v: 1 }, 2n);
        await store().putGuarded(c, 'gone', null, 6n);
        const found = await store().getForUpdate(c, ['live', 'gone', 'never']);
        expect([...found.keys()].sort()).toEqual(['gone', 'live']);
        expect(found.get('live')).toEqual({ doc: { _id: 'live', v: 1, _position: encodePosition(4n) }, position: 4n });
        expect(found.get('gone')).toEqual({ doc: null, position: 6n });
        expect((await store().getForUpdate(c, [])).size).toBe(0);
      });

      it('writes each document of a batch under its own guard and counts what it wrote', async () => {
        const c = freshCollection();
        await store().putGuarded(c, 'newer', { v: 'stored' }, 10n);
        await store().putGuarded(c, 'older', { v: 'stored' }, 3n);
        await store().putGuarded(c, 'deleted', { v: 'stored' }, 1n);
        const written = await store().putGuardedBatch(c, [
          { id: 'newer', doc: { v: 'batch' }, position: 9n },
          { id: 'older', doc: { v: 'batch' }, position: 8n },
          { id: 'fresh', doc: { v: 'batch', tags: ['a'] }, position: 8n },
          { id: 'deleted', doc: null, position: 7n },
        ]);
        expect(written).toBe(3);
        expect(await store().get(c, 'newer')).toMatchObject({ v: 'stored' });
        expect(await store().get(c, 'older')).toEqual({ _id: 'older', v: 'batch', _position: encodePosition(8n) });
        expect(await store().get(c, 'deleted')).toBeNull();
        expect(await store().find(c, { tags: 'a' })).toEqual([
          { _id: 'fresh', v: 'batch', tags: ['a'], _position: encodePosition(8n) },
        ]);
        // Redelivered: nothing changes.
        expect(await store().putGuardedBatch(c, [{ id: 'older', doc: { v: 'again' }, position: 8n }])).toBe(0);
        expect(await store().putGuardedBatch(c, [])).toBe(0);
      });
    });

    describe('insertIfAbsent', () => {
      it('inserts once and leaves an existing document alone', async () => {
        const c = freshCollection();
        expect(await store().insertIfAbsent(c, { _id: 'idem-1', response: 201 })).toBe(true);
        expect(await store().insertIfAbsent(c, { _id: 'idem-1', response: 500 })).toBe(false);
        expect(await store().get(c, 'idem-1')).toEqual({ _id: 'idem-1', response: 201 });
      });

      it('lets exactly one of many concurrent inserts win', async () => {
        const c = freshCollection();
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, n) => store().insertIfAbsent(c, { _id: 'race', n })),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = results.indexOf(true);
        expect(await store().get(c, 'race')).toEqual({ _id: 'race', n: winner });
      });

      it('treats a document removed by a guarded delete as absent', async () => {
        const c = freshCollection();
        await store().putGuarded(c, 'x', { v: 1 }, 1n);
        await store().putGuarded(c, 'x', null, 2n);
        expect(await store().insertIfAbsent(c, { _id: 'x', v: 'again' })).toBe(true);
        expect(await store().get(c, 'x')).toEqual({ _id: 'x', v: 'again' });
      });
    });

    describe('find: filters', () => {
      const docs: StoredDocument[] = [
        {
          _id: 'a',
          status: 'confirmed',
          seats: 2,
          vip: true,
          startsAt: '2026-03-01T18:00:00Z',
          guest: { name: 'Ada', city: 'Oslo' },
          tags: ['window', 'birthday'],
          note: null,
        },
        {
          _id: 'b',
          status: 'requested',
          seats: 4,
          vip: false,
          startsAt: '2026-03-02T19:30:00Z',
          guest: { name: 'Bo', city: 'Bergen' },
          tags: [],
        },
        {
          _id: 'c',
          status: 'cancelled',
          seats: 1,
          startsAt: '2026-03-01T12:00:00Z',
          guest: { name: 'Cy' },
          tags: ['window'],
        },
        {
          _id: 'd',
          status: 'confirmed',
          seats: 6.5,
          vip: true,
          startsAt: '2026-02-28T09:00:00Z',
          guest: { name: 'Di', city: 'Oslo' },
          note: 'allergy',
        },
        { _id: 'e', status: 'confirmed', seats: '3', vip: 'yes', guest: { name: 'Ed', city: null } },
      ];
      let c: string;
      const query = async (filter: Filter): Promise<string[]> => ids(await store().find(c, filter)).sort();

      beforeAll(async () => {
        c = freshCollection();
        for (const doc of docs) await store().put(c, doc);
      });

      it('matches everything with an empty filter', async () => {
        expect(await query({})).toEqual(['a', 'b', 'c', 'd', 'e']);
      });

      it('matches equality on strings, numbers and booleans, never across kinds', async () => {
        expect(await query({ status: 'confirmed' })).toEqual(['a', 'd', 'e']);
        expect(await query({ seats: 2 })).toEqual(['a']);
        expect(await query({ seats: 3 })).toEqual([]);
        expect(await query({ seats: '3' })).toEqual(['e']);
        expect(await query({ vip: true })).toEqual(['a', 'd']);
        expect(await query({ vip: false })).toEqual(['b']);
        expect(await query({ seats: { $eq: 6.5 } })).toEqual(['d']);
      });

      it('lets null match both null and a missing field', async () => {
        expect(await query({ note: null })).toEqual(['a', 'b', 'c', 'e']);
        expect(await query({ vip: null })).toEqual(['c']);
        expect(await query({ 'guest.city': { $eq: null } })).toEqual(['c', 'e']);
      });

      it('tells a missing field from null with $exists', async () => {
        expect(await query({ note: { $exists: true } })).toEqual(['a', 'd']);
        expect(await query({ note: { $exists: false } })).toEqual(['b', 'c', 'e']);
        expect(await query({ 'guest.city': { $exists: false } })).toEqual(['c']);
        expect(await query({ 'guest.city': { $exists: true } })).toEqual(['a', 'b', 'd', 'e']);
      });

      it('matches $ne, including documents without the field', async () => {
        expect(await query({ status: { $ne: 'confirmed' } })).toEqual(['b', 'c']);
        expect(await query({ vip: { $ne: true } })).toEqual(['b', 'c', 'e']);
        expect(await query({ note: { $ne: null } })).toEqual(['d']);
        expect(await query({ 'guest.city': { $ne: 'Oslo' } })).toEqual(['b', 'c', 'e']);
      });

      it('matches $in, where null stands for missing too and an empty list matches nothing', async () => {
        expect(await query({ status: { $in: ['requested', 'cancelled'] } })).toEqual(['b', 'c']);
        expect(await query({ seats: { $in: [1, 2, '3'] } })).toEqual(['a', 'c', 'e']);
        expect(await query({ vip: { $in: [false, null] } })).toEqual(['b', 'c']);
        expect(await query({ status: { $in: [] } })).toEqual([]);
      });

      it('compares numbers with numbers only', async () => {
        expect(await query({ seats: { $gt: 2 } })).toEqual(['b', 'd']);
        expect(await query({ seats: { $gte: 2 } })).toEqual(['a', 'b', 'd']);
        expect(await query({ seats: { $lt: 4 } })).toEqual(['a', 'c']);
        expect(await query({ seats: { $lte: 4 } })).toEqual(['a', 'b', 'c']);
        expect(await query({ seats: { $gt: 1, $lt: 6.5 } })).toEqual(['a', 'b']);
        expect(await query({ seats: { $gte: -100, $lte: 100 } })).toEqual(['a', 'b', 'c', 'd']);
      });

      it('compares strings with strings only (ISO instants sort as text)', async () => {
        expect(await query({ startsAt: { $gte: '2026-03-01T00:00:00Z', $lt: '2026-03-02T00:00:00Z' } })).toEqual([
          'a',
          'c',
        ]);
        expect(await query({ startsAt: { $lt: '2026-03-01' } })).toEqual(['d']);
        expect(await query({ seats: { $gte: '0' } })).toEqual(['e']);
        expect(await query({ status: { $gt: 'cancelled', $lte: 'requested' } })).toEqual(['a', 'b', 'd', 'e']);
      });

      it('compares booleans with booleans only, and a range on null means equality', async () => {
        expect(await query({ vip: { $gt: false } })).toEqual(['a', 'd']);
        expect(await query({ vip: { $lte: false } })).toEqual(['b']);
        expect(await query({ note: { $gte: null } })).toEqual(['a', 'b', 'c', 'e']);
        expect(await query({ note: { $lt: null } })).toEqual([]);
      });

      it('reaches into nested objects with dotted paths', async () => {
        expect(await query({ 'guest.city': 'Oslo' })).toEqual(['a', 'd']);
        expect(await query({ 'guest.name': { $in: ['Bo', 'Cy'] } })).toEqual(['b', 'c']);
        expect(await query({ 'guest.name.first': { $exists: true } })).toEqual([]);
      });

      it('matches an array of scalars when one element matches, as MongoDB does', async () => {
        expect(await query({ tags: 'window' })).toEqual(['a', 'c']);
        expect(await query({ tags: { $in: ['birthday', 'nope'] } })).toEqual(['a']);
        expect(await query({ tags: { $ne: 'window' } })).toEqual(['b', 'd', 'e']);
        expect(await query({ tags: { $gt: 'c' } })).toEqual(['a', 'c']);
        expect(await query({ tags: { $exists: true } })).toEqual(['a', 'b', 'c']);
      });

      it('matches arrays that appear in a field only after it was queried', async () => {
        const later = freshCollection();
        await store().put(later, { _id: 'scalar', labels: 'urgent' });
        expect(ids(await store().find(later, { labels: 'urgent' }))).toEqual(['scalar']);
        await store().put(later, { _id: 'array', labels: ['late', 'urgent'], nested: { labels: ['x'] } });
        expect(ids(await store().find(later, { labels: 'urgent' }, { sort: { field: '_id', direction: 1 } }))).toEqual([
          'array',
          'scalar',
        ]);
        expect(await store().count(later, { labels: { $ne: 'urgent' } })).toBe(0);
        expect(ids(await store().find(later, { 'nested.labels': 'x' }))).toEqual(['array']);
      });

      it('combines conditions on several fields as a conjunction', async () => {
        expect(await query({ status: 'confirmed', vip: true, 'guest.city': 'Oslo', seats: { $lt: 5 } })).toEqual(['a']);
      });

      it('filters on _id', async () => {
        expect(await query({ _id: 'b' })).toEqual(['b']);
        expect(await query({ _id: { $in: ['a', 'e', 'zzz'] } })).toEqual(['a', 'e']);
        expect(await query({ _id: { $gte: 'c' }, status: 'confirmed' })).toEqual(['d', 'e']);
      });

      it('counts what find finds', async () => {
        expect(await store().count(c, {})).toBe(5);
        expect(await store().count(c, { status: 'confirmed' })).toBe(3);
        expect(await store().count(c, { note: null })).toBe(4);
        expect(await store().count(c, { seats: { $gt: 100 } })).toBe(0);
        expect(await store().count(freshCollection(), {})).toBe(0);
      });

      it('rejects filters outside the portable subset instead of guessing', async () => {
        const bad: Filter[] = [
          { $where: 'true' },
          { 'a..b': 1 },
          { "x') OR 1=1 --": 1 },
          { 'items.0': 1 },
          { status: { $regex: 'conf' } as never },
          { status: {} },
          { status: { $in: 'confirmed' } as never },
          { status: { $exists: 1 } as never },
          { seats: Number.NaN },
          { _deleted: true },
        ];
        for (const filter of bad) {
          await expect(store().find(c, filter), JSON.stringify(filter)).rejects.toThrow();
        }
        await expect(store().find('bad name; drop', {})).rejects.toThrow();
        await expect(store().find(c, {}, { sort: { field: 'x; drop', direction: 1 } })).rejects.toThrow();
        await expect(store().find(c, {}, { limit: -1 })).rejects.toThrow();
      });
    });

    describe('find: sort and pagination', () => {
      let c: string;
      beforeAll(async () => {
        c = freshCollection();
        // Shuffled insertion order so that natural order cannot pass for sorted order.
        const rows = [
          { _id: 'n05', rank: 2, at: '2026-01-02' },
          { _id: 'n02', rank: 1, at: '2026-01-01' },
          { _id: 'n09', rank: 3 },
          { _id: 'n01', rank: 2, at: '2026-01-03' },
          { _id: 'n07', rank: null, at: '2026-01-05' },
          { _id: 'n03', rank: 1, at: '2026-01-01' },
          { _id: 'n08', at: '2026-01-04' },
          { _id: 'n04', rank: 2.5, at: '2026-01-02' },
          { _id: 'n06', rank: 1, at: '2026-01-06' },
        ];
        for (const row of rows) await store().put(c, row);
      });

      it('sorts ascending with _id as tie-breaker, missing and null first', async () => {
        const docs = await store().find(c, {}, { sort: { field: 'rank', direction: 1 } });
        expect(ids(docs)).toEqual(['n07', 'n08', 'n02', 'n03', 'n06', 'n01', 'n05', 'n04', 'n09']);
      });

      it('sorts descending with _id as tie-breaker in the same direction', async () => {
        const docs = await store().find(c, {}, { sort: { field: 'rank', direction: -1 } });
        expect(ids(docs)).toEqual(['n09', 'n04', 'n05', 'n01', 'n06', 'n03', 'n02', 'n08', 'n07']);
      });

      it('sorts strings and _id itself', async () => {
        const byAt = await store().find(c, { at: { $exists: true } }, { sort: { field: 'at', direction: -1 } });
        expect(ids(byAt)).toEqual(['n06', 'n07', 'n08', 'n01', 'n05', 'n04', 'n03', 'n02']);
        const byId = await store().find(c, {}, { sort: { field: '_id', direction: -1 } });
        expect(ids(byId)).toEqual(['n09', 'n08', 'n07', 'n06', 'n05', 'n04', 'n03', 'n02', 'n01']);
      });

      it('orders by _id when no sort is given', async () => {
        expect(ids(await store().find(c, {}))).toEqual(['n01', 'n02', 'n03', 'n04', 'n05', 'n06', 'n07', 'n08', 'n09']);
      });

      it('pages with skip and limit without gaps or repeats', async () => {
        const sort = { field: 'rank', direction: 1 } as const;
        const all = ids(await store().find(c, {}, { sort }));
        const paged: string[] = [];
        for (let skip = 0; skip < 12; skip += 4) {
          const page = await store().find(c, {}, { sort, skip, limit: 4 });
          expect(page.length).toBeLessThanOrEqual(4);
          paged.push(...ids(page));
        }
        expect(paged).toEqual(all);
        expect(await store().find(c, {}, { sort, skip: 100 })).toEqual([]);
        expect(await store().find(c, {}, { limit: 0 })).toEqual([]);
        expect(ids(await store().find(c, { rank: 1 }, { sort, skip: 1, limit: 1 }))).toEqual(['n03']);
      });
    });

    describe('indexes and collections', () => {
      it('creates indexes idempotently and keeps answering the same', async () => {
        const c = freshCollection();
        await store().put(c, { _id: '1', tenantId: 't1', status: 'open', slot: { startsAt: '2026-01-01' } });
        await store().put(c, { _id: '2', tenantId: 't2', status: 'open' });
        await store().ensureIndex(c, ['tenantId', 'status']);
        await store().ensureIndex(c, ['tenantId', 'status']);
        await store().ensureIndex(c, ['slot.startsAt']);
        expect(ids(await store().find(c, { tenantId: 't1', status: 'open' }))).toEqual(['1']);
        expect(ids(await store().find(c, { 'slot.startsAt': { $gte: '2026' } }))).toEqual(['1']);
        await expect(store().ensureIndex(c, ['bad path!'])).rejects.toThrow();
      });

      it('drops one collection with its documents and leaves the others alone', async () => {
        const dropped = freshCollection();
        const kept = freshCollection();
        await store().ensureIndex(dropped, ['status']);
        await store().put(dropped, { _id: '1', status: 'x' });
        await store().putGuarded(dropped, '2', null, 9n);
        await store().put(kept, { _id: '1', status: 'x' });

        await store().dropCollection(dropped);
        expect(await store().get(dropped, '1')).toBeNull();
        expect(await store().count(dropped, {})).toBe(0);
        expect(await store().get(kept, '1')).toEqual({ _id: '1', status: 'x' });

        // Rebuild: the collection is usable again, and the tombstone went with it.
        expect(await store().putGuarded(dropped, '2', { status: 'rebuilt' }, 1n)).toBe(true);
        await store().ensureIndex(dropped, ['status']);
        expect(ids(await store().find(dropped, { status: 'rebuilt' }))).toEqual(['2']);
        await store().dropCollection(freshCollection());
      });
    });

    describe('tenants', () => {
      it('never returns another tenant’s documents for a tenant filter, whatever else the query says', async () => {
        const c = freshCollection();
        await store().ensureIndex(c, ['tenantId', 'status']);
        const statuses = ['requested', 'confirmed', 'cancelled'] as const;
        const all: StoredDocument[] = [];
        for (let n = 0; n < 60; n++) {
          const doc = {
            _id: `doc-${String(n).padStart(3, '0')}`,
            tenantId: n % 3 === 0 ? 'tenant-b' : 'tenant-a',
            status: statuses[n % 3]!,
            seats: n % 7,
          };
          all.push(doc);
          await store().put(c, doc);
        }

        const conditions = fc.record(
          {
            status: fc.oneof(
              fc.constantFrom(...statuses),
              fc.record({ $in: fc.subarray([...statuses]) }),
              fc.record({ $ne: fc.constantFrom(...statuses) }),
            ),
            seats: fc.oneof(
              fc.integer({ min: -1, max: 8 }),
              fc.record({ $gte: fc.integer({ min: -1, max: 8 }) }),
              fc.record({ $lt: fc.integer({ min: -1, max: 8 }) }),
            ),
          },
          { requiredKeys: [] },
        );
        await fc.assert(
          fc.asyncProperty(
            conditions,
            fc.constantFrom(1, -1),
            fc.nat(30),
            fc.integer({ min: 1, max: 25 }),
            async (extra, direction, skip, limit) => {
              const filter: Filter = { ...extra, tenantId: 'tenant-a' };
              const found = await store().find(c, filter, { sort: { field: 'seats', direction }, skip, limit });
              expect(found.every((doc) => doc.tenantId === 'tenant-a')).toBe(true);

              const expected = all
                .filter((doc) => doc.tenantId === 'tenant-a' && matchesExtra(doc, extra))
                .sort((x, y) => direction * ((x.seats as number) - (y.seats as number) || (x._id < y._id ? -1 : 1)));
              expect(ids(found)).toEqual(ids(expected.slice(skip, skip + limit)));
              expect(await store().count(c, filter)).toBe(expected.length);
            },
          ),
          { numRuns: 40, seed: 7 },
        );
      });
    });
  });
}

type Extra = {
  status?: string | { $in: string[] } | { $ne: string };
  seats?: number | { $gte: number } | { $lt: number };
};

/** The reference answer for the tenant property, written out by hand. */
function matchesExtra(doc: StoredDocument, extra: Extra): boolean {
  const { status, seats } = extra;
  if (typeof status === 'string' && doc.status !== status) return false;
  if (typeof status === 'object' && '$in' in status && !status.$in.includes(doc.status as string)) return false;
  if (typeof status === 'object' && '$ne' in status && doc.status === status.$ne) return false;
  const n = doc.seats as number;
  if (typeof seats === 'number' && n !== seats) return false;
  if (typeof seats === 'object' && '$gte' in seats && !(n >= seats.$gte)) return false;
  if (typeof seats === 'object' && '$lt' in seats && !(n < seats.$lt)) return false;
  return true;
}
