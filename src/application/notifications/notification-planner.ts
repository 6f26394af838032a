import {
  hasEnded,
  reservationDecider,
  reservationStreamName,
  type ReservationEvent,
  type ReservationState,
} from '../../domain/booking/reservation.decider.js';
import { IllegalStateError } from '../../domain/shared/errors.js';
import {
  creditAccountDecider,
  deliveryDecider,
  type Contact,
  type CustomerPreferences,
  type NotificationKind,
  type NotificationSettings,
} from '../../domain/notification/index.js';
import { handleCommand, toDomainEvent, type CommandContext, type CommandHandlerDeps } from '../command-handler.js';
import type { Clock } from '../ports/clock.port.js';
import type { RecordedEvent } from '../ports/event-store.port.js';
import type { Logger } from '../ports/logger.port.js';
import type { JobHandler, Scheduler } from '../ports/scheduler.port.js';
import type { EventConsumer } from '../subscriptions/checkpointed-subscriber.js';
import { customerRefOf, loadCustomerPreferences, loadNotificationSettings } from './notification-settings.js';
import { creditsStreamName, deliveryStreamName } from './notification-streams.js';
import { planNotifications, type NotificationCause, type PlannedDelivery } from './plan-notifications.js';

export interface NotificationPlannerDeps extends CommandHandlerDeps {
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  /** Staff contacts of a resource (the catalog); none when the reservation names no resource. */
  readonly resourceStaff: (tenantId: string, resourceId: string) => Promise<Contact[]>;
  /** The service's description and after-payment text for messages (the catalog). */
  readonly serviceTexts: (tenantId: string, serviceId: string) => Promise<ServiceTexts>;
  /** Attempts before a delivery is dead-lettered. */
  readonly maxAttempts?: number;
}

export interface ServiceTexts {
  readonly description?: string;
  readonly afterPaymentText?: string;
}

export const REMINDER_JOB = 'reservation.reminder';

const PLANNED_EVENTS: readonly ReservationEvent['type'][] = [
  'ReservationConfirmed',
  'ReservationCancelled',
  'ReservationDeclined',
  'ReservationRescheduled',
  'PaymentRecorded',
];
/** Events after which no reminder may go out. */
const ENDING_EVENTS: readonly ReservationEvent['type'][] = [
  'ReservationCancelled',
  'ReservationDeclined',
  'ReservationDeleted',
  'ReservationMarkedNotTaken',
  'ReservationCompleted',
  'ReservationHoldExpired',
];

const SYSTEM_ACTOR = 'system:notification-planner';

function foldUpTo(
  events: readonly RecordedEvent[],
  revision: bigint,
): { state: ReservationState; reschedules: number } {
  let state = reservationDecider.initialState();
  let reschedules = 0;
  for (const recorded of events) {
    if (recorded.revision > revision) break;
    if (recorded.type === 'ReservationRescheduled') reschedules++;
    state = reservationDecider.evolve(state, toDomainEvent<ReservationEvent>(recorded));
  }
  return { state, reschedules };
}

/** Amounts are recorded in minor units; messages show major units with the currency's own number of decimals. */
function majorUnits(amount: number, currency: string): number {
  const digits =
    new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  return amount / 10 ** digits;
}

/** Reminder offsets in force: per channel from the settings, plus custom reminder messages with their own offset. */
export function reminderOffsets(settings: NotificationSettings): number[] {
  const offsets = new Set<number>([...settings.reminderOffsets.email, ...settings.reminderOffsets.sms]);
  for (const custom of settings.customMessages)
    if (custom.minutesBefore !== undefined) offsets.add(custom.minutesBefore);
  return [...offsets].sort((a, b) => b - a);
}

function reminderKey(tenantId: string, reservationId: string, minutesBefore: number): string {
  return `reminder:${tenantId}:${reservationId}:${minutesBefore}`;
}

/**
 * Process manager: a reservation event becomes deliveries (one stream each, ids derived from the event, so a
 * redelivered event requests nothing new) and reminder jobs in the scheduler.
 */
export function createNotificationPlanner(deps: NotificationPlannerDeps): {
  consumer: EventConsumer;
  reminderJob: JobHandler;
} {
  const execute = async (plans: readonly PlannedDelivery[], context: CommandContext, costsCharged: boolean) => {
    for (const plan of plans) {
      if (plan.type === 'skip') {
        await handleCommand(
          deps,
          deliveryStreamName(plan.identity.tenantId, plan.identity.notificationId),
          deliveryDecider,
          {
            type: 'SkipNotification',
            data: { reason: plan.reason, skippedAt: deps.clock.now().toISOString(), identity: plan.identity },
          },
          context,
        );
        continue;
      }
      const { request } = plan;
      const stream = deliveryStreamName(request.tenantId, request.notificationId);
      if (costsCharged && request.cost) {
        try {
          await handleCommand(
            deps,
            creditsStreamName(request.tenantId),
            creditAccountDecider,
            {
              type: 'ChargeCredits',
              data: { deliveryId: request.notificationId, amount: request.cost, at: request.requestedAt },
            },
            context,
          );
        } catch (error) {
          if (!(error instanceof IllegalStateError) || error.code !== 'insufficient-credits') throw error;
          await handleCommand(
            deps,
            stream,
            deliveryDecider,
            {
              type: 'SkipNotification',
              data: {
                reason: 'insufficient-credits',
                detail: error.message,
                skippedAt: deps.clock.now().toISOString(),
                identity: plan.identity,
              },
            },
            context,
          );
          deps.logger.warn(
            { tenantId: request.tenantId, notificationId: request.notificationId },
            'out of credits: delivery skipped',
          );
          continue;
        }
      }
      await handleCommand(deps, stream, deliveryDecider, { type: 'RequestNotification', data: request }, context);
    }
  };

  const plan = async (
    cause: NotificationCause,
    settings: NotificationSettings,
    context: CommandContext,
    paid: boolean,
  ) => {
    const reservation = cause.reservation;
    const [preferences, resourceStaff, texts] = await Promise.all<
      [Promise<CustomerPreferences>, Promise<Contact[]>, Promise<ServiceTexts>]
    >([
      loadCustomerPreferences(deps.eventStore, cause.tenantId, cause.customerRef),
      reservation.resourceId ? deps.resourceStaff(cause.tenantId, reservation.resourceId) : Promise.resolve([]),
      reservation.serviceId ? deps.serviceTexts(cause.tenantId, reservation.serviceId) : Promise.resolve({}),
    ]);
    const plans = planNotifications({
      cause,
      settings,
      preferences,
      resourceStaff,
      admins: settings.admins ?? [],
      paid,
      ...(texts.afterPaymentText ? { afterPaymentText: texts.afterPaymentText } : {}),
      ...(texts.description ? { serviceDescription: texts.description } : {}),
      now: deps.clock.now().toISOString(),
      ...(deps.maxAttempts ? { maxAttempts: deps.maxAttempts } : {}),
      deriveId: (...parts) => deps.ids.derive('delivery', ...parts),
    });
    await execute(plans, context, true);
  };

  const scheduleReminders = async (tenantId: string, state: ReservationState, settings: NotificationSettings) => {
    if (state.status !== 'confirmed') return;
    const start = Date.parse(state.reservation.start);
    const now = deps.clock.now().getTime();
    for (const minutesBefore of reminderOffsets(settings)) {
      const runAt = start - minutesBefore * 60_000;
      const key = reminderKey(tenantId, state.reservation.reservationId, minutesBefore);
      if (runAt <= now) continue; // booked later than the offset: that reminder would only arrive late
      await deps.scheduler.schedule({
        name: REMINDER_JOB,
        key,
        runAt: new Date(runAt),
        tenantId,
        data: { reservationId: state.reservation.reservationId, start: state.reservation.start, minutesBefore },
      });
    }
  };

  const consumer: EventConsumer = {
    name: 'process:notification-planner',
    eventTypes: new Set<string>([...PLANNED_EVENTS, ...ENDING_EVENTS]),
    concurrency: 8,
    async handle(event) {
      const tenantId = event.metadata.tenantId;
      const { events } = await deps.eventStore.readStream(event.streamName);
      const { state: asOf, reschedules } = foldUpTo(events, event.revision);
      if (asOf.status === 'none') return;
      const reservation = asOf.reservation;
      const context: CommandContext = {
        tenantId,
        actor: SYSTEM_ACTOR,
        causationId: event.id,
        correlationId: typeof event.metadata.correlationId === 'string' ? event.metadata.correlationId : event.id,
      };
      const settings = await loadNotificationSettings(deps.eventStore, tenantId);

      if ((ENDING_EVENTS as readonly string[]).includes(event.type)) {
        for (const minutesBefore of reminderOffsets(settings)) {
          await deps.scheduler.cancel(reminderKey(tenantId, reservation.reservationId, minutesBefore));
        }
      }
      if (!(PLANNED_EVENTS as readonly string[]).includes(event.type)) return;

      const domainEvent = toDomainEvent<ReservationEvent>(event);
      const customerRef = customerRefOf(deps.ids, tenantId, reservation.customer);
      const base = {
        eventId: event.id,
        tenantId,
        occurredAt: event.recordedAt,
        reservation,
        ...(customerRef ? { customerRef } : {}),
      };
      const paid = asOf.payments.length > 0;
      let cause: NotificationCause;
      switch (domainEvent.type) {
        case 'ReservationConfirmed':
          // Over before it was confirmed (a historical import, or staff confirming too late): nothing to tell, no
          // reminder to schedule (decision 0011). Decided from the payload, so a replay decides the same.
          if (domainEvent.data.historical || hasEnded(domainEvent.data.reservation, domainEvent.data.confirmedAt)) {
            deps.logger.info(
              { tenantId, reservationId: reservation.reservationId },
              'reservation had ended when confirmed: no confirmation sent',
            );
            return;
          }
          cause = { ...base, kind: 'reservation-confirmed', calendar: { method: 'REQUEST', sequence: reschedules } };
          await scheduleReminders(tenantId, asOf, settings);
          break;
        case 'ReservationRescheduled':
          cause = {
            ...base,
            kind: 'reservation-rescheduled',
            extra: { previousStart: domainEvent.data.previous.start },
            // A request staff has not confirmed yet has no invitation to move: its confirmation brings the first one.
            ...(asOf.status === 'confirmed' ? { calendar: { method: 'REQUEST' as const, sequence: reschedules } } : {}),
          };
          await scheduleReminders(tenantId, asOf, settings);
          break;
        case 'ReservationCancelled':
          cause = {
            ...base,
            kind: 'reservation-cancelled',
            extra: {
              cancelledBy: domainEvent.data.by,
              ...(domainEvent.data.reason ? { reason: domainEvent.data.reason } : {}),
            },
            calendar: { method: 'CANCEL', sequence: reschedules + 1 },
          };
          break;
        case 'ReservationDeclined':
          cause = {
            ...base,
            kind: 'reservation-declined',
            extra: domainEvent.data.reason ? { reason: domainEvent.data.reason } : {},
          };
          break;
        case 'PaymentRecorded':
          cause = {
            ...base,
            kind: 'payment-received',
            extra: {
              amount: majorUnits(domainEvent.data.amount, domainEvent.data.currency),
              currency: domainEvent.data.currency,
            },
          };
          break;
        default:
          return;
      }
      await plan(cause, settings, context, paid);
    },
  };

  /** A reminder job: sends only if the reservation is still confirmed at the time the job was planned for. */
  const reminderJob: JobHandler = async (job) => {
    const { reservationId, start, minutesBefore } = job.data as {
      reservationId: string;
      start: string;
      minutesBefore: number;
    };
    const { events } = await deps.eventStore.readStream(reservationStreamName(job.tenantId, reservationId));
    const last = events.at(-1);
    if (!last) return;
    const { state } = foldUpTo(events, last.revision);
    // Cancelled, or moved to another time (whose own reminder job exists): this one is obsolete.
    if (state.status !== 'confirmed' || state.reservation.start !== start) return;
    const settings = await loadNotificationSettings(deps.eventStore, job.tenantId);
    const kind: NotificationKind = 'reservation-reminder';
    const reminderSettings: NotificationSettings = {
      ...settings,
      kinds: {
        ...settings.kinds,
        [kind]: {
          ...settings.kinds[kind],
          email: settings.kinds[kind].email && settings.reminderOffsets.email.includes(minutesBefore),
          sms: settings.kinds[kind].sms && settings.reminderOffsets.sms.includes(minutesBefore),
        },
      },
    };
    const causeId = deps.ids.derive('reminder', job.tenantId, reservationId, start, String(minutesBefore));
    const customerRef = customerRefOf(deps.ids, job.tenantId, state.reservation.customer);
    await plan(
      {
        eventId: causeId,
        tenantId: job.tenantId,
        kind,
        occurredAt: job.runAt.toISOString(),
        reservation: state.reservation,
        ...(customerRef ? { customerRef } : {}),
        extra: { minutesBefore },
      },
      reminderSettings,
      { tenantId: job.tenantId, actor: SYSTEM_ACTOR, causationId: causeId, correlationId: causeId },
      state.payments.length > 0,
    );
  };

  return { consumer, reminderJob };
}
