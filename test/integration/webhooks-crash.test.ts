import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, TWILIO } from '../support/herald-harness.js';
import { startHeraldProcess, type HeraldProcess } from '../support/herald-process.js';
import { crashWorkspace } from '../support/crash-workspace.js';
import { mailAndSmsServers } from '../support/mail-and-sms-servers.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

/**
 * Issue 10 acceptance, outgoing webhooks: Herald runs as a real process (`main.ts`, embedded stores) and posts to a
 * customer's endpoint on loopback that checks every request with the Standard Webhooks reference verifier.
 *
 * 1. The endpoint answers 500 for a while, Herald is killed with SIGKILL in the middle of it, the endpoint is then
 *    down (connection refused) while Herald restarts and more events happen, then it recovers: it receives every
 *    event in order, each webhook-id accepted exactly once, every signature valid.
 * 2. An endpoint that keeps failing past the retry schedule is paused (visible in the API) and the tenant's admin
 *    gets an email; resume delivers from the first undelivered event; replay re-sends with the same webhook-id.
 * Breaks when: an event is lost or re-sent after a crash, the order per endpoint is broken, a signature does not
 * verify, a failing endpoint is disabled silently, or a replay carries another webhook-id.
 *
 * The kill happens while the endpoint answers 500, so no request was accepted and left unrecorded: the one window
 * where a 2xx is not yet recorded (between the answer and its append) cannot be closed by a sender — receivers
 * dedupe by webhook-id, as the spec says (docs/channels/webhooks.md).
 */

const servers = mailAndSmsServers();
const workspace = crashWorkspace('herald-webhooks-crash-');
let receiver: WebhookReceiver;
let secondDir = '';
beforeAll(async () => {
  receiver = await startWebhookReceiver();
  secondDir = await mkdtemp(join(tmpdir(), 'herald-webhooks-pause-'));
});
afterAll(async () => {
  await receiver?.close();
  if (secondDir) await rm(secondDir, { recursive: true, force: true });
});

const headers = { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' };
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function call<T = Record<string, unknown>>(herald: HeraldProcess, method: string, path: string, body?: unknown) {
  const response = await fetch(`${herald.url}${path}`, {
    method,
    headers: body !== undefined ? headers : { authorization: headers.authorization },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as T };
}

async function expectOk<T = Record<string, unknown>>(pending: Promise<{ status: number; body: T }>, status = 200) {
  const response = await pending;
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  return response.body;
}

/** Polls (a child process has no settle()) until `done` holds. */
async function until(what: string, done: () => boolean | Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await done()) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const reservation = (i: number) => ({
  customer: { name: `Guest ${i}`, email: `guest-${i}@example.test`, locale: 'en' },
  serviceName: 'Sauna',
  location: { name: 'Spa', address: '1 Pier Road', timeZone: 'Europe/Prague' },
  start: `2030-12-${String(i).padStart(2, '0')}T17:00:00Z`,
  end: `2030-12-${String(i).padStart(2, '0')}T18:00:00Z`,
});

const baseEnv = () => ({
  BOOTSTRAP_API_KEY: API_KEY,
  SMTP_URL: servers.smtp.url,
  TWILIO_ACCOUNT_SID: TWILIO.accountSid,
  TWILIO_AUTH_TOKEN: TWILIO.authToken,
  TWILIO_FROM: TWILIO.from,
  TWILIO_API_URL: servers.twilio.url,
  WEBHOOK_ALLOW_HTTP: 'true',
  WEBHOOK_ALLOW_LOOPBACK: 'true',
});

type Body = { type: string; data: { reservationId: string } };

describe('outgoing webhooks against a real endpoint on loopback', () => {
  it('an endpoint failing (500s, kill -9 of Herald, connection refused) then recovering gets every event once, in order, signed', async () => {
    const env = {
      ...baseEnv(),
      DATA_DIR: workspace.dataDir,
      // Short waits so the test is quick; the production default spans about 27.6 h.
      WEBHOOK_RETRY_SCHEDULE_SECONDS: '1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,2,2,2,2,2,2,2,2,2,2',
    };
    let herald = await startHeraldProcess({ env, startTimeoutMs: 60_000 });
    workspace.processes.push(herald);
    const created = await expectOk<{ endpoint: { id: string }; secret: string }>(
      call(herald, 'POST', '/v1/webhook-endpoints', {
        url: receiver.url,
        eventTypes: ['ReservationConfirmed'],
        description: 'CRM',
      }),
      201,
    );
    receiver.setSecret(created.secret);
    receiver.answerWith(500);
    const booked: string[] = [];
    const book = async (i: number) => {
      const body = await expectOk<{ reservationId: string }>(
        call(herald, 'POST', '/v1/reservations', reservation(i)),
        201,
      );
      booked.push(body.reservationId);
    };
    for (let i = 1; i <= 4; i++) await book(i);
    await until('three failed attempts', () => receiver.received.length >= 3);
    // Every attempt so far was the head: the first event, with one webhook-id.
    expect(new Set(receiver.received.map((r) => r.id)).size).toBe(1);

    herald.crash();
    await herald.exited;
    await receiver.setDown(true);
    herald = await startHeraldProcess({ env, startTimeoutMs: 60_000 });
    workspace.processes.push(herald);
    for (let i = 5; i <= 6; i++) await book(i);
    const deliveries = `/v1/webhook-endpoints/${created.endpoint.id}/deliveries`;
    await until('attempts refused at connect after the restart', async () => {
      const { body } = await call<{ items: { attempts: { error: string | null }[] }[] }>(herald, 'GET', deliveries);
      return body.items.some((d) => d.attempts.filter((a) => a.error?.startsWith('network')).length >= 2);
    });

    await receiver.setDown(false);
    receiver.answerWith(204);
    await until('every event accepted', () => receiver.accepted.length >= booked.length);
    await sleep(1_500); // a duplicate would arrive within the next retry period (1-2 s)

    expect(receiver.received.every((r) => r.verified === true)).toBe(true);
    expect(receiver.accepted).toHaveLength(booked.length);
    expect(new Set(receiver.accepted).size).toBe(booked.length);
    const acceptedBodies = receiver.received.filter((r) => r.status === 204).map((r) => JSON.parse(r.body) as Body);
    expect(acceptedBodies.map((b) => b.data.reservationId)).toEqual(booked);
    expect(acceptedBodies.every((b) => b.type === 'ReservationConfirmed')).toBe(true);

    const audit = await expectOk<{ items: { status: string; attempts: { status: number | null }[] }[] }>(
      call(herald, 'GET', deliveries),
    );
    expect(audit.items.every((d) => d.status === 'delivered')).toBe(true);
    const first = audit.items.at(-1)!;
    expect(first.attempts.some((a) => a.status === 500)).toBe(true);
    expect(first.attempts.some((a) => a.status === null)).toBe(true);
    expect(first.attempts.at(-1)!.status).toBe(204);
    await herald.stop();
    // Two Herald starts and a retry phase on a shared 2-core machine: well above the ~17 s it takes alone.
  }, 240_000);

  it('pauses an endpoint that keeps failing, alerts the admin, resumes from the first undelivered event, replays by id', async () => {
    await receiver.setDown(false);
    const env = { ...baseEnv(), DATA_DIR: secondDir, WEBHOOK_RETRY_SCHEDULE_SECONDS: '1,1' };
    const herald = await startHeraldProcess({ env, startTimeoutMs: 60_000 });
    workspace.processes.push(herald);
    const settings = await expectOk(call(herald, 'GET', '/v1/settings/notifications'));
    await expectOk(
      call(herald, 'PUT', '/v1/settings/notifications', {
        ...settings,
        admins: [{ id: 'owner', email: 'owner@spa.example', locale: 'en' }],
      }),
    );
    const created = await expectOk<{ endpoint: { id: string }; secret: string }>(
      call(herald, 'POST', '/v1/webhook-endpoints', {
        url: receiver.url,
        eventTypes: ['ReservationConfirmed'],
        description: 'Zapier',
      }),
      201,
    );
    receiver.setSecret(created.secret);
    receiver.answerWith(503, 1);
    const before = receiver.received.length;
    const acceptedBefore = receiver.accepted.length;
    const endpoint = `/v1/webhook-endpoints/${created.endpoint.id}`;
    const r1 = await expectOk<{ reservationId: string }>(
      call(herald, 'POST', '/v1/reservations', reservation(20)),
      201,
    );
    const r2 = await expectOk<{ reservationId: string }>(
      call(herald, 'POST', '/v1/reservations', reservation(21)),
      201,
    );
    await until(
      'the automatic pause',
      async () => (await call<{ status: string }>(herald, 'GET', endpoint)).body.status === 'paused',
    );
    const paused = await expectOk(call(herald, 'GET', endpoint));
    expect(paused).toMatchObject({ status: 'paused', pauseReason: 'failing', undelivered: 2 });
    expect(receiver.received.length - before).toBe(3); // the first event: one attempt and two retries, then paused
    await until('the admin alert', () =>
      servers.smtp.messages.some(
        (m) => m.to.includes('owner@spa.example') && /Webhook paused: Zapier/.test(m.subject ?? ''),
      ),
    );

    receiver.answerWith(204);
    await expectOk(call(herald, 'POST', `${endpoint}/resume`));
    await until('both events after the resume', () => receiver.accepted.length >= acceptedBefore + 2);
    const bodies = receiver.received
      .filter((r, i) => i >= before && r.status === 204)
      .map((r) => JSON.parse(r.body) as Body);
    expect(bodies.map((b) => b.data.reservationId)).toEqual([r1.reservationId, r2.reservationId]);
    const firstId = receiver.received[before]!.id;
    expect(receiver.accepted[acceptedBefore]).toBe(firstId); // the event that failed, delivered, same webhook-id

    await expectOk(call(herald, 'POST', `${endpoint}/deliveries/${firstId}/replay`), 202);
    await until('the replay', () => receiver.accepted.length >= acceptedBefore + 3);
    expect(receiver.accepted.at(-1)).toBe(firstId);
    expect(receiver.received.at(-1)!.verified).toBe(true);
    const audit = await expectOk<{ items: { id: string; attempts: unknown[] }[] }>(
      call(herald, 'GET', `${endpoint}/deliveries`),
    );
    expect(audit.items.find((d) => d.id === firstId)!.attempts).toHaveLength(5); // 3 failed, delivered, replayed
    await herald.stop();
    // One Herald start and a few 1 s retries on a shared 2-core machine: well above the ~10 s it takes alone.
  }, 180_000);
});
