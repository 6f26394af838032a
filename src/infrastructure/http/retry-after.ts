/**
 * RFC 9110 §10.2.3 Retry-After: a number of seconds (`120`) or an HTTP-date (`Fri, 31 Dec 1999 23:59:59 GMT`),
 * as milliseconds from `now`. Anything else (absent, negative, garbage) is undefined: the caller's backoff applies.
 * A date in the past is 0. Bounds are the dispatcher's business (CHANNEL_RETRY_AFTER_MAX_SECONDS).
 */
export function parseRetryAfter(value: string | null | undefined, now: Date): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d{1,10}$/.test(text)) return Number(text) * 1000;
  // IMF-fixdate and the two obsolete forms RFC 9110 asks recipients to accept; Date.parse reads all three.
  if (!/^[A-Za-z]{3,9},? /.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now.getTime());
}
