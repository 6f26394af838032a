import type {
  BusyReadResult,
  CalendarBusyReader,
  OpenedCalendarSource,
} from '../../application/ports/calendar-busy-reader.port.js';
import type { MsInterval } from '../../domain/calendar/busy-intervals.js';
import type { SyncError, SyncErrorCode } from '../../domain/calendar/resource-calendar.decider.js';
import { DAY_MS, isValidTimeZone, wallTimeToInstant } from '../../domain/shared/zoned-time.js';
import { busyFromIcal, IcalFeedError } from './ical-busy-times.js';
import { HttpFailure, sendHttp, type GuardOptions, type HttpAnswer, type HttpLimits } from './guarded-http.js';

export interface CalendarBusyReaderOptions {
  readonly limits: HttpLimits;
  /** For feed URLs (tenant-supplied): CALENDAR_FEED_ALLOW_LOOPBACK / _ALLOW_HTTP, both false in production. */
  readonly guard: GuardOptions;
  /** CALENDAR_GOOGLE_API_URL: `https://www.googleapis.com` (a stand-in's base in tests). */
  readonly googleApiUrl: string;
  /** CALENDAR_GRAPH_API_URL: `https://graph.microsoft.com`. */
  readonly graphApiUrl: string;
  /** The providers enabled by CALENDAR_PROVIDERS; a link to another one fails its syncs with `not-configured`. */
  readonly providers: readonly OpenedCalendarSource['provider'][];
  readonly maxOccurrences?: number;
  readonly now?: () => Date;
}

/** Both APIs answer for bounded ranges (Graph: under 42 days); longer horizons are asked for in pieces. */
const CHUNK_MS = 31 * DAY_MS;

/** Graph's getSchedule statuses that make a resource unavailable; `free`, `workingElsewhere` and `unknown` do not. */
const GRAPH_BUSY = new Set(['busy', 'oof', 'tentative']);

type Failure = Extract<BusyReadResult, { ok: false }>;

const failure = (
  code: SyncErrorCode,
  message: string,
  extra: { httpStatus?: number; retryAfterMs?: number } = {},
): Failure => {
  const error: SyncError = {
    code,
    message,
    ...(extra.httpStatus !== undefined ? { httpStatus: extra.httpStatus } : {}),
  };
  return { ok: false, error, ...(extra.retryAfterMs !== undefined ? { retryAfterMs: extra.retryAfterMs } : {}) };
};

/**
 * RFC 9110 Retry-After: delay-seconds or an HTTP-date, as ms from `now`; undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | string[] | undefined, now: Date): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return undefined;
  if (/^\d{1,10}$/.test(text)) return Number(text) * 1000;
  if (!/^[A-Za-z]{3,9},? /.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}

/** An HTTP answer that is not a success, as a sync failure naming the provider (never the URL). */
function httpFailure(what: string, answer: HttpAnswer, now: Date): Failure {
  const status = answer.status;
  const retryAfterMs = parseRetryAfter(answer.headers['retry-after'], now);
  const extra = { httpStatus: status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  if (status === 401 || status === 403) {
    return failure('unauthorized', `${what} refused the credential (HTTP ${status}): replace it`, extra);
  }
  if (status === 404 || status === 410)
    return failure('not-found', `${what} answered HTTP ${status}: not found`, extra);
  if (status === 429) return failure('rate-limited', `${what} asked to slow down (HTTP 429)`, extra);
  return failure('provider-error', `${what} answered HTTP ${status}`, extra);
}

function transportFailure(what: string, error: unknown): Failure {
  if (error instanceof HttpFailure) return failure(error.code, `${what}: ${error.message}`);
  throw error;
}

function chunks(from: number, to: number): MsInterval[] {
  const result: MsInterval[] = [];
  for (let start = from; start < to; start += CHUNK_MS) result.push({ start, end: Math.min(to, start + CHUNK_MS) });
  return result;
}

function jsonOf(answer: HttpAnswer): unknown {
  try {
    return JSON.parse(answer.body.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export function createCalendarBusyReader(options: CalendarBusyReaderOptions): CalendarBusyReader {
  const now = options.now ?? (() => new Date());

  const readIcal = async (url: string, window: { from: Date; to: Date; timeZone: string }): Promise<BusyReadResult> => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return failure('forbidden-address', 'the feed address is not a URL');
    }
    let answer: HttpAnswer;
    try {
      answer = await sendHttp({
        method: 'GET',
        url: parsed,
        headers: { accept: 'text/calendar, text/plain;q=0.5' },
        limits: options.limits,
        guard: options.guard,
      });
    } catch (error) {
      return transportFailure('the feed', error);
    }
    if (answer.status < 200 || answer.status > 299) return httpFailure('the feed', answer, now());
    const text = answer.body.toString('utf8').replace(/^\uFEFF/, '');
    if (!/^\s*BEGIN:VCALENDAR/i.test(text)) return failure('invalid-response', 'the feed is not an iCalendar file');
    try {
      return {
        ok: true,
        busy: busyFromIcal(text, {
          from: window.from.getTime(),
          to: window.to.getTime(),
          defaultTimeZone: window.timeZone,
          ...(options.maxOccurrences !== undefined ? { maxOccurrences: options.maxOccurrences } : {}),
        }),
      };
    } catch (error) {
      if (error instanceof IcalFeedError) return failure('invalid-response', `the feed: ${error.message}`);
      throw error;
    }
  };

  /** Google Calendar API v3 `freebusy.query`: POST /calendar/v3/freeBusy, OAuth 2.0 bearer token. */
  const readGoogle = async (
    source: Extract<OpenedCalendarSource, { provider: 'google' }>,
    window: { from: Date; to: Date },
  ): Promise<BusyReadResult> => {
    const busy: MsInterval[] = [];
    for (const piece of chunks(window.from.getTime(), window.to.getTime())) {
      let answer: HttpAnswer;
      try {
        answer = await sendHttp({
          method: 'POST',
          url: new URL('/calendar/v3/freeBusy', options.googleApiUrl),
          headers: {
            authorization: `Bearer ${source.token}`,
            'content-type': 'application/json',
            accept: 'application/json',
          },
          body: JSON.stringify({
            timeMin: new Date(piece.start).toISOString(),
            timeMax: new Date(piece.end).toISOString(),
            timeZone: 'UTC',
            items: [{ id: source.calendar }],
          }),
          limits: { ...options.limits, maxRedirects: 0 },
        });
      } catch (error) {
        return transportFailure('Google Calendar', error);
      }
      if (answer.status !== 200) return httpFailure('Google Calendar', answer, now());
      const body = jsonOf(answer);
      const calendars = isObject(body) && isObject(body.calendars) ? body.calendars : undefined;
      const entry = calendars?.[source.calendar];
      if (!isObject(entry))
        return failure('invalid-response', 'Google Calendar answered without the calendar asked for');
      const errors = Array.isArray(entry.errors) ? entry.errors : [];
      if (errors.length > 0) {
        const reason = isObject(errors[0]) && typeof errors[0].reason === 'string' ? errors[0].reason : 'unknown';
        return reason === 'notFound'
          ? failure('not-found', 'Google Calendar: the calendar was not found (or is not shared with this account)')
          : failure('provider-error', `Google Calendar could not compute free/busy (${reason.slice(0, 60)})`);
      }
      for (const period of Array.isArray(entry.busy) ? entry.busy : []) {
        const start = isObject(period) && typeof period.start === 'string' ? Date.parse(period.start) : NaN;
        const end = isObject(period) && typeof period.end === 'string' ? Date.parse(period.end) : NaN;
        if (Number.isNaN(start) || Number.isNaN(end)) {
          return failure('invalid-response', 'Google Calendar answered a busy period without valid start and end');
        }
        busy.push({ start, end });
      }
    }
    return { ok: true, busy };
  };

  /** Microsoft Graph v1.0 `calendar: getSchedule`: POST /users/{id}/calendar/getSchedule, OAuth 2.0 bearer token. */
  const readGraph = async (
    source: Extract<OpenedCalendarSource, { provider: 'microsoft' }>,
    window: { from: Date; to: Date },
  ): Promise<BusyReadResult> => {
    const busy: MsInterval[] = [];
    const graphTime = (ms: number) => ({ dateTime: new Date(ms).toISOString().slice(0, 19), timeZone: 'UTC' });
    for (const piece of chunks(window.from.getTime(), window.to.getTime())) {
      let answer: HttpAnswer;
      try {
        answer = await sendHttp({
          method: 'POST',
          url: new URL(`/v1.0/users/${encodeURIComponent(source.user)}/calendar/getSchedule`, options.graphApiUrl),
          headers: {
            authorization: `Bearer ${source.token}`,
            'content-type': 'application/json',
            accept: 'application/json',
            prefer: 'outlook.timezone="UTC"',
          },
          body: JSON.stringify({
            schedules: [source.schedule],
            startTime: graphTime(piece.start),
            endTime: graphTime(piece.end),
            availabilityViewInterval: 60,
          }),
          limits: { ...options.limits, maxRedirects: 0 },
        });
      } catch (error) {
        return transportFailure('Microsoft Graph', error);
      }
      if (answer.status !== 200) return httpFailure('Microsoft Graph', answer, now());
      const body = jsonOf(answer);
      const value = isObject(body) && Array.isArray(body.value) ? body.value : undefined;
      const schedule = value?.find(
        (item) => isObject(item) && String(item.scheduleId).toLowerCase() === source.schedule.toLowerCase(),
      );
      if (!isObject(schedule))
        return failure('invalid-response', 'Microsoft Graph answered without the schedule asked for');
      if (isObject(schedule.error)) {
        const code =
          typeof schedule.error.responseCode === 'string' ? schedule.error.responseCode.slice(0, 60) : 'error';
        return failure('provider-error', `Microsoft Graph could not read the schedule (${code})`);
      }
      for (const item of Array.isArray(schedule.scheduleItems) ? schedule.scheduleItems : []) {
        if (!isObject(item)) continue;
        const status = typeof item.status === 'string' ? item.status.toLowerCase() : 'busy';
        if (!GRAPH_BUSY.has(status)) continue;
        const start = graphInstant(item.start);
        const end = graphInstant(item.end);
        if (start === null || end === null) {
          return failure('invalid-response', 'Microsoft Graph answered a schedule item without a valid start and end');
        }
        busy.push({ start, end });
      }
    }
    return { ok: true, busy };
  };

  return {
    async read(source, window) {
      if (!options.providers.includes(source.provider)) {
        return failure('not-configured', `the ${source.provider} provider is not enabled (CALENDAR_PROVIDERS)`);
      }
      switch (source.provider) {
        case 'ical':
          return readIcal(source.url, window);
        case 'google':
          return readGoogle(source, window);
        case 'microsoft':
          return readGraph(source, window);
      }
    },
  };
}

/** Graph's dateTimeTimeZone: `2030-06-03T09:00:00.0000000` in `UTC` (as asked by Prefer) or an IANA zone. */
function graphInstant(value: unknown): number | null {
  if (!isObject(value) || typeof value.dateTime !== 'string') return null;
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?$/.exec(value.dateTime);
  if (!match) return null;
  const [, y, mo, d, h, mi, s] = match.map(Number) as number[];
  const localMs = Date.UTC(y as number, (mo as number) - 1, d, h, mi, s);
  const zone = typeof value.timeZone === 'string' ? value.timeZone : 'UTC';
  if (zone === 'UTC' || zone === 'Etc/UTC') return localMs;
  return isValidTimeZone(zone) ? wallTimeToInstant(zone, localMs) : null;
}
