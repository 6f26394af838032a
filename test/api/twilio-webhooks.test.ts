import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerRefOf } from '../../src/application/notifications/notification-settings.js';
import type { RecordedEvent } from '../../src/application/ports/event-store.port.js';
import { startTestHerald, type TestHerald } from '../support/test-herald.js';
import { parseTwilioForm, WEBHOOK_LIMITS } from '../../src/interfaces/http/routes/twilio-webhooks.routes.js';
import { signTwilioRequest } from '../support/twilio-stand-in.js';

const PUBLIC_URL = 'https://herald.example.test';
const AUTH_TOKEN = 'twilio-test-auth-token';

let herald: TestHerald;

beforeAll(async () => {
  herald = await startTestHerald({
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

type Auth = { authorization: string };

async function allEvents(): Promise<RecordedEvent[]> {
  // Consumers append on their own after a request (the planner, the dispatcher): count once they have.
  await herald.settle();
  return herald.adapters.eventStore.readAll({ limit: 1_000_000 });
}

/** Posts a form the way Twilio does: signed over PUBLIC_URL + path (and query) and the fields. */
function post(
  path: string,
  params: Record<string, string>,
  options: { signature?: string | null; signedParams?: Record<string, string> } = {},
) {
  const signature =
    options.signature === undefined
      ? signTwilioRequest(AUTH_TOKEN, `${PUBLIC_URL}${path}`, options.signedParams ?? params)
      : options.signature;
  return herald.app.inject({
    method: 'POST',
    url: path,
    headers: {
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      ...(signature !== null ? { 'x-twilio-signature': signature } : {}),
    },
    payload: new URLSearchParams(params).toString(),
  });
}

function statusParams(sid: string, status: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    AccountSid: 'AC00000000000000000000000000000000',
    ApiVersion: '2010-04-01',
    From: '+15005550006',
    MessageSid: sid,
    MessageStatus: status,
    SmsSid: sid,
    SmsStatus: status,
    To: '+420777123456',
    ...extra,
  };
}

async function smsDelivery(auth: Auth, reservationId: string) {
  const response = await herald.app.inject({
    method: 'GET',
    url: `/v1/deliveries?reservationId=${reservationId}&channel=sms`,
    headers: auth,
  });
  return response.json().items[0] as {
    notificationId: string;
    status: string;
    skipReason: string | null;
    providerMessageId: string | null;
    lastError: string | null;
  };
}

async function streamOf(tenantId: string, notificationId: string): Promise<RecordedEvent[]> {
  return (await herald.adapters.eventStore.readStream(`notification-${tenantId}+${notificationId}`)).events;
}

describe('POST /v1/webhooks/twilio/status', () => {
  it('a validly signed "delivered" moves the delivery to delivered; a repeat and a late "sent" change nothing', async () => {
    const reservationId = await herald.reserve(herald.auth);
    const sms = await smsDelivery(herald.auth, reservationId);
    expect(sms.status).toBe('sent');
    const sid = sms.providerMessageId!;

    const delivered = await post('/v1/webhooks/twilio/status', statusParams(sid, 'delivered'));
    expect(delivered.statusCode).toBe(202);
    await herald.settle();
    expect((await smsDelivery(herald.auth, reservationId)).status).toBe('delivered');
    const after = await streamOf('default', sms.notificationId);
    expect(after.filter((e) => e.type === 'NotificationDelivered')).toHaveLength(1);
    expect(after.at(-1)!.metadata.actor).toBe('provider:twilio');

    const repeat = await post('/v1/webhooks/twilio/status', statusParams(sid, 'delivered'));
    expect(repeat.statusCode).toBe(202);
    const late = await post('/v1/webhooks/twilio/status', statusParams(sid, 'sent'));
    expect(late.statusCode).toBe(202);
    expect(await streamOf('default', sms.notificationId)).toHaveLength(after.length);

    const detail = await herald.app.inject({
      method: 'GET',
      url: `/v1/deliveries/${sms.notificationId}`,
      headers: herald.auth,
    });
    expect(detail.json().history.map((h: { status: string }) => h.status)).toEqual([
      'requested',
      'sending',
      'sent',
      'delivered',
    ]);
  });

  it('steps that are not facts (queued, sending) are acknowledged with 200 and record nothing', async () => {
    const reservationId = await herald.reserve(herald.auth);
    const sid = (await smsDelivery(herald.auth, reservationId)).providerMessageId!;
    const before = (await allEvents()).length;
    for (const status of ['queued', 'accepted', 'sending']) {
      expect((await post('/v1/webhooks/twilio/status', statusParams(sid, status))).statusCode).toBe(200);
    }
    expect((await allEvents()).length).toBe(before);
  });

  it('"undelivered" records the error code; state never moves back', async () => {
    const reservationId = await herald.reserve(herald.auth);
    const sms = await smsDelivery(herald.auth, reservationId);
    const response = await post(
      '/v1/webhooks/twilio/status',
      statusParams(sms.providerMessageId!, 'undelivered', { ErrorCode: '30003' }),
    );
    expect(response.statusCode).toBe(202);
    await herald.settle();
    expect(await smsDelivery(herald.auth, reservationId)).toMatchObject({
      status: 'undelivered',
      lastError: 'twilio 30003',
    });
    await post('/v1/webhooks/twilio/status', statusParams(sms.providerMessageId!, 'delivered'));
    await herald.settle();
    expect((await smsDelivery(herald.auth, reservationId)).status).toBe('undelivered');
  });

  it('a tampered, missing or foreign signature is 403 and records nothing', async () => {
    const reservationId = await herald.reserve(herald.auth);
    const sid = (await smsDelivery(herald.auth, reservationId)).providerMessageId!;
    const before = (await allEvents()).length;

    const tampered = await post('/v1/webhooks/twilio/status', statusParams(sid, 'failed'), {
      signedParams: statusParams(sid, 'delivered'),
    });
    expect(tampered.statusCode).toBe(403);
    expect(tampered.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(tampered.json().code).toBe('invalid-twilio-signature');

    expect(
      (await post('/v1/webhooks/twilio/status', statusParams(sid, 'failed'), { signature: null })).statusCode,
    ).toBe(403);
    const otherToken = signTwilioRequest(
      'another-token',
      `${PUBLIC_URL}/v1/webhooks/twilio/status`,
      statusParams(sid, 'failed'),
    );
    expect(
      (await post('/v1/webhooks/twilio/status', statusParams(sid, 'failed'), { signature: otherToken })).statusCode,
    ).toBe(403);
    // Signed for another URL (the query is part of what is signed).
    const otherUrl = signTwilioRequest(
      AUTH_TOKEN,
      `${PUBLIC_URL}/v1/webhooks/twilio/status?tenant=x`,
      statusParams(sid, 'failed'),
    );
    expect(
      (await post('/v1/webhooks/twilio/status', statusParams(sid, 'failed'), { signature: otherUrl })).statusCode,
    ).toBe(403);
    // JSON is not what Twilio sends, whatever its signature.
    const json = await herald.app.inject({
      method: 'POST',
      url: '/v1/webhooks/twilio/status',
      headers: { 'x-twilio-signature': otherToken },
      payload: statusParams(sid, 'failed'),
    });
    expect(json.statusCode).toBe(403);

    await herald.settle();
    expect((await allEvents()).length).toBe(before);
    expect((await smsDelivery(herald.auth, reservationId)).status).toBe('sent');
  });

  it('an unknown MessageSid is a 404 problem (Twilio retries later), nothing recorded', async () => {
    const before = (await allEvents()).length;
    const response = await post('/v1/webhooks/twilio/status', statusParams('SM' + 'f'.repeat(32), 'delivered'));
    expect(response.statusCode).toBe(404);
    expect(response.json().code).toBe('unknown-message');
    expect((await allEvents()).length).toBe(before);
  });

  it('a callback URL naming the delivery is recorded from its stream, without the read model', async () => {
    const reservationId = await herald.reserve(herald.auth);
    const sms = await smsDelivery(herald.auth, reservationId);
    const path = `/v1/webhooks/twilio/status?tenant=default&notification=${sms.notificationId}`;
    expect((await post(path, statusParams(sms.providerMessageId!, 'delivered'))).statusCode).toBe(202);
    expect((await streamOf('default', sms.notificationId)).at(-1)!.type).toBe('NotificationDelivered');
    const missing = `/v1/webhooks/twilio/status?tenant=default&notification=nope`;
    expect((await post(missing, statusParams(sms.providerMessageId!, 'delivered'))).statusCode).toBe(404);
  });
});

describe('POST /v1/webhooks/twilio/inbound', () => {
  const tenant = 'sms-keywords';
  const phone = '+420777888999';
  const customer = { name: 'Petr Svoboda', email: 'petr@example.com', phone, locale: 'cs' };
  const inbound = (body: string, sid: string) =>
    post(`/v1/webhooks/twilio/inbound?tenant=${tenant}`, {
      MessageSid: sid,
      AccountSid: 'AC00000000000000000000000000000000',
      From: phone,
      To: '+15005550006',
      Body: body,
    });

  it('STOP opts every customer with that number out: the next SMS is skipped with opted-out; START opts back in', async () => {
    const auth = await herald.keyFor(tenant);
    await herald.reserve(auth, { customer });

    const stop = await inbound('Stop', 'SMin0000000000000000000000000001');
    expect(stop.statusCode).toBe(200);
    expect(stop.headers['content-type']).toMatch(/^text\/xml/);
    expect(stop.body).toContain('<Response/>');
    const ref = customerRefOf(herald.ids, tenant, customer)!;
    const prefs = await herald.adapters.eventStore.readStream(`customer-${tenant}+${ref}`);
    expect(prefs.events.map((e) => e.type)).toEqual(['CustomerSmsOptedOut']);
    expect(prefs.events[0]!.data).toMatchObject({ source: 'keyword', keyword: 'STOP', phone });
    expect(
      (await herald.app.inject({ method: 'GET', url: `/v1/customers/${ref}/preferences`, headers: auth })).json()
        .smsOptedOut,
    ).toBe(true);

    const optedOut = await herald.reserve(auth, { customer });
    expect(await smsDelivery(auth, optedOut)).toMatchObject({ status: 'skipped', skipReason: 'opted-out' });
    const optedOutCode = await herald.codeOf(auth, optedOut);
    expect(herald.sms.sent.some((m) => m.body.includes(optedOutCode))).toBe(false);

    // Which messages were handled is kept with the events, not in the (rebuildable) read models.
    const handled = await herald.adapters.eventStore.readStream(
      `smsinbound-${tenant}+SMin0000000000000000000000000001`,
    );
    expect(handled.events.map((e) => [e.type, e.data.action])).toEqual([['InboundSmsKeywordHandled', 'opt-out']]);
    expect(await herald.adapters.readModels.find('twilio_inbound_messages', {})).toEqual([]);

    // Twilio retrying the same STOP changes nothing.
    const before = (await allEvents()).length;
    expect((await inbound('Stop', 'SMin0000000000000000000000000001')).statusCode).toBe(200);
    expect((await allEvents()).length).toBe(before);

    expect((await inbound('START', 'SMin0000000000000000000000000002')).statusCode).toBe(200);
    const back = await herald.reserve(auth, { customer });
    expect((await smsDelivery(auth, back)).status).toBe('sent');
    const backCode = await herald.codeOf(auth, back);
    expect(herald.sms.sent.some((m) => m.body.includes(backCode))).toBe(true);
  });

  it('a message that is not a keyword records nothing', async () => {
    const before = (await allEvents()).length;
    const response = await inbound('please stop the reminders', 'SMin0000000000000000000000000003');
    expect(response.statusCode).toBe(200);
    expect((await allEvents()).length).toBe(before);
  });

  it('a bad signature is 403, a URL without ?tenant= is 400, both record nothing', async () => {
    const before = (await allEvents()).length;
    const params = { MessageSid: 'SMin0000000000000000000000000004', From: phone, Body: 'STOP' };
    const forged = await post(`/v1/webhooks/twilio/inbound?tenant=${tenant}`, params, {
      signature: 'bm90IGEgc2lnbmF0dXJl',
    });
    expect(forged.statusCode).toBe(403);
    const noTenant = await post('/v1/webhooks/twilio/inbound', params);
    expect(noTenant.statusCode).toBe(400);
    expect((await allEvents()).length).toBe(before);
  });
});

describe('bounded work on the public webhook routes', () => {
  const repeated = (count: number) => Array.from({ length: count }, () => 'To=%2B420777123456').join('&');

  it('parses a form in one pass, one insertion per field, and stops after maxFields', () => {
    let insertions = 0;
    const parsed = parseTwilioForm('a=1&b=2&a=3&c=x+y%2Bz&&d', { maxFields: 10 }, () => insertions++);
    expect(parsed).toEqual({ a: ['1', '3'], b: '2', c: 'x y+z', d: '' });
    expect(insertions).toBe(5);

    // 50 000 repeated fields (~1 MB): quadratic copying would do ~1.25e9 element copies; this stops at the cap.
    insertions = 0;
    expect(() => parseTwilioForm(repeated(50_000), WEBHOOK_LIMITS, () => insertions++)).toThrow(/more than 256 fields/);
    expect(insertions).toBe(WEBHOOK_LIMITS.maxFields);
    expect(() => parseTwilioForm('a=%E0%A4%A')).toThrow(/percent-encoding/);
  });

  it('refuses an unsigned request before its body is parsed: a malformed body still gets 403, not 400', async () => {
    const before = (await allEvents()).length;
    for (const url of ['/v1/webhooks/twilio/status', '/v1/webhooks/twilio/inbound?tenant=x']) {
      const response = await herald.app.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: `${repeated(3_000)}&bad=%zz`,
      });
      expect(response.statusCode).toBe(403);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.json().code).toBe('invalid-twilio-signature');
    }
    expect((await allEvents()).length).toBe(before);
  });

  it('a body over 64 KiB is 413 and one with too many fields is 400, signed or not, recording nothing', async () => {
    const before = (await allEvents()).length;
    const big = `${repeated(7_000)}`; // ~126 KB, the size that blocked the event loop for ~12 s
    expect(big.length).toBeGreaterThan(WEBHOOK_LIMITS.maxBytes);
    const tooBig = await herald.app.inject({
      method: 'POST',
      url: '/v1/webhooks/twilio/status',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'c2lnbmF0dXJl' },
      payload: big,
    });
    expect(tooBig.statusCode).toBe(413);
    expect(tooBig.headers['content-type']).toContain('application/problem+json');
    expect(tooBig.json()).toMatchObject({ code: 'body-too-large', detail: expect.stringContaining('65536') });

    const many = await herald.app.inject({
      method: 'POST',
      url: '/v1/webhooks/twilio/status',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'c2lnbmF0dXJl' },
      payload: repeated(1_000),
    });
    expect(many.statusCode).toBe(400);
    expect(many.headers['content-type']).toContain('application/problem+json');
    expect(many.json().code).toBe('too-many-fields');
    expect((await allEvents()).length).toBe(before);
  });

  it('a signed callback with a repeated field still verifies (every value is signed)', async () => {
    const sid = 'SM' + 'f'.repeat(32);
    const fields = new URLSearchParams(statusParams(sid, 'queued'));
    fields.append('To', '+420777000000');
    const path = '/v1/webhooks/twilio/status';
    // Twilio's rule for a repeated name: its values sorted, each appended as name + value.
    const names = [...new Set(fields.keys())].sort();
    const data = names.reduce(
      (acc, name) =>
        acc +
        [...fields.getAll(name)]
          .sort()
          .map((value) => name + value)
          .join(''),
      `${PUBLIC_URL}${path}`,
    );
    const signature = createHmac('sha1', AUTH_TOKEN).update(data, 'utf8').digest('base64');
    const response = await herald.app.inject({
      method: 'POST',
      url: path,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
      payload: fields.toString(),
    });
    expect(response.statusCode).toBe(200);
  });
});

describe('without PUBLIC_URL and TWILIO_AUTH_TOKEN', () => {
  it('webhooks refuse everything with 403', async () => {
    const bare = await startTestHerald();
    try {
      const response = await bare.app.inject({
        method: 'POST',
        url: '/v1/webhooks/twilio/status',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'x' },
        payload: 'MessageSid=SM1&MessageStatus=delivered',
      });
      expect(response.statusCode).toBe(403);
      expect(response.json().code).toBe('twilio-webhooks-not-configured');
    } finally {
      await bare.stop();
    }
  });
});
