import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Herald } from '../../src/interfaces/herald.js';
import { inBrowser, CHROMIUM, CHROMIUM_ARGS, contrastProblems, desktop, phone } from '../support/browser.js';
import { AUTH, TWILIO } from '../support/herald-harness.js';
import { silentLogger } from '../support/silent-logger.js';
import { spaOnLoopback } from '../support/spa-on-loopback.js';
import { startSmtpTestServer, type SmtpTestServer } from '../support/smtp-test-server.js';
import { startTwilioStandIn, type TwilioStandIn } from '../support/twilio-stand-in.js';

/**
 * The claim page of a waitlist offer in a real browser (Debian's chromium driven by playwright-core), as a customer
 * meets it: the link from a real offer message (the SMS on a phone, the email on a desktop), the offer in their
 * language, Accept or Decline by pressing the button, and by keyboard alone. Screenshots go to test-output/claim-page/.
 * Breaks when: the page is not in the customer's language (whatever the browser's), does not fit a phone's width,
 * a button has no accessible name, is too small to tap or too faint to read, focus is invisible, pressing a button
 * does not answer the offer or the page does not say what became of it, or the page loads anything from elsewhere.
 */

// The browser's globals that the functions run in the page (page.evaluate) use. Declared here, for this module only:
// the project's TypeScript lib has no DOM, and src must not get one.
interface PageElement {
  readonly tagName: string;
  readonly textContent: string | null;
  readonly parentElement: PageElement | null;
  readonly childNodes: ArrayLike<{ readonly nodeType: number; readonly textContent: string | null }>;
  getAttribute(name: string): string | null;
}
declare const document: {
  readonly documentElement: { readonly scrollWidth: number };
  readonly activeElement: PageElement | null;
  readonly body: { querySelectorAll(selector: string): ArrayLike<PageElement> };
  querySelector(selector: string): PageElement | null;
};
declare const window: { readonly innerWidth: number };
declare function getComputedStyle(element: PageElement): {
  readonly color: string;
  readonly backgroundColor: string;
  readonly outlineStyle: string;
  readonly outlineWidth: string;
};

const SCREENSHOTS = fileURLToPath(new URL('../../test-output/claim-page/', import.meta.url));

/** Viewports: an iPhone 12-15 class phone, and an ordinary laptop screen. The browser itself speaks English. */
const PHONE = phone('en-US');
const DESKTOP = desktop('en-US');

type Language = 'en' | 'cs' | 'nb';
const PAGE_TEXTS: Record<
  Language,
  { open: string; accept: string; decline: string; accepted: string; declined: string; held: string }
> = {
  en: {
    open: 'A place is free for you',
    accept: 'Take the place',
    decline: 'Let it go',
    accepted: 'The place is yours',
    declined: 'You let the place go',
    held: 'Held for you until',
  },
  cs: {
    open: 'Uvolnilo se pro vás místo',
    accept: 'Přijmout místo',
    decline: 'Přenechat dalším',
    accepted: 'Místo je vaše',
    declined: 'Místo jste přenechali dalším',
    held: 'Drženo pro vás do',
  },
  nb: {
    open: 'En plass er ledig for deg',
    accept: 'Ta plassen',
    decline: 'Si fra meg plassen',
    accepted: 'Plassen er din',
    declined: 'Du har sagt fra deg plassen',
    held: 'Holdes av til',
  },
};
const LOCALES: Record<Language, string> = { en: 'en-GB', cs: 'cs-CZ', nb: 'nb-NO' };

inBrowser('claim page', 'opens, accepts and declines offers in chromium', claimPageSuite);

function claimPageSuite(): void {
  describe('the claim page in a real browser (Debian chromium, playwright-core) — phone and desktop', () => {
    let smtp: SmtpTestServer;
    let twilio: TwilioStandIn;
    let herald: Herald;
    let logger: ReturnType<typeof silentLogger>;
    let browser: Browser;
    let base: string;
    let slots = 0;
    let people = 0;

    const inject = async (method: 'GET' | 'POST', url: string, payload: object | undefined, status: number) => {
      const response = await herald.app.inject({ method, url, headers: AUTH, ...(payload ? { payload } : {}) });
      expect(response.statusCode, `${method} ${url}: ${response.body}`).toBe(status);
      return response.json();
    };

    interface Offer {
      readonly language: Language;
      readonly customerName: string;
      readonly waitlistId: string;
      readonly entryId: string;
      readonly offerId: string;
      readonly smsLink: string;
      readonly emailLink: string;
      /** The hour of the slot's start in Prague. */
      readonly startHour: number;
    }

    /** A full slot, one customer in line, the seat cancelled: the offer as it reached them by SMS and by email. */
    const anOffer = async (language: Language): Promise<Offer> => {
      const hour = 9 + slots++;
      const localStart = `${String(hour).padStart(2, '0')}:00`;
      const start = `2030-06-05T${localStart}:00+02:00`;
      const person = ++people;
      const customer = {
        name: `${language.toUpperCase()} Customer ${person}`,
        email: `browser-${person}@example.test`,
        phone: `+4207773000${String(person).padStart(2, '0')}`,
        locale: LOCALES[language],
      };
      const holder = { name: 'Holder', email: `holder-${person}@example.test`, locale: 'en' };
      const emails = smtp.messages.length;
      const texts = twilio.messages.length;
      const held = await inject('POST', '/v1/reservations', { serviceId: 'spa-sauna', start, customer: holder }, 201);
      const joined = await inject('POST', '/v1/waitlists/entries', { serviceId: 'spa-sauna', start, customer }, 201);
      const cancelled = await inject('POST', `/v1/reservations/${held.reservationId}/cancel`, { by: 'staff' }, 200);
      const offerId = cancelled.waitlist[0].allocated[0].offerId as string;
      await herald.settle();
      // Email: the holder's confirmation and cancellation, the customer's "joined" and offer; SMS: the customer's two
      // (the holder gave no phone).
      await smtp.waitForMessages(emails + 4, 10_000);
      await twilio.waitForMessages(texts + 2, 10_000);
      const isOffer = (text: string | undefined) => text?.includes('/claim/') === true;
      const sms = twilio.messages
        .slice(texts)
        .filter((m) => m.resource.to === customer.phone && isOffer(m.resource.body));
      const email = smtp.messages
        .slice(emails)
        .filter((m) => m.envelope.rcptTo.includes(customer.email) && isOffer(m.html));
      expect(sms).toHaveLength(1);
      expect(email).toHaveLength(1);
      const smsLink = /(http:\/\/\S+\/claim\/default\/[A-Za-z0-9_-]+)/.exec(sms[0]!.resource.body)?.[1];
      const emailLink = /href="(http:\/\/[^"]+\/claim\/default\/[A-Za-z0-9_-]+)"/.exec(email[0]!.html ?? '')?.[1];
      expect(smsLink, sms[0]!.resource.body).toBeDefined();
      expect(emailLink).toBe(smsLink);
      return {
        language,
        customerName: customer.name,
        waitlistId: joined.waitlistId,
        entryId: joined.entryId,
        offerId,
        smsLink: smsLink!,
        emailLink: emailLink!,
        startHour: hour,
      };
    };

    /** Opens a page in a fresh context; every request it makes is recorded. */
    const open = async (options: BrowserContextOptions, link: string) => {
      const context = await browser.newContext(options);
      const page = await context.newPage();
      const requests: string[] = [];
      page.on('request', (request) => void requests.push(request.url()));
      const response = await page.goto(link);
      expect(response?.status()).toBe(200);
      return { page, requests, close: () => context.close() };
    };

    const screenshot = (page: Page, name: string) =>
      page.screenshot({ path: `${SCREENSHOTS}${name}.png`, fullPage: true });

    /** The offer as the customer sees it: their language, what and when, both buttons named, nothing off-screen. */
    const expectOfferShown = async (page: Page, offer: Offer, viewport: 'phone' | 'desktop') => {
      const t = PAGE_TEXTS[offer.language];
      expect(await page.locator('html').getAttribute('lang')).toBe(offer.language);
      await expect.poll(() => page.title()).toBe(t.open);
      expect(await page.getByRole('heading', { level: 1 }).allInnerTexts()).toEqual([t.open]);
      const text = await page.locator('main').innerText();
      expect(text).toContain('Sauna');
      expect(text).toContain(t.held);
      // When: the location's wall-clock time (Prague, +02:00 in June), never UTC.
      const when = await page.locator('dd').nth(1).innerText();
      expect(when).toMatch(new RegExp(`\\b0?${offer.startHour}:00`));
      expect(when).not.toMatch(new RegExp(`\\b0?${offer.startHour - 2}:00`));
      // Every button has an accessible name, and these are the two.
      const buttons = page.getByRole('button');
      expect(await buttons.count()).toBe(2);
      await expect.poll(() => page.getByRole('button', { name: t.accept, exact: true }).isVisible()).toBe(true);
      await expect.poll(() => page.getByRole('button', { name: t.decline, exact: true }).isVisible()).toBe(true);
      const layout = await page.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth,
        innerWidth: window.innerWidth,
        viewportMeta: document.querySelector('meta[name="viewport"]')?.getAttribute('content') ?? '',
      }));
      expect(layout.viewportMeta).toContain('width=device-width');
      expect(layout.scrollWidth, 'no horizontal scrolling').toBeLessThanOrEqual(layout.innerWidth);
      for (const name of [t.accept, t.decline]) {
        const box = await page.getByRole('button', { name, exact: true }).boundingBox();
        expect(box, name).not.toBeNull();
        // WCAG 2.5.5: targets of at least 44 × 44 CSS pixels; on a phone, the whole width of the card.
        expect(box!.height, name).toBeGreaterThanOrEqual(44);
        expect(box!.width, name).toBeGreaterThanOrEqual(viewport === 'phone' ? 300 : 44);
      }
      expect(await contrastProblems(page)).toEqual([]);
    };

    const expectAnswered = async (page: Page, offer: Offer, answer: 'accepted' | 'declined', link: string) => {
      const t = PAGE_TEXTS[offer.language];
      // The form posts, Herald redirects back to the page, which now says what became of the offer.
      await page.getByRole('heading', { level: 1, name: t[answer], exact: true }).waitFor({ timeout: 10_000 });
      expect(page.url()).toBe(link);
      expect(await page.getByRole('heading', { level: 1 }).allInnerTexts()).toEqual([t[answer]]);
      expect(await page.getByRole('button').count()).toBe(0);
      const text = await page.locator('main').innerText();
      if (answer === 'accepted') expect(text).toContain(offer.offerId);
      const entry = await inject('GET', `/v1/waitlists/${offer.waitlistId}/entries/${offer.entryId}`, undefined, 200);
      expect(entry.offer).toMatchObject({ offerId: offer.offerId, status: answer });
      if (answer === 'accepted') {
        const reservation = await inject('GET', `/v1/reservations/${offer.offerId}`, undefined, 200);
        expect(reservation).toMatchObject({
          status: 'confirmed',
          origin: { type: 'waitlist', offerId: offer.offerId },
        });
      }
    };

    beforeAll(async () => {
      await mkdir(SCREENSHOTS, { recursive: true });
      smtp = await startSmtpTestServer();
      twilio = await startTwilioStandIn({ accountSid: TWILIO.accountSid, authToken: TWILIO.authToken });
      logger = silentLogger();
      ({ herald, base } = await spaOnLoopback({ smtpUrl: smtp.url, twilioUrl: twilio.url, logger: logger }));
      browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    });
    afterAll(async () => {
      await browser?.close();
      await herald?.stop();
      await smtp?.close();
      await twilio?.close();
    });

    const scenarios = [
      { language: 'cs', viewport: 'phone', via: 'SMS', answer: 'accepted' },
      { language: 'en', viewport: 'desktop', via: 'email', answer: 'accepted' },
      { language: 'en', viewport: 'phone', via: 'SMS', answer: 'declined' },
      { language: 'cs', viewport: 'desktop', via: 'email', answer: 'declined' },
    ] as const;

    for (const scenario of scenarios) {
      const { language, viewport, via, answer } = scenario;
      const verb = answer === 'accepted' ? 'accept' : 'decline';
      it(`${language} on a ${viewport}: opens the link from the ${via}, sees the offer in ${language}, presses "${PAGE_TEXTS[language][verb]}" → the page says so`, async () => {
        const offer = await anOffer(language);
        const link = via === 'SMS' ? offer.smsLink : offer.emailLink;
        const { page, requests, close } = await open(viewport === 'phone' ? PHONE : DESKTOP, link);
        try {
          await expectOfferShown(page, offer, viewport);
          await screenshot(page, `${language}-${viewport}-offer`);
          const button = page.getByRole('button', { name: PAGE_TEXTS[language][verb], exact: true });
          if (viewport === 'phone') await button.tap();
          else await button.click();
          await expectAnswered(page, offer, answer, link);
          await screenshot(page, `${language}-${viewport}-${answer}`);
          expect(requests.filter((url) => !url.startsWith(`${base}/`))).toEqual([]);
        } finally {
          await close();
        }
      });
    }

    it('nb by keyboard alone: Tab reaches "Ta plassen" first, with a visible focus ring; Enter takes the place', async () => {
      const offer = await anOffer('nb');
      const { page, close } = await open(DESKTOP, offer.emailLink);
      try {
        await expectOfferShown(page, offer, 'desktop');
        await page.keyboard.press('Tab');
        const focused = await page.evaluate(() => {
          const element = document.activeElement;
          const style = element ? getComputedStyle(element) : undefined;
          return {
            tag: element?.tagName,
            text: element?.textContent,
            outlineStyle: style?.outlineStyle,
            outlineWidth: style?.outlineWidth,
          };
        });
        expect(focused).toMatchObject({ tag: 'BUTTON', text: PAGE_TEXTS.nb.accept });
        expect(focused.outlineStyle).not.toBe('none');
        expect(parseFloat(focused.outlineWidth ?? '0')).toBeGreaterThanOrEqual(2);
        await screenshot(page, 'nb-desktop-keyboard-focus');
        await page.keyboard.press('Enter');
        await expectAnswered(page, offer, 'accepted', offer.emailLink);
        await screenshot(page, 'nb-desktop-keyboard-accepted');
      } finally {
        await close();
      }
    });

    it('logged no errors, and the stand-in saw only requests that Twilio documents', () => {
      expect(twilio.specViolations).toEqual([]);
      expect(logger.errors).toEqual([]);
    });
  });
}
