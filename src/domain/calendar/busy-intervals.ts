import { parseInstant, toIsoInstant } from '../shared/zoned-time.js';

/** A time an external calendar says its owner is busy: `[start, end)`, ISO instants in UTC. */
export interface BusyInterval {
  readonly start: string;
  readonly end: string;
}

/** Epoch milliseconds, `[start, end)`. */
export interface MsInterval {
  readonly start: number;
  readonly end: number;
}

/**
 * Sorted, merged intervals (overlapping or touching ones become one), clipped to `[from, to)`; empty or inverted
 * ones are dropped. What a sync records, so the same busy times always give the same list.
 */
export function normalizeBusy(intervals: Iterable<MsInterval>, window: MsInterval): MsInterval[] {
  const clipped: MsInterval[] = [];
  for (const interval of intervals) {
    const start = Math.max(interval.start, window.start);
    const end = Math.min(interval.end, window.end);
    if (Number.isFinite(start) && Number.isFinite(end) && end > start) clipped.push({ start, end });
  }
  clipped.sort((a, b) => a.start - b.start || a.end - b.end);
  const merged: MsInterval[] = [];
  for (const interval of clipped) {
    const last = merged[merged.length - 1];
    if (last && interval.start <= last.end)
      merged[merged.length - 1] = { start: last.start, end: Math.max(last.end, interval.end) };
    else merged.push(interval);
  }
  return merged;
}

export function toBusyIntervals(intervals: readonly MsInterval[]): BusyInterval[] {
  return intervals.map((interval) => ({ start: toIsoInstant(interval.start), end: toIsoInstant(interval.end) }));
}

/** Parses recorded intervals; anything malformed is skipped (a projection never throws on a recorded event). */
export function toMsIntervals(intervals: readonly BusyInterval[]): MsInterval[] {
  const result: MsInterval[] = [];
  for (const interval of intervals) {
    const start = parseInstant(interval.start);
    const end = parseInstant(interval.end);
    if (start !== null && end !== null && end > start) result.push({ start, end });
  }
  return result;
}

/** The first interval of `sorted` (ascending, disjoint) that overlaps `[start, end)`, if any. */
export function firstOverlap(sorted: readonly MsInterval[], start: number, end: number): MsInterval | undefined {
  let lo = 0;
  let hi = sorted.length;
  // First interval whose end is after `start`.
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid]?.end ?? Infinity) <= start) lo = mid + 1;
    else hi = mid;
  }
  const candidate = sorted[lo];
  return candidate && candidate.start < end ? candidate : undefined;
}

/** `windows` minus `busy`: both ascending and disjoint; the result is too. */
export function subtractIntervals(windows: readonly MsInterval[], busy: readonly MsInterval[]): MsInterval[] {
  if (busy.length === 0) return [...windows];
  const result: MsInterval[] = [];
  let index = 0;
  for (const window of windows) {
    let cursor = window.start;
    while (index < busy.length && (busy[index]?.end ?? Infinity) <= cursor) index++;
    let scan = index;
    while (scan < busy.length) {
      const block = busy[scan];
      if (!block || block.start >= window.end) break;
      if (block.start > cursor) result.push({ start: cursor, end: block.start });
      cursor = Math.max(cursor, block.end);
      if (cursor >= window.end) break;
      scan++;
    }
    if (cursor < window.end) result.push({ start: cursor, end: window.end });
  }
  return result;
}
