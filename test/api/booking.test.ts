import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSeatKeeper, HOLD_EXPIRY_JOB } from '../../src/application/booking/seat-keeper.js';
import { handleCommand } from '../../src/application/command-handler.js';
import { reservationDecider } from '../../src/domain/booking/reservation.decider.js';
import { silentLogger } from '../support/silent-logger.js';
import { recordingEmail, startTestHerald, TEST_ADMIN_KEY, type TestHerald } from '../support/test-herald.js';
import { manualClock } from '../support/manual-clock.js';

// A Herald on embedded stores whose clock the tests move: holds expire, slots start, without waiting.
// 2030-06-03 is a Monday; Oslo is at +02:00 then.
const DAY = '2030-06-03';
const at = (hhmm: string, date = DAY) => `${date}T${hhmm}:00+02:00`;
const utc = (hhmm: string, date = DAY) => new Date(at(hhmm, date)).toISOString();

const clock = manualClock('2030-06-01T08:00:00Z');
const email = recordingEmail();
const logger = silentLogger();
let herald: TestHerald;
const auth = { authorization: `Bearer ${TEST_ADMIN_KEY}` };

beforeAll(async () => {
  herald = await startTestHerald({ env: { RESERVATION_HOLD_MINUTES: '15' }, email, clock });
});
afterAll(async () => {
  await herald.stop();
});

// Helpers ------------------------------------------------------------------------------------------------------------

const inject = (method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', url: string, payload?: object, headers = {}) =>
  herald.app.inject({ method, url, headers: { ...auth, ...headers }, ...(payload !== undefined ? { payload } : {}) });

async function allEvents() {
  // Consumers append on their own after a request (the planner, the dispatcher): count once they have.
  await herald.settle();
  return herald.adapters.eventStore.readAll({ limit: 1_000_000 });
}
async function eventCount(): Promise<number> {
  return (await allEvents()).length;
}
async function streamTypes(streamName: string): Promise<string[]> {
  return (await herald.adapters.eventStore.readStream(streamName)).events.map((event) => event.type);
}

const weekdays = (interval: { start: string; end: string }) => ({
  monday: [interval],
  tuesday: [interval],
  wednesday: [interval],
  thursday: [interval],
  friday: [interval],
});

let catalogs = 0;
/** A location in Oslo, `resources` stylists working weekdays 09:00-17:00 (closed 2030-06-05), and one service. */
async function aCatalog(
  service: Record<string, unknown> = {},
  resources = 1,
  weeklyHours: Record<string, unknown> = weekdays({ start: '09:00', end: '17:00' }),
) {
  const prefix = `c${++catalogs}`;
  const locationId = `${prefix}-loc`;
  expect(
    (
      await inject('POST', '/v1/locations', {
        locationId,
        name: 'Salong Majorstua',
        address: { street: 'Bogstadveien 1', postalCode: '0355', city: 'Oslo', country: 'NO' },
        timeZone: 'Europe/Oslo',
      })
    ).statusCode,
  ).toBe(201);
  const resourceIds: string[] = [];
  for (let index = 1; index <= resources; index++) {
    const resourceId = `${prefix}-stylist-${index}`;
    const created = await inject('POST', '/v1/resources', {
      resourceId,
      locationId,
      name: `Stylist ${index}`,
      kind: 'staff',
      weeklyHours,
      exceptions: { closedDates: ['2030-06-05'] },
      contact: { email: `stylist-${index}@${prefix}.example.com` },
    });
    expect(created.statusCode).toBe(201);
    resourceIds.push(resourceId);
  }
  const serviceId = `${prefix}-cut`;
  const created = await inject('POST', '/v1/services', {
    serviceId,
    locationId,
    name: 'Haircut',
    description: 'Wash, cut and style.',
    durationMinutes: 60,
    seatsPerSlot: 1,
    resourceIds,
    ...service,
  });
  expect(created.statusCode, created.body).toBe(201);
  return { locationId, resourceIds, serviceId, prefix };
}

let customers = 0;
function aBooking(serviceId: string, start: string, overrides: Record<string, unknown> = {}) {
  customers++;
  return {
    serviceId,
    start,
    customer: {
      id: `cust-${customers}`,
      name: `Customer ${customers}`,
      email: `customer-${customers}@example.com`,
      locale: 'en',
    },
    ...overrides,
  };
}

async function book(serviceId: string, start: string, overrides: Record<string, unknown> = {}, headers = {}) {
  return inject('POST', '/v1/reservations', aBooking(serviceId, start, overrides), headers);
}

// Booking --------------------------------------------------------------------------------------------------------------

describe('POST /v1/reservations with serviceId (booking from the catalog)', () => {
  it('books a service without a confirmation step straight to confirmed, with the seat held and final', async () => {
    const { serviceId, resourceIds, prefix } = await aCatalog();
    const response = await book(serviceId, at('10:00'));
    expect(response.statusCode, response.body).toBe(201);
    const body = response.json();
    expect(body).toMatchObject({
      status: 'confirmed',
      source: 'internal',
      serviceId,
      serviceName: 'Haircut',
      resourceId: resourceIds[0],
      locationId: `${prefix}-loc`,
      location: { name: 'Salong Majorstua', address: 'Bogstadveien 1, 0355 Oslo, NO', timeZone: 'Europe/Oslo' },
      start: utc('10:00'),
      end: utc('11:00'),
      partySize: 1,
    });
    expect(response.headers.location).toBe(`/v1/reservations/${body.reservationId}`);
    expect(response.headers.etag).toBe('"1"');
    expect(await streamTypes(`reservation-default+${body.reservationId}`)).toEqual([
      'ReservationRequested',
      'ReservationConfirmed',
    ]);
    expect(await streamTypes(`resourceday-default+${resourceIds[0]}+${DAY}`)).toEqual([
      'SlotSeatsHeld',
      'SlotSeatsConfirmed',
    ]);
  });

  it('books a service that needs confirmation as requested, holding the seat until the hold expires', async () => {
    const { serviceId } = await aCatalog({ requiresConfirmation: true });
    const response = await book(serviceId, at('10:00'));
    expect(response.statusCode).toBe(201);
    expect(response.json()).toMatchObject({ status: 'requested', holdExpiresAt: '2030-06-01T08:15:00.000Z' });
    await herald.settle();
    const jobs = await herald.adapters.scheduler.pending({ name: HOLD_EXPIRY_JOB });
    expect(jobs.find((job) => job.data.reservationId === response.json().reservationId)?.runAt.toISOString()).toBe(
      '2030-06-01T08:15:00.000Z',
    );
  });

  it('takes the first resource of the service with a free seat when none is named, then answers 409 slot-full', async () => {
    const { serviceId, resourceIds } = await aCatalog({}, 2);
    const first = await book(serviceId, at('10:00'));
    const second = await book(serviceId, at('10:00'));
    expect([first.json().resourceId, second.json().resourceId]).toEqual(resourceIds);
    const before = await eventCount();
    const third = await book(serviceId, at('10:00'), { partySize: 1 });
    expect(third.statusCode).toBe(409);
    expect(third.headers['content-type']).toContain('application/problem+json');
    expect(third.json()).toMatchObject({
      code: 'slot-full',
      remainingSeats: 0,
      waitlist: {
        href: '/v1/waitlists/entries',
        method: 'POST',
        body: { serviceId, start: at('10:00'), partySize: 1, customer: { name: expect.any(String) } },
      },
    });
    expect(await eventCount()).toBe(before);
  });

  it('shares the seats of a class and refuses a party larger than what is left, saying how many are left', async () => {
    const { serviceId, resourceIds } = await aCatalog({ seatsPerSlot: 5, maxPartySize: 4 });
    expect((await book(serviceId, at('10:00'), { partySize: 4 })).statusCode).toBe(201);
    const tooMany = await book(serviceId, at('10:00'), { partySize: 2, resourceId: resourceIds[0] });
    expect(tooMany.statusCode).toBe(409);
    expect(tooMany.json()).toMatchObject({ code: 'slot-full', remainingSeats: 1, requestedSeats: 2, capacity: 5 });
    expect((await book(serviceId, at('10:00'), { partySize: 1 })).statusCode).toBe(201);
  });

  it('never sells two overlapping slots of one resource (a 60-minute service offered every 30 minutes)', async () => {
    const { serviceId } = await aCatalog({ slotIntervalMinutes: 30 });
    expect((await book(serviceId, at('10:00'))).statusCode).toBe(201);
    const overlapping = await book(serviceId, at('10:30'));
    expect(overlapping.statusCode).toBe(409);
    expect(overlapping.json()).toMatchObject({ code: 'resource-busy', remainingSeats: 0 });
    expect((await book(serviceId, at('11:00'))).statusCode).toBe(201);
  });

  it('never sells overlapping slots of two services with different grids on one stylist', async () => {
    const { serviceId, resourceIds, locationId } = await aCatalog({ durationMinutes: 45, slotIntervalMinutes: 45 });
    const colour = await inject('POST', '/v1/services', {
      serviceId: `${serviceId}-colour`,
      locationId,
      name: 'Colour',
      durationMinutes: 90,
      seatsPerSlot: 1,
      slotIntervalMinutes: 30,
      resourceIds,
    });
    expect(colour.statusCode).toBe(201);
    expect((await book(serviceId, at('09:45'))).statusCode).toBe(201); // 09:45-10:30
    expect((await book(`${serviceId}-colour`, at('10:00'))).json()).toMatchObject({ code: 'resource-busy' });
    expect((await book(`${serviceId}-colour`, at('10:30'))).statusCode).toBe(201); // 10:30-12:00
  });

  it('holds a slot running past midnight on both days, where it blocks the early slots, and frees both', async () => {
    const nights = { monday: [{ start: '20:00', end: '24:00' }], tuesday: [{ start: '00:00', end: '04:00' }] };
    const { serviceId, resourceIds } = await aCatalog({ durationMinutes: 120, slotIntervalMinutes: 60 }, 1, nights);
    const late = await book(serviceId, at('23:00'));
    expect(late.statusCode, late.body).toBe(201);
    const day = (date: string) => streamTypes(`resourceday-default+${resourceIds[0]}+${date}`);
    expect(await day(DAY)).toEqual(['SlotSeatsHeld', 'SlotSeatsConfirmed']);
    expect(await day('2030-06-04')).toEqual(['SlotSeatsHeld', 'SlotSeatsConfirmed']);
    expect((await book(serviceId, at('00:00', '2030-06-04'))).json().code).toBe('resource-busy');
    expect((await book(serviceId, at('01:00', '2030-06-04'))).statusCode).toBe(201);
    await inject('POST', `/v1/reservations/${late.json().reservationId}/cancel`, { by: 'customer' });
    expect(await day('2030-06-04')).toEqual([
      'SlotSeatsHeld',
      'SlotSeatsConfirmed',
      'SlotSeatsHeld',
      'SlotSeatsConfirmed',
      'SlotSeatsReleased',
    ]);
    expect((await day(DAY)).at(-1)).toBe('SlotSeatsReleased');
  });

  describe('bad input: 400 naming the rule, nothing appended', () => {
    it.each([
      ['outside working hours', { start: at('07:00') }, 'outside-working-hours'],
      ['in the past', { start: '2030-05-31T10:00:00+02:00' }, 'in-the-past'],
      ['on a closed day', { start: at('10:00', '2030-06-05') }, 'closed-day'],
      ['on a weekend', { start: at('10:00', '2030-06-08') }, 'closed-day'],
      ['a duration that does not fit', { start: at('16:30') }, 'duration-does-not-fit'],
      ['not on the slot grid', { start: at('10:15') }, 'not-a-slot-start'],
      ['a party larger than the seats', { partySize: 2 }, 'party-too-large'],
      ['an unknown service', { serviceId: 'no-such-service' }, 'unknown-service'],
      ['an unknown resource', { resourceId: 'no-such-stylist' }, 'unknown-resource'],
      ['a time without a zone', { start: '2030-06-03T10:00:00' }, 'instant-with-zone'],
    ])('%s', async (_name, overrides, rule) => {
      const { serviceId } = await aCatalog();
      const before = await eventCount();
      const response = await book(serviceId, at('10:00'), overrides);
      expect(response.statusCode, response.body).toBe(400);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.json().rule).toBe(rule);
      expect(await eventCount()).toBe(before);
    });

    it('a malformed body names the field', async () => {
      const { serviceId } = await aCatalog();
      const response = await inject('POST', '/v1/reservations', {
        serviceId,
        start: at('10:00'),
        customer: { name: '' },
      });
      expect(response.statusCode).toBe(400);
      expect(response.json().errors.map((error: { field: string }) => error.field)).toContain('body.customer.name');
    });
  });

  it('replays the first answer for a retry with the same Idempotency-Key and appends nothing', async () => {
    const { serviceId } = await aCatalog();
    const headers = { 'idempotency-key': 'book-once' };
    const payload = aBooking(serviceId, at('13:00'));
    const first = await inject('POST', '/v1/reservations', payload, headers);
    const before = await eventCount();
    const retry = await inject('POST', '/v1/reservations', payload, headers);
    expect(retry.statusCode).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.json()).toEqual(first.json());
    expect(await eventCount()).toBe(before);
  });

  it('answers a booking sent again with the same reservationId with the reservation, appending nothing', async () => {
    const { serviceId } = await aCatalog();
    const payload = aBooking(serviceId, at('14:00'), { reservationId: 'my-booking-1' });
    expect((await inject('POST', '/v1/reservations', payload)).statusCode).toBe(201);
    const before = await eventCount();
    const again = await inject('POST', '/v1/reservations', payload);
    expect(again.statusCode).toBe(200);
    expect(await eventCount()).toBe(before);
    const clash = await book(serviceId, at('15:00'), { reservationId: 'my-booking-1' });
    expect(clash.statusCode).toBe(409);
    expect(clash.json().code).toBe('reservation-already-exists');
  });
});

// Lifecycle ------------------------------------------------------------------------------------------------------------

describe('the reservation lifecycle', () => {
  it('confirms a requested reservation; its seat becomes final; the customer gets a confirmation', async () => {
    const { serviceId, resourceIds } = await aCatalog({ requiresConfirmation: true });
    const { reservationId, code } = (await book(serviceId, at('10:00'))).json();
    const confirmed = await inject('POST', `/v1/reservations/${reservationId}/confirm`, undefined, {
      'if-match': '"0"',
    });
    expect(confirmed.statusCode, confirmed.body).toBe(200);
    expect(confirmed.json().status).toBe('confirmed');
    expect(confirmed.headers.etag).toBe('"1"');
    expect(await streamTypes(`resourceday-default+${resourceIds[0]}+${DAY}`)).toEqual([
      'SlotSeatsHeld',
      'SlotSeatsConfirmed',
    ]);
    await herald.settle();
    const message = email.sent.find((m) => m.text.includes(code));
    expect(message?.to).toMatch(/^customer-\d+@example.com$/);
    expect(message?.text).toContain('Wash, cut and style.');
  });

  it('refuses nonsense transitions with 409 and appends nothing (confirm a cancelled reservation)', async () => {
    const { serviceId } = await aCatalog({ requiresConfirmation: true });
    const { reservationId } = (await book(serviceId, at('10:00'))).json();
    expect((await inject('POST', `/v1/reservations/${reservationId}/cancel`, { by: 'customer' })).statusCode).toBe(200);
    const before = await eventCount();
    for (const [path, code] of [
      ['confirm', 'reservation-not-confirmable'],
      ['decline', 'reservation-not-declinable'],
      ['no-show', 'reservation-not-markable-not-taken'],
      ['complete', 'reservation-not-completable'],
    ] as const) {
      const response = await inject('POST', `/v1/reservations/${reservationId}/${path}`);
      expect(response.statusCode, path).toBe(409);
      expect(response.json()).toMatchObject({ code, reservationId, currentStatus: 'cancelled' });
    }
    const reschedule = await inject('POST', `/v1/reservations/${reservationId}/reschedule`, { start: at('12:00') });
    expect(reschedule.json()).toMatchObject({ code: 'reservation-not-reschedulable' });
    expect(await eventCount()).toBe(before);
  });

  it('answers 412 to a stale If-Match and appends nothing; 404 for an unknown reservation', async () => {
    const { serviceId } = await aCatalog();
    const { reservationId } = (await book(serviceId, at('10:00'))).json();
    const before = await eventCount();
    const stale = await inject(
      'POST',
      `/v1/reservations/${reservationId}/cancel`,
      { by: 'staff' },
      { 'if-match': '"0"' },
    );
    expect(stale.statusCode).toBe(412);
    expect(stale.json().code).toBe('stale-revision');
    expect(await eventCount()).toBe(before);
    expect((await inject('POST', '/v1/reservations/nope/confirm')).statusCode).toBe(404);
  });

  it('cancels (by staff, with a reason), frees the seat at once and tells the customer', async () => {
    const { serviceId } = await aCatalog();
    const { reservationId, code } = (await book(serviceId, at('10:00'))).json();
    const cancelled = await inject(
      'POST',
      `/v1/reservations/${reservationId}/cancel`,
      { by: 'staff', reason: 'Stylist ill' },
      { 'if-match': '"1"' },
    );
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json().status).toBe('cancelled');
    expect((await book(serviceId, at('10:00'))).statusCode).toBe(201);
    await herald.settle();
    const message = email.sent.find((m) => m.text.includes(code) && /cancel/i.test(m.subject));
    expect(message?.text).toContain('Stylist ill');
  });

  it('declines a requested reservation and frees the seat', async () => {
    const { serviceId } = await aCatalog({ requiresConfirmation: true });
    const { reservationId, code } = (await book(serviceId, at('10:00'))).json();
    const declined = await inject('POST', `/v1/reservations/${reservationId}/decline`, { reason: 'Fully booked' });
    expect(declined.json().status).toBe('declined');
    expect((await book(serviceId, at('10:00'))).statusCode).toBe(201);
    await herald.settle();
    expect(email.sent.some((m) => m.text.includes(code) && /declin/i.test(m.subject))).toBe(true);
  });

  it('deletes a reservation (it stays in the history) and frees the seat', async () => {
    const { serviceId } = await aCatalog();
    const { reservationId } = (await book(serviceId, at('10:00'))).json();
    const deleted = await inject('DELETE', `/v1/reservations/${reservationId}?reason=duplicate`);
    expect(deleted.statusCode).toBe(200);
    expect(deleted.json().status).toBe('deleted');
    expect((await book(serviceId, at('10:00'))).statusCode).toBe(201);
    const history = (await inject('GET', `/v1/reservations/${reservationId}/history`)).json();
    expect(history.events.map((event: { type: string }) => event.type)).toEqual([
      'ReservationRequested',
      'ReservationConfirmed',
      'ReservationDeleted',
    ]);
  });

  it('marks a no-show once the slot has started (freeing the seat), and completes another', async () => {
    const { serviceId, resourceIds } = await aCatalog({ seatsPerSlot: 2, maxPartySize: 1 });
    const noShow = (await book(serviceId, at('11:00'))).json();
    const shown = (await book(serviceId, at('11:00'))).json();
    const early = await inject('POST', `/v1/reservations/${noShow.reservationId}/no-show`);
    expect(early.statusCode, early.body).toBe(409);
    expect(early.json().code).toBe('reservation-not-started');
    clock.set(utc('11:05'));
    try {
      expect((await inject('POST', `/v1/reservations/${noShow.reservationId}/no-show`)).json().status).toBe(
        'not-taken',
      );
      expect((await inject('POST', `/v1/reservations/${shown.reservationId}/complete`)).json().status).toBe(
        'completed',
      );
      const day = await herald.adapters.eventStore.readStream(`resourceday-default+${resourceIds[0]}+${DAY}`);
      expect(day.events.at(-1)).toMatchObject({
        type: 'SlotSeatsReleased',
        data: { reservationId: noShow.reservationId, reason: 'not-taken' },
      });
    } finally {
      clock.set('2030-06-01T08:00:00Z');
    }
  });

  it('records a payment once per payment id and sends the receipt with the after-payment text', async () => {
    const { serviceId } = await aCatalog({ afterPaymentText: 'Bring your own towel.' });
    const { reservationId, code } = (await book(serviceId, at('10:00'))).json();
    const payment = { paymentId: 'pay-1', amount: 45000, currency: 'NOK' };
    const first = await inject('POST', `/v1/reservations/${reservationId}/payments`, payment);
    expect(first.statusCode).toBe(200);
    expect(first.json().payments).toMatchObject([payment]);
    const before = await eventCount();
    expect((await inject('POST', `/v1/reservations/${reservationId}/payments`, payment)).statusCode).toBe(200);
    expect(await eventCount()).toBe(before);
    const conflict = await inject('POST', `/v1/reservations/${reservationId}/payments`, { ...payment, amount: 1 });
    expect(conflict.json().code).toBe('payment-conflict');
    const badCurrency = await inject('POST', `/v1/reservations/${reservationId}/payments`, {
      ...payment,
      paymentId: 'pay-2',
      currency: 'kr',
    });
    expect(badCurrency.statusCode).toBe(400);
    await herald.settle();
    const receipt = email.sent.find((m) => m.text.includes(code) && m.text.includes('Bring your own towel.'));
    expect(receipt).toBeDefined();
  });

  it('sends staff notifications to the resource contact from the catalog when the tenant turns them on', async () => {
    const settings = await inject('GET', '/v1/settings/notifications');
    const body = settings.json();
    body.kinds['reservation-confirmed'].recipients.resourceStaff = true;
    const ifMatch = (etag: unknown) => (typeof etag === 'string' ? { 'if-match': etag } : {});
    const changed = await inject('PUT', '/v1/settings/notifications', body, ifMatch(settings.headers.etag));
    expect(changed.statusCode, changed.body).toBe(200);
    try {
      const { serviceId, prefix } = await aCatalog();
      const { code } = (await book(serviceId, at('10:00'))).json();
      await herald.settle();
      expect(email.sent.some((m) => m.to === `stylist-1@${prefix}.example.com` && m.text.includes(code))).toBe(true);
    } finally {
      const current = await inject('GET', '/v1/settings/notifications');
      const restored = current.json();
      restored.kinds['reservation-confirmed'].recipients.resourceStaff = false;
      await inject('PUT', '/v1/settings/notifications', restored, ifMatch(current.headers.etag));
    }
  });
});

// Reschedule -----------------------------------------------------------------------------------------------------------

describe('POST /v1/reservations/{id}/reschedule', () => {
  it('moves to the new slot, frees the old one only then, and tells the customer', async () => {
    const { serviceId } = await aCatalog();
    const { reservationId, code } = (await book(serviceId, at('10:00'))).json();
    const moved = await inject(
      'POST',
      `/v1/reservations/${reservationId}/reschedule`,
      { start: at('12:00') },
      { 'if-match': '"1"' },
    );
    expect(moved.statusCode, moved.body).toBe(200);
    expect(moved.json()).toMatchObject({ status: 'confirmed', start: utc('12:00'), end: utc('13:00') });
    expect((await book(serviceId, at('12:00'))).statusCode).toBe(409);
    expect((await book(serviceId, at('10:00'))).statusCode).toBe(201);
    await herald.settle();
    expect(email.sent.some((m) => m.text.includes(code) && /resched|moved|changed/i.test(m.subject))).toBe(true);
  });

  it('moves within the same hour on one stylist (its own hold does not block it)', async () => {
    const { serviceId } = await aCatalog({ slotIntervalMinutes: 30 });
    const { reservationId } = (await book(serviceId, at('10:00'))).json();
    const moved = await inject('POST', `/v1/reservations/${reservationId}/reschedule`, { start: at('10:30') });
    expect(moved.statusCode, moved.body).toBe(200);
    expect((await book(serviceId, at('10:00'))).json().code).toBe('resource-busy');
    expect((await book(serviceId, at('11:30'))).statusCode).toBe(201);
  });

  it('to a full slot: 409, and the reservation keeps its old seat', async () => {
    const { serviceId } = await aCatalog();
    const { reservationId } = (await book(serviceId, at('10:00'))).json();
    expect((await book(serviceId, at('12:00'))).statusCode).toBe(201);
    const before = await eventCount();
    const refused = await inject('POST', `/v1/reservations/${reservationId}/reschedule`, { start: at('12:00') });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe('slot-full');
    expect(await eventCount()).toBe(before);
    expect((await inject('GET', `/v1/reservations/${reservationId}`)).json().start).toBe(utc('10:00'));
    expect((await book(serviceId, at('10:00'))).statusCode).toBe(409);
  });

  it('is atomic: when the move is refused after the new seat was held (stale If-Match), the new seat is given back', async () => {
    const { serviceId, resourceIds } = await aCatalog();
    const { reservationId } = (await book(serviceId, at('10:00'))).json();
    // The If-Match check runs before any seat is touched ...
    const stale = await inject(
      'POST',
      `/v1/reservations/${reservationId}/reschedule`,
      { start: at('12:00') },
      { 'if-match': '"0"' },
    );
    expect(stale.statusCode).toBe(412);
    expect(await streamTypes(`resourceday-default+${resourceIds[0]}+${DAY}`)).toEqual([
      'SlotSeatsHeld',
      'SlotSeatsConfirmed',
    ]);
    // ... and a change that slips in between the hold and the move is undone: a payment lands while we hold. It is
    // recorded by another writer of the same store (another instance; not through this process's queue of commands
    // on the reservation's stream, where the move holds its turn until its own append is answered).
    const original = herald.adapters.eventStore.appendToStream.bind(herald.adapters.eventStore);
    let raced = false;
    herald.adapters.eventStore.appendToStream = async (stream, events, expected) => {
      if (!raced && stream === `reservation-default+${reservationId}` && events[0]?.type === 'ReservationRescheduled') {
        raced = true;
        await handleCommand(
          { eventStore: { ...herald.adapters.eventStore, appendToStream: original }, ids: herald.ids },
          stream,
          reservationDecider,
          {
            type: 'RecordPayment',
            data: {
              reservationId,
              now: clock.now().toISOString(),
              actor: 'another-instance',
              paymentId: 'p-race',
              amount: 100,
              currency: 'NOK',
            },
          },
          { tenantId: 'default', actor: 'another-instance' },
        );
      }
      return original(stream, events, expected);
    };
    try {
      const racing = await inject(
        'POST',
        `/v1/reservations/${reservationId}/reschedule`,
        { start: at('12:00') },
        { 'if-match': '"1"' },
      );
      expect(racing.statusCode).toBe(412);
    } finally {
      herald.adapters.eventStore.appendToStream = original;
    }
    const day = await herald.adapters.eventStore.readStream(`resourceday-default+${resourceIds[0]}+${DAY}`);
    expect(day.events.slice(2).map((event) => [event.type, event.data.slotStart, event.data.reason])).toEqual([
      ['SlotSeatsHeld', utc('12:00'), undefined],
      ['SlotSeatsReleased', utc('12:00'), 'abandoned'],
    ]);
    expect((await book(serviceId, at('12:00'))).statusCode).toBe(201);
    expect((await book(serviceId, at('10:00'))).statusCode).toBe(409);
    expect((await inject('GET', `/v1/reservations/${reservationId}`)).json().start).toBe(utc('10:00'));
  });

  it('to a slot off the calendar: 400 naming the rule, nothing appended', async () => {
    const { serviceId } = await aCatalog();
    const { reservationId } = (await book(serviceId, at('10:00'))).json();
    const before = await eventCount();
    const refused = await inject('POST', `/v1/reservations/${reservationId}/reschedule`, { start: at('18:00') });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().rule).toBe('outside-working-hours');
    expect(await eventCount()).toBe(before);
  });
});

// Hold expiry ----------------------------------------------------------------------------------------------------------

describe('hold expiry (reservation.hold-expiry)', () => {
  it('expires an unconfirmed reservation when its hold runs out and frees the seat', async () => {
    const { serviceId, resourceIds } = await aCatalog({ requiresConfirmation: true });
    const { reservationId } = (await book(serviceId, at('10:00'))).json();
    await herald.settle();
    const [job] = (await herald.adapters.scheduler.pending({ name: HOLD_EXPIRY_JOB })).filter(
      (candidate) => candidate.data.reservationId === reservationId,
    );
    expect(job).toBeDefined();
    if (!job) return;
    // Run the job the way the scheduler would at runAt.
    clock.set(job.runAt.toISOString());
    try {
      const keeper = createSeatKeeper({
        eventStore: herald.adapters.eventStore,
        ids: herald.ids,
        clock,
        scheduler: herald.adapters.scheduler,
        logger,
      });
      await keeper.holdExpiryJob(job);
      await keeper.holdExpiryJob(job); // a duplicate run is harmless
      const reservation = (await inject('GET', `/v1/reservations/${reservationId}`)).json();
      expect(reservation.status).toBe('expired');
      const day = await herald.adapters.eventStore.readStream(`resourceday-default+${resourceIds[0]}+${DAY}`);
      expect(day.events.map((event) => [event.type, event.data.reason])).toEqual([
        ['SlotSeatsHeld', undefined],
        ['SlotSeatsReleased', 'hold-expired'],
      ]);
      const history = (await inject('GET', `/v1/reservations/${reservationId}/history`)).json();
      expect(history.events.at(-1)).toMatchObject({
        type: 'ReservationHoldExpired',
        metadata: { actor: 'system:hold-expiry', causationId: job.key },
      });
      expect((await inject('POST', `/v1/reservations/${reservationId}/confirm`)).statusCode).toBe(409);
      expect((await book(serviceId, at('10:00'))).statusCode).toBe(201);
    } finally {
      clock.set('2030-06-01T08:00:00Z');
    }
  });

  it('confirming after the hold ran out takes the seat again when nobody else took it', async () => {
    const { serviceId } = await aCatalog({ requiresConfirmation: true });
    const { reservationId } = (await book(serviceId, at('15:00'))).json();
    clock.set('2030-06-01T09:00:00Z');
    try {
      const confirmed = await inject('POST', `/v1/reservations/${reservationId}/confirm`);
      expect(confirmed.json().status).toBe('confirmed');
    } finally {
      clock.set('2030-06-01T08:00:00Z');
    }
  });

  it('an expired hold is reclaimed by the next booking of its slot; confirming then is a 409', async () => {
    const { serviceId } = await aCatalog({ requiresConfirmation: true });
    const { reservationId } = (await book(serviceId, at('16:00'))).json();
    clock.set('2030-06-01T09:00:00Z');
    try {
      expect((await book(serviceId, at('16:00'))).statusCode).toBe(201);
      const confirm = await inject('POST', `/v1/reservations/${reservationId}/confirm`);
      expect(confirm.statusCode).toBe(409);
      expect(confirm.json().code).toBe('reservation-hold-lost');
    } finally {
      clock.set('2030-06-01T08:00:00Z');
    }
  });
});

// Queries --------------------------------------------------------------------------------------------------------------

describe('GET /v1/reservations and /v1/reservations/{id}/history', () => {
  it('filters by status, time, customer, service, resource and location, a page at a time', async () => {
    const { serviceId, resourceIds, locationId } = await aCatalog({ seatsPerSlot: 3, maxPartySize: 1 }, 2);
    const ids: string[] = [];
    for (const time of ['09:00', '10:00', '11:00']) {
      for (let index = 0; index < 3; index++) ids.push((await book(serviceId, at(time))).json().reservationId);
    }
    await inject('POST', `/v1/reservations/${ids[0]}/cancel`, { by: 'customer' });
    await herald.settle();

    const all: { reservationId: string; start: string }[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `serviceId=${serviceId}&limit=4${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await inject('GET', `/v1/reservations?${query}`);
      expect(page.statusCode, page.body).toBe(200);
      all.push(...page.json().items);
      cursor = page.json().nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(all.map((item) => item.reservationId).sort()).toEqual([...ids].sort());
    expect(all.map((item) => item.start)).toEqual([...all.map((item) => item.start)].sort());

    const list = async (query: string) =>
      (await inject('GET', `/v1/reservations?serviceId=${serviceId}&${query}`)).json().items as {
        reservationId: string;
      }[];
    expect((await list('status=cancelled')).map((item) => item.reservationId)).toEqual([ids[0]]);
    expect(await list('status=confirmed,cancelled')).toHaveLength(9);
    expect(await list(`from=${encodeURIComponent(at('10:00'))}&to=${encodeURIComponent(at('11:00'))}`)).toHaveLength(3);
    expect(await list(`resourceId=${resourceIds[1]}`)).toHaveLength(0);
    expect(await list(`locationId=${locationId}`)).toHaveLength(9);
    const customerEmail = `customer-${customers}@example.com`;
    expect(await list(`customer=${encodeURIComponent(customerEmail)}`)).toHaveLength(1);
    expect((await inject('GET', '/v1/reservations?from=yesterday')).json().rule).toBe('instant-with-zone');
    expect((await inject('GET', '/v1/reservations?cursor=garbage')).statusCode).toBe(400);
  });

  it('shows the full history with actor, causation and revision', async () => {
    const { serviceId, resourceIds } = await aCatalog({ requiresConfirmation: true });
    const { reservationId } = (await book(serviceId, at('10:00'))).json();
    await inject('POST', `/v1/reservations/${reservationId}/confirm`);
    await inject('POST', `/v1/reservations/${reservationId}/reschedule`, {
      start: at('11:00'),
      reason: 'customer asked',
    });
    await inject('POST', `/v1/reservations/${reservationId}/payments`, {
      paymentId: 'p-h',
      amount: 100,
      currency: 'NOK',
    });
    await inject('POST', `/v1/reservations/${reservationId}/cancel`, { by: 'customer' });
    const response = await inject('GET', `/v1/reservations/${reservationId}/history`);
    expect(response.statusCode).toBe(200);
    const history = response.json();
    expect(history.events.map((event: { type: string; revision: number }) => [event.revision, event.type])).toEqual([
      [0, 'ReservationRequested'],
      [1, 'ReservationConfirmed'],
      [2, 'ReservationRescheduled'],
      [3, 'PaymentRecorded'],
      [4, 'ReservationCancelled'],
    ]);
    expect(history.events[2]).toMatchObject({
      data: {
        previous: { start: utc('10:00'), resourceId: resourceIds[0] },
        new: { start: utc('11:00') },
        reason: 'customer asked',
      },
      metadata: { actor: expect.stringMatching(/^apikey:/), correlationId: expect.any(String) },
      recordedAt: expect.any(String),
    });
    expect(response.headers.etag).toBe('"4"');
    expect((await inject('GET', '/v1/reservations/nope/history')).statusCode).toBe(404);
  });

  it('keeps tenants apart', async () => {
    const { serviceId } = await aCatalog();
    const { reservationId } = (await book(serviceId, at('10:00'))).json();
    const other = await herald.keyFor('other');
    expect((await inject('GET', `/v1/reservations/${reservationId}/history`, undefined, other)).statusCode).toBe(404);
    expect((await inject('POST', `/v1/reservations/${reservationId}/cancel`, { by: 'staff' }, other)).statusCode).toBe(
      404,
    );
    const booked = await inject('POST', '/v1/reservations', aBooking(serviceId, at('11:00')), other);
    expect(booked.json().rule).toBe('unknown-service');
  });
});
