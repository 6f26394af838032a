import { describe, expect, it } from 'vitest';
import { staticChannelDirectory } from '../../../src/application/channels/channel-directory.js';
import { handleCommand } from '../../../src/application/command-handler.js';
import {
  createNotificationDispatcher,
  nextAttemptDelayMs,
  providerIndexFor,
  RETRY_JOB,
} from '../../../src/application/notifications/notification-dispatcher.js';
import { deliveryStreamName } from '../../../src/application/notifications/notification-streams.js';
import type { ChannelAdapter, OutboundMessage, SendOutcome } from '../../../src/application/ports/channel.port.js';
import type { ScheduledJob, Scheduler } from '../../../src/application/ports/scheduler.port.js';
import {
  deliveriesProjection,
  type DeliveryDocument,
} from '../../../src/application/projections/deliveries.projection.js';
import { deliveryDecider, type Channel } from '../../../src/domain/notification/index.js';
import { createSqliteEventStore } from '../../../src/infrastructure/sqlite/sqlite-event-store.js';
import { uuidIdSource } from '../../../src/infrastructure/uuid-id-source.js';
import { parseRetryAfter } from '../../../src/infrastructure/http/retry-after.js';
import { silentLogger } from '../../support/silent-logger.js';

/** A provider that answers from a script and records what it was sent (a fake: this is a unit test). */
function scripted(provider: string, channel: Channel, answers: (SendOutcome | 'accept')[]) {
  const sent: OutboundMessage[] = [];
  const asked: Date[] = [];
  let n = 0;
  const adapter: ChannelAdapter & {
    sent: OutboundMessage[];
    asked: Date[];
    found?: { providerMessageId: string; acceptedAt: string };
  } = {
    channel,
    provider,
    sent,
    asked,
    async send(message) {
      sent.push(message);
      const answer = answers[Math.min(n++, answers.length - 1)]!;
      return answer === 'accept'
        ? {
            outcome: 'accepted',
            providerMessageId: `${provider}-${sent.length}`,
            acceptedAt: new Date(0).toISOString(),
          }
        : answer;
    },
    async findAccepted(_message, since) {
      asked.push(since);
      return adapter.found;
    },
    async close() {},
  };
  return adapter;
}

function setUp(providers: ChannelAdapter[], options: { failoverAfterMs?: number; retryAfterMaxMs?: number } = {}) {
  let now = Date.parse('2030-01-01T10:00:00.000Z');
  const clock = { now: () => new Date(now) };
  const eventStore = createSqliteEventStore({ filename: ':memory:', clock });
  const jobs: ScheduledJob[] = [];
  const scheduler: Scheduler = {
    schedule: async (job) => void jobs.push(job),
    cancel: async () => undefined,
    pending: async () => [],
    start: async () => undefined,
    stop: async () => undefined,
  };
  const dispatcher = createNotificationDispatcher({
    eventStore,
    ids: uuidIdSource,
    clock,
    scheduler,
    logger: silentLogger(),
    channels: staticChannelDirectory({ email: providers }),
    random: () => 0.5,
    ...options,
  });
  const request = async (notificationId: string) =>
    handleCommand(
      { eventStore, ids: uuidIdSource },
      deliveryStreamName('t1', notificationId),
      deliveryDecider,
      {
        type: 'RequestNotification',
        data: {
          notificationId,
          tenantId: 't1',
          kind: 'reservation-confirmed',
          channel: 'email',
          recipient: { type: 'customer', address: 'ada@example.com' },
          content: { from: { address: 'desk@example.com' }, subject: 'Confirmed', text: 'See you.' },
          causationEventId: 'evt-1',
          requestedAt: clock.now().toISOString(),
        },
      },
      { tenantId: 't1', actor: 'test' },
    );
  const events = async (notificationId: string) =>
    (await eventStore.readStream(deliveryStreamName('t1', notificationId))).events;
  /** The audit trail's document of the delivery, built by the projection from the recorded events. */
  const document = async (notificationId: string) => {
    let doc: DeliveryDocument | null = null;
    for (const event of await events(notificationId)) doc = deliveriesProjection.evolve(doc, event);
    return doc!;
  };
  return {
    dispatcher,
    eventStore,
    jobs,
    request,
    events,
    document,
    advance: (ms: number) => void (now += ms),
    at: () => now,
  };
}

const retryable = (retryAfterMs?: number): SendOutcome => ({
  outcome: 'retryable',
  reason: 'busy',
  code: '429',
  ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
});

describe('Retry-After', () => {
  it('schedules the next attempt when the provider says, not by the backoff', async () => {
    const smtp = scripted('sendgrid', 'email', [retryable(42_000), 'accept']);
    const t = setUp([smtp]);
    await t.request('n1');
    await t.dispatcher.dispatch('t1', 'n1');
    const failed = (await t.events('n1')).find((e) => e.type === 'NotificationAttemptFailed')!;
    const data = failed.data as { at: string; nextAttemptAt: string; provider: string };
    expect(Date.parse(data.nextAttemptAt) - Date.parse(data.at)).toBe(42_000);
    expect(data.provider).toBe('sendgrid');
  });

  it('is bounded by CHANNEL_RETRY_AFTER_MAX_SECONDS, and a Retry-After of 0 still waits a second', async () => {
    const greedy = scripted('sendgrid', 'email', [retryable(10 * 3600_000), retryable(0), 'accept']);
    const t = setUp([greedy], { retryAfterMaxMs: 600_000 });
    await t.request('n2');
    await t.dispatcher.dispatch('t1', 'n2');
    t.advance(600_000);
    await t.dispatcher.dispatch('t1', 'n2');
    const delays = (await t.events('n2'))
      .filter((e) => e.type === 'NotificationAttemptFailed')
      .map(
        (e) =>
          Date.parse((e.data as { nextAttemptAt: string }).nextAttemptAt) - Date.parse((e.data as { at: string }).at),
      );
    expect(delays).toEqual([600_000, 1_000]);
  });

  it('without Retry-After, the backoff applies', () => {
    expect(nextAttemptDelayMs(undefined, 3_750)).toBe(3_750);
    expect(nextAttemptDelayMs(5_000, 3_750)).toBe(5_000);
  });

  it('reads seconds and HTTP-dates; garbage is no Retry-After', () => {
    const now = new Date('2030-01-01T10:00:00.000Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Tue, 01 Jan 2030 10:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Mon, 31 Dec 2029 10:00:30 GMT', now)).toBe(0);
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});

describe('provider failover', () => {
  it('stays with the first provider until it has failed retryably for the set time, then sends by the second', async () => {
    const smtp = scripted('smtp', 'email', [retryable()]);
    const sendgrid = scripted('sendgrid', 'email', ['accept']);
    const t = setUp([smtp, sendgrid], { failoverAfterMs: 300_000 });
    await t.request('n3');
    await t.dispatcher.dispatch('t1', 'n3');
    t.advance(299_000);
    await t.dispatcher.dispatch('t1', 'n3');
    expect(smtp.sent).toHaveLength(2);
    expect(sendgrid.sent).toHaveLength(0);
    // Past the failover time and past the second failure's backoff (7.5 s).
    t.advance(8_000);
    await t.dispatcher.dispatch('t1', 'n3');
    expect(sendgrid.sent).toHaveLength(1);
    const sentEvent = (await t.events('n3')).find((e) => e.type === 'NotificationSent')!;
    expect(sentEvent.data).toMatchObject({ provider: 'sendgrid', providerMessageId: 'sendgrid-1' });
    // The audit trail says who tried and who sent it.
    const doc = await t.document('n3');
    expect(doc.provider).toBe('sendgrid');
    expect(doc.history.map((h) => `${h.status}:${h.provider ?? ''}`)).toEqual([
      'requested:',
      'sending:smtp',
      'retrying:smtp',
      'sending:smtp',
      'retrying:smtp',
      'sending:sendgrid',
      'sent:sendgrid',
    ]);
  });

  it('a permanent refusal does not fail over: the message itself is refused', async () => {
    const smtp = scripted('smtp', 'email', [{ outcome: 'permanent', reason: '550 mailbox unavailable', code: '550' }]);
    const sendgrid = scripted('sendgrid', 'email', ['accept']);
    const t = setUp([smtp, sendgrid], { failoverAfterMs: 1 });
    await t.request('n4');
    await t.dispatcher.dispatch('t1', 'n4');
    expect((await t.events('n4')).at(-1)).toMatchObject({ type: 'NotificationFailed', data: { provider: 'smtp' } });
    expect(sendgrid.sent).toHaveLength(0);
  });

  it('an attempt interrupted at the second provider is reconciled with the second provider', async () => {
    const smtp = scripted('smtp', 'email', [retryable()]);
    const sendgrid = scripted('sendgrid', 'email', ['accept']);
    const t = setUp([smtp, sendgrid], { failoverAfterMs: 1_000 });
    await t.request('n5');
    await t.dispatcher.dispatch('t1', 'n5');
    t.advance(2_000);
    // The process died after recording the start of attempt 2 at SendGrid, before its outcome was recorded.
    await handleCommand(
      { eventStore: t.eventStore, ids: uuidIdSource },
      deliveryStreamName('t1', 'n5'),
      deliveryDecider,
      { type: 'StartAttempt', data: { attempt: 2, at: new Date(t.at()).toISOString(), provider: 'sendgrid' } },
      { tenantId: 't1', actor: 'test' },
    );
    sendgrid.found = { providerMessageId: 'sg-found', acceptedAt: new Date(t.at()).toISOString() };
    await t.dispatcher.dispatch('t1', 'n5');
    expect(sendgrid.asked).toHaveLength(1);
    expect(smtp.asked).toHaveLength(0);
    expect(sendgrid.sent).toHaveLength(0);
    expect((await t.events('n5')).at(-1)).toMatchObject({
      type: 'NotificationSent',
      data: { providerMessageId: 'sg-found', provider: 'sendgrid' },
    });
  });

  it('picks providers down the list, one failover period each', () => {
    const failing = { failingSince: '2030-01-01T10:00:00.000Z' };
    const at = (s: number) => new Date(Date.parse(failing.failingSince) + s * 1000);
    expect(providerIndexFor({}, at(9999), 3, 60_000)).toBe(0);
    expect(providerIndexFor(failing, at(59), 3, 60_000)).toBe(0);
    expect(providerIndexFor(failing, at(60), 3, 60_000)).toBe(1);
    expect(providerIndexFor(failing, at(120), 3, 60_000)).toBe(2);
    expect(providerIndexFor(failing, at(9999), 3, 60_000)).toBe(2);
    expect(providerIndexFor(failing, at(9999), 1, 60_000)).toBe(0);
  });
});

describe('a channel nobody configured', () => {
  it('fails the delivery visibly, with the reason, instead of dropping it', async () => {
    const t = setUp([]);
    await t.request('n6');
    await t.dispatcher.dispatch('t1', 'n6');
    expect((await t.events('n6')).at(-1)).toMatchObject({
      type: 'NotificationFailed',
      data: { error: 'channel-not-configured: no provider is configured for the email channel', provider: 'none' },
    });
    expect(t.jobs.filter((j) => j.name === RETRY_JOB)).toEqual([]);
  });
});
