import { z } from 'zod';
import { SYNC_ERROR_CODES } from '../../../domain/calendar/resource-calendar.decider.js';
import { id, line } from './common.js';

export const calendarParams = z.object({ resourceId: id, calendarId: id });
export const resourceCalendarsParams = z.object({ resourceId: id });

const name = line(200).min(1).describe('What staff call it, e.g. "Dr Novák’s Google calendar".');
const syncIntervalMinutes = z
  .int()
  .min(5)
  .max(1440)
  .describe('Minutes between syncs; default CALENDAR_SYNC_INTERVAL_MINUTES, at least CALENDAR_SYNC_MIN_MINUTES.');
const feedUrl = z
  .string()
  .min(1)
  .max(2048)
  .describe(
    'The calendar’s secret address in iCal format (https:// or webcal://), as Google Calendar and Outlook publish ' +
      'it. Kept encrypted; never shown again (the answer shows only its host).',
  );
const token = z
  .string()
  .min(8)
  .max(8192)
  .describe('An OAuth 2.0 access token for the provider’s API. Kept encrypted; never shown again.');

export const calendarLinkInputSchema = z
  .discriminatedUnion('provider', [
    z.strictObject({
      provider: z.literal('ical'),
      url: feedUrl,
      name: name.optional(),
      syncIntervalMinutes: syncIntervalMinutes.optional(),
    }),
    z.strictObject({
      provider: z.literal('google'),
      calendar: line(320).min(1).describe('The Google calendar id (often an email address).'),
      token,
      name: name.optional(),
      syncIntervalMinutes: syncIntervalMinutes.optional(),
    }),
    z.strictObject({
      provider: z.literal('microsoft'),
      user: line(320).min(1).describe('The Graph user (id or userPrincipalName) whose calendar answers.'),
      schedule: line(320).min(1).describe('The SMTP address whose free/busy is asked for (a user, a room).'),
      token,
      name: name.optional(),
      syncIntervalMinutes: syncIntervalMinutes.optional(),
    }),
  ])
  .meta({ id: 'NewCalendarLink' });

export const calendarChangeSchema = z
  .strictObject({
    name: name.optional(),
    syncIntervalMinutes: syncIntervalMinutes.optional(),
    url: feedUrl.optional().describe('iCal links: a new feed address.'),
    token: token.optional().describe('Google and Microsoft links: a new access token.'),
  })
  .meta({ id: 'CalendarLinkChange' });

export const calendarLinkSchema = z
  .object({
    calendarId: z.string(),
    resourceId: z.string(),
    name: z.string(),
    provider: z.enum(['ical', 'google', 'microsoft']),
    hint: z.string().describe('What may be shown of the secret: the feed’s host, or the token’s last characters.'),
    target: z.string().nullable().describe('Google: the calendar id; Microsoft: user / schedule; iCal: null.'),
    syncIntervalMinutes: z.int(),
    status: z.enum(['linked', 'unlinked']),
    lastSyncedAt: z.string().nullable().describe('The last successful sync; null before the first.'),
    horizonEnd: z.string().nullable().describe('Busy times are known up to here.'),
    busyCount: z.int().describe('Busy intervals (merged) the last successful sync found.'),
    truncated: z.boolean().describe('More busy times than CALENDAR_MAX_BUSY_INTERVALS: the horizon was cut short.'),
    lastError: z
      .object({
        code: z.enum(SYNC_ERROR_CODES),
        message: z.string(),
        httpStatus: z.int().optional(),
        since: z.string(),
      })
      .nullable()
      .describe('Why syncs fail since the last success (the last good busy times stay in force); null when fine.'),
    nextSyncAt: z.string().optional().describe('When the next scheduled sync runs.'),
    revision: z.int(),
  })
  .meta({ id: 'CalendarLink' });

export const calendarSyncResultSchema = calendarLinkSchema
  .extend({ outcome: z.enum(['synced', 'failed']).describe('failed: see lastError.') })
  .meta({ id: 'CalendarSyncResult' });
