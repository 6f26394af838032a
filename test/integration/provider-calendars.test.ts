import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CALENDAR_SYNC_JOB } from '../../src/application/calendars/resource-calendars.js';
import { recordingEmail, startTestHerald, TEST_ADMIN_KEY, type TestHerald } from '../support/test-herald.js';
import { manualClock } from '../support/manual-clock.js';

/**
 * Provider calendars (issue 12) end to end: iCal feeds served over real HTTP on loopback (allowed by the explicit
 * test settings CALENDAR_FEED_ALLOW_LOOPBACK / _ALLOW_HTTP), linked to a resource through the API, synced by the
 * scheduler and on demand; availability and booking read the busy times; a booking a new busy time collides with is
 * flagged to staff and left as it is.
 */

// 2030-06-03 is a Monday; Oslo is at +02:00 then.
const at = (hhmm: string, date = '2030-06-03') => `${date}T${hhmm}:00+02:00`;
const utc = (hhmm: string, date = '2030-06-03') => new Date(at(hhmm, date)).toISOString();
const stamp = (hhmm: string, date = '2030-06-03') => utc(hhmm, date).replace(/[-:]/g, '').replace('.000', '');

const clock = manualClock('2030-06-01T08:00:00Z');

/** The feed server: what each path answers, changed by the tests between syncs. */
const feeds = new Map<string, { status?: number; body: string; headers?: Record<string, string> } | 'hang'>();
const requests: string[] = [];
let server: Server;
let base: string;
const email = recordingEmail();
let herald: TestHerald;
/** Every log line Herald writes, to check that no feed address reaches the logs. */
const logged: string[] = [];
const log = (fields: Record<string, unknown>, message: string) =>
  void logged.push(`${message} ${JSON.stringify(fields)}`);
const auth = { authorization: `Bearer ${TEST_ADMIN_KEY}` };

function calendar(...events: string[]): string {
  return ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Herald tests//EN', ...events, 'END:VCALENDAR', ''].join('\r\n');
}
function event(uid: string, start: string, end: string, extra: string[] = []): string {
  return [
    'BEGIN:VEVENT',
    `UID:${uid}`,
    'DTSTAMP:20300101T000000Z',
    `DTSTART:${start}`,
    `DTEND:${end}`,
    ...extra,
    'END:VEVENT',
  ].join('\r\n');
}

beforeAll(async () => {
  server = createServer((request, response) => {
    requests.push(request.url ?? '');
    const feed = feeds.get(request.url ?? '');
    if (feed === 'hang') return; // never answers: the sync's time bound must end it
    if (!feed) return response.writeHead(404).end();
    response.writeHead(feed.status ?? 200, { 'content-type': 'text/calendar; charset=utf-8', ...feed.headers });
    response.end(feed.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  herald = await startTestHerald({
    clock,
    email,
    logger: { info: log, warn: log, error: log, debug: log },
    env: {
      CALENDAR_FEED_ALLOW_LOOPBACK: 'true',
      CALENDAR_FEED_ALLOW_HTTP: 'true',
      CALENDAR_FETCH_TIMEOUT_SECONDS: '2',
      CALENDAR_MAX_RESPONSE_BYTES: '65536',
      CALENDAR_MAX_REDIRECTS: '2',
    },
  });
});
afterAll(async () => {
  await herald?.stop();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const inject = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: object, headers = {}) =>
  herald.app.inject({ method, url, headers: { ...auth, ...headers }, ...(payload !== undefined ? { payload } : {}) });

async function json(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: object, status = 200) {
  const response = await inject(method, url, payload);
  expect(response.statusCode, response.body).toBe(status);
  await herald.settle();
  return response.json();
}

let catalogs = 0;
/** A room in Oslo open weekdays 09:00-12:00, a 60-minute session of one seat on it. */
async function aRoom() {
  const prefix = `pc${++catalogs}`;
  const locationId = `${prefix}-loc`;
  await json(
    'POST',
    '/v1/locations',
    {
      locationId,
      name: 'Klinikken',
      address: { street: 'Storgata 1', city: 'Oslo', country: 'NO' },
      timeZone: 'Europe/Oslo',
    },
    201,
  );
  const resourceId = `${prefix}-room`;
  const hours = [{ start: '09:00', end: '12:00' }];
  await json(
    'POST',
    '/v1/resources',
    {
      resourceId,
      locationId,
      name: 'Room 1',
      kind: 'room',
      weeklyHours: { monday: hours, tuesday: hours, wednesday: hours, thursday: hours, friday: hours },
    },
    201,
  );
  const serviceId = `${prefix}-svc`;
  await json(
    'POST',
    '/v1/services',
    { serviceId, locationId, name: 'Therapy', durationMinutes: 60, seatsPerSlot: 1, resourceIds: [resourceId] },
    201,
  );
  return { resourceId, serviceId };
}

async function slotStarts(serviceId: string, date = '2030-06-03'): Promise<string[]> {
  const search = new URLSearchParams({ serviceId, from: at('00:00', date), to: at('23:59', date) });
  const body = await json('GET', `/v1/availability?${search.toString()}`);
  return (body.slots as { localStart: string }[]).map((slot) => slot.localStart.slice(11, 16));
}

/** Links a feed served at `path` and waits for the first sync the scheduler runs. */
async function linkFeed(resourceId: string, path: string) {
  const linked = await json(
    'POST',
    `/v1/resources/${resourceId}/calendars`,
    { provider: 'ical', url: `${base}${path}`, name: 'Therapist' },
    201,
  );
  const url = `/v1/resources/${resourceId}/calendars/${linked.calendarId as string}`;
  for (let waited = 0; ; waited += 50) {
    const link = await json('GET', url);
    if (link.lastSyncedAt !== null || link.lastError !== null)
      return { calendarId: linked.calendarId as string, url, link };
    if (waited > 10_000) throw new Error('the first sync did not run');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function syncNow(url: string) {
  return json('POST', `${url}/sync`);
}

/** Runs the pending scheduled sync of a link, as the scheduler would when it is due. */
async function runScheduledSync(calendarId: string) {
  const job = (await herald.adapters.scheduler.pending({ name: CALENDAR_SYNC_JOB })).find(
    (pending) => pending.data.calendarId === calendarId,
  );
  expect(job, 'a scheduled sync').toBeDefined();
  if (!job) return;
  await herald.runJob(job);
  await herald.settle();
}

describe('provider calendars: an iCal feed linked to a resource', () => {
  it('a busy event removes the matching slots within one sync; removing it restores them (recurring, EXDATE)', async () => {
    const { resourceId, serviceId } = await aRoom();
    feeds.set('/feeds/therapist.ics?secret=s3cr3t-path-token', { body: calendar() });
    expect(await slotStarts(serviceId)).toEqual(['09:00', '10:00', '11:00']);

    const { calendarId, url, link } = await linkFeed(resourceId, '/feeds/therapist.ics?secret=s3cr3t-path-token');
    expect(link).toMatchObject({
      provider: 'ical',
      status: 'linked',
      lastSyncedAt: '2030-06-01T08:00:00.000Z',
      busyCount: 0,
      lastError: null,
      hint: `${base}/…`,
    });
    expect(link.nextSyncAt).toBe('2030-06-01T08:15:00.000Z');
    expect(await slotStarts(serviceId)).toEqual(['09:00', '10:00', '11:00']);

    // The therapist's calendar gets a meeting (10:15-10:45) and a daily 09:00-09:30 series, except on Tuesday.
    feeds.set('/feeds/therapist.ics?secret=s3cr3t-path-token', {
      body: calendar(
        event('meeting@example.com', stamp('10:15'), stamp('10:45')),
        event('daily@example.com', stamp('09:00'), stamp('09:30'), [
          'RRULE:FREQ=DAILY;COUNT=3',
          `EXDATE:${stamp('09:00', '2030-06-04')}`,
        ]),
      ),
    });
    clock.set('2030-06-01T08:15:00Z');
    await runScheduledSync(calendarId);
    expect(await slotStarts(serviceId)).toEqual(['11:00']);
    expect(await slotStarts(serviceId, '2030-06-04')).toEqual(['09:00', '10:00', '11:00']);
    expect(await slotStarts(serviceId, '2030-06-05')).toEqual(['10:00', '11:00']);
    const afterBusy = await json('GET', url);
    expect(afterBusy).toMatchObject({ lastSyncedAt: '2030-06-01T08:15:00.000Z', busyCount: 3, lastError: null });
    expect(afterBusy.nextSyncAt).toBe('2030-06-01T08:30:00.000Z');

    // Booking the busy time is refused with the reason; the free slot books.
    const refused = await inject('POST', '/v1/reservations', {
      serviceId,
      start: at('10:00'),
      customer: { name: 'Kari Nordmann', email: 'kari@example.com' },
    });
    expect(refused.statusCode, refused.body).toBe(409);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(refused.json()).toMatchObject({
      code: 'resource-calendar-busy',
      busyStart: utc('10:15'),
      busyEnd: utc('10:45'),
    });

    // The meeting is deleted: one sync (on demand) gives the slots back.
    feeds.set('/feeds/therapist.ics?secret=s3cr3t-path-token', {
      body: calendar(
        event('daily@example.com', stamp('09:00'), stamp('09:30'), [
          'RRULE:FREQ=DAILY;COUNT=3',
          `EXDATE:${stamp('09:00', '2030-06-04')}`,
        ]),
      ),
    });
    clock.set('2030-06-01T08:20:00Z');
    const synced = await syncNow(url);
    expect(synced).toMatchObject({ outcome: 'synced', lastSyncedAt: '2030-06-01T08:20:00.000Z', busyCount: 2 });
    expect(await slotStarts(serviceId)).toEqual(['10:00', '11:00']);

    // Unlinking stops the busy times from counting, and the scheduled syncs.
    const unlinked = await inject('DELETE', url);
    expect(unlinked.statusCode, unlinked.body).toBe(204);
    await herald.settle();
    expect(await slotStarts(serviceId)).toEqual(['09:00', '10:00', '11:00']);
    expect(
      (await herald.adapters.scheduler.pending({ name: CALENDAR_SYNC_JOB })).some(
        (job) => job.data.calendarId === calendarId,
      ),
    ).toBe(false);
    expect((await json('GET', `/v1/resources/${resourceId}/calendars`)).items).toEqual([]);
  });

  it('never shows or records the feed address in clear', async () => {
    const { resourceId } = await aRoom();
    feeds.set('/private/abcdef0123456789-very-secret/basic.ics', { body: calendar() });
    const { url } = await linkFeed(resourceId, '/private/abcdef0123456789-very-secret/basic.ics');
    const answers = [
      await inject('GET', url),
      await inject('GET', `/v1/resources/${resourceId}/calendars`),
      await inject('POST', `${url}/sync`),
    ];
    for (const answer of answers) expect(answer.body).not.toContain('very-secret');
    const events = await herald.adapters.eventStore.readAll();
    expect(events.some((e) => e.type === 'ResourceCalendarLinked')).toBe(true);
    expect(
      JSON.stringify(events, (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value)),
    ).not.toContain('very-secret');
    expect(logged.some((line) => line.includes('calendar linked'))).toBe(true);
    // No log line names a feed address (the first test's feed had its secret in the query).
    expect(logged.filter((line) => line.includes('very-secret') || line.includes('s3cr3t'))).toEqual([]);
  });

  it('flags a booking a newly busy time collides with to staff and leaves it booked', async () => {
    const { resourceId, serviceId } = await aRoom();
    const settings = await json('GET', '/v1/settings/notifications');
    await json('PUT', '/v1/settings/notifications', { ...settings, admins: [{ email: 'desk@klinikken.example.com' }] });
    feeds.set('/feeds/conflict.ics', { body: calendar() });
    const { url } = await linkFeed(resourceId, '/feeds/conflict.ics');
    const booked = await json(
      'POST',
      '/v1/reservations',
      { serviceId, start: at('10:00', '2030-06-04'), customer: { name: 'Ola Nordmann', email: 'ola@example.com' } },
      201,
    );
    const statusBefore = booked.status as string;

    feeds.set('/feeds/conflict.ics', {
      body: calendar(event('surgery@example.com', stamp('10:30', '2030-06-04'), stamp('11:30', '2030-06-04'))),
    });
    clock.set('2030-06-01T09:00:00Z');
    await syncNow(url);
    await herald.settle();

    const reservation = await json('GET', `/v1/reservations/${booked.reservationId as string}`);
    expect(reservation.status).toBe(statusBefore);
    expect(reservation.calendarConflicts).toEqual([
      {
        calendarId: url.split('/').at(-1),
        resourceId,
        busyStart: utc('10:30', '2030-06-04'),
        busyEnd: utc('11:30', '2030-06-04'),
        detectedAt: '2030-06-01T09:00:00.000Z',
      },
    ]);
    const alerts = email.sent.filter((m) => m.to === 'desk@klinikken.example.com' && m.text.includes('Therapist'));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.text).toContain('The reservation was not changed');
    const flagged = (
      await herald.adapters.eventStore.readAll({ eventTypes: ['ReservationCalendarConflictDetected'] })
    ).filter((e) => (e.data as { reservationId?: string }).reservationId === booked.reservationId);
    expect(flagged).toHaveLength(1);

    // The same busy time at the next sync is not flagged again.
    clock.set('2030-06-01T09:15:00Z');
    await syncNow(url);
    await herald.settle();
    expect((await json('GET', `/v1/reservations/${booked.reservationId as string}`)).calendarConflicts).toHaveLength(1);
    expect(
      email.sent.filter((m) => m.to === 'desk@klinikken.example.com' && m.text.includes('Therapist')),
    ).toHaveLength(1);
  });

  it('a failing sync keeps the last good busy times and says why; fetching is bounded in size, time and redirects', async () => {
    const { resourceId, serviceId } = await aRoom();
    feeds.set('/feeds/flaky.ics', {
      body: calendar(event('meeting@example.com', stamp('09:00', '2030-06-06'), stamp('10:00', '2030-06-06'))),
    });
    const { url, link } = await linkFeed(resourceId, '/feeds/flaky.ics');
    const lastGood = link.lastSyncedAt as string;
    expect(await slotStarts(serviceId, '2030-06-06')).toEqual(['10:00', '11:00']);

    const failures: [string, { status?: number; body: string; headers?: Record<string, string> } | 'hang', string][] = [
      ['server error', { status: 503, body: 'down' }, 'provider-error'],
      ['not iCalendar', { body: '<html>login</html>' }, 'invalid-response'],
      ['too large', { body: calendar('X-PAD:' + 'x'.repeat(70_000)) }, 'too-large'],
      ['no answer', 'hang', 'timeout'],
      ['redirect loop', { status: 302, body: '', headers: { location: '/feeds/flaky.ics' } }, 'forbidden-address'],
      [
        'redirect to a private address',
        { status: 302, body: '', headers: { location: 'http://10.1.2.3/feed.ics' } },
        'forbidden-address',
      ],
    ];
    for (const [what, answer, code] of failures) {
      feeds.set('/feeds/flaky.ics', answer);
      const started = Date.now();
      const result = await syncNow(url);
      expect(result, what).toMatchObject({
        outcome: 'failed',
        lastError: { code },
        lastSyncedAt: lastGood,
      });
      expect(Date.now() - started, what).toBeLessThan(10_000);
      expect(JSON.stringify(result.lastError), what).not.toContain(base);
      expect(await slotStarts(serviceId, '2030-06-06'), what).toEqual(['10:00', '11:00']);
    }
  });

  it('refuses feed addresses it would not fetch, and unknown links, with problem+json and nothing recorded', async () => {
    const { resourceId } = await aRoom();
    const before = await herald.adapters.eventStore.headPosition();
    for (const address of [
      'ftp://example.com/feed.ics',
      'http://user:pass@127.0.0.1/feed.ics',
      'http://10.0.0.1/feed.ics',
      'not a url',
    ]) {
      const refused = await inject('POST', `/v1/resources/${resourceId}/calendars`, { provider: 'ical', url: address });
      expect(refused.statusCode, address).toBe(400);
      expect(refused.headers['content-type']).toContain('application/problem+json');
    }
    const notEnabled = await inject('POST', `/v1/resources/${resourceId}/calendars`, {
      provider: 'google',
      calendar: 'a@example.com',
      token: 'ya29.token-0123456789',
    });
    expect(notEnabled.statusCode).toBe(409);
    expect(notEnabled.json().code).toBe('calendar-provider-not-configured');
    expect((await inject('GET', `/v1/resources/${resourceId}/calendars/cal-nope`)).statusCode).toBe(404);
    expect((await inject('GET', '/v1/resources/no-such-room/calendars')).statusCode).toBe(404);
    expect(await herald.adapters.eventStore.headPosition()).toBe(before);
  });
});
