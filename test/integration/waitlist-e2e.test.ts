import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/application/ports/event-store.port.js';
import type { Herald } from '../../src/interfaces/herald.js';
import {
  API_KEY,
  createHeraldKeepingStores,
  freePort,
  TWILIO,
  waitForEvents,
  type ReadModelBackend,
} from '../support/herald-harness.js';
import { dropDatabase, mongoUnavailableReason, mongoUrlForTests, uniqueDatabaseName } from '../support/mongo.js';
import { silentLogger } from '../support/silent-logger.js';
import { startSmtpTestServer, type ReceivedEmail, type SmtpTestServer } from '../support/smtp-test-server.js';
import { startTwilioStandIn, type StandInMessage, type TwilioStandIn } from '../support/twilio-stand-in.js';

/**
 * Issue 7 acceptance, end to end: Herald listening on a real port, as main.ts builds it (stores under a DATA_DIR,
 * read models and Agenda on SQLite files or on the MongoDB wire server), email to the real SMTP server and SMS to
 * the Twilio stand-in, everything driven over HTTP as a booking system and a customer's phone would.
 *
 * A one-seat slot is full; three customers (en, cs, nb) queue through the 409's waitlist link; the seat is
 * cancelled → number 1 is offered it by email and SMS with a claim link, in English; the short window
 * (PUT /v1/settings/waitlist, real clock) runs out → number 2 is offered it, in Czech, and takes it by posting the
 * claim page's form → confirmed, with an invitation and an SMS; number 3 is now number 1. Then the same again with a
 * stop and a start of Herald in the middle of the window.
 *
 * Breaks when: an offer is not sent on both channels, or not in the customer's language, or without a claim link
 * that works; the expiry does not fire on the real clock, fires early, or is lost across a restart; a message is
 * sent twice (counted per recipient at the servers: Message-IDs, SMS bodies); the line does not move up; the
 * accepted offer is not booked and confirmed with a calendar REQUEST.
 */

const WHEN = {
  /** Tuesday 4 June 2030, Prague (+02:00). */
  first: { start: '2030-06-04T10:00:00+02:00', icsStart: '20300604T080000Z', icsEnd: '20300604T090000Z' },
  restart: { start: '2030-06-04T11:00:00+02:00', icsStart: '20300604T090000Z', icsEnd: '20300604T100000Z' },
};
/** The window of the offers that must run out; then a long one, so a person has time to answer the next offer. */
const SHORT_WINDOW_S = 3;
const RESTART_WINDOW_S = 4;
const LONG_WINDOW_S = 900;

type Key = 'en' | 'cs' | 'nb';
type Label = 'joined' | 'offer' | 'expired' | 'confirmed' | 'cancelled';
interface Texts {
  readonly lang: string;
  /** Each kind's email subject starts with its title; its SMS matches the phrase (from the locale catalogue). */
  readonly kinds: Readonly<Record<Label, { readonly subject: string; readonly sms: RegExp }>>;
  readonly joinedSms: (position: number) => string;
  readonly page: {
    readonly open: string;
    readonly accept: string;
    readonly accepted: string;
    readonly expired: string;
  };
}
const TEXTS: Record<Key, Texts> = {
  en: {
    lang: 'en',
    kinds: {
      joined: { subject: 'You are on the waitlist:', sms: /You are number \d+ on the waitlist/ },
      offer: { subject: 'A place is free:', sms: /A place is free: .* Reply YES by .* to take it, NO to let it go/ },
      expired: { subject: 'Offer expired:', sms: /was not taken in time/ },
      confirmed: { subject: 'Reservation confirmed:', sms: /Reservation \S+ confirmed:/ },
      cancelled: { subject: 'Reservation cancelled:', sms: /has been cancelled as you asked/ },
    },
    joinedSms: (n) => `You are number ${n} on the waitlist`,
    page: {
      open: 'A place is free for you',
      accept: 'Take the place',
      accepted: 'The place is yours',
      expired: 'This offer has expired',
    },
  },
  cs: {
    lang: 'cs',
    kinds: {
      joined: { subject: 'Jste na čekací listině:', sms: /Jste \d+\. na čekací listině/ },
      offer: { subject: 'Uvolnilo se místo:', sms: /Uvolnilo se místo: .* Odpovězte ANO do .*, NE pro odmítnutí/ },
      expired: { subject: 'Nabídka vypršela:', sms: /nebylo včas přijato/ },
      confirmed: { subject: 'Rezervace potvrzena:', sms: /Rezervace \S+ potvrzena:/ },
      cancelled: { subject: 'Rezervace zrušena:', sms: /byla na vaši žádost zrušena/ },
    },
    joinedSms: (n) => `Jste ${n}. na čekací listině`,
    page: {
      open: 'Uvolnilo se pro vás místo',
      accept: 'Přijmout místo',
      accepted: 'Místo je vaše',
      expired: 'Nabídka vypršela',
    },
  },
  nb: {
    lang: 'nb',
    kinds: {
      joined: { subject: 'Du står på ventelisten:', sms: /Du er nummer \d+ på ventelisten/ },
      offer: { subject: 'Ledig plass:', sms: /Ledig plass: .* Svar JA innen .* NEI for å si fra deg den/ },
      expired: { subject: 'Tilbudet har utløpt:', sms: /ble ikke tatt i tide/ },
      confirmed: { subject: 'Reservasjon bekreftet:', sms: /Reservasjon \S+ er bekreftet:/ },
      cancelled: { subject: 'Reservasjon avbestilt:', sms: /avbestilt/ },
    },
    joinedSms: (n) => `Du er nummer ${n} på ventelisten`,
    page: {
      open: 'En plass er ledig for deg',
      accept: 'Ta plassen',
      accepted: 'Plassen er din',
      expired: 'Tilbudet har utløpt',
    },
  },
};

/** A waitlist entry as the API answers with it (the fields this test reads). */
interface Entry {
  readonly waitlistId: string;
  readonly entryId: string;
}

interface Person {
  readonly key: Key;
  readonly customer: { name: string; email: string; phone: string; locale: string };
}

/** Three people per scenario and backend, each with addresses of their own, so every count is per person. */
function peopleFor(tag: string, digits: string): { holder: Person; line: readonly [Person, Person, Person] } {
  const person = (key: Key, name: string, locale: string, phone: string): Person => ({
    key,
    customer: { name, email: `${key}.${tag}@example.test`, phone, locale },
  });
  return {
    holder: {
      key: 'en',
      customer: {
        name: 'Hana Holder',
        email: `holder.${tag}@example.test`,
        phone: `+4207771${digits}0`,
        locale: 'en',
      },
    },
    line: [
      person('en', 'Oliver Smith', 'en-GB', `+4477009${digits}1`),
      person('cs', 'Jiří Novák', 'cs-CZ', `+4207772${digits}2`),
      person('nb', 'Kari Nordmann', 'nb-NO', `+47912${digits}3`),
    ],
  };
}

const CLAIM_LINK = /(http:\/\/127\.0\.0\.1:\d+\/claim\/default\/[A-Za-z0-9_-]+)/;

let smtp: SmtpTestServer;
let twilio: TwilioStandIn;
beforeAll(async () => {
  smtp = await startSmtpTestServer();
  twilio = await startTwilioStandIn({ accountSid: TWILIO.accountSid, authToken: TWILIO.authToken });
});
afterAll(async () => {
  await smtp?.close();
  await twilio?.close();
});

const emailsTo = (p: Person): ReceivedEmail[] =>
  smtp.messages.filter((m) => m.envelope.rcptTo.includes(p.customer.email));
const smsTo = (p: Person): StandInMessage[] => twilio.messages.filter((m) => m.resource.to === p.customer.phone);
/** What one person received, by kind and channel (`email:offer`, `sms:joined`...) → how many; unknown ones named. */
function received(p: Person): Record<string, number> {
  const kinds = Object.entries(TEXTS[p.key].kinds) as [Label, { subject: string; sms: RegExp }][];
  const counts: Record<string, number> = {};
  const add = (label: string) => void (counts[label] = (counts[label] ?? 0) + 1);
  for (const email of emailsTo(p)) {
    const subject = email.subject ?? '';
    const found = kinds.filter(([, k]) => subject.startsWith(k.subject)).map(([label]) => label);
    add(found.length === 1 ? `email:${found[0]}` : `email:?(${subject})`);
  }
  for (const sms of smsTo(p)) {
    const body = sms.resource.body;
    const found = kinds.filter(([, k]) => k.sms.test(body)).map(([label]) => label);
    add(found.length === 1 ? `sms:${found[0]}` : `sms:?(${body})`);
  }
  return counts;
}
/** The messages of one kind this person received: exactly one email and one SMS, or the test fails here. */
function theOnes(p: Person, label: Label): { email: ReceivedEmail; sms: string } {
  const kind = TEXTS[p.key].kinds[label];
  const emails = emailsTo(p).filter((e) => e.subject?.startsWith(kind.subject));
  const texts = smsTo(p).filter((m) => kind.sms.test(m.resource.body));
  expect(emails, `${p.key} ${label} emails`).toHaveLength(1);
  expect(texts, `${p.key} ${label} SMS`).toHaveLength(1);
  return { email: emails[0]!, sms: texts[0]!.resource.body };
}
const both = (label: string, n = 1) => ({ [`email:${label}`]: n, [`sms:${label}`]: n });

function calendarOf(email: ReceivedEmail): Record<string, string> {
  const parts = email.attachments.filter((a) => a.contentType.startsWith('text/calendar'));
  expect(parts).toHaveLength(1);
  const ics = parts[0]!.content.toString('utf8').replace(/\r\n[ \t]/g, '');
  const properties: Record<string, string> = { partMethod: parts[0]!.method ?? '' };
  for (const name of ['METHOD', 'UID', 'DTSTART', 'DTEND', 'STATUS']) {
    properties[name] = new RegExp(`^${name}(?:;[^:\\r\\n]*)?:(.*)$`, 'm').exec(ics)?.[1] ?? '';
  }
  return properties;
}

/** `suite`: one digit of each person's phone number, so that suites sharing the servers never count each other's. */
function e2eSuite(name: string, suite: number, backend: () => ReadModelBackend): void {
  describe(`waitlist end to end — read models on ${name}, SMTP server, Twilio stand-in, real clock`, () => {
    let readModels: ReadModelBackend;
    let dataDir: string;
    let port: number;
    let herald: Herald;
    let logger: ReturnType<typeof silentLogger>;
    let base: string;

    const start = async () => {
      herald = await createHeraldKeepingStores({
        readModels,
        dataDir,
        port,
        smtpUrl: smtp.url,
        twilioUrl: twilio.url,
        logger,
      });
      await herald.start();
      await herald.app.listen({ port, host: '127.0.0.1' });
    };

    /** The API over the socket, as a booking system calls it. */
    const api = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${API_KEY}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await response.text();
      // The JSON as the client gets it; the assertions say what it must hold.
      const json = text ? JSON.parse(text) : {};
      return { status: response.status, body: json };
    };
    const expectApi = async (method: string, path: string, body: unknown, status: number) => {
      const response = await api(method, path, body);
      expect(response.status, `${method} ${path}: ${JSON.stringify(response.body)}`).toBe(status);
      return response.body;
    };
    const setWindow = async (seconds: number) => {
      const current = await expectApi('GET', '/v1/settings/waitlist', undefined, 200);
      const updated = await expectApi(
        'PUT',
        '/v1/settings/waitlist',
        { ...current, responseWindowSeconds: seconds },
        200,
      );
      expect(updated.responseWindowSeconds).toBe(seconds);
    };
    /** How many messages the servers hold now: take it before an act whose messages are then waited for. */
    const mark = () => ({ email: smtp.messages.length, sms: twilio.messages.length });
    /** Lets Herald settle, then waits until the servers received `count` more emails and SMS since `since`. */
    const deliveredSince = async (since: { email: number; sms: number }, count: number) => {
      await herald.settle();
      await smtp.waitForMessages(since.email + count, 10_000);
      await twilio.waitForMessages(since.sms + count, 10_000);
      await herald.settle();
    };
    const afterEvent = (predicate: (event: RecordedEvent) => boolean, timeoutMs = 15_000) =>
      waitForEvents(herald.adapters.eventStore, predicate, 1, timeoutMs).then((events) => events[0]!);

    /** Fills the slot, queues the line through the 409's waitlist link; returns the holder's reservation id. */
    const fullSlotWithLine = async (start: string, people: ReturnType<typeof peopleFor>) => {
      const before = mark();
      const held = await expectApi(
        'POST',
        '/v1/reservations',
        { serviceId: 'pool-swim', start, customer: people.holder.customer },
        201,
      );
      const entries: Entry[] = [];
      for (const [index, person] of people.line.entries()) {
        const full = await expectApi(
          'POST',
          '/v1/reservations',
          { serviceId: 'pool-swim', start, customer: person.customer },
          409,
        );
        expect(full.waitlist).toMatchObject({ href: '/v1/waitlists/entries', method: 'POST' });
        const joined = await expectApi(full.waitlist.method, full.waitlist.href, full.waitlist.body, 201);
        expect(joined).toMatchObject({ status: 'waiting', position: index + 1 });
        entries.push(joined);
      }
      // The holder's confirmation, and each person's "you are number N".
      await deliveredSince(before, 4);
      people.line.forEach((person, index) => {
        expect(received(person), person.key).toEqual(both('joined'));
        expect(smsTo(person)[0]!.resource.body).toContain(TEXTS[person.key].joinedSms(index + 1));
      });
      return { reservationId: held.reservationId as string, waitlistId: entries[0]!.waitlistId as string, entries };
    };

    /** The one offer this person was sent: the same claim link by email and by SMS, in their language. */
    const offerReceived = (person: Person) => {
      const t = TEXTS[person.key];
      const { email, sms } = theOnes(person, 'offer');
      expect(email.html).toContain(`<html lang="${t.lang}">`);
      const link = CLAIM_LINK.exec(sms)?.[1];
      expect(link, sms).toBeDefined();
      expect(new URL(link!).origin).toBe(base);
      expect(email.text).toContain(link);
      expect(email.html).toContain(`href="${link}"`);
      return link!;
    };

    const openClaimPage = async (link: string) => {
      // A browser set to English: the page must still speak the customer's language (the offer's, not the browser's).
      const response = await fetch(link, { headers: { 'accept-language': 'en' } });
      return { status: response.status, html: await response.text() };
    };

    /** Opens the claim link, checks the offer in the person's language, posts the Accept form; the page then says so. */
    const acceptByLink = async (person: Person, link: string, waitlistId: string, entryId: string) => {
      const t = TEXTS[person.key];
      const offerPage = await openClaimPage(link);
      expect(offerPage.status).toBe(200);
      expect(offerPage.html).toContain(`<html lang="${t.lang}">`);
      expect(offerPage.html).toContain(t.page.open);
      const form = /<form method="post" action="([^"]+\/accept)"><button[^>]*>([^<]+)<\/button>/.exec(offerPage.html);
      expect(form?.[2]).toBe(t.page.accept);
      const accepted = await fetch(new URL(form![1]!, link), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: '',
        redirect: 'manual',
      });
      expect(accepted.status).toBe(303);
      expect(new URL(accepted.headers.get('location')!, link).href).toBe(link);
      const offer = (await expectApi('GET', `/v1/waitlists/${waitlistId}/entries/${entryId}`, undefined, 200))
        .offer as { offerId: string; reservationId: string; status: string };
      expect(offer.status).toBe('accepted');
      const after = await openClaimPage(link);
      expect(after.html).toContain(t.page.accepted);
      expect(after.html).toContain(offer.reservationId);
      // Booked and confirmed, under the offer's id, marked as coming from the waitlist.
      const reservation = await expectApi('GET', `/v1/reservations/${offer.reservationId}`, undefined, 200);
      expect(reservation).toMatchObject({
        status: 'confirmed',
        origin: { type: 'waitlist', entryId, offerId: offer.offerId },
      });
      return offer;
    };

    /** The confirmation of the booked offer: email with the calendar REQUEST, and the SMS, in the person's language. */
    const expectConfirmation = async (person: Person, reservationId: string, when: (typeof WHEN)['first']) => {
      const { email, sms } = theOnes(person, 'confirmed');
      expect(email.html).toContain(`<html lang="${TEXTS[person.key].lang}">`);
      expect(calendarOf(email)).toEqual({
        partMethod: 'REQUEST',
        METHOD: 'REQUEST',
        UID: `reservation-${reservationId}@herald.invalid`,
        DTSTART: when.icsStart,
        DTEND: when.icsEnd,
        STATUS: 'CONFIRMED',
      });
      // The SMS names the reservation by the short code customers read (one SMS part, not the 36-character id).
      const { code } = (await expectApi('GET', `/v1/reservations/${reservationId}`, undefined, 200)) as {
        code: string;
      };
      expect(code).toMatch(/^[0-9A-Z]{6}$/);
      expect(sms).toContain(code);
    };

    /** After number 1's offer ran out and number 2 booked: number 3 is number 1, alone in line. */
    const expectLineAfter = async (waitlistId: string, entries: readonly Entry[], reservationId: string) => {
      const line = await expectApi('GET', `/v1/waitlists/${waitlistId}`, undefined, 200);
      const byEntry = Object.fromEntries(line.entries.map((e: { entryId: string }) => [e.entryId, e]));
      expect(byEntry[entries[0]!.entryId]).toMatchObject({ status: 'expired', position: null });
      expect(byEntry[entries[1]!.entryId]).toMatchObject({ status: 'booked', position: null, reservationId });
      expect(byEntry[entries[2]!.entryId]).toMatchObject({ status: 'waiting', position: 1 });
      expect(line.waiting).toBe(1);
    };

    beforeAll(async () => {
      readModels = backend();
      dataDir = await mkdtemp(join(tmpdir(), 'herald-waitlist-e2e-'));
      port = await freePort();
      base = `http://127.0.0.1:${port}`;
      logger = silentLogger();
      await start();
      await expectApi(
        'POST',
        '/v1/locations',
        {
          locationId: 'pool',
          name: 'Plavecký stadion Podolí',
          address: { street: 'Podolská 74', postalCode: '147 00', city: 'Praha', country: 'CZ' },
          timeZone: 'Europe/Prague',
        },
        201,
      );
      const hours = [{ start: '08:00', end: '20:00' }];
      await expectApi(
        'POST',
        '/v1/resources',
        {
          resourceId: 'pool-lane-1',
          locationId: 'pool',
          name: 'Lane 1',
          kind: 'room',
          weeklyHours: { monday: hours, tuesday: hours, wednesday: hours, thursday: hours, friday: hours },
        },
        201,
      );
      await expectApi(
        'POST',
        '/v1/services',
        {
          serviceId: 'pool-swim',
          locationId: 'pool',
          name: 'Lane swim',
          durationMinutes: 60,
          seatsPerSlot: 1,
          resourceIds: ['pool-lane-1'],
        },
        201,
      );
    });
    afterAll(async () => {
      await herald?.stop();
      await rm(dataDir, { recursive: true, force: true });
      if (readModels?.kind === 'mongodb') await dropDatabase(readModels.url, readModels.database);
    });

    it('offers a cancelled seat down the line: number 1 by email and SMS, expiry after the window, number 2 takes it by the link, number 3 moves up', async () => {
      const people = peopleFor(`${readModels.kind}-1`, `${suite}1`);
      const [first, second, third] = people.line;
      await setWindow(SHORT_WINDOW_S);
      const { reservationId, waitlistId, entries } = await fullSlotWithLine(WHEN.first.start, people);

      // The seat is freed: the cancellation's answer already says who it went to.
      const beforeCancel = mark();
      const cancelled = await expectApi('POST', `/v1/reservations/${reservationId}/cancel`, { by: 'customer' }, 200);
      const allocated = cancelled.waitlist[0].allocated;
      expect(allocated).toEqual([
        expect.objectContaining({ entryId: entries[0]!.entryId, mode: 'offer', customerName: first.customer.name }),
      ]);
      const firstOffer = allocated[0] as { offerId: string; expiresAt: string };
      // The next offers get a window a person can answer in; the one made keeps its own.
      await setWindow(LONG_WINDOW_S);
      const entry = await expectApi(
        'GET',
        `/v1/waitlists/${waitlistId}/entries/${entries[0]!.entryId}`,
        undefined,
        200,
      );
      expect(Date.parse(entry.offer.expiresAt) - Date.parse(entry.offer.madeAt)).toBe(SHORT_WINDOW_S * 1000);

      // Number 1 hears of it on both channels, in English, with the claim link; nobody else hears anything new.
      await deliveredSince(beforeCancel, 2); // the offer and the holder's cancellation
      expect(received(first)).toEqual({ ...both('joined'), ...both('offer') });
      expect(received(second)).toEqual(both('joined'));
      expect(received(third)).toEqual(both('joined'));
      const firstLink = offerReceived(first);
      const page = await openClaimPage(firstLink);
      expect(page.status).toBe(200);
      expect(page.html).toContain('<html lang="en">');
      expect(page.html).toContain(TEXTS.en.page.open);

      // Nobody answers: the window runs out on the real clock, never before its time, and number 2 is offered it.
      const beforeExpiry = mark();
      const expired = await afterEvent(
        (e) => e.type === 'WaitlistOfferExpired' && e.data.offerId === firstOffer.offerId,
      );
      expect(Date.parse(expired.recordedAt)).toBeGreaterThanOrEqual(Date.parse(firstOffer.expiresAt));
      await afterEvent((e) => e.type === 'WaitlistOfferMade' && e.data.entryId === entries[1]!.entryId);
      await deliveredSince(beforeExpiry, 2); // "expired" to number 1, the offer to number 2
      expect(received(first)).toEqual({ ...both('joined'), ...both('offer'), ...both('expired') });
      expect(received(second)).toEqual({ ...both('joined'), ...both('offer') });
      expect(received(third)).toEqual(both('joined'));
      const late = await openClaimPage(firstLink);
      expect(late.html).toContain(TEXTS.en.page.expired);

      // Number 2 opens the link from the SMS and presses "Přijmout místo" (the page's form posts, then redirects).
      const beforeAccept = mark();
      const secondOffer = await acceptByLink(second, offerReceived(second), waitlistId, entries[1]!.entryId);

      // Booked and confirmed: the confirmation with the calendar invitation, and the SMS.
      const reservation = await expectApi('GET', `/v1/reservations/${secondOffer.reservationId}`, undefined, 200);
      expect(reservation).toMatchObject({
        status: 'confirmed',
        origin: { type: 'waitlist', entryId: entries[1]!.entryId, offerId: secondOffer.offerId },
      });
      await deliveredSince(beforeAccept, 1);
      expect(received(second)).toEqual({ ...both('joined'), ...both('offer'), ...both('confirmed') });
      await expectConfirmation(second, secondOffer.reservationId, WHEN.first);

      // Number 3 is now number 1; the seat is taken, so nobody is offered anything more.
      await expectLineAfter(waitlistId, entries, secondOffer.reservationId);
      await herald.settle();
      expect(received(third)).toEqual(both('joined'));
      expect(received(people.holder)).toEqual({ ...both('confirmed'), ...both('cancelled') });
      expect(twilio.specViolations).toEqual([]);
      expect(logger.errors).toEqual([]);
    });
    it('loses nothing when Herald stops and starts in the middle of a window: the expiry fires after the restart, number 2 is offered the seat exactly once', async () => {
      const people = peopleFor(`${readModels.kind}-2`, `${suite}2`);
      const [first, second, third] = people.line;
      await setWindow(RESTART_WINDOW_S);
      const { reservationId, waitlistId, entries } = await fullSlotWithLine(WHEN.restart.start, people);
      const beforeCancel = mark();
      const cancelled = await expectApi('POST', `/v1/reservations/${reservationId}/cancel`, { by: 'customer' }, 200);
      const firstOffer = cancelled.waitlist[0].allocated[0] as { entryId: string; offerId: string; expiresAt: string };
      expect(firstOffer.entryId).toBe(entries[0]!.entryId);
      await setWindow(LONG_WINDOW_S);
      await deliveredSince(beforeCancel, 2);
      const firstLink = offerReceived(first);

      // Stop in the middle of the window; a new Herald on the same event store, read models and Agenda data.
      await herald.stop();
      const beforeRestart = mark();
      await start();
      const restartedAt = Date.now();
      expect(restartedAt, 'the restart must fall inside the window').toBeLessThan(Date.parse(firstOffer.expiresAt));

      const expired = await afterEvent(
        (e) => e.type === 'WaitlistOfferExpired' && e.data.offerId === firstOffer.offerId,
      );
      expect(Date.parse(expired.recordedAt)).toBeGreaterThanOrEqual(Date.parse(firstOffer.expiresAt));
      await afterEvent((e) => e.type === 'WaitlistOfferMade' && e.data.entryId === entries[1]!.entryId);
      await deliveredSince(beforeRestart, 2); // "expired" to number 1, the offer to number 2

      // Exactly once each, counted at the servers: nothing lost, nothing sent again by the second process.
      expect(received(first)).toEqual({ ...both('joined'), ...both('offer'), ...both('expired') });
      expect(received(second)).toEqual({ ...both('joined'), ...both('offer') });
      expect(received(third)).toEqual(both('joined'));
      const messageIds = smtp.messages.map((m) => m.messageId);
      expect(new Set(messageIds).size).toBe(messageIds.length);
      const texts = twilio.messages.map((m) => `${m.resource.to} ${m.resource.body}`);
      expect(new Set(texts).size).toBe(texts.length);
      const offersMade: RecordedEvent[] = [];
      for (let after = -1n; ;) {
        const page = await herald.adapters.eventStore.readAll({
          after,
          limit: 1_000,
          eventTypes: ['WaitlistOfferMade'],
        });
        if (page.length === 0) break;
        offersMade.push(...page.filter((e) => e.data.waitlistId === waitlistId));
        after = page[page.length - 1]!.position;
      }
      expect(offersMade.map((e) => e.data.entryId)).toEqual([entries[0]!.entryId, entries[1]!.entryId]);

      // The link the first process sent still opens after the restart (the signing secret is kept), and says so.
      const page = await openClaimPage(firstLink);
      expect(page.status).toBe(200);
      expect(page.html).toContain(TEXTS.en.page.expired);

      // Number 2 takes the seat by the link the second process sent; number 3 is now number 1.
      const beforeAccept = mark();
      const secondOffer = await acceptByLink(second, offerReceived(second), waitlistId, entries[1]!.entryId);
      await deliveredSince(beforeAccept, 1);
      await expectConfirmation(second, secondOffer.reservationId, WHEN.restart);
      await expectLineAfter(waitlistId, entries, secondOffer.reservationId);
      await herald.settle();
      expect(received(second)).toEqual({ ...both('joined'), ...both('offer'), ...both('confirmed') });
      expect(received(third)).toEqual(both('joined'));
      expect(twilio.specViolations).toEqual([]);
      expect(logger.errors).toEqual([]);
    });
  });
}

e2eSuite('SQLite', 1, () => ({ kind: 'sqlite' }));

const mongoUrl = mongoUrlForTests();
if (mongoUrl !== undefined) {
  e2eSuite('MongoDB (wire server)', 2, () => ({
    kind: 'mongodb',
    url: mongoUrl,
    database: uniqueDatabaseName(import.meta.url),
  }));
} else {
  describe.skip(mongoUnavailableReason(), () => {
    it('runs the waitlist end-to-end suite on MongoDB read models', () => undefined);
  });
}
