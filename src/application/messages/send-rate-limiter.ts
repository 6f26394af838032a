/**
 * Paces sends so that no more than `perSecond` start within any one second, per key (a tenant's channel). The
 * campaign runner hands out batches at that rate, but a busy process can send a late batch right behind the next
 * one; this limiter, in front of the provider call, is what keeps a campaign within the configured rate. Real time:
 * it is about the provider's and the recipients' experience, not the domain clock.
 */
export interface SendRateLimiter {
  /** Resolves when a send under `key` may start without exceeding `perSecond` in any one-second window. */
  acquire(key: string, perSecond: number): Promise<void>;
}

const WINDOW_MS = 1_000;

export function createSendRateLimiter(
  now: () => number = () => performance.now(),
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): SendRateLimiter {
  /** Start times of the last sends per key (at most `perSecond` kept), and the queue of waiting acquisitions. */
  const starts = new Map<string, number[]>();
  const queues = new Map<string, Promise<void>>();

  async function take(key: string, perSecond: number): Promise<void> {
    const limit = Math.max(1, Math.floor(perSecond));
    const times = starts.get(key) ?? [];
    if (times.length >= limit) {
      const wait = times[times.length - limit]! + WINDOW_MS - now();
      if (wait > 0) await sleep(wait);
    }
    times.push(now());
    starts.set(key, times.slice(-limit));
  }

  return {
    acquire(key, perSecond) {
      const previous = queues.get(key) ?? Promise.resolve();
      const turn = previous.then(() => take(key, perSecond));
      const settled = turn.catch(() => undefined);
      queues.set(key, settled);
      void settled.then(() => {
        if (queues.get(key) === settled) queues.delete(key);
      });
      return turn;
    },
  };
}
