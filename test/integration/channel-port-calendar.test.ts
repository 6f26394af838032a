import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutboundMessage } from '../../src/application/ports/channel.port.js';
import {
  createGoogleCalendarChannel,
  createOutlookCalendarChannel,
} from '../../src/infrastructure/channels/calendar-channels.js';
import {
  startGoogleCalendarStandIn,
  startOutlookStandIn,
  type GoogleCalendarStandIn,
  type OutlookStandIn,
} from '../support/calendar-invitation-stand-ins.js';
import { channelPortContract } from './channel-port.contract.js';

/**
 * Channel port contract for the `calendar` channel: Google Calendar events.insert and Microsoft Graph create event,
 * each against a loopback stand-in that checks the documented request fields, the OAuth token flow and the auth
 * header, and records the invitation the provider would email.
 */

const clock = { now: () => new Date() };

const invitation = (n: number, to = `guest${n}@example.com`): OutboundMessage => ({
  tenantId: 'contract',
  notificationId: `contract-${n}`,
  idempotencyKey: `contract-${n}`,
  channel: 'calendar',
  to,
  content: {
    text: `Your reservation of Sauna for 2 is confirmed (${n}).`,
    event: {
      reservationId: `res-${n}`,
      code: `K7Q${n}`,
      // 18:30–20:00 in Prague (CET, +01:00, in January).
      start: '2027-01-15T17:30:00.000Z',
      end: '2027-01-15T19:00:00.000Z',
      timeZone: 'Europe/Prague',
      summary: 'Sauna for 2',
      location: 'Riverside Spa, Náplavka 1, Praha',
      description: `Your reservation of Sauna for 2 is confirmed (${n}).\n\nReservation K7Q${n} (res-${n})`,
    },
  },
});

const anotherKey = () =>
  generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

// ---------------------------------------------------------------------------------------------------------------
const GOOGLE = {
  clientEmail: 'herald-calendar@herald-contract.iam.gserviceaccount.com',
  subject: 'desk@riverside-spa.example',
  calendarId: 'desk@riverside-spa.example',
};
let google: GoogleCalendarStandIn;
const googleAdapter = (
  standIn: GoogleCalendarStandIn,
  privateKey = standIn.privateKey,
  calendarId = GOOGLE.calendarId,
) =>
  createGoogleCalendarChannel({
    clientEmail: GOOGLE.clientEmail,
    subject: GOOGLE.subject,
    calendarId,
    privateKey,
    apiUrl: standIn.url,
    tokenUrl: standIn.tokenUrl,
    clock,
    timeoutMs: 2_000,
  });

channelPortContract('Google Calendar events.insert', {
  statusCallbacks: false,
  credentials: true,
  async setUp() {
    google = await startGoogleCalendarStandIn(GOOGLE);
    const adapter = googleAdapter(google);
    // Signs in once, so each case below counts only its own request (a token is reused until it expires).
    expect(await adapter.send(invitation(9999))).toMatchObject({ outcome: 'accepted' });
    return {
      adapter,
      // Another service-account key: the token endpoint refuses the JWT (invalid_grant).
      wrongCredentials: googleAdapter(google, anotherKey()),
      message: (n) => invitation(n),
      // An attendee address Google refuses: 400 invalid.
      refusedMessage: () => invitation(0, 'not-an-address'),
      requests: () => google.requests.length,
      failNext: (count, status, retryAfter) => google.failNext(count, status, retryAfter),
      setDown: (down) => google.setDown(down),
      retryAfter: true,
      violations: () => google.violations,
    };
  },
  tearDown: async () => google?.close(),
});

describe('Google Calendar: what the customer receives', () => {
  let standIn: GoogleCalendarStandIn;
  beforeAll(async () => {
    standIn = await startGoogleCalendarStandIn(GOOGLE);
  });
  afterAll(async () => standIn.close());

  it('invites the customer to the reservation, in the location’s time zone, with the code in the description', async () => {
    const outcome = await googleAdapter(standIn).send(invitation(1, 'jana@example.com'));
    expect(outcome).toMatchObject({ outcome: 'accepted' });
    expect(standIn.invitations).toEqual([
      {
        provider: 'google-calendar',
        eventId: (outcome as { providerMessageId: string }).providerMessageId,
        attendee: 'jana@example.com',
        summary: 'Sauna for 2',
        description: expect.stringContaining('Reservation K7Q1 (res-1)'),
        location: 'Riverside Spa, Náplavka 1, Praha',
        start: { dateTime: '2027-01-15T18:30:00+01:00', timeZone: 'Europe/Prague' },
        end: { dateTime: '2027-01-15T20:00:00+01:00', timeZone: 'Europe/Prague' },
      },
    ]);
    expect(standIn.violations).toEqual([]);
  });

  it('a retry after a lost answer (or a crash) creates no second event and sends no second invitation', async () => {
    const channel = googleAdapter(standIn);
    const message = invitation(2, 'petr@example.com');
    const first = await channel.send(message);
    // The same delivery again, by a fresh adapter as after a restart: the same event id, which Google refuses as a
    // duplicate; the delivery counts as accepted with the same provider id.
    const again = await googleAdapter(standIn).send(message);
    expect(first).toMatchObject({ outcome: 'accepted' });
    expect(again).toMatchObject({
      outcome: 'accepted',
      providerMessageId: (first as { providerMessageId: string }).providerMessageId,
    });
    expect(standIn.invitations.filter((i) => i.attendee === 'petr@example.com')).toHaveLength(1);
    expect(standIn.violations).toEqual([]);
  });

  it('is permanent when the calendar is not the one shared with the account (404 notFound)', async () => {
    const outcome = await googleAdapter(standIn, standIn.privateKey, 'someone-else@example.org').send(invitation(3));
    expect(outcome).toMatchObject({ outcome: 'permanent', code: 'notFound' });
  });

  it('treats Google’s 403 userRateLimitExceeded as retryable, with its Retry-After, not as a refusal', async () => {
    const channel = googleAdapter(standIn);
    expect(await channel.send(invitation(4))).toMatchObject({ outcome: 'accepted' });
    standIn.failNext(1, 403, 3);
    const limited = await channel.send(invitation(5));
    expect(limited).toMatchObject({ outcome: 'retryable', code: 'userRateLimitExceeded' });
    expect((limited as { retryAfterMs?: number }).retryAfterMs).toBeGreaterThan(2_000);
    expect(await channel.send(invitation(5))).toMatchObject({ outcome: 'accepted' });
  });
});

// ---------------------------------------------------------------------------------------------------------------
const OUTLOOK = {
  tenantId: 'riverside-spa.onmicrosoft.com',
  clientId: '5b1c3a52-7e9f-4c2a-9d55-2f0e6a1b7c3d',
  clientSecret: 'Qx58Q~contract.secret-0123456789abcdefghij',
  userId: 'desk@riverside-spa.example',
};
let outlook: OutlookStandIn;
const outlookAdapter = (standIn: OutlookStandIn, clientSecret = OUTLOOK.clientSecret, userId = OUTLOOK.userId) =>
  createOutlookCalendarChannel({
    ...OUTLOOK,
    clientSecret,
    userId,
    apiUrl: standIn.url,
    tokenUrl: standIn.tokenUrl,
    clock,
    timeoutMs: 2_000,
  });

channelPortContract('Microsoft Graph create event (Outlook)', {
  statusCallbacks: false,
  credentials: true,
  async setUp() {
    outlook = await startOutlookStandIn(OUTLOOK);
    const adapter = outlookAdapter(outlook);
    expect(await adapter.send(invitation(9999))).toMatchObject({ outcome: 'accepted' });
    return {
      adapter,
      // A wrong client secret: 401 invalid_client at the token endpoint.
      wrongCredentials: outlookAdapter(outlook, 'wrong~secret-0000000000000000000000000'),
      message: (n) => invitation(n),
      // An attendee address Exchange refuses: ErrorInvalidRecipients.
      refusedMessage: () => invitation(0, 'not-an-address'),
      requests: () => outlook.requests.length,
      failNext: (count, status, retryAfter) => outlook.failNext(count, status, retryAfter),
      setDown: (down) => outlook.setDown(down),
      retryAfter: true,
      violations: () => outlook.violations,
    };
  },
  tearDown: async () => outlook?.close(),
});

describe('Outlook: what the customer receives', () => {
  let standIn: OutlookStandIn;
  beforeAll(async () => {
    standIn = await startOutlookStandIn(OUTLOOK);
  });
  afterAll(async () => standIn.close());

  it('invites the customer to the reservation, wall-clock time in the location’s zone, code in the body', async () => {
    const outcome = await outlookAdapter(standIn).send(invitation(1, 'jana@example.com'));
    expect(outcome).toMatchObject({ outcome: 'accepted' });
    expect(standIn.invitations).toEqual([
      {
        provider: 'outlook',
        eventId: (outcome as { providerMessageId: string }).providerMessageId,
        attendee: 'jana@example.com',
        summary: 'Sauna for 2',
        description: expect.stringContaining('Reservation K7Q1 (res-1)'),
        location: 'Riverside Spa, Náplavka 1, Praha',
        start: { dateTime: '2027-01-15T18:30:00', timeZone: 'Europe/Prague' },
        end: { dateTime: '2027-01-15T20:00:00', timeZone: 'Europe/Prague' },
      },
    ]);
    expect(standIn.violations).toEqual([]);
  });

  it('a retry after a lost answer (or a crash) creates no second event: the same transactionId, the same event', async () => {
    const message = invitation(2, 'petr@example.com');
    const first = await outlookAdapter(standIn).send(message);
    const again = await outlookAdapter(standIn).send(message);
    expect(first).toMatchObject({ outcome: 'accepted' });
    expect(again).toMatchObject({
      outcome: 'accepted',
      providerMessageId: (first as { providerMessageId: string }).providerMessageId,
    });
    expect(standIn.invitations.filter((i) => i.attendee === 'petr@example.com')).toHaveLength(1);
    expect(standIn.violations).toEqual([]);
  });

  it('is permanent for a mailbox that does not exist (404 ErrorInvalidUser)', async () => {
    const outcome = await outlookAdapter(standIn, OUTLOOK.clientSecret, 'nobody@riverside-spa.example').send(
      invitation(3),
    );
    expect(outcome).toMatchObject({ outcome: 'permanent', code: 'ErrorInvalidUser' });
  });
});
