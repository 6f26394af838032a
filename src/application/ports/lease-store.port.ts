/**
 * Leases: which instance runs a consumer, and which instances are alive, when several Herald processes share the
 * stores. A lease not renewed within its time to live is free again, so a dead holder's work moves to another
 * instance. Coordination state, not derived from events: it lives beside the scheduler's jobs (MongoDB collection
 * `herald_leases`, or a table in the embedded scheduler's file), never in the rebuildable read models
 * (docs/decisions/0020-consumer-leases.md). Times are the caller's clock: instances must agree within a second.
 */
export interface LeaseInfo {
  readonly owner: string;
  /** Epoch ms after which the lease is free. */
  readonly expiresAt: number;
}

export interface LeaseStore {
  /**
   * Takes `name` for `owner` until now + ttlMs if it is free, run out, or already `owner`'s (a renewal). Returns
   * whether `owner` holds it now. Atomic: of two instances asking at once, one gets it.
   */
  acquire(name: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease up now if `owner` holds it (a graceful stop), so another instance need not wait it out. */
  release(name: string, owner: string): Promise<void>;
  /** Who holds `name` now; null when nobody does (never taken, released, or run out). */
  holder(name: string): Promise<LeaseInfo | null>;
  close(): Promise<void>;
}
