import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  createNotificationPlanner,
  REMINDER_JOB,
} from '../../../src/application/notifications/notification-planner.js';
import { heraldDefaultSettings } from '../../../src/application/notifications/notification-settings.js';
import type { NewEvent, RecordedEvent } from '../../../src/application/ports/event-store.port.js';
import type { ScheduledJob, Scheduler } from '../../../src/application/ports/scheduler.port.js';
import type { NotificationSettings } from '../../../src/domain/notification/index.js';
import { createSqliteEventStore } from '../../../src/infrastructure/sqlite/sqlite-event-store.js';
import { uuidIdSource } from '../../../src/infrastructure/uuid-id-source.js';
import { silentLogger } from '../../support/silent-logger.js';

/**
 * "A default tenant upgraded from today's settings keeps sending exactly what it sent before" (issue 9). The golden
 * file was written by the planner as it was before workflows (per-kind settings and custom messages): for a set of
 * tenants' settings and reservation histories, every delivery it requested or skipped (ids, kinds, channels,
 * recipients, rendered content, costs) and every reminder it scheduled. The planner of today must produce the same,
 * byte for byte: same ids (so nothing already sent is sent again after an upgrade), same texts.
 */

const GOLDEN = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/planner-before-workflows.golden.json');
const NOW = '2030-03-01T09:00:00.000Z';

function fixedClock(iso: string) {
  let now = Date.parse(iso);
  return { now: () => new Date(now), set: (at: string) => void (now = Date.parse(at)) };
}

const LOCATION = { name: 'Wellness Praha', address: 'Vodičkova 1, Praha', timeZone: 'Europe/Prague' };

function reservation(id: string, customer: Record<string, unknown>, start: string, end: string) {
  return {
    reservationId: id,
    tenantId: 't1',
    source: 'internal',
    customer,
    serviceId: 'sauna',
    serviceName: 'Sauna',
    resourceId: 'cabin-1',
    locationId: 'praha',
    location: LOCATION,
    start,
    end,
    partySize: 1,
    requiresConfirmation: false,
    external: null,
  };
}

/** A tenant that configured nearly everything the settings could say before workflows. */
function configuredSettings(): NotificationSettings {
  const base = heraldDefaultSettings();
  return {
    ...base,
    sender: { name: 'Sauna Praha', address: 'rezervace@sauna.example' },
    footer: 'Sauna Praha s.r.o., Vodičkova 1',
    defaultLocale: 'cs',
    reminderOffsets: { email: [1440], sms: [1440, 180] },
    customRecipients: { email: ['desk@sauna.example'], sms: ['+420777000111'] },
    admins: [{ email: 'admin@sauna.example', phone: '+420777000222' }],
    prices: { smsPerPart: 2, emailManual: 1, emailAutomatic: 0 },
    kinds: {
      ...base.kinds,
      'reservation-confirmed': {
        email: true,
        sms: true,
        recipients: { customer: true, resourceStaff: true, admins: false, custom: true },
      },
      'reservation-cancelled': {
        email: true,
        sms: true,
        recipients: { customer: true, resourceStaff: false, admins: true, custom: false },
      },
      'reservation-reminder': {
        email: true,
        sms: true,
        recipients: { customer: true, resourceStaff: false, admins: false, custom: false },
      },
      'payment-received': {
        email: true,
        sms: false,
        recipients: { customer: true, resourceStaff: false, admins: false, custom: false },
      },
    },
    customMessages: [
      {
        id: 'sauna-heater',
        kind: 'reservation-reminder',
        channel: 'sms',
        text: 'TURN ON THE SAUNA',
        to: { type: 'custom', address: '+420777999888' },
        minutesBefore: 60,
      },
      {
        id: 'thanks',
        kind: 'reservation-confirmed',
        channel: 'email',
        subject: 'Děkujeme, {{customerName}}',
        text: 'Vaše rezervace {{reservationId}} na {{date}} v {{time}}.',
        to: { type: 'customer' },
      },
    ],
  };
}

interface Scenario {
  readonly name: string;
  readonly settings?: NotificationSettings;
  readonly events: readonly { stream: string; type: string; data: Record<string, unknown> }[];
}

const ADA = { id: 'c-ada', name: 'Ada Nováková', email: 'ada@example.cz', phone: '+420777123456', locale: 'cs-CZ' };
const BEN = { name: 'Ben Olsen', email: 'ben@example.no', phone: '+4791234567', locale: 'nb-NO' };

const SCENARIOS: readonly Scenario[] = [
  {
    name: 'defaults: confirmed, rescheduled, paid, cancelled by the customer',
    events: [
      {
        stream: 'reservation-t1+r1',
        type: 'ReservationConfirmed',
        data: {
          reservationId: 'r1',
          source: 'internal',
          reservation: reservation('r1', ADA, '2030-03-10T17:00:00.000Z', '2030-03-10T18:00:00.000Z'),
          confirmedAt: NOW,
          actor: 'apikey:k1',
        },
      },
      {
        stream: 'reservation-t1+r1',
        type: 'ReservationRescheduled',
        data: {
          reservationId: 'r1',
          status: 'confirmed',
          previous: { start: '2030-03-10T17:00:00.000Z', end: '2030-03-10T18:00:00.000Z', resourceId: 'cabin-1' },
          new: { start: '2030-03-11T17:00:00.000Z', end: '2030-03-11T18:00:00.000Z', resourceId: 'cabin-1' },
          timeZone: 'Europe/Prague',
          partySize: 1,
          serviceId: 'sauna',
          reason: '',
          rescheduledAt: NOW,
          actor: 'apikey:k1',
        },
      },
      {
        stream: 'reservation-t1+r1',
        type: 'PaymentRecorded',
        data: { reservationId: 'r1', paymentId: 'p1', amount: 45000, currency: 'CZK', recordedAt: NOW, actor: 'x' },
      },
      {
        stream: 'reservation-t1+r1',
        type: 'ReservationCancelled',
        data: {
          reservationId: 'r1',
          by: 'customer',
          reason: '',
          previousStatus: 'confirmed',
          slot: {
            serviceId: 'sauna',
            resourceId: 'cabin-1',
            start: '2030-03-11T17:00:00.000Z',
            end: '2030-03-11T18:00:00.000Z',
            timeZone: 'Europe/Prague',
            partySize: 1,
          },
          cancelledAt: NOW,
          actor: 'apikey:k1',
        },
      },
    ],
  },
  {
    name: 'configured tenant: staff, admins, custom recipients, prices, custom messages, reminders, blocked kinds',
    settings: configuredSettings(),
    events: [
      {
        stream: 'customer-t1+c-ada',
        type: 'CustomerPreferencesChanged',
        data: {
          customerId: 'c-ada',
          tenantId: 't1',
          blocked: { email: ['payment-received'], sms: [] },
          at: NOW,
          by: 'customer',
        },
      },
      {
        stream: 'credits-t1+account',
        type: 'CreditsToppedUp',
        data: { amount: 1000, balanceAfter: 1000, at: NOW, by: 'admin', reference: 'init' },
      },
      {
        stream: 'reservation-t1+r2',
        type: 'ReservationConfirmed',
        data: {
          reservationId: 'r2',
          source: 'internal',
          reservation: reservation('r2', ADA, '2030-03-12T16:00:00.000Z', '2030-03-12T17:30:00.000Z'),
          confirmedAt: NOW,
          actor: 'apikey:k1',
        },
      },
      {
        stream: 'reservation-t1+r3',
        type: 'ReservationConfirmed',
        data: {
          reservationId: 'r3',
          source: 'internal',
          reservation: reservation('r3', BEN, '2030-03-13T16:00:00.000Z', '2030-03-13T17:00:00.000Z'),
          confirmedAt: NOW,
          actor: 'apikey:k1',
        },
      },
      {
        stream: 'reservation-t1+r2',
        type: 'PaymentRecorded',
        data: { reservationId: 'r2', paymentId: 'p2', amount: 90000, currency: 'CZK', recordedAt: NOW, actor: 'x' },
      },
      {
        stream: 'reservation-t1+r3',
        type: 'ReservationCancelled',
        data: {
          reservationId: 'r3',
          by: 'staff',
          reason: 'Údržba',
          previousStatus: 'confirmed',
          slot: {
            serviceId: 'sauna',
            resourceId: 'cabin-1',
            start: '2030-03-13T16:00:00.000Z',
            end: '2030-03-13T17:00:00.000Z',
            timeZone: 'Europe/Prague',
            partySize: 1,
          },
          cancelledAt: NOW,
          actor: 'apikey:k1',
        },
      },
    ],
  },
];

interface Outcome {
  readonly deliveries: unknown[];
  readonly scheduled: { name: string; key: string; runAt: string; data: Record<string, unknown> }[];
  readonly cancelled: string[];
}

async function run(scenario: Scenario): Promise<Outcome> {
  const clock = fixedClock(NOW);
  const eventStore = createSqliteEventStore({ filename: ':memory:', clock });
  const jobs = new Map<string, ScheduledJob>();
  const cancelled: string[] = [];
  const scheduled: Outcome['scheduled'] = [];
  const scheduler: Scheduler = {
    async schedule(job) {
      jobs.set(job.key, job);
      scheduled.push({ name: job.name, key: job.key, runAt: job.runAt.toISOString(), data: job.data });
    },
    async cancel(key) {
      jobs.delete(key);
      cancelled.push(key);
    },
    async pending() {
      return [...jobs.values()];
    },
    async start() {},
    async stop() {},
  };
  const planner = createNotificationPlanner({
    eventStore,
    ids: uuidIdSource,
    clock,
    scheduler,
    logger: silentLogger(),
    resourceStaff: async () => [{ id: 'staff-1', email: 'cabin@sauna.example', phone: '+420777000333' }],
    serviceTexts: async () => ({ description: 'Ručník s sebou.', afterPaymentText: 'Kód dveří 4711.' }),
  });
  const append = async (stream: string, type: string, data: Record<string, unknown>) => {
    const event: NewEvent = {
      id: uuidIdSource.derive('golden', stream, type, JSON.stringify(data)),
      type,
      data,
      metadata: { tenantId: 't1', actor: 'test' },
    };
    const { revision } = await eventStore.readStream(stream);
    await eventStore.appendToStream(stream, [event], revision);
  };
  if (scenario.settings) {
    await append('settings-t1+notifications', 'NotificationSettingsChanged', {
      tenantId: 't1',
      settings: scenario.settings as unknown as Record<string, unknown>,
      at: NOW,
      by: 'admin',
    });
  }
  for (const event of scenario.events) await append(event.stream, event.type, event.data);
  const all: RecordedEvent[] = await eventStore.readAll({ limit: 100_000 });
  for (const event of all) {
    if (planner.consumer.eventTypes.has(event.type)) await planner.consumer.handle(event);
  }
  // The reminders that are still scheduled run at their time.
  for (const job of [...jobs.values()].sort((a, b) => a.runAt.getTime() - b.runAt.getTime())) {
    if (job.name !== REMINDER_JOB) continue;
    clock.set(job.runAt.toISOString());
    await planner.reminderJob(job);
  }
  const deliveries = (await eventStore.readAll({ limit: 100_000 }))
    .filter((event) => event.type === 'NotificationRequested' || event.type === 'NotificationSkipped')
    // The workflow each delivery came from is recorded since workflows exist: new information for the audit trail,
    // not part of what is sent (nor of the delivery's id). Everything else must be byte-identical.
    .map((event) => {
      const { workflowId, ...data } = event.data as { workflowId?: string };
      expect(workflowId).toMatch(/^(standard|reminder|custom):/);
      return { type: event.type, data };
    })
    .sort((a, b) =>
      String((a.data as { notificationId: string }).notificationId).localeCompare(
        String((b.data as { notificationId: string }).notificationId),
      ),
    );
  await eventStore.close();
  return { deliveries, scheduled, cancelled };
}

describe('upgrading a tenant from per-kind settings to workflows', () => {
  it('plans exactly the deliveries and reminders the planner before workflows planned', async () => {
    const outcomes: Record<string, Outcome> = {};
    for (const scenario of SCENARIOS) outcomes[scenario.name] = await run(scenario);
    const actual = JSON.parse(JSON.stringify(outcomes)) as Record<string, Outcome>;
    if (!existsSync(GOLDEN)) {
      if (process.env.CI === 'true') throw new Error(`missing golden file ${GOLDEN}`);
      mkdirSync(dirname(GOLDEN), { recursive: true });
      writeFileSync(GOLDEN, `${JSON.stringify(actual, null, 1)}\n`);
    }
    const golden = JSON.parse(readFileSync(GOLDEN, 'utf8')) as Record<string, Outcome>;
    for (const name of Object.keys(golden)) {
      // Sanity: the scenarios do exercise every path (a golden file of nothing proves nothing).
      expect(golden[name]!.deliveries.length).toBeGreaterThan(3);
      expect(actual[name]!.deliveries).toEqual(golden[name]!.deliveries);
      expect(actual[name]!.scheduled).toEqual(golden[name]!.scheduled);
    }
  });
});
