import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DeliveryError, type EmailMessage, type EmailSender } from '../../src/application/ports/email-sender.port.js';
import { createOutboxEmailSender } from '../../src/infrastructure/email/outbox-email-sender.js';
import { createSmtpEmailSender, messageIdFor } from '../../src/infrastructure/email/smtp-email-sender.js';
import { parseEmail, startSmtpTestServer, type ParsedEmail, type SmtpTestServer } from '../support/smtp-test-server.js';

const NOW = new Date('2030-05-06T07:08:09.000Z');
const clock = { now: () => NOW };

const ICS = (method: 'REQUEST' | 'CANCEL') =>
  [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//Herald//Reservations//EN',
    `METHOD:${method}`,
    'BEGIN:VEVENT',
    'UID:reservation-42@herald',
    'DTSTAMP:20300506T070809Z',
    'DTSTART:20300510T190000Z',
    'DTEND:20300510T210000Z',
    'SUMMARY:Table for 4',
    'END:VEVENT',
    'END:VCALENDAR',
    '',
  ].join('\r\n');

function confirmation(overrides: Partial<EmailMessage> = {}): EmailMessage {
  return {
    idempotencyKey: 'notification-7f3c:ReservationConfirmed:email',
    from: { name: 'Chez Herald', address: 'bookings@herald.test' },
    to: 'ada@example.test',
    subject: 'Your table is confirmed',
    text: 'See you on Friday at 19:00.',
    html: '<p>See you on <b>Friday</b> at 19:00.</p>',
    ...overrides,
  };
}

/** One adapter plus the way to look into the mailbox it delivers to. */
interface Target {
  readonly sender: EmailSender;
  delivered(count: number): Promise<ParsedEmail[]>;
}

interface Harness {
  readonly name: string;
  setUp(): Promise<Target>;
  tearDown(): Promise<void>;
}

let smtp: SmtpTestServer;
beforeAll(async () => {
  smtp = await startSmtpTestServer();
});
afterAll(async () => {
  await smtp?.close();
});

const smtpHarness = (): Harness => {
  let sender: EmailSender | undefined;
  return {
    name: 'SMTP (nodemailer -> smtp-server)',
    async setUp() {
      smtp.reset();
      sender = createSmtpEmailSender({ url: smtp.url, clock, timeoutMs: 2_000 });
      return { sender, delivered: (n) => smtp.waitForMessages(n) };
    },
    async tearDown() {
      await sender?.close();
    },
  };
};

const outboxHarness = (): Harness => {
  let dir = '';
  return {
    name: 'outbox (.eml files)',
    async setUp() {
      dir = await mkdtemp(join(tmpdir(), 'herald-outbox-'));
      const sender = createOutboxEmailSender({ dir, clock });
      return {
        sender,
        async delivered() {
          const files = (await readdir(join(dir, 'email'))).sort();
          return Promise.all(files.map(async (f) => parseEmail(await readFile(join(dir, 'email', f)))));
        },
      };
    },
    async tearDown() {
      await rm(dir, { recursive: true, force: true });
    },
  };
};

describe.each([smtpHarness(), outboxHarness()])('EmailSender contract: $name', (harness) => {
  let target: Target;
  beforeEach(async () => {
    target = await harness.setUp();
  });
  afterEach(() => harness.tearDown());

  it('delivers subject, text, html and the sender name, under a Message-ID derived from the idempotency key', async () => {
    const acceptance = await target.sender.send(confirmation());

    const [mail] = await target.delivered(1);
    expect(mail).toMatchObject({
      from: { name: 'Chez Herald', address: 'bookings@herald.test' },
      to: ['ada@example.test'],
      subject: 'Your table is confirmed',
      text: 'See you on Friday at 19:00.',
      html: '<p>See you on <b>Friday</b> at 19:00.</p>',
      messageId: messageIdFor('notification-7f3c:ReservationConfirmed:email'),
    });
    expect(acceptance.providerMessageId).not.toBe('');
    expect(acceptance.acceptedAt).toBe(NOW.toISOString());
  });

  it('keeps non-ASCII subject and body intact', async () => {
    await target.sender.send(confirmation({ subject: 'Réservation confirmée — 予約 ✅', text: 'À vendredi ! 🍷' }));

    const [mail] = await target.delivered(1);
    expect(mail?.subject).toBe('Réservation confirmée — 予約 ✅');
    expect(mail?.text).toBe('À vendredi ! 🍷');
  });

  it.each(['REQUEST', 'CANCEL'] as const)('attaches the calendar invitation with METHOD:%s', async (method) => {
    await target.sender.send(confirmation({ calendar: { method, content: ICS(method) } }));

    const [mail] = await target.delivered(1);
    const calendarParts = mail!.attachments.filter((a) => /calendar|ics/.test(a.contentType));
    expect(calendarParts.length).toBeGreaterThan(0);
    for (const part of calendarParts) expect(part.content.toString('utf8')).toContain(`METHOD:${method}`);
    expect(calendarParts.find((a) => a.contentType === 'text/calendar')?.method).toBe(method);
  });

  it('gives a resend the same Message-ID, so it is recognisable as the same mail', async () => {
    const first = await target.sender.send(confirmation());
    const again = await target.sender.send(confirmation({ subject: 'Your table is confirmed (resent)' }));

    expect(again.providerMessageId).toBe(first.providerMessageId);
    const copies = await target.delivered(1);
    for (const copy of copies) expect(copy.messageId).toBe(messageIdFor(confirmation().idempotencyKey));
  });

  it('derives distinct Message-IDs from distinct keys, whatever characters they hold', () => {
    const keys = ['a.b', 'a%2Eb', 'a b', 'a@b', 'a<b>', 'réservation', 'a'.repeat(100)];
    const ids = keys.map(messageIdFor);
    expect(new Set(ids).size).toBe(keys.length);
    for (const id of ids) expect(id).toMatch(/^<[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+@herald>$/);
  });
});

describe('SMTP adapter failures', () => {
  let sender: EmailSender;
  beforeEach(() => {
    smtp.reset();
    sender = createSmtpEmailSender({ url: smtp.url, clock, timeoutMs: 500 });
  });
  afterEach(async () => {
    await smtp.setDown(false);
    await sender.close();
  });

  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => expect.fail('expected the send to fail'),
      (err: unknown) => {
        expect(err).toBeInstanceOf(DeliveryError);
        return err as DeliveryError;
      },
    );

  it('reports a refused connection as transient, and delivers once the server is back', async () => {
    await sender.send(confirmation({ idempotencyKey: 'warm-up' })); // a pooled connection exists
    await smtp.setDown(true, 'refuse');

    const err = await failure(sender.send(confirmation()));
    expect(err.transient).toBe(true);

    await smtp.setDown(false);
    await sender.send(confirmation());
    await smtp.waitForMessages(2);
  });

  it('reports a 421 greeting as transient with the reply code', async () => {
    await smtp.setDown(true, 'reply421');

    const err = await failure(sender.send(confirmation()));
    expect(err).toMatchObject({ transient: true, providerCode: '421' });
  });

  it('reports a server that never greets as transient once the timeout passes', async () => {
    await smtp.setDown(true, 'hang');

    const err = await failure(sender.send(confirmation()));
    expect(err.transient).toBe(true);
  });

  it('reports a refused recipient (550 mailbox unavailable) as permanent with the reply code', async () => {
    smtp.rejectRecipient('gone@example.test');

    const err = await failure(sender.send(confirmation({ to: 'gone@example.test' })));
    expect(err).toMatchObject({ transient: false, providerCode: '550' });
    expect(smtp.messages).toHaveLength(0);
  });

  it.each([
    [450, 'Mailbox busy', true],
    [451, 'Local error in processing', true],
    [452, 'Insufficient system storage', true],
    [550, 'Message rejected by policy', false],
    [553, 'Mailbox name not allowed', false],
    [501, 'Syntax error in address', false],
  ])('maps a %i reply after DATA to transient=%s', async (code, message, transient) => {
    smtp.failNext(1, code, message);

    const err = await failure(sender.send(confirmation()));
    expect(err).toMatchObject({ transient, providerCode: String(code) });
  });

  it('sends to an internationalised domain as punycode, and a non-ASCII local part with SMTPUTF8', async () => {
    await sender.send(confirmation({ to: 'ada@exämple.com', idempotencyKey: 'idn-domain' }));
    await sender.send(confirmation({ to: 'jøran@exämple.no', idempotencyKey: 'idn-local' }));
    const [domain, local] = await smtp.waitForMessages(2);
    expect(smtp.envelopeCommands.filter((line) => line.startsWith('RCPT TO'))).toEqual([
      'RCPT TO:<ada@xn--exmple-cua.com>',
      'RCPT TO:<jøran@exämple.no>',
    ]);
    expect(domain!.envelope.smtpUtf8).toBe(false);
    expect(local!.envelope).toMatchObject({ rcptTo: ['jøran@exämple.no'], smtpUtf8: true });
    expect(local!.to).toEqual(['jøran@exämple.no']);
  });

  it('without SMTPUTF8 at the server the address goes as it is; a server refusing it is a permanent failure', async () => {
    const plain = await startSmtpTestServer({ hideSmtpUtf8: true });
    const toPlain = createSmtpEmailSender({ url: plain.url, clock, timeoutMs: 500 });
    try {
      await toPlain.send(confirmation({ to: 'ada@exämple.com', idempotencyKey: 'ascii-local' }));
      await plain.waitForMessages(1);
      // What an RFC 6531 server without the extension answers for a UTF-8 mailbox (Postfix: 553 5.6.7).
      plain.rejectRecipient('jøran@exämple.no', 553, '5.6.7 SMTPUTF8 is required, but was not offered');
      const err = await failure(toPlain.send(confirmation({ to: 'jøran@exämple.no', idempotencyKey: 'utf8-local' })));
      expect(err).toMatchObject({ transient: false, providerCode: '553' });
      expect(err.message).toContain('SMTPUTF8');
      expect(
        plain.envelopeCommands.filter((line) => line.startsWith('MAIL FROM')).some((l) => /SMTPUTF8/.test(l)),
      ).toBe(false);
      expect(plain.envelopeCommands.filter((line) => line.startsWith('RCPT TO'))).toEqual([
        'RCPT TO:<ada@xn--exmple-cua.com>',
        'RCPT TO:<jøran@exämple.no>',
      ]);
    } finally {
      await toPlain.close();
      await plain.close();
    }
  });

  it("returns the Message-ID as the provider id and the server's queue id alongside", async () => {
    const acceptance = await sender.send(confirmation());

    const [mail] = await smtp.waitForMessages(1);
    expect(acceptance).toMatchObject({ providerMessageId: mail!.messageId, serverQueueId: mail!.queueId });
  });
});

describe('outbox adapter files', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'herald-outbox-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('replaces the file of a resent message instead of adding one, and leaves no temp files', async () => {
    const sender = createOutboxEmailSender({ dir, clock });
    await sender.send(confirmation({ text: 'first' }));
    await sender.send(confirmation({ text: 'second' }));
    await sender.send(confirmation({ idempotencyKey: 'another/key with spaces' }));

    const files = (await readdir(join(dir, 'email'))).sort();
    expect(files).toHaveLength(2);
    expect(files.every((f) => f.endsWith('.eml'))).toBe(true);
    const resent = await parseEmail(
      await readFile(
        join(
          dir,
          'email',
          files.find((f) => f.startsWith('notif'))!,
        ),
      ),
    );
    expect(resent.text).toBe('second');
  });
});
