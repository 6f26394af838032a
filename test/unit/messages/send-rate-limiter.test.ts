import { describe, expect, it } from 'vitest';
import { createSendRateLimiter } from '../../../src/application/messages/send-rate-limiter.js';

/** A clock that only moves when the limiter sleeps: the start times show exactly what the limiter allowed. */
function virtualTime() {
  let t = 0;
  return {
    now: () => t,
    sleep: async (ms: number) => {
      t += ms;
    },
    advance: (ms: number) => {
      t += ms;
    },
  };
}

describe('campaign send pacing', () => {
  it('lets no more than the rate start within any one second, whatever the burst', async () => {
    const time = virtualTime();
    const limiter = createSendRateLimiter(time.now, time.sleep);
    const starts: number[] = [];
    await Promise.all(
      Array.from({ length: 10 }, () => limiter.acquire('t|sms', 4).then(() => starts.push(time.now()))),
    );
    expect(starts).toEqual([0, 0, 0, 0, 1000, 1000, 1000, 1000, 2000, 2000]);
  });

  it('does not hold back sends that are already spaced out, and keeps tenants and channels apart', async () => {
    const time = virtualTime();
    const limiter = createSendRateLimiter(time.now, time.sleep);
    for (let i = 0; i < 5; i++) {
      await limiter.acquire('a|sms', 2);
      time.advance(600);
    }
    expect(time.now()).toBe(3000);
    await Promise.all([1, 2, 3].map(() => limiter.acquire('b|sms', 3)));
    await Promise.all([1, 2, 3].map(() => limiter.acquire('a|email', 3)));
    expect(time.now()).toBe(3000);
  });
});
