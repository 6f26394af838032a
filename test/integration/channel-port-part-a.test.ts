import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutboundMessage } from '../../src/application/ports/channel.port.js';
import { generateKeyPairSync } from 'node:crypto';
import { createFcmPushChannel } from '../../src/infrastructure/channels/fcm-push-channel.js';
import { createPusherRealtimeChannel } from '../../src/infrastructure/channels/pusher-realtime-channel.js';
import { startPusherStandIn, type PusherStandIn } from '../support/pusher-stand-in.js';
import { createSesEmailChannel } from '../../src/infrastructure/channels/ses-email-channel.js';
import { startFcmStandIn, type FcmStandIn } from '../support/fcm-stand-in.js';
import { startSesStandIn, type SesStandIn } from '../support/ses-stand-in.js';
import { channelPortContract } from './channel-port.contract.js';

/**
 * Channel port contract, part A of the adapters: Amazon SES v2, Firebase Cloud Messaging HTTP v1, Pusher Channels trigger. Each stand-in
 * runs on loopback and checks the provider's documented request shape and authentication.
 */

const clock = { now: () => new Date() };
const base = (n: number): Omit<OutboundMessage, 'channel' | 'to' | 'content'> => ({
  tenantId: 'contract',
  notificationId: `contract-${n}`,
  idempotencyKey: `contract-${n}`,
});

// ---------------------------------------------------------------------------------------------------------------
const SES = {
  region: 'eu-west-1',
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};
let ses: SesStandIn;
const sesAdapter = (secretAccessKey = SES.secretAccessKey, accessKeyId = SES.accessKeyId) =>
  createSesEmailChannel({ ...SES, accessKeyId, secretAccessKey, apiUrl: ses.url, clock, timeoutMs: 2_000 });
const sesEmail = (n: number, to: string, from = 'desk@example.com'): OutboundMessage => ({
  ...base(n),
  channel: 'email',
  to,
  content: {
    from: { name: 'Front Desk', address: from },
    subject: `Reservation ${n}`,
    text: `Your reservation ${n}.`,
    html: `<p>Reservation ${n}</p>`,
  },
});

channelPortContract('Amazon SES v2 SendEmail', {
  statusCallbacks: false,
  credentials: true,
  async setUp() {
    ses = await startSesStandIn({ ...SES, verifiedIdentities: ['desk@example.com'] });
    return {
      adapter: sesAdapter(),
      // The right key id with another secret: the signature does not match.
      wrongCredentials: sesAdapter('wrong/K7MDENG/bPxRfiCYEXAMPLEKEY0000000'),
      message: (n) => sesEmail(n, `guest${n}@example.com`),
      // A sender that is not a verified identity: MessageRejected.
      refusedMessage: () => sesEmail(0, 'guest@example.com', 'stranger@example.org'),
      requests: () => ses.requests.length,
      failNext: (count, status, retryAfter) => ses.failNext(count, status, retryAfter),
      setDown: (down) => ses.setDown(down),
      retryAfter: true,
      violations: () => ses.violations,
    };
  },
  tearDown: async () => ses?.close(),
});

describe('Amazon SES: what the customer receives', () => {
  let standIn: SesStandIn;
  beforeAll(async () => {
    standIn = await startSesStandIn({ ...SES, verifiedIdentities: ['example.com'] });
  });
  afterAll(async () => standIn.close());

  const adapter = (accessKeyId = SES.accessKeyId) =>
    createSesEmailChannel({ ...SES, accessKeyId, apiUrl: standIn.url, clock, timeoutMs: 2_000 });

  it('sends subject, text, HTML, the calendar invitation and the PDF, tagged with the delivery', async () => {
    const channel = adapter();
    const outcome = await channel.send({
      ...base(1),
      tenantId: 'tenant.one',
      channel: 'email',
      to: 'ada@example.net',
      content: {
        from: { name: 'Sauna Desk', address: 'desk@example.com' },
        subject: 'Your sauna on Friday',
        text: 'See you on Friday.',
        html: '<p>See you on Friday.</p>',
        ics: { method: 'REQUEST', content: 'BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n' },
      },
      attachments: [{ filename: 'reservation.pdf', contentType: 'application/pdf', content: Buffer.from('%PDF-1.7') }],
    });
    await channel.close();
    expect(outcome).toMatchObject({ outcome: 'accepted', providerMessageId: standIn.messages[0]?.messageId });
    const [message] = standIn.messages;
    expect(message).toMatchObject({
      from: '"Sauna Desk" <desk@example.com>',
      to: ['ada@example.net'],
      subject: 'Your sauna on Friday',
      text: 'See you on Friday.',
      html: '<p>See you on Friday.</p>',
      // SES tags allow letters, digits, _ and -: the tenant's dot becomes _.
      tags: { herald_tenant: 'tenant_one', herald_notification: 'contract-1' },
    });
    expect(message!.attachments.map((a) => [a.fileName, a.contentType, a.content.toString()])).toEqual([
      ['invite.ics', 'text/calendar; method=REQUEST', 'BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n'],
      ['reservation.pdf', 'application/pdf', '%PDF-1.7'],
    ]);
    expect(standIn.violations).toEqual([]);
  });

  it('an unknown access key is permanent, naming what SES said', async () => {
    const channel = adapter('AKIAUNKNOWNKEY000000');
    const outcome = await channel.send(sesEmail(2, 'ada@example.net'));
    await channel.close();
    expect(outcome).toMatchObject({ outcome: 'permanent', code: 'UnrecognizedClientException' });
    expect((outcome as { reason: string }).reason).toContain('security token');
  });

  it('a wrong secret key fails the stand-in’s SigV4 check: permanent, InvalidSignatureException', async () => {
    const channel = createSesEmailChannel({
      ...SES,
      secretAccessKey: 'another/K7MDENG/bPxRfiCYEXAMPLEKEY00000',
      apiUrl: standIn.url,
      clock,
      timeoutMs: 2_000,
    });
    const outcome = await channel.send(sesEmail(3, 'ada@example.net'));
    await channel.close();
    expect(outcome).toMatchObject({ outcome: 'permanent', code: 'InvalidSignatureException' });
    expect(standIn.violations).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
const FCM = { projectId: 'herald-contract', clientEmail: 'herald-push@herald-contract.iam.gserviceaccount.com' };
let fcm: FcmStandIn;
const deviceToken = (n: number) => `dXkT${String(n).padStart(6, '0')}:APA91bH-contract-token_${'x'.repeat(100)}`;
const push = (n: number, to = deviceToken(n)): OutboundMessage => ({
  ...base(n),
  channel: 'push',
  to,
  content: { subject: 'A place is free', text: `A seat for Friday is yours if you want it (${n}).` },
});
const fcmAdapter = (standIn: FcmStandIn, privateKey = standIn.privateKey) =>
  createFcmPushChannel({
    ...FCM,
    privateKey,
    apiUrl: standIn.url,
    tokenUrl: standIn.tokenUrl,
    clock,
    timeoutMs: 2_000,
  });
const anotherKey = () =>
  generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

channelPortContract('Firebase Cloud Messaging HTTP v1', {
  statusCallbacks: false,
  credentials: true,
  async setUp() {
    fcm = await startFcmStandIn(FCM);
    fcm.unregister(deviceToken(0));
    const adapter = fcmAdapter(fcm);
    // Signs in once, so each case below counts only its own request (a token is reused until it expires).
    expect(await adapter.send(push(9999))).toMatchObject({ outcome: 'accepted' });
    return {
      adapter,
      // Another service-account key: the token endpoint refuses the JWT (invalid_grant).
      wrongCredentials: fcmAdapter(fcm, anotherKey()),
      message: (n) => push(n),
      // An app uninstalled: UNREGISTERED.
      refusedMessage: () => push(0),
      requests: () => fcm.requests.length,
      failNext: (count, status, retryAfter) => fcm.failNext(count, status, retryAfter),
      setDown: (down) => fcm.setDown(down),
      retryAfter: true,
      violations: () => fcm.violations,
    };
  },
  tearDown: async () => fcm?.close(),
});

describe('Firebase Cloud Messaging: what the device receives, and the sign-in', () => {
  let standIn: FcmStandIn;
  beforeAll(async () => {
    standIn = await startFcmStandIn(FCM);
  });
  afterAll(async () => standIn.close());

  it('shows the subject as title and the text as body, names the delivery in data, signs in once', async () => {
    const channel = fcmAdapter(standIn);
    const first = await channel.send(push(1));
    const second = await channel.send(push(2));
    expect(first).toMatchObject({ outcome: 'accepted', providerMessageId: standIn.pushes[0]?.name });
    expect(second).toMatchObject({ outcome: 'accepted', providerMessageId: standIn.pushes[1]?.name });
    expect(standIn.pushes[0]).toMatchObject({
      token: deviceToken(1),
      title: 'A place is free',
      body: 'A seat for Friday is yours if you want it (1).',
      data: { herald_notification: 'contract-1' },
    });
    expect(standIn.tokenRequests()).toBe(1);
    expect(standIn.violations).toEqual([]);
  });

  it('a malformed registration token is permanent INVALID_ARGUMENT', async () => {
    const outcome = await fcmAdapter(standIn).send(
      push(3, 'not-a-registration-token-but-long-enough-to-pass'.replace(/-/g, ' ')),
    );
    expect(outcome).toMatchObject({ outcome: 'permanent', code: 'INVALID_ARGUMENT' });
  });

  it('an access token FCM stopped taking is forgotten: retryable now, the next attempt signs in again', async () => {
    const channel = fcmAdapter(standIn);
    expect((await channel.send(push(4))).outcome).toBe('accepted');
    standIn.revokeAccessTokens();
    const tokensBefore = standIn.tokenRequests();
    expect(await channel.send(push(5))).toMatchObject({ outcome: 'retryable', code: 'UNAUTHENTICATED' });
    expect((await channel.send(push(5))).outcome).toBe('accepted');
    expect(standIn.tokenRequests() - tokensBefore).toBe(1);
  });

  it('503 UNAVAILABLE with Retry-After is retryable after that wait', async () => {
    const channel = fcmAdapter(standIn);
    expect((await channel.send(push(6))).outcome).toBe('accepted');
    standIn.failNext(1, 503, 30);
    expect(await channel.send(push(7))).toMatchObject({
      outcome: 'retryable',
      code: 'UNAVAILABLE',
      retryAfterMs: 30_000,
    });
  });
});

// ---------------------------------------------------------------------------------------------------------------
const PUSHER = { appId: '1234567', key: 'a1b2c3d4e5f6a7b8c9d0', secret: 'f0e9d8c7b6a5f4e3d2c1', cluster: 'eu' };
let pusher: PusherStandIn;
const live = (n: number, text = `A seat for Friday is free (${n}).`): OutboundMessage => ({
  ...base(n),
  channel: 'realtime',
  to: 'front-desk',
  content: { subject: 'Waitlist', text },
});
const pusherAdapter = (standIn: PusherStandIn, secret = PUSHER.secret) =>
  createPusherRealtimeChannel({ ...PUSHER, secret, apiUrl: standIn.url, clock, timeoutMs: 2_000 });

channelPortContract('Pusher Channels trigger', {
  statusCallbacks: false,
  credentials: true,
  async setUp() {
    pusher = await startPusherStandIn(PUSHER);
    return {
      adapter: pusherAdapter(pusher),
      // The right key with another secret: the signature does not match (401).
      wrongCredentials: pusherAdapter(pusher, '00000000000000000000'),
      message: (n) => live(n),
      // An event over Pusher's 10 kB: 413.
      refusedMessage: () => live(0, 'x'.repeat(12_000)),
      requests: () => pusher.requests.length,
      failNext: (count, status, retryAfter) => pusher.failNext(count, status, retryAfter),
      setDown: (down) => pusher.setDown(down),
      // The SDK exposes no response headers, and Pusher documents no Retry-After.
      retryAfter: false,
      violations: () => pusher.violations,
    };
  },
  tearDown: async () => pusher?.close(),
});

describe('Pusher Channels: what the page subscribed to the channel receives', () => {
  let standIn: PusherStandIn;
  beforeAll(async () => {
    standIn = await startPusherStandIn(PUSHER);
  });
  afterAll(async () => standIn.close());

  it('one signed event on the named channel, with the delivery id, subject and text', async () => {
    const outcome = await pusherAdapter(standIn).send(live(1));
    expect(outcome).toMatchObject({ outcome: 'accepted', providerMessageId: 'front-desk/contract-1' });
    expect(standIn.events).toEqual([
      {
        channels: ['front-desk'],
        name: 'herald-message',
        data: { notificationId: 'contract-1', subject: 'Waitlist', text: 'A seat for Friday is free (1).' },
      },
    ]);
    expect(standIn.violations).toEqual([]);
  });

  it('an app disabled or over quota (403) is permanent; an invalid channel name never leaves Herald', async () => {
    standIn.disableApp();
    try {
      expect(await pusherAdapter(standIn).send(live(2))).toMatchObject({ outcome: 'permanent', code: '403' });
    } finally {
      standIn.disableApp(false);
    }
    const before = standIn.requests.length;
    const outcome = await pusherAdapter(standIn).send({ ...live(3), to: 'front desk' });
    expect(outcome.outcome).toBe('permanent');
    expect(standIn.requests.length).toBe(before);
  });
});
