import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Herald } from '../../src/interfaces/herald.js';
import { renderReservationPdf } from '../../src/infrastructure/documents/pdf-document-renderer.js';
import { AUTH, createHeraldOnServers, reservationRequest, TWILIO } from '../support/herald-harness.js';
import { readPdf } from '../support/pdf-document.js';
import { silentLogger } from '../support/silent-logger.js';
import { startSmtpTestServer, type SmtpTestServer } from '../support/smtp-test-server.js';
import { startTwilioStandIn, type TwilioStandIn } from '../support/twilio-stand-in.js';

const data = {
  reservationId: '3f2a9c4e-8b1d-4c57-9d2e-0b8f5a7c3e21',
  code: 'K7M2QX',
  customerName: 'Jiří Dvořák',
  serviceName: 'Masáž zad',
  locationName: 'Wellness Praha',
  locationAddress: 'Vodičkova 1, Praha',
  start: '2030-12-01T17:00:00.000Z',
  end: '2030-12-01T18:00:00.000Z',
  timeZone: 'Europe/Prague',
  locale: 'cs-CZ',
  partySize: 2,
  senderName: 'Wellness Praha',
  issuedAt: '2030-11-01T10:00:00.000Z',
};

describe('the reservation PDF', () => {
  it("shows the code (text and a QR code a phone reads) and the details in the customer's language and the location's time", async () => {
    const pdf = await readPdf(await renderReservationPdf(data));
    expect(pdf.pages).toBe(1);
    expect(pdf.qr).toBe('K7M2QX');
    for (const shown of [
      'Rezervace',
      'K7M2QX',
      'Jiří Dvořák',
      'Masáž zad',
      '18:00',
      'Vodičkova 1, Praha',
      'Počet osob',
    ]) {
      expect(pdf.text).toContain(shown);
    }
    expect(pdf.text).not.toContain(data.reservationId);
  });

  it('is the same bytes for the same reservation, whenever it is rendered (a re-sent email carries the same file)', async () => {
    const first = await renderReservationPdf(data);
    const second = await renderReservationPdf(data);
    expect(Buffer.compare(Buffer.from(first), Buffer.from(second))).toBe(0);
    const other = await renderReservationPdf({ ...data, code: 'AB2CDE' });
    expect(Buffer.compare(Buffer.from(first), Buffer.from(other))).not.toBe(0);
  });
});

describe('the reservation PDF attached to the confirmation, over the SMTP server', () => {
  let smtp: SmtpTestServer;
  let twilio: TwilioStandIn;
  let herald: Herald;
  beforeAll(async () => {
    smtp = await startSmtpTestServer();
    twilio = await startTwilioStandIn({ accountSid: TWILIO.accountSid, authToken: TWILIO.authToken });
    herald = await createHeraldOnServers({
      readModels: { kind: 'sqlite' },
      smtpUrl: smtp.url,
      twilioUrl: twilio.url,
      logger: silentLogger(),
    });
    await herald.start();
  });
  afterAll(async () => {
    await herald?.stop();
    await smtp?.close();
    await twilio?.close();
  });

  it('goes with the confirmation when the tenant switches it on, and not before', async () => {
    const post = async (reservationId: string) => {
      const response = await herald.app.inject({
        method: 'POST',
        url: '/v1/reservations',
        headers: AUTH,
        payload: reservationRequest({ reservationId }),
      });
      expect(response.statusCode, response.body).toBe(201);
      await herald.settle();
      return response.json<{ code: string }>().code;
    };
    await post('pdf-off-1');
    const [without] = await smtp.waitForMessages(1);
    expect(without!.attachments.filter((a) => a.contentType === 'application/pdf')).toEqual([]);

    const settings = (await herald.app.inject({ url: '/v1/settings/notifications', headers: AUTH })).json();
    const put = await herald.app.inject({
      method: 'PUT',
      url: '/v1/settings/notifications',
      headers: AUTH,
      payload: { ...settings, reservationPdf: true },
    });
    expect(put.statusCode, put.body).toBe(200);
    const code = await post('pdf-on-1');
    const emails = await smtp.waitForMessages(2);
    const pdfs = emails[1]!.attachments.filter((a) => a.contentType === 'application/pdf');
    expect(pdfs).toHaveLength(1);
    expect(pdfs[0]!.filename).toBe(`reservation-${code}.pdf`);
    // The invitation is still there beside it.
    expect(emails[1]!.attachments.some((a) => a.contentType.startsWith('text/calendar'))).toBe(true);
    const pdf = await readPdf(pdfs[0]!.content);
    expect(pdf.qr).toBe(code);
    expect(pdf.text).toContain('Dinner for two');
    expect(pdf.text).toContain('2:30');
  });
});
