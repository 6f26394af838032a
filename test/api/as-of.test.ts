import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/application/ports/clock.port.js';
import { createSqliteEventStore } from '../../src/infrastructure/sqlite/sqlite-event-store.js';
import { aReservation, startTestHerald, type TestHerald } from '../support/test-herald.js';

// One clock for Herald and its event store, moved by the test: every event's recordedAt is a known instant.
let now = Date.parse('2030-06-03T07:00:00Z');
const clock: Clock = { now: () => new Date(now) };
const moveTo = (iso: string) => void (now = Date.parse(iso));

let herald: TestHerald;
beforeAll(async () => {
  herald = await startTestHerald({ clock, eventStore: createSqliteEventStore({ filename: ':memory:', clock }) });
});
afterAll(async () => {
  await herald.stop();
});

const get = (url: string) => herald.app.inject({ method: 'GET', url, headers: herald.auth });
const post = (url: string, payload?: object) =>
  herald.app.inject({ method: 'POST', url, headers: herald.auth, ...(payload ? { payload } : {}) });

describe('a reservation as of a revision or an instant', () => {
  it('is found by its short code too (main: codes wherever a reservation id is), history included', async () => {
    moveTo('2030-06-04T08:00:00Z');
    expect((await post('/v1/reservations', aReservation({ reservationId: 'asof-code' }))).statusCode).toBe(201);
    moveTo('2030-06-04T09:00:00Z');
    expect((await post('/v1/reservations/asof-code/cancel', { by: 'customer' })).statusCode).toBe(200);
    await herald.settle();
    const code = await herald.codeOf(herald.auth, 'asof-code');
    expect(code).not.toBe('asof-code');
    const then = await get(`/v1/reservations/${code}?asOf=2030-06-04T08:30:00Z`);
    expect(then.statusCode, then.body).toBe(200);
    expect(then.json()).toMatchObject({ reservationId: 'asof-code', status: 'confirmed' });
    const history = await get(`/v1/reservations/${code}/history?asOf=0`);
    expect(history.statusCode, history.body).toBe(200);
    expect(history.json().events.map((event: { type: string }) => event.type)).toEqual(['ReservationConfirmed']);
  });

  it('is the state folded from the events up to then, with that revision as its ETag', async () => {
    moveTo('2030-06-03T08:00:00Z');
    expect((await post('/v1/reservations', aReservation({ reservationId: 'asof-1' }))).statusCode).toBe(201);
    moveTo('2030-06-03T09:00:00Z');
    const cancelled = await post('/v1/reservations/asof-1/cancel', { by: 'customer', reason: 'ill' });
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    await herald.settle();

    const current = await get('/v1/reservations/asof-1');
    expect(current.json().status).toBe('cancelled');
    const currentRevision = current.json().revision as number;
    expect(currentRevision).toBeGreaterThan(0);

    const atRevision0 = await get('/v1/reservations/asof-1?asOf=0');
    expect(atRevision0.statusCode, atRevision0.body).toBe(200);
    expect(atRevision0.json()).toMatchObject({ reservationId: 'asof-1', status: 'confirmed', revision: 0 });
    expect(atRevision0.headers.etag).toBe('"0"');

    // Instants: before the cancellation (any zone offset), after it, and before the reservation existed.
    const before = await get(`/v1/reservations/asof-1?asOf=${encodeURIComponent('2030-06-03T10:30:00+02:00')}`);
    expect(before.json()).toMatchObject({ status: 'confirmed', revision: 0 });
    const after = await get('/v1/reservations/asof-1?asOf=2030-06-03T09:00:00Z');
    expect(after.json()).toMatchObject({ status: 'cancelled', revision: currentRevision });
    const notYet = await get('/v1/reservations/asof-1?asOf=2030-06-03T07:59:59.999Z');
    expect(notYet.statusCode).toBe(404);
    expect(notYet.json()).toMatchObject({ code: 'reservation-not-found' });
    expect(notYet.json().detail).toContain('did not exist yet');

    // A revision the stream has not reached is not silently the latest one.
    const beyond = await get(`/v1/reservations/asof-1?asOf=${currentRevision + 5}`);
    expect(beyond.statusCode).toBe(404);
    expect(beyond.json()).toMatchObject({ code: 'revision-not-found', currentRevision: String(currentRevision) });
  });

  it('cuts the history at the same point', async () => {
    const full = (await get('/v1/reservations/asof-1/history')).json();
    const cut = await get('/v1/reservations/asof-1/history?asOf=2030-06-03T08:30:00Z');
    expect(cut.statusCode).toBe(200);
    expect(cut.json().events.map((event: { type: string }) => event.type)).toEqual(
      full.events
        .filter((event: { recordedAt: string }) => event.recordedAt <= '2030-06-03T08:30:00.000Z')
        .map((event: { type: string }) => event.type),
    );
    expect(cut.json().events.length).toBeLessThan(full.events.length);
    expect(cut.json().revision).toBe(cut.json().events.at(-1).revision);
  });

  it('refuses an asOf that is neither a revision nor an instant with a zone, naming the parameter', async () => {
    for (const bad of ['yesterday', '2030-06-03T08:00:00', '-1', '01', '2030-02-30T08:00:00Z']) {
      const response = await get(`/v1/reservations/asof-1?asOf=${encodeURIComponent(bad)}`);
      expect(response.statusCode, bad).toBe(400);
      expect(response.json().errors[0].field, bad).toBe('querystring.asOf');
    }
  });
});

describe('a delivery as of a point in its stream', () => {
  it('shows the status it had then, from the notification stream, with the audit entries up to then', async () => {
    const deliveries = (await get('/v1/reservations/asof-1/notifications')).json().items as {
      notificationId: string;
      channel: string;
      status: string;
      history: { status: string }[];
    }[];
    const confirmation = deliveries.find((delivery) => delivery.channel === 'email')!;
    expect(confirmation.status).toBe('sent');
    const now = (await get(`/v1/deliveries/${confirmation.notificationId}`)).json();
    const first = await get(`/v1/deliveries/${confirmation.notificationId}?asOf=0`);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({ status: 'requested', sentAt: null });
    expect(first.json().audit).toHaveLength(1);
    expect(first.json().history).toHaveLength(1);
    expect(now.audit.length).toBeGreaterThan(1);
    const unknown = await get(`/v1/deliveries/${confirmation.notificationId}?asOf=2030-01-01T00:00:00Z`);
    expect(unknown.statusCode).toBe(404);
  });
});

describe('a waitlist entry as of a revision of its waitlist', () => {
  it('shows the entry waiting before it left', async () => {
    moveTo('2030-06-03T10:00:00Z');
    const hours = [{ start: '09:00', end: '17:00' }];
    const weeklyHours = { monday: hours, tuesday: hours, wednesday: hours, thursday: hours, friday: hours };
    const address = { street: 'Middelthuns gate 28', postalCode: '0368', city: 'Oslo', country: 'NO' };
    expect(
      (await post('/v1/locations', { locationId: 'asof-loc', name: 'Pool', address, timeZone: 'Europe/Oslo' }))
        .statusCode,
    ).toBe(201);
    expect(
      (
        await post('/v1/resources', {
          resourceId: 'asof-lane',
          locationId: 'asof-loc',
          name: 'Lane',
          kind: 'room',
          weeklyHours,
        })
      ).statusCode,
    ).toBe(201);
    const service = {
      serviceId: 'asof-swim',
      locationId: 'asof-loc',
      name: 'Swim',
      durationMinutes: 60,
      seatsPerSlot: 1,
      maxPartySize: 1,
      resourceIds: ['asof-lane'],
    };
    expect((await post('/v1/services', service)).statusCode).toBe(201);
    await herald.settle();
    const start = '2030-06-10T10:00:00+02:00';
    const customer = (n: number) => ({ name: `Swimmer ${n}`, email: `swimmer-${n}@example.com`, locale: 'en' });
    const booked = await post('/v1/reservations', { serviceId: 'asof-swim', start, customer: customer(1) });
    expect(booked.statusCode, booked.body).toBe(201);
    await herald.settle();
    const joined = await post('/v1/waitlists/entries', { serviceId: 'asof-swim', start, customer: customer(2) });
    expect(joined.statusCode, joined.body).toBe(201);
    const { waitlistId, entryId } = joined.json() as { waitlistId: string; entryId: string };
    await herald.settle();
    const waitingRevision = (await get(`/v1/waitlists/${waitlistId}`)).json().revision as number;

    moveTo('2030-06-03T11:00:00Z');
    const left = await herald.app.inject({
      method: 'DELETE',
      url: `/v1/waitlists/${waitlistId}/entries/${entryId}`,
      headers: herald.auth,
    });
    expect(left.statusCode, left.body).toBe(200);
    expect((await get(`/v1/waitlists/${waitlistId}/entries/${entryId}`)).json().status).toBe('left');

    const then = await get(`/v1/waitlists/${waitlistId}/entries/${entryId}?asOf=${waitingRevision}`);
    expect(then.statusCode, then.body).toBe(200);
    expect(then.json()).toMatchObject({ entryId, status: 'waiting', position: 1 });
    expect(then.headers.etag).toBe(`"${waitingRevision}"`);
    const byTime = await get(`/v1/waitlists/${waitlistId}/entries/${entryId}?asOf=2030-06-03T10:30:00Z`);
    expect(byTime.json()).toMatchObject({ status: 'waiting' });
    const history = await get(`/v1/waitlists/${waitlistId}/history?asOf=${waitingRevision}`);
    expect(history.json().revision).toBe(waitingRevision);
    expect(history.json().events).toHaveLength(waitingRevision + 1);
  });
});
