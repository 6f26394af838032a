import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { customerRefOf } from '../../src/application/notifications/notification-settings.js';
import { analyzeSms } from '../../src/domain/notification/sms-encoding.js';
import { createCatalog } from '../support/catalog.js';
import { startTestHerald, type TestHerald } from '../support/test-herald.js';

let herald: TestHerald;
let auth: { authorization: string };
const TENANT = 'messages-a';
const START = '2030-11-05T17:00:00Z'; // 18:00 in Prague

beforeAll(async () => {
  // Fast enough that a campaign of this size is one batch per channel.
  herald = await startTestHerald({ env: { CAMPAIGN_SMS_PER_SECOND: '1000', CAMPAIGN_EMAIL_PER_SECOND: '1000' } });
  auth = await herald.keyFor(TENANT);
});
afterAll(async () => {
  await herald.stop();
});

const inject = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object, headers: Record<string, string> = {}) =>
  herald.app.inject({ method, url, headers: { ...auth, ...headers }, ...(payload !== undefined ? { payload } : {}) });

async function balance(): Promise<number> {
  return (await inject('GET', '/v1/credits')).json().balance;
}

async function setPrices(prices: Record<string, number>) {
  const current = (await inject('GET', '/v1/settings/notifications')).json();
  const changed = await inject('PUT', '/v1/settings/notifications', { ...current, prices });
  expect(changed.statusCode, changed.body).toBe(200);
}

interface Booked {
  reservationId: string;
  code: string;
  email?: string;
  phone?: string;
}

async function waitForCampaign(campaignId: string, status: string) {
  await vi.waitFor(
    async () => {
      await herald.settle();
      const view = (await inject('GET', `/v1/campaigns/${campaignId}`)).json();
      expect(view.status).toBe(status);
    },
    { timeout: 15_000, interval: 50 },
  );
  await herald.settle();
  return (await inject('GET', `/v1/campaigns/${campaignId}`)).json();
}

describe('manual and bulk messages', () => {
  const booked: Booked[] = [];
  let serviceId: string;

  beforeAll(async () => {
    await setPrices({ smsPerPart: 1, emailManual: 2, emailAutomatic: 0, emailBulk: 1 });
    expect((await inject('POST', '/v1/credits/top-ups', { topUpId: 't1', amount: 1000 })).statusCode).toBe(201);
    ({ serviceId } = await createCatalog(herald.app, auth, { prefix: 'msg', seatsPerSlot: 10, serviceName: 'Yoga' }));
    const customers = [
      { name: 'Ada One', email: 'one@example.com', phone: '+420777200001' },
      { name: 'Bea Two', email: 'two@example.com', phone: '+420777200002' },
      { name: 'Cyril Three', email: 'three@example.com' }, // no phone
      { name: 'Dana Four', email: 'four@example.com', phone: '+420777200004' }, // opts out of SMS below
    ];
    for (const customer of customers) {
      const response = await inject('POST', '/v1/reservations', {
        serviceId,
        start: START,
        customer: { ...customer, locale: 'en' },
      });
      expect(response.statusCode, response.body).toBe(201);
      booked.push({ ...response.json(), ...customer });
    }
    const dana = customerRefOf(herald.ids, TENANT, { email: 'four@example.com' })!;
    expect((await inject('PUT', `/v1/customers/${dana}/preferences`, { smsOptedOut: true })).statusCode).toBe(200);
    await herald.settle();
  });

  describe('POST /v1/messages', () => {
    it('sends an SMS staff wrote to the customer of a reservation named by its code, charged per part', async () => {
      const before = await balance();
      const sentBefore = herald.sms.sent.length;
      const response = await inject('POST', '/v1/messages', {
        channel: 'sms',
        to: { reservationId: booked[0]!.code.toLowerCase() },
        text: 'Hi {{customerName}}, {{serviceName}} on {{date}} at {{time}} moves to room 2. Ref {{reservationCode}}.',
        messageId: 'msg-1',
      });
      expect(response.statusCode, response.body).toBe(201);
      const body = response.json();
      expect(body).toMatchObject({
        channel: 'sms',
        kind: 'manual-message',
        status: 'requested',
        reservationId: booked[0]!.reservationId,
        maskedRecipient: expect.stringMatching(/\*/),
      });
      await herald.settle();
      const sms = herald.sms.sent.slice(sentBefore);
      expect(sms).toHaveLength(1);
      expect(sms[0]).toMatchObject({ to: '+420777200001' });
      expect(sms[0]!.body).toBe(`Hi Ada One, Yoga on Nov 5, 2030 at 6:00 PM moves to room 2. Ref ${booked[0]!.code}.`);
      expect(body.cost).toBe(analyzeSms(sms[0]!.body).parts);
      expect(await balance()).toBe(before - body.cost);

      // In the reservation's audit trail, as a manual message.
      const trail = (await inject('GET', `/v1/reservations/${booked[0]!.reservationId}/notifications`)).json().items;
      expect(trail.find((d: { kind: string }) => d.kind === 'manual-message')).toMatchObject({ status: 'sent' });

      // The same messageId again: the same message, nothing sent or charged again.
      const again = await inject('POST', '/v1/messages', {
        channel: 'sms',
        to: { reservationId: booked[0]!.code },
        text: 'Hi {{customerName}}, {{serviceName}} on {{date}} at {{time}} moves to room 2. Ref {{reservationCode}}.',
        messageId: 'msg-1',
      });
      expect(again.statusCode).toBe(200);
      expect(again.json().messageId).toBe(body.messageId);
      await herald.settle();
      expect(herald.sms.sent.length).toBe(sentBefore + 1);
      expect(await balance()).toBe(before - body.cost);
    });

    it('sends an email to a customer of the list, charged as a hand-sent email, with the footer', async () => {
      const before = await balance();
      const ref = customerRefOf(herald.ids, TENANT, { email: 'two@example.com' })!;
      const response = await inject(
        'POST',
        '/v1/messages',
        { channel: 'email', to: { customerRef: ref }, subject: 'For {{customerName}}', text: 'Your mat is here.' },
        { 'idempotency-key': 'email-1' },
      );
      expect(response.statusCode, response.body).toBe(201);
      await herald.settle();
      const email = herald.email.sent.find((m) => m.idempotencyKey === response.json().messageId)!;
      expect(email).toMatchObject({ to: 'two@example.com', subject: 'For Bea Two' });
      expect(email.text).toContain('Your mat is here.');
      expect(await balance()).toBe(before - 2);
      // A retry with the key is replayed; nothing is sent again.
      const retry = await inject(
        'POST',
        '/v1/messages',
        { channel: 'email', to: { customerRef: ref }, subject: 'For {{customerName}}', text: 'Your mat is here.' },
        { 'idempotency-key': 'email-1' },
      );
      expect(retry.statusCode).toBe(201);
      await herald.settle();
      expect(herald.email.sent.filter((m) => m.idempotencyKey === response.json().messageId)).toHaveLength(1);
    });

    it("attaches the reservation's PDF to an email about the reservation when asked", async () => {
      const response = await inject('POST', '/v1/messages', {
        channel: 'email',
        to: { reservationId: booked[1]!.reservationId },
        subject: 'Your booking',
        text: 'Here is your booking, {{customerName}}.',
        attachReservationPdf: true,
      });
      expect(response.statusCode, response.body).toBe(201);
      await herald.settle();
      const email = herald.email.sent.find((m) => m.idempotencyKey === response.json().messageId)!;
      expect(email.attachments?.map((a) => [a.filename, a.contentType])).toEqual([
        [`reservation-${booked[1]!.code}.pdf`, 'application/pdf'],
      ]);
      expect(Buffer.from(email.attachments![0]!.content).subarray(0, 5).toString()).toBe('%PDF-');
      const sms = await inject('POST', '/v1/messages', {
        channel: 'sms',
        to: { reservationId: booked[1]!.reservationId },
        text: 'x',
        attachReservationPdf: true,
      });
      expect(sms.statusCode).toBe(400);
    });

    it('refuses with problem+json and records nothing: opted out, no phone, no subject, unknown placeholder, unknown customer', async () => {
      const events = async () => (await herald.adapters.eventStore.readAll({ limit: 1_000_000 })).length;
      const before = await events();
      const cases: [object, number, string][] = [
        [{ channel: 'sms', to: { reservationId: booked[3]!.reservationId }, text: 'Hi' }, 409, 'opted-out'],
        [{ channel: 'sms', to: { reservationId: booked[2]!.reservationId }, text: 'Hi' }, 409, 'missing-contact'],
        [{ channel: 'email', to: { reservationId: booked[2]!.reservationId }, text: 'Hi' }, 400, 'validation-failed'],
        [
          { channel: 'sms', to: { reservationId: booked[1]!.reservationId }, text: 'Hi {{price}}' },
          400,
          'unknown-template-field',
        ],
        [{ channel: 'sms', to: { customerRef: 'nobody' }, text: 'Hi' }, 404, 'customer-not-found'],
        [
          { channel: 'sms', to: { reservationId: booked[1]!.reservationId }, text: 'Hi \u202E' },
          400,
          'validation-failed',
        ],
      ];
      for (const [payload, status, code] of cases) {
        const response = await inject('POST', '/v1/messages', payload);
        expect(response.statusCode, `${JSON.stringify(payload)}: ${response.body}`).toBe(status);
        expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(response.json().code ?? response.json().type).toContain(code);
      }
      expect(await events()).toBe(before);
    });
  });

  describe('bulk messages', () => {
    const audience = () => ({ type: 'reservations', filter: { serviceId, from: START, to: '2030-11-05T18:00:00Z' } });
    const message = {
      sms: { text: '{{serviceName}} on {{date}} is cancelled, {{customerName}}. Sorry! Ref {{reservationCode}}' },
      email: { subject: '{{serviceName}} cancelled', text: 'Dear {{customerName}},\n\nthe class is cancelled.' },
    };

    it('previews recipients, channel mix, parts, credit cost and who is left out and why, changing nothing', async () => {
      const before = (await herald.adapters.eventStore.readAll({ limit: 1_000_000 })).length;
      const response = await inject('POST', '/v1/messages/bulk/preview', { audience: audience(), message });
      expect(response.statusCode, response.body).toBe(200);
      const preview = response.json();
      expect(preview.matched).toBe(4);
      expect(preview.channels.sms).toMatchObject({ recipients: 2, excluded: 2, parts: 2, credits: 2 });
      expect(preview.channels.email).toMatchObject({ recipients: 4, excluded: 0, credits: 4 });
      expect(preview.credits).toMatchObject({ total: 6, sufficient: true });
      expect(preview.excluded.map((e: { name: string; reason: string }) => [e.name, e.reason]).sort()).toEqual([
        ['Cyril Three', 'missing-contact'],
        ['Dana Four', 'opted-out'],
      ]);
      expect(preview.sample.sms.text).toMatch(
        /^Yoga on Nov 5, 2030 is cancelled, (Ada One|Bea Two)\. Sorry! Ref [A-Z0-9]{6}$/,
      );
      expect((await herald.adapters.eventStore.readAll({ limit: 1_000_000 })).length).toBe(before);
    });

    it('sends a campaign: one delivery per recipient and channel, opted-out and unreachable skipped with the reason', async () => {
      const before = await balance();
      const smsBefore = herald.sms.sent.length;
      const emailBefore = herald.email.sent.length;
      const created = await inject('POST', '/v1/campaigns', {
        campaignId: 'class-cancelled',
        name: 'Yoga cancelled',
        audience: audience(),
        message,
      });
      expect(created.statusCode, created.body).toBe(201);
      expect(created.headers.location).toBe('/v1/campaigns/class-cancelled');
      expect(created.json()).toMatchObject({ status: 'running', recipientCount: 4, channels: ['email', 'sms'] });

      const done = await waitForCampaign('class-cancelled', 'completed');
      expect(done.progress.sms).toMatchObject({
        recipients: 4,
        processed: 4,
        requested: 2,
        skipped: 2,
        throttlePerSecond: 1000,
      });
      expect(done.progress.email).toMatchObject({ processed: 4, requested: 4, skipped: 0 });
      expect(done.progress.sms.deliveries).toEqual({ sent: 2, skipped: 2 });
      expect(done.progress.email.deliveries).toEqual({ sent: 4 });

      const sms = herald.sms.sent.slice(smsBefore);
      expect(sms.map((m) => m.to).sort()).toEqual(['+420777200001', '+420777200002']);
      expect(
        herald.email.sent
          .slice(emailBefore)
          .map((m) => m.to)
          .sort(),
      ).toEqual(['four@example.com', 'one@example.com', 'three@example.com', 'two@example.com']);
      expect(await balance()).toBe(before - 6);

      const deliveries = (await inject('GET', '/v1/deliveries?campaignId=class-cancelled&limit=50')).json().items;
      expect(deliveries).toHaveLength(8);
      expect(
        deliveries
          .filter((d: { status: string }) => d.status === 'skipped')
          .map((d: { skipReason: string }) => d.skipReason)
          .sort(),
      ).toEqual(['missing-contact', 'opted-out']);
      for (const d of deliveries) expect(d).toMatchObject({ kind: 'bulk-message', campaignId: 'class-cancelled' });

      // Sending it again (same id, same body) sends nothing.
      const again = await inject('POST', '/v1/campaigns', {
        campaignId: 'class-cancelled',
        name: 'Yoga cancelled',
        audience: audience(),
        message,
      });
      expect(again.statusCode).toBe(200);
      await herald.settle();
      expect(herald.sms.sent.length).toBe(smsBefore + 2);
      // Another campaign under the same id is a conflict.
      const clash = await inject('POST', '/v1/campaigns', {
        campaignId: 'class-cancelled',
        name: 'Other',
        audience: audience(),
        message,
      });
      expect(clash.statusCode).toBe(409);
      // A finished campaign cannot be cancelled.
      expect((await inject('POST', '/v1/campaigns/class-cancelled/cancel', {})).statusCode).toBe(409);
      expect(
        (await inject('GET', '/v1/campaigns')).json().items.map((c: { campaignId: string }) => c.campaignId),
      ).toContain('class-cancelled');
    });

    it('is refused when the credits do not cover it, recording nothing', async () => {
      await setPrices({ smsPerPart: 1000, emailManual: 2, emailAutomatic: 0 });
      try {
        const response = await inject('POST', '/v1/campaigns', {
          campaignId: 'too-dear',
          name: 'x',
          audience: audience(),
          message,
        });
        expect(response.statusCode).toBe(409);
        expect(response.json().code).toBe('insufficient-credits');
        expect((await herald.adapters.eventStore.readStream(`campaign-${TENANT}+too-dear`)).revision).toBe('no_stream');
      } finally {
        await setPrices({ smsPerPart: 1, emailManual: 2, emailAutomatic: 0, emailBulk: 1 });
      }
    });

    it('a campaign of another tenant is 404', async () => {
      const other = await herald.keyFor('messages-b');
      const response = await herald.app.inject({ method: 'GET', url: '/v1/campaigns/class-cancelled', headers: other });
      expect(response.statusCode).toBe(404);
    });
  });
});
