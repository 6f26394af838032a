import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REMINDER_JOB } from '../../src/application/notifications/notification-planner.js';
import { RETRY_JOB } from '../../src/application/notifications/notification-dispatcher.js';
import type { Clock } from '../../src/application/ports/clock.port.js';
import { recordingEmail, recordingSms, startTestHerald, type TestHerald } from '../support/test-herald.js';

// Workflows as a tenant's admin uses them (issue 9): the ready-made ones derived from the notification settings, the
// tenant's own scoped and timed ones, editing a ready-made one, timed jobs following a workflow change, quiet hours.
// A Herald on embedded stores whose clock the tests move; timed jobs are run by hand at the moved time.
// 2030-06-03 is a Monday; Oslo is at +02:00 then.

interface ManualClock extends Clock {
  set(iso: string): void;
}
function manualClock(start: string): ManualClock {
  let now = Date.parse(start);
  return { now: () => new Date(now), set: (iso) => void (now = Date.parse(iso)) };
}

const START = '2030-06-01T08:00:00Z';
const clock = manualClock(START);
const email = recordingEmail();
const sms = recordingSms();
let herald: TestHerald;
type Auth = { authorization: string };
type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

beforeAll(async () => {
  herald = await startTestHerald({ email, sms, clock });
});
afterAll(async () => {
  await herald.stop();
});

const inject = (auth: Auth, method: Method, url: string, payload?: object, headers: Record<string, string> = {}) =>
  herald.app.inject({ method, url, headers: { ...auth, ...headers }, ...(payload !== undefined ? { payload } : {}) });

async function json(auth: Auth, method: Method, url: string, payload?: object, status = 200) {
  const response = await inject(auth, method, url, payload);
  expect(response.statusCode, response.body).toBe(status);
  await herald.settle();
  return response.statusCode === 204 ? undefined : response.json();
}

let catalogs = 0;
/** A location in Oslo with one room open every day 07:00-23:00 and two 60-minute services. */
async function aCatalog(auth: Auth) {
  const prefix = `c${++catalogs}`;
  const locationId = `${prefix}-loc`;
  await json(
    auth,
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
  const hours = [{ start: '07:00', end: '23:00' }];
  const days = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
  const resourceId = `${prefix}-room`;
  await json(
    auth,
    'POST',
    '/v1/resources',
    {
      resourceId,
      locationId,
      name: 'Sauna room',
      kind: 'room',
      weeklyHours: Object.fromEntries(days.map((d) => [d, hours])),
    },
    201,
  );
  const service = (serviceId: string, name: string) =>
    json(
      auth,
      'POST',
      '/v1/services',
      {
        serviceId,
        locationId,
        name,
        durationMinutes: 60,
        seatsPerSlot: 10,
        maxPartySize: 10,
        resourceIds: [resourceId],
      },
      201,
    );
  await service(`${prefix}-sauna`, 'Sauna');
  await service(`${prefix}-swim`, 'Lane swim');
  return { locationId, resourceId, sauna: `${prefix}-sauna`, swim: `${prefix}-swim` };
}

let people = 0;
function aCustomer() {
  people++;
  return {
    name: `Person ${people}`,
    email: `wf-person-${people}@example.com`,
    phone: `+4792${String(100000 + people).padStart(6, '0')}`,
    locale: 'en',
  };
}

async function book(auth: Auth, serviceId: string, start: string, customer = aCustomer()) {
  const body = await json(auth, 'POST', '/v1/reservations', { serviceId, start, customer }, 201);
  return { reservationId: body.reservationId as string, customer };
}

/** Runs the tenant's due jobs of `name` as the scheduler would at the clock's time. */
async function runDueJobs(name: string, tenantId: string) {
  const jobs = await herald.adapters.scheduler.pending({ name });
  for (const job of jobs) {
    if (job.tenantId !== tenantId || job.runAt.getTime() > clock.now().getTime()) continue;
    await herald.runJob(job);
    await herald.adapters.scheduler.cancel(job.key);
  }
  await herald.settle();
}

async function pendingTimeJobs(tenantId: string, reservationId: string) {
  return (await herald.adapters.scheduler.pending({ name: REMINDER_JOB }))
    .filter((j) => j.tenantId === tenantId && (j.data as { reservationId: string }).reservationId === reservationId)
    .map((j) => j.runAt.toISOString())
    .sort();
}

async function deliveriesOf(auth: Auth, reservationId: string) {
  const body = await json(auth, 'GET', `/v1/deliveries?reservationId=${reservationId}&limit=200`);
  return body.items as {
    notificationId: string;
    kind: string;
    channel: string;
    status: string;
    skipReason: string | null;
    recipientType: string;
  }[];
}

const smsTo = (to: string) => sms.sent.filter((m) => m.to === to).map((m) => m.body);
const emailsTo = (to: string) => email.sent.filter((m) => m.to === to);

/** A custom SMS workflow; `overrides` replace whole fields. */
function smsWorkflow(overrides: Record<string, unknown> = {}) {
  return {
    name: 'sauna heater',
    enabled: true,
    trigger: { type: 'time', anchor: 'start', direction: 'before', minutes: 60 },
    channel: 'sms',
    message: { type: 'custom', text: 'TURN ON THE SAUNA {{time}}' },
    recipients: { addresses: ['+4790000111'] },
    ...overrides,
  };
}

describe('the ready-made workflows', () => {
  it('are derived from the notification settings and follow them until the tenant edits one', async () => {
    const auth = await herald.keyFor('wf-defaults');
    const list = await inject(auth, 'GET', '/v1/workflows');
    expect(list.statusCode).toBe(200);
    expect(list.headers.etag).toBeUndefined(); // nothing saved yet
    const items = list.json().items as { workflowId: string; enabled: boolean; origin: string; edited: boolean }[];
    const ids = items.map((w) => w.workflowId);
    expect(ids).toEqual(
      expect.arrayContaining([
        'standard:reservation-confirmed:email',
        'standard:reservation-confirmed:sms',
        'standard:reservation-cancelled:email',
        'standard:payment-received:email',
      ]),
    );
    expect(ids.some((id) => id.startsWith('reminder:'))).toBe(true);
    expect(items.every((w) => w.origin === 'default' && !w.edited)).toBe(true);

    // Turning the confirmation SMS off in the settings turns its workflow off.
    const settings = await json(auth, 'GET', '/v1/settings/notifications');
    settings.kinds['reservation-confirmed'].sms = false;
    settings.reminderOffsets = { email: [2880], sms: [] };
    await json(auth, 'PUT', '/v1/settings/notifications', settings);
    const after = (await json(auth, 'GET', '/v1/workflows')).items as { workflowId: string; enabled: boolean }[];
    expect(after.find((w) => w.workflowId === 'standard:reservation-confirmed:sms')?.enabled).toBe(false);
    expect(after.filter((w) => w.workflowId.startsWith('reminder:')).map((w) => w.workflowId)).toEqual([
      'reminder:2880:email',
    ]);
  });

  it('an edited one replaces the default (the settings no longer change it); deleting the edit brings it back', async () => {
    const auth = await herald.keyFor('wf-edit');
    const { sauna } = await aCatalog(auth);
    const current = await json(auth, 'GET', '/v1/workflows/standard:reservation-confirmed:sms');
    const { workflowId: _id, origin: _origin, edited: _edited, ...definition } = current;
    const edited = await inject(auth, 'PUT', '/v1/workflows/standard:reservation-confirmed:sms', {
      ...definition,
      message: { type: 'custom', text: 'Booked: {{serviceName}} {{date}} {{time}}. Bring a towel.' },
    });
    expect(edited.statusCode, edited.body).toBe(200);
    expect(edited.json()).toMatchObject({ origin: 'default', edited: true });
    const etag = (await inject(auth, 'GET', '/v1/workflows')).headers.etag;
    expect(etag).toBe('"0"');

    const { customer } = await book(auth, sauna, '2030-06-03T10:00:00+02:00');
    expect(smsTo(customer.phone)).toEqual(['Booked: Sauna Jun 3, 2030 10:00 AM. Bring a towel.']);

    // A stale If-Match is 412 and changes nothing.
    const stale = await inject(
      auth,
      'PUT',
      '/v1/workflows/standard:reservation-confirmed:sms',
      { ...definition, enabled: false },
      { 'if-match': '"7"' },
    );
    expect(stale.statusCode).toBe(412);
    expect(stale.headers['content-type']).toContain('application/problem+json');
    expect((await json(auth, 'GET', '/v1/workflows/standard:reservation-confirmed:sms')).enabled).toBe(true);

    // The settings switch no longer reaches the edited workflow...
    const settings = await json(auth, 'GET', '/v1/settings/notifications');
    settings.kinds['reservation-confirmed'].sms = false;
    await json(auth, 'PUT', '/v1/settings/notifications', settings);
    expect((await json(auth, 'GET', '/v1/workflows/standard:reservation-confirmed:sms')).enabled).toBe(true);

    // ... until the edit is deleted: the default, now off per the settings, is back.
    const removed = await inject(auth, 'DELETE', '/v1/workflows/standard:reservation-confirmed:sms');
    expect(removed.statusCode, removed.body).toBe(204);
    expect(await json(auth, 'GET', '/v1/workflows/standard:reservation-confirmed:sms')).toMatchObject({
      enabled: false,
      edited: false,
      origin: 'default',
    });
    const second = await book(auth, sauna, '2030-06-03T11:00:00+02:00');
    expect(smsTo(second.customer.phone)).toEqual([]);
    expect(emailsTo(second.customer.email)).toHaveLength(1);
  });
});

describe("the tenant's own workflows", () => {
  it('"60 minutes before the start, send TURN ON THE SAUNA" to a fixed number, for the sauna only', async () => {
    const auth = await herald.keyFor('wf-sauna');
    const { sauna, swim } = await aCatalog(auth);
    const created = await inject(auth, 'POST', '/v1/workflows', smsWorkflow({ scope: { serviceIds: [sauna] } }));
    expect(created.statusCode, created.body).toBe(201);
    const workflowId = created.json().workflowId as string;
    expect(created.headers.location).toBe(`/v1/workflows/${workflowId}`);
    expect(created.json()).toMatchObject({ origin: 'custom', edited: false, scope: { serviceIds: [sauna] } });
    const stream = await herald.adapters.eventStore.readStream('settings-wf-sauna+workflows');
    expect(stream.events.map((e) => e.type)).toEqual(['WorkflowSaved']);

    const saunaBooking = await book(auth, sauna, '2030-06-03T18:00:00+02:00');
    const swimBooking = await book(auth, swim, '2030-06-03T20:00:00+02:00');
    // 60 min before the sauna (a job of its own); the swim has only the ready-made reminder (24 h before).
    expect(await pendingTimeJobs('wf-sauna', saunaBooking.reservationId)).toEqual([
      '2030-06-02T16:00:00.000Z',
      '2030-06-03T15:00:00.000Z',
    ]);
    expect(await pendingTimeJobs('wf-sauna', swimBooking.reservationId)).toEqual(['2030-06-02T18:00:00.000Z']);

    clock.set('2030-06-03T15:00:00Z');
    try {
      await runDueJobs(REMINDER_JOB, 'wf-sauna');
      expect(smsTo('+4790000111')).toEqual(['TURN ON THE SAUNA 6:00 PM']);
      // The device is not the customer: its message is a delivery of its own in the reservation's audit trail (a
      // reminder, by its trigger), beside the customer's own reminder.
      const deliveries = await deliveriesOf(auth, saunaBooking.reservationId);
      expect(deliveries.filter((d) => d.recipientType === 'custom')).toEqual([
        expect.objectContaining({ kind: 'reservation-reminder', channel: 'sms', status: 'sent' }),
      ]);
      expect((await deliveriesOf(auth, swimBooking.reservationId)).some((d) => d.recipientType === 'custom')).toBe(
        false,
      );
      // Running the job again (a restart mid-run) sends nothing more.
      await herald.runJob({
        name: REMINDER_JOB,
        key: 'again',
        runAt: new Date('2030-06-03T15:00:00Z'),
        tenantId: 'wf-sauna',
        data: { reservationId: saunaBooking.reservationId, start: '2030-06-03T16:00:00.000Z', minutesBefore: 60 },
      });
      await herald.settle();
      expect(smsTo('+4790000111')).toHaveLength(1);
    } finally {
      clock.set(START);
    }
  });

  it('"an hour after the end, ask for a review": sent after the end, not after a cancellation', async () => {
    const auth = await herald.keyFor('wf-review');
    const { swim } = await aCatalog(auth);
    await json(
      auth,
      'POST',
      '/v1/workflows',
      {
        name: 'review request',
        enabled: true,
        trigger: { type: 'time', anchor: 'end', direction: 'after', minutes: 60 },
        channel: 'email',
        message: {
          type: 'custom',
          subject: 'How was {{serviceName}}?',
          text: 'Dear {{customerName}}, tell us how {{serviceName}} on {{date}} was.',
          translations: {
            nb: { subject: 'Hvordan var {{serviceName}}?', text: 'Kjære {{customerName}}, fortell oss.' },
          },
        },
        recipients: { customer: true },
      },
      201,
    );
    const kept = await book(auth, swim, '2030-06-04T09:00:00+02:00');
    const cancelled = await book(auth, swim, '2030-06-04T09:00:00+02:00');
    expect(await pendingTimeJobs('wf-review', kept.reservationId)).toContain('2030-06-04T09:00:00.000Z');
    await json(auth, 'POST', `/v1/reservations/${cancelled.reservationId}/cancel`, { by: 'customer' });
    expect(await pendingTimeJobs('wf-review', cancelled.reservationId)).toEqual([]);

    clock.set('2030-06-04T09:00:00Z');
    try {
      await runDueJobs(REMINDER_JOB, 'wf-review');
      const reviews = emailsTo(kept.customer.email).filter((m) => m.subject === 'How was Lane swim?');
      expect(reviews).toHaveLength(1);
      expect(reviews[0]!.text).toContain(`Dear ${kept.customer.name}, tell us how Lane swim on Jun 4, 2030 was.`);
      expect(emailsTo(cancelled.customer.email).filter((m) => m.subject === 'How was Lane swim?')).toEqual([]);
    } finally {
      clock.set(START);
    }
  });

  it('scoped to paid reservations: a payment starts it, an unpaid one does not', async () => {
    const auth = await herald.keyFor('wf-paid');
    const { sauna } = await aCatalog(auth);
    await json(
      auth,
      'POST',
      '/v1/workflows',
      smsWorkflow({
        name: 'door code',
        trigger: { type: 'time', anchor: 'start', direction: 'before', minutes: 30 },
        scope: { payment: 'paid' },
        message: { type: 'custom', text: 'Door code 4711 for {{serviceName}} at {{time}}.' },
        recipients: { customer: true },
      }),
      201,
    );
    const paid = await book(auth, sauna, '2030-06-03T12:00:00+02:00');
    const unpaid = await book(auth, sauna, '2030-06-03T12:00:00+02:00');
    await json(auth, 'POST', `/v1/reservations/${paid.reservationId}/payments`, {
      paymentId: 'pay-1',
      amount: 25000,
      currency: 'NOK',
    });
    clock.set('2030-06-03T09:30:00Z');
    try {
      await runDueJobs(REMINDER_JOB, 'wf-paid');
      expect(smsTo(paid.customer.phone).filter((t) => t.startsWith('Door code'))).toEqual([
        'Door code 4711 for Sauna at 12:00 PM.',
      ]);
      expect(smsTo(unpaid.customer.phone).filter((t) => t.startsWith('Door code'))).toEqual([]);
    } finally {
      clock.set(START);
    }
  });

  it('refuses what cannot work with 400 naming the field, recording nothing', async () => {
    const auth = await herald.keyFor('wf-invalid');
    const cases: [Record<string, unknown>, string][] = [
      [smsWorkflow({ message: { type: 'custom', text: 'Hi {{nope}}' } }), 'nope'],
      [smsWorkflow({ recipients: { addresses: ['not-a-number'] } }), 'addresses'],
      [smsWorkflow({ trigger: { type: 'time', anchor: 'start', direction: 'before', minutes: 0 } }), 'minutes'],
      [smsWorkflow({ message: { type: 'custom', text: 'Hi\u202E there' } }), 'text'],
      [smsWorkflow({ recipients: {} }), 'recipients'],
    ];
    for (const [body, field] of cases) {
      const response = await inject(auth, 'POST', '/v1/workflows', body);
      expect(response.statusCode, response.body).toBe(400);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(JSON.stringify(response.json())).toContain(field);
    }
    expect((await herald.adapters.eventStore.readStream('settings-wf-invalid+workflows')).events).toEqual([]);
    // Staff read workflows but do not change them.
    const staff = await herald.keyFor('wf-invalid', 'staff');
    expect((await inject(staff, 'GET', '/v1/workflows')).statusCode).toBe(200);
    expect((await inject(staff, 'POST', '/v1/workflows', smsWorkflow())).statusCode).toBe(403);
  });

  it('keeps tenants apart: another tenant neither sees nor triggers them', async () => {
    const mine = await herald.keyFor('wf-mine');
    const theirs = await herald.keyFor('wf-theirs');
    const created = await json(mine, 'POST', '/v1/workflows', smsWorkflow({ name: 'mine only' }), 201);
    expect((await inject(theirs, 'GET', `/v1/workflows/${created.workflowId}`)).statusCode).toBe(404);
    const listed = (await json(theirs, 'GET', '/v1/workflows')).items as { name: string }[];
    expect(listed.map((w) => w.name)).not.toContain('mine only');
    expect((await inject(theirs, 'DELETE', `/v1/workflows/${created.workflowId}`)).statusCode).toBe(404);
  });
});

describe('a workflow change reaches reservations already booked', () => {
  it('schedules a new timed workflow for future reservations, moves it with the timing, and a deleted one sends nothing', async () => {
    const auth = await herald.keyFor('wf-change');
    const { sauna } = await aCatalog(auth);
    const booked = await book(auth, sauna, '2030-06-05T18:00:00+02:00');
    const before = await pendingTimeJobs('wf-change', booked.reservationId);
    expect(before).toEqual(['2030-06-04T16:00:00.000Z']); // the ready-made 24 h reminder

    const device = '+4790000222';
    const created = await json(
      auth,
      'POST',
      '/v1/workflows',
      smsWorkflow({ recipients: { addresses: [device] } }),
      201,
    );
    expect(await pendingTimeJobs('wf-change', booked.reservationId)).toEqual([
      '2030-06-04T16:00:00.000Z',
      '2030-06-05T15:00:00.000Z',
    ]);

    const { workflowId: _w, origin: _o, edited: _e, ...definition } = created;
    await json(auth, 'PUT', `/v1/workflows/${created.workflowId}`, {
      ...definition,
      trigger: { type: 'time', anchor: 'start', direction: 'before', minutes: 90 },
    });
    expect(await pendingTimeJobs('wf-change', booked.reservationId)).toContain('2030-06-05T14:30:00.000Z');

    await json(auth, 'DELETE', `/v1/workflows/${created.workflowId}`, undefined, 204);
    clock.set('2030-06-05T15:00:00Z');
    try {
      await runDueJobs(REMINDER_JOB, 'wf-change');
      expect(smsTo(device)).toEqual([]);
      const stream = await herald.adapters.eventStore.readStream('settings-wf-change+workflows');
      expect(stream.events.map((e) => [e.type, e.metadata.actor])).toEqual([
        ['WorkflowSaved', expect.stringMatching(/^apikey:/)],
        ['WorkflowSaved', expect.stringMatching(/^apikey:/)],
        ['WorkflowRemoved', expect.stringMatching(/^apikey:/)],
      ]);
    } finally {
      clock.set(START);
    }
  });
});

describe('quiet hours', () => {
  async function quietTenant(tenantId: string) {
    const auth = await herald.keyFor(tenantId);
    const catalog = await aCatalog(auth);
    const settings = await json(auth, 'GET', '/v1/settings/notifications');
    settings.quietHours = {
      channels: { sms: { start: '21:00', end: '08:00' } },
      locations: {},
      exemptCustomerActions: true,
    };
    settings.reminderOffsets = { email: [], sms: [180] };
    settings.kinds['reservation-reminder'].sms = true;
    await json(auth, 'PUT', '/v1/settings/notifications', settings);
    return { auth, ...catalog };
  }

  it('defers an SMS reminder due at night to the end of the quiet hours, in the location’s zone', async () => {
    const { auth, sauna } = await quietTenant('wf-quiet-defer');
    // Starts 10:00 Oslo: the 3 h reminder is due 07:00 Oslo, inside 21:00-08:00 → sent at 08:00.
    const booked = await book(auth, sauna, '2030-06-03T10:00:00+02:00');
    const cancelled = await book(auth, sauna, '2030-06-03T10:00:00+02:00');
    const moved = await book(auth, sauna, '2030-06-03T10:00:00+02:00');
    clock.set('2030-06-03T05:00:00Z');
    try {
      await runDueJobs(REMINDER_JOB, 'wf-quiet-defer');
      // While their reminders wait for 08:00, one customer cancels and one moves to 11:00: theirs are obsolete.
      clock.set('2030-06-03T05:30:00Z');
      await json(auth, 'POST', `/v1/reservations/${cancelled.reservationId}/cancel`, { by: 'customer' });
      await json(auth, 'POST', `/v1/reservations/${moved.reservationId}/reschedule`, {
        start: '2030-06-03T11:00:00+02:00',
      });
      expect(smsTo(booked.customer.phone).filter((t) => /remind/i.test(t))).toEqual([]);
      const reminder = (await deliveriesOf(auth, booked.reservationId)).find(
        (d) => d.kind === 'reservation-reminder' && d.channel === 'sms',
      )!;
      expect(reminder.status).not.toBe('sent');
      const detail = await json(auth, 'GET', `/v1/deliveries/${reminder.notificationId}`);
      expect(detail.notBefore).toBe('2030-06-03T06:00:00.000Z');

      clock.set('2030-06-03T05:59:00Z');
      await runDueJobs(RETRY_JOB, 'wf-quiet-defer');
      expect((await json(auth, 'GET', `/v1/deliveries/${reminder.notificationId}`)).status).not.toBe('sent');
      clock.set('2030-06-03T06:00:00Z');
      await runDueJobs(RETRY_JOB, 'wf-quiet-defer');
      expect((await json(auth, 'GET', `/v1/deliveries/${reminder.notificationId}`)).status).toBe('sent');
      expect(smsTo(booked.customer.phone)).toHaveLength(2); // the confirmation and the reminder
      for (const [other, why] of [
        [cancelled, /became cancelled/],
        [moved, /moved to another time/],
      ] as const) {
        const reminders = (await deliveriesOf(auth, other.reservationId)).filter(
          (d) => d.kind === 'reservation-reminder' && d.channel === 'sms',
        );
        expect(reminders).toHaveLength(1);
        expect(reminders[0]).toMatchObject({ status: 'skipped', skipReason: 'obsolete' });
        const audit = await json(auth, 'GET', `/v1/deliveries/${reminders[0]!.notificationId}`);
        expect(JSON.stringify(audit.history)).toMatch(why);
        expect(smsTo(other.customer.phone).some((t) => /remind/i.test(t))).toBe(false);
      }
    } finally {
      clock.set(START);
    }
  });

  it('skips it, with the reason, when the quiet hours end after the start; e-mail is not quiet', async () => {
    const { auth, sauna } = await quietTenant('wf-quiet-skip');
    const settings = await json(auth, 'GET', '/v1/settings/notifications');
    settings.reminderOffsets = { email: [180], sms: [180] };
    settings.kinds['reservation-reminder'].email = true;
    await json(auth, 'PUT', '/v1/settings/notifications', settings);
    // Starts 07:00 Oslo: the reminder is due 04:00, the quiet hours end 08:00 — after the start.
    const booked = await book(auth, sauna, '2030-06-04T07:00:00+02:00');
    clock.set('2030-06-04T02:00:00Z');
    try {
      await runDueJobs(REMINDER_JOB, 'wf-quiet-skip');
      const reminders = (await deliveriesOf(auth, booked.reservationId)).filter(
        (d) => d.kind === 'reservation-reminder',
      );
      expect(reminders.find((d) => d.channel === 'sms')).toMatchObject({
        status: 'skipped',
        skipReason: 'quiet-hours',
      });
      expect(reminders.find((d) => d.channel === 'email')).toMatchObject({ status: 'sent' });
    } finally {
      clock.set(START);
    }
  });

  it("lets the customer's own booking through at night when exempt, and defers a staff-caused message", async () => {
    const { auth, sauna } = await quietTenant('wf-quiet-exempt');
    clock.set('2030-06-02T21:30:00Z'); // 23:30 Oslo
    try {
      const booked = await book(auth, sauna, '2030-06-04T12:00:00+02:00');
      expect(smsTo(booked.customer.phone)).toHaveLength(1); // the confirmation, at once: the customer just booked
      await json(auth, 'POST', `/v1/reservations/${booked.reservationId}/cancel`, { by: 'staff' });
      expect(smsTo(booked.customer.phone)).toHaveLength(1); // staff cancelled at night: the SMS waits for 08:00
      const cancellation = (await deliveriesOf(auth, booked.reservationId)).find(
        (d) => d.kind === 'reservation-cancelled' && d.channel === 'sms',
      )!;
      const detail = await json(auth, 'GET', `/v1/deliveries/${cancellation.notificationId}`);
      expect(detail.notBefore).toBe('2030-06-03T06:00:00.000Z');
    } finally {
      clock.set(START);
    }
  });

  it('a location can turn them off for itself (null) and the windows are validated', async () => {
    const auth = await herald.keyFor('wf-quiet-invalid');
    const settings = await json(auth, 'GET', '/v1/settings/notifications');
    const put = (quietHours: unknown) =>
      inject(auth, 'PUT', '/v1/settings/notifications', { ...settings, quietHours } as object);
    const same = await put({ channels: { sms: { start: '21:00', end: '21:00' } }, exemptCustomerActions: true });
    expect(same.statusCode).toBe(400);
    const badTime = await put({ channels: { sms: { start: '25:00', end: '08:00' } }, exemptCustomerActions: true });
    expect(badTime.statusCode).toBe(400);
    const ok = await put({
      channels: { sms: { start: '21:00', end: '08:00' } },
      locations: { 'late-night-spa': { sms: null } },
      exemptCustomerActions: false,
    });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json().quietHours.locations['late-night-spa']).toEqual({ sms: null });
  });
});
