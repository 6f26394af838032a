import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutboundMessage } from '../../src/application/ports/channel.port.js';
import { createSesEmailChannel } from '../../src/infrastructure/channels/ses-email-channel.js';
import { startSesStandIn, type SesStandIn } from '../support/ses-stand-in.js';
import { channelPortContract } from './channel-port.contract.js';

/**
 * Channel port contract, part A of the adapters: Amazon SES v2 (more providers follow in this file). Each stand-in
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
