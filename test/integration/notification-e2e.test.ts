import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Herald } from '../../src/interfaces/herald.js';
import {
  AUTH,
  createHeraldOnServers,
  reservationRequest,
  TWILIO,
  type ReadModelBackend,
  type ReservationRequest,
} from '../support/herald-harness.js';
import { mongoUnavailableReason, mongoUrlForTests, uniqueDatabaseName } from '../support/mongo.js';
import { silentLogger } from '../support/silent-logger.js';
import { startSmtpTestServer, type SmtpTestServer } from '../support/smtp-test-server.js';
import { countSegments, startTwilioStandIn, type TwilioStandIn } from '../support/twilio-stand-in.js';

/**
 * The thin slice end to end against real servers: POST /v1/reservations → ReservationConfirmed → planner →
 * dispatcher → nodemailer to a real SMTP server and the twilio SDK to the OpenAPI-checked Twilio stand-in →
 * delivery events → audit trail → GET /v1/reservations/{id}/notifications and the analytics.
 * Breaks when: a message is not sent or sent twice, carries the UTC time instead of the location's, misses the
 * location or reservation id, the provider ids in the audit trail are not the servers' ids, SMS encoding or parts
 * differ from what the carrier (stand-in) counts, or the invitation is missing.
 */

interface Delivery {
  notificationId: string;
  channel: 'email' | 'sms';
  status: string;
  providerMessageId: string | null;
  smsEncoding: string | null;
  smsParts: number | null;
  summary: string | null;
  history: { status: string }[];
}

let smtp: SmtpTestServer;
let twilio: TwilioStandIn;
beforeAll(async () => {
  smtp = await startSmtpTestServer();
  twilio = await startTwilioStandIn({ accountSid: TWILIO.accountSid, authToken: TWILIO.authToken });
});
afterAll(async () => {
  await smtp?.close();
  await twilio?.close();
});

function endToEndSuite(name: string, backend: () => ReadModelBackend): void {
  describe(`notifications end to end — read models on ${name}, SMTP server, Twilio stand-in`, () => {
    let herald: Herald;
    let logger: ReturnType<typeof silentLogger>;

    beforeEach(async () => {
      smtp.reset();
      twilio.reset();
      logger = silentLogger();
      herald = await createHeraldOnServers({ readModels: backend(), smtpUrl: smtp.url, twilioUrl: twilio.url, logger });
      await herald.start();
    });
    afterEach(async () => {
      await herald?.stop();
      expect(twilio.specViolations).toEqual([]);
      expect(logger.errors).toEqual([]);
    });

    const confirm = async (body: ReservationRequest) => {
      const response = await herald.app.inject({
        method: 'POST',
        url: '/v1/reservations',
        headers: AUTH,
        payload: body,
      });
      expect(response.statusCode, response.body).toBe(201);
      await herald.settle();
      return response.json<{ reservationId: string }>().reservationId;
    };
    const codeOf = async (reservationId: string) =>
      (await herald.app.inject({ url: `/v1/reservations/${reservationId}`, headers: AUTH })).json<{ code: string }>()
        .code;
    const notificationsOf = async (reservationId: string) => {
      const response = await herald.app.inject({
        url: `/v1/reservations/${reservationId}/notifications`,
        headers: AUTH,
      });
      expect(response.statusCode, response.body).toBe(200);
      return response.json<{ items: Delivery[] }>().items;
    };
    const byChannel = (items: Delivery[], channel: 'email' | 'sms') => {
      const found = items.filter((d) => d.channel === channel);
      expect(found).toHaveLength(1);
      return found[0]!;
    };

    it('confirms by email and SMS with the local time, the location and the reservation code; the audit trail has the providers ids', async () => {
      // 18:30 UTC is 2:30 PM in New York (EDT since 10 March 2030).
      const reservationId = await confirm(reservationRequest({ reservationId: 'e2e-slice-0001' }));
      const code = await codeOf(reservationId);

      const [email] = await smtp.waitForMessages(1);
      const [sms] = await twilio.waitForMessages(1);
      expect(email!.envelope.rcptTo).toEqual(['ada@example.test']);
      expect(email!.subject).toContain('Dinner for two');
      for (const text of [email!.text ?? '', email!.html ?? '', sms!.resource.body]) {
        // "2:30 PM EDT" in the SMS, "2:30 – 4:30 PM EDT" in the email.
        expect(text).toMatch(/\b2:30\b[^\n]*PM EDT/);
        expect(text).not.toMatch(/\b6:30\b/);
        expect(text).toContain('Harbour Bistro');
        expect(text).toContain(code);
      }
      expect(sms!.resource.to).toBe('+14155550101');
      expect(sms!.resource.from).toBe(TWILIO.from);

      // The confirmation carries a calendar invitation the customer's calendar can add.
      const invitation = email!.attachments.find((a) => a.contentType.startsWith('text/calendar'));
      expect(invitation?.method).toBe('REQUEST');
      const ics = invitation!.content.toString('utf8');
      expect(ics).toContain('METHOD:REQUEST');
      expect(ics).toContain('BEGIN:VEVENT');
      expect(ics).toMatch(/DTSTART[^:\r\n]*:20300314T183000Z/);
      expect(ics).toMatch(/SEQUENCE:0/);

      const items = await notificationsOf(reservationId);
      expect(items).toHaveLength(2);
      const emailDelivery = byChannel(items, 'email');
      const smsDelivery = byChannel(items, 'sms');
      expect(emailDelivery.status).toBe('sent');
      expect(smsDelivery.status).toBe('sent');
      expect(emailDelivery.providerMessageId).toBe(email!.messageId);
      expect(smsDelivery.providerMessageId).toBe(sms!.resource.sid);
      expect(emailDelivery.history.map((h) => h.status)).toEqual(['requested', 'sending', 'sent']);
      expect(smsDelivery.history.map((h) => h.status)).toEqual(['requested', 'sending', 'sent']);

      // Nothing more arrives once the system has settled.
      expect(smtp.messages).toHaveLength(1);
      expect(twilio.messages).toHaveLength(1);
    });

    it('sends a Czech SMS with diacritics as UCS-2, in the parts the carrier counts, and records them', async () => {
      const reservationId = await confirm(
        reservationRequest({
          reservationId: 'e2e-cs-0001',
          customer: { name: 'Jiří Novák', email: 'jiri@example.test', phone: '+420777123456', locale: 'cs' },
          // Long enough that even the compact wordings of the confirmation take two parts.
          serviceName: 'Degustační večeře pro dva s párováním vín a dezertem',
          location: { name: 'Kavárna Slavia', address: 'Smetanovo nábřeží 2, Praha', timeZone: 'Europe/Prague' },
        }),
      );
      const [sms] = await twilio.waitForMessages(1);
      const [email] = await smtp.waitForMessages(1);
      const body = sms!.resource.body;
      expect(body).toContain('potvrzena');
      expect(body).toContain('Degustační večeře pro dva');
      expect(body).toContain('19:30'); // 18:30 UTC in Prague (CET in March 2030)
      expect(email!.subject).toContain('Rezervace potvrzena');

      // UCS-2: 70 UTF-16 units in one part, 67 per part beyond that.
      const expectedParts = body.length <= 70 ? 1 : Math.ceil(body.length / 67);
      expect(expectedParts).toBeGreaterThan(1);
      expect(Number(sms!.resource.num_segments)).toBe(expectedParts);
      const delivery = byChannel(await notificationsOf(reservationId), 'sms');
      expect(delivery).toMatchObject({ status: 'sent', smsEncoding: 'UCS-2', smsParts: expectedParts });
    });

    it('counts the euro sign as two GSM-7 septets: a text of at most 160 characters takes two parts', async () => {
      const reservationId = await confirm(
        reservationRequest({
          reservationId: 'e2e-gsm-euro-0001',
          // So many euro signs that even the compact wordings of the confirmation take more than 160 septets.
          serviceName: `Tasting menu ${'€'.repeat(60)}`,
        }),
      );
      const [sms] = await twilio.waitForMessages(1);
      const body = sms!.resource.body;
      const characters = [...body].length;
      const septets = [...body].reduce((n, c) => n + ('€[]{}|^~\\\f'.includes(c) ? 2 : 1), 0);
      // The case that tells a correct count from a naive one: fits 160 as characters, not as septets.
      expect(characters).toBeLessThanOrEqual(160);
      expect(septets).toBeGreaterThan(160);
      expect(countSegments(body)).toBe(2);
      expect(sms!.resource.num_segments).toBe('2');
      const delivery = byChannel(await notificationsOf(reservationId), 'sms');
      expect(delivery).toMatchObject({ status: 'sent', smsEncoding: 'GSM-7', smsParts: 2 });
    });

    it('reports the deliveries in the notification analytics', async () => {
      const before = new Date(Date.now() - 60_000).toISOString();
      await confirm(reservationRequest({ reservationId: 'e2e-analytics-1' }));
      await confirm(
        reservationRequest({
          reservationId: 'e2e-analytics-2',
          customer: { name: 'No Phone', email: 'nophone@example.test', locale: 'en' },
        }),
      );
      await smtp.waitForMessages(2);
      await twilio.waitForMessages(1);
      const after = new Date(Date.now() + 60_000).toISOString();
      const response = await herald.app.inject({
        url: `/v1/analytics/notifications?from=${before}&to=${after}`,
        headers: AUTH,
      });
      expect(response.statusCode, response.body).toBe(200);
      const analytics = response.json();
      expect(analytics).toMatchObject({
        requested: 3,
        accepted: 3,
        succeeded: 3,
        skipped: 1,
        deliveryRatePercent: 100,
        skippedByReason: { 'missing-contact': 1 },
        byChannel: {
          email: { requested: 2, successPercent: 100 },
          sms: { requested: 1, successPercent: 100, skipped: 1 },
        },
        byKind: { 'reservation-confirmed': { requested: 3, successPercent: 100 } },
      });
      expect(analytics.timeToProviderAccepted.count).toBe(3);
      expect(analytics.timeToProviderAccepted.p95Ms).toBeGreaterThanOrEqual(analytics.timeToProviderAccepted.averageMs);

      const empty = await herald.app.inject({
        url: `/v1/analytics/notifications?from=${after}&to=${before}`,
        headers: AUTH,
      });
      expect(empty.statusCode).toBe(400);
      expect(empty.headers['content-type']).toContain('application/problem+json');

      // Another tenant, created over the API by the operator (the bootstrap key), sees none of it; an integration
      // key may not read analytics at all.
      const tenant = await herald.app.inject({
        method: 'POST',
        url: '/v1/tenants',
        headers: AUTH,
        payload: { tenantId: 'other-tenant', name: 'Other', sender: { name: 'Other', address: 'no-reply@other.test' } },
      });
      expect(tenant.statusCode, tenant.body).toBe(201);
      const other = await herald.app.inject({
        method: 'POST',
        url: '/v1/tenants/other-tenant/api-keys',
        headers: AUTH,
        payload: { name: 'other', role: 'staff' },
      });
      expect(other.statusCode, other.body).toBe(201);
      const otherView = await herald.app.inject({
        url: `/v1/analytics/notifications?from=${before}&to=${after}`,
        headers: { authorization: `Bearer ${other.json().secret}` },
      });
      expect(otherView.statusCode).toBe(200);
      expect(otherView.json()).toMatchObject({ total: 0, requested: 0, deliveryRatePercent: null });
      const integration = await herald.app.inject({
        method: 'POST',
        url: '/v1/api-keys',
        headers: AUTH,
        payload: { name: 'pos', role: 'integration' },
      });
      expect(integration.statusCode, integration.body).toBe(201);
      const forbidden = await herald.app.inject({
        url: `/v1/analytics/notifications?from=${before}&to=${after}`,
        headers: { authorization: `Bearer ${integration.json().secret}` },
      });
      expect(forbidden.statusCode).toBe(403);
    });
  });
}

endToEndSuite('SQLite', () => ({ kind: 'sqlite' }));

const mongoUrl = mongoUrlForTests();
if (mongoUrl !== undefined) {
  endToEndSuite('MongoDB (wire server)', () => ({
    kind: 'mongodb',
    url: mongoUrl,
    database: uniqueDatabaseName(import.meta.url),
  }));
} else {
  describe.skip(mongoUnavailableReason(), () => {
    it('runs the end-to-end suite on MongoDB read models', () => undefined);
  });
}
