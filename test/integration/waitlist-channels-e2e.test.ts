import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/application/ports/event-store.port.js';
import type { Herald } from '../../src/interfaces/herald.js';
import { API_KEY, createHeraldKeepingStores, freePort, waitForEvents } from '../support/herald-harness.js';
import { mailAndSmsServers } from '../support/mail-and-sms-servers.js';
import { silentLogger } from '../support/silent-logger.js';
import { startStaffChatStandIn, type StaffChatStandIn } from '../support/staff-chat-stand-ins.js';
import { startTelegramStandIn, type TelegramStandIn } from '../support/telegram-stand-in.js';
import { startWhatsAppStandIn, type WhatsAppStandIn } from '../support/whatsapp-stand-in.js';

/**
 * Issue 10 acceptance, end to end: Herald on a real port as main.ts builds it (DATA_DIR, SQLite), email to the real
 * SMTP server, SMS to the Twilio stand-in, WhatsApp and Telegram to their stand-ins through the environment's
 * providers, and each venue's staff chat (Slack, Teams, Discord: the tenant's own webhook) to its stand-in.
 *
 * Per venue (tenant): a one-seat slot is full; four people wait, each told on the one channel they chose — Ema by
 * email, Sam by SMS, Wanda by WhatsApp (the venue's approved template), Tom by Telegram (he linked his chat from his
 * own page: the start link it shows, `/start <token>` to the bot's webhook). The seat is freed: Ema's offer runs
 * out on the real clock, Sam, Wanda and Tom let theirs go through the claim link each got — and then the list is
 * exhausted and the venue's staff room is told nobody took the seat, naming the slot. On the way, Meta reports
 * Wanda's message delivered through the status webhook (the gym through its own app, whose Telegram bot is its own
 * too), and at the end /metrics counts every channel's deliveries and provider calls.
 *
 * Breaks when: an offer does not reach its channel, or reaches it without the claim link or the slot; a
 * customer is told on a channel they did not choose; the Telegram link does not link the chat (or a forged secret
 * does); the exhausted list does not reach staff chat, or reaches it without the slot; the audit trail does not
 * record each message with its channel and provider; a status webhook that is forged, altered or replayed changes
 * the delivery (or a genuine one does not).
 */

const WHATSAPP = {
  accessToken: 'EAAG-e2e-access-token-0123456789',
  phoneNumberId: '106540352242922',
  appSecret: 'e2e-app-secret-0123456789abcdef',
  verifyToken: 'e2e-verify-token-0123',
};
const TELEGRAM = {
  botToken: '123456789:AAE-e2e-bot-token-0123456789abcdef',
  username: 'herald_e2e_bot',
  webhookSecret: 'e2e-telegram-webhook-secret-0123',
};
const METRICS_TOKEN = 'e2e-metrics-token-0123456789abcdefghij';
/** Ema's offer runs out after this; the later ones get a window a person answers in. */
const SHORT_WINDOW_S = 3;
const LONG_WINDOW_S = 900;

const servers = mailAndSmsServers();
let whatsapp: WhatsAppStandIn;
let telegram: TelegramStandIn;
const rooms: Partial<Record<'slack' | 'teams' | 'discord', StaffChatStandIn>> = {};

let herald: Herald;
let base: string;
let dataDir: string;
const logger = silentLogger();

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const call = async (
  key: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) => {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {} };
};
const expectCall = async (key: string, method: string, path: string, body: unknown, status: number) => {
  const response = await call(key, method, path, body);
  expect(response.status, `${method} ${path}: ${JSON.stringify(response.body)}`).toBe(status);
  return response.body;
};

beforeAll(async () => {
  whatsapp = await startWhatsAppStandIn(WHATSAPP);
  // The venues' approved template: name, service, start, claim link.
  whatsapp.approveTemplate('seat_offer', 'en', 4);
  telegram = await startTelegramStandIn({ botToken: TELEGRAM.botToken });
  for (const provider of ['slack', 'teams', 'discord'] as const)
    rooms[provider] = await startStaffChatStandIn(provider);
  dataDir = await mkdtemp(join(tmpdir(), 'herald-channels-e2e-'));
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
      WHATSAPP_ACCESS_TOKEN: WHATSAPP.accessToken,
      WHATSAPP_PHONE_NUMBER_ID: WHATSAPP.phoneNumberId,
      WHATSAPP_API_URL: `${whatsapp.url}/v21.0`,
      WHATSAPP_APP_SECRET: WHATSAPP.appSecret,
      WHATSAPP_VERIFY_TOKEN: WHATSAPP.verifyToken,
      TELEGRAM_BOT_TOKEN: TELEGRAM.botToken,
      TELEGRAM_API_URL: telegram.url,
      TELEGRAM_BOT_USERNAME: TELEGRAM.username,
      TELEGRAM_WEBHOOK_SECRET: TELEGRAM.webhookSecret,
      METRICS_TOKEN,
    },
  });
  await herald.start();
  await herald.app.listen({ port, host: '127.0.0.1' });
});
afterAll(async () => {
  await herald?.stop();
  await whatsapp?.close();
  await telegram?.close();
  for (const room of Object.values(rooms)) await room?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const VENUES = [
  { tenantId: 'pool', provider: 'slack', digit: 1 },
  { tenantId: 'sauna', provider: 'teams', digit: 2 },
  // The gym sends WhatsApp through its own Meta app (its status webhooks are signed with its app secret).
  // and has a Telegram bot of its own (its own username and webhook secret; its own update route).
  {
    tenantId: 'gym',
    provider: 'discord',
    digit: 3,
    ownWhatsApp: { appSecret: 'gym-own-app-secret-0123456789' },
    ownTelegram: { username: 'gym_venue_bot', webhookSecret: 'gym-telegram-secret-0123' },
  },
] as const;

describe('waitlist offers by email, SMS, WhatsApp and Telegram; staff chat told when nobody takes the seat', () => {
  for (const venue of VENUES) {
    it(`${venue.tenantId}: the seat goes down the line on each person's channel, then ${venue.provider} hears nobody took it`, async () => {
      const { tenantId, digit } = venue;
      const room = rooms[venue.provider]!;
      // A venue of its own, with an admin key (the bootstrap key is the operator's here).
      await expectCall(
        API_KEY,
        'POST',
        '/v1/tenants',
        {
          tenantId,
          name: `Venue ${tenantId}`,
          defaultLocale: 'en',
          timeZone: 'Europe/Prague',
          sender: { name: `Venue ${tenantId}`, address: `desk@${tenantId}.example.test` },
        },
        201,
      );
      const key = (
        await expectCall(API_KEY, 'POST', `/v1/tenants/${tenantId}/api-keys`, { name: 'e2e', role: 'admin' }, 201)
      ).secret as string;
      const api = (method: string, path: string, body: unknown, status: number) =>
        expectCall(key, method, path, body, status);

      const hours = [{ start: '08:00', end: '20:00' }];
      await api(
        'POST',
        '/v1/locations',
        {
          locationId: 'main',
          name: `${tenantId} hall`,
          address: { street: 'Podolská 74', postalCode: '147 00', city: 'Praha', country: 'CZ' },
          timeZone: 'Europe/Prague',
        },
        201,
      );
      await api(
        'POST',
        '/v1/resources',
        {
          resourceId: 'lane',
          locationId: 'main',
          name: 'Lane',
          kind: 'room',
          weeklyHours: { monday: hours, tuesday: hours, wednesday: hours, thursday: hours, friday: hours },
        },
        201,
      );
      const serviceName = `Morning ${tenantId}`;
      await api(
        'POST',
        '/v1/services',
        {
          serviceId: 'session',
          locationId: 'main',
          name: serviceName,
          durationMinutes: 60,
          seatsPerSlot: 1,
          resourceIds: ['lane'],
        },
        201,
      );

      const ownWhatsApp = 'ownWhatsApp' in venue ? venue.ownWhatsApp : undefined;
      const ownTelegram = 'ownTelegram' in venue ? venue.ownTelegram : undefined;
      if (ownTelegram) {
        await api(
          'PUT',
          '/v1/channels/telegram',
          {
            providers: [
              {
                provider: 'telegram',
                settings: { botUsername: ownTelegram.username, apiUrl: telegram.url },
                credentials: { botToken: TELEGRAM.botToken, webhookSecret: ownTelegram.webhookSecret },
              },
            ],
          },
          200,
        );
      }
      if (ownWhatsApp) {
        await api(
          'PUT',
          '/v1/channels/whatsapp',
          {
            providers: [
              {
                provider: 'whatsapp-cloud',
                settings: { phoneNumberId: WHATSAPP.phoneNumberId, apiUrl: `${whatsapp.url}/v21.0` },
                credentials: {
                  accessToken: WHATSAPP.accessToken,
                  appSecret: ownWhatsApp.appSecret,
                  verifyToken: 'gym-verify-token-0123',
                },
              },
            ],
          },
          200,
        );
      }
      // The venue's staff room, and what it sends on which channel.
      await api(
        'PUT',
        '/v1/channels/staff-chat',
        { providers: [{ provider: venue.provider, credentials: { webhookUrl: room.webhookUrl } }] },
        200,
      );
      const workflow = (name: string, event: string, channel: string, message: unknown, recipients: unknown) =>
        api(
          'POST',
          '/v1/workflows',
          { name, enabled: true, trigger: { type: 'event', event }, channel, message, recipients },
          201,
        );
      await workflow('offer by SMS', 'waitlist-offer', 'sms', { type: 'standard' }, { customer: true });
      await workflow(
        'offer by WhatsApp',
        'waitlist-offer',
        'whatsapp',
        {
          type: 'external',
          system: 'whatsapp',
          template: 'seat_offer',
          language: 'en',
          parameters: ['customerName', 'serviceName', 'start', 'claimUrl'],
        },
        { customer: true },
      );
      await workflow('offer by Telegram', 'waitlist-offer', 'telegram', { type: 'standard' }, { customer: true });
      await workflow(
        'nobody took it',
        'waitlist-exhausted',
        'staff-chat',
        { type: 'standard' },
        { addresses: ['front-desk'] },
      );

      const person = (name: string, email: string, phone: string) => ({
        name,
        email: `${email}.${tenantId}@example.test`,
        phone,
        locale: 'en',
      });
      const ema = person('Ema Email', 'ema', `+42077700${digit}001`);
      const sam = person('Sam Sms', 'sam', `+42077700${digit}002`);
      const wanda = person('Wanda Whatsapp', 'wanda', `+42077700${digit}003`);
      const tom = person('Tom Telegram', 'tom', `+42077700${digit}004`);
      const tomChat = 7_000_000 + digit;

      // Tom booked before; from his booking's page (the link in his confirmation) he links his Telegram chat.
      const earlier = await api(
        'POST',
        '/v1/reservations',
        { serviceId: 'session', start: '2030-06-03T09:00:00+02:00', customer: tom },
        201,
      );
      const confirmation = await until('Tom’s confirmation', () =>
        servers.smtp.messages.find(
          (m) => m.envelope.rcptTo.includes(tom.email) && m.subject?.startsWith('Reservation confirmed'),
        ),
      );
      const pageToken = /\/my\/([A-Za-z0-9_-]+)/.exec(confirmation.text ?? '')?.[1];
      expect(pageToken, confirmation.text).toBeDefined();
      const page = () => call('', 'GET', '/v1/self', undefined, { 'x-customer-token': pageToken! });
      const before = (await page()).body;
      expect(before.reservation.reservationId).toBe(earlier.reservationId);
      expect(before.telegram).toMatchObject({ linked: false });
      const startLink = new URL(before.telegram.startLink as string);
      expect(`${startLink.origin}${startLink.pathname}`).toBe(
        `https://t.me/${ownTelegram?.username ?? TELEGRAM.username}`,
      );
      const startParameter = startLink.searchParams.get('start')!;
      expect(startParameter).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
      const webhook = ownTelegram ? `${base}/v1/webhooks/telegram/${tenantId}` : `${base}/v1/webhooks/telegram`;
      const botSecret = ownTelegram?.webhookSecret ?? TELEGRAM.webhookSecret;
      // Not from Telegram (no secret, a wrong one — for the gym, the environment's bot's): refused, nothing linked.
      expect(await telegram.sendStart(webhook, tomChat, startParameter, undefined)).toBe(401);
      const wrong = ownTelegram ? TELEGRAM.webhookSecret : 'not-the-secret-0123456789';
      expect(await telegram.sendStart(webhook, tomChat, startParameter, wrong)).toBe(401);
      if (ownTelegram) {
        // The gym's start parameter is bound to its bot: the environment's bot's route does not take it.
        expect(
          await telegram.sendStart(`${base}/v1/webhooks/telegram`, tomChat, startParameter, TELEGRAM.webhookSecret),
        ).toBe(200);
        expect((await page()).body.telegram.linked).toBe(false);
      }
      // A forged start parameter from Telegram: taken (so Telegram does not resend it), nothing linked.
      expect(await telegram.sendStart(webhook, tomChat, `${startParameter.slice(0, -2)}xx`, botSecret)).toBe(200);
      expect((await page()).body.telegram.linked).toBe(false);
      expect(await telegram.sendStart(webhook, tomChat, startParameter, botSecret)).toBe(200);
      expect((await page()).body.telegram.linked).toBe(true);

      // The slot is full; the four join its line, each with the channel they want to be told on.
      const start = '2030-06-04T10:00:00+02:00';
      const holder = await api(
        'POST',
        '/v1/reservations',
        { serviceId: 'session', start, customer: person('Hana Holder', 'hana', `+42077700${digit}000`) },
        201,
      );
      const entries: Record<string, string> = {};
      for (const [who, channels] of [
        [ema, ['email']],
        [sam, ['sms']],
        [wanda, ['whatsapp']],
        [tom, ['telegram']],
      ] as const) {
        const full = await api('POST', '/v1/reservations', { serviceId: 'session', start, customer: who }, 409);
        const joined = await api(full.waitlist.method, full.waitlist.href, { ...full.waitlist.body, channels }, 201);
        entries[who.name] = joined.entryId;
      }
      const current = await api('GET', '/v1/settings/waitlist', undefined, 200);
      await api('PUT', '/v1/settings/waitlist', { ...current, responseWindowSeconds: SHORT_WINDOW_S }, 200);

      const offerMade = (who: { name: string }) =>
        waitForEvents(
          herald.adapters.eventStore,
          (e: RecordedEvent) =>
            e.type === 'WaitlistOfferMade' && e.metadata.tenantId === tenantId && e.data.entryId === entries[who.name],
          1,
          15_000,
        ).then((events) => events[0]!);
      const claimLinkIn = (text: string) => {
        const link = new RegExp(`(${base.replace(/\./g, '\\.')}/claim/${tenantId}/[A-Za-z0-9_-]+)`).exec(text)?.[1];
        expect(link, text).toBeDefined();
        return link!;
      };
      const decline = async (link: string) => {
        const answer = await fetch(`${link}/decline`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: '',
          redirect: 'manual',
        });
        expect(answer.status).toBe(303);
      };

      // The seat is freed: Ema is offered it by email, with the claim link and the slot.
      await api('POST', `/v1/reservations/${holder.reservationId}/cancel`, { by: 'customer' }, 200);
      await offerMade(ema);
      await api('PUT', '/v1/settings/waitlist', { ...current, responseWindowSeconds: LONG_WINDOW_S }, 200);
      const emaOffer = await until('Ema’s offer email', () =>
        servers.smtp.messages.find(
          (m) => m.envelope.rcptTo.includes(ema.email) && m.subject?.startsWith('A place is free'),
        ),
      );
      expect(emaOffer.subject).toContain(serviceName);
      claimLinkIn(emaOffer.text ?? '');

      // Ema does not answer: after the window Sam is offered it by SMS.
      await offerMade(sam);
      const samOffer = await until('Sam’s offer SMS', () =>
        servers.twilio.messages.find((m) => m.resource.to === sam.phone && m.resource.body.includes('A place is free')),
      );
      expect(samOffer.resource.body).toContain(serviceName);
      await decline(claimLinkIn(samOffer.resource.body));

      // Sam lets it go: Wanda gets the venue's WhatsApp template, its parameters filled in.
      await offerMade(wanda);
      const wandaOffer = await until('Wanda’s WhatsApp offer', () =>
        whatsapp.messages.find((m) => m.body.to === wanda.phone),
      );
      expect(wandaOffer.body.type).toBe('template');
      expect(wandaOffer.body.template?.name).toBe('seat_offer');
      const parameters = wandaOffer.body
        .template!.components!.find((c) => c.type === 'body')!
        .parameters.map((p) => p.text);
      expect(parameters.slice(0, 2)).toEqual([wanda.name, serviceName]);
      expect(parameters[2]).toMatch(/2030|4\s*Jun|Jun\w*\s*4|6\/4|04/);

      // Meta reports the message delivered through the status webhook of the app that sent it.
      const statusUrl = ownWhatsApp ? `${base}/v1/webhooks/whatsapp/${tenantId}` : `${base}/v1/webhooks/whatsapp`;
      const verifyToken = ownWhatsApp ? 'gym-verify-token-0123' : WHATSAPP.verifyToken;
      const handshake = (token: string) =>
        fetch(`${statusUrl}?hub.mode=subscribe&hub.verify_token=${token}&hub.challenge=1158201444`);
      const shook = await handshake(verifyToken);
      expect([shook.status, await shook.text()]).toEqual([200, '1158201444']);
      expect((await handshake('not-the-token')).status).toBe(403);
      const wandaDelivery = async () =>
        (
          (await api('GET', '/v1/deliveries?kind=waitlist-offer&channel=whatsapp', undefined, 200)).items as {
            status: string;
            history: { status: string }[];
          }[]
        )[0];
      await until('the WhatsApp offer recorded as sent', async () =>
        (await wandaDelivery())?.status === 'sent' ? true : undefined,
      );
      const secret = ownWhatsApp?.appSecret ?? WHATSAPP.appSecret;
      const wrongSecret = ownWhatsApp ? WHATSAPP.appSecret : 'another-app-secret-0123456789';
      // Forged (another app's secret) or altered after signing: 401, and nothing changes.
      expect(await whatsapp.deliverStatus(statusUrl, wandaOffer.id, 'delivered', { secret: wrongSecret })).toBe(401);
      expect(await whatsapp.deliverStatus(statusUrl, wandaOffer.id, 'delivered', { secret, tamper: true })).toBe(401);
      expect((await wandaDelivery())?.status).toBe('sent');
      expect(await whatsapp.deliverStatus(statusUrl, wandaOffer.id, 'delivered', { secret })).toBe(200);
      // Sent again (Meta retries): recorded once.
      expect(await whatsapp.deliverStatus(statusUrl, wandaOffer.id, 'delivered', { secret })).toBe(200);
      const delivered = await until('the WhatsApp offer recorded as delivered', async () => {
        const d = await wandaDelivery();
        return d?.status === 'delivered' ? d : undefined;
      });
      expect(delivered.history.filter((h) => h.status === 'delivered')).toHaveLength(1);
      await decline(claimLinkIn(parameters[3]!));

      // Wanda lets it go: Tom hears of it in the Telegram chat he linked.
      await offerMade(tom);
      const tomOffer = await until('Tom’s Telegram offer', () => telegram.messages.find((m) => m.chatId === tomChat));
      expect(tomOffer.text).toContain('A place is free');
      expect(tomOffer.text).toContain(serviceName);
      await decline(claimLinkIn(tomOffer.text));

      // Nobody is left: the venue's staff room is told nobody took the seat, naming the slot.
      await waitForEvents(
        herald.adapters.eventStore,
        (e: RecordedEvent) => e.type === 'WaitlistExhausted' && e.metadata.tenantId === tenantId,
        1,
        15_000,
      );
      const post = await until(`the ${venue.provider} post`, () =>
        room.posts.length > 0 ? room.posts[room.posts.length - 1] : undefined,
      );
      const seen = `${post.title}\n${post.body}`;
      expect(seen).toContain('Nobody on the waitlist took the free place');
      expect(seen).toContain(serviceName);
      expect(seen).toMatch(/4 Jun|Jun 4|4\. 6|04\/06|6\/4/);
      expect(room.posts).toHaveLength(1);
      expect(room.violations).toEqual([]);

      // Each told once, on their own channel only.
      await herald.settle();
      const offersTo = (who: typeof ema) => ({
        email: servers.smtp.messages.filter(
          (m) => m.envelope.rcptTo.includes(who.email) && m.subject?.startsWith('A place is free'),
        ).length,
        sms: servers.twilio.messages.filter(
          (m) => m.resource.to === who.phone && m.resource.body.includes('A place is free'),
        ).length,
        whatsapp: whatsapp.messages.filter((m) => m.body.to === who.phone).length,
        telegram: who === tom ? telegram.messages.filter((m) => m.chatId === tomChat).length : 0,
      });
      expect(offersTo(ema)).toEqual({ email: 1, sms: 0, whatsapp: 0, telegram: 0 });
      expect(offersTo(sam)).toEqual({ email: 0, sms: 1, whatsapp: 0, telegram: 0 });
      expect(offersTo(wanda)).toEqual({ email: 0, sms: 0, whatsapp: 1, telegram: 0 });
      expect(offersTo(tom)).toEqual({ email: 0, sms: 0, whatsapp: 0, telegram: 1 });

      // The audit trail: each offer and the alert with its channel and provider, sent.
      const offers = (await api('GET', '/v1/deliveries?kind=waitlist-offer', undefined, 200)).items as {
        channel: string;
        provider: string;
        status: string;
        recipientType: string;
      }[];
      expect(offers.map((d) => [d.channel, d.provider, d.status]).sort()).toEqual([
        ['email', 'smtp', 'sent'],
        ['sms', 'twilio', 'sent'],
        ['telegram', 'telegram', 'sent'],
        // Meta's status webhook said so above.
        ['whatsapp', 'whatsapp-cloud', 'delivered'],
      ]);
      const alerts = (await api('GET', '/v1/deliveries?kind=staff-alert&channel=staff-chat', undefined, 200)).items as {
        provider: string;
        status: string;
        maskedRecipient: string;
      }[];
      expect(alerts.map((d) => [d.provider, d.status])).toEqual([[venue.provider, 'sent']]);
      expect(whatsapp.specViolations).toEqual([]);
      expect(telegram.violations).toEqual([]);
      expect(servers.twilio.specViolations).toEqual([]);
      expect(logger.errors).toEqual([]);
    });
  }

  // After the three venues above (this file's tests run in order): what an operator's Prometheus reads.
  it('counts every channel’s deliveries and provider calls in /metrics, by channel and provider', async () => {
    const response = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(response.status).toBe(200);
    const text = await response.text();
    const value = (name: string, labels: Record<string, string>) => {
      const wanted = Object.entries(labels).map(([key, v]) => `${key}="${v}"`);
      return text
        .split('\n')
        .filter((line) => line.startsWith(`${name}{`))
        .filter((line) =>
          wanted.every((pair) =>
            line
              .slice(name.length + 1, line.indexOf('}'))
              .split(',')
              .includes(pair),
          ),
        )
        .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
    };
    // One WhatsApp and one Telegram offer per venue; one alert in each venue's staff room.
    for (const [channel, provider, count] of [
      ['whatsapp', 'whatsapp-cloud', 3],
      ['telegram', 'telegram', 3],
      ['staff-chat', 'slack', 1],
      ['staff-chat', 'teams', 1],
      ['staff-chat', 'discord', 1],
    ] as const) {
      expect(value('herald_deliveries_total', { channel, provider, status: 'sent' }), `${channel} ${provider}`).toBe(
        count,
      );
      expect(
        value('herald_provider_request_duration_seconds_count', { channel, provider, outcome: 'accepted' }),
        `${channel} ${provider} calls`,
      ).toBe(count);
    }
    // Meta's status webhooks: three offers delivered.
    expect(value('herald_deliveries_total', { channel: 'whatsapp', status: 'delivered' })).toBe(3);
    // No address, chat id or tenant in the exposition.
    // Tom's chat ids (7000001–7000003) as whole numbers: a float like 0.0136922170000011 is not one.
    expect(text).not.toMatch(/(?<![\d.])700000[1-3](?![\d.])/);
    expect(text).not.toContain('+420777');
    expect(text).not.toMatch(/"(pool|sauna|gym)"/);
  });
});
