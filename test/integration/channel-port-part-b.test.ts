import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutboundMessage } from '../../src/application/ports/channel.port.js';
import { createSmartEmailingEmailChannel } from '../../src/infrastructure/channels/smartemailing-email-channel.js';
import { startSmartEmailingStandIn, type SmartEmailingStandIn } from '../support/smartemailing-stand-in.js';
import { channelPortContract } from './channel-port.contract.js';

const clock = { now: () => new Date() };
const base = (n: number): Omit<OutboundMessage, 'channel' | 'to' | 'content'> => ({
  tenantId: 'contract',
  notificationId: `contract-${n}`,
  idempotencyKey: `contract-${n}`,
});

// ---------------------------------------------------------------------------------------------------------------
// SmartEmailing (seed 001): a prepared custom e-mail with replacements; any other e-mail as a transactional one.
const SE = { username: 'desk@example.com', apiKey: 'se-contract-key-0123456789abcdef' };
const SE_EMAIL_ID = 4711;
const customEmail = (n: number, to: string, emailId = SE_EMAIL_ID): OutboundMessage => ({
  ...base(n),
  channel: 'email',
  to,
  content: {
    from: { name: 'Desk', address: 'desk@example.com' },
    subject: `A place is free (${n})`,
    text: `Ada, a place is free: https://herald.example/claim/${n}`,
    template: {
      system: 'smartemailing',
      id: String(emailId),
      parameters: [
        { name: 'customerName', value: 'Ada' },
        { name: 'claimUrl', value: `https://herald.example/claim/${n}` },
      ],
    },
  },
});

let smartemailing: SmartEmailingStandIn;
channelPortContract('SmartEmailing API v3 custom e-mails', {
  statusCallbacks: false,
  credentials: true,
  async setUp() {
    smartemailing = await startSmartEmailingStandIn(SE);
    smartemailing.addEmail(SE_EMAIL_ID);
    const adapter = (apiKey: string) =>
      createSmartEmailingEmailChannel({ ...SE, apiKey, apiUrl: smartemailing.url, clock, timeoutMs: 2_000 });
    return {
      adapter: adapter(SE.apiKey),
      wrongCredentials: adapter('se-wrong-key-0123456789abcdef'),
      message: (n) => customEmail(n, `guest${n}@example.com`),
      // An e-mail id that does not exist in the account: 422.
      refusedMessage: () => customEmail(0, 'guest@example.com', 999),
      requests: () => smartemailing.requests.length,
      failNext: (count, status, retryAfter) => smartemailing.failNext(count, status, retryAfter),
      setDown: (down) => smartemailing.setDown(down),
      retryAfter: true,
      violations: () => smartemailing.violations,
    };
  },
  tearDown: async () => smartemailing?.close(),
});

describe('SmartEmailing: what the customer receives', () => {
  let standIn: SmartEmailingStandIn;
  beforeAll(async () => {
    standIn = await startSmartEmailingStandIn(SE);
    standIn.addEmail(SE_EMAIL_ID);
  });
  afterAll(async () => standIn?.close());
  const adapter = () => createSmartEmailingEmailChannel({ ...SE, apiUrl: standIn.url, clock, timeoutMs: 2_000 });

  it('sends the prepared e-mail to the contact with the placeholders as replacements', async () => {
    const outcome = await adapter().send(customEmail(1, 'ada@example.com'));
    expect(outcome).toMatchObject({ outcome: 'accepted' });
    const [send] = standIn.sends.slice(-1);
    expect(send).toMatchObject({
      kind: 'custom',
      recipient: 'ada@example.com',
      emailId: SE_EMAIL_ID,
      replace: [
        { key: 'customerName', content: 'Ada' },
        { key: 'claimUrl', content: 'https://herald.example/claim/1' },
      ],
    });
    expect(send!.body.sender_credentials).toEqual({
      from: 'desk@example.com',
      reply_to: 'desk@example.com',
      sender_name: 'Desk',
    });
    expect((outcome as { providerMessageId: string }).providerMessageId).toBe(send!.id);
    expect(standIn.violations).toEqual([]);
  });

  it('sends an e-mail without a SmartEmailing template as a transactional e-mail with its own text', async () => {
    const outcome = await adapter().send({
      ...base(2),
      channel: 'email',
      to: 'bob@example.com',
      content: {
        from: { address: 'desk@example.com' },
        subject: 'Your reservation',
        text: 'Yoga <Tuesday> 18:00',
        attachments: [],
      },
      attachments: [{ filename: 'reservation.pdf', contentType: 'application/pdf', content: Buffer.from('%PDF-1.7') }],
    });
    expect(outcome).toMatchObject({ outcome: 'accepted' });
    const [send] = standIn.sends.slice(-1);
    expect(send).toMatchObject({ kind: 'transactional', recipient: 'bob@example.com' });
    expect(send!.body.message_contents).toEqual({
      subject: 'Your reservation',
      text_body: 'Yoga <Tuesday> 18:00',
      html_body: '<pre>Yoga &#60;Tuesday&#62; 18:00</pre>',
    });
    const task = (send!.body.tasks as { attachments: { file_name: string; data_base64: string }[] }[])[0]!;
    expect(task.attachments).toEqual([
      {
        file_name: 'reservation.pdf',
        content_type: 'application/pdf',
        data_base64: Buffer.from('%PDF-1.7').toString('base64'),
      },
    ]);
    expect(standIn.violations).toEqual([]);
  });
});
