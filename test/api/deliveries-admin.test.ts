import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleCommand } from '../../src/application/command-handler.js';
import { getDelivery } from '../../src/application/notifications/delivery-admin.js';
import { heraldDefaultSettings } from '../../src/application/notifications/notification-settings.js';
import { deliveryStreamName } from '../../src/application/notifications/notification-streams.js';
import { DeliveryError } from '../../src/application/ports/email-sender.port.js';
import { deliveryDecider } from '../../src/domain/notification/index.js';
import { createSqliteReadModelStore } from '../../src/infrastructure/sqlite/sqlite-read-model-store.js';
import { startTestHerald, type TestHerald } from '../support/test-herald.js';

let herald: TestHerald;

beforeAll(async () => {
  herald = await startTestHerald();
});
afterAll(async () => {
  await herald.stop();
});

type Auth = { authorization: string };
interface Delivery {
  notificationId: string;
  reservationId: string | null;
  kind: string;
  channel: string;
  provider: string | null;
  status: string;
  cost: number;
  requestedAt: string;
  lastError: string | null;
  history: { status: string }[];
}

async function list(auth: Auth, query: string): Promise<{ items: Delivery[]; nextCursor: string | null }> {
  const response = await herald.app.inject({ method: 'GET', url: `/v1/deliveries?${query}`, headers: auth });
  expect(response.statusCode, response.body).toBe(200);
  return response.json();
}

async function creditsOf(
  auth: Auth,
): Promise<{ balance: number; entries: { type: string; deliveryId?: string; amount: number }[] }> {
  return (await herald.app.inject({ method: 'GET', url: '/v1/credits', headers: auth })).json();
}

/** A delivery the dispatcher sends right away, that dead-letters after its only attempt fails transiently. */
async function requestOneShotSms(tenantId: string, to: string): Promise<string> {
  const notificationId = herald.ids.newId();
  await handleCommand(
    { eventStore: herald.adapters.eventStore, ids: herald.ids },
    deliveryStreamName(tenantId, notificationId),
    deliveryDecider,
    {
      type: 'RequestNotification',
      data: {
        notificationId,
        tenantId,
        kind: 'staff-alert',
        channel: 'sms',
        recipient: { type: 'admin', address: to },
        content: { text: 'Herald test: the sauna heater reports an error.' },
        causationEventId: herald.ids.newId(),
        requestedAt: new Date().toISOString(),
        maxAttempts: 1,
      },
    },
    { tenantId, actor: 'test' },
  );
  await herald.settle();
  return notificationId;
}

describe('GET /v1/deliveries', () => {
  it('filters by reservation, channel, status and time, newest first, and pages with a cursor', async () => {
    const auth = await herald.keyFor('list');
    const start = new Date().toISOString();
    const ids = [await herald.reserve(auth), await herald.reserve(auth), await herald.reserve(auth)];

    const all = await list(auth, 'limit=200');
    expect(all.items).toHaveLength(6);
    const times = all.items.map((d) => d.requestedAt);
    expect([...times].sort().reverse()).toEqual(times);

    const sms = await list(auth, 'channel=sms');
    expect(sms.items.map((d) => d.channel)).toEqual(['sms', 'sms', 'sms']);
    // Each names the provider that sent it (the in-process test Herald's senders are named after their channel).
    expect(new Set(all.items.map((d) => `${d.channel}:${d.provider}`))).toEqual(new Set(['email:email', 'sms:sms']));
    expect((await list(auth, `reservationId=${ids[1]}`)).items.map((d) => d.reservationId)).toEqual([ids[1], ids[1]]);
    expect((await list(auth, 'status=sent&kind=reservation-confirmed')).items).toHaveLength(6);
    expect((await list(auth, 'status=dead-lettered')).items).toHaveLength(0);
    expect((await list(auth, `to=${encodeURIComponent(start)}`)).items).toHaveLength(0);
    // An offset instant means the same moment as its UTC form.
    const plusTwo = new Date(Date.parse(start) + 2 * 3_600_000).toISOString().replace('Z', '+02:00');
    expect((await list(auth, `from=${encodeURIComponent(plusTwo)}`)).items).toHaveLength(6);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await list(auth, `limit=4${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.items.map((d) => d.notificationId));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(2);
    expect(seen).toEqual(all.items.map((d) => d.notificationId));

    const bad = await herald.app.inject({ method: 'GET', url: '/v1/deliveries?cursor=garbage', headers: auth });
    expect(bad.statusCode).toBe(400);
    const integration = await herald.keyFor('list', 'integration');
    expect((await herald.app.inject({ method: 'GET', url: '/v1/deliveries', headers: integration })).statusCode).toBe(
      403,
    );
  });
});

describe('GET /v1/deliveries/{notificationId}', () => {
  it('shows the status history and the append-only audit entries; another tenant gets 404', async () => {
    const auth = await herald.keyFor('detail');
    const reservationId = await herald.reserve(auth);
    const [email] = (await list(auth, `reservationId=${reservationId}&channel=email`)).items;
    const response = await herald.app.inject({
      method: 'GET',
      url: `/v1/deliveries/${email!.notificationId}`,
      headers: auth,
    });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({
      notificationId: email!.notificationId,
      reservationId,
      status: 'sent',
      channel: 'email',
      maskedRecipient: 'a***@example.com',
    });
    expect(body.history.map((h: { status: string }) => h.status)).toEqual(['requested', 'sending', 'sent']);
    expect(body.audit.map((a: { type: string }) => a.type)).toEqual([
      'NotificationRequested',
      'NotificationAttemptStarted',
      'NotificationSent',
    ]);
    expect(body.audit[0].actor).toBe('system:notification-planner');
    expect(JSON.stringify(body)).not.toContain('ada@example.com');

    const other = await herald.keyFor('detail-other');
    expect(
      (await herald.app.inject({ method: 'GET', url: `/v1/deliveries/${email!.notificationId}`, headers: other }))
        .statusCode,
    ).toBe(404);
    expect((await list(other, 'limit=200')).items).toHaveLength(0);
    expect(
      (
        await herald.app.inject({
          method: 'POST',
          url: `/v1/deliveries/${email!.notificationId}/resend`,
          headers: other,
        })
      ).statusCode,
    ).toBe(404);
  });
  it('a delivery the read model has not caught up with yet is built from its stream, the same as projected', async () => {
    const notificationId = await requestOneShotSms('detail-lag', '+420700900800');
    const auth = await herald.keyFor('detail-lag');
    const projected = (
      await herald.app.inject({ method: 'GET', url: `/v1/deliveries/${notificationId}`, headers: auth })
    ).json();
    const empty = createSqliteReadModelStore({ filename: ':memory:' });
    try {
      const live = await getDelivery(empty, herald.adapters.eventStore, 'detail-lag', notificationId);
      expect(live.delivery).toMatchObject({ notificationId, status: projected.status, history: projected.history });
      expect(live.audit.map((a) => a.eventId)).toEqual(projected.audit.map((a: { eventId: string }) => a.eventId));
      await expect(getDelivery(empty, herald.adapters.eventStore, 'another-tenant', notificationId)).rejects.toThrow(
        /does not exist/,
      );
    } finally {
      await empty.close();
    }
  });
});

describe('POST /v1/deliveries/{notificationId}/resend', () => {
  it('a dead-lettered delivery is listed as a dead letter and a staff re-send sends it again', async () => {
    const tenant = 'dead-letters';
    const auth = await herald.keyFor(tenant, 'staff');
    const to = '+420700100200';
    herald.sms.fail = (message) =>
      message.to === to ? new DeliveryError('Twilio answered 503', true, '503') : undefined;
    let notificationId: string;
    try {
      notificationId = await requestOneShotSms(tenant, to);
    } finally {
      herald.sms.fail = undefined;
    }
    const deadLetters = await list(auth, 'status=dead-lettered');
    expect(deadLetters.items.map((d) => d.notificationId)).toEqual([notificationId]);
    expect(deadLetters.items[0]!.lastError).toMatch(/503/);
    expect(herald.sms.sent.some((m) => m.to === to)).toBe(false);

    const resend = await herald.app.inject({
      method: 'POST',
      url: `/v1/deliveries/${notificationId}/resend`,
      headers: auth,
    });
    expect(resend.statusCode).toBe(202);
    expect(resend.json()).toMatchObject({ notificationId, status: 'requested', round: 2 });
    await herald.settle();
    expect(herald.sms.sent.filter((m) => m.to === to)).toHaveLength(1);
    const detail = (
      await herald.app.inject({ method: 'GET', url: `/v1/deliveries/${notificationId}`, headers: auth })
    ).json();
    expect(detail.status).toBe('sent');
    expect(detail.history.map((h: { status: string }) => h.status)).toEqual([
      'requested',
      'sending',
      'dead-lettered',
      'resend-requested',
      'sending',
      'sent',
    ]);
    expect(detail.audit.find((a: { type: string }) => a.type === 'NotificationResendRequested').actor).toMatch(
      /^apikey:/,
    );

    // Accepted by the provider now: a further re-send is refused, and nothing is sent.
    const again = await herald.app.inject({
      method: 'POST',
      url: `/v1/deliveries/${notificationId}/resend`,
      headers: auth,
    });
    expect(again.statusCode, again.body).toBe(409);
    expect(again.json().code).toBe('already-sent');
    await herald.settle();
    expect(herald.sms.sent.filter((m) => m.to === to)).toHaveLength(1);
  });

  it('a skipped delivery or an unknown one cannot be re-sent', async () => {
    const auth = await herald.keyFor('resend-refused');
    const reservationId = await herald.reserve(auth, {
      customer: { name: 'No Phone', email: 'nophone@example.com', locale: 'en' },
    });
    const [skipped] = (await list(auth, `reservationId=${reservationId}&channel=sms`)).items;
    expect(skipped!.status).toBe('skipped');
    const response = await herald.app.inject({
      method: 'POST',
      url: `/v1/deliveries/${skipped!.notificationId}/resend`,
      headers: auth,
    });
    expect(response.statusCode).toBe(409);
    expect(
      (await herald.app.inject({ method: 'POST', url: '/v1/deliveries/nope/resend', headers: auth })).statusCode,
    ).toBe(404);
  });
});

describe('credits and failed sends', () => {
  it('a charged SMS the provider refuses is refunded; its re-send is charged again', async () => {
    const tenant = 'refunds';
    const auth = await herald.keyFor(tenant);
    const settings = { ...heraldDefaultSettings(), prices: { smsPerPart: 2, emailManual: 1, emailAutomatic: 0 } };
    expect(
      (await herald.app.inject({ method: 'PUT', url: '/v1/settings/notifications', headers: auth, payload: settings }))
        .statusCode,
    ).toBe(200);
    await herald.app.inject({
      method: 'POST',
      url: '/v1/credits/top-ups',
      headers: auth,
      payload: { topUpId: 'refunds-1', amount: 10 },
    });

    const phone = '+420700300400';
    herald.sms.fail = (message) =>
      message.to === phone ? new DeliveryError('The number is not a mobile number', false, '21614') : undefined;
    let reservationId: string;
    try {
      reservationId = await herald.reserve(auth, {
        customer: { name: 'Landline', email: 'landline@example.com', phone, locale: 'en' },
      });
    } finally {
      herald.sms.fail = undefined;
    }
    const [sms] = (await list(auth, `reservationId=${reservationId}&channel=sms`)).items;
    expect(sms).toMatchObject({ status: 'failed', cost: 2 });
    expect(sms!.lastError).toMatch(/21614/);

    const credits = await creditsOf(auth);
    expect(credits.balance).toBe(10);
    expect(credits.entries.map((e) => [e.type, e.deliveryId, e.amount])).toEqual([
      ['refund', sms!.notificationId, 2],
      ['charge', sms!.notificationId, 2],
      ['top-up', undefined, 10],
    ]);
    const refunds = (await herald.adapters.eventStore.readStream(`credits-${tenant}+account`)).events.filter(
      (e) => e.type === 'CreditsRefunded',
    );
    expect(refunds).toHaveLength(1);
    expect(refunds[0]!.metadata.actor).toBe('system:credit-refunds');

    const resend = await herald.app.inject({
      method: 'POST',
      url: `/v1/deliveries/${sms!.notificationId}/resend`,
      headers: auth,
    });
    expect(resend.statusCode).toBe(202);
    expect(resend.json()).toMatchObject({ round: 2, charged: 2 });
    await herald.settle();
    expect(herald.sms.sent.filter((m) => m.to === phone)).toHaveLength(1);
    const after = await creditsOf(auth);
    expect(after.balance).toBe(8);
    expect(after.entries[0]).toMatchObject({ type: 'charge', deliveryId: `${sms!.notificationId}#2`, amount: 2 });
  });

  it('a re-send without credits for it is a 409 and sends nothing', async () => {
    const tenant = 'resend-broke';
    const auth = await herald.keyFor(tenant);
    const settings = { ...heraldDefaultSettings(), prices: { smsPerPart: 1, emailManual: 1, emailAutomatic: 0 } };
    await herald.app.inject({ method: 'PUT', url: '/v1/settings/notifications', headers: auth, payload: settings });
    await herald.app.inject({
      method: 'POST',
      url: '/v1/credits/top-ups',
      headers: auth,
      payload: { topUpId: 'one', amount: 1 },
    });
    const phone = '+420700500600';
    herald.sms.fail = (message) =>
      message.to === phone ? new DeliveryError('Invalid To number', false, '21211') : undefined;
    let reservationId: string;
    try {
      reservationId = await herald.reserve(auth, { customer: { name: 'Broke', phone, locale: 'en' } });
    } finally {
      herald.sms.fail = undefined;
    }
    const [sms] = (await list(auth, `reservationId=${reservationId}&channel=sms`)).items;
    expect(sms!.status).toBe('failed');
    // Spend the refunded credit elsewhere first.
    await herald.reserve(auth, { customer: { name: 'Other', phone: '+420700500601', locale: 'en' } });
    expect((await creditsOf(auth)).balance).toBe(0);

    const resend = await herald.app.inject({
      method: 'POST',
      url: `/v1/deliveries/${sms!.notificationId}/resend`,
      headers: auth,
    });
    expect(resend.statusCode).toBe(409);
    expect(resend.json().code).toBe('insufficient-credits');
    await herald.settle();
    expect(herald.sms.sent.some((m) => m.to === phone)).toBe(false);
  });
});

describe('GET /v1/sms/sent', () => {
  it('lists the SMS the provider accepted with masked recipient, parts, encoding, cost and status', async () => {
    const auth = await herald.keyFor('sms-log');
    const from = new Date().toISOString();
    const reservationId = await herald.reserve(auth, {
      customer: { name: 'Jiří Dvořák', email: 'jiri@example.com', phone: '+420777123999', locale: 'cs' },
      serviceName: 'Masáž zad',
    });
    await herald.reserve(auth, { customer: { name: 'Email Only', email: 'only@example.com', locale: 'en' } });

    const response = await herald.app.inject({
      method: 'GET',
      url: `/v1/sms/sent?from=${encodeURIComponent(from)}`,
      headers: auth,
    });
    expect(response.statusCode).toBe(200);
    const { items, nextCursor } = response.json();
    expect(nextCursor).toBeNull();
    expect(items).toHaveLength(1);
    const code = await herald.codeOf(auth, reservationId);
    const sent = herald.sms.sent.find((m) => m.body.includes(code))!;
    expect(items[0]).toMatchObject({
      reservationId,
      kind: 'reservation-confirmed',
      maskedRecipient: '+42077****99',
      encoding: 'UCS-2',
      status: 'sent',
      providerMessageId: sent.providerMessageId,
      cost: 0,
    });
    expect(items[0].parts).toBeGreaterThanOrEqual(1);
    expect(Date.parse(items[0].sentAt)).toBeGreaterThanOrEqual(Date.parse(from));

    const before = await herald.app.inject({
      method: 'GET',
      url: `/v1/sms/sent?to=${encodeURIComponent(from)}`,
      headers: auth,
    });
    expect(before.json().items).toHaveLength(0);
    const other = await herald.keyFor('sms-log-other');
    expect((await herald.app.inject({ method: 'GET', url: '/v1/sms/sent', headers: other })).json().items).toHaveLength(
      0,
    );
  });
});
