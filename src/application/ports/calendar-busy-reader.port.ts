import type { MsInterval } from '../../domain/calendar/busy-intervals.js';
import type { SyncError } from '../../domain/calendar/resource-calendar.decider.js';

/** A linked calendar with its secret opened: only ever in memory, for one sync. */
export type OpenedCalendarSource =
  | { readonly provider: 'ical'; readonly url: string }
  | { readonly provider: 'google'; readonly calendar: string; readonly token: string }
  | { readonly provider: 'microsoft'; readonly user: string; readonly schedule: string; readonly token: string };

export type BusyReadResult =
  | { readonly ok: true; readonly busy: readonly MsInterval[] }
  | {
      readonly ok: false;
      readonly error: SyncError;
      /** The provider's Retry-After (429/503), in ms from now. */
      readonly retryAfterMs?: number;
    };

/**
 * Reads when a calendar is busy over a window: an iCal feed (fetched with the SSRF guard), Google Calendar's
 * FreeBusy API or Microsoft Graph's getSchedule. Never throws for a provider's failure: it is a result, recorded
 * as `ResourceCalendarSyncFailed`. Error messages never contain the feed URL or a token.
 */
export interface CalendarBusyReader {
  read(
    source: OpenedCalendarSource,
    window: { readonly from: Date; readonly to: Date; readonly timeZone: string },
  ): Promise<BusyReadResult>;
}
