import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Herald } from '../../src/interfaces/herald.js';
import {
  AUTH,
  createHeraldOnServers,
  reservationRequest,
  TWILIO,
  type ReadModelBackend,
} from '../support/herald-harness.js';
import { mongoUnavailableReason, mongoUrlForTests, uniqueDatabaseName } from '../support/mongo.js';
import { silentLogger } from '../support/silent-logger.js';
import { startSmtpTestServer, type SmtpTestServer } from '../support/smtp-test-server.js';
import { startTwilioStandIn, type TwilioStandIn } from '../support/twilio-stand-in.js';

/**
 * The customers list, a bulk preview and a campaign on each read-model store (the embedded SQLite one and MongoDB),
 * to the real SMTP server and the Twilio stand-in: the queries the customers and campaigns read models answer
 * (search tokens, tags, ranges, sorting with a cursor; campaign deliveries by status) work on both.
 * Breaks when: a query of these read models uses something outside the portable subset of the read-model port.
 */

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

function suite(name: string, backend: () => ReadModelBackend): void {
  describe(`customers and campaigns — read models on ${name}`, () => {
    let herald: Herald;
    beforeEach(async () => {
      smtp.reset();
      twilio.reset();
      herald = await createHeraldOnServers({
        readModels: backend(),
        smtpUrl: smtp.url,
        twilioUrl: twilio.url,
        logger: silentLogger(),
      });
      await herald.start();
    });
    afterEach(async () => {
      await herald?.stop();
    });

    const call = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) =>
      herald.app.inject({ method, url, headers: AUTH, ...(payload !== undefined ? { payload } : {}) });

    it('finds customers by name, phone ending and tag, pages them, and sends them a campaign', async () => {
      const people = [
        { id: 'c-1', name: 'Zoë Ångström', email: 'zoe@example.test', phone: '+14155550111', locale: 'en' },
        { id: 'c-2', name: 'Adam Brown', email: 'adam@example.test', phone: '+14155550122', locale: 'en' },
        { id: 'c-3', name: 'Eva Brown', email: 'eva@example.test', locale: 'en' },
      ];
      for (const [i, customer] of people.entries()) {
        const response = await call(
          'POST',
          '/v1/reservations',
          reservationRequest({ reservationId: `rm-${i}`, customer }),
        );
        expect(response.statusCode, response.body).toBe(201);
      }
      expect((await call('PUT', '/v1/customers/c-2/tags', { tags: ['VIP'] })).statusCode).toBe(200);
      await herald.settle();
      const names = async (query: string) =>
        (await call('GET', `/v1/customers?${query}`)).json<{ items: { name: string }[] }>().items.map((c) => c.name);
      expect(await names('query=brown')).toEqual(['Adam Brown', 'Eva Brown']);
      expect(await names('query=angstrom%20zo')).toEqual(['Zoë Ångström']);
      expect(await names('query=0122')).toEqual(['Adam Brown']);
      expect(await names('tag=vip')).toEqual(['Adam Brown']);
      expect(await names('minReservations=1&lastVisitAfter=2030-01-01T00:00:00Z')).toHaveLength(3);
      const first = (await call('GET', '/v1/customers?limit=2')).json<{ nextCursor: string }>();
      expect(await names(`limit=2&cursor=${first.nextCursor}`)).toEqual(['Zoë Ångström']);

      const before = { sms: twilio.messages.length, email: smtp.messages.length };
      const audience = { type: 'customers', filter: { query: 'brown' } };
      const message = {
        sms: { text: 'News for {{customerName}}' },
        email: { subject: 'News', text: 'Hello {{customerName}}' },
      };
      const preview = (await call('POST', '/v1/messages/bulk/preview', { audience, message })).json();
      expect(preview.channels).toMatchObject({ sms: { recipients: 1, excluded: 1 }, email: { recipients: 2 } });
      const created = await call('POST', '/v1/campaigns', { campaignId: 'news', name: 'News', audience, message });
      expect(created.statusCode, created.body).toBe(201);
      await twilio.waitForMessages(before.sms + 1, 15_000);
      await smtp.waitForMessages(before.email + 2, 15_000);
      await herald.settle();
      let view = (await call('GET', '/v1/campaigns/news')).json();
      for (let i = 0; i < 100 && view.status !== 'completed'; i++) {
        await herald.settle();
        view = (await call('GET', '/v1/campaigns/news')).json();
      }
      expect(view.status).toBe('completed');
      expect(view.progress.sms.deliveries).toEqual({ sent: 1, skipped: 1 });
      expect(view.progress.email.deliveries).toEqual({ sent: 2 });
      expect(twilio.messages.slice(before.sms).map((m) => m.resource.body)).toEqual(['News for Adam Brown']);
      expect(
        (await call('GET', '/v1/campaigns')).json().items.map((c: { campaignId: string }) => c.campaignId),
      ).toEqual(['news']);
    });
  });
}

suite('SQLite', () => ({ kind: 'sqlite' }));

const mongoUrl = mongoUrlForTests();
if (mongoUrl !== undefined) {
  suite('MongoDB (wire server)', () => ({
    kind: 'mongodb',
    url: mongoUrl,
    database: uniqueDatabaseName(import.meta.url),
  }));
} else {
  describe.skip(mongoUnavailableReason(), () => {
    it('customers and campaigns on MongoDB', () => undefined);
  });
}
