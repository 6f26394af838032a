import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Herald } from '../../src/interfaces/herald.js';
import {
  inBrowser,
  CHROMIUM,
  CHROMIUM_ARGS,
  contrastProblems,
  desktop,
  horizontalOverflow,
  phone,
} from '../support/browser.js';
import { AUTH, TWILIO } from '../support/herald-harness.js';
import { silentLogger } from '../support/silent-logger.js';
import { spaOnLoopback } from '../support/spa-on-loopback.js';
import { startSmtpTestServer, type SmtpTestServer } from '../support/smtp-test-server.js';
import { startTwilioStandIn, type TwilioStandIn } from '../support/twilio-stand-in.js';

/**
 * The customer's pages in a real browser (Debian's chromium driven by playwright-core), as customers meet them:
 * a customer books on the public booking page in Czech on a phone and sees the short reservation code; a second
 * customer, on a desktop, finds the time full and joins the waitlist from the same page. The first customer gets the
 * confirmation email (real SMTP), opens their own page from its link and blocks SMS reminders — when the reminder
 * comes due the email one goes out and no reminder SMS reaches the Twilio stand-in — and cancels; the second
 * customer's own page then offers them the seat, and they take it. Screenshots of every page go to
 * test-output/customer-pages/.
 * Breaks when: a page is not in the customer's language, does not fit a phone, a field has no label, text is too
 * faint, anything is loaded from another origin, the code shown is not the reservation's, the email has no link to
 * the customer's page, the preference or the cancellation does not stick, or the freed seat is not offered and taken.
 */

const SCREENSHOTS = fileURLToPath(new URL('../../test-output/customer-pages/', import.meta.url));
const DAY = '2030-06-05'; // a Wednesday; Prague is at +02:00 in June
const START = `${DAY}T10:00:00+02:00`;

inBrowser('customer pages', 'books, joins the waitlist, cancels and claims in chromium', customerPagesSuite);

function customerPagesSuite(): void {
  describe('booking page and the customer’s own page in a real browser (Debian chromium) — phone and desktop', () => {
    let smtp: SmtpTestServer;
    let twilio: TwilioStandIn;
    let herald: Herald;
    let browser: Browser;
    let base: string;

    const inject = async (method: 'GET' | 'POST' | 'PUT', url: string, payload: object | undefined, status: number) => {
      const response = await herald.app.inject({ method, url, headers: AUTH, ...(payload ? { payload } : {}) });
      expect(response.statusCode, `${method} ${url}: ${response.body}`).toBe(status);
      return response.json();
    };

    /** Opens a page in a fresh context; every request it makes is recorded (all must stay on this origin). */
    const open = async (options: BrowserContextOptions, link: string) => {
      const context = await browser.newContext(options);
      const page = await context.newPage();
      const requests: string[] = [];
      page.on('request', (request) => void requests.push(request.url()));
      const errors: string[] = [];
      page.on('pageerror', (error) => void errors.push(error.message));
      const response = await page.goto(link);
      expect(response?.status()).toBe(200);
      return { page, requests, errors, context };
    };

    const shot = (page: Page, name: string) => page.screenshot({ path: `${SCREENSHOTS}${name}.png`, fullPage: true });

    /** What every page must be: readable contrast, no horizontal scrolling, nothing from elsewhere, no errors. */
    const expectWellFormed = async (opened: Awaited<ReturnType<typeof open>>) => {
      expect(await contrastProblems(opened.page)).toEqual([]);
      expect(await horizontalOverflow(opened.page), 'no horizontal scrolling').toBeLessThanOrEqual(0);
      expect(opened.requests.filter((url) => !url.startsWith(`${base}/`))).toEqual([]);
      expect(opened.errors).toEqual([]);
    };

    beforeAll(async () => {
      await mkdir(SCREENSHOTS, { recursive: true });
      smtp = await startSmtpTestServer();
      twilio = await startTwilioStandIn({ accountSid: TWILIO.accountSid, authToken: TWILIO.authToken });
      ({ herald, base } = await spaOnLoopback({ smtpUrl: smtp.url, twilioUrl: twilio.url, logger: silentLogger() }));
      browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
      await inject(
        'PUT',
        '/v1/settings/self-service',
        {
          bookingPage: { enabled: true },
          cancellation: { allowed: true, untilMinutesBefore: 120 },
          reschedule: { allowed: true, untilMinutesBefore: 120 },
        },
        200,
      );
      // Reminders a day before by email and by SMS, so that blocking SMS reminders has something to stop.
      const settings = await inject('GET', '/v1/settings/notifications', undefined, 200);
      await inject(
        'PUT',
        '/v1/settings/notifications',
        {
          ...settings,
          kinds: {
            ...settings.kinds,
            'reservation-reminder': { ...settings.kinds['reservation-reminder'], email: true, sms: true },
          },
          reminderOffsets: { email: [1440], sms: [1440] },
        },
        200,
      );
    });
    afterAll(async () => {
      await browser?.close();
      await herald?.stop();
      await smtp?.close();
      await twilio?.close();
    });

    let code = '';
    let waitlistedPage = '';
    const jana = { name: 'Jana Nováková', email: 'jana@example.test', phone: '+420777300001' };
    const ola = { name: 'Ola Nordmann', email: 'ola@example.test' };

    /** The booking page up to the slots of DAY, in the browser's language. */
    const searchSlots = async (page: Page, labels: { from: string; to: string; show: string }) => {
      await page.getByLabel(labels.from, { exact: true }).fill(DAY);
      await page.getByLabel(labels.to, { exact: true }).fill(DAY);
      await page.getByRole('button', { name: labels.show }).click();
      await page.locator('.slot-list').first().waitFor();
    };

    it('a customer books in Czech on a phone: service and dates → live slots → details → confirmation with the short code', async () => {
      // A link as a newsletter or an SMS gateway decorates it: the tracking parameter is ignored.
      const opened = await open(phone('cs-CZ'), `${base}/book/default?utm_source=sms`);
      const { page } = opened;
      await page.getByRole('heading', { level: 1, name: 'Rezervace termínu' }).waitFor();
      expect(await page.locator('html').getAttribute('lang')).toBe('cs');
      expect(await page.getByRole('radio', { name: /Sauna/ }).isChecked()).toBe(true);
      await shot(page, 'booking-cs-phone-1-search');

      await searchSlots(page, { from: 'Od', to: 'Do', show: 'Zobrazit volné termíny' });
      // The slots are the location's wall-clock hours (08:00–20:00 Prague), each with its free seats.
      const ten = page.getByRole('button', { name: /^10:00\s*volné 1 místo$/ });
      expect(await ten.count()).toBe(1);
      expect(await page.getByRole('button', { name: /^08:00/ }).count()).toBe(1);
      expect(await page.getByRole('button', { name: /^06:00/ }).count()).toBe(0);
      await expectWellFormed(opened);
      await shot(page, 'booking-cs-phone-2-slots');

      await ten.click();
      await page.getByRole('heading', { level: 1, name: 'Vaše údaje' }).waitFor();
      await page.getByLabel('Jméno').fill(jana.name);
      await page.getByLabel('E-mail').fill(jana.email);
      await page.getByLabel(/Mobilní telefon/).fill('+420 777 300 001');
      await expectWellFormed(opened);
      await shot(page, 'booking-cs-phone-3-details');
      await page.getByRole('button', { name: 'Potvrdit rezervaci' }).click();

      await page.getByRole('heading', { level: 1, name: 'Rezervace je hotová' }).waitFor({ timeout: 10_000 });
      code = (await page.getByTestId('reservation-code').innerText()).trim();
      expect(code).toMatch(/^[0-9A-Z]{6}$/);
      expect(await page.locator('main').innerText()).toMatch(/10:00\s*[–-]\s*11:00/);
      await expectWellFormed(opened);
      await shot(page, 'booking-cs-phone-4-confirmation');

      // The code on the page is the reservation's: the API finds it by that code, booked as she typed it.
      const reservation = await inject('GET', `/v1/reservations/${code}`, undefined, 200);
      expect(reservation).toMatchObject({
        code,
        status: 'confirmed',
        start: expect.stringMatching(/^2030-06-05T08:00:00(\.000)?Z$/),
        customer: { name: jana.name, email: jana.email, phone: jana.phone, locale: 'cs-CZ' },
      });
      await opened.context.close();
    }, 120_000);

    it('a second customer on a desktop finds the time full and joins the waitlist from the booking page', async () => {
      const opened = await open(desktop('en-GB'), `${base}/book/default`);
      const { page } = opened;
      await page.getByRole('heading', { level: 1, name: 'Book a time' }).waitFor();
      await searchSlots(page, { from: 'From', to: 'To', show: 'Show free times' });
      const ten = page.getByRole('button', { name: /^10:00\s*Full — join the waitlist$/ });
      expect(await ten.count()).toBe(1);
      await shot(page, 'booking-en-desktop-1-full-slot');
      await ten.click();
      await page.getByRole('heading', { level: 1, name: 'Join the waitlist' }).waitFor();
      expect(await page.locator('main').innerText()).toContain('This time is full');
      await page.getByLabel('Name').fill(ola.name);
      await page.getByLabel('Email').fill(ola.email);
      await page.getByRole('button', { name: 'Join the waitlist' }).click();
      await page.getByRole('heading', { level: 1, name: 'You are on the waitlist' }).waitFor({ timeout: 10_000 });
      expect(await page.locator('main').innerText()).toContain('You are number 1 in line');
      await expectWellFormed(opened);
      await shot(page, 'booking-en-desktop-2-waitlisted');
      waitlistedPage = (await page.getByRole('link', { name: 'Open your booking page' }).getAttribute('href')) ?? '';
      expect(waitlistedPage).toMatch(new RegExp(`^${base}/my/[A-Za-z0-9_-]+$`));
      await opened.context.close();
    }, 120_000);

    it('the Czech customer opens her page from the confirmation email, blocks SMS reminders (the reminder goes by email only) and cancels', async () => {
      await herald.settle();
      const [email] = await waitForEmail(smtp, jana.email, (m) => m.html?.includes('/my/') === true);
      expect(email!.text).toContain(code);
      const link = /href="(http:\/\/[^"]+\/my\/[A-Za-z0-9_-]+)"/.exec(email!.html ?? '')?.[1];
      expect(link, email!.html).toMatch(new RegExp(`^${base}/my/`));

      const opened = await open(phone('cs-CZ'), link!);
      const { page } = opened;
      await page.getByRole('heading', { level: 1, name: 'Vaše rezervace' }).waitFor();
      const main = page.locator('main');
      expect(await main.innerText()).toContain(code);
      expect(await page.locator('.status').first().innerText()).toBe('Potvrzeno');
      await expectWellFormed(opened);
      await shot(page, 'customer-cs-phone-1-reservation');

      // SMS reminders off; everything else stays on.
      const smsReminders = page.getByLabel('Připomínky: SMS', { exact: true });
      expect(await smsReminders.isChecked()).toBe(true);
      await smsReminders.uncheck();
      await page.getByRole('button', { name: 'Uložit nastavení' }).click();
      await page.getByRole('status').filter({ hasText: 'Nastavení je uloženo.' }).waitFor();
      await page.reload();
      await page.getByRole('heading', { level: 1, name: 'Vaše rezervace' }).waitFor();
      expect(await page.getByLabel('Připomínky: SMS', { exact: true }).isChecked()).toBe(false);
      expect(await page.getByLabel('Připomínky: E-mail', { exact: true }).isChecked()).toBe(true);
      await shot(page, 'customer-cs-phone-2-sms-reminders-blocked');

      // The day-before reminder comes due (run as the scheduler would run it in 2030): the email reminder goes out,
      // no reminder SMS reaches her phone — it is recorded as skipped because she blocked it.
      const { reservationId } = await inject('GET', `/v1/reservations/${code}`, undefined, 200);
      const reminderJobs = (await herald.adapters.scheduler.pending({ name: 'reservation.reminder' })).filter(
        (job) => job.data['reservationId'] === reservationId,
      );
      expect(reminderJobs).toHaveLength(1);
      const smsToJana = () => twilio.messages.filter((m) => m.resource.to === jana.phone).length;
      const smsBefore = smsToJana();
      expect(smsBefore, 'her SMS confirmation').toBe(1);
      await herald.runJob(reminderJobs[0]!);
      await herald.settle();
      const reminders = (
        await inject('GET', `/v1/deliveries?reservationId=${reservationId}&kind=reservation-reminder`, undefined, 200)
      ).items as { channel: string; status: string; skipReason: string | null; notificationId: string }[];
      expect(reminders.map((d) => d.channel).sort()).toEqual(['email', 'sms']);
      const smsReminder = reminders.find((d) => d.channel === 'sms')!;
      expect(smsReminder).toMatchObject({ status: 'skipped', skipReason: 'blocked-by-customer' });
      const emailReminder = reminders.find((d) => d.channel === 'email')!;
      await expect
        .poll(
          async () => (await inject('GET', `/v1/deliveries/${emailReminder.notificationId}`, undefined, 200)).status,
          { timeout: 10_000, interval: 200 },
        )
        .toBe('sent');
      expect(smsToJana(), 'no reminder SMS').toBe(smsBefore);

      await page.getByRole('button', { name: 'Zrušit rezervaci' }).click();
      await page.getByRole('alertdialog').waitFor();
      await shot(page, 'customer-cs-phone-3-cancel-question');
      await page.getByRole('button', { name: 'Ano, zrušit' }).click();
      await page.getByRole('status').filter({ hasText: 'Vaše rezervace je zrušena.' }).waitFor({ timeout: 10_000 });
      expect(await page.locator('.status').first().innerText()).toBe('Zrušeno');
      expect(await page.getByRole('button', { name: 'Zrušit rezervaci' }).count()).toBe(0);
      await expectWellFormed(opened);
      await shot(page, 'customer-cs-phone-4-cancelled');
      const reservation = await inject('GET', `/v1/reservations/${code}`, undefined, 200);
      expect(reservation.status).toBe('cancelled');
      await opened.context.close();
    }, 120_000);

    it('the waitlisted customer’s page then offers the freed seat; they take it by keyboard and it is theirs', async () => {
      expect(waitlistedPage).not.toBe('');
      const opened = await open(desktop('en-GB'), waitlistedPage);
      const { page } = opened;
      await page.getByRole('heading', { level: 1, name: 'Your place on the waitlist' }).waitFor();
      const take = page.getByRole('button', { name: 'Take the place', exact: true });
      // The offer follows the cancellation through the waitlist's process manager: reload until it is shown.
      await expect
        .poll(
          async () => {
            await page.reload();
            await page.getByRole('heading', { level: 1 }).first().waitFor();
            return take.isVisible();
          },
          { timeout: 15_000, interval: 500 },
        )
        .toBe(true);
      expect(await page.locator('main').innerText()).toContain('A place is free for you');
      await expectWellFormed(opened);
      await shot(page, 'customer-en-desktop-1-offer');

      await take.focus();
      await page.keyboard.press('Enter');
      await page.locator('.status').filter({ hasText: 'The place is yours' }).waitFor({ timeout: 10_000 });
      expect(await take.count()).toBe(0);
      // Their page now shows the reservation the seat became, with its own code.
      await page.getByRole('heading', { level: 1, name: 'Your booking' }).waitFor();
      expect(await page.locator('.status[data-status="confirmed"]').innerText()).toBe('Confirmed');
      const theirCode = (await page.locator('.code').innerText()).trim();
      expect(theirCode).toMatch(/^[0-9A-Z]{6}$/);
      expect(theirCode).not.toBe(code);
      await expectWellFormed(opened);
      await shot(page, 'customer-en-desktop-2-taken');

      // The seat is Ola's now: a confirmed reservation of the 10:00 slot in their name.
      const list = await inject('GET', `/v1/reservations?serviceId=spa-sauna&status=confirmed`, undefined, 200);
      const theirs = (list.items as { customer: { name: string }; start: string }[]).filter(
        (r) => r.customer.name === ola.name,
      );
      expect(theirs).toHaveLength(1);
      expect(Date.parse(theirs[0]!.start)).toBe(Date.parse(START));
      await opened.context.close();
    }, 120_000);

    it('staff sign in to the console, open the day, and free a seat: the warning names the next customer in line', async () => {
      // A full 12:00 seat, and Petr next in line for it.
      const start = `${DAY}T12:00:00+02:00`;
      const holder = { name: 'Karel Holder', email: 'karel@example.test', locale: 'cs-CZ' };
      const petr = { name: 'Petr Svoboda', email: 'petr@example.test', locale: 'cs-CZ' };
      const held = await inject('POST', '/v1/reservations', { serviceId: 'spa-sauna', start, customer: holder }, 201);
      await inject('POST', '/v1/waitlists/entries', { serviceId: 'spa-sauna', start, customer: petr }, 201);
      const password = 'correct horse battery staple';
      await inject(
        'POST',
        '/v1/staff-accounts',
        { email: 'desk@example.test', name: 'Front Desk', role: 'staff', locale: 'en', password },
        201,
      );

      const opened = await open(desktop('en-GB'), `${base}/staff?date=${DAY}`);
      const { page } = opened;
      await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
      await page.getByLabel('Organisation').fill('default');
      await page.getByLabel('Email').fill('desk@example.test');
      await page.getByLabel('Password').fill(password);
      await expectWellFormed(opened);
      await shot(page, 'staff-en-desktop-1-sign-in');
      await page.getByRole('button', { name: 'Sign in' }).click();

      // The day: every reservation of DAY by resource, in the location's wall-clock time.
      await page.getByRole('heading', { level: 1, name: 'Day' }).waitFor({ timeout: 10_000 });
      const karel = page.getByRole('link', { name: /12:00 Karel Holder/ });
      await karel.waitFor();
      expect(await page.getByRole('link', { name: /10:00 Ola Nordmann/ }).count()).toBe(1);
      await expectWellFormed(opened);
      await shot(page, 'staff-en-desktop-2-day');

      await karel.click();
      await page.getByRole('heading', { level: 1, name: 'Karel Holder: Sauna' }).waitFor();
      await page.getByRole('button', { name: 'Cancel reservation' }).click();
      const warning = page.getByRole('alertdialog');
      await warning.waitFor();
      expect(await warning.innerText()).toContain('Petr Svoboda, number 1 on the waitlist');
      await shot(page, 'staff-en-desktop-3-free-seat-warning');
      await page.getByRole('button', { name: 'Cancel it and free the seat' }).click();
      await page.getByRole('status').filter({ hasText: 'The seat is freed' }).waitFor({ timeout: 10_000 });
      expect(await page.locator('.status[data-status="cancelled"]').innerText()).toBe('cancelled');
      await expectWellFormed(opened);
      await shot(page, 'staff-en-desktop-4-freed');
      const after = await inject('GET', `/v1/reservations/${held.reservationId}`, undefined, 200);
      expect(after.status).toBe('cancelled');
      await opened.context.close();
    }, 120_000);
  });
}

async function waitForEmail(
  smtp: SmtpTestServer,
  to: string,
  matches: (message: SmtpTestServer['messages'][number]) => boolean,
) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const found = smtp.messages.filter((m) => m.envelope.rcptTo.includes(to) && matches(m));
    if (found.length > 0 || Date.now() > deadline) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
