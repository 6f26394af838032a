import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Herald } from '../../src/interfaces/herald.js';
import { API_KEY, createHeraldKeepingStores, freePort } from '../support/herald-harness.js';
import { mailAndSmsServers } from '../support/mail-and-sms-servers.js';
import { startSendGridStandIn, type SendGridStandIn } from '../support/sendgrid-stand-in.js';
import { silentLogger } from '../support/silent-logger.js';

/**
 * SendGrid's Signed Event Webhook over HTTP: Herald sends the confirmation through SendGrid (the environment's
 * account for one venue, the venue's own account for the other), the stand-in posts the signed event batch as
 * SendGrid does, and the audit trail shows what SendGrid said. Breaks when: a valid batch is not recorded, a forged
 * or altered one changes anything, a replay records twice, or a venue's route records another venue's delivery.
 */

const SENDGRID_KEY = 'SG.e2e-status-key.0123456789abcdef';
const servers = mailAndSmsServers();
let sendgrid: SendGridStandIn;
let herald: Herald;
let base: string;
let dataDir: string;
const logger = silentLogger();

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const call = async (key: string, method: string, path: string, body?: unknown) => {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  expect(response.status, `${method} ${path}: ${text}`).toBeLessThan(300);
  return text ? JSON.parse(text) : {};
};

beforeAll(async () => {
  sendgrid = await startSendGridStandIn({
    apiKey: SENDGRID_KEY,
    verifiedSenders: ['desk@shared.example.test', 'desk@own.example.test'],
  });
  dataDir = await mkdtemp(join(tmpdir(), 'herald-status-webhooks-'));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  herald = await createHeraldKeepingStores({
    readModels: { kind: 'sqlite' },
    dataDir,
    port,
    smtpUrl: servers.smtp.url,
    twilioUrl: servers.twilio.url,
    logger,
    env: {
      // SendGrid first; the SMTP server the harness always names is its failover.
      EMAIL_PROVIDERS: 'sendgrid,smtp',
      SENDGRID_API_KEY: SENDGRID_KEY,
      SENDGRID_API_URL: sendgrid.url,
      SENDGRID_WEBHOOK_PUBLIC_KEY: sendgrid.webhookPublicKey,
    },
  });
  await herald.start();
  await herald.app.listen({ port, host: '127.0.0.1' });
});
afterAll(async () => {
  await herald?.stop();
  await sendgrid?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** A venue with a service, an admin key, and (`own`) its own SendGrid account with its webhook key. */
async function venue(tenantId: string, own: boolean) {
  await call(API_KEY, 'POST', '/v1/tenants', {
    tenantId,
    name: tenantId,
    sender: { name: tenantId, address: `desk@${own ? 'own' : 'shared'}.example.test` },
  });
  const key = (await call(API_KEY, 'POST', `/v1/tenants/${tenantId}/api-keys`, { name: 'e2e', role: 'admin' }))
    .secret as string;
  await call(key, 'POST', '/v1/locations', {
    locationId: 'main',
    name: 'Hall',
    address: { street: 'Podolská 74', postalCode: '147 00', city: 'Praha', country: 'CZ' },
    timeZone: 'Europe/Prague',
  });
  const hours = [{ start: '08:00', end: '20:00' }];
  await call(key, 'POST', '/v1/resources', {
    resourceId: 'room',
    locationId: 'main',
    name: 'Room',
    kind: 'room',
    weeklyHours: { monday: hours, tuesday: hours },
  });
  await call(key, 'POST', '/v1/services', {
    serviceId: 'yoga',
    locationId: 'main',
    name: 'Yoga',
    durationMinutes: 60,
    seatsPerSlot: 5,
    resourceIds: ['room'],
  });
  if (own) {
    await call(key, 'PUT', '/v1/channels/email', {
      providers: [
        {
          provider: 'sendgrid',
          settings: { apiUrl: sendgrid.url, webhookPublicKey: sendgrid.webhookPublicKey },
          credentials: { apiKey: SENDGRID_KEY },
        },
      ],
    });
  }
  return key;
}

/** Books, waits for SendGrid to accept the confirmation and the audit trail to show it sent. */
async function confirmationSent(key: string, email: string) {
  await call(key, 'POST', '/v1/reservations', {
    serviceId: 'yoga',
    start: '2030-06-04T10:00:00+02:00',
    customer: { name: 'Guest', email, locale: 'en' },
  });
  const mail = await until('the mail at SendGrid', async () =>
    sendgrid.mails.find((m) => m.body.personalizations[0]!.to[0]!.email === email),
  );
  const delivery = async () =>
    (
      (await call(key, 'GET', '/v1/deliveries?channel=email')).items as {
        status: string;
        provider: string;
        history: { status: string }[];
      }[]
    )[0]!;
  await until('the delivery sent', async () => ((await delivery()).status === 'sent' ? true : undefined));
  return { mail, delivery };
}

describe('SendGrid Signed Event Webhook', () => {
  it('records delivered / bounced from a signed batch; forged, altered and missing signatures change nothing; a replay records once', async () => {
    const key = await venue('shared-venue', false);
    const { mail, delivery } = await confirmationSent(key, 'guest@shared.example.test');
    const url = `${base}/v1/webhooks/sendgrid/events`;
    expect((await delivery()).provider).toBe('sendgrid');

    expect(
      await sendgrid.deliverEvents(url, [{ messageId: mail.messageId, event: 'delivered' }], { foreignKey: true }),
    ).toBe(401);
    expect(
      await sendgrid.deliverEvents(url, [{ messageId: mail.messageId, event: 'delivered' }], { tamper: true }),
    ).toBe(401);
    const unsigned = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[]' });
    expect(unsigned.status).toBe(401);
    expect(unsigned.headers.get('content-type')).toContain('application/problem+json');
    expect((await delivery()).status).toBe('sent');

    expect(await sendgrid.deliverEvents(url, [{ messageId: mail.messageId, event: 'delivered' }])).toBe(200);
    expect(await sendgrid.deliverEvents(url, [{ messageId: mail.messageId, event: 'delivered' }])).toBe(200);
    const after = await delivery();
    expect(after.status).toBe('delivered');
    expect(after.history.filter((h) => h.status === 'delivered')).toHaveLength(1);
  });

  it('takes a venue’s own account’s events on its own route, and never another venue’s', async () => {
    const key = await venue('own-venue', true);
    const { mail, delivery } = await confirmationSent(key, 'guest@own.example.test');
    // The venue's route must not record the shared venue's deliveries, nor the other way round for this one.
    const shared = sendgrid.mails.find(
      (m) => m.body.personalizations[0]!.to[0]!.email === 'guest@shared.example.test',
    )!;
    expect(
      await sendgrid.deliverEvents(`${base}/v1/webhooks/sendgrid/events/own-venue`, [
        { messageId: shared.messageId, event: 'bounce', reason: 'x' },
      ]),
    ).toBe(404);
    expect(
      await sendgrid.deliverEvents(`${base}/v1/webhooks/sendgrid/events/own-venue`, [
        { messageId: mail.messageId, event: 'bounce', reason: '550 5.1.1 The email account does not exist' },
      ]),
    ).toBe(200);
    const after = await delivery();
    expect(after.status).toBe('bounced');
    // A venue that configured no account of its own: its route is not open.
    expect(
      await sendgrid.deliverEvents(`${base}/v1/webhooks/sendgrid/events/shared-venue`, [
        { messageId: shared.messageId, event: 'delivered' },
      ]),
    ).toBe(403);
    expect(logger.errors).toEqual([]);
  });
});
