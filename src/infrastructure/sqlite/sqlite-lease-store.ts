import Database from 'better-sqlite3';
import type { Clock } from '../../application/ports/clock.port.js';
import type { LeaseInfo, LeaseStore } from '../../application/ports/lease-store.port.js';
import { systemClock } from '../system-clock.js';

/**
 * Leases in a table of the embedded scheduler's file (agenda.sqlite), so processes sharing a DATA_DIR share them.
 * One statement takes a lease, so SQLite's write lock makes it atomic across processes.
 */
export function createSqliteLeaseStore(options: { readonly filename: string; readonly clock?: Clock }): LeaseStore {
  const clock = options.clock ?? systemClock;
  const db = new Database(options.filename);
  if (options.filename !== ':memory:') db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.exec(`CREATE TABLE IF NOT EXISTS herald_leases (
    name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID`);
  const take = db.prepare<[string, string, number, number]>(
    `INSERT INTO herald_leases (name, owner, expires_at) VALUES (?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
     WHERE herald_leases.owner = excluded.owner OR herald_leases.expires_at <= ?`,
  );
  const drop = db.prepare<[string, string]>('DELETE FROM herald_leases WHERE name = ? AND owner = ?');
  const select = db.prepare<[string], { owner: string; expires_at: number }>(
    'SELECT owner, expires_at FROM herald_leases WHERE name = ?',
  );
  return {
    async acquire(name, owner, ttlMs) {
      const now = clock.now().getTime();
      return take.run(name, owner, now + ttlMs, now).changes > 0;
    },
    async release(name, owner) {
      drop.run(name, owner);
    },
    async holder(name): Promise<LeaseInfo | null> {
      const row = select.get(name);
      if (!row || row.expires_at <= clock.now().getTime()) return null;
      return { owner: row.owner, expiresAt: row.expires_at };
    },
    async close() {
      db.close();
    },
  };
}
