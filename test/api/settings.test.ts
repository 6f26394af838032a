import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerRefOf, heraldDefaultSettings } from '../../src/application/notifications/notification-settings.js';
import type { RecordedEvent } from '../../src/application/ports/event-store.port.js';
import type { NotificationSettings } from '../../src/domain/notification/index.js';
import { startTestHerald, type TestHerald } from '../support/test-herald.js';

let herald: TestHerald;

beforeAll(async () => {
  herald = await startTestHerald();
});
afterAll(async () => {
  await herald.stop();
});

type Auth = { authorization: string };
type Mutable<T> = { -readonly [K in keyof T]: T[K] extends object ? Mutable<T[K]> : T[K] };

async function allEvents(): Promise<RecordedEvent[]> {
  // Consumers append on their own after a request (the planner, the dispatcher): count once they have.
  await herald.settle();
  return herald.adapters.eventStore.readAll({ limit: 1_000_000 });
}

function settings(change: (s: Mutable<NotificationSettings>) => void = () => undefined): NotificationSettings {
  const copy = structuredClone(heraldDefaultSettings()) as Mutable<NotificationSettings>;
  change(copy);
  return copy as NotificationSettings;
}

const putSettings = (auth: Auth, payload: unknown, headers: Record<string, string> = {}) =>
  herald.app.inject({
    method: 'PUT',
    url: '/v1/settings/notifications',
    headers: { ...auth, ...headers },
    payload: payload as object,
  });

async function deliveriesOf(auth: Auth, reservationId: string) {
  const response = await herald.app.inject({
    method: 'GET',
    url: `/v1/deliveries?reservationId=${reservationId}`,
    headers: auth,
  });
  expect(response.statusCode).toBe(200);
  return response.json().items as {
    notificationId: string;
    kind: string;
    channel: string;
    status: string;
    skipReason: string | null;
    recipientType: string;
    cost: number;
  }[];
}

describe('GET/PUT /v1/settings/notifications', () => {
  it("returns Herald's defaults, without an ETag, while the tenant never changed them", async () => {
    const auth = await herald.keyFor('settings-defaults');
    const response = await herald.app.inject({ method: 'GET', url: '/v1/settings/notifications', headers: auth });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual(heraldDefaultSettings());
    expect(response.headers.etag).toBeUndefined();
  });

  it('records a change as NotificationSettingsChanged and returns it with the stream revision as ETag', async () => {
    const auth = await herald.keyFor('settings-change');
    const wanted = settings((s) => {
      s.sender = { name: 'Wellness Praha', address: 'hello@wellness.example' };
      s.footer = 'Wellness Praha, Vodičkova 1';
      s.prices = { smsPerPart: 2, emailManual: 1, emailAutomatic: 0 };
      s.reminderOffsets = { email: [1440], sms: [180] };
      s.admins = [{ id: 'u-1', email: 'boss@wellness.example', locale: 'cs' }];
      // A device switched by SMS: "60 minutes before the start, send TURN ON THE SAUNA to this number".
      s.customMessages = [
        {
          id: 'sauna',
          kind: 'reservation-reminder',
          channel: 'sms',
          text: 'TURN ON THE SAUNA {{reservationId}}',
          to: { type: 'custom', address: '+420777000111' },
          minutesBefore: 60,
        },
      ];
    });
    const put = await putSettings(auth, wanted);
    expect(put.statusCode).toBe(200);
    expect(put.headers.etag).toBe('"0"');
    expect(put.json().customMessages[0].minutesBefore).toBe(60);

    const recorded = (await allEvents()).filter((e) => e.streamName === 'settings-settings-change+notifications');
    expect(recorded.map((e) => e.type)).toEqual(['NotificationSettingsChanged']);
    expect(recorded[0]!.metadata.tenantId).toBe('settings-change');

    const get = await herald.app.inject({ method: 'GET', url: '/v1/settings/notifications', headers: auth });
    expect(get.headers.etag).toBe('"0"');
    expect(get.json().sender).toEqual({ name: 'Wellness Praha', address: 'hello@wellness.example' });
    expect(get.json().prices.smsPerPart).toBe(2);

    // The same document again is no change: nothing appended, same ETag.
    const again = await putSettings(auth, wanted);
    expect(again.statusCode).toBe(200);
    expect(again.headers.etag).toBe('"0"');
  });

  const invalid: [string, (s: Mutable<NotificationSettings>) => void, string, RegExp?][] = [
    ['a sender that is not an address', (s) => void (s.sender.address = 'not-an-address'), 'body.sender.address'],
    ['a price below zero', (s) => void (s.prices.smsPerPart = -1), 'body.prices.smsPerPart', /zero or more/],
    [
      'a template referencing an unknown field',
      (s) =>
        void (s.customMessages = [
          {
            id: 'm1',
            kind: 'reservation-confirmed',
            channel: 'sms',
            text: 'See you {{nope}}',
            to: { type: 'customer' },
          },
        ]),
      'body.customMessages.0.text',
      /nope/,
    ],
    [
      'an email subject referencing an unknown field',
      (s) =>
        void (s.customMessages = [
          {
            id: 'm1',
            kind: 'reservation-confirmed',
            channel: 'email',
            subject: 'Hi {{shoeSize}}',
            text: 'Hello',
            to: { type: 'customer' },
          },
        ]),
      'body.customMessages.0.subject',
      /shoeSize/,
    ],
    [
      'a custom SMS to something that is not a phone number',
      (s) =>
        void (s.customMessages = [
          {
            id: 'm1',
            kind: 'reservation-reminder',
            channel: 'sms',
            text: 'TURN ON THE SAUNA',
            to: { type: 'custom', address: 'sauna' },
            minutesBefore: 60,
          },
        ]),
      'body.customMessages.0.to.address',
    ],
    [
      'minutesBefore on a kind that is not a reminder',
      (s) =>
        void (s.customMessages = [
          {
            id: 'm1',
            kind: 'reservation-confirmed',
            channel: 'sms',
            text: 'Hi',
            to: { type: 'customer' },
            minutesBefore: 60,
          },
        ]),
      'body.customMessages.0.minutesBefore',
    ],
    ['a reminder offset of zero', (s) => void (s.reminderOffsets.sms = [0]), 'body.reminderOffsets.sms.0'],
    [
      'a custom email recipient that is not an address',
      (s) => void (s.customRecipients.email = ['nobody']),
      'body.customRecipients.email.0',
    ],
    ['an admin email that is not an address', (s) => void (s.admins = [{ email: 'boss' }]), 'body.admins.0.email'],
    [
      'a default locale that is not a language tag',
      (s) => void (s.defaultLocale = 'not a locale'),
      'body.defaultLocale',
    ],
    [
      'a kind left out',
      (s) => void delete (s.kinds as Partial<typeof s.kinds>)['staff-alert'],
      'body.kinds.staff-alert',
    ],
  ];
  for (const [what, change, field, message] of invalid) {
    it(`refuses ${what}: 400 problem naming ${field}, nothing recorded`, async () => {
      const auth = await herald.keyFor('settings-invalid');
      const before = (await allEvents()).length;
      const response = await putSettings(auth, settings(change));
      expect(response.statusCode).toBe(400);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      const body = response.json() as { code: string; errors: { field: string; message: string }[] };
      expect(body.code).toBe('validation-failed');
      const error = body.errors.find((e) => e.field === field);
      expect(error, JSON.stringify(body.errors)).toBeDefined();
      if (message) expect(error!.message).toMatch(message);
      expect((await allEvents()).length).toBe(before);
      const get = await herald.app.inject({ method: 'GET', url: '/v1/settings/notifications', headers: auth });
      expect(get.json()).toEqual(heraldDefaultSettings());
    });
  }

  it('If-Match with a stale ETag is 412 and records nothing; with the current one it applies', async () => {
    const auth = await herald.keyFor('settings-if-match');
    expect(
      (
        await putSettings(
          auth,
          settings((s) => void (s.footer = 'one')),
        )
      ).headers.etag,
    ).toBe('"0"');
    expect(
      (
        await putSettings(
          auth,
          settings((s) => void (s.footer = 'two')),
          { 'if-match': '"0"' },
        )
      ).headers.etag,
    ).toBe('"1"');
    const before = (await allEvents()).length;

    const stale = await putSettings(
      auth,
      settings((s) => void (s.footer = 'three')),
      { 'if-match': '"0"' },
    );
    expect(stale.statusCode).toBe(412);
    expect(stale.json().code).toBe('stale-revision');
    expect((await allEvents()).length).toBe(before);

    const current = await putSettings(
      auth,
      settings((s) => void (s.footer = 'three')),
      { 'if-match': '"1"' },
    );
    expect(current.statusCode).toBe(200);
    expect(current.headers.etag).toBe('"2"');
  });

  it('is for admins only, and per tenant', async () => {
    const staff = await herald.keyFor('settings-roles', 'staff');
    expect(
      (await herald.app.inject({ method: 'GET', url: '/v1/settings/notifications', headers: staff })).statusCode,
    ).toBe(403);
    expect((await putSettings(staff, settings())).statusCode).toBe(403);

    const a = await herald.keyFor('settings-tenant-a');
    const b = await herald.keyFor('settings-tenant-b');
    await putSettings(
      a,
      settings((s) => void (s.sender = { name: 'A', address: 'a@a.example' })),
    );
    const seenByB = await herald.app.inject({ method: 'GET', url: '/v1/settings/notifications', headers: b });
    expect(seenByB.json().sender).toEqual(heraldDefaultSettings().sender);
  });

  it('takes effect: SMS off for confirmations, the next reservation gets its confirmation by email only', async () => {
    const auth = await herald.keyFor('settings-effect');
    const response = await putSettings(
      auth,
      settings((s) => void (s.kinds['reservation-confirmed'].sms = false)),
    );
    expect(response.statusCode).toBe(200);
    const reservationId = await herald.reserve(auth);
    const deliveries = await deliveriesOf(auth, reservationId);
    expect(deliveries.map((d) => [d.kind, d.channel, d.status])).toEqual([['reservation-confirmed', 'email', 'sent']]);
    const code = await herald.codeOf(auth, reservationId);
    expect(herald.sms.sent.some((m) => m.body.includes(code))).toBe(false);
    expect(herald.email.sent.some((m) => m.text.includes(code))).toBe(true);
  });
});

describe('customer preferences', () => {
  it('a kind blocked by the customer is recorded as skipped with reason blocked-by-customer; other channels still go', async () => {
    const auth = await herald.keyFor('prefs');
    const put = await herald.app.inject({
      method: 'PUT',
      url: '/v1/customers/c-42/preferences',
      headers: auth,
      payload: { blocked: { email: ['reservation-confirmed'] } },
    });
    expect(put.statusCode).toBe(200);
    expect(put.headers.etag).toBe('"0"');
    expect(put.json()).toMatchObject({
      customerRef: 'c-42',
      blocked: { email: ['reservation-confirmed'], sms: [] },
      smsOptedOut: false,
    });
    const recorded = (await allEvents()).filter((e) => e.streamName === 'customer-prefs+c-42');
    expect(recorded.map((e) => e.type)).toEqual(['CustomerPreferencesChanged']);

    const reservationId = await herald.reserve(auth, {
      customer: { id: 'c-42', name: 'Jana Nováková', email: 'jana@example.com', phone: '+420777555666', locale: 'cs' },
    });
    const deliveries = await deliveriesOf(auth, reservationId);
    expect(deliveries.find((d) => d.channel === 'email')).toMatchObject({
      status: 'skipped',
      skipReason: 'blocked-by-customer',
    });
    expect(deliveries.find((d) => d.channel === 'sms')).toMatchObject({ status: 'sent' });
    expect(herald.email.sent.some((m) => m.to === 'jana@example.com')).toBe(false);
  });

  it('staff can opt a customer out of SMS; If-Match guards the change; GET shows it', async () => {
    const auth = await herald.keyFor('prefs-optout');
    const first = await herald.app.inject({
      method: 'PUT',
      url: '/v1/customers/c-7/preferences',
      headers: auth,
      payload: { smsOptedOut: true },
    });
    expect(first.statusCode).toBe(200);
    expect(first.json().smsOptedOut).toBe(true);
    const stale = await herald.app.inject({
      method: 'PUT',
      url: '/v1/customers/c-7/preferences',
      headers: { ...auth, 'if-match': '"5"' },
      payload: { smsOptedOut: false },
    });
    expect(stale.statusCode).toBe(412);
    const get = await herald.app.inject({ method: 'GET', url: '/v1/customers/c-7/preferences', headers: auth });
    expect(get.json().smsOptedOut).toBe(true);
    expect(get.headers.etag).toBe(first.headers.etag);
  });

  it('refuses a kind the customer cannot block, naming the field, recording nothing', async () => {
    const auth = await herald.keyFor('prefs-invalid');
    const before = (await allEvents()).length;
    const response = await herald.app.inject({
      method: 'PUT',
      url: '/v1/customers/c-1/preferences',
      headers: auth,
      payload: { blocked: { email: ['staff-alert'] } },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors.map((e: { field: string }) => e.field)).toContain('body.blocked.email.0');
    expect((await allEvents()).length).toBe(before);
  });

  it('GET /v1/customers/lookup finds the ref of a customer known by email, and the ref derived from the address', async () => {
    const auth = await herald.keyFor('prefs-lookup');
    await herald.reserve(auth, {
      customer: { name: 'Ola Nordmann', email: 'Ola@Example.com', phone: '+4791234567', locale: 'nb' },
    });
    const expected = customerRefOf(herald.ids, 'prefs-lookup', { email: 'Ola@Example.com' });

    const byEmail = await herald.app.inject({
      method: 'GET',
      url: '/v1/customers/lookup?email=ola%40example.com',
      headers: auth,
    });
    expect(byEmail.statusCode).toBe(200);
    expect(byEmail.json()).toEqual({
      items: [{ customerRef: expected, customerId: null, name: 'Ola Nordmann', reservations: 1 }],
      derivedCustomerRef: expected,
    });
    const byPhone = await herald.app.inject({
      method: 'GET',
      url: '/v1/customers/lookup?phone=%2B4791234567',
      headers: auth,
    });
    expect(byPhone.json().items.map((i: { customerRef: string }) => i.customerRef)).toEqual([expected]);

    const both = await herald.app.inject({
      method: 'GET',
      url: '/v1/customers/lookup?email=a%40b.cz&phone=%2B4791234567',
      headers: auth,
    });
    expect(both.statusCode).toBe(400);
    // Another tenant does not see this customer.
    const other = await herald.keyFor('prefs-lookup-other');
    const hidden = await herald.app.inject({
      method: 'GET',
      url: '/v1/customers/lookup?email=ola%40example.com',
      headers: other,
    });
    expect(hidden.json().items).toEqual([]);
  });
});

describe('credits', () => {
  it('out of credits: the SMS is skipped with insufficient-credits and the admins get one staff alert; a top-up makes it work', async () => {
    const tenant = 'credits-out';
    const auth = await herald.keyFor(tenant);
    await putSettings(
      auth,
      settings((s) => {
        s.prices = { smsPerPart: 1, emailManual: 1, emailAutomatic: 0 };
        s.admins = [{ id: 'boss', email: 'boss@credits.example' }];
      }),
    );
    const credits = await herald.app.inject({ method: 'GET', url: '/v1/credits', headers: auth });
    expect(credits.json()).toMatchObject({ balance: 0, prices: { smsPerPart: 1 }, entries: [] });

    const first = await herald.reserve(auth);
    const second = await herald.reserve(auth);
    for (const reservationId of [first, second]) {
      const deliveries = await deliveriesOf(auth, reservationId);
      expect(deliveries.find((d) => d.kind === 'reservation-confirmed' && d.channel === 'sms')).toMatchObject({
        status: 'skipped',
        skipReason: 'insufficient-credits',
      });
      // Free email still goes out.
      expect(deliveries.find((d) => d.kind === 'reservation-confirmed' && d.channel === 'email')?.status).toBe('sent');
    }
    const alerts = await herald.app.inject({ method: 'GET', url: '/v1/deliveries?kind=staff-alert', headers: auth });
    const skips = await herald.app.inject({
      method: 'GET',
      url: '/v1/deliveries?status=skipped&channel=sms',
      headers: auth,
    });
    // At most one per tenant and hour (two skips a few ms apart share an hour unless they straddle its end).
    const hours = new Set(skips.json().items.map((d: { requestedAt: string }) => d.requestedAt.slice(0, 13)));
    expect(alerts.json().items).toHaveLength(hours.size);
    expect(alerts.json().items[0]).toMatchObject({ channel: 'email', recipientType: 'admin', status: 'sent', cost: 0 });
    const alertEmails = herald.email.sent.filter((m) => m.to === 'boss@credits.example');
    expect(alertEmails).toHaveLength(hours.size);
    expect(alertEmails[0]!.subject).toMatch(/Staff alert/);
    expect(alertEmails[0]!.text).toMatch(/Out of credits/);

    const topUp = await herald.app.inject({
      method: 'POST',
      url: '/v1/credits/top-ups',
      headers: auth,
      payload: { topUpId: 'inv-1', amount: 10 },
    });
    expect(topUp.statusCode).toBe(201);
    expect(topUp.json()).toEqual({ topUpId: 'inv-1', balance: 10 });
    const replay = await herald.app.inject({
      method: 'POST',
      url: '/v1/credits/top-ups',
      headers: auth,
      payload: { topUpId: 'inv-1', amount: 10 },
    });
    expect(replay.statusCode).toBe(200);
    expect(replay.json().balance).toBe(10);
    const mismatch = await herald.app.inject({
      method: 'POST',
      url: '/v1/credits/top-ups',
      headers: auth,
      payload: { topUpId: 'inv-1', amount: 99 },
    });
    expect(mismatch.statusCode).toBe(409);

    const third = await herald.reserve(auth);
    const sms = (await deliveriesOf(auth, third)).find((d) => d.channel === 'sms');
    expect(sms).toMatchObject({ status: 'sent', cost: 1 });
    const thirdCode = await herald.codeOf(auth, third);
    expect(herald.sms.sent.some((m) => m.body.includes(thirdCode))).toBe(true);
    const after = (await herald.app.inject({ method: 'GET', url: '/v1/credits', headers: auth })).json();
    expect(after.balance).toBe(9);
    expect(after.entries.map((e: { type: string }) => e.type)).toEqual(['charge', 'top-up']);
    expect(after.entries[0]).toMatchObject({ deliveryId: sms!.notificationId, amount: 1, balanceAfter: 9 });
  });

  it('top-ups are for admins and validated', async () => {
    const staff = await herald.keyFor('credits-staff', 'staff');
    const admin = await herald.keyFor('credits-staff');
    expect(
      (
        await herald.app.inject({
          method: 'POST',
          url: '/v1/credits/top-ups',
          headers: staff,
          payload: { topUpId: 't', amount: 1 },
        })
      ).statusCode,
    ).toBe(403);
    expect((await herald.app.inject({ method: 'GET', url: '/v1/credits', headers: staff })).statusCode).toBe(200);
    const negative = await herald.app.inject({
      method: 'POST',
      url: '/v1/credits/top-ups',
      headers: admin,
      payload: { topUpId: 't', amount: -5 },
    });
    expect(negative.statusCode).toBe(400);
    expect(negative.json().errors[0].field).toBe('body.amount');
  });
});
