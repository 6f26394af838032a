import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DeliveryError } from '../../src/application/ports/email-sender.port.js';
import type { SmsMessage, SmsSender } from '../../src/application/ports/sms-sender.port.js';
import { createOutboxSmsSender, type OutboxSms } from '../../src/infrastructure/sms/outbox-sms-sender.js';
import { createTwilioSmsSender } from '../../src/infrastructure/sms/twilio-sms-sender.js';
import { isValidTwilioSignature } from '../../src/infrastructure/sms/twilio-signature.js';
import {
  checkAgainstSchema,
  countSegments,
  messageResourceSchema,
  startTwilioStandIn,
  type TwilioStandIn,
} from '../support/twilio-stand-in.js';

const ACCOUNT_SID = 'AC' + '0123456789abcdef'.repeat(2);
const AUTH_TOKEN = 'test-auth-token-0123456789abcdef';
const FROM = '+15005550006';
const ADA = '+14155550101';
const BOB = '+14155550102';
const clock = { now: () => new Date() };

const reminder = (overrides: Partial<SmsMessage> = {}): SmsMessage => ({
  idempotencyKey: 'notification-9a1b:ReminderDue:sms',
  to: ADA,
  body: 'Reminder: your table for 4 is tomorrow at 19:00.',
  ...overrides,
});

/** What the recipient's phone (or the outbox) shows. */
interface Delivered {
  readonly to: string;
  readonly body: string;
}
interface Target {
  readonly sender: SmsSender;
  delivered(count: number): Promise<Delivered[]>;
}
interface Harness {
  readonly name: string;
  setUp(): Promise<Target>;
  tearDown(): Promise<void>;
}

let twilio: TwilioStandIn;
beforeAll(async () => {
  twilio = await startTwilioStandIn({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
});
afterAll(async () => {
  await twilio?.close();
});

const twilioSender = (overrides: { authToken?: string; timeoutMs?: number; from?: string } = {}) =>
  createTwilioSmsSender({
    accountSid: ACCOUNT_SID,
    authToken: overrides.authToken ?? AUTH_TOKEN,
    from: overrides.from ?? FROM,
    apiUrl: twilio.url,
    timeoutMs: overrides.timeoutMs ?? 2_000,
    clock,
  });

const twilioHarness = (): Harness => {
  let sender: SmsSender | undefined;
  return {
    name: 'Twilio (SDK -> OpenAPI-checked stand-in)',
    async setUp() {
      twilio.reset();
      sender = twilioSender();
      return {
        sender,
        delivered: async (n) =>
          (await twilio.waitForMessages(n)).map((m) => ({ to: m.resource.to, body: m.resource.body })),
      };
    },
    async tearDown() {
      await sender?.close();
      expect(twilio.specViolations).toEqual([]);
    },
  };
};

const outboxHarness = (): Harness => {
  let dir = '';
  return {
    name: 'outbox (JSON files)',
    async setUp() {
      dir = await mkdtemp(join(tmpdir(), 'herald-outbox-'));
      return {
        sender: createOutboxSmsSender({ dir, clock }),
        async delivered() {
          const files = (await readdir(join(dir, 'sms'))).sort();
          return Promise.all(
            files.map(async (f) => JSON.parse(await readFile(join(dir, 'sms', f), 'utf8')) as OutboxSms),
          );
        },
      };
    },
    async tearDown() {
      await rm(dir, { recursive: true, force: true });
    },
  };
};

describe.each([twilioHarness(), outboxHarness()])('SmsSender contract: $name', (harness) => {
  let target: Target;
  beforeEach(async () => {
    target = await harness.setUp();
  });
  afterEach(() => harness.tearDown());

  it('delivers the body to the number, and says when and under which id it was accepted', async () => {
    const before = Date.now();
    const acceptance = await target.sender.send(reminder());

    const [sms] = await target.delivered(1);
    expect(sms).toMatchObject({ to: ADA, body: 'Reminder: your table for 4 is tomorrow at 19:00.' });
    expect(acceptance.providerMessageId).not.toBe('');
    expect(Date.parse(acceptance.acceptedAt)).toBeGreaterThanOrEqual(before);
  });

  it('keeps a unicode body intact', async () => {
    const body = 'Réservation confirmée ✅ — 予約 🍷 «merci»';
    await target.sender.send(reminder({ body }));

    const [sms] = await target.delivered(1);
    expect(sms?.body).toBe(body);
  });

  it('finds a sent message by recipient and time, and only that one', async () => {
    const since = new Date(Date.now() - 1_000);
    const { providerMessageId } = await target.sender.send(reminder());
    await target.sender.send(reminder({ idempotencyKey: 'other', to: BOB, body: 'For Bob' }));

    const found = await target.sender.findSent(ADA, since);
    expect(found).toEqual([
      {
        providerMessageId,
        to: ADA,
        body: 'Reminder: your table for 4 is tomorrow at 19:00.',
        acceptedAt: expect.any(String),
      },
    ]);
    expect(await target.sender.findSent(ADA, new Date(Date.now() + 5_000))).toEqual([]);
  });
});

describe('Twilio adapter', () => {
  let sender: SmsSender;
  beforeEach(() => {
    twilio.reset();
    sender = twilioSender();
  });
  afterEach(async () => {
    await twilio.setDown(false);
    await sender.close();
    expect(twilio.specViolations).toEqual([]);
  });

  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => expect.fail('expected the call to fail'),
      (err: unknown) => {
        expect(err).toBeInstanceOf(DeliveryError);
        return err as DeliveryError;
      },
    );

  it('returns the Message SID and passes the status callback URL on', async () => {
    const acceptance = await sender.send(reminder({ statusCallbackUrl: 'https://herald.test/webhooks/twilio/status' }));

    expect(acceptance.providerMessageId).toMatch(/^SM[0-9a-f]{32}$/);
    const [message] = await twilio.waitForMessages(1);
    expect(message).toMatchObject({
      resource: { sid: acceptance.providerMessageId, from: FROM, to: ADA, num_segments: '1', price: null },
      statusCallback: 'https://herald.test/webhooks/twilio/status',
    });
  });

  it.each([
    ['not E.164', '0415 555 0101', '21211'],
    ['missing the +', '14155550101', '21211'],
  ])('refuses a number %s as permanent with Twilio code 21211', async (_case, to, code) => {
    const err = await failure(sender.send(reminder({ to })));
    expect(err).toMatchObject({ transient: false, providerCode: code });
    expect(twilio.messages).toHaveLength(0);
  });

  it.each([
    [21610, 'Attempt to send to unsubscribed recipient'],
    [21614, "'To' number is not a valid mobile number"],
  ])('maps Twilio error %i to a permanent failure with that code', async (code, message) => {
    twilio.rejectTo(BOB, code, message);

    const err = await failure(sender.send(reminder({ to: BOB })));
    expect(err).toMatchObject({ transient: false, providerCode: String(code) });
  });

  it.each([
    [500, '20500'],
    [503, '20503'],
    [429, '20429'],
  ] as const)('maps HTTP %i to a transient failure', async (status, code) => {
    twilio.failNext(1, status);

    const err = await failure(sender.send(reminder()));
    expect(err).toMatchObject({ transient: true, providerCode: code });
    await sender.send(reminder()); // the next attempt goes through
    await twilio.waitForMessages(1);
  });

  it('maps a refused connection to a transient failure, and sends again once Twilio is back', async () => {
    await twilio.setDown(true);

    const err = await failure(sender.send(reminder()));
    expect(err.transient).toBe(true);

    await twilio.setDown(false);
    await sender.send(reminder());
    await twilio.waitForMessages(1);
  });

  // Decision: wrong credentials are permanent. Every attempt would fail the same way until an operator fixes the
  // configuration; retrying burns the attempt budget and hides the cause. providerCode 20003 marks it for alerts.
  it('maps rejected credentials (401, 20003) to a permanent failure', async () => {
    const wrong = twilioSender({ authToken: 'not-the-token' });
    try {
      const err = await failure(wrong.send(reminder()));
      expect(err).toMatchObject({ transient: false, providerCode: '20003' });
    } finally {
      await wrong.close();
    }
  });

  it('maps a failing lookup in findSent to a transient failure', async () => {
    twilio.failNext(1, 500);

    const err = await failure(sender.findSent(ADA, new Date()));
    expect(err.transient).toBe(true);
  });

  it('follows next-page links through the stand-in URL when listing', async () => {
    const since = new Date(Date.now() - 1_000);
    for (let i = 0; i < 55; i += 1) await sender.send(reminder({ idempotencyKey: `k${i}`, body: `#${i}` }));

    const found = await sender.findSent(ADA, since);
    expect(found).toHaveLength(55); // the default page holds 50
  });

  // Twilio sets date_sent only once a message leaves its queue. The message an interrupted attempt left behind is
  // typically still queued, so findSent must see it by its creation date, or the dispatcher would send it again.
  it('sends through a Messaging Service when TWILIO_FROM is its SID, and finds only its messages', async () => {
    const service = 'MG' + 'abcdef0123456789'.repeat(2);
    const viaService = twilioSender({ from: service });
    try {
      const since = new Date(Date.now() - 1_000);
      const { providerMessageId } = await viaService.send(reminder());
      await sender.send(reminder({ body: 'From the number, not the service.' }));
      const [message] = await twilio.waitForMessages(2);
      expect(message!.resource).toMatchObject({ sid: providerMessageId, messaging_service_sid: service, from: '' });
      expect((await viaService.findSent(ADA, since)).map((m) => m.providerMessageId)).toEqual([providerMessageId]);
    } finally {
      await viaService.close();
    }
  });

  it('finds a message still held in Twilio’s queue', async () => {
    twilio.holdInQueue(true);
    const since = new Date(Date.now() - 1_000);
    const { providerMessageId } = await sender.send(reminder());

    expect((await sender.findSent(ADA, since)).map((m) => m.providerMessageId)).toEqual([providerMessageId]);
  });
});

describe('Twilio status callbacks and their signature', () => {
  let callbacks: Server;
  let callbackUrl: string;
  const received: { signature: string | undefined; params: Record<string, string> }[] = [];

  beforeAll(async () => {
    callbacks = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const params = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
        received.push({ signature: req.headers['x-twilio-signature'] as string | undefined, params });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => callbacks.listen(0, '127.0.0.1', r));
    callbackUrl = `http://127.0.0.1:${(callbacks.address() as AddressInfo).port}/webhooks/twilio/status?tenant=t1`;
  });
  afterAll(async () => {
    await new Promise((r) => callbacks.close(r));
  });
  beforeEach(() => {
    twilio.reset();
    received.length = 0;
  });

  it('accepts the callbacks Twilio signs, for sent and delivered', async () => {
    const sender = twilioSender();
    const { providerMessageId } = await sender.send(reminder({ statusCallbackUrl: callbackUrl }));
    await twilio.deliverStatus(providerMessageId, 'sent');
    await twilio.deliverStatus(providerMessageId, 'delivered');
    await sender.close();

    expect(received.map((r) => r.params['MessageStatus'])).toEqual(['sent', 'delivered']);
    for (const r of received) {
      expect(r.params['MessageSid']).toBe(providerMessageId);
      expect(isValidTwilioSignature(AUTH_TOKEN, r.signature, callbackUrl, r.params)).toBe(true);
    }
  });

  it('rejects a tampered, unsigned, mis-addressed or foreign-signed callback', async () => {
    const sender = twilioSender();
    const { providerMessageId } = await sender.send(reminder({ statusCallbackUrl: callbackUrl }));
    await twilio.deliverStatus(providerMessageId, 'delivered');
    await sender.close();
    const [{ signature, params }] = received as [(typeof received)[number]];

    expect(isValidTwilioSignature(AUTH_TOKEN, signature, callbackUrl, { ...params, MessageStatus: 'failed' })).toBe(
      false,
    );
    expect(isValidTwilioSignature(AUTH_TOKEN, undefined, callbackUrl, params)).toBe(false);
    expect(isValidTwilioSignature(AUTH_TOKEN, signature, callbackUrl.replace('t1', 't2'), params)).toBe(false);
    expect(isValidTwilioSignature('another-accounts-token', signature, callbackUrl, params)).toBe(false);
  });
});

describe('the Twilio stand-in itself', () => {
  const api = `/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`;
  const basic = 'Basic ' + Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64');
  const post = (form: Record<string, string>, init: { auth?: string; method?: string; path?: string } = {}) =>
    fetch(twilio.url + (init.path ?? api), {
      method: init.method ?? 'POST',
      headers: { Authorization: init.auth ?? basic, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
  const valid = { To: ADA, From: FROM, Body: 'hello' };

  beforeEach(() => twilio.reset());
  afterEach(() => {
    expect(twilio.messages).toHaveLength(0);
    expect(twilio.specViolations).toEqual([]);
  });

  it.each([
    ['a missing To', { From: FROM, Body: 'hello' }, 21604],
    ['an unknown parameter (a typo)', { ...valid, StatusCallBack: 'https://herald.test/cb' }, 20422],
    ['a value outside an enum', { ...valid, ContentRetention: 'forever' }, 20422],
    ['a malformed integer', { ...valid, ValidityPeriod: 'soon' }, 20422],
    ['a SID of the wrong shape', { To: ADA, MessagingServiceSid: 'MG123', Body: 'hello' }, 20422],
    ['a callback that is not a URL', { ...valid, StatusCallback: 'herald/cb' }, 20422],
  ])('refuses a request with %s, in Twilio’s error shape', async (_case, form, code) => {
    const response = await post(form);

    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      code,
      message: expect.any(String),
      more_info: `https://www.twilio.com/docs/errors/${code}`,
      status: 400,
    });
  });

  it('refuses bad credentials, unknown paths and undocumented methods', async () => {
    expect((await post(valid, { auth: 'Basic ' + Buffer.from(`${ACCOUNT_SID}:nope`).toString('base64') })).status).toBe(
      401,
    );
    expect((await post(valid, { path: `/2010-04-01/Accounts/${ACCOUNT_SID}/Telegrams.json` })).status).toBe(404);
    expect((await post(valid, { method: 'PUT' })).status).toBe(405);
  });

  it('catches a response that leaves out or misstates a documented property', () => {
    const resource = {
      account_sid: ACCOUNT_SID,
      api_version: '2010-04-01',
      body: 'hi',
      date_created: 'Thu, 24 Aug 2023 05:01:45 +0000',
      date_sent: null,
      date_updated: 'Thu, 24 Aug 2023 05:01:45 +0000',
      direction: 'outbound-api',
      error_code: null,
      error_message: null,
      from: FROM,
      messaging_service_sid: null,
      num_media: '0',
      num_segments: '1',
      price: null,
      price_unit: 'USD',
      sid: 'SM' + 'a'.repeat(32),
      status: 'queued',
      subresource_uris: {},
      to: ADA,
      uri: '/x.json',
    };
    expect(checkAgainstSchema(messageResourceSchema, resource)).toEqual([]);

    const { sid: _sid, ...withoutSid } = resource;
    expect(checkAgainstSchema(messageResourceSchema, withoutSid)).toEqual(['$.sid is missing']);
    expect(checkAgainstSchema(messageResourceSchema, { ...resource, status: 'teleported' })).toHaveLength(1);
    expect(
      checkAgainstSchema(messageResourceSchema, { ...resource, date_created: '2023-08-24T05:01:45Z' }),
    ).toHaveLength(1);
  });

  it('counts segments as carriers do', () => {
    expect(countSegments('a'.repeat(160))).toBe(1);
    expect(countSegments('a'.repeat(161))).toBe(2);
    expect(countSegments('€'.repeat(80))).toBe(1); // an extension character takes two septets
    expect(countSegments('€'.repeat(81))).toBe(2);
    expect(countSegments('é'.repeat(70))).toBe(1); // é is GSM-7
    expect(countSegments('ê'.repeat(70))).toBe(1); // ê is not: UCS-2, 70 per segment
    expect(countSegments('ê'.repeat(71))).toBe(2);
  });
});
