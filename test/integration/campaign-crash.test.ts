import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageIdFor } from '../../src/infrastructure/email/smtp-email-sender.js';
import { API_KEY, TWILIO } from '../support/herald-harness.js';
import { startHeraldProcess, type HeraldProcess } from '../support/herald-process.js';
import { startSmtpTestServer, type SmtpTestServer } from '../support/smtp-test-server.js';
import { startTwilioStandIn, type TwilioStandIn } from '../support/twilio-stand-in.js';

/**
 * Issue 9 acceptance, bulk messages: Herald runs as a real process (`main.ts`, embedded stores, the real SMTP server
 * and the Twilio stand-in). A class of 30 booked customers is cancelled; staff preview and send a bulk SMS + email
 * as a campaign, throttled to 10 a second per channel; Herald is killed with SIGKILL right after the Twilio stand-in
 * accepted a campaign SMS (inside the window between the provider's acceptance and its record), restarted, killed
 * again right after the SMTP server accepted a campaign email, restarted, and the staff's retried POST (same
 * Idempotency-Key) comes in after the restart.
 *
 * Asserts: every customer has exactly one campaign SMS at Twilio and exactly one campaign email Message-ID at the
 * SMTP server; the three who opted out of SMS have none (and an audit-trail skip saying so); the credits charged are
 * exactly the SMS parts Twilio counted plus the bulk emails; the campaign completed with one delivery per recipient
 * and channel.
 * Breaks when: a batch re-run after a crash requests a delivery again under another id (duplicate), a batch whose
 * record was lost is not re-run (lost), the runner does not resume after the restart, an opt-out is ignored, credits
 * are charged twice for a re-run batch, or the retried POST creates a second campaign.
 */

const CUSTOMERS = 30;
const OPTED_OUT = new Set([3, 14, 25]);
const MARKER = 'CLASS CANCELLED';
const phoneOf = (i: number) => `+1415${String(6_000_000 + i).padStart(7, '0')}`;
const emailOf = (i: number) => `member-${i}@example.test`;

let smtp: SmtpTestServer;
let twilio: TwilioStandIn;
let dataDir: string;
const processes: HeraldProcess[] = [];

beforeAll(async () => {
  smtp = await startSmtpTestServer();
  twilio = await startTwilioStandIn({ accountSid: TWILIO.accountSid, authToken: TWILIO.authToken });
  dataDir = await mkdtemp(join(tmpdir(), 'herald-campaign-crash-'));
});
afterAll(async () => {
  for (const p of processes) p.crash();
  await Promise.all(processes.map((p) => p.exited));
  await smtp?.close();
  await twilio?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const headers = { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' };
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function call<T = Record<string, unknown>>(
  herald: HeraldProcess,
  method: string,
  path: string,
  body?: unknown,
  extra: Record<string, string> = {},
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${herald.url}${path}`, {
    method,
    headers: { ...headers, ...extra },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as T };
}

async function expectOk<T = Record<string, unknown>>(pending: Promise<{ status: number; body: T }>, status = 200) {
  const response = await pending;
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  return response.body;
}

/** Polls (a child process has no settle()) until `done` holds, failing after `timeoutMs`. */
async function until(what: string, done: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await done()) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const campaignSms = () => twilio.messages.filter((m) => m.resource.body.includes(MARKER));
const campaignEmails = () => smtp.messages.filter((m) => (m.subject ?? '').includes(MARKER));

describe('crash test: a bulk SMS + email campaign to a cancelled class, SIGKILL twice while it runs', () => {
  it('ends with exactly one SMS and one email Message-ID per customer, none by SMS to those who opted out, credits for the parts sent', async () => {
    const env = {
      DATA_DIR: dataDir,
      BOOTSTRAP_API_KEY: API_KEY,
      SMTP_URL: smtp.url,
      TWILIO_ACCOUNT_SID: TWILIO.accountSid,
      TWILIO_AUTH_TOKEN: TWILIO.authToken,
      TWILIO_FROM: TWILIO.from,
      TWILIO_API_URL: twilio.url,
      CAMPAIGN_SMS_PER_SECOND: '10',
      CAMPAIGN_EMAIL_PER_SECOND: '10',
    };
    let herald = await startHeraldProcess({ env, startTimeoutMs: 60_000 });
    processes.push(herald);

    // --- The tenant: prices, credits, a class of 30 seats.
    const settings = await expectOk(call(herald, 'GET', '/v1/settings/notifications'));
    await expectOk(
      call(herald, 'PUT', '/v1/settings/notifications', {
        ...settings,
        prices: { smsPerPart: 1, emailManual: 1, emailAutomatic: 0, emailBulk: 1 },
      }),
    );
    await expectOk(call(herald, 'POST', '/v1/credits/top-ups', { topUpId: 'start', amount: 1_000 }), 201);
    await expectOk(
      call(herald, 'POST', '/v1/locations', {
        locationId: 'studio',
        name: 'Studio Harbour',
        address: { street: '1 Pier Road', postalCode: '10001', city: 'New York', country: 'US' },
        timeZone: 'America/New_York',
      }),
      201,
    );
    const everyDay = { start: '07:00', end: '21:00' };
    await expectOk(
      call(herald, 'POST', '/v1/resources', {
        resourceId: 'hall',
        locationId: 'studio',
        name: 'Hall',
        kind: 'room',
        weeklyHours: Object.fromEntries(
          ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'].map((d) => [d, [everyDay]]),
        ),
      }),
      201,
    );
    await expectOk(
      call(herald, 'POST', '/v1/services', {
        serviceId: 'spin',
        locationId: 'studio',
        name: 'Spin class',
        durationMinutes: 60,
        seatsPerSlot: 30,
        resourceIds: ['hall'],
      }),
      201,
    );
    const start = '2030-03-14T22:00:00.000Z'; // 6 PM in New York
    const reservations: string[] = [];
    for (let i = 0; i < CUSTOMERS; i++) {
      const booked = await expectOk<{ reservationId: string; customer: { id?: string } }>(
        call(herald, 'POST', '/v1/reservations', {
          serviceId: 'spin',
          start,
          customer: { id: `member-${i}`, name: `Member ${i}`, email: emailOf(i), phone: phoneOf(i), locale: 'en' },
        }),
        201,
      );
      reservations.push(booked.reservationId);
    }
    for (const i of OPTED_OUT) {
      await expectOk(call(herald, 'PUT', `/v1/customers/member-${i}/preferences`, { smsOptedOut: true }));
    }
    // --- The class is cancelled.
    for (const reservationId of reservations) {
      await expectOk(
        call(herald, 'POST', `/v1/reservations/${reservationId}/cancel`, {
          by: 'staff',
          reason: 'Instructor ill',
          bypassWaitlist: true,
        }),
      );
    }
    // Confirmations (30 SMS, 30 emails) and cancellations (27 SMS, 30 emails) have gone out.
    await twilio.waitForMessages(CUSTOMERS + CUSTOMERS - OPTED_OUT.size, 60_000);
    await smtp.waitForMessages(2 * CUSTOMERS, 60_000);

    // --- Preview, then send.
    const audience = {
      type: 'reservations',
      filter: { serviceId: 'spin', from: start, to: '2030-03-14T22:00:01.000Z' },
    };
    const message = {
      sms: {
        text: `${MARKER}: {{serviceName}} on {{date}} at {{time}}. Sorry, {{customerName}}! Ref {{reservationCode}}`,
      },
      email: {
        subject: `${MARKER}: {{serviceName}}, {{date}}`,
        text: 'Dear {{customerName}},\n\nthe class is cancelled; you will not be charged.',
      },
    };
    const preview = await expectOk<{
      matched: number;
      channels: Record<string, { recipients: number; excluded: number; credits: number }>;
      excluded: { reason: string }[];
    }>(call(herald, 'POST', '/v1/messages/bulk/preview', { audience, message }));
    expect(preview.matched).toBe(CUSTOMERS);
    expect(preview.channels.sms).toMatchObject({ recipients: CUSTOMERS - OPTED_OUT.size, excluded: OPTED_OUT.size });
    expect(preview.channels.email).toMatchObject({ recipients: CUSTOMERS, excluded: 0, credits: CUSTOMERS });
    expect(preview.excluded.map((e) => e.reason)).toEqual(['opted-out', 'opted-out', 'opted-out']);

    const smsBefore = twilio.messages.length;
    const create = { name: 'Spin cancelled', audience, message };
    const idempotency = { 'idempotency-key': 'spin-cancelled-bulk' };
    const created = await expectOk<{ campaignId: string }>(
      call(herald, 'POST', '/v1/campaigns', create, idempotency),
      201,
    );
    const campaignId = created.campaignId;

    // --- Kill 1: right after Twilio accepted the 12th campaign SMS.
    await twilio.waitForMessages(smsBefore + 12, 60_000);
    herald.crash();
    await herald.exited;
    expect(campaignSms().length).toBeLessThan(CUSTOMERS - OPTED_OUT.size);
    herald = await startHeraldProcess({ env, startTimeoutMs: 60_000 });
    processes.push(herald);
    // The staff's browser retries the POST whose answer it may have missed: the same campaign, nothing new.
    const retried = await call<{ campaignId: string }>(herald, 'POST', '/v1/campaigns', create, idempotency);
    expect([200, 201]).toContain(retried.status);
    expect(retried.body.campaignId).toBe(campaignId);

    // --- Kill 2: right after the SMTP server accepted one more campaign email.
    const emailsNow = smtp.messages.length;
    await until(
      'another campaign email',
      async () => smtp.messages.length > emailsNow || campaignEmails().length >= CUSTOMERS,
    );
    if (campaignEmails().length < CUSTOMERS) {
      herald.crash();
      await herald.exited;
      herald = await startHeraldProcess({ env, startTimeoutMs: 60_000 });
      processes.push(herald);
    }

    // --- After the restart the campaign runs to its end.
    type CampaignView = {
      status: string;
      progress: Record<string, { processed: number; deliveries: Record<string, number> }>;
    };
    let view: CampaignView | undefined;
    await until('the campaign to complete with every delivery sent or skipped', async () => {
      view = (await call<CampaignView>(herald, 'GET', `/v1/campaigns/${campaignId}`)).body;
      if (view.status !== 'completed') return false;
      const settled = (d: Record<string, number>) => Object.keys(d).every((s) => s === 'sent' || s === 'skipped');
      return settled(view.progress.sms!.deliveries) && settled(view.progress.email!.deliveries);
    });
    expect(view!.progress.sms!.deliveries).toEqual({ sent: CUSTOMERS - OPTED_OUT.size, skipped: OPTED_OUT.size });
    expect(view!.progress.email!.deliveries).toEqual({ sent: CUSTOMERS });

    // --- At the servers: one campaign SMS per customer who did not opt out, none to those who did.
    const smsByNumber = new Map<string, number>();
    for (const m of campaignSms()) smsByNumber.set(m.resource.to, (smsByNumber.get(m.resource.to) ?? 0) + 1);
    const emailIds = new Map<string, Set<string>>();
    for (const m of campaignEmails()) {
      const to = m.envelope.rcptTo[0]!;
      emailIds.set(to, new Set([...(emailIds.get(to) ?? []), m.messageId ?? '(none)']));
    }
    const problems: string[] = [];
    for (let i = 0; i < CUSTOMERS; i++) {
      const sms = smsByNumber.get(phoneOf(i)) ?? 0;
      const expected = OPTED_OUT.has(i) ? 0 : 1;
      if (sms !== expected) problems.push(`member ${i}: ${sms} campaign SMS, expected ${expected}`);
      const ids = emailIds.get(emailOf(i)) ?? new Set();
      if (ids.size !== 1) problems.push(`member ${i}: ${ids.size} campaign email Message-IDs`);
    }
    expect(problems).toEqual([]);
    expect(twilio.specViolations).toEqual([]);

    // --- The audit trail: one delivery per recipient and channel, opted-out ones skipped with the reason.
    const deliveries = await expectOk<{
      items: {
        notificationId: string;
        channel: string;
        status: string;
        skipReason: string | null;
        providerMessageId: string | null;
      }[];
    }>(call(herald, 'GET', `/v1/deliveries?campaignId=${campaignId}&limit=200`));
    expect(deliveries.items).toHaveLength(2 * CUSTOMERS);
    expect(deliveries.items.filter((d) => d.status === 'skipped').map((d) => d.skipReason)).toEqual([
      'opted-out',
      'opted-out',
      'opted-out',
    ]);
    for (const d of deliveries.items.filter((item) => item.channel === 'email')) {
      expect(d.providerMessageId).toBe(messageIdFor(d.notificationId));
    }

    // --- Credits: exactly the SMS parts Twilio counted (automatic and campaign alike) and one per bulk email.
    const credits = await expectOk<{ balance: number }>(call(herald, 'GET', '/v1/credits'));
    const smsParts = twilio.messages.reduce((n, m) => n + Number(m.resource.num_segments), 0);
    expect(1_000 - credits.balance).toBe(smsParts + CUSTOMERS);

    const campaigns = await expectOk<{ items: { campaignId: string }[] }>(call(herald, 'GET', '/v1/campaigns'));
    expect(campaigns.items.map((c) => c.campaignId)).toEqual([campaignId]);
    console.info(
      `[campaign-crash] runs=${processes.length} campaign sms=${campaignSms().length} campaign smtp transmissions=${campaignEmails().length}` +
        ` (distinct Message-IDs ${new Set(campaignEmails().map((m) => m.messageId)).size})` +
        ` interrupted SMS found at Twilio=${processes.flatMap((p) => p.logs).filter((l) => l.msg === 'interrupted attempt found at the provider').length}`,
    );
    await herald.stop();
  }, 300_000);
});
