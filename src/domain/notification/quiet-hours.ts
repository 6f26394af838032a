import { ValidationError } from '../shared/errors.js';
import { DAY_MS, localMsAt, MINUTE_MS, parseLocalTime, wallTimeToInstant } from '../shared/zoned-time.js';
import type { Channel } from './kinds.js';
import { CHANNELS } from './kinds.js';

/**
 * Quiet hours: wall-clock windows (in the location's zone) in which a channel sends nothing to customers, e.g. no
 * SMS 21:00–08:00. A message due inside them is deferred to their end — or skipped, recorded with the reason, when
 * their end is after the reservation's start. Messages caused directly by the customer's own action (their booking,
 * their cancellation, joining a waitlist) may be exempt.
 */
export interface QuietWindow {
  /** `HH:MM`; a window may run past midnight (`21:00`–`08:00`). */
  readonly start: string;
  readonly end: string;
}

export type ChannelWindows = Partial<Readonly<Record<Channel, QuietWindow | null>>>;

export interface QuietHours {
  /** The tenant's windows per channel. */
  readonly channels: ChannelWindows;
  /** Per location: replaces the tenant's window of a channel (`null`: no quiet hours there). */
  readonly locations?: Readonly<Record<string, ChannelWindows>>;
  /** Messages caused by the customer's own action go out at once even inside quiet hours. */
  readonly exemptCustomerActions: boolean;
}

export function validateQuietHours(raw: QuietHours): QuietHours {
  const windows = (field: string, value: ChannelWindows | undefined): ChannelWindows => {
    const out: Partial<Record<Channel, QuietWindow | null>> = {};
    for (const [channel, window] of Object.entries(value ?? {})) {
      if (!(CHANNELS as readonly string[]).includes(channel)) {
        throw new ValidationError('invalid-quiet-hours', `Unknown channel ${channel}.`, {
          field: `${field}.${channel}`,
        });
      }
      if (window === null) {
        out[channel as Channel] = null;
        continue;
      }
      const start = parseLocalTime(window?.start);
      const end = parseLocalTime(window?.end);
      if (start === null || end === null || start === end) {
        throw new ValidationError('invalid-quiet-hours', 'A quiet window is two different times HH:MM.', {
          field: `${field}.${channel}`,
        });
      }
      out[channel as Channel] = { start: window.start, end: window.end };
    }
    return out;
  };
  if (typeof raw.exemptCustomerActions !== 'boolean') {
    throw new ValidationError('invalid-quiet-hours', 'exemptCustomerActions must be true or false.', {
      field: 'quietHours.exemptCustomerActions',
    });
  }
  const locations: Record<string, ChannelWindows> = {};
  for (const [locationId, value] of Object.entries(raw.locations ?? {})) {
    locations[locationId] = windows(`quietHours.locations.${locationId}`, value);
  }
  return {
    channels: windows('quietHours.channels', raw.channels),
    ...(Object.keys(locations).length > 0 ? { locations } : {}),
    exemptCustomerActions: raw.exemptCustomerActions,
  };
}

/** The window in force for a channel at a location, if any. */
export function quietWindowFor(quiet: QuietHours | undefined, channel: Channel, locationId: string | null) {
  if (!quiet) return null;
  const local = locationId !== null ? quiet.locations?.[locationId] : undefined;
  if (local && Object.hasOwn(local, channel)) return local[channel] ?? null;
  return quiet.channels[channel] ?? null;
}

/**
 * When a message due at `at` may go out: `at` itself outside the window, else the instant the window ends (in
 * `timeZone`, DST-correct: on a spring-forward night an end inside the gap moves forward).
 */
export function quietUntil(window: QuietWindow | null, timeZone: string, at: number): number {
  if (!window) return at;
  const start = parseLocalTime(window.start)!;
  const end = parseLocalTime(window.end)!;
  const local = localMsAt(timeZone, at);
  const dayStart = local - (((local % DAY_MS) + DAY_MS) % DAY_MS);
  const minute = Math.floor((local - dayStart) / MINUTE_MS);
  const inside = start < end ? minute >= start && minute < end : minute >= start || minute < end;
  if (!inside) return at;
  // The end is today (a window that ended past midnight, or one within the day) or tomorrow.
  const endDay = start < end || minute < end ? dayStart : dayStart + DAY_MS;
  return wallTimeToInstant(timeZone, endDay + end * MINUTE_MS, 'compatible') ?? at;
}
