import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OFFER_EXPIRY_JOB, WAITLIST_CLOSE_JOB } from '../../src/application/waitlist/waitlist-commands.js';
import { signTwilioRequest } from '../support/twilio-stand-in.js';
import {
  recordingEmail,
  recordingSms,
  startTestHerald,
  TEST_ADMIN_KEY,
  type TestHerald,
} from '../support/test-herald.js';
import { manualClock } from '../support/manual-clock.js';

// A Herald on embedded stores whose clock the tests move; scheduled jobs are run by hand at the moved time.
// 2030-06-03 is a Monday; Oslo is at +02:00 then.
const DAY = '2030-06-03';
const at = (hhmm: string, date = DAY) => `${date}T${hhmm}:00+02:00`;
const utc = (hhmm: string, date = DAY) => new Date(at(hhmm, date)).toISOString();

const clock = manualClock('2030-06-01T08:00:00Z');
const email = recordingEmail();
const sms = recordingSms();
let herald: TestHerald;
const auth = { authorization: `Bearer ${TEST_ADMIN_KEY}` };

const PUBLIC_URL = 'https://pool.example.test';
const AUTH_TOKEN = 'twilio-test-auth-token';

beforeAll(async () => {
  herald = await startTestHerald({
    email,
    sms,
    clock,
    env: {
      PUBLIC_URL,
      TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000',
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      TWILIO_FROM: '+15005550006',
    },
  });
});
afterAll(async () => {
  await herald.stop();
});

// Helpers ------------------------------------------------------------------------------------------------------------

const inject = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: object, headers = {}) =>
  herald.app.inject({ method, url, headers: { ...auth, ...headers }, ...(payload !== undefined ? { payload } : {}) });

async function json(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: object, status = 200) {
  const response = await inject(method, url, payload);
  expect(response.statusCode, response.body).toBe(status);
  await herald.settle();
  return response.json();
}

let catalogs = 0;
/** A pool in Oslo: one lane (or more) open weekdays 09:00-17:00 and a 60-minute session with `seats` places. */
async function aPool(seats = 2, lanes = 1, service: Record<string, unknown> = {}) {
  const prefix = `w${++catalogs}`;
  const locationId = `${prefix}-loc`;
  await json(
    'POST',
    '/v1/locations',
    {
      locationId,
      name: 'Frognerbadet',
      address: { street: 'Middelthuns gate 28', postalCode: '0368', city: 'Oslo', country: 'NO' },
      timeZone: 'Europe/Oslo',
    },
    201,
  );
  const hours = { start: '09:00', end: '17:00' };
  const resourceIds: string[] = [];
  for (let index = 1; index <= lanes; index++) {
    const resourceId = `${prefix}-lane-${index}`;
    await json(
      'POST',
      '/v1/resources',
      {
        resourceId,
        locationId,
        name: `Lane ${index}`,
        kind: 'room',
        weeklyHours: { monday: [hours], tuesday: [hours], wednesday: [hours], thursday: [hours], friday: [hours] },
      },
      201,
    );
    resourceIds.push(resourceId);
  }
  const serviceId = `${prefix}-swim`;
  await json(
    'POST',
    '/v1/services',
    {
      serviceId,
      locationId,
      name: 'Lane swim',
      durationMinutes: 60,
      seatsPerSlot: seats,
      maxPartySize: seats,
      resourceIds,
      ...service,
    },
    201,
  );
  return { serviceId, resourceIds, prefix };
}

let people = 0;
function aCustomer(locale = 'en', extra: Record<string, unknown> = {}) {
  people++;
  return {
    id: `p-${people}`,
    name: `Person ${people}`,
    email: `person-${people}@example.com`,
    phone: `+4791${String(100000 + people).padStart(6, '0')}`,
    locale,
    ...extra,
  };
}

async function book(serviceId: string, start: string, customer = aCustomer(), extra: Record<string, unknown> = {}) {
  return inject('POST', '/v1/reservations', { serviceId, start, customer, ...extra });
}

async function join(serviceId: string, start: string, customer = aCustomer(), extra: Record<string, unknown> = {}) {
  const response = await inject('POST', '/v1/waitlists/entries', { serviceId, start, customer, ...extra });
  await herald.settle();
  return response;
}

/** A full slot with `seats` booked places: their reservation ids. */
async function fill(serviceId: string, start: string, seats: number) {
  const ids: string[] = [];
  for (let i = 0; i < seats; i++) {
    const response = await book(serviceId, start);
    expect(response.statusCode, response.body).toBe(201);
    ids.push(response.json().reservationId);
  }
  await herald.settle();
  return ids;
}

const smsTo = (phone: string) => sms.sent.filter((m) => m.to === phone).map((m) => m.body);
const emailsTo = (address: string) => email.sent.filter((m) => m.to === address);

async function runDueJobs(name: string) {
  const jobs = await herald.adapters.scheduler.pending({ name });
  for (const job of jobs) {
    if (job.runAt.getTime() > clock.now().getTime()) continue;
    await herald.runJob(job);
    await herald.adapters.scheduler.cancel(job.key);
  }
  await herald.settle();
}

async function setPolicy(policy: Record<string, unknown>) {
  const current = await json('GET', '/v1/settings/waitlist');
  return json('PUT', '/v1/settings/waitlist', { ...current, ...policy });
}

// Joining ------------------------------------------------------------------------------------------------------------

describe('joining the waitlist of a full slot', () => {
  it('the 409 of a full slot says where to go and what to send; sending it puts the customer in line and tells them', async () => {
    const { serviceId } = await aPool(2);
    await fill(serviceId, at('10:00'), 2);
    const customer = aCustomer('cs');
    const full = await book(serviceId, at('10:00'), customer);
    expect(full.statusCode).toBe(409);
    const link = full.json().waitlist;
    expect(link).toMatchObject({ href: '/v1/waitlists/entries', method: 'POST' });

    const joined = await inject(link.method, link.href, link.body);
    expect(joined.statusCode, joined.body).toBe(201);
    expect(joined.json()).toMatchObject({ status: 'waiting', position: 1, partySize: 1, channels: ['email', 'sms'] });
    expect(joined.headers.location).toBe(`/v1/waitlists/${joined.json().waitlistId}/entries/${joined.json().entryId}`);
    await herald.settle();
    expect(smsTo(customer.phone).at(-1)).toContain('Jste 1. na čekací listině');
    expect(emailsTo(customer.email).at(-1)?.subject).toContain('Jste na čekací listině');

    const second = await join(serviceId, at('10:00'));
    expect(second.json().position).toBe(2);
    // The same customer again: the entry they have, not a second place in line.
    const again = await join(serviceId, at('10:00'), customer);
    expect(again.statusCode).toBe(200);
    expect(again.json().entryId).toBe(joined.json().entryId);
    const list = await json('GET', `/v1/waitlists/${joined.json().waitlistId}`);
    expect(list.entries.map((e: { position: number }) => e.position)).toEqual([1, 2]);
  });

  it('refuses to queue for a slot with free seats (book it instead), a slot that is not on the calendar, and over the cap', async () => {
    const { serviceId } = await aPool(2);
    const free = await join(serviceId, at('10:00'));
    expect(free.statusCode).toBe(409);
    expect(free.json()).toMatchObject({
      code: 'slot-available',
      remainingSeats: 2,
      booking: { href: '/v1/reservations' },
    });

    const closed = await join(serviceId, at('20:00'));
    expect(closed.statusCode).toBe(400);
    expect(closed.json().code).toBe('slot-not-bookable');

    await fill(serviceId, at('11:00'), 2);
    await setPolicy({ services: { [serviceId]: { maxEntries: 1 } } });
    expect((await join(serviceId, at('11:00'))).statusCode).toBe(201);
    const over = await join(serviceId, at('11:00'));
    expect(over.statusCode).toBe(409);
    expect(over.json().code).toBe('waitlist-full');
    await setPolicy({ services: {} });
  });

  it('a switched-off waitlist refuses joins but keeps its entries; on again, it resumes', async () => {
    const { serviceId } = await aPool(1);
    const [booked] = await fill(serviceId, at('12:00'), 1);
    const entry = (await join(serviceId, at('12:00'))).json();
    await setPolicy({ enabled: false });
    expect((await join(serviceId, at('12:00'))).json().code).toBe('waitlist-disabled');
    const full = await book(serviceId, at('12:00'));
    expect(full.json().code).toBe('slot-full');
    expect(full.json().waitlist).toBeUndefined();
    // A seat freed while off is not offered; the entry is still waiting.
    await json('POST', `/v1/reservations/${booked}/cancel`, { by: 'customer' });
    expect((await json('GET', `/v1/waitlists/${entry.waitlistId}/entries/${entry.entryId}`)).status).toBe('waiting');
    await setPolicy({ enabled: true });
    const after = await json('GET', `/v1/waitlists/${entry.waitlistId}/entries/${entry.entryId}`);
    expect(after).toMatchObject({ status: 'offered', offer: { status: 'open' } });
  });
});

// Offers -------------------------------------------------------------------------------------------------------------

describe('a freed seat goes to the longest-waiting customer', () => {
  it('cancelling offers the seat to number 1 (the answer says so); accepting books it; the others move up', async () => {
    const { serviceId } = await aPool(2);
    const [first] = await fill(serviceId, at('13:00'), 2);
    const a = aCustomer('en');
    const b = aCustomer('nb');
    const c = aCustomer('en');
    const entryA = (await join(serviceId, at('13:00'), a)).json();
    const entryB = (await join(serviceId, at('13:00'), b)).json();
    const entryC = (await join(serviceId, at('13:00'), c)).json();

    const preview = await json('GET', `/v1/reservations/${first}/waitlist-preview`);
    expect(preview.next[0]).toMatchObject({ entryId: entryA.entryId, position: 1, customerName: a.name });
    expect(preview.warning).toContain(`${a.name}, number 1 on the waitlist, will automatically be offered this seat`);

    const cancelled = await json('POST', `/v1/reservations/${first}/cancel`, { by: 'staff', reason: 'ill' });
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.waitlist[0].allocated).toEqual([
      expect.objectContaining({ entryId: entryA.entryId, customerName: a.name, mode: 'offer', seats: 1 }),
    ]);
    const offerSms = smsTo(a.phone).at(-1)!;
    expect(offerSms).toContain('A place is free');
    expect(offerSms).toMatch(/https:\/\/pool\.example\.test\/claim\/default\/[A-Za-z0-9_-]+$/);
    expect(emailsTo(a.email).at(-1)?.subject).toContain('A place is free');
    // The seat is held for the offer: nobody else can book it meanwhile.
    expect((await book(serviceId, at('13:00'))).statusCode).toBe(409);

    const offerId = cancelled.waitlist[0].allocated[0].offerId;
    const accepted = await json('POST', `/v1/waitlists/${entryA.waitlistId}/offers/${offerId}/accept`, {});
    expect(accepted).toMatchObject({
      status: 'confirmed',
      reservationId: offerId,
      start: utc('13:00'),
      origin: { type: 'waitlist', entryId: entryA.entryId, offerId, mode: 'offer' },
    });
    const confirmation = emailsTo(a.email).at(-1)!;
    expect(confirmation.subject).toContain('Reservation confirmed');
    expect(confirmation.calendar?.method).toBe('REQUEST');
    // Accepting again answers with the same reservation; nothing is booked twice.
    const again = await json('POST', `/v1/waitlists/${entryA.waitlistId}/offers/${offerId}/accept`, {});
    expect(again.reservationId).toBe(offerId);

    const list = await json('GET', `/v1/waitlists/${entryA.waitlistId}`);
    const byId = Object.fromEntries(list.entries.map((e: { entryId: string }) => [e.entryId, e]));
    expect(byId[entryA.entryId]).toMatchObject({ status: 'booked', reservationId: offerId, position: null });
    expect(byId[entryB.entryId].position).toBe(1);
    expect(byId[entryC.entryId].position).toBe(2);
    const notifications = await json(
      'GET',
      `/v1/waitlists/${entryA.waitlistId}/entries/${entryA.entryId}/notifications`,
    );
    expect(notifications.items.map((d: { kind: string }) => d.kind).sort()).toEqual([
      'reservation-confirmed',
      'reservation-confirmed',
      'waitlist-joined',
      'waitlist-joined',
      'waitlist-offer',
      'waitlist-offer',
    ]);
  });

  it('an offer that runs out goes to the next in line; a decline too; when nobody is left the seat is public again and staff are told', async () => {
    const { serviceId } = await aPool(1);
    await setPolicy({ services: { [serviceId]: { responseWindowSeconds: 600 } } });
    await json('PUT', '/v1/settings/notifications', {
      ...(await json('GET', '/v1/settings/notifications')),
      admins: [{ email: 'admin@pool.example.com' }],
    });
    const [booked] = await fill(serviceId, at('14:00'), 1);
    const a = aCustomer();
    const b = aCustomer();
    const entryA = (await join(serviceId, at('14:00'), a)).json();
    const entryB = (await join(serviceId, at('14:00'), b)).json();
    const cancelled = await json('POST', `/v1/reservations/${booked}/cancel`, { by: 'customer' });
    const offerA = cancelled.waitlist[0].allocated[0];
    expect(offerA.entryId).toBe(entryA.entryId);
    expect(offerA.expiresAt).toBe('2030-06-01T08:10:00.000Z');

    clock.set('2030-06-01T08:10:00Z');
    await runDueJobs(OFFER_EXPIRY_JOB);
    expect((await json('GET', `/v1/waitlists/${entryA.waitlistId}/entries/${entryA.entryId}`)).status).toBe('expired');
    expect(smsTo(a.phone).at(-1)).toContain('was not taken in time');
    const entryBNow = await json('GET', `/v1/waitlists/${entryA.waitlistId}/entries/${entryB.entryId}`);
    expect(entryBNow).toMatchObject({
      status: 'offered',
      offer: { status: 'open', expiresAt: '2030-06-01T08:20:00.000Z' },
    });
    // Too late for A now: a clear answer, never a booking.
    const late = await inject('POST', `/v1/waitlists/${entryA.waitlistId}/offers/${offerA.offerId}/accept`, {});
    expect(late.statusCode).toBe(409);
    expect(late.json().code).toBe('offer-expired');

    const declined = await json(
      'POST',
      `/v1/waitlists/${entryA.waitlistId}/offers/${entryBNow.offer.offerId}/decline`,
      {},
    );
    expect(declined.status).toBe('declined');
    const alert = emailsTo('admin@pool.example.com').at(-1);
    expect(alert?.text).toContain('Nobody on the waitlist took the free place');
    // Public again.
    expect((await book(serviceId, at('14:00'))).statusCode).toBe(201);
    clock.set('2030-06-01T08:00:00Z');
    await setPolicy({ services: {} });
  });

  it('assign mode books the freed seat for number 1 at once and tells them, with the invitation', async () => {
    const { serviceId } = await aPool(1);
    await setPolicy({ services: { [serviceId]: { mode: 'assign' } } });
    const [booked] = await fill(serviceId, at('15:00'), 1);
    const a = aCustomer();
    const entry = (await join(serviceId, at('15:00'), a)).json();
    const freed = await json('POST', `/v1/reservations/${booked}/no-show`, undefined, 409);
    expect(freed.code).toBe('reservation-not-started');
    const deleted = await json('DELETE', `/v1/reservations/${booked}?reason=duplicate`);
    expect(deleted.waitlist[0].allocated[0]).toMatchObject({ entryId: entry.entryId, mode: 'assign' });
    const reservationId = deleted.waitlist[0].allocated[0].reservationId;
    const reservation = await json('GET', `/v1/reservations/${reservationId}`);
    expect(reservation).toMatchObject({ status: 'confirmed', origin: { mode: 'assign', entryId: entry.entryId } });
    const message = emailsTo(a.email).at(-1)!;
    expect(message.subject).toContain('You have a place');
    expect(message.calendar?.method).toBe('REQUEST');
    expect(smsTo(a.phone).at(-1)).toContain('is booked for you');
    await setPolicy({ services: {} });
  });

  it('an admin may free a seat without the waitlist; the public still cannot jump the line, staff can on purpose', async () => {
    const { serviceId } = await aPool(1);
    const [booked] = await fill(serviceId, at('16:00'), 1);
    const entry = (await join(serviceId, at('16:00'))).json();
    const staffKey = await herald.keyFor('default', 'staff');
    const refused = await herald.app.inject({
      method: 'POST',
      url: `/v1/reservations/${booked}/cancel`,
      headers: staffKey,
      payload: { by: 'staff', bypassWaitlist: true },
    });
    expect(refused.statusCode).toBe(403);
    const cancelled = await json('POST', `/v1/reservations/${booked}/cancel`, { by: 'staff', bypassWaitlist: true });
    expect(cancelled.waitlist).toEqual([]);
    expect((await json('GET', `/v1/waitlists/${entry.waitlistId}/entries/${entry.entryId}`)).status).toBe('waiting');
    const history = await json('GET', `/v1/reservations/${booked}/history`);
    expect(history.events.at(-1)).toMatchObject({ type: 'ReservationCancelled', data: { bypassWaitlist: true } });
    const jump = await book(serviceId, at('16:00'));
    expect(jump.statusCode).toBe(409);
    expect(jump.json().code).toBe('slot-reserved-for-waitlist');
    const walkIn = await book(serviceId, at('16:00'), aCustomer(), { bypassWaitlist: true });
    expect(walkIn.statusCode, walkIn.body).toBe(201);
  });
});

// Staff overrides ------------------------------------------------------------------------------------------------------

describe('admin overrides, each with actor and reason in the history', () => {
  it('offers a seat to a chosen entry out of order, skips and removes entries', async () => {
    const { serviceId } = await aPool(1, 1, { seatsPerSlot: 1 });
    const [booked] = await fill(serviceId, at('09:00'), 1);
    const entries = [];
    for (let i = 0; i < 3; i++) entries.push((await join(serviceId, at('09:00'))).json());
    const waitlistId = entries[0].waitlistId;

    const skipped = await json('POST', `/v1/waitlists/${waitlistId}/entries/${entries[0].entryId}/skip`, {
      reason: 'asked to wait',
    });
    expect(skipped.position).toBe(3);
    const removed = await json('POST', `/v1/waitlists/${waitlistId}/entries/${entries[1].entryId}/remove`, {
      reason: 'duplicate',
    });
    expect(removed.status).toBe('removed');

    // No free seat: nothing to give.
    const none = await inject('POST', `/v1/waitlists/${waitlistId}/entries/${entries[0].entryId}/offer`, {
      reason: 'VIP',
    });
    expect(none.statusCode).toBe(409);
    expect(none.json().code).toBe('no-free-seat');

    await json('POST', `/v1/reservations/${booked}/cancel`, { by: 'staff', bypassWaitlist: true });
    const given = await json('POST', `/v1/waitlists/${waitlistId}/entries/${entries[0].entryId}/offer`, {
      reason: 'regular, promised a place',
      mode: 'assign',
    });
    expect(given.allocated[0]).toMatchObject({ entryId: entries[0].entryId, mode: 'assign' });

    const history = await json('GET', `/v1/waitlists/${waitlistId}/history`);
    const types = history.events.map((e: { type: string }) => e.type);
    expect(types).toEqual(
      expect.arrayContaining(['WaitlistEntrySkipped', 'WaitlistEntryRemoved', 'WaitlistSeatAssigned']),
    );
    const assigned = history.events.find((e: { type: string }) => e.type === 'WaitlistSeatAssigned');
    expect(assigned.data.override).toEqual({
      by: expect.stringMatching(/^apikey:/),
      reason: 'regular, promised a place',
    });
    expect(assigned.metadata.actor).toMatch(/^apikey:/);
    const skip = history.events.find((e: { type: string }) => e.type === 'WaitlistEntrySkipped');
    expect(skip.data.reason).toBe('asked to wait');
  });
});

// The claim page -------------------------------------------------------------------------------------------------------

describe('the claim link', () => {
  it('opens the offer in the customer’s language without a key, takes it once, and refuses a forged link', async () => {
    const { serviceId } = await aPool(1);
    const [booked] = await fill(serviceId, at('10:00', '2030-06-04'), 1);
    const a = aCustomer('nb');
    await join(serviceId, at('10:00', '2030-06-04'), a);
    await json('POST', `/v1/reservations/${booked}/cancel`, { by: 'customer' });
    const link = /(https:\/\/\S+\/claim\/\S+)/.exec(smsTo(a.phone).at(-1)!)![1]!;
    const path = new URL(link).pathname;

    const page = await herald.app.inject({ method: 'GET', url: path });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.body).toContain('<html lang="nb">');
    expect(page.body).toContain('En plass er ledig for deg');
    expect(page.body).toContain('Ta plassen');

    const accepted = await herald.app.inject({ method: 'POST', url: `${path}/accept` });
    expect(accepted.statusCode).toBe(303);
    expect(accepted.headers.location).toBe(path);
    await herald.settle();
    const after = await herald.app.inject({ method: 'GET', url: path });
    expect(after.body).toContain('Plassen er din');
    // Declining afterwards changes nothing.
    await herald.app.inject({ method: 'POST', url: `${path}/decline` });
    expect((await herald.app.inject({ method: 'GET', url: path })).body).toContain('Plassen er din');

    const forged = path.slice(0, -2) + (path.endsWith('AA') ? 'AB' : 'AA');
    expect((await herald.app.inject({ method: 'GET', url: forged })).statusCode).toBe(404);
    const otherTenant = path.replace('/claim/default/', '/claim/other/');
    expect((await herald.app.inject({ method: 'GET', url: otherTenant })).statusCode).toBe(404);
  });
});

describe('closing', () => {
  it('closes a list at its deadline: whoever still waits will not get a seat', async () => {
    const { serviceId } = await aPool(1);
    await fill(serviceId, at('11:00', '2030-06-04'), 1);
    const entry = (await join(serviceId, at('11:00', '2030-06-04'))).json();
    clock.set(utc('11:00', '2030-06-04'));
    await runDueJobs(WAITLIST_CLOSE_JOB);
    const list = await json('GET', `/v1/waitlists/${entry.waitlistId}`);
    expect(list.status).toBe('closed');
    expect(list.entries[0].status).toBe('closed');
    clock.set('2030-06-01T08:00:00Z');
  });
});

// SMS replies ------------------------------------------------------------------------------------------------------------

/** An inbound SMS as Twilio posts it, signed over PUBLIC_URL + path and the fields. */
async function inboundSms(from: string, body: string, sid: string) {
  const path = '/v1/webhooks/twilio/inbound?tenant=default';
  const params = {
    MessageSid: sid,
    From: from,
    To: '+15005550006',
    Body: body,
    AccountSid: 'AC00000000000000000000000000000000',
  };
  const response = await herald.app.inject({
    method: 'POST',
    url: path,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': signTwilioRequest(AUTH_TOKEN, `${PUBLIC_URL}${path}`, params),
    },
    payload: new URLSearchParams(params).toString(),
  });
  await herald.settle();
  return response;
}

describe('answering an offer by SMS', () => {
  it('ANO takes the offered seat, NEI lets it go to the next; an unsigned reply changes nothing', async () => {
    const { serviceId } = await aPool(1);
    const [booked] = await fill(serviceId, at('12:00', '2030-06-04'), 1);
    const a = aCustomer('cs');
    const b = aCustomer('nb');
    const entryA = (await join(serviceId, at('12:00', '2030-06-04'), a)).json();
    const entryB = (await join(serviceId, at('12:00', '2030-06-04'), b)).json();
    await json('POST', `/v1/reservations/${booked}/cancel`, { by: 'customer' });
    expect(smsTo(a.phone).at(-1)).toContain('Odpovězte ANO');

    const unsigned = await herald.app.inject({
      method: 'POST',
      url: '/v1/webhooks/twilio/inbound?tenant=default',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ MessageSid: 'SMforged', From: a.phone, Body: 'NE' }).toString(),
    });
    expect(unsigned.statusCode).toBe(403);
    expect((await json('GET', `/v1/waitlists/${entryA.waitlistId}/entries/${entryA.entryId}`)).status).toBe('offered');

    expect((await inboundSms(a.phone, 'ne', 'SMreply0001')).statusCode).toBe(200);
    expect((await json('GET', `/v1/waitlists/${entryA.waitlistId}/entries/${entryA.entryId}`)).status).toBe('declined');
    const offeredB = await json('GET', `/v1/waitlists/${entryA.waitlistId}/entries/${entryB.entryId}`);
    expect(offeredB.status).toBe('offered');

    expect((await inboundSms(b.phone, ' Ja! ', 'SMreply0002')).statusCode).toBe(200);
    const bookedB = await json('GET', `/v1/waitlists/${entryA.waitlistId}/entries/${entryB.entryId}`);
    expect(bookedB).toMatchObject({ status: 'booked', reservationId: offeredB.offer.offerId });
    const reservation = await json('GET', `/v1/reservations/${bookedB.reservationId}`);
    expect(reservation).toMatchObject({ status: 'confirmed', origin: { entryId: entryB.entryId } });
    const history = await json('GET', `/v1/waitlists/${entryA.waitlistId}/history`);
    const answered = history.events.filter(
      (e: { type: string; data: { via?: string } }) => e.type.startsWith('WaitlistOffer') && e.data.via === 'sms',
    );
    expect(answered.map((e: { type: string; metadata: { actor: string } }) => [e.type, e.metadata.actor])).toEqual([
      ['WaitlistOfferDeclined', 'customer:sms-reply'],
      ['WaitlistOfferAccepted', 'customer:sms-reply'],
    ]);
  });
});

// Analytics ------------------------------------------------------------------------------------------------------------

describe('GET /v1/analytics/waitlists', () => {
  it('follows entries from joining to attending, with the expiry rate and the time from freed to filled', async () => {
    const { serviceId } = await aPool(1);
    await setPolicy({ services: { [serviceId]: { responseWindowSeconds: 300 } } });
    const slot = at('15:00', '2030-06-04');
    const [booked] = await fill(serviceId, slot, 1);
    const a = aCustomer();
    const b = aCustomer();
    const c = aCustomer();
    const entryA = (await join(serviceId, slot, a)).json();
    const entryB = (await join(serviceId, slot, b)).json();
    await join(serviceId, slot, c);
    clock.set('2030-06-01T08:01:00Z');
    const cancelled = await json('POST', `/v1/reservations/${booked}/cancel`, { by: 'customer' });
    expect(cancelled.waitlist[0].allocated[0].entryId).toBe(entryA.entryId);
    clock.set('2030-06-01T08:06:00Z');
    await runDueJobs(OFFER_EXPIRY_JOB);
    const offerB = (await json('GET', `/v1/waitlists/${entryB.waitlistId}/entries/${entryB.entryId}`)).offer;
    clock.set('2030-06-01T08:07:30Z');
    const reservation = await json('POST', `/v1/waitlists/${entryB.waitlistId}/offers/${offerB.offerId}/accept`, {});
    clock.set(utc('15:10', '2030-06-04'));
    await json('POST', `/v1/reservations/${reservation.reservationId}/complete`);
    clock.set('2030-06-01T08:00:00Z');

    const analytics = await json(
      'GET',
      `/v1/analytics/waitlists?serviceId=${serviceId}&from=2030-05-01T00:00:00Z&to=2030-06-02T00:00:00Z`,
    );
    expect(analytics).toMatchObject({
      joined: 3,
      offered: 2,
      booked: 1,
      accepted: 1,
      assigned: 0,
      attended: 1,
      expired: 1,
      seatsFilled: 1,
      conversionPercent: 33.33,
      expiryRatePercent: 50,
    });
    // B's seat was freed when A's offer expired (08:06) and filled at 08:07:30.
    expect(analytics.freedToFilled).toMatchObject({ count: 1, medianMs: 90_000 });
    expect(analytics.groups).toEqual([expect.objectContaining({ key: serviceId, label: 'Lane swim', joined: 3 })]);
    await setPolicy({ services: {} });
  });
});

// More capacity ----------------------------------------------------------------------------------------------------------

describe('more capacity goes to the waitlist too', () => {
  it('raising the seats of a session offers the new seats in line order', async () => {
    const { serviceId } = await aPool(1);
    const slot = at('16:00', '2030-06-04');
    await fill(serviceId, slot, 1);
    const a = aCustomer();
    const b = aCustomer();
    const entryA = (await join(serviceId, slot, a)).json();
    const entryB = (await join(serviceId, slot, b)).json();
    await json('PATCH', `/v1/services/${serviceId}`, { seatsPerSlot: 2, maxPartySize: 2 });
    const list = await json('GET', `/v1/waitlists/${entryA.waitlistId}`);
    const status = Object.fromEntries(
      list.entries.map((e: { entryId: string; status: string }) => [e.entryId, e.status]),
    );
    expect(status).toEqual({ [entryA.entryId]: 'offered', [entryB.entryId]: 'waiting' });
    const history = await json('GET', `/v1/waitlists/${entryA.waitlistId}/history`);
    expect(history.events.at(-1)).toMatchObject({
      type: 'WaitlistOfferMade',
      metadata: { actor: 'system:waitlist-manager' },
    });
  });

  it('a lane that opens (its closed day removed) serves people waiting for the session', async () => {
    const { serviceId, resourceIds } = await aPool(1, 2);
    const hours = { start: '09:00', end: '17:00' };
    const weeklyHours = { monday: [hours], tuesday: [hours], wednesday: [hours], thursday: [hours], friday: [hours] };
    await json('PUT', `/v1/resources/${resourceIds[1]}/schedule`, {
      weeklyHours,
      exceptions: { closedDates: ['2030-06-04'] },
    });
    const slot = at('10:00', '2030-06-04');
    await fill(serviceId, slot, 1);
    const entry = (await join(serviceId, slot)).json();
    expect(entry.position).toBe(1);
    await json('PUT', `/v1/resources/${resourceIds[1]}/schedule`, { weeklyHours, exceptions: {} });
    const after = await json('GET', `/v1/waitlists/${entry.waitlistId}/entries/${entry.entryId}`);
    expect(after).toMatchObject({ status: 'offered', offer: { resourceId: resourceIds[1] } });
  });
});

describe('text that reaches messages and the history', () => {
  it('refuses a bidi override or a line separator in a reason or a customer name, naming the field', async () => {
    const { serviceId } = await aPool(1);
    const slot = at('13:00', '2030-06-04');
    await fill(serviceId, slot, 1);
    const flipped = await inject('POST', '/v1/waitlists/entries', {
      serviceId,
      start: slot,
      customer: aCustomer('en', { name: 'Eve \u202Eevil' }),
    });
    expect(flipped.statusCode).toBe(400);
    expect(flipped.json().errors[0].field).toContain('customer.name');
    const entry = (await join(serviceId, slot)).json();
    const skipped = await inject('POST', `/v1/waitlists/${entry.waitlistId}/entries/${entry.entryId}/skip`, {
      reason: 'first line\u2028second',
    });
    expect(skipped.statusCode).toBe(400);
    expect(skipped.json().errors[0].field).toContain('reason');
  });
});
