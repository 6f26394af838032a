import { MongoServerError, type Db } from 'mongodb';
import type { Clock } from '../../application/ports/clock.port.js';
import type { LeaseInfo, LeaseStore } from '../../application/ports/lease-store.port.js';
import { systemClock } from '../system-clock.js';

/** Beside Agenda's `agenda_jobs`: coordination state, not a read model (docs/decisions/0020-consumer-leases.md). */
export const MONGO_LEASE_COLLECTION = 'herald_leases';

interface LeaseRow {
  _id: string;
  owner: string;
  expiresAt: number;
}

const DUPLICATE_KEY = 11000;

/** Leases in MongoDB: one document per lease, taken with one conditional upsert. */
export function createMongoLeaseStore(options: { readonly db: Db; readonly clock?: Clock }): LeaseStore {
  const clock = options.clock ?? systemClock;
  const leases = options.db.collection<LeaseRow>(MONGO_LEASE_COLLECTION);
  return {
    async acquire(name, owner, ttlMs) {
      const now = clock.now().getTime();
      try {
        // Matches a lease that is ours or has run out; otherwise the upsert's insert hits the taken _id.
        const result = await leases.updateOne(
          { _id: name, $or: [{ owner }, { expiresAt: { $lte: now } }] },
          { $set: { owner, expiresAt: now + ttlMs } },
          { upsert: true },
        );
        return result.matchedCount + result.upsertedCount > 0;
      } catch (error) {
        if (error instanceof MongoServerError && error.code === DUPLICATE_KEY) return false;
        throw error;
      }
    },
    async release(name, owner) {
      await leases.deleteOne({ _id: name, owner });
    },
    async holder(name): Promise<LeaseInfo | null> {
      const row = await leases.findOne({ _id: name });
      if (!row || row.expiresAt <= clock.now().getTime()) return null;
      return { owner: row.owner, expiresAt: row.expiresAt };
    },
    async close() {},
  };
}
