import { describe, expect, it } from 'vitest';
import { smsSenderChannel, emailSenderChannel } from '../../src/application/channels/sender-channels.js';
import type { OutboundMessage } from '../../src/application/ports/channel.port.js';
import { createSmtpEmailSender } from '../../src/infrastructure/email/smtp-email-sender.js';
import {
  createSendGridEmailChannel,
  sendGridStatusWebhook,
} from '../../src/infrastructure/channels/sendgrid-email-channel.js';
import {
  createDiscordChannel,
  createSlackChannel,
  createTeamsChannel,
} from '../../src/infrastructure/channels/staff-chat-channels.js';
import { createTelegramChannel } from '../../src/infrastructure/channels/telegram-channel.js';
import {
  createWhatsAppCloudChannel,
  whatsAppStatusWebhook,
} from '../../src/infrastructure/channels/whatsapp-cloud-channel.js';
import { twilioStatusWebhook } from '../../src/infrastructure/sms/twilio-signature.js';
import { createTwilioSmsSender } from '../../src/infrastructure/sms/twilio-sms-sender.js';
import { startSendGridStandIn, type SendGridStandIn } from '../support/sendgrid-stand-in.js';
import { startSmtpTestServer, type SmtpTestServer } from '../support/smtp-test-server.js';
import { silentLogger } from '../support/silent-logger.js';
import { startStaffChatStandIn, type StaffChatStandIn } from '../support/staff-chat-stand-ins.js';
import { startTelegramStandIn, type TelegramStandIn } from '../support/telegram-stand-in.js';
import { signTwilioRequest, startTwilioStandIn, type TwilioStandIn } from '../support/twilio-stand-in.js';
import { startWhatsAppStandIn, type WhatsAppStandIn } from '../support/whatsapp-stand-in.js';
import { channelPortContract } from './channel-port.contract.js';

const clock = { now: () => new Date() };
const base = (n: number): Omit<OutboundMessage, 'channel' | 'to' | 'content'> => ({
  tenantId: 'contract',
  notificationId: `contract-${n}`,
  idempotencyKey: `contract-${n}`,
});
const post = async (url: string, body: string, headers: Record<string, string>) => {
  const response = await fetch(url, { method: 'POST', headers, body });
  await response.arrayBuffer();
};

// ---------------------------------------------------------------------------------------------------------------
let sendgrid: SendGridStandIn;
const SENDGRID_KEY = 'SG.contract-key.0123456789abcdef';
channelPortContract('SendGrid v3 mail send', {
  statusCallbacks: true,
  credentials: true,
  async setUp() {
    sendgrid = await startSendGridStandIn({ apiKey: SENDGRID_KEY, verifiedSenders: ['desk@example.com'] });
    const adapter = (apiKey: string) =>
      createSendGridEmailChannel({ apiKey, apiUrl: sendgrid.url, clock, timeoutMs: 2_000 });
    const email = (n: number, to: string, from = 'desk@example.com'): OutboundMessage => ({
      ...base(n),
      channel: 'email',
      to,
      content: {
        from: { name: 'Desk', address: from },
        subject: `Reservation ${n}`,
        text: `Your reservation ${n}.`,
        html: `<p>${n}</p>`,
      },
    });
    return {
      adapter: adapter(SENDGRID_KEY),
      wrongCredentials: adapter('SG.wrong-key.0123456789abcdef'),
      message: (n) => email(n, `guest${n}@example.com`),
      // A sender that is not a verified Sender Identity: 403.
      refusedMessage: () => email(0, 'guest@example.com', 'stranger@example.com'),
      requests: () => sendgrid.requests.length,
      failNext: (count, status, retryAfter) => sendgrid.failNext(count, status, retryAfter),
      setDown: (down) => sendgrid.setDown(down),
      retryAfter: true,
      violations: () => [],
      statusCallbacks: {
        webhook: sendGridStatusWebhook,
        secret: sendgrid.webhookPublicKey,
        async post(url, id, status, options = {}) {
          await sendgrid.deliverEvents(
            url,
            [{ messageId: id, event: status === 'failed' ? 'dropped' : 'delivered', reason: 'Bounced Address' }],
            { ...(options.tamper ? { tamper: true } : {}), ...(options.secret ? { foreignKey: true } : {}) },
          );
        },
        expected: { delivered: 'delivered', failed: 'failed' },
      },
    };
  },
  tearDown: async () => sendgrid?.close(),
});

// ---------------------------------------------------------------------------------------------------------------
let whatsapp: WhatsAppStandIn;
const WA = {
  accessToken: 'EAAG-contract-token-0123456789',
  phoneNumberId: '106540352242922',
  appSecret: 'app-secret-0123456789abcdef',
};
channelPortContract('WhatsApp Business Cloud API (template messages)', {
  statusCallbacks: true,
  credentials: true,
  async setUp() {
    whatsapp = await startWhatsAppStandIn(WA);
    whatsapp.approveTemplate('waitlist_offer', 'en', 2);
    whatsapp.notOnWhatsApp('+14155550000');
    const adapter = (accessToken: string) =>
      createWhatsAppCloudChannel({
        accessToken,
        phoneNumberId: WA.phoneNumberId,
        apiUrl: `${whatsapp.url}/v23.0`,
        clock,
        timeoutMs: 2_000,
      });
    const message = (n: number, to: string): OutboundMessage => ({
      ...base(n),
      channel: 'whatsapp',
      to,
      content: {
        text: `A place is free: ${n}`,
        template: {
          system: 'whatsapp',
          id: 'waitlist_offer',
          language: 'en',
          parameters: [
            { name: 'customerName', value: 'Ada' },
            { name: 'claimUrl', value: `https://herald.example/claim/${n}` },
          ],
        },
      },
    });
    return {
      adapter: adapter(WA.accessToken),
      wrongCredentials: adapter('EAAG-wrong-token-0123456789'),
      message: (n) => message(n, `+1415555${String(1000 + (n % 9000)).padStart(4, '0')}`),
      refusedMessage: () => message(0, '+14155550000'),
      requests: () => whatsapp.requests.length,
      failNext: (count, status, retryAfter) => whatsapp.failNext(count, status, retryAfter),
      setDown: (down) => whatsapp.setDown(down),
      retryAfter: true,
      violations: () => whatsapp.specViolations,
      statusCallbacks: {
        webhook: whatsAppStatusWebhook,
        secret: WA.appSecret,
        async post(url, id, status, options = {}) {
          await whatsapp.deliverStatus(url, id, status, {
            ...(options.secret ? { secret: options.secret } : {}),
            ...(options.tamper ? { tamper: true } : {}),
          });
        },
        expected: { delivered: 'delivered', failed: 'failed' },
      },
    };
  },
  tearDown: async () => whatsapp?.close(),
});

// ---------------------------------------------------------------------------------------------------------------
let telegram: TelegramStandIn;
const BOT_TOKEN = '7012345678:AAH-contract-token-0123456789abcd';
channelPortContract('Telegram Bot API sendMessage', {
  statusCallbacks: false,
  credentials: true,
  async setUp() {
    telegram = await startTelegramStandIn({ botToken: BOT_TOKEN });
    const adapter = (botToken: string) =>
      createTelegramChannel({ botToken, apiUrl: telegram.url, clock, timeoutMs: 2_000 });
    const message = (n: number, chat: number): OutboundMessage => ({
      ...base(n),
      channel: 'telegram',
      to: String(chat),
      content: { text: `Herald: a place is free (${n}).` },
    });
    return {
      adapter: adapter(BOT_TOKEN),
      wrongCredentials: adapter('7012345678:AAH-wrong-token-0123456789abcdefg'),
      message: (n) => {
        telegram.startChat(500_000 + n);
        return message(n, 500_000 + n);
      },
      // Nobody pressed Start in this chat: 400 chat not found.
      refusedMessage: () => message(0, 999_999),
      requests: () => telegram.requests.length,
      failNext: (count, status, retryAfter) => telegram.failNext(count, status, retryAfter),
      setDown: (down) => telegram.setDown(down),
      retryAfter: true,
      violations: () => telegram.violations,
    };
  },
  tearDown: async () => telegram?.close(),
});

// ---------------------------------------------------------------------------------------------------------------
// Staff chat: Slack, Teams, Discord webhooks. The webhook URL is the credential (its path carries the secret).
const staffChat = (
  name: string,
  provider: 'slack' | 'teams' | 'discord',
  create: typeof createSlackChannel,
  refused: 'empty' | 'too-long',
) => {
  let standIn: StaffChatStandIn;
  channelPortContract(name, {
    statusCallbacks: false,
    credentials: true,
    async setUp() {
      standIn = await startStaffChatStandIn(provider);
      const adapter = (webhookUrl: string) => create({ webhookUrl, clock, timeoutMs: 2_000 });
      const message = (n: number, text: string): OutboundMessage => ({
        ...base(n),
        channel: 'staff-chat',
        to: 'front-desk',
        content: { text },
      });
      return {
        adapter: adapter(standIn.webhookUrl),
        wrongCredentials: adapter(standIn.wrongWebhookUrl),
        message: (n) =>
          message(n, `Nobody took the offered seat (${n})\nYoga, Tuesday 18:00: the waitlist is exhausted.`),
        // Slack refuses a section without text (invalid_blocks); Teams and Discord alerts longer than the
        // documented bound are refused by the adapter before any request.
        refusedMessage: () => message(0, refused === 'empty' ? '' : 'x'.repeat(5000)),
        requests: () => standIn.requests.length,
        failNext: (count, status, retryAfter) => standIn.failNext(count, status, retryAfter),
        setDown: (down) => standIn.setDown(down),
        retryAfter: true,
        violations: () => standIn.violations,
      };
    },
    tearDown: async () => standIn?.close(),
  });
};
staffChat('Slack incoming webhook (Block Kit)', 'slack', createSlackChannel, 'empty');
staffChat('Microsoft Teams Workflows webhook (Adaptive Card)', 'teams', createTeamsChannel, 'too-long');
staffChat('Discord webhook (embeds)', 'discord', createDiscordChannel, 'too-long');

// ---------------------------------------------------------------------------------------------------------------
let twilio: TwilioStandIn;
const TWILIO = {
  accountSid: 'AC' + 'c0ffee00'.repeat(4),
  authToken: 'contract-auth-token-0123456789ab',
  from: '+15005550006',
};
channelPortContract('Twilio Programmable Messaging (SMS)', {
  statusCallbacks: true,
  credentials: true,
  async setUp() {
    twilio = await startTwilioStandIn({ accountSid: TWILIO.accountSid, authToken: TWILIO.authToken });
    twilio.rejectTo('+14155550000', 21610, 'Attempt to send to unsubscribed recipient');
    const adapter = (authToken: string) =>
      smsSenderChannel(createTwilioSmsSender({ ...TWILIO, authToken, apiUrl: twilio.url, clock, timeoutMs: 2_000 }));
    const message = (n: number, to: string): OutboundMessage => ({
      ...base(n),
      channel: 'sms',
      to,
      content: { text: `Herald: reservation ${n} confirmed.` },
    });
    return {
      adapter: adapter(TWILIO.authToken),
      wrongCredentials: adapter('wrong-auth-token-0123456789abcdef'),
      message: (n) => message(n, `+1415555${String(1000 + (n % 9000)).padStart(4, '0')}`),
      refusedMessage: () => message(0, '+14155550000'),
      requests: () => twilio.requestCount,
      failNext: (count, status, retryAfter) => twilio.failNext(count, status as 429 | 500 | 503, retryAfter),
      setDown: (down) => twilio.setDown(down),
      retryAfter: true,
      violations: () => twilio.specViolations,
      statusCallbacks: {
        webhook: twilioStatusWebhook,
        secret: TWILIO.authToken,
        async post(url, sid, status, options = {}) {
          const params = {
            AccountSid: TWILIO.accountSid,
            MessageSid: sid,
            MessageStatus: status,
            ApiVersion: '2010-04-01',
          };
          const signature = signTwilioRequest(options.secret ?? TWILIO.authToken, url, params);
          const body = new URLSearchParams(options.tamper ? { ...params, MessageStatus: 'failed' } : params).toString();
          await post(url, body, {
            'content-type': 'application/x-www-form-urlencoded',
            'X-Twilio-Signature': signature,
          });
        },
        expected: { delivered: 'delivered', failed: 'failed' },
      },
    };
  },
  tearDown: async () => twilio?.close(),
});

// ---------------------------------------------------------------------------------------------------------------
let smtp: SmtpTestServer;
channelPortContract('SMTP (nodemailer)', {
  statusCallbacks: false,
  credentials: false,
  async setUp() {
    smtp = await startSmtpTestServer();
    smtp.rejectRecipient('nobody@example.com');
    const adapter = emailSenderChannel(
      createSmtpEmailSender({ url: smtp.url, clock, logger: silentLogger(), timeoutMs: 2_000 }),
    );
    const message = (n: number, to: string): OutboundMessage => ({
      ...base(n),
      channel: 'email',
      to,
      content: { from: { address: 'desk@example.com' }, subject: `Reservation ${n}`, text: `Your reservation ${n}.` },
    });
    return {
      adapter,
      message: (n) => message(n, `guest${n}@example.com`),
      refusedMessage: () => message(0, 'nobody@example.com'),
      // Each transmission is one SMTP transaction: one MAIL FROM.
      requests: () => smtp.envelopeCommands.filter((c) => /^MAIL FROM/i.test(c)).length,
      // SMTP's transient refusals: 421 for "too many", 451 for a server problem.
      failNext: (count, status) => smtp.failNext(count, status === 429 ? 421 : 451, '4.3.0 Try again later'),
      setDown: (down) => smtp.setDown(down),
      retryAfter: false,
      violations: () => [],
    };
  },
  tearDown: async () => smtp?.close(),
});

describe('staff chat: what the room sees', () => {
  const alert = (n: number): OutboundMessage => ({
    ...base(n),
    channel: 'staff-chat',
    to: 'front-desk',
    content: { text: 'Nobody took the offered seat\nYoga <@everyone> *Tuesday* 18:00: the waitlist is exhausted.' },
  });

  it.each([
    ['slack', createSlackChannel],
    ['teams', createTeamsChannel],
    ['discord', createDiscordChannel],
  ] as const)(
    '%s: the title and the text as sent, plain, and no webhook secret in a failure reason',
    async (p, create) => {
      const standIn = await startStaffChatStandIn(p);
      try {
        const adapter = create({ webhookUrl: standIn.webhookUrl, clock, timeoutMs: 2_000 });
        expect((await adapter.send(alert(1))).outcome).toBe('accepted');
        expect(standIn.posts).toEqual([
          expect.objectContaining({
            title: 'Nobody took the offered seat',
            body: 'Yoga <@everyone> *Tuesday* 18:00: the waitlist is exhausted.',
          }),
        ]);
        const raw = standIn.posts[0]!.raw;
        if (p === 'slack')
          expect(raw).toMatchObject({
            mrkdwn: false,
            blocks: [{ type: 'header' }, { type: 'section', text: { type: 'plain_text' } }],
          });
        if (p === 'discord') expect(raw).toMatchObject({ allowed_mentions: { parse: [] } });
        const wrong = await create({ webhookUrl: standIn.wrongWebhookUrl, clock, timeoutMs: 2_000 }).send(alert(2));
        expect(wrong.outcome).toBe('permanent');
        expect(JSON.stringify(wrong)).not.toContain(new URL(standIn.wrongWebhookUrl).pathname);
        expect(standIn.violations).toEqual([]);
      } finally {
        await standIn.close();
      }
    },
  );

  it('discord: a 429 whose wait is only in the JSON body (retry_after, seconds) is honoured', async () => {
    const standIn = await startStaffChatStandIn('discord');
    try {
      standIn.failNext(1, 429, undefined);
      const outcome = await createDiscordChannel({ webhookUrl: standIn.webhookUrl, clock }).send(alert(3));
      expect(outcome).toMatchObject({ outcome: 'retryable', retryAfterMs: 1_000 });
    } finally {
      await standIn.close();
    }
  });
});
