import { reservationDecider, reservationStreamName } from '../../domain/booking/reservation.decider.js';
import { normalizeBusy, toBusyIntervals, toMsIntervals } from '../../domain/calendar/busy-intervals.js';
import {
  RESOURCE_CALENDAR_EVENT_TYPES,
  resourceCalendarDecider,
  resourceCalendarStreamName,
  type CalendarProvider,
  type CalendarSource,
  type ResourceCalendarEvent,
  type ResourceCalendarLink,
  type ResourceCalendarState,
  type SyncError,
} from '../../domain/calendar/resource-calendar.decider.js';
import { invalid } from '../../domain/catalog/validation.js';
import { IllegalStateError, NotFoundError } from '../../domain/shared/errors.js';
import { DAY_MS, MINUTE_MS } from '../../domain/shared/zoned-time.js';
import { findActiveLocation, findActiveResource, getResource } from '../catalog/catalog-queries.js';
import {
  handleCommand,
  loadAggregate,
  toDomainEvent,
  type CommandContext,
  type CommandHandlerDeps,
  type ExpectedRevision,
} from '../command-handler.js';
import type { CalendarBusyReader, OpenedCalendarSource } from '../ports/calendar-busy-reader.port.js';
import type { Clock } from '../ports/clock.port.js';
import type { RecordedEvent } from '../ports/event-store.port.js';
import type { Logger } from '../ports/logger.port.js';
import type { ReadModelStore, StoredDocument } from '../ports/read-model-store.port.js';
import type { JobHandler, Scheduler } from '../ports/scheduler.port.js';
import type { SecretBox } from '../ports/secret-box.port.js';
import type { Intent, ProcessManager } from '../process-managers/process-manager.js';
import type { CommandIntent, IntentHandler } from '../process-managers/process-manager-runner.js';
import { physicalCollection } from '../projections/projection.js';
import {
  reservationDetailsProjection,
  type ReservationDocument,
} from '../projections/reservation-details.projection.js';
import {
  resourceCalendarsProjection,
  type ResourceCalendarDocument,
} from '../projections/resource-calendars.projection.js';

/**
 * Provider calendars (issue 12): linking a resource to external calendars, syncing their busy times on a schedule
 * and on demand, and flagging reservations a newly busy time collides with.
 *
 * A sync reads `[start of yesterday (UTC), that + CALENDAR_HORIZON_DAYS)`: aligned to days, so an event under way or
 * clipped at the window's start gives the same interval all day long, and an unchanged calendar records a small
 * `changed: false` event. More than CALENDAR_MAX_BUSY_INTERVALS merged intervals are cut, and the horizon ends where
 * the first one left out begins (`truncated`).
 */

export interface CalendarSettings {
  /** CALENDAR_PROVIDERS: which providers may be linked and synced. */
  readonly providers: readonly CalendarProvider[];
  readonly horizonDays: number;
  readonly maxBusyIntervals: number;
  readonly defaultIntervalMinutes: number;
  /** CALENDAR_SYNC_MIN_MINUTES: links may not ask for more frequent syncs. */
  readonly minIntervalMinutes: number;
  /** The longest wait a provider's Retry-After may impose before the next attempt. */
  readonly maxRetryAfterMinutes: number;
}

export interface ResourceCalendarDeps extends CommandHandlerDeps {
  readonly clock: Clock;
  readonly scheduler: Pick<Scheduler, 'schedule' | 'cancel' | 'pending'>;
  readonly readModels: ReadModelStore;
  readonly secrets: SecretBox;
  readonly reader: CalendarBusyReader;
  readonly logger: Logger;
  readonly settings: CalendarSettings;
  /** Why a feed URL would not be fetched (scheme, credentials, a private address), or null: checked at link time. */
  readonly feedUrlRefusal: (url: URL) => string | null;
}

export const CALENDAR_SYNC_JOB = 'calendar.sync';
export const CALENDAR_CONFLICT_TARGET = 'calendar-conflict';

export function calendarSyncJobKey(tenantId: string, calendarId: string): string {
  return `calendar-sync:${tenantId}:${calendarId}`;
}

/** What an admin sends to link a calendar: the secret in clear, sealed before anything is recorded. */
export type CalendarLinkInput = {
  readonly name?: string;
  readonly syncIntervalMinutes?: number;
} & (
  | { readonly provider: 'ical'; readonly url: string }
  | { readonly provider: 'google'; readonly calendar: string; readonly token: string }
  | { readonly provider: 'microsoft'; readonly user: string; readonly schedule: string; readonly token: string }
);

export interface CalendarChangeInput {
  readonly name?: string;
  readonly syncIntervalMinutes?: number;
  /** ical: a new feed address. */
  readonly url?: string;
  /** google, microsoft: a new access token. */
  readonly token?: string;
}

/** What the API shows of a link: never a secret, only its hint. */
export interface CalendarLinkView {
  readonly calendarId: string;
  readonly resourceId: string;
  readonly name: string;
  readonly provider: CalendarProvider;
  readonly hint: string;
  readonly target: string | null;
  readonly syncIntervalMinutes: number;
  readonly status: 'linked' | 'unlinked';
  readonly lastSyncedAt: string | null;
  readonly horizonEnd: string | null;
  readonly busyCount: number;
  readonly truncated: boolean;
  readonly lastError: (SyncError & { readonly since: string }) | null;
  readonly nextSyncAt?: string;
  readonly revision: number;
}

const secretContext = (tenantId: string, calendarId: string) => `${tenantId}|calendar|${calendarId}`;

/** `webcal://` (what Apple and Outlook offer to subscribe) is the same feed over https. */
function feedUrl(deps: Pick<ResourceCalendarDeps, 'feedUrlRefusal'>, raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw.trim().replace(/^webcals?:\/\//i, 'https://'));
  } catch {
    throw invalid('url', 'feed-url', 'The feed address is not a URL.');
  }
  const refused = deps.feedUrlRefusal(url);
  if (refused) throw invalid('url', 'feed-url', `The feed address is not fetched: ${refused}.`);
  return url;
}

/** What the API may show of a feed address: scheme and host; the path is where Google and Outlook put the secret. */
function feedHint(url: URL): string {
  return `${url.protocol}//${url.host}/…`;
}

function tokenHint(token: string): string {
  return token.length >= 16 ? `…${token.slice(-4)}` : '…';
}

function requireToken(token: string): string {
  const value = token.trim();
  if (value.length < 8 || value.length > 8192 || !/^[\x21-\x7E]+$/.test(value)) {
    throw invalid('token', 'token', 'The access token must be 8-8192 printable characters without spaces.');
  }
  return value;
}

function sealSource(
  deps: Pick<ResourceCalendarDeps, 'secrets' | 'feedUrlRefusal'>,
  tenantId: string,
  calendarId: string,
  input: CalendarLinkInput,
): CalendarSource {
  const context = secretContext(tenantId, calendarId);
  switch (input.provider) {
    case 'ical': {
      const url = feedUrl(deps, input.url);
      return { provider: 'ical', feed: deps.secrets.seal(url.href, context), hint: feedHint(url) };
    }
    case 'google': {
      const token = requireToken(input.token);
      return {
        provider: 'google',
        calendar: input.calendar,
        token: deps.secrets.seal(token, context),
        hint: tokenHint(token),
      };
    }
    case 'microsoft': {
      const token = requireToken(input.token);
      return {
        provider: 'microsoft',
        user: input.user,
        schedule: input.schedule,
        token: deps.secrets.seal(token, context),
        hint: tokenHint(token),
      };
    }
  }
}

function openSource(deps: Pick<ResourceCalendarDeps, 'secrets'>, link: ResourceCalendarLink): OpenedCalendarSource {
  const context = secretContext(link.tenantId, link.calendarId);
  const source = link.source;
  switch (source.provider) {
    case 'ical':
      return { provider: 'ical', url: deps.secrets.open(source.feed, context) };
    case 'google':
      return { provider: 'google', calendar: source.calendar, token: deps.secrets.open(source.token, context) };
    case 'microsoft':
      return {
        provider: 'microsoft',
        user: source.user,
        schedule: source.schedule,
        token: deps.secrets.open(source.token, context),
      };
  }
}

function requireProvider(deps: Pick<ResourceCalendarDeps, 'settings'>, provider: CalendarProvider): void {
  if (!deps.settings.providers.includes(provider)) {
    throw new IllegalStateError(
      'calendar-provider-not-configured',
      `The ${provider} calendar provider is not enabled on this Herald (CALENDAR_PROVIDERS).`,
      { provider, enabled: [...deps.settings.providers] },
    );
  }
}

function requireInterval(deps: Pick<ResourceCalendarDeps, 'settings'>, minutes: number | undefined): number {
  const value = minutes ?? deps.settings.defaultIntervalMinutes;
  if (value < deps.settings.minIntervalMinutes) {
    throw invalid(
      'syncIntervalMinutes',
      'sync-interval',
      `Calendars are synced at most every ${deps.settings.minIntervalMinutes} minutes here.`,
      { minimum: deps.settings.minIntervalMinutes },
    );
  }
  return value;
}

export function calendarView(
  state: Exclude<ResourceCalendarState, { status: 'none' }>,
  revision: bigint,
): CalendarLinkView {
  const { link, sync } = state;
  const source = link.source;
  return {
    calendarId: link.calendarId,
    resourceId: link.resourceId,
    name: link.name,
    provider: source.provider,
    hint: source.hint,
    target:
      source.provider === 'google'
        ? source.calendar
        : source.provider === 'microsoft'
          ? `${source.user} / ${source.schedule}`
          : null,
    syncIntervalMinutes: link.syncIntervalMinutes,
    status: state.status,
    lastSyncedAt: sync.lastSyncedAt,
    horizonEnd: sync.horizonEnd,
    busyCount: sync.busy.length,
    truncated: sync.truncated,
    lastError: sync.lastError,
    revision: Number(revision),
  };
}

function documentView(doc: ResourceCalendarDocument): CalendarLinkView {
  return {
    calendarId: doc.calendarId,
    resourceId: doc.resourceId,
    name: doc.name,
    provider: doc.provider,
    hint: doc.hint,
    target: doc.target,
    syncIntervalMinutes: doc.syncIntervalMinutes,
    status: doc.status,
    lastSyncedAt: doc.lastSyncedAt,
    horizonEnd: doc.horizonEnd,
    busyCount: doc.busyCount,
    truncated: doc.truncated,
    lastError: doc.lastError,
    revision: doc.revision,
  };
}

// Admin commands and queries -----------------------------------------------------------------------------------------

export async function linkResourceCalendar(
  deps: ResourceCalendarDeps,
  context: CommandContext,
  resourceId: string,
  input: CalendarLinkInput,
): Promise<{ state: Exclude<ResourceCalendarState, { status: 'none' }>; revision: bigint }> {
  const tenantId = context.tenantId;
  const resource = await getResource(deps.eventStore, tenantId, resourceId);
  if (resource.state.status !== 'active') {
    throw new IllegalStateError('resource-archived', `Resource ${resourceId} is archived.`, { resourceId });
  }
  requireProvider(deps, input.provider);
  const syncIntervalMinutes = requireInterval(deps, input.syncIntervalMinutes);
  const calendarId = `cal-${deps.ids.newId()}`;
  const source = sealSource(deps, tenantId, calendarId, input);
  const result = await handleCommand(
    deps,
    resourceCalendarStreamName(tenantId, calendarId),
    resourceCalendarDecider,
    {
      type: 'LinkResourceCalendar',
      data: {
        calendarId,
        tenantId,
        resourceId,
        name: input.name ?? defaultName(input),
        source,
        syncIntervalMinutes,
        now: deps.clock.now().toISOString(),
        actor: context.actor,
      },
    },
    context,
  );
  if (result.state.status === 'none' || result.revision === 'no_stream') throw new Error('link left no state');
  deps.logger.info({ tenantId, resourceId, calendarId, provider: input.provider }, 'calendar linked');
  return { state: result.state, revision: result.revision };
}

function defaultName(input: CalendarLinkInput): string {
  switch (input.provider) {
    case 'ical':
      return 'iCal feed';
    case 'google':
      return `Google Calendar ${input.calendar}`.slice(0, 200);
    case 'microsoft':
      return `Outlook ${input.schedule}`.slice(0, 200);
  }
}

async function loadLinkOf(
  deps: Pick<ResourceCalendarDeps, 'eventStore'>,
  tenantId: string,
  resourceId: string,
  calendarId: string,
) {
  const { state, revision } = await loadAggregate(
    deps.eventStore,
    resourceCalendarStreamName(tenantId, calendarId),
    resourceCalendarDecider,
  );
  // Another resource's calendar is not found through this one.
  if (state.status === 'none' || revision === 'no_stream' || state.link.resourceId !== resourceId) {
    throw new NotFoundError('calendar-not-found', `Resource ${resourceId} has no calendar link ${calendarId}.`, {
      resourceId,
      calendarId,
    });
  }
  return { state, revision };
}

/** One link, from its stream (never stale), with when its next sync is due. */
export async function getResourceCalendar(
  deps: Pick<ResourceCalendarDeps, 'eventStore'> & { readonly jobs?: Pick<Scheduler, 'pending'> },
  tenantId: string,
  resourceId: string,
  calendarId: string,
): Promise<CalendarLinkView> {
  const { state, revision } = await loadLinkOf(deps, tenantId, resourceId, calendarId);
  const view = calendarView(state, revision);
  if (!deps.jobs || state.status !== 'linked') return view;
  const key = calendarSyncJobKey(tenantId, calendarId);
  const next = (await deps.jobs.pending({ name: CALENDAR_SYNC_JOB, tenantId })).find((job) => job.key === key);
  return next ? { ...view, nextSyncAt: next.runAt.toISOString() } : view;
}

export async function listResourceCalendars(
  deps: Pick<ResourceCalendarDeps, 'eventStore' | 'readModels'>,
  tenantId: string,
  resourceId: string,
): Promise<CalendarLinkView[]> {
  await getResource(deps.eventStore, tenantId, resourceId); // 404 for an unknown resource
  const docs = await deps.readModels.find<ResourceCalendarDocument & StoredDocument>(
    physicalCollection(resourceCalendarsProjection),
    { tenantId, resourceId, status: 'linked' },
    { sort: { field: 'calendarId', direction: 1 }, limit: 100 },
  );
  return docs.map(documentView);
}

export async function changeResourceCalendar(
  deps: ResourceCalendarDeps,
  context: CommandContext,
  resourceId: string,
  calendarId: string,
  input: CalendarChangeInput,
  options: { expectedRevision?: ExpectedRevision } = {},
): Promise<CalendarLinkView> {
  const tenantId = context.tenantId;
  const { state } = await loadLinkOf(deps, tenantId, resourceId, calendarId);
  const provider = state.link.source.provider;
  let source: CalendarSource | undefined;
  if (input.url !== undefined || input.token !== undefined) {
    const current = state.link.source;
    if (current.provider === 'ical') {
      if (input.token !== undefined) throw invalid('token', 'provider', 'An iCal feed has no token: send url.');
      source = sealSource(deps, tenantId, calendarId, { provider: 'ical', url: input.url ?? '' });
    } else {
      if (input.url !== undefined)
        throw invalid('url', 'provider', `A ${provider} link has no feed address: send token.`);
      source = sealSource(deps, tenantId, calendarId, { ...current, token: input.token ?? '' });
    }
  }
  const result = await handleCommand(
    deps,
    resourceCalendarStreamName(tenantId, calendarId),
    resourceCalendarDecider,
    {
      type: 'ChangeResourceCalendar',
      data: {
        calendarId,
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.syncIntervalMinutes !== undefined
          ? { syncIntervalMinutes: requireInterval(deps, input.syncIntervalMinutes) }
          : {}),
        ...(source ? { source } : {}),
        now: deps.clock.now().toISOString(),
        actor: context.actor,
      },
    },
    context,
    options.expectedRevision !== undefined ? { expectedRevision: options.expectedRevision } : {},
  );
  if (result.state.status === 'none' || result.revision === 'no_stream') throw new Error('change left no state');
  return calendarView(result.state, result.revision);
}

export async function unlinkResourceCalendar(
  deps: ResourceCalendarDeps,
  context: CommandContext,
  resourceId: string,
  calendarId: string,
  options: { expectedRevision?: ExpectedRevision } = {},
): Promise<void> {
  await loadLinkOf(deps, context.tenantId, resourceId, calendarId);
  await handleCommand(
    deps,
    resourceCalendarStreamName(context.tenantId, calendarId),
    resourceCalendarDecider,
    { type: 'UnlinkResourceCalendar', data: { calendarId, now: deps.clock.now().toISOString(), actor: context.actor } },
    context,
    options.expectedRevision !== undefined ? { expectedRevision: options.expectedRevision } : {},
  );
  deps.logger.info({ tenantId: context.tenantId, resourceId, calendarId }, 'calendar unlinked');
}

// Sync -------------------------------------------------------------------------------------------------------------

export type SyncOutcome =
  | { readonly outcome: 'synced'; readonly nextRunAt: Date }
  | { readonly outcome: 'failed'; readonly error: SyncError; readonly nextRunAt: Date }
  | { readonly outcome: 'skipped' };

/** The sync window: from the start of yesterday (UTC) for `horizonDays`; stable all day (see above). */
export function syncWindow(now: Date, horizonDays: number): { from: number; to: number } {
  const from = Math.floor(now.getTime() / DAY_MS) * DAY_MS - DAY_MS;
  return { from, to: from + (horizonDays + 1) * DAY_MS };
}

/**
 * One sync of one linked calendar: read its busy times, record the outcome (an event either way), return when the
 * next sync is due. A provider's failure is recorded, never thrown; the last good busy times stay in force.
 */
export async function syncResourceCalendar(
  deps: ResourceCalendarDeps,
  tenantId: string,
  calendarId: string,
  context: CommandContext,
): Promise<SyncOutcome> {
  const streamName = resourceCalendarStreamName(tenantId, calendarId);
  const { state } = await loadAggregate(deps.eventStore, streamName, resourceCalendarDecider);
  if (state.status !== 'linked') return { outcome: 'skipped' };
  const link = state.link;
  const resource = await findActiveResource(deps.eventStore, tenantId, link.resourceId);
  if (!resource) return { outcome: 'skipped' }; // an archived resource is booked no more
  const location = await findActiveLocation(deps.eventStore, tenantId, resource.locationId);
  const timeZone = location?.timeZone ?? 'UTC';
  const now = deps.clock.now();
  const intervalMs = link.syncIntervalMinutes * MINUTE_MS;

  const fail = async (error: SyncError, retryAfterMs?: number): Promise<SyncOutcome> => {
    const wait =
      retryAfterMs !== undefined ? Math.min(retryAfterMs, deps.settings.maxRetryAfterMinutes * MINUTE_MS) : 0;
    const nextRunAt = new Date(now.getTime() + Math.max(intervalMs, wait));
    await handleCommand(
      deps,
      streamName,
      resourceCalendarDecider,
      {
        type: 'RecordCalendarSyncFailure',
        data: {
          calendarId,
          error,
          ...(retryAfterMs !== undefined ? { retryAfter: new Date(now.getTime() + wait).toISOString() } : {}),
          now: now.toISOString(),
        },
      },
      context,
    );
    deps.logger.warn(
      { tenantId, calendarId, provider: link.source.provider, code: error.code, httpStatus: error.httpStatus },
      'calendar sync failed; the last good busy times stay in force',
    );
    return { outcome: 'failed', error, nextRunAt };
  };

  let opened: OpenedCalendarSource;
  try {
    opened = openSource(deps, link);
  } catch {
    return fail({
      code: 'not-configured',
      message: 'the link’s secret cannot be opened with the key in use (was CALENDAR_CREDENTIALS_KEY changed?)',
    });
  }
  const window = syncWindow(now, deps.settings.horizonDays);
  const result = await deps.reader.read(opened, { from: new Date(window.from), to: new Date(window.to), timeZone });
  if (!result.ok) return fail(result.error, result.retryAfterMs);

  const merged = normalizeBusy(result.busy, { start: window.from, end: window.to });
  const truncated = merged.length > deps.settings.maxBusyIntervals;
  const kept = truncated ? merged.slice(0, deps.settings.maxBusyIntervals) : merged;
  const horizonEnd = truncated ? (merged[deps.settings.maxBusyIntervals]?.start ?? window.to) : window.to;
  await handleCommand(
    deps,
    streamName,
    resourceCalendarDecider,
    {
      type: 'RecordCalendarSync',
      data: {
        calendarId,
        busy: toBusyIntervals(kept),
        truncated,
        horizonEnd: new Date(horizonEnd).toISOString(),
        now: now.toISOString(),
      },
    },
    context,
  );
  return { outcome: 'synced', nextRunAt: new Date(now.getTime() + intervalMs) };
}

/**
 * On demand (`POST .../sync`): one sync now, then the schedule goes on from it. Refused while a provider's
 * Retry-After is in force (409 `calendar-sync-deferred` naming the time), so pressing the button cannot hammer it.
 */
export async function syncResourceCalendarNow(
  deps: ResourceCalendarDeps,
  context: CommandContext,
  resourceId: string,
  calendarId: string,
): Promise<CalendarLinkView & { readonly outcome: 'synced' | 'failed' }> {
  const tenantId = context.tenantId;
  const { state } = await loadLinkOf(deps, tenantId, resourceId, calendarId);
  if (state.status !== 'linked') {
    throw new IllegalStateError('calendar-unlinked', `Calendar link ${calendarId} was removed.`, { calendarId });
  }
  const retryAt = await retryAfterInForce(deps, tenantId, calendarId);
  if (retryAt) {
    throw new IllegalStateError(
      'calendar-sync-deferred',
      `The provider asked Herald to wait until ${retryAt} before asking again.`,
      { calendarId, retryAfter: retryAt },
    );
  }
  const outcome = await syncResourceCalendar(deps, tenantId, calendarId, context);
  if (outcome.outcome === 'skipped') {
    throw new IllegalStateError('resource-archived', `Resource ${resourceId} is archived.`, { resourceId });
  }
  await scheduleNext(deps, tenantId, calendarId, outcome.nextRunAt);
  const loaded = await loadLinkOf(deps, tenantId, resourceId, calendarId);
  return { ...calendarView(loaded.state, loaded.revision), outcome: outcome.outcome };
}

/** The provider's Retry-After from the last failure, if it is still ahead. */
async function retryAfterInForce(
  deps: Pick<ResourceCalendarDeps, 'eventStore' | 'clock'>,
  tenantId: string,
  calendarId: string,
): Promise<string | undefined> {
  const { events } = await deps.eventStore.readStream(resourceCalendarStreamName(tenantId, calendarId));
  const last = events.at(-1);
  if (last?.type !== 'ResourceCalendarSyncFailed') return undefined;
  const retryAfter = (last.data as { retryAfter?: unknown }).retryAfter;
  return typeof retryAfter === 'string' && Date.parse(retryAfter) > deps.clock.now().getTime() ? retryAfter : undefined;
}

async function scheduleNext(
  deps: Pick<ResourceCalendarDeps, 'scheduler'>,
  tenantId: string,
  calendarId: string,
  runAt: Date,
): Promise<void> {
  await deps.scheduler.schedule({
    name: CALENDAR_SYNC_JOB,
    key: calendarSyncJobKey(tenantId, calendarId),
    runAt,
    tenantId,
    data: { calendarId },
  });
}

/** The scheduled sync: one run, then the next one (a throw — the event store down — retries with backoff). */
export function createCalendarSyncJob(deps: ResourceCalendarDeps): JobHandler {
  return async (job) => {
    const calendarId = String(job.data.calendarId);
    const context: CommandContext = { tenantId: job.tenantId, actor: 'system:calendar-sync', causationId: job.key };
    const outcome = await syncResourceCalendar(deps, job.tenantId, calendarId, context);
    if (outcome.outcome !== 'skipped') await scheduleNext(deps, job.tenantId, calendarId, outcome.nextRunAt);
  };
}

// Process manager --------------------------------------------------------------------------------------------------

/** At most this many reservations are checked against one sync's busy times (a resource's next months). */
const MAX_CHECKED_RESERVATIONS = 5_000;
const RESERVATION_CHECKS = ['ReservationRequested', 'ReservationConfirmed', 'ReservationRescheduled'] as const;

/**
 * Process manager (the one shape): a link starts its sync job, a change of interval or secret syncs at once, an
 * unlink stops it. A sync that changed the busy times, and a booking or move, check the resource's seat-holding
 * reservations against them: each overlap is a `calendar-conflict` intent that flags the reservation (its decider
 * ignores a conflict already flagged). Nothing is ever cancelled.
 */
export function createResourceCalendarManager(
  deps: Pick<ResourceCalendarDeps, 'eventStore' | 'readModels' | 'clock'>,
): ProcessManager & { readonly concurrency: number } {
  const conflictIntent = (
    event: RecordedEvent,
    tenantId: string,
    reservation: { reservationId: string },
    conflict: { calendarId: string; calendarName: string; resourceId: string; busyStart: string; busyEnd: string },
  ): CommandIntent => ({
    kind: 'command',
    target: CALENDAR_CONFLICT_TARGET,
    tenantId,
    aggregateId: reservation.reservationId,
    command: {
      type: 'FlagCalendarConflict',
      data: { reservationId: reservation.reservationId, ...conflict },
    },
    idempotencyKey: `${event.id}:${reservation.reservationId}:${conflict.calendarId}:${conflict.busyStart}`,
  });

  const overlapping = (busy: readonly { start: string; end: string }[], start: string, end: string) => {
    const s = Date.parse(start);
    const e = Date.parse(end);
    return busy.filter((b) => Date.parse(b.start) < e && Date.parse(b.end) > s);
  };

  const reactToSync = async (event: RecordedEvent): Promise<Intent[]> => {
    const d = toDomainEvent<Extract<ResourceCalendarEvent, { type: 'ResourceCalendarSynced' }>>(event).data;
    if (!d.changed || !d.busy || d.busy.length === 0) return [];
    const tenantId = event.metadata.tenantId;
    const name = await calendarNameOf(tenantId, d.calendarId);
    const now = deps.clock.now().toISOString();
    const reservations = await deps.readModels.find<ReservationDocument & StoredDocument>(
      physicalCollection(reservationDetailsProjection),
      { tenantId, resourceId: d.resourceId, status: { $in: ['requested', 'confirmed'] }, end: { $gt: now } },
      { sort: { field: 'start', direction: 1 }, limit: MAX_CHECKED_RESERVATIONS },
    );
    const intents: Intent[] = [];
    for (const reservation of reservations) {
      for (const busy of overlapping(d.busy, reservation.start, reservation.end)) {
        intents.push(
          conflictIntent(event, tenantId, reservation, {
            calendarId: d.calendarId,
            calendarName: name,
            resourceId: d.resourceId,
            busyStart: busy.start,
            busyEnd: busy.end,
          }),
        );
      }
    }
    return intents;
  };

  const calendarNameOf = async (tenantId: string, calendarId: string): Promise<string> => {
    const doc = await deps.readModels.get<ResourceCalendarDocument & StoredDocument>(
      physicalCollection(resourceCalendarsProjection),
      `${tenantId}:${calendarId}`,
    );
    return doc?.name ?? calendarId;
  };

  /** A booking or a move after the sync: checked against the busy times known now (the read model). */
  const reactToReservation = async (event: RecordedEvent): Promise<Intent[]> => {
    const tenantId = event.metadata.tenantId;
    const reservationId = (event.data as { reservationId?: unknown }).reservationId;
    if (typeof reservationId !== 'string') return [];
    const { state } = await loadAggregate(
      deps.eventStore,
      reservationStreamName(tenantId, reservationId),
      reservationDecider,
    );
    if (state.status !== 'requested' && state.status !== 'confirmed') return [];
    const r = state.reservation;
    if (!r.resourceId || Date.parse(r.end) <= deps.clock.now().getTime()) return [];
    const docs = await deps.readModels.find<ResourceCalendarDocument & StoredDocument>(
      physicalCollection(resourceCalendarsProjection),
      { tenantId, resourceId: r.resourceId, status: 'linked' },
    );
    const intents: Intent[] = [];
    for (const doc of docs) {
      for (const busy of overlapping(toBusyIntervalsOf(doc), r.start, r.end)) {
        intents.push(
          conflictIntent(event, tenantId, r, {
            calendarId: doc.calendarId,
            calendarName: doc.name,
            resourceId: r.resourceId,
            busyStart: busy.start,
            busyEnd: busy.end,
          }),
        );
      }
    }
    return intents;
  };

  return {
    name: 'resource-calendars',
    concurrency: 4,
    eventTypes: [...RESOURCE_CALENDAR_EVENT_TYPES, ...RESERVATION_CHECKS],
    async react(event) {
      const tenantId = event.metadata.tenantId;
      const calendarId = (event.data as { calendarId?: unknown }).calendarId;
      switch (event.type) {
        case 'ResourceCalendarLinked':
          return [syncSoon(tenantId, String(calendarId), new Date(event.recordedAt))];
        case 'ResourceCalendarChanged': {
          const changes = (event.data as { changes?: Record<string, unknown> }).changes ?? {};
          return changes.source !== undefined || changes.syncIntervalMinutes !== undefined
            ? [syncSoon(tenantId, String(calendarId), new Date(event.recordedAt))]
            : [];
        }
        case 'ResourceCalendarUnlinked':
          return [{ kind: 'cancel-schedule', key: calendarSyncJobKey(tenantId, String(calendarId)) }];
        case 'ResourceCalendarSynced':
          return reactToSync(event);
        case 'ResourceCalendarSyncFailed':
          return [];
        default:
          return reactToReservation(event);
      }
    },
  };
}

/** The busy times a read-model document holds, parsed and re-serialised (malformed ones dropped). */
function toBusyIntervalsOf(doc: ResourceCalendarDocument): { start: string; end: string }[] {
  return toBusyIntervals(toMsIntervals(doc.busy ?? []));
}

/** A sync at the event's time: the first one after a link (or a replay, where it is already past: runs at once). */
function syncSoon(tenantId: string, calendarId: string, at: Date): Intent {
  return {
    kind: 'schedule',
    job: {
      name: CALENDAR_SYNC_JOB,
      key: calendarSyncJobKey(tenantId, calendarId),
      runAt: at,
      tenantId,
      data: { calendarId },
    },
  };
}

/** Executes `calendar-conflict` intents: the reservation's decider flags the conflict (or ignores a known one). */
export function createCalendarConflictHandler(deps: CommandHandlerDeps & { readonly clock: Clock }): IntentHandler {
  return async (intent, context) => {
    const data = intent.command.data as {
      reservationId: string;
      calendarId: string;
      calendarName: string;
      resourceId: string;
      busyStart: string;
      busyEnd: string;
    };
    await handleCommand(
      deps,
      reservationStreamName(intent.tenantId, data.reservationId),
      reservationDecider,
      { type: 'FlagCalendarConflict', data: { ...data, now: deps.clock.now().toISOString() } },
      context,
      { idempotencyKey: intent.idempotencyKey },
    );
  };
}
