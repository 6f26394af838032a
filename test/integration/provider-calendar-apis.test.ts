import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/application/ports/clock.port.js';
import { startCalendarApiStandIn, type CalendarApiStandIn } from '../support/calendar-api-stand-ins.js';
import { startTestHerald, TEST_ADMIN_KEY, type TestHerald } from '../support/test-herald.js';

/**
 * Google Calendar FreeBusy and Microsoft Graph getSchedule links (issue 12) against stand-ins on loopback that check
 * requests against the providers' documented contract (test/support/calendar-api-stand-ins.ts).
 */

// 2030-06-03 is a Monday; Oslo is at +02:00 then.
const at = (hhmm: string, date = '2030-06-03') => `${date}T${hhmm}:00+02:00`;
const utc = (hhmm: string, date = '2030-06-03') => new Date(at(hhmm, date)).toISOString();

const clock: Clock & { set(iso: string): void } = (() => {
  let now = Date.parse('2030-06-01T08:00:00Z');
  return { now: () => new Date(now), set: (iso: string) => void (now = Date.parse(iso)) };
})();

let apis: CalendarApiStandIn;
let herald: TestHerald;
const auth = { authorization: `Bearer ${TEST_ADMIN_KEY}` };

beforeAll(async () => {
  apis = await startCalendarApiStandIn();
  herald = await startTestHerald({
    clock,
    env: {
      CALENDAR_PROVIDERS: 'ical,google,microsoft',
      CALENDAR_GOOGLE_API_URL: apis.url,
      CALENDAR_GRAPH_API_URL: apis.url,
    },
  });
});
afterAll(async () => {
  await herald?.stop();
  await apis?.close();
});

async function json(method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object, status = 200) {
  const response = await herald.app.inject({ method, url, headers: auth, ...(payload ? { payload } : {}) });
  expect(response.statusCode, response.body).toBe(status);
  await herald.settle();
  return response.json();
}

let rooms = 0;
async function aRoom() {
  const prefix = `api${++rooms}`;
  await json(
    'POST',
    '/v1/locations',
    {
      locationId: `${prefix}-loc`,
      name: 'Klinikken',
      address: { street: 'Storgata 1', city: 'Oslo', country: 'NO' },
      timeZone: 'Europe/Oslo',
    },
    201,
  );
  const hours = [{ start: '09:00', end: '12:00' }];
  await json(
    'POST',
    '/v1/resources',
    {
      resourceId: `${prefix}-room`,
      locationId: `${prefix}-loc`,
      name: 'Room',
      kind: 'room',
      weeklyHours: { monday: hours, tuesday: hours },
    },
    201,
  );
  await json(
    'POST',
    '/v1/services',
    {
      serviceId: `${prefix}-svc`,
      locationId: `${prefix}-loc`,
      name: 'Therapy',
      durationMinutes: 60,
      seatsPerSlot: 1,
      resourceIds: [`${prefix}-room`],
    },
    201,
  );
  return { resourceId: `${prefix}-room`, serviceId: `${prefix}-svc` };
}

async function slotStarts(serviceId: string, date = '2030-06-03') {
  const search = new URLSearchParams({ serviceId, from: at('00:00', date), to: at('23:59', date) });
  return ((await json('GET', `/v1/availability?${search.toString()}`)).slots as { localStart: string }[]).map((s) =>
    s.localStart.slice(11, 16),
  );
}

describe('free/busy APIs linked to a resource', () => {
  it('Google Calendar FreeBusy: busy periods block slots; a refused token keeps the last good ones until replaced', async () => {
    const { resourceId, serviceId } = await aRoom();
    apis.tokens.add('ya29.first-token-0123456789');
    apis.busy.set('therapist@example.com', [{ start: utc('10:15'), end: utc('10:45') }]);
    const link = await json(
      'POST',
      `/v1/resources/${resourceId}/calendars`,
      { provider: 'google', calendar: 'therapist@example.com', token: 'ya29.first-token-0123456789' },
      201,
    );
    expect(link).toMatchObject({ provider: 'google', target: 'therapist@example.com', hint: '…6789' });
    expect(JSON.stringify(link)).not.toContain('first-token');
    const url = `/v1/resources/${resourceId}/calendars/${link.calendarId as string}`;
    expect(await json('POST', `${url}/sync`)).toMatchObject({ outcome: 'synced', busyCount: 1 });
    expect(await slotStarts(serviceId)).toEqual(['09:00', '11:00']);
    // The horizon (61 days) is asked for in documented pieces, each a valid window.
    expect(apis.served.filter((s) => s.path === '/calendar/v3/freeBusy').length).toBeGreaterThanOrEqual(2);

    apis.tokens.delete('ya29.first-token-0123456789');
    apis.busy.set('therapist@example.com', []);
    clock.set('2030-06-01T08:30:00Z');
    const refused = await json('POST', `${url}/sync`);
    expect(refused).toMatchObject({
      outcome: 'failed',
      lastError: { code: 'unauthorized', httpStatus: 401 },
      busyCount: 1,
    });
    expect(await slotStarts(serviceId)).toEqual(['09:00', '11:00']);

    apis.tokens.add('ya29.second-token-9876543210');
    const changed = await json('PATCH', url, { token: 'ya29.second-token-9876543210' });
    expect(changed.hint).toBe('…3210');
    expect(await json('POST', `${url}/sync`)).toMatchObject({ outcome: 'synced', busyCount: 0, lastError: null });
    expect(await slotStarts(serviceId)).toEqual(['09:00', '10:00', '11:00']);
    const events = await herald.adapters.eventStore.readAll();
    expect(JSON.stringify(events, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).not.toMatch(
      /first-token|second-token/,
    );
    expect(apis.rejected).toEqual([]);
  });

  it('Microsoft Graph getSchedule: busy, tentative and out-of-office block, free does not; Retry-After defers syncs', async () => {
    const { resourceId, serviceId } = await aRoom();
    apis.tokens.add('eyJ0eXAiOiJKV1QiLCJhbGciOi.graph-token');
    apis.busy.set('room1@contoso.example', [
      { start: utc('09:00'), end: utc('09:30'), status: 'tentative' },
      { start: utc('10:00'), end: utc('11:00'), status: 'free' },
      { start: utc('11:30'), end: utc('12:00'), status: 'busy' },
      { start: utc('09:00', '2030-06-04'), end: utc('12:00', '2030-06-04'), status: 'oof' },
    ]);
    const link = await json(
      'POST',
      `/v1/resources/${resourceId}/calendars`,
      {
        provider: 'microsoft',
        user: 'desk@contoso.example',
        schedule: 'room1@contoso.example',
        token: 'eyJ0eXAiOiJKV1QiLCJhbGciOi.graph-token',
      },
      201,
    );
    const url = `/v1/resources/${resourceId}/calendars/${link.calendarId as string}`;
    expect(await json('POST', `${url}/sync`)).toMatchObject({ outcome: 'synced', busyCount: 3 });
    expect(await slotStarts(serviceId)).toEqual(['10:00']);
    expect(await slotStarts(serviceId, '2030-06-04')).toEqual([]);
    const graphCalls = apis.served.filter((s) => s.path.startsWith('/v1.0/users/desk%40contoso.example/'));
    expect(graphCalls.length).toBeGreaterThanOrEqual(2); // each under 42 days

    apis.failNext = { status: 429, retryAfter: '120' };
    clock.set('2030-06-01T09:00:00Z');
    expect(await json('POST', `${url}/sync`)).toMatchObject({
      outcome: 'failed',
      lastError: { code: 'rate-limited', httpStatus: 429 },
    });
    const deferred = await herald.app.inject({ method: 'POST', url: `${url}/sync`, headers: auth });
    expect(deferred.statusCode).toBe(409);
    expect(deferred.json()).toMatchObject({ code: 'calendar-sync-deferred', retryAfter: '2030-06-01T09:02:00.000Z' });
    clock.set('2030-06-01T09:03:00Z');
    expect(await json('POST', `${url}/sync`)).toMatchObject({ outcome: 'synced', lastError: null });
    expect(apis.rejected).toEqual([]);
  });
});
