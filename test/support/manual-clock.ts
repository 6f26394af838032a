import type { Clock } from '../../src/application/ports/clock.port.js';

/** A clock the test moves by hand: `set` an instant (ISO 8601), and everything reading the clock sees it. */
export interface ManualClock extends Clock {
  set(iso: string): void;
}

export function manualClock(start: string): ManualClock {
  let now = Date.parse(start);
  return { now: () => new Date(now), set: (iso) => void (now = Date.parse(iso)) };
}
