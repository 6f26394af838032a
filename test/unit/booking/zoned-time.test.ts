import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DAY_MS,
  formatInZone,
  instantsOfWallTime,
  instantsOfWallTimeRange,
  isoWeekday,
  localMsAt,
  normalizeInstant,
  normalizeTimeZone,
  offsetSegments,
  parseInstant,
  parseLocalDate,
  parseLocalTime,
  wallTimeToInstant,
} from '../../../src/domain/shared/zoned-time.js';

// The zoned-time helpers live in src/domain/shared; their tests sit with booking, their main user.
const wall = (iso: string) => Date.parse(`${iso}Z`);
const at = (iso: string) => Date.parse(iso);

describe('zoned time', () => {
  it('accepts IANA zones known to Intl, fixing only the letter case', () => {
    expect(normalizeTimeZone('Europe/Oslo')).toBe('Europe/Oslo');
    expect(normalizeTimeZone('europe/oslo')).toBe('Europe/Oslo');
    expect(normalizeTimeZone('Asia/Kolkata')).toBe('Asia/Kolkata');
    for (const bad of ['+01:00', 'GMT+1', 'Europe/Atlantis', '', ' ']) expect(normalizeTimeZone(bad)).toBeNull();
  });

  it('parses only ISO-8601 instants that carry a zone', () => {
    expect(normalizeInstant('2025-03-30T09:00:00+02:00')).toBe('2025-03-30T07:00:00.000Z');
    expect(normalizeInstant('2025-03-30T09:00-03:30')).toBe('2025-03-30T12:30:00.000Z');
    expect(normalizeInstant('2025-03-30T07:00:00.123456Z')).toBe('2025-03-30T07:00:00.123Z');
    for (const bad of [
      '2025-03-30T09:00:00',
      '2025-03-30',
      '2025-02-29T09:00:00Z',
      '2025-03-30T24:00:00Z',
      '30.03.2025 09:00',
      1_743_318_000_000,
    ]) {
      expect(parseInstant(bad)).toBeNull();
    }
  });

  it('parses local dates and times', () => {
    expect(parseLocalDate('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
    expect(parseLocalDate('2025-02-29')).toBeNull();
    expect(parseLocalTime('09:30')).toBe(570);
    expect(parseLocalTime('24:00')).toBeNull();
    expect(parseLocalTime('24:00', true)).toBe(1440);
    expect(parseLocalTime('9:30')).toBeNull();
    expect(isoWeekday(Date.UTC(2025, 2, 30))).toBe(7); // a Sunday
    expect(isoWeekday(Date.UTC(1969, 11, 29))).toBe(1); // a Monday before the epoch
  });

  it('finds the exact instant of a transition', () => {
    const segments = offsetSegments('Europe/Oslo', at('2025-03-29T00:00:00Z'), at('2025-03-31T00:00:00Z'));
    expect(segments).toEqual([
      { start: at('2025-03-29T00:00:00Z'), end: at('2025-03-30T01:00:00Z'), offsetMs: 3_600_000 },
      { start: at('2025-03-30T01:00:00Z'), end: at('2025-03-31T00:00:00Z'), offsetMs: 7_200_000 },
    ]);
  });

  it('maps wall times in gaps and overlaps like Temporal', () => {
    const gap = wall('2025-03-30T02:30:00');
    expect(wallTimeToInstant('Europe/Oslo', gap)).toBe(at('2025-03-30T01:30:00Z')); // 03:30 summer time
    expect(wallTimeToInstant('Europe/Oslo', gap, 'earlier')).toBe(at('2025-03-30T00:30:00Z')); // 01:30 winter time
    expect(wallTimeToInstant('Europe/Oslo', gap, 'reject')).toBeNull();
    const overlap = wall('2025-10-26T02:30:00');
    expect(wallTimeToInstant('Europe/Oslo', overlap)).toBe(at('2025-10-26T00:30:00Z'));
    expect(wallTimeToInstant('Europe/Oslo', overlap, 'later')).toBe(at('2025-10-26T01:30:00Z'));
    expect(wallTimeToInstant('Europe/Oslo', overlap, 'reject')).toBeNull();
  });

  it('gives the exact preimage of a wall-time range across a fall-back night', () => {
    const segments = offsetSegments('Europe/Oslo', at('2025-10-24T00:00:00Z'), at('2025-10-28T00:00:00Z'));
    // 01:00-02:30 happens once from 01:00 to 02:30 summer time, then 02:00-02:30 again in winter time.
    expect(instantsOfWallTimeRange(segments, wall('2025-10-26T01:00:00'), wall('2025-10-26T02:30:00'))).toEqual([
      { start: at('2025-10-25T23:00:00Z'), end: at('2025-10-26T00:30:00Z') },
      { start: at('2025-10-26T01:00:00Z'), end: at('2025-10-26T01:30:00Z') },
    ]);
  });

  it('formats instants with the offset in force', () => {
    expect(formatInZone('Asia/Kolkata', at('2025-06-01T00:00:00Z'))).toBe('2025-06-01T05:30:00+05:30');
    expect(formatInZone('Pacific/Chatham', at('2025-01-01T00:00:00Z'))).toBe('2025-01-01T13:45:00+13:45');
    expect(formatInZone('America/St_Johns', at('2025-01-01T12:00:00Z'))).toBe('2025-01-01T08:30:00-03:30');
    expect(formatInZone('UTC', at('2025-01-01T12:00:00Z'))).toBe('2025-01-01T12:00:00+00:00');
  });

  it('round-trips every instant through its wall time (property)', () => {
    const zones = [
      'Europe/Oslo',
      'America/New_York',
      'Australia/Lord_Howe',
      'Pacific/Chatham',
      'America/Santiago',
      'Asia/Kolkata',
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.integer({ min: at('2020-01-01T00:00:00Z'), max: at('2030-01-01T00:00:00Z') }),
        (zone, instant) => {
          const segments = offsetSegments(zone, instant - 2 * DAY_MS, instant + 2 * DAY_MS);
          expect(instantsOfWallTime(segments, localMsAt(zone, instant))).toContain(instant);
        },
      ),
      { numRuns: 300 },
    );
  });
});
