import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ScheduledJob } from '../../../src/application/ports/scheduler.port.js';
import type {
  WebhookAnswer,
  WebhookRequest,
  WebhookTransport,
} from '../../../src/application/ports/webhook-transport.port.js';
import { handleCommand } from '../../../src/application/command-handler.js';
import { createWebhookSenderJob, type WebhookOutboxDeps } from '../../../src/application/webhooks/webhook-delivery.js';
import {
  createWebhookEndpoint,
  getWebhookEndpoint,
  WEBHOOK_DELIVERY_JOB,
  webhookDecider,
  webhookEndpointStreamName,
} from '../../../src/application/webhooks/webhook-endpoints.js';
import { createAesGcmCredentialCipher } from '../../../src/infrastructure/crypto/aes-gcm-credential-cipher.js';
import { createSqliteEventStore } from '../../../src/infrastructure/sqlite/sqlite-event-store.js';
import { uuidIdSource } from '../../../src/infrastructure/uuid-id-source.js';
import { manualClock } from '../../support/manual-clock.js';
import { InMemoryReadModels, RecordingLogger } from '../application/fakes.js';

const MINUTE = 60_000;

/** The sender job against the embedded event store, a moved clock and a scripted endpoint (no HTTP). */
async function setup(answers: WebhookAnswer[]) {
  const clock = manualClock('2026-03-01T10:00:00.000Z');
  const sent: WebhookRequest[] = [];
  const woken: ScheduledJob[] = [];
  const transport: WebhookTransport = {
    refusal: () => null,
    newSecret: () => `whsec_${randomBytes(32).toString('base64')}`,
    async send(request) {
      sent.push(request);
      return answers.shift() ?? { kind: 'answer', status: 204, durationMs: 1 };
    },
  };
  const deps: WebhookOutboxDeps = {
    eventStore: createSqliteEventStore({ filename: ':memory:' }),
    ids: uuidIdSource,
    clock,
    cipher: createAesGcmCredentialCipher(randomBytes(32)),
    transport,
    scheduler: { schedule: async (job) => void woken.push(job), cancel: async () => {} },
    readModels: new InMemoryReadModels(),
    logger: new RecordingLogger(),
    settings: { retryScheduleMs: [5_000, 5 * MINUTE], retryAfterMaxMs: 60 * MINUTE, leaseMs: 45_000 },
    endpointsCaughtUp: async () => {},
  };
  const context = { tenantId: 'acme', actor: 'apikey:1' };
  const { endpoint, secret } = await createWebhookEndpoint(deps, context, {
    url: 'https://hooks.example.com/in',
    eventTypes: null,
    description: 'CRM',
  });
  for (const n of [1, 2]) {
    await handleCommand(
      deps,
      webhookEndpointStreamName('acme', endpoint.id),
      webhookDecider,
      {
        type: 'QueueWebhookEvent',
        data: {
          tenantId: 'acme',
          endpointId: endpoint.id,
          at: clock.now().toISOString(),
          by: 'system:test',
          deliveryId: `msg_${n}`,
          eventId: `ev${n}`,
          payload: { type: 'ReservationConfirmed', timestamp: clock.now().toISOString(), data: { n } },
        },
      },
      context,
    );
  }
  const job = createWebhookSenderJob(deps);
  const run = () =>
    job({
      name: WEBHOOK_DELIVERY_JOB,
      key: 'k',
      runAt: clock.now(),
      tenantId: 'acme',
      data: { endpointId: endpoint.id },
    });
  const state = async () => (await getWebhookEndpoint(deps.eventStore, 'acme', endpoint.id)).state;
  return { clock, sent, woken, run, state, secret };
}

describe('webhook sender', () => {
  it('honours Retry-After (at least the schedule, at most WEBHOOK_RETRY_AFTER_MAX), sends nothing before it is due', async () => {
    const t = await setup([
      { kind: 'answer', status: 503, retryAfterMs: 10 * MINUTE, durationMs: 3 },
      { kind: 'answer', status: 429, retryAfterMs: 5 * 60 * MINUTE, durationMs: 3 },
    ]);
    await t.run();
    expect(t.sent.map((r) => r.id)).toEqual(['msg_1']);
    expect(t.sent[0]!.secret).toBe(t.secret);
    expect(t.woken.at(-1)!.runAt.toISOString()).toBe('2026-03-01T10:10:00.000Z'); // Retry-After 10 min > 5 s
    await t.run(); // woken early (e.g. a new event): nothing is sent, the wake-up stays at the due time
    expect(t.sent).toHaveLength(1);
    expect(t.woken.at(-1)!.runAt.toISOString()).toBe('2026-03-01T10:10:00.000Z');
    t.clock.set('2026-03-01T10:10:00.000Z');
    await t.run();
    expect(t.woken.at(-1)!.runAt.toISOString()).toBe('2026-03-01T11:10:00.000Z'); // 5 h asked, 1 h at most
    t.clock.set('2026-03-01T11:10:00.000Z');
    await t.run(); // 204: delivered, and the next event follows at once
    expect(t.sent.map((r) => r.id)).toEqual(['msg_1', 'msg_1', 'msg_1']);
    await t.run();
    expect(t.sent.map((r) => r.id)).toEqual(['msg_1', 'msg_1', 'msg_1', 'msg_2']);
    const state = await t.state();
    if (state.status !== 'active') throw new Error('expected active');
    expect(state.queue).toEqual([]);
    expect(state.deliveries.msg_1!.attempts.map((a) => a.status)).toEqual([503, 429, 204]);
  });

  it('pauses (never drops) when the schedule runs out, and at once on 410 Gone', async () => {
    const failing = await setup([
      { kind: 'failure', reason: 'network: ECONNREFUSED', durationMs: 1 },
      { kind: 'answer', status: 500, durationMs: 1 },
      { kind: 'answer', status: 500, durationMs: 1 },
    ]);
    await failing.run();
    failing.clock.set('2026-03-01T10:00:05.000Z');
    await failing.run();
    failing.clock.set('2026-03-01T10:05:05.000Z');
    await failing.run();
    const paused = await failing.state();
    expect(paused).toMatchObject({ status: 'paused', pauseReason: 'failing', queue: ['msg_1', 'msg_2'] });
    if (paused.status !== 'paused') throw new Error('expected paused');
    expect(paused.deliveries.msg_1!.attempts.map((a) => a.error)).toEqual([
      'network: ECONNREFUSED',
      'HTTP 500',
      'HTTP 500',
    ]);
    await failing.run(); // paused: nothing is sent
    expect(failing.sent).toHaveLength(3);

    const gone = await setup([{ kind: 'answer', status: 410, durationMs: 1 }]);
    await gone.run();
    expect(await gone.state()).toMatchObject({ status: 'paused', pauseReason: 'gone', queue: ['msg_1', 'msg_2'] });
  });
});
