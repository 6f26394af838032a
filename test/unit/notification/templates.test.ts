import { describe, expect, it } from 'vitest';
import type { NotificationKind } from '../../../src/domain/notification/kinds.js';
import { NOTIFICATION_KINDS } from '../../../src/domain/notification/kinds.js';
import type { MessageContext } from '../../../src/domain/notification/templates.js';
import {
  customTemplateFields,
  renderCustomTemplate,
  renderEmail,
  renderMessage,
  renderSms,
  resolveLanguage,
  validateCustomTemplate,
} from '../../../src/domain/notification/templates.js';
import { analyzeSms } from '../../../src/domain/notification/sms-encoding.js';
import { ValidationError } from '../../../src/domain/shared/errors.js';
import { messageContext } from './fixtures.js';

const LOCALES = ['en', 'cs', 'nb'] as const;

/** The local start time as the locale writes hour and minute, computed independently of the templates. */
function localTime(iso: string, timeZone: string, locale: string): string {
  const parts = new Intl.DateTimeFormat(locale, { hour: 'numeric', minute: '2-digit', timeZone }).formatToParts(
    new Date(iso),
  );
  const hour = parts.find((p) => p.type === 'hour')?.value;
  const minute = parts.find((p) => p.type === 'minute')?.value;
  return `${hour}:${minute}`;
}

function refusal(run: () => unknown): ValidationError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error('expected a ValidationError');
}

describe('standard templates: every kind x channel x locale', () => {
  const cases = NOTIFICATION_KINDS.flatMap((kind) =>
    LOCALES.flatMap((locale) => (['email', 'sms'] as const).map((channel) => ({ kind, locale, channel }))),
  );

  it.each(cases)(
    '$kind / $channel / $locale contains the time, the location and the reservation id',
    ({ kind, locale, channel }) => {
      const ctx = messageContext({ locale });
      const time = localTime(ctx.start, ctx.timeZone, locale);
      expect(time).toMatch(/^(2:15|14:15)$/);
      const outputs =
        channel === 'email' ? (({ text, html }) => [text, html])(renderEmail(kind, ctx)) : [renderSms(kind, ctx).text];
      // Waitlist SMS about no reservation yet name the slot and what to do, not an id the customer cannot use.
      const noId = channel === 'sms' && ['waitlist-joined', 'waitlist-offer', 'waitlist-offer-expired'].includes(kind);
      for (const output of outputs) {
        expect(output).toContain(time);
        expect(output).toContain(ctx.locationName);
        if (!noId) expect(output).toContain(ctx.reservationId);
        if (kind === 'waitlist-offer') expect(output).toContain(ctx.claimUrl);
        if (kind === 'waitlist-joined') expect(output).toMatch(/\b3\b/);
      }
    },
  );

  it.each(cases.filter((c) => c.channel === 'email'))(
    '$kind / email / $locale has a one-line subject and escapes into html',
    ({ kind, locale }) => {
      const email = renderEmail(kind, messageContext({ locale }));
      expect(email.subject.trim()).not.toBe('');
      expect(email.subject).not.toMatch(/[\r\n]/);
      expect(email.html).toContain(`<html lang="${locale}">`);
      expect(email.language).toBe(locale);
    },
  );

  it.each(cases.filter((c) => c.channel === 'sms'))('$kind / sms / $locale is a single line', ({ kind, locale }) => {
    const sms = renderSms(kind, messageContext({ locale }));
    expect(sms.text).not.toMatch(/[\r\n]/);
    expect(sms.sms.parts).toBeGreaterThanOrEqual(1);
  });

  it('shows the time in the location zone, with its abbreviation', () => {
    const ctx = messageContext({
      timeZone: 'America/New_York',
      locale: 'en',
      start: '2025-01-10T15:00:00Z',
      end: '2025-01-10T16:00:00Z',
    });
    const email = renderEmail('reservation-confirmed', ctx);
    expect(email.text).toContain('10:00');
    expect(email.text).toContain('EST');
    expect(renderSms('reservation-confirmed', ctx).text).toContain('10:00 AM EST');
  });

  it('uses the customer locale format: Czech and Norwegian 24-hour clock and local month names', () => {
    const cs = renderEmail('reservation-confirmed', messageContext({ locale: 'cs-CZ' }));
    expect(cs.text).toContain('pátek 14. března 2025');
    expect(cs.text).toContain('14:15–15:15 SEČ');
    const nb = renderEmail('reservation-confirmed', messageContext({ locale: 'nb-NO' }));
    expect(nb.text).toContain('fredag 14. mars 2025');
    expect(nb.text).toContain('14:15–15:15 CET');
    const en = renderEmail('reservation-confirmed', messageContext({ locale: 'en-GB' }));
    expect(en.text).toContain('Friday, 14 March 2025, 14:15–15:15 CET');
  });

  it('writes in the recipient language, falling back to English', () => {
    expect(renderEmail('reservation-confirmed', messageContext({ locale: 'cs' })).subject).toMatch(
      /^Rezervace potvrzena/,
    );
    expect(renderEmail('reservation-confirmed', messageContext({ locale: 'nb' })).subject).toMatch(
      /^Reservasjon bekreftet/,
    );
    expect(renderEmail('reservation-confirmed', messageContext({ locale: 'no' })).language).toBe('nb');
    expect(renderEmail('reservation-confirmed', messageContext({ locale: 'de-DE' })).language).toBe('en');
    expect(renderEmail('reservation-confirmed', messageContext({ locale: 'not a tag' })).language).toBe('en');
    expect(resolveLanguage('NN-no')).toBe('nb');
  });

  it('keeps Czech diacritics (and so UCS-2) in Czech SMS, GSM-7 for plain English', () => {
    const cs = renderSms('reservation-confirmed', messageContext({ locale: 'cs', serviceName: 'Masáž zad' }));
    expect(cs.text).toContain('potvrzena');
    expect(cs.text).toContain('Masáž zad');
    expect(cs.sms.encoding).toBe('UCS-2');
    const en = renderSms('reservation-confirmed', messageContext({ locale: 'en' }));
    expect(en.sms.encoding).toBe('GSM-7');
    expect(en.sms.parts).toBe(1);
  });

  describe('the short reservation code', () => {
    const coded = (overrides: Partial<MessageContext> = {}) =>
      messageContext({ reservationId: '3f2a9c4e-8b1d-4c57-9d2e-0b8f5a7c3e21', code: 'K7M2QX', ...overrides });

    it.each(LOCALES)('is what the customer reads instead of the long id (%s)', (locale) => {
      const email = renderEmail('reservation-confirmed', coded({ locale }));
      const sms = renderSms('reservation-confirmed', coded({ locale }));
      for (const text of [email.text, email.html, sms.text]) {
        expect(text).toContain('K7M2QX');
        expect(text).not.toContain('3f2a9c4e');
      }
    });

    it('is a placeholder of custom texts', () => {
      expect(renderCustomTemplate('Code {{reservationCode}}', 'reservation-confirmed', coded())).toBe('Code K7M2QX');
    });

    // A Czech confirmation is UCS-2 as soon as one letter has a diacritic: 70 characters a part, not 160.
    it.each([
      ['cs', 'Sauna'],
      ['cs', 'Masáž zad'],
      ['cs', 'Jóga pro začátečníky'],
      ['en', 'Sauna'],
      ['en', 'Masáž zad'],
      ['nb', 'Massasje'],
      ['nb', 'Fysioterapi for løpere'],
    ])('keeps the standard confirmation SMS to one part (%s, %s)', (locale, serviceName) => {
      const sms = renderSms('reservation-confirmed', coded({ locale, serviceName, senderName: 'Wellness Praha' }));
      expect(sms.text).toContain('K7M2QX');
      expect(sms.text).toContain(serviceName);
      expect(sms.text).toContain(localTime(coded().start, coded().timeZone, locale));
      expect(sms.sms.parts, sms.text).toBe(1);
      expect(sms.sms).toEqual(analyzeSms(sms.text));
    });

    it('keeps the location and the zone when the full wording fits one part', () => {
      const sms = renderSms('reservation-confirmed', coded({ locale: 'en', serviceName: 'Sauna' }));
      expect(sms.text).toBe(
        'Studio Zen: Reservation K7M2QX confirmed: Sauna, Fri, Mar 14, 2:15 PM GMT+1, Studio Vinohrady.',
      );
    });

    it('takes the fewest parts when nothing fits one: a very long service name', () => {
      const serviceName = 'Celodenní relaxační program se saunou, masáží a večeří'.repeat(2);
      const sms = renderSms('reservation-confirmed', coded({ locale: 'cs', serviceName }));
      expect(sms.text).toContain('K7M2QX');
      const full = analyzeSms(
        `Studio Zen: Rezervace K7M2QX potvrzena: ${serviceName}, pá 14. 3. 14:15 SEČ, Studio Vinohrady.`,
      );
      expect(sms.sms.parts).toBeLessThanOrEqual(full.parts);
    });
  });

  it('replaces Intl typography (narrow spaces, dashes) so English SMS stays GSM-7', () => {
    const ctx = messageContext({ locale: 'en-US', amount: 45, currency: 'EUR' });
    for (const kind of NOTIFICATION_KINDS) {
      const sms = renderSms(kind, ctx);
      expect(sms.text).not.toMatch(/[\u00a0\u202f\u2009\u2013]/);
      expect(sms.sms.encoding, `${kind}: ${sms.text}`).toBe('GSM-7');
    }
    expect(renderSms('payment-received', ctx).text).toContain('€45.00');
  });

  it('words a cancellation by the customer differently from one by staff', () => {
    for (const locale of LOCALES) {
      const byCustomer = renderEmail('reservation-cancelled', messageContext({ locale, cancelledBy: 'customer' }));
      const byStaff = renderEmail('reservation-cancelled', messageContext({ locale, cancelledBy: 'staff' }));
      expect(byCustomer.text).not.toBe(byStaff.text);
      expect(renderSms('reservation-cancelled', messageContext({ locale, cancelledBy: 'customer' })).text).not.toBe(
        renderSms('reservation-cancelled', messageContext({ locale, cancelledBy: 'staff' })).text,
      );
    }
    expect(renderEmail('reservation-cancelled', messageContext({ cancelledBy: 'customer' })).text).toContain(
      'as you asked',
    );
  });

  it('shows the old and the new time of a rescheduled reservation', () => {
    for (const locale of LOCALES) {
      const ctx = messageContext({ locale });
      const oldTime = localTime(ctx.previousStart ?? '', ctx.timeZone, locale);
      expect(oldTime).toMatch(/^0?9:00$/);
      const email = renderEmail('reservation-rescheduled', ctx);
      const sms = renderSms('reservation-rescheduled', ctx);
      for (const text of [email.text, sms.text]) {
        expect(text).toContain(oldTime);
        expect(text).toContain(localTime(ctx.start, ctx.timeZone, locale));
      }
    }
  });

  it('says how long before the start a reminder comes, in the language', () => {
    expect(renderSms('reservation-reminder', messageContext({ locale: 'en', minutesBefore: 180 })).text).toContain(
      'in 3 hours',
    );
    expect(renderSms('reservation-reminder', messageContext({ locale: 'cs', minutesBefore: 180 })).text).toContain(
      'za 3 hodiny',
    );
    expect(renderSms('reservation-reminder', messageContext({ locale: 'nb', minutesBefore: 1440 })).text).toContain(
      'om 24 timer',
    );
    expect(renderEmail('reservation-reminder', messageContext({ locale: 'en', minutesBefore: 30 })).text).toContain(
      'in 30 minutes',
    );
    expect(renderEmail('reservation-reminder', messageContext({ locale: 'en', minutesBefore: 2880 })).text).toContain(
      'in 2 days',
    );
    const { minutesBefore: _m, ...withoutOffset } = messageContext();
    expect(renderSms('reservation-reminder', withoutOffset).text).toContain('Reminder');
  });

  it('shows the amount of a payment in the locale currency format', () => {
    expect(
      renderEmail('payment-received', messageContext({ locale: 'cs', amount: 1250, currency: 'CZK' })).text,
    ).toContain('1 250,00 Kč');
    expect(
      renderEmail('payment-received', messageContext({ locale: 'nb', amount: 499, currency: 'NOK' })).text,
    ).toContain('499,00 kr');
  });

  it('shows the waitlist offer deadline', () => {
    const email = renderEmail('waitlist-offer', messageContext({ locale: 'en-GB' }));
    expect(email.text).toContain('18:00');
    expect(renderSms('waitlist-offer', messageContext({ locale: 'en-GB' })).text).toContain(
      'Reply YES by Thu 13 Mar, 18:00 CET to take it',
    );
    expect(renderSms('waitlist-offer', messageContext({ locale: 'cs' })).text).toContain('Odpovězte ANO do');
    expect(renderSms('waitlist-offer', messageContext({ locale: 'nb' })).text).toContain('Svar JA innen');
  });

  it('puts the claim link of an offer in the email as a button and as text', () => {
    const email = renderEmail('waitlist-offer', messageContext({ locale: 'en' }));
    const url = 'https://book.example.test/claim/default/AQAAAAE';
    expect(email.text).toContain(`Take the place or let it go:\n${url}`);
    expect(email.html).toContain(`<a href="${url}"`);
    // Staff copies have no button: the link is the customer's.
    expect(renderEmail('waitlist-offer', messageContext(), 'staff').html).not.toContain('<a href');
  });

  it('tells a customer who joined their place in line', () => {
    expect(renderSms('waitlist-joined', messageContext({ locale: 'en', position: 2 })).text).toContain(
      'You are number 2 on the waitlist',
    );
    expect(renderSms('waitlist-joined', messageContext({ locale: 'cs', position: 2 })).text).toContain(
      'Jste 2. na čekací listině',
    );
    expect(renderEmail('waitlist-joined', messageContext({ locale: 'nb', position: 2 })).text).toContain(
      'Du er nummer 2 på ventelisten',
    );
  });

  it('shows only what the kind is about', () => {
    const reminder = renderEmail('reservation-reminder', messageContext());
    expect(reminder.text).not.toContain('CZK');
    expect(reminder.text).not.toContain('Previously');
    expect(reminder.text).not.toContain('Offer valid until');
  });
});

describe('extra texts', () => {
  it('adds the after-payment text to a payment confirmation and to a paid confirmation only', () => {
    const text = 'Door code: 4711';
    expect(renderEmail('payment-received', messageContext()).text).toContain(text);
    expect(renderEmail('reservation-confirmed', messageContext({ paid: true })).text).toContain(text);
    expect(renderEmail('reservation-confirmed', messageContext({ paid: false })).text).not.toContain(text);
    expect(renderEmail('reservation-confirmed', messageContext()).html).not.toContain(text);
    for (const kind of NOTIFICATION_KINDS.filter((k) => k !== 'payment-received')) {
      expect(
        renderEmail(kind, messageContext({ paid: kind === 'reservation-confirmed' ? false : true })).text,
      ).not.toContain(text);
    }
    for (const kind of NOTIFICATION_KINDS)
      expect(renderSms(kind, messageContext({ paid: true })).text).not.toContain(text);
  });

  it('puts the footer in customer emails only, never in SMS', () => {
    const footer = 'Studio Zen s.r.o., Korunni 12, Praha';
    expect(renderEmail('reservation-confirmed', messageContext()).text).toContain(`-- \n${footer}`);
    expect(renderEmail('reservation-confirmed', messageContext()).html).toContain(footer);
    expect(renderSms('reservation-confirmed', messageContext()).text).not.toContain(footer);
  });

  it('includes the service description in emails about the booking', () => {
    expect(renderEmail('reservation-confirmed', messageContext()).text).toContain('Please arrive ten minutes early.');
    expect(renderEmail('reservation-reminder', messageContext()).text).toContain('Please arrive ten minutes early.');
    expect(renderEmail('reservation-declined', messageContext()).text).not.toContain(
      'Please arrive ten minutes early.',
    );
  });

  it('includes the location address in emails', () => {
    expect(renderEmail('reservation-confirmed', messageContext()).text).toContain(
      'Studio Vinohrady, Korunni 12, Praha',
    );
  });

  it('shows a reason for cancellations and declines when given', () => {
    expect(renderEmail('reservation-declined', messageContext({ reason: 'Fully booked' })).text).toContain(
      'Reason: Fully booked',
    );
  });
});

describe('html', () => {
  it('escapes every value from the booking', () => {
    const ctx = messageContext({
      customerName: '<script>alert(1)</script>',
      serviceName: 'Tom & "Jerry"',
      locationName: "O'Brien <b>",
      serviceDescription: '<img src=x onerror=alert(1)>\nsecond line',
      footer: '<a href="javascript:x">x</a>',
    });
    const { html } = renderEmail('reservation-confirmed', ctx);
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<a ');
    expect(html).not.toContain('<b>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('Tom &amp; &quot;Jerry&quot;');
    expect(html).toContain('O&#39;Brien &lt;b&gt;');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;<br>\nsecond line');
  });

  it('keeps the subject to one line even when a name has a newline (no header injection)', () => {
    const email = renderEmail(
      'reservation-confirmed',
      messageContext({ serviceName: 'Massage\r\nBcc: victim@example.com' }),
    );
    expect(email.subject).not.toMatch(/[\r\n]/);
  });
});

describe('messages to staff', () => {
  it('gives staff a neutral summary naming the customer', () => {
    const email = renderEmail('reservation-confirmed', messageContext(), 'staff');
    expect(email.subject).toContain('Jana Novakova');
    expect(email.text).toContain('Customer: Jana Novakova');
    expect(email.text).not.toContain('Hello Jana');
    expect(email.text).not.toContain('Door code');
    expect(renderSms('reservation-confirmed', messageContext({ locale: 'cs' }), 'staff').text).toContain(
      'Rezervace potvrzena - Jana Novakova',
    );
  });

  it('puts the alert message into a staff alert', () => {
    const email = renderEmail('staff-alert', messageContext());
    expect(email.text).toContain('out of credits');
    expect(renderSms('staff-alert', messageContext({ locale: 'nb' })).text).toContain('out of credits');
  });

  it('names the slot (its service), not a reservation, in an alert about a waitlist slot, in every language', () => {
    for (const locale of ['en', 'cs', 'nb']) {
      const ctx = messageContext({ locale, alert: { message: 'Nobody took the seat.', slot: true } });
      const sms = renderSms('staff-alert', ctx).text;
      const email = renderEmail('staff-alert', ctx);
      for (const text of [sms, email.subject, email.text]) {
        expect(text, locale).toContain(ctx.serviceName);
        expect(text, locale).not.toContain(ctx.code ?? ctx.reservationId);
      }
      // A reservation's alert still names the reservation.
      expect(renderSms('staff-alert', messageContext({ locale })).text).toContain(ctx.code ?? ctx.reservationId);
    }
  });

  it('renders through renderMessage by channel', () => {
    expect(renderMessage('reservation-confirmed', 'email', messageContext()).channel).toBe('email');
    expect(renderMessage('reservation-confirmed', 'sms', messageContext()).channel).toBe('sms');
  });
});

describe('context validation', () => {
  it.each<[NotificationKind, Partial<Record<keyof MessageContext, undefined>>, string]>([
    ['reservation-rescheduled', { previousStart: undefined }, 'previousStart'],
    ['payment-received', { amount: undefined }, 'amount'],
    ['payment-received', { currency: undefined }, 'currency'],
    ['waitlist-offer', { offer: undefined }, 'offer.expiresAt'],
    ['waitlist-offer', { claimUrl: undefined }, 'claimUrl'],
    ['waitlist-joined', { position: undefined }, 'position'],
    ['reservation-cancelled', { cancelledBy: undefined }, 'cancelledBy'],
    ['staff-alert', { alert: undefined }, 'alert.message'],
    ['reservation-confirmed', { reservationId: undefined }, 'reservationId'],
    ['reservation-confirmed', { locationName: undefined }, 'locationName'],
  ])('%s without %o is refused naming %s', (kind, without, field) => {
    const error = refusal(() => renderEmail(kind, { ...messageContext(), ...without } as MessageContext));
    expect(error.details.field).toBe(field);
  });

  it('refuses an unknown time zone, a local time without offset and an unknown currency', () => {
    expect(refusal(() => renderSms('reservation-confirmed', messageContext({ timeZone: 'Mars/Olympus' }))).code).toBe(
      'invalid-time-zone',
    );
    expect(
      refusal(() => renderSms('reservation-confirmed', messageContext({ start: '2025-03-14T10:00:00' }))).details.field,
    ).toBe('start');
    expect(refusal(() => renderSms('payment-received', messageContext({ currency: 'XX' }))).code).toBe(
      'invalid-currency',
    );
  });
});

describe('custom templates', () => {
  it('accepts known fields, with or without spaces, and lists them', () => {
    const result = validateCustomTemplate(
      'Hi {{customerName}}, see you {{ start }} at {{locationName}} ({{reservationId}}).',
      'reservation-confirmed',
    );
    expect(result.fields).toEqual(['customerName', 'start', 'locationName', 'reservationId']);
  });

  it('refuses an unknown field, naming it', () => {
    const error = refusal(() =>
      validateCustomTemplate('Hello {{customerName}}, your {{seat}} is ready', 'reservation-confirmed'),
    );
    expect(error.code).toBe('unknown-template-field');
    expect(error.message).toContain('seat');
    expect(error.details).toMatchObject({ field: 'seat', kind: 'reservation-confirmed' });
    expect(error.details.allowed).toContain('customerName');
  });

  it('allows kind-specific fields only for their kind', () => {
    expect(validateCustomTemplate('Paid {{amount}}', 'payment-received').fields).toEqual(['amount']);
    expect(refusal(() => validateCustomTemplate('Paid {{amount}}', 'reservation-reminder')).details.field).toBe(
      'amount',
    );
    expect(customTemplateFields('waitlist-offer')).toContain('offerExpiresAt');
    expect(customTemplateFields('reservation-confirmed')).not.toContain('offerExpiresAt');
  });

  it.each([
    'Hello {{customerName}',
    'Hello {{ }}',
    'Hello {{customer name}}',
    'Hello }} {{start}}',
    '{{__proto__}}',
    '{{constructor}}',
  ])('refuses the malformed or unknown placeholder in %j', (text) => {
    const error = refusal(() => validateCustomTemplate(text, 'reservation-confirmed'));
    expect(['malformed-template', 'unknown-template-field']).toContain(error.code);
  });

  it('refuses an empty text', () => {
    expect(refusal(() => validateCustomTemplate('  ', 'reservation-confirmed')).code).toBe('empty-template');
  });

  it('renders values formatted for the recipient', () => {
    const text = renderCustomTemplate(
      'TURN ON THE SAUNA for {{customerName}} at {{time}} ({{date}}), {{reservationId}}',
      'reservation-reminder',
      messageContext({ locale: 'cs' }),
    );
    expect(text).toBe('TURN ON THE SAUNA for Jana Novakova at 14:15 (14. 3. 2025), R-2025-0042');
    expect(renderCustomTemplate('{{amount}}', 'payment-received', messageContext({ locale: 'en' }))).toBe(
      'CZK 1,250.00',
    );
  });

  it('renders a field without a value as empty text', () => {
    const { locationAddress: _a, ...ctx } = messageContext();
    expect(renderCustomTemplate('[{{locationAddress}}]', 'reservation-confirmed', ctx)).toBe('[]');
  });

  it('refuses to render an invalid template', () => {
    expect(refusal(() => renderCustomTemplate('{{nope}}', 'reservation-confirmed', messageContext())).code).toBe(
      'unknown-template-field',
    );
  });
});
