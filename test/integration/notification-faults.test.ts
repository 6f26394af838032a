import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { staticChannelDirectory } from '../../src/application/channels/channel-directory.js';
import { emailSenderChannel, smsSenderChannel } from '../../src/application/channels/sender-channels.js';
import {
  createNotificationDispatcher,
  RETRY_JOB,
} from '../../src/application/notifications/notification-dispatcher.js';
import { createNotificationPlanner, REMINDER_JOB } from '../../src/application/notifications/notification-planner.js';
import type { EventStore, RecordedEvent } from '../../src/application/ports/event-store.port.js';
import type { ReadModelStore } from '../../src/application/ports/read-model-store.port.js';
import type { JobHandler, Scheduler } from '../../src/application/ports/scheduler.port.js';
import {
  deliveriesProjection,
  type DeliveryDocument,
} from '../../src/application/projections/deliveries.projection.js';
import { ensureProjectionIndexes, projectionConsumer } from '../../src/application/projections/projection.js';
import { recordExternalReservation } from '../../src/application/reservations/reservation-commands.js';
import { listReservationNotifications } from '../../src/application/reservations/reservation-queries.js';
import {
  startSubscriber,
  type RunningSubscriber,
} from '../../src/application/subscriptions/checkpointed-subscriber.js';
import { createAgendaScheduler } from '../../src/infrastructure/agenda/agenda-scheduler.js';
import { createSqliteAgendaBackend } from '../../src/infrastructure/agenda/sqlite-agenda-backend.js';
import { createSmtpEmailSender } from '../../src/infrastructure/email/smtp-email-sender.js';
import { createTwilioSmsSender } from '../../src/infrastructure/sms/twilio-sms-sender.js';
import { createSqliteEventStore } from '../../src/infrastructure/sqlite/sqlite-event-store.js';
import { createSqliteReadModelStore } from '../../src/infrastructure/sqlite/sqlite-read-model-store.js';
import { systemClock } from '../../src/infrastructure/system-clock.js';
import { uuidIdSource } from '../../src/infrastructure/uuid-id-source.js';
import { reservationRequest, TWILIO, waitForEvents } from '../support/herald-harness.js';
import { mailAndSmsServers } from '../support/mail-and-sms-servers.js';
import { silentLogger } from '../support/silent-logger.js';
import { type SmtpTestServer } from '../support/smtp-test-server.js';
import { type TwilioStandIn } from '../support/twilio-stand-in.js';

/**
 * Provider outages and refusals against the real SMTP server and the Twilio stand-in.
 *
 * The notification pipeline is wired here by hand — the same factories createHerald uses (deliveries projection,
 * planner, dispatcher, Agenda on SQLite, the SMTP and Twilio adapters) — because the test needs the dispatcher's
 * retry policy short (400 ms doubling to 1.6 s instead of 5 s to 10 min) and createHerald does not take one.
 * Retries really go through the scheduler: a failed attempt only becomes a `notification.retry` job.
 * Breaks when: a transient failure (connection refused, 500, 429) is not retried or not retried through the
 * scheduler, a recovered provider gets a message twice, or a permanent refusal (21211, 550) is retried or its reason
 * is not recorded.
 */

const TENANT = 'default';
const RETRY_POLICY = { baseMs: 400, maxMs: 1_600 };

interface Pipeline {
  readonly eventStore: EventStore;
  readonly readModels: ReadModelStore;
  readonly scheduler: Scheduler;
  settle(): Promise<void>;
  confirm(reference: string, customer?: { name: string; email: string; phone: string }): Promise<string>;
  deliveries(reservationId: string): Promise<DeliveryDocument[]>;
  stop(): Promise<void>;
}

async function startPipeline(
  smtp: SmtpTestServer,
  twilio: TwilioStandIn,
  logger: ReturnType<typeof silentLogger>,
): Promise<Pipeline> {
  const clock = systemClock;
  const ids = uuidIdSource;
  const eventStore = createSqliteEventStore({ filename: ':memory:', clock });
  const readModels = createSqliteReadModelStore({ filename: ':memory:' });
  const scheduler = await createAgendaScheduler({
    backend: createSqliteAgendaBackend({ database: ':memory:' }),
    logger,
    processEvery: 100,
  });
  const email = createSmtpEmailSender({ url: servers.smtp.url, clock, logger, timeoutMs: 2_000 });
  const sms = createTwilioSmsSender({ ...TWILIO, apiUrl: servers.twilio.url, clock, timeoutMs: 2_000 });
  const planner = createNotificationPlanner({
    eventStore,
    ids,
    clock,
    scheduler,
    logger,
    resourceStaff: async () => [],
    serviceTexts: async () => ({}),
  });
  const dispatcher = createNotificationDispatcher({
    eventStore,
    ids,
    clock,
    scheduler,
    logger,
    channels: staticChannelDirectory({ email: [emailSenderChannel(email)], sms: [smsSenderChannel(sms)] }),
    retryPolicy: RETRY_POLICY,
  });
  await ensureProjectionIndexes(readModels, [deliveriesProjection as never]);
  const running: RunningSubscriber[] = [];
  for (const consumer of [
    projectionConsumer(readModels, deliveriesProjection as never),
    planner.consumer,
    dispatcher.consumer,
  ]) {
    running.push(await startSubscriber({ eventStore, readModels, logger }, consumer));
  }
  const jobs = new Map<string, JobHandler>([
    [RETRY_JOB, dispatcher.retryJob],
    [REMINDER_JOB, planner.reminderJob],
  ]);
  await scheduler.start(async (job) => jobs.get(job.name)?.(job));

  return {
    eventStore,
    readModels,
    scheduler,
    async settle() {
      for (let previous = -2n; ;) {
        const head = await eventStore.headPosition();
        if (head === previous) return;
        await Promise.all(running.map((s) => s.waitFor(head, 10_000)));
        previous = head;
      }
    },
    async confirm(reference, customer) {
      const body = reservationRequest({
        external: { system: 'faults', reference },
        ...(customer ? { customer: { ...customer, locale: 'en' } } : {}),
      });
      const { reservationId } = await recordExternalReservation(
        { eventStore, ids, clock },
        { tenantId: TENANT, actor: 'test' },
        { ...body, customer: { ...body.customer, locale: body.customer.locale ?? 'en' } },
      );
      return reservationId;
    },
    deliveries: (reservationId) => listReservationNotifications(readModels, TENANT, reservationId),
    async stop() {
      await scheduler.stop();
      for (const subscriber of running) await subscriber.stop();
      await email.close();
      await sms.close();
      await eventStore.close();
      await readModels.close();
    },
  };
}

/** Tracks the channel of every delivery from its NotificationRequested, for predicates over later events. */
function channelTracker() {
  const channels = new Map<string, string>();
  return {
    is(event: RecordedEvent, type: string, channel: 'email' | 'sms'): boolean {
      const id = String(event.data.notificationId);
      if (event.type === 'NotificationRequested') channels.set(id, String(event.data.channel));
      return event.type === type && channels.get(id) === channel;
    },
  };
}

const servers = mailAndSmsServers();

describe('provider faults (real SMTP server, Twilio stand-in)', () => {
  let pipeline: Pipeline;
  let logger: ReturnType<typeof silentLogger>;
  beforeEach(async () => {
    servers.smtp.reset();
    servers.twilio.reset();
    logger = silentLogger();
    pipeline = await startPipeline(servers.smtp, servers.twilio, logger);
  });
  afterEach(async () => {
    await servers.smtp.setDown(false);
    await pipeline?.stop();
    expect(servers.twilio.specViolations).toEqual([]);
    expect(logger.errors).toEqual([]);
  });

  it('delivers every message once after SMTP was down and Twilio answered 500 and then 429', async () => {
    const reservations = 3;
    await servers.smtp.setDown(true, 'refuse');
    servers.twilio.failNext(reservations, 500);
    const tracker = channelTracker();
    const failures = (channel: 'email' | 'sms', count: number) =>
      waitForEvents(pipeline.eventStore, (e) => tracker.is(e, 'NotificationAttemptFailed', channel), count);

    const ids: string[] = [];
    for (let i = 0; i < reservations; i++) ids.push(await pipeline.confirm(`outage-${i}`, customer(i)));

    // Each SMS's first attempt got 500; the next ones get 429 (with Retry-After) — still transient.
    await failures('sms', reservations);
    servers.twilio.failNext(reservations, 429, 1);
    await failures('sms', 2 * reservations);
    // SMTP stays down for at least two attempts of every email, each scheduled as a retry job.
    await failures('email', 2 * reservations);
    expect(servers.smtp.messages).toHaveLength(0);
    expect((await pipeline.scheduler.pending({ name: RETRY_JOB })).length).toBeGreaterThan(0);
    await servers.smtp.setDown(false);

    await waitForEvents(pipeline.eventStore, (e) => e.type === 'NotificationSent', 2 * reservations);
    await pipeline.settle();

    expect(servers.twilio.messages.map((m) => m.resource.to).sort()).toEqual(
      ids.map((_, i) => customer(i).phone).sort(),
    );
    expect(servers.smtp.messages.map((m) => m.envelope.rcptTo[0]).sort()).toEqual(
      ids.map((_, i) => customer(i).email).sort(),
    );
    const errors = { email: [] as string[], sms: [] as string[] };
    for (const reservationId of ids) {
      const deliveries = await pipeline.deliveries(reservationId);
      expect(deliveries.map((d) => `${d.channel}:${d.status}`).sort()).toEqual(['email:sent', 'sms:sent']);
      for (const d of deliveries) {
        expect(d.attempts).toBeGreaterThanOrEqual(3);
        expect(d.history.at(-1)?.status).toBe('sent');
        errors[d.channel as 'email' | 'sms'].push(
          ...d.history.filter((h) => h.status === 'retrying').map((h) => h.detail ?? ''),
        );
      }
    }
    expect(errors.sms.filter((e) => e.startsWith('20500: Twilio 500'))).toHaveLength(reservations);
    expect(errors.sms.filter((e) => e.startsWith('20429: Twilio 429'))).toHaveLength(reservations);
    expect(errors.email.length).toBeGreaterThanOrEqual(2 * reservations);
    expect(errors.email.every((e) => /ECONNREFUSED|ECONNECTION|ESOCKET/.test(e))).toBe(true);
  });

  it('fails a permanently invalid number (21211) and a refused mailbox (550) once, with the reason, never retried', async () => {
    servers.twilio.rejectTo('+14155550666', 21211, "The 'To' number +14155550666 is not a valid phone number.");
    servers.smtp.rejectRecipient('nobody@example.test', 550, '5.1.1 <nobody@example.test>: Recipient address rejected');
    const refused = await pipeline.confirm('invalid-1', {
      name: 'Nobody',
      email: 'nobody@example.test',
      phone: '+14155550666',
    });
    const fine = await pipeline.confirm('valid-1', customer(7));
    await waitForEvents(pipeline.eventStore, (e) => e.type === 'NotificationFailed', 2);
    await waitForEvents(pipeline.eventStore, (e) => e.type === 'NotificationSent', 2);
    await pipeline.settle();

    const deliveries = await pipeline.deliveries(refused);
    const sms = deliveries.find((d) => d.channel === 'sms')!;
    const email = deliveries.find((d) => d.channel === 'email')!;
    expect(sms).toMatchObject({ status: 'failed', attempts: 1, providerMessageId: null });
    expect(sms.lastError).toContain('21211');
    expect(sms.lastError).toContain('not a valid phone number');
    expect(sms.history.map((h) => h.status)).toEqual(['requested', 'sending', 'failed']);
    expect(email).toMatchObject({ status: 'failed', attempts: 1 });
    expect(email.lastError).toContain('550');
    expect(email.history.map((h) => h.status)).toEqual(['requested', 'sending', 'failed']);

    // Nothing is left to retry, and nothing reached the refused recipients.
    expect(await pipeline.scheduler.pending({ name: RETRY_JOB })).toEqual([]);
    const started = (await pipeline.eventStore.readAll()).filter(
      (e) =>
        e.type === 'NotificationAttemptStarted' &&
        [sms.notificationId, email.notificationId].includes(String(e.data.notificationId)),
    );
    expect(started).toHaveLength(2);
    expect(servers.twilio.messages.filter((m) => m.resource.to === '+14155550666')).toEqual([]);
    expect(servers.smtp.messages.filter((m) => m.envelope.rcptTo.includes('nobody@example.test'))).toEqual([]);
    // The other reservation is unaffected.
    expect((await pipeline.deliveries(fine)).map((d) => d.status)).toEqual(['sent', 'sent']);
  });
});

function customer(i: number) {
  return { name: `Guest ${i}`, email: `guest-${i}@example.test`, phone: `+1415555${String(1000 + i)}` };
}
