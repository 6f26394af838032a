/**
 * Resolves with the first `count` messages once a test server has received that many, or rejects after
 * `timeoutMs`. The server calls every function in `waiters` each time a message arrives.
 */
export function untilReceived<T>(
  messages: readonly T[],
  waiters: Set<() => void>,
  count: number,
  timeoutMs: number,
): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (messages.length < count) return;
      cleanup();
      resolve(messages.slice(0, count));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`expected ${count} message(s) within ${timeoutMs} ms, got ${messages.length}`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      waiters.delete(check);
    };
    waiters.add(check);
    check();
  });
}
