import { compoundStreamName } from '../catalog/stream-name.js';
import {
  invalid,
  jsonEqual,
  requireId,
  requireInstant,
  requireInteger,
  requireOneOf,
  requireText,
} from '../catalog/validation.js';
import type { Command, Decider, DomainEvent } from '../shared/decider.js';
import { IllegalStateError, NotFoundError } from '../shared/errors.js';
import type { SealedSecret } from '../shared/sealed-secret.js';
import { parseInstant } from '../shared/zoned-time.js';
import type { BusyInterval } from './busy-intervals.js';

/**
 * A resource's link to an external calendar (issue 12): an iCal feed, a Google calendar (FreeBusy API) or a
 * Microsoft 365 mailbox (Graph getSchedule). The stream holds the link, its secrets (sealed, never in clear) and the
 * outcome of every sync, so the busy times availability subtracts are rebuildable from events.
 *
 *   none -> linked -(sync ok | sync failed | changed)-> linked -> unlinked
 *
 * Sync results are recorded by the application (the fetching is I/O); the decider keeps them small: a sync whose
 * busy times equal the ones still ahead from the last recorded list records `changed: false` and no intervals.
 */

export const CALENDAR_PROVIDERS = ['ical', 'google', 'microsoft'] as const;
export type CalendarProvider = (typeof CALENDAR_PROVIDERS)[number];

/** What to read and with which secret; `hint` is what the API shows of the secret (never the secret itself). */
export type CalendarSource =
  | { readonly provider: 'ical'; readonly feed: SealedSecret; readonly hint: string }
  | { readonly provider: 'google'; readonly calendar: string; readonly token: SealedSecret; readonly hint: string }
  | {
      readonly provider: 'microsoft';
      /** The Graph user whose calendar answers (`/users/{user}/calendar/getSchedule`). */
      readonly user: string;
      /** The SMTP address whose schedule is asked for (the user's own, a room's...). */
      readonly schedule: string;
      readonly token: SealedSecret;
      readonly hint: string;
    };

export const SYNC_ERROR_CODES = [
  /** The provider refused the credential (401/403): replace it. */
  'unauthorized',
  /** 429: the provider asked to wait (Retry-After). */
  'rate-limited',
  /** 5xx or a provider-reported error. */
  'provider-error',
  /** Not found (404/410): the feed or calendar is gone. */
  'not-found',
  /** Connection refused, DNS failure, TLS... */
  'network',
  'timeout',
  /** Larger than CALENDAR_MAX_RESPONSE_BYTES. */
  'too-large',
  /** Not iCalendar / not the documented JSON. */
  'invalid-response',
  /** The URL (or a redirect) points where Herald does not fetch: not https, a private address, too many hops. */
  'forbidden-address',
  /** The provider is not enabled in CALENDAR_PROVIDERS, or the secret cannot be opened with the key in use. */
  'not-configured',
] as const;
export type SyncErrorCode = (typeof SYNC_ERROR_CODES)[number];

export interface SyncError {
  readonly code: SyncErrorCode;
  /** Safe to show and log: never the URL's secret part, never a token. */
  readonly message: string;
  readonly httpStatus?: number;
}

export interface ResourceCalendarLink {
  readonly calendarId: string;
  readonly tenantId: string;
  readonly resourceId: string;
  readonly name: string;
  readonly source: CalendarSource;
  readonly syncIntervalMinutes: number;
}

export interface SyncStatus {
  readonly lastSyncedAt: string | null;
  /** Busy times from the last successful sync (also the ones kept while syncs fail). */
  readonly busy: readonly BusyInterval[];
  readonly horizonEnd: string | null;
  readonly truncated: boolean;
  /** The failure since the last success, if the last attempt failed; `since` is its first occurrence. */
  readonly lastError: (SyncError & { readonly since: string }) | null;
}

export type ResourceCalendarState =
  | { readonly status: 'none' }
  | { readonly status: 'linked'; readonly link: ResourceCalendarLink; readonly sync: SyncStatus }
  | {
      readonly status: 'unlinked';
      readonly link: ResourceCalendarLink;
      readonly sync: SyncStatus;
      readonly unlinkedAt: string;
    };

// Commands ---------------------------------------------------------------------------------------------------------

export type LinkResourceCalendar = Command<
  'LinkResourceCalendar',
  ResourceCalendarLink & { readonly now: string; readonly actor: string }
>;
export type ChangeResourceCalendar = Command<
  'ChangeResourceCalendar',
  {
    readonly calendarId: string;
    readonly name?: string;
    readonly syncIntervalMinutes?: number;
    /** A replaced secret (a rotated token, a new feed address) of the same provider. */
    readonly source?: CalendarSource;
    readonly now: string;
    readonly actor: string;
  }
>;
export type UnlinkResourceCalendar = Command<
  'UnlinkResourceCalendar',
  { readonly calendarId: string; readonly now: string; readonly actor: string }
>;
export type RecordCalendarSync = Command<
  'RecordCalendarSync',
  {
    readonly calendarId: string;
    /** Sorted, merged, within `[syncedAt - lookback, horizonEnd)`: see normalizeBusy. */
    readonly busy: readonly BusyInterval[];
    readonly truncated: boolean;
    readonly horizonEnd: string;
    readonly now: string;
  }
>;
export type RecordCalendarSyncFailure = Command<
  'RecordCalendarSyncFailure',
  {
    readonly calendarId: string;
    readonly error: SyncError;
    readonly retryAfter?: string;
    readonly now: string;
  }
>;

export type ResourceCalendarCommand =
  | LinkResourceCalendar
  | ChangeResourceCalendar
  | UnlinkResourceCalendar
  | RecordCalendarSync
  | RecordCalendarSyncFailure;

// Events -----------------------------------------------------------------------------------------------------------

export type ResourceCalendarLinked = DomainEvent<
  'ResourceCalendarLinked',
  ResourceCalendarLink & { readonly linkedAt: string; readonly actor: string }
>;
export type ResourceCalendarChanged = DomainEvent<
  'ResourceCalendarChanged',
  {
    readonly calendarId: string;
    readonly resourceId: string;
    readonly changes: {
      readonly name?: string;
      readonly syncIntervalMinutes?: number;
      readonly source?: CalendarSource;
    };
    readonly changedAt: string;
    readonly actor: string;
  }
>;
export type ResourceCalendarUnlinked = DomainEvent<
  'ResourceCalendarUnlinked',
  { readonly calendarId: string; readonly resourceId: string; readonly unlinkedAt: string; readonly actor: string }
>;
export type ResourceCalendarSynced = DomainEvent<
  'ResourceCalendarSynced',
  {
    readonly calendarId: string;
    readonly resourceId: string;
    readonly syncedAt: string;
    readonly horizonEnd: string;
    readonly busyCount: number;
    /** False: the busy times still ahead are the ones last recorded, and `busy` is left out. */
    readonly changed: boolean;
    /** Present when `changed`: the complete list, replacing the previous one. */
    readonly busy?: readonly BusyInterval[];
    /** The provider had more busy times than CALENDAR_MAX_BUSY_INTERVALS: the horizon ends at the last one kept. */
    readonly truncated: boolean;
  }
>;
export type ResourceCalendarSyncFailed = DomainEvent<
  'ResourceCalendarSyncFailed',
  {
    readonly calendarId: string;
    readonly resourceId: string;
    readonly failedAt: string;
    readonly error: SyncError;
    readonly retryAfter?: string;
  }
>;

export type ResourceCalendarEvent =
  | ResourceCalendarLinked
  | ResourceCalendarChanged
  | ResourceCalendarUnlinked
  | ResourceCalendarSynced
  | ResourceCalendarSyncFailed;

export const RESOURCE_CALENDAR_EVENT_TYPES: readonly ResourceCalendarEvent['type'][] = [
  'ResourceCalendarLinked',
  'ResourceCalendarChanged',
  'ResourceCalendarUnlinked',
  'ResourceCalendarSynced',
  'ResourceCalendarSyncFailed',
];

/** `calendar-<tenantId>+<calendarId>`. */
export function resourceCalendarStreamName(tenantId: string, calendarId: string): string {
  return compoundStreamName('calendar', tenantId, requireId('calendarId', calendarId));
}

/** Sync intervals a link may ask for; the operator's CALENDAR_SYNC_MIN_MINUTES may raise the floor. */
export const SYNC_INTERVAL_MINUTES = { min: 5, max: 24 * 60 } as const;

// Validation -------------------------------------------------------------------------------------------------------

function requireSealed(field: string, value: unknown): SealedSecret {
  const raw = (value ?? {}) as Record<string, unknown>;
  const text = (key: string) => {
    const v = raw[key];
    if (typeof v !== 'string' || v.length === 0 || v.length > 16_384)
      throw invalid(`${field}.${key}`, 'sealed', 'Not a sealed secret.');
    return v;
  };
  if (raw.v !== 1) throw invalid(`${field}.v`, 'sealed', 'Not a sealed secret.');
  return { v: 1, keyId: text('keyId'), iv: text('iv'), ciphertext: text('ciphertext'), tag: text('tag') };
}

export function validateSource(value: CalendarSource): CalendarSource {
  const provider = requireOneOf('source.provider', value?.provider, CALENDAR_PROVIDERS);
  const hint = requireText('source.hint', value.hint, 300);
  switch (provider) {
    case 'ical':
      return { provider, feed: requireSealed('source.feed', (value as { feed?: unknown }).feed), hint };
    case 'google': {
      const v = value as Extract<CalendarSource, { provider: 'google' }>;
      return {
        provider,
        calendar: requireText('source.calendar', v.calendar, 320),
        token: requireSealed('source.token', v.token),
        hint,
      };
    }
    case 'microsoft': {
      const v = value as Extract<CalendarSource, { provider: 'microsoft' }>;
      return {
        provider,
        user: requireText('source.user', v.user, 320),
        schedule: requireText('source.schedule', v.schedule, 320),
        token: requireSealed('source.token', v.token),
        hint,
      };
    }
  }
}

function requireInterval(value: unknown, minimum: number = SYNC_INTERVAL_MINUTES.min): number {
  return requireInteger('syncIntervalMinutes', value, minimum, SYNC_INTERVAL_MINUTES.max);
}

function requireBusy(value: readonly BusyInterval[]): BusyInterval[] {
  if (!Array.isArray(value)) throw invalid('busy', 'array', 'busy must be a list.');
  let previousEnd = -Infinity;
  return value.map((interval, index) => {
    const start = parseInstant(interval?.start);
    const end = parseInstant(interval?.end);
    if (start === null || end === null || end <= start || start < previousEnd) {
      throw invalid(`busy[${index}]`, 'interval', 'Busy times must be sorted, disjoint [start, end) instants.');
    }
    previousEnd = end;
    return { start: interval.start, end: interval.end };
  });
}

// Decider ----------------------------------------------------------------------------------------------------------

const EMPTY_SYNC: SyncStatus = { lastSyncedAt: null, busy: [], horizonEnd: null, truncated: false, lastError: null };

function notFound(calendarId: string): NotFoundError {
  return new NotFoundError('calendar-not-found', `Calendar link ${calendarId} does not exist.`, { calendarId });
}

function requireLinked(state: ResourceCalendarState, calendarId: string) {
  if (state.status === 'none') throw notFound(calendarId);
  if (state.status === 'unlinked') {
    throw new IllegalStateError('calendar-unlinked', `Calendar link ${calendarId} was removed.`, {
      calendarId,
      status: state.status,
    });
  }
  return state;
}

/** The busy times of `busy` that end after `now`: what still matters to availability. */
function ahead(busy: readonly BusyInterval[], nowMs: number): BusyInterval[] {
  return busy.filter((interval) => (parseInstant(interval.end) ?? 0) > nowMs);
}

function decide(command: ResourceCalendarCommand, state: ResourceCalendarState): ResourceCalendarEvent[] {
  switch (command.type) {
    case 'LinkResourceCalendar': {
      const d = command.data;
      const link: ResourceCalendarLink = {
        calendarId: requireId('calendarId', d.calendarId),
        tenantId: requireId('tenantId', d.tenantId),
        resourceId: requireId('resourceId', d.resourceId),
        name: requireText('name', d.name, 200),
        source: validateSource(d.source),
        syncIntervalMinutes: requireInterval(d.syncIntervalMinutes),
      };
      const linkedAt = requireInstant('now', d.now);
      const actor = requireText('actor', d.actor);
      if (state.status !== 'none') {
        if (state.status === 'linked' && jsonEqual(state.link, link)) return [];
        throw new IllegalStateError('calendar-already-linked', `Calendar link ${link.calendarId} already exists.`, {
          calendarId: link.calendarId,
          status: state.status,
        });
      }
      return [{ type: 'ResourceCalendarLinked', data: { ...link, linkedAt, actor } }];
    }
    case 'ChangeResourceCalendar': {
      const d = command.data;
      const current = requireLinked(state, d.calendarId).link;
      const changedAt = requireInstant('now', d.now);
      const actor = requireText('actor', d.actor);
      const changes: { name?: string; syncIntervalMinutes?: number; source?: CalendarSource } = {};
      if (d.name !== undefined) {
        const name = requireText('name', d.name, 200);
        if (name !== current.name) changes.name = name;
      }
      if (d.syncIntervalMinutes !== undefined) {
        const minutes = requireInterval(d.syncIntervalMinutes);
        if (minutes !== current.syncIntervalMinutes) changes.syncIntervalMinutes = minutes;
      }
      if (d.source !== undefined) {
        const source = validateSource(d.source);
        if (source.provider !== current.source.provider) {
          throw invalid('source.provider', 'same-provider', 'A link keeps its provider: link the other calendar anew.');
        }
        if (!jsonEqual(source, current.source)) changes.source = source;
      }
      if (Object.keys(changes).length === 0) return [];
      return [
        {
          type: 'ResourceCalendarChanged',
          data: { calendarId: current.calendarId, resourceId: current.resourceId, changes, changedAt, actor },
        },
      ];
    }
    case 'UnlinkResourceCalendar': {
      const d = command.data;
      if (state.status === 'none') throw notFound(d.calendarId);
      if (state.status === 'unlinked') return [];
      return [
        {
          type: 'ResourceCalendarUnlinked',
          data: {
            calendarId: state.link.calendarId,
            resourceId: state.link.resourceId,
            unlinkedAt: requireInstant('now', d.now),
            actor: requireText('actor', d.actor),
          },
        },
      ];
    }
    case 'RecordCalendarSync': {
      const d = command.data;
      if (state.status === 'none') throw notFound(d.calendarId);
      // A sync that was running while the link was removed: nothing to record.
      if (state.status === 'unlinked') return [];
      const syncedAt = requireInstant('now', d.now);
      const horizonEnd = requireInstant('horizonEnd', d.horizonEnd);
      const busy = requireBusy(d.busy);
      const nowMs = parseInstant(syncedAt) ?? 0;
      const changed = state.sync.lastSyncedAt === null || !jsonEqual(ahead(state.sync.busy, nowMs), ahead(busy, nowMs));
      return [
        {
          type: 'ResourceCalendarSynced',
          data: {
            calendarId: state.link.calendarId,
            resourceId: state.link.resourceId,
            syncedAt,
            horizonEnd,
            busyCount: busy.length,
            changed,
            ...(changed ? { busy } : {}),
            truncated: d.truncated === true,
          },
        },
      ];
    }
    case 'RecordCalendarSyncFailure': {
      const d = command.data;
      if (state.status === 'none') throw notFound(d.calendarId);
      if (state.status === 'unlinked') return [];
      const failedAt = requireInstant('now', d.now);
      const error: SyncError = {
        code: requireOneOf('error.code', d.error?.code, SYNC_ERROR_CODES),
        message: requireText('error.message', d.error.message, 500),
        ...(d.error.httpStatus !== undefined
          ? { httpStatus: requireInteger('error.httpStatus', d.error.httpStatus, 100, 599) }
          : {}),
      };
      const retryAfter = d.retryAfter !== undefined ? requireInstant('retryAfter', d.retryAfter) : undefined;
      const last = state.sync.lastError;
      // The same failure again: the stream does not grow while a provider stays down (lastError.since says how long).
      if (last && last.code === error.code && last.message === error.message && last.httpStatus === error.httpStatus) {
        return [];
      }
      return [
        {
          type: 'ResourceCalendarSyncFailed',
          data: {
            calendarId: state.link.calendarId,
            resourceId: state.link.resourceId,
            failedAt,
            error,
            ...(retryAfter !== undefined ? { retryAfter } : {}),
          },
        },
      ];
    }
  }
}

function evolve(state: ResourceCalendarState, event: ResourceCalendarEvent): ResourceCalendarState {
  switch (event.type) {
    case 'ResourceCalendarLinked': {
      const { linkedAt: _linkedAt, actor: _actor, ...link } = event.data;
      return { status: 'linked', link, sync: EMPTY_SYNC };
    }
    case 'ResourceCalendarChanged':
      if (state.status !== 'linked') return state;
      return { ...state, link: { ...state.link, ...event.data.changes } };
    case 'ResourceCalendarUnlinked':
      if (state.status !== 'linked') return state;
      return { status: 'unlinked', link: state.link, sync: state.sync, unlinkedAt: event.data.unlinkedAt };
    case 'ResourceCalendarSynced':
      if (state.status === 'none') return state;
      return {
        ...state,
        sync: {
          lastSyncedAt: event.data.syncedAt,
          busy: event.data.changed && event.data.busy ? event.data.busy : state.sync.busy,
          horizonEnd: event.data.horizonEnd,
          truncated: event.data.truncated,
          lastError: null,
        },
      };
    case 'ResourceCalendarSyncFailed': {
      if (state.status === 'none') return state;
      const { failedAt, error } = event.data;
      return { ...state, sync: { ...state.sync, lastError: { ...error, since: failedAt } } };
    }
  }
}

export const resourceCalendarDecider: Decider<ResourceCalendarCommand, ResourceCalendarState, ResourceCalendarEvent> = {
  decide,
  evolve,
  initialState: () => ({ status: 'none' }),
};
