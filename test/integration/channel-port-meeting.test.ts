import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutboundMessage } from '../../src/application/ports/channel.port.js';
import {
  createWebexMeetingChannel,
  createZoomMeetingChannel,
} from '../../src/infrastructure/channels/meeting-channels.js';
import { startWebexStandIn, type WebexStandIn } from '../support/webex-stand-in.js';
import { startZoomStandIn, type ZoomStandIn } from '../support/zoom-stand-in.js';
import { channelPortContract } from './channel-port.contract.js';

/** Channel `meeting`: the customer of an online service is registered for the meeting the workflow names. */

const clock = { now: () => new Date() };
const registration = (
  n: number,
  system: 'zoom' | 'webex',
  meetingId: string,
  to = `guest${n}@example.com`,
  customerName: string | null = `Ada Lovelace ${n}`,
): OutboundMessage => ({
  tenantId: 'contract',
  notificationId: `contract-${n}`,
  idempotencyKey: `contract-${n}`,
  channel: 'meeting',
  to,
  content: {
    text: `You are registered for the online class (${n}).`,
    template: {
      system,
      id: meetingId,
      parameters: customerName !== null ? [{ name: 'customerName', value: customerName }] : [],
    },
  },
});

// ---------------------------------------------------------------------------------------------------------------
// Zoom
const ZOOM = { accountId: 'herald-account-1', clientId: 'herald-client-01', clientSecret: 'zoom-secret-0123456789' };
const ZOOM_MEETING = '85746065432';
const ZOOM_NO_REGISTRATION = '85746065999';
const ZOOM_UNKNOWN = '11111111111';
const zoomAdapter = (standIn: ZoomStandIn, overrides: Partial<typeof ZOOM> = {}, now = clock) =>
  createZoomMeetingChannel({
    ...ZOOM,
    ...overrides,
    apiUrl: standIn.apiUrl,
    tokenUrl: standIn.tokenUrl,
    clock: now,
    timeoutMs: 2_000,
  });
const startZoom = async () => {
  const standIn = await startZoomStandIn(ZOOM);
  standIn.addMeeting(ZOOM_MEETING);
  standIn.addMeeting(ZOOM_NO_REGISTRATION, { registration: false });
  return standIn;
};

let zoom: ZoomStandIn;
channelPortContract('Zoom meeting registrants (Server-to-Server OAuth)', {
  statusCallbacks: false,
  credentials: true,
  async setUp() {
    zoom = await startZoom();
    const adapter = zoomAdapter(zoom);
    // Signs in once, so each case below counts only its own request (the token is reused until shortly before expiry).
    expect(await adapter.send(registration(9999, 'zoom', ZOOM_MEETING))).toMatchObject({ outcome: 'accepted' });
    return {
      adapter,
      // Another client secret: the token endpoint refuses the app (401 invalid_client).
      wrongCredentials: zoomAdapter(zoom, { clientSecret: 'zoom-wrong-secret-0123' }),
      message: (n) => registration(n, 'zoom', ZOOM_MEETING),
      // A meeting that does not exist: 404 code 3001.
      refusedMessage: () => registration(0, 'zoom', ZOOM_UNKNOWN),
      requests: () => zoom.requests.length,
      failNext: (count, status, retryAfter) => zoom.failNext(count, status, retryAfter),
      setDown: (down) => zoom.setDown(down),
      retryAfter: true,
      violations: () => zoom.violations,
    };
  },
  tearDown: async () => zoom?.close(),
});

describe('Zoom: the registration the customer gets', () => {
  let standIn: ZoomStandIn;
  beforeAll(async () => {
    standIn = await startZoom();
  });
  afterAll(async () => standIn?.close());

  it('registers the customer’s email and name for the workflow’s meeting; the registrant id names the delivery', async () => {
    const outcome = await zoomAdapter(standIn).send(
      registration(1, 'zoom', ZOOM_MEETING, 'ada@example.com', 'Ada Lovelace'),
    );
    expect(outcome).toMatchObject({ outcome: 'accepted' });
    const registrant = standIn.registrants.find((r) => r.email === 'ada@example.com');
    expect(registrant).toMatchObject({ meetingId: ZOOM_MEETING, firstName: 'Ada', lastName: 'Lovelace' });
    expect((outcome as { providerMessageId: string }).providerMessageId).toBe(registrant!.registrantId);
    expect(standIn.violations).toEqual([]);
  });

  it('without a customerName parameter the local part of the address is the first name; control characters go', async () => {
    const adapter = zoomAdapter(standIn);
    expect(await adapter.send(registration(2, 'zoom', ZOOM_MEETING, 'bob.novak@example.com', null))).toMatchObject({
      outcome: 'accepted',
    });
    expect(
      await adapter.send(registration(3, 'zoom', ZOOM_MEETING, 'eve@example.com', 'Eve\u202e\u0007 Smith')),
    ).toMatchObject({ outcome: 'accepted' });
    expect(standIn.registrants.find((r) => r.email === 'bob.novak@example.com')).toMatchObject({
      firstName: 'bob.novak',
    });
    const eve = standIn.registrants.find((r) => r.email === 'eve@example.com')!;
    // The bidi override and the bell are dropped: the name Zoom shows (and puts in its e-mail) is plain.
    expect(eve).toMatchObject({ firstName: 'Eve', lastName: 'Smith' });
  });

  it('a repeated registration (a retry after a crash) answers the same registrant: one registration, one join link', async () => {
    const adapter = zoomAdapter(standIn);
    const message = registration(4, 'zoom', ZOOM_MEETING, 'repeat@example.com');
    const first = await adapter.send(message);
    const again = await zoomAdapter(standIn).send(message);
    expect(first).toMatchObject({ outcome: 'accepted' });
    expect(again).toMatchObject({
      outcome: 'accepted',
      providerMessageId: (first as { providerMessageId: string }).providerMessageId,
    });
    expect(standIn.registrants.filter((r) => r.email === 'repeat@example.com')).toHaveLength(1);
  });

  it('a meeting without registration is a permanent failure with Zoom’s reason', async () => {
    const outcome = await zoomAdapter(standIn).send(registration(5, 'zoom', ZOOM_NO_REGISTRATION));
    expect(outcome).toMatchObject({ outcome: 'permanent', code: '3000' });
    expect((outcome as { reason: string }).reason).toContain('Registration has not been enabled');
  });

  it('a workflow without a Zoom meeting is permanent and asks Zoom nothing', async () => {
    const before = standIn.requests.length;
    const webexMeeting = await zoomAdapter(standIn).send(registration(6, 'webex', 'f'.repeat(32)));
    expect(webexMeeting).toMatchObject({ outcome: 'permanent', code: 'no-meeting' });
    expect(standIn.requests.length).toBe(before);
  });

  it('a wrong account id is permanent (the token endpoint refuses it)', async () => {
    const outcome = await zoomAdapter(standIn, { accountId: 'another-account' }).send(
      registration(7, 'zoom', ZOOM_MEETING),
    );
    expect(outcome).toMatchObject({ outcome: 'permanent' });
    expect((outcome as { reason: string }).reason).toContain('Account id is invalid');
  });

  it('signs in once and reuses the token until shortly before it expires', async () => {
    let now = new Date('2026-12-01T10:00:00Z');
    const adapter = zoomAdapter(standIn, {}, { now: () => now });
    const tokensBefore = standIn.tokenRequests();
    await adapter.send(registration(8, 'zoom', ZOOM_MEETING));
    await adapter.send(registration(9, 'zoom', ZOOM_MEETING));
    expect(standIn.tokenRequests() - tokensBefore).toBe(1);
    now = new Date(now.getTime() + 3_500_000); // 3500 s: still more than a minute left
    await adapter.send(registration(13, 'zoom', ZOOM_MEETING));
    expect(standIn.tokenRequests() - tokensBefore).toBe(1);
    now = new Date(now.getTime() + 60_000); // 3560 s
    expect(await adapter.send(registration(10, 'zoom', ZOOM_MEETING))).toMatchObject({ outcome: 'accepted' });
    expect(standIn.tokenRequests() - tokensBefore).toBe(2);
  });

  it('a token Zoom no longer takes is forgotten: retryable, and the next attempt signs in again', async () => {
    const adapter = zoomAdapter(standIn);
    expect(await adapter.send(registration(11, 'zoom', ZOOM_MEETING))).toMatchObject({ outcome: 'accepted' });
    standIn.revokeAccessTokens();
    expect(await adapter.send(registration(12, 'zoom', ZOOM_MEETING))).toMatchObject({
      outcome: 'retryable',
      code: '124',
    });
    expect(await adapter.send(registration(12, 'zoom', ZOOM_MEETING))).toMatchObject({ outcome: 'accepted' });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Webex
const WEBEX_TOKEN = 'webex-contract-token-0123456789';
const WEBEX_MEETING = '870f51ff287b41be84648412901e0402';
const WEBEX_NO_INVITEES = '870f51ff287b41be84648412901e0999';
const WEBEX_UNKNOWN = '00000000000000000000000000000000';
const webexAdapter = (standIn: WebexStandIn, accessToken = WEBEX_TOKEN) =>
  createWebexMeetingChannel({ accessToken, apiUrl: standIn.apiUrl, clock, timeoutMs: 2_000 });
const startWebex = async () => {
  const standIn = await startWebexStandIn({ accessToken: WEBEX_TOKEN });
  standIn.addMeeting(WEBEX_MEETING);
  standIn.addMeeting(WEBEX_NO_INVITEES, { takesInvitees: false });
  return standIn;
};

let webex: WebexStandIn;
channelPortContract('Webex meeting invitees', {
  statusCallbacks: false,
  credentials: true,
  async setUp() {
    webex = await startWebex();
    return {
      adapter: webexAdapter(webex),
      wrongCredentials: webexAdapter(webex, 'webex-wrong-token-0123456789'),
      message: (n) => registration(n, 'webex', WEBEX_MEETING),
      // A meeting that does not exist: 404.
      refusedMessage: () => registration(0, 'webex', WEBEX_UNKNOWN),
      requests: () => webex.requests.length,
      failNext: (count, status, retryAfter) => webex.failNext(count, status, retryAfter),
      setDown: (down) => webex.setDown(down),
      retryAfter: true,
      violations: () => webex.violations,
    };
  },
  tearDown: async () => webex?.close(),
});

describe('Webex: the invitation the customer gets', () => {
  let standIn: WebexStandIn;
  beforeAll(async () => {
    standIn = await startWebex();
  });
  afterAll(async () => standIn?.close());

  it('invites the customer’s email with their name and asks Webex to send the invitation e-mail', async () => {
    const outcome = await webexAdapter(standIn).send(
      registration(1, 'webex', WEBEX_MEETING, 'ada@example.com', 'Ada Lovelace'),
    );
    expect(outcome).toMatchObject({ outcome: 'accepted' });
    expect(standIn.invitees).toEqual([
      {
        id: (outcome as { providerMessageId: string }).providerMessageId,
        meetingId: WEBEX_MEETING,
        email: 'ada@example.com',
        displayName: 'Ada Lovelace',
        sendEmail: true,
      },
    ]);
    expect(standIn.violations).toEqual([]);
  });

  it('a repeated invitation (409: the invitee exists) is success, and the customer has one invitation', async () => {
    const message = registration(2, 'webex', WEBEX_MEETING, 'repeat@example.com');
    expect(await webexAdapter(standIn).send(message)).toMatchObject({ outcome: 'accepted' });
    const again = await webexAdapter(standIn).send(message);
    expect(again).toMatchObject({ outcome: 'accepted' });
    expect((again as { providerMessageId: string }).providerMessageId).toMatch(
      new RegExp(`^existing:${WEBEX_MEETING}:`),
    );
    expect((again as { providerMessageId: string }).providerMessageId).not.toContain('repeat');
    expect(standIn.invitees.filter((i) => i.email === 'repeat@example.com')).toHaveLength(1);
  });

  it('a meeting that takes no invitees is a permanent failure with Webex’s reason', async () => {
    const outcome = await webexAdapter(standIn).send(registration(3, 'webex', WEBEX_NO_INVITEES));
    expect(outcome).toMatchObject({ outcome: 'permanent', code: '400' });
    expect((outcome as { reason: string }).reason).toContain('not supported');
  });

  it('a workflow naming a Zoom meeting is permanent for Webex and asks Webex nothing', async () => {
    const before = standIn.requests.length;
    expect(await webexAdapter(standIn).send(registration(4, 'zoom', ZOOM_MEETING))).toMatchObject({
      outcome: 'permanent',
      code: 'no-meeting',
    });
    expect(standIn.requests.length).toBe(before);
  });
});
