import {
  hasEnded,
  reservationDecider,
  reservationStreamName,
  type ReservationDetails,
  type ReservationEvent,
  type ReservationState,
} from '../../domain/booking/reservation.decider.js';
import { IllegalStateError } from '../../domain/shared/errors.js';
import {
  CHANNELS,
  creditAccountDecider,
  deliveryDecider,
  waitlistExhaustedAlert,
  type Contact,
  type CustomerPreferences,
  type NotificationKind,
  type NotificationSettings,
} from '../../domain/notification/index.js';
import {
  findEntry,
  waitlistDecider,
  waitlistStreamName,
  type OpenWaitlistState,
  type WaitlistEntry,
  type WaitlistEvent,
  type WaitlistState,
} from '../../domain/waitlist/waitlist.decider.js';
import { handleCommand, toDomainEvent, type CommandHandlerDeps } from '../command-handler.js';
import type { ClaimLinks } from '../ports/claim-links.port.js';
import type { Clock } from '../ports/clock.port.js';
import type { RecordedEvent } from '../ports/event-store.port.js';
import type { Logger } from '../ports/logger.port.js';
import type { JobHandler, Scheduler } from '../ports/scheduler.port.js';
import type { Intent, ProcessManager } from '../process-managers/process-manager.js';
import {
  executeIntents,
  processContext,
  processManagerConsumer,
  type CommandIntent,
  type IntentHandler,
} from '../process-managers/process-manager-runner.js';
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
  /** The service's description and after-payment text for messages (the catalog), with those of the slot at `start`. */
  readonly serviceTexts: (tenantId: string, serviceId: string, start?: string) => Promise<ServiceTexts>;
  /** Attempts before a delivery is dead-lettered. */
  readonly maxAttempts?: number;
  /** Signed links of waitlist offers; without them an offer message cannot be rendered (it is skipped). */
  readonly claimLinks?: ClaimLinks;
}

export interface ServiceTexts {
  readonly description?: string;
  readonly afterPaymentText?: string;
}

export const REMINDER_JOB = 'reservation.reminder';
/** Intents of this target plan one delivery each: charge its credits, then request it (or record why not). */
export const DELIVERY_TARGET = 'delivery';

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
/** Waitlist events the customer (or staff) are told about. */
const WAITLIST_EVENTS: readonly WaitlistEvent['type'][] = [
  'WaitlistEntryJoined',
  'WaitlistOfferMade',
  'WaitlistOfferExpired',
  'WaitlistExhausted',
];

/** A claim page stays reachable this long after the offer ran out, to say so instead of a dead link. */
const CLAIM_LINK_GRACE_MS = 24 * 60 * 60_000;

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

function foldWaitlistUpTo(events: readonly RecordedEvent[], revision: bigint): WaitlistState {
  let state = waitlistDecider.initialState();
  for (const recorded of events) {
    if (recorded.revision > revision) break;
    state = waitlistDecider.evolve(state, toDomainEvent<WaitlistEvent>(recorded));
  }
  return state;
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

/** A waitlist entry seen as the reservation it asks for: what the standard templates render from. */
function entryAsReservation(
  state: OpenWaitlistState,
  entry: WaitlistEntry,
  reservationId: string,
  resourceId: string | null,
): ReservationDetails {
  return {
    reservationId,
    tenantId: state.tenantId,
    source: 'internal',
    customer: entry.customer,
    serviceId: state.slot.serviceId,
    serviceName: state.slot.serviceName,
    resourceId,
    locationId: state.slot.locationId,
    location: state.slot.location,
    start: state.slot.start,
    end: state.slot.end,
    partySize: entry.partySize,
    requiresConfirmation: false,
    external: null,
  };
}

/** The customer is told on the channels they chose when joining: the others are off for this message. */
function onlyChannels(
  settings: NotificationSettings,
  kind: NotificationKind,
  channels: readonly string[],
): NotificationSettings {
  const kindSettings = settings.kinds[kind];
  return {
    ...settings,
    kinds: {
      ...settings.kinds,
      [kind]: Object.fromEntries(
        Object.entries(kindSettings).map(([key, value]) =>
          (CHANNELS as readonly string[]).includes(key)
            ? [key, value === true && channels.includes(key)]
            : [key, value],
        ),
      ) as unknown as typeof kindSettings,
    },
  };
}

/**
 * Process manager (the one shape, `react -> intents`): a reservation or waitlist event becomes deliveries — one
 * `delivery` intent each, on a stream whose id is derived from the event, so a redelivered event requests nothing
 * new — and reminder jobs in the scheduler.
 */
export function createNotificationPlanner(deps: NotificationPlannerDeps): {
  manager: ProcessManager & { readonly concurrency: number };
  /** Executes `delivery` intents. */
  deliveryHandler: IntentHandler;
  consumer: EventConsumer;
  reminderJob: JobHandler;
} {
  const deliveryHandler: IntentHandler = async (intent, context) => {
    const plan = intent.command.data as PlannedDelivery;
    if (plan.type === 'skip') {
      await handleCommand(
        deps,
        deliveryStreamName(plan.identity.tenantId, plan.identity.notificationId),
        deliveryDecider,
        {
          type: 'SkipNotification',
          data: {
            reason: plan.reason,
            ...(plan.detail !== undefined ? { detail: plan.detail } : {}),
            skippedAt: deps.clock.now().toISOString(),
            identity: plan.identity,
          },
        },
        context,
      );
      return;
    }
    const { request } = plan;
    const stream = deliveryStreamName(request.tenantId, request.notificationId);
    if (request.cost) {
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
        return;
      }
    }
    await handleCommand(deps, stream, deliveryDecider, { type: 'RequestNotification', data: request }, context);
  };

  const runner = { scheduler: deps.scheduler, handlers: { [DELIVERY_TARGET]: deliveryHandler }, logger: deps.logger };

  const deliveryIntents = (plans: readonly PlannedDelivery[]): Intent[] =>
    plans.map((plan) => {
      const identity = plan.identity;
      return {
        kind: 'command',
        target: DELIVERY_TARGET,
        tenantId: identity.tenantId,
        aggregateId: identity.notificationId,
        command: { type: 'PlanDelivery', data: plan },
        idempotencyKey: identity.notificationId,
      } satisfies CommandIntent;
    });

  const plan = async (cause: NotificationCause, settings: NotificationSettings, paid: boolean): Promise<Intent[]> => {
    const reservation = cause.reservation;
    const [preferences, resourceStaff, texts] = await Promise.all<
      [Promise<CustomerPreferences>, Promise<Contact[]>, Promise<ServiceTexts>]
    >([
      loadCustomerPreferences(deps.eventStore, cause.tenantId, cause.customerRef),
      reservation.resourceId ? deps.resourceStaff(cause.tenantId, reservation.resourceId) : Promise.resolve([]),
      reservation.serviceId
        ? deps.serviceTexts(cause.tenantId, reservation.serviceId, reservation.start)
        : Promise.resolve({}),
    ]);
    return deliveryIntents(
      planNotifications({
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
      }),
    );
  };

  const reminderIntents = (tenantId: string, state: ReservationState, settings: NotificationSettings): Intent[] => {
    if (state.status !== 'confirmed') return [];
    const start = Date.parse(state.reservation.start);
    const now = deps.clock.now().getTime();
    const intents: Intent[] = [];
    for (const minutesBefore of reminderOffsets(settings)) {
      const runAt = start - minutesBefore * 60_000;
      if (runAt <= now) continue; // booked later than the offset: that reminder would only arrive late
      intents.push({
        kind: 'schedule',
        job: {
          name: REMINDER_JOB,
          key: reminderKey(tenantId, state.reservation.reservationId, minutesBefore),
          runAt: new Date(runAt),
          tenantId,
          data: { reservationId: state.reservation.reservationId, start: state.reservation.start, minutesBefore },
        },
      });
    }
    return intents;
  };

  const reactToReservation = async (event: RecordedEvent): Promise<Intent[]> => {
    const tenantId = event.metadata.tenantId;
    const { events } = await deps.eventStore.readStream(event.streamName);
    const { state: asOf, reschedules } = foldUpTo(events, event.revision);
    if (asOf.status === 'none') return [];
    const reservation = asOf.reservation;
    const settings = await loadNotificationSettings(deps.eventStore, tenantId);
    const intents: Intent[] = [];

    if ((ENDING_EVENTS as readonly string[]).includes(event.type)) {
      for (const minutesBefore of reminderOffsets(settings)) {
        intents.push({ kind: 'cancel-schedule', key: reminderKey(tenantId, reservation.reservationId, minutesBefore) });
      }
    }
    if (!(PLANNED_EVENTS as readonly string[]).includes(event.type)) return intents;

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
      case 'ReservationConfirmed': {
        // Over before it was confirmed (a historical import, or staff confirming too late): nothing to tell, no
        // reminder to schedule (decision 0011). Decided from the payload, so a replay decides the same.
        if (domainEvent.data.historical || hasEnded(domainEvent.data.reservation, domainEvent.data.confirmedAt)) {
          deps.logger.info(
            { tenantId, reservationId: reservation.reservationId },
            'reservation had ended when confirmed: no confirmation sent',
          );
          return intents;
        }
        // A seat the waitlist booked for the customer is news of its own: "you have a place", with the invitation.
        const assigned = reservation.origin?.type === 'waitlist' && reservation.origin.mode === 'assign';
        cause = {
          ...base,
          kind: assigned ? 'waitlist-seat-assigned' : 'reservation-confirmed',
          calendar: { method: 'REQUEST', sequence: reschedules },
          ...(reservation.origin ? { waitlistEntryId: reservation.origin.entryId } : {}),
        };
        intents.push(...reminderIntents(tenantId, asOf, settings));
        break;
      }
      case 'ReservationRescheduled':
        cause = {
          ...base,
          kind: 'reservation-rescheduled',
          extra: { previousStart: domainEvent.data.previous.start },
          // A request staff has not confirmed yet has no invitation to move: its confirmation brings the first one.
          ...(asOf.status === 'confirmed' ? { calendar: { method: 'REQUEST' as const, sequence: reschedules } } : {}),
        };
        intents.push(...reminderIntents(tenantId, asOf, settings));
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
        return intents;
    }
    intents.push(...(await plan(cause, settings, paid)));
    return intents;
  };

  const reactToWaitlist = async (event: RecordedEvent): Promise<Intent[]> => {
    const tenantId = event.metadata.tenantId;
    const waitlistEvent = toDomainEvent<WaitlistEvent>(event);
    const { events } = await deps.eventStore.readStream(waitlistStreamName(tenantId, waitlistEvent.data.waitlistId));
    const state = foldWaitlistUpTo(events, event.revision);
    if (state.status === 'none') return [];
    const settings = await loadNotificationSettings(deps.eventStore, tenantId);
    const customerCause = (entry: WaitlistEntry, reservationId: string, resourceId: string | null) => {
      const customerRef = customerRefOf(deps.ids, tenantId, entry.customer);
      return {
        eventId: event.id,
        tenantId,
        occurredAt: event.recordedAt,
        reservation: entryAsReservation(state, entry, reservationId, resourceId),
        ...(customerRef ? { customerRef } : {}),
        waitlistEntryId: entry.entryId,
      };
    };
    switch (waitlistEvent.type) {
      case 'WaitlistEntryJoined': {
        const entry = findEntry(state, waitlistEvent.data.entryId);
        if (!entry) return [];
        const kind = 'waitlist-joined';
        return plan(
          {
            ...customerCause(entry, entry.entryId, entry.resourceId),
            kind,
            auditReservationId: null,
            extra: { position: waitlistEvent.data.position },
          },
          onlyChannels(settings, kind, entry.channels),
          false,
        );
      }
      case 'WaitlistOfferMade': {
        const entry = findEntry(state, waitlistEvent.data.entryId);
        if (!entry) return [];
        const d = waitlistEvent.data;
        const kind = 'waitlist-offer';
        if (!deps.claimLinks) {
          deps.logger.warn({ tenantId, offerId: d.offerId }, 'no claim links configured: offer message not planned');
          return [];
        }
        const claimUrl = deps.claimLinks.linkFor(
          { tenantId, waitlistId: d.waitlistId, offerId: d.offerId },
          new Date(Date.parse(d.expiresAt) + CLAIM_LINK_GRACE_MS).toISOString(),
        );
        return plan(
          {
            ...customerCause(entry, d.reservationId, d.resourceId),
            kind,
            extra: { offer: { expiresAt: d.expiresAt }, claimUrl },
          },
          onlyChannels(settings, kind, entry.channels),
          false,
        );
      }
      case 'WaitlistOfferExpired': {
        const entry = findEntry(state, waitlistEvent.data.entryId);
        if (!entry) return [];
        const kind = 'waitlist-offer-expired';
        return plan(
          {
            ...customerCause(entry, waitlistEvent.data.reservationId, waitlistEvent.data.resourceId),
            kind,
            auditReservationId: null,
          },
          onlyChannels(settings, kind, entry.channels),
          false,
        );
      }
      case 'WaitlistExhausted': {
        const seats = waitlistEvent.data.free.reduce((sum, f) => sum + f.seats, 0);
        const resourceId = waitlistEvent.data.free[0]?.resourceId ?? null;
        const alertSubject: WaitlistEntry = {
          entryId: state.waitlistId,
          seq: 0,
          customer: { name: '-', locale: settings.defaultLocale },
          customerKey: '',
          partySize: seats,
          resourceId,
          channels: [],
          joinedAt: event.recordedAt,
          status: 'waiting',
          offer: null,
          offerCount: 0,
          reservationId: null,
        };
        return plan(
          {
            eventId: event.id,
            tenantId,
            occurredAt: event.recordedAt,
            kind: 'staff-alert',
            reservation: entryAsReservation(state, alertSubject, state.waitlistId, resourceId),
            auditReservationId: null,
            extra: {
              alert: {
                message: waitlistExhaustedAlert(settings.defaultLocale, seats, waitlistEvent.data.waiting),
              },
            },
          },
          settings,
          false,
        );
      }
      default:
        return [];
    }
  };

  const manager: ProcessManager & { readonly concurrency: number } = {
    name: 'notification-planner',
    eventTypes: [...PLANNED_EVENTS, ...ENDING_EVENTS, ...WAITLIST_EVENTS],
    concurrency: 8,
    react: (event) =>
      (WAITLIST_EVENTS as readonly string[]).includes(event.type) ? reactToWaitlist(event) : reactToReservation(event),
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
    const intents = await plan(
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
      state.payments.length > 0,
    );
    await executeIntents(runner, intents, (tenantId) =>
      processContext(manager.name, tenantId, { id: causeId, correlationId: causeId }),
    );
  };

  return { manager, deliveryHandler, consumer: processManagerConsumer(manager, runner), reminderJob };
}
