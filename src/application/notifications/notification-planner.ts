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
  creditAccountDecider,
  deliveryDecider,
  effectiveWorkflows,
  kindOfTrigger,
  timeSignature,
  timeTriggersFor,
  triggerOffsetMinutes,
  waitlistExhaustedAlert,
  calendarConflictAlert,
  workflowsDecider,
  workflowsForEvent,
  workflowsForTime,
  type Contact,
  type CustomerPreferences,
  type NotificationKind,
  type NotificationSettings,
  type Workflow,
  type WorkflowEvent,
  type WorkflowSubject,
  type WorkflowTrigger,
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
import { handleCommand, loadAggregate, toDomainEvent, type CommandHandlerDeps } from '../command-handler.js';
import type { ReadModelStore, StoredDocument } from '../ports/read-model-store.port.js';
import { physicalCollection } from '../projections/projection.js';
import {
  reservationDetailsProjection,
  type ReservationDocument,
} from '../projections/reservation-details.projection.js';
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
import { creditsStreamName, deliveryStreamName, workflowsStreamName } from './notification-streams.js';
import { planNotifications, type NotificationCause, type PlannedDelivery } from './plan-notifications.js';
import type { CustomerLinks, CustomerLinkSubject } from '../ports/customer-links.port.js';

/** How long the link to a customer's page works after the reservation (or the waitlisted slot) has ended. */
export const CUSTOMER_LINK_DAYS_AFTER_END = 30;

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
  /** Signed links of the customer's own page, put in every customer message; none: messages carry no such link. */
  readonly customerLinks?: CustomerLinks;
  /** The reservations read model: which future reservations' timed messages follow a workflow change. */
  readonly readModels?: ReadModelStore;
}

export interface ServiceTexts {
  readonly description?: string;
  readonly afterPaymentText?: string;
}

export const REMINDER_JOB = 'reservation.reminder';
/** Intents of this target plan one delivery each: charge its credits, then request it (or record why not). */
export const DELIVERY_TARGET = 'delivery';

/** Reservation events that start workflows, and the workflow event each stands for. */
const RESERVATION_TRIGGERS: Partial<Record<ReservationEvent['type'], WorkflowEvent>> = {
  ReservationRequested: 'reservation-requested',
  ReservationConfirmed: 'reservation-confirmed',
  ReservationCancelled: 'reservation-cancelled',
  ReservationDeclined: 'reservation-declined',
  ReservationDeleted: 'reservation-deleted',
  ReservationMarkedNotTaken: 'reservation-not-taken',
  ReservationCompleted: 'reservation-completed',
  ReservationRescheduled: 'reservation-rescheduled',
  PaymentRecorded: 'payment-received',
  ReservationCalendarConflictDetected: 'calendar-conflict',
};
/** Events after which no reminder may go out. */
const ENDING_EVENTS: readonly ReservationEvent['type'][] = [
  'ReservationCancelled',
  'ReservationDeclined',
  'ReservationDeleted',
  'ReservationMarkedNotTaken',
  'ReservationCompleted',
  'ReservationHoldExpired',
];
/** Waitlist events that start workflows. */
const WAITLIST_TRIGGERS: Partial<Record<WaitlistEvent['type'], WorkflowEvent>> = {
  WaitlistEntryJoined: 'waitlist-joined',
  WaitlistOfferMade: 'waitlist-offer',
  WaitlistOfferExpired: 'waitlist-offer-expired',
  WaitlistExhausted: 'waitlist-exhausted',
  WaitlistSeatsFreed: 'slot-freed',
};
/** A change of what is scheduled: the reminders of future reservations follow it. */
const WORKFLOW_CHANGES = ['WorkflowSaved', 'WorkflowRemoved', 'NotificationSettingsChanged'] as const;
/** Future reservations whose timed messages are re-planned after one workflow change (the rest: their own events). */
const MAX_RESCHEDULED = 10_000;

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

type TimeTrigger = Extract<WorkflowTrigger, { type: 'time' }>;

/** Minutes before the start keep the key reminders always had, so jobs scheduled before workflows still match. */
function timeJobKey(tenantId: string, reservationId: string, trigger: TimeTrigger): string {
  return trigger.anchor === 'start' && trigger.direction === 'before'
    ? `reminder:${tenantId}:${reservationId}:${trigger.minutes}`
    : `workflow-time:${tenantId}:${reservationId}:${timeSignature(trigger)}`;
}

/** What a timed job carries: the reservation and the anchor instant it was planned for (a reschedule moves it). */
type TimeJobData =
  | { readonly reservationId: string; readonly start: string; readonly minutesBefore: number }
  | {
      readonly reservationId: string;
      readonly anchor: 'start' | 'end';
      readonly direction: 'before' | 'after';
      readonly minutes: number;
      readonly at: string;
    };

function triggerOfJob(data: TimeJobData): { trigger: TimeTrigger; at: string } {
  return 'anchor' in data
    ? { trigger: { type: 'time', anchor: data.anchor, direction: data.direction, minutes: data.minutes }, at: data.at }
    : { trigger: { type: 'time', anchor: 'start', direction: 'before', minutes: data.minutesBefore }, at: data.start };
}

/** The subject workflows scope over. */
function subjectOf(reservation: ReservationDetails, paid: boolean): WorkflowSubject {
  return {
    serviceId: reservation.serviceId,
    locationId: reservation.locationId,
    resourceId: reservation.resourceId,
    paid,
  };
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

  /** The tenant's settings and the workflows in force (defaults derived from the settings, edited or its own). */
  const loadPolicy = async (tenantId: string) => {
    const [settings, { state }] = await Promise.all([
      loadNotificationSettings(deps.eventStore, tenantId),
      loadAggregate(deps.eventStore, workflowsStreamName(tenantId), workflowsDecider),
    ]);
    return { settings, workflows: effectiveWorkflows(settings, new Map(Object.entries(state.saved))) };
  };

  const plan = async (
    cause: NotificationCause,
    settings: NotificationSettings,
    workflows: readonly Workflow[],
    paid: boolean,
    byCustomer = false,
    reservationStatus?: string,
    waitlistId?: string,
  ): Promise<Intent[]> => {
    if (workflows.length === 0) return [];
    const reservation = cause.reservation;
    const page = customerPageOf(cause, waitlistId);
    if (page && deps.customerLinks) {
      const validUntil = new Date(Date.parse(reservation.end) + CUSTOMER_LINK_DAYS_AFTER_END * 86_400_000);
      cause = { ...cause, customerPageUrl: deps.customerLinks.linkFor(page, validUntil.toISOString()) };
    }
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
        workflows,
        byCustomer,
        preferences,
        resourceStaff,
        admins: settings.admins ?? [],
        paid,
        ...(reservationStatus !== undefined ? { reservationStatus } : {}),
        ...(texts.afterPaymentText ? { afterPaymentText: texts.afterPaymentText } : {}),
        ...(texts.description ? { serviceDescription: texts.description } : {}),
        now: deps.clock.now().toISOString(),
        ...(deps.maxAttempts ? { maxAttempts: deps.maxAttempts } : {}),
        deriveId: (...parts) => deps.ids.derive('delivery', ...parts),
      }),
    );
  };

  /** One job per distinct time trigger in force for the reservation; a trigger already past is not scheduled. */
  const timeIntents = (tenantId: string, state: ReservationState, workflows: readonly Workflow[]): Intent[] => {
    if (state.status !== 'confirmed') return [];
    const r = state.reservation;
    const now = deps.clock.now().getTime();
    const intents: Intent[] = [];
    const triggers = timeTriggersFor(workflows, subjectOf(r, state.payments.length > 0)).sort(
      (a, b) => triggerRunAt(r, a) - triggerRunAt(r, b),
    );
    for (const trigger of triggers) {
      const runAt = triggerRunAt(r, trigger);
      if (runAt <= now) continue; // booked later than the offset: that message would only arrive late
      const data: TimeJobData =
        trigger.anchor === 'start' && trigger.direction === 'before'
          ? { reservationId: r.reservationId, start: r.start, minutesBefore: trigger.minutes }
          : {
              reservationId: r.reservationId,
              anchor: trigger.anchor,
              direction: trigger.direction,
              minutes: trigger.minutes,
              at: r[trigger.anchor],
            };
      intents.push({
        kind: 'schedule',
        job: {
          name: REMINDER_JOB,
          key: timeJobKey(tenantId, r.reservationId, trigger),
          runAt: new Date(runAt),
          tenantId,
          data: { ...data },
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
    const { settings, workflows } = await loadPolicy(tenantId);
    const intents: Intent[] = [];

    if ((ENDING_EVENTS as readonly string[]).includes(event.type)) {
      const signatures = new Map<string, TimeTrigger>();
      for (const w of workflows) if (w.trigger.type === 'time') signatures.set(timeSignature(w.trigger), w.trigger);
      for (const trigger of signatures.values()) {
        intents.push({ kind: 'cancel-schedule', key: timeJobKey(tenantId, reservation.reservationId, trigger) });
      }
    }
    const domainEvent = toDomainEvent<ReservationEvent>(event);
    let trigger = RESERVATION_TRIGGERS[domainEvent.type];
    if (!trigger) return intents;

    const customerRef = customerRefOf(deps.ids, tenantId, reservation.customer);
    const base = {
      eventId: event.id,
      tenantId,
      occurredAt: event.recordedAt,
      reservation,
      ...(customerRef ? { customerRef } : {}),
    };
    const paid = asOf.payments.length > 0;
    const subject = subjectOf(reservation, paid);
    let cause: NotificationCause;
    let cancelledBy: 'customer' | 'staff' | undefined;
    let byCustomer = false;
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
        if (assigned) trigger = 'waitlist-seat-assigned';
        // The customer's own booking (no confirmation step) or their acceptance of an offer.
        byCustomer = !reservation.requiresConfirmation || reservation.origin?.mode === 'offer';
        cause = {
          ...base,
          kind: assigned ? 'waitlist-seat-assigned' : 'reservation-confirmed',
          calendar: { method: 'REQUEST', sequence: reschedules },
          ...(reservation.origin ? { waitlistEntryId: reservation.origin.entryId } : {}),
        };
        intents.push(...timeIntents(tenantId, asOf, workflows));
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
        intents.push(...timeIntents(tenantId, asOf, workflows));
        break;
      case 'ReservationCancelled':
        cancelledBy = domainEvent.data.by;
        byCustomer = cancelledBy === 'customer';
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
      case 'ReservationCalendarConflictDetected': {
        const d = domainEvent.data;
        cause = {
          ...base,
          kind: 'staff-alert',
          extra: {
            alert: {
              message: calendarConflictAlert(settings.defaultLocale, {
                calendarName: d.calendarName,
                busyStart: d.busyStart,
                busyEnd: d.busyEnd,
                timeZone: reservation.location.timeZone,
              }),
            },
          },
        };
        break;
      }
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
        // Requested, deleted, not taken, completed: the tenant's own workflows only (no standard message).
        byCustomer = domainEvent.type === 'ReservationRequested';
        cause = { ...base, kind: 'custom-message' };
    }
    const started = workflowsForEvent(workflows, trigger, subject, cancelledBy ? { cancelledBy } : {});
    intents.push(...(await plan(cause, settings, started, paid, byCustomer, asOf.status)));
    return intents;
  };

  const reactToWaitlist = async (event: RecordedEvent): Promise<Intent[]> => {
    const tenantId = event.metadata.tenantId;
    const waitlistEvent = toDomainEvent<WaitlistEvent>(event);
    const trigger = WAITLIST_TRIGGERS[waitlistEvent.type];
    if (!trigger) return [];
    const { events } = await deps.eventStore.readStream(waitlistStreamName(tenantId, waitlistEvent.data.waitlistId));
    const state = foldWaitlistUpTo(events, event.revision);
    if (state.status === 'none') return [];
    const { settings, workflows } = await loadPolicy(tenantId);
    const subject = (resourceId: string | null): WorkflowSubject => ({
      serviceId: state.slot.serviceId,
      locationId: state.slot.locationId,
      resourceId,
      paid: false,
    });
    const forCustomer = (entry: WaitlistEntry, resourceId: string | null) =>
      workflowsForEvent(workflows, trigger, subject(resourceId)).map((w) =>
        // The customer is told on the channels they chose when joining.
        w.recipients.customer && !(entry.channels as readonly string[]).includes(w.channel)
          ? { ...w, recipients: { ...w.recipients, customer: false } }
          : w,
      );
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
    /** Messages about the slot rather than one customer (staff alerts, a freed slot). */
    const slotCause = (kind: NotificationKind, resourceId: string | null, seats: number, extra = {}) => {
      const subjectEntry: WaitlistEntry = {
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
      return {
        eventId: event.id,
        tenantId,
        occurredAt: event.recordedAt,
        kind,
        reservation: entryAsReservation(state, subjectEntry, state.waitlistId, resourceId),
        auditReservationId: null,
        extra,
      } satisfies NotificationCause;
    };
    switch (waitlistEvent.type) {
      case 'WaitlistEntryJoined': {
        const entry = findEntry(state, waitlistEvent.data.entryId);
        if (!entry) return [];
        return plan(
          {
            ...customerCause(entry, entry.entryId, entry.resourceId),
            kind: 'waitlist-joined',
            auditReservationId: null,
            extra: { position: waitlistEvent.data.position },
          },
          settings,
          forCustomer(entry, entry.resourceId),
          false,
          true,
          undefined,
          state.waitlistId,
        );
      }
      case 'WaitlistOfferMade': {
        const entry = findEntry(state, waitlistEvent.data.entryId);
        if (!entry) return [];
        const d = waitlistEvent.data;
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
            kind: 'waitlist-offer',
            extra: { offer: { expiresAt: d.expiresAt }, claimUrl },
          },
          settings,
          forCustomer(entry, d.resourceId),
          false,
          false,
          undefined,
          state.waitlistId,
        );
      }
      case 'WaitlistOfferExpired': {
        const entry = findEntry(state, waitlistEvent.data.entryId);
        if (!entry) return [];
        return plan(
          {
            ...customerCause(entry, waitlistEvent.data.reservationId, waitlistEvent.data.resourceId),
            kind: 'waitlist-offer-expired',
            auditReservationId: null,
          },
          settings,
          forCustomer(entry, waitlistEvent.data.resourceId),
          false,
          false,
          undefined,
          state.waitlistId,
        );
      }
      case 'WaitlistExhausted': {
        const seats = waitlistEvent.data.free.reduce((sum, f) => sum + f.seats, 0);
        const resourceId = waitlistEvent.data.free[0]?.resourceId ?? null;
        const message = waitlistExhaustedAlert(settings.defaultLocale, seats, waitlistEvent.data.waiting);
        return plan(
          slotCause('staff-alert', resourceId, seats, { alert: { message, slot: true } }),
          settings,
          workflowsForEvent(workflows, trigger, subject(resourceId)),
          false,
        );
      }
      case 'WaitlistSeatsFreed': {
        const seats = waitlistEvent.data.free.reduce((sum, f) => sum + f.seats, 0);
        const resourceId = waitlistEvent.data.cause.resourceId ?? waitlistEvent.data.free[0]?.resourceId ?? null;
        return plan(
          slotCause('custom-message', resourceId, seats),
          settings,
          workflowsForEvent(workflows, trigger, subject(resourceId)),
          false,
        );
      }
      default:
        return [];
    }
  };

  /**
   * A workflow or the settings changed: the timed messages of confirmed reservations still ahead follow (a new or
   * moved trigger is scheduled — also "after the end" ones of a reservation under way; a job whose trigger is gone
   * finds no workflow when it runs and sends nothing).
   */
  const reactToWorkflowChange = async (event: RecordedEvent): Promise<Intent[]> => {
    const tenantId = event.metadata.tenantId;
    if (!deps.readModels) return [];
    const { workflows } = await loadPolicy(tenantId);
    const timed = workflows.flatMap((w) => (w.enabled && w.trigger.type === 'time' ? [w.trigger] : []));
    if (timed.length === 0) return [];
    // Every reservation one of whose timed messages may still be due: an "after" trigger reaches past the end.
    const reach = Math.max(0, ...timed.map((t) => (t.direction === 'after' ? t.minutes : 0)));
    const cutoff = new Date(deps.clock.now().getTime() - reach * 60_000).toISOString();
    const future = await deps.readModels.find<ReservationDocument & StoredDocument>(
      physicalCollection(reservationDetailsProjection),
      { tenantId, status: 'confirmed', end: { $gt: cutoff } },
      { sort: { field: 'start', direction: 1 }, limit: MAX_RESCHEDULED },
    );
    const intents: Intent[] = [];
    for (const doc of future) {
      const { state } = await loadAggregate(
        deps.eventStore,
        reservationStreamName(tenantId, doc.reservationId),
        reservationDecider,
      );
      intents.push(...timeIntents(tenantId, state, workflows));
    }
    return intents;
  };

  const manager: ProcessManager & { readonly concurrency: number } = {
    name: 'notification-planner',
    eventTypes: [
      ...(Object.keys(RESERVATION_TRIGGERS) as ReservationEvent['type'][]),
      ...ENDING_EVENTS,
      ...(Object.keys(WAITLIST_TRIGGERS) as WaitlistEvent['type'][]),
      ...WORKFLOW_CHANGES,
    ],
    concurrency: 8,
    react: (event) =>
      Object.hasOwn(WAITLIST_TRIGGERS, event.type)
        ? reactToWaitlist(event)
        : (WORKFLOW_CHANGES as readonly string[]).includes(event.type)
          ? reactToWorkflowChange(event)
          : reactToReservation(event),
  };

  /**
   * A timed job (a reminder, or any time trigger): sends only if the reservation is still confirmed (or, after its
   * start, completed) at the time the job was planned for, through the workflows of that trigger in force now.
   */
  const reminderJob: JobHandler = async (job) => {
    const data = job.data as unknown as TimeJobData;
    const { trigger, at } = triggerOfJob(data);
    const { events } = await deps.eventStore.readStream(reservationStreamName(job.tenantId, data.reservationId));
    const last = events.at(-1);
    if (!last) return;
    const { state } = foldUpTo(events, last.revision);
    const follows = trigger.anchor === 'end' || trigger.direction === 'after';
    const alive = state.status === 'confirmed' || (follows && state.status === 'completed');
    // Cancelled, or moved to another time (whose own job exists): this one is obsolete.
    if (!alive || state.reservation[trigger.anchor] !== at) return;
    const { settings, workflows } = await loadPolicy(job.tenantId);
    const paid = state.payments.length > 0;
    const started = workflowsForTime(workflows, timeSignature(trigger), subjectOf(state.reservation, paid));
    const reminder = trigger.anchor === 'start' && trigger.direction === 'before';
    const causeId = reminder
      ? deps.ids.derive('reminder', job.tenantId, data.reservationId, at, String(trigger.minutes))
      : deps.ids.derive('workflow-time', job.tenantId, data.reservationId, at, timeSignature(trigger));
    const customerRef = customerRefOf(deps.ids, job.tenantId, state.reservation.customer);
    const intents = await plan(
      {
        eventId: causeId,
        tenantId: job.tenantId,
        kind: kindOfTrigger(trigger),
        occurredAt: job.runAt.toISOString(),
        reservation: state.reservation,
        ...(customerRef ? { customerRef } : {}),
        ...(reminder ? { extra: { minutesBefore: trigger.minutes } } : {}),
      },
      settings,
      started,
      paid,
      false,
      state.status,
    );
    await executeIntents(runner, intents, (tenantId) =>
      processContext(manager.name, tenantId, { id: causeId, correlationId: causeId }),
    );
  };

  return { manager, deliveryHandler, consumer: processManagerConsumer(manager, runner), reminderJob };
}

/** When a time trigger fires for a reservation (epoch ms). */
function triggerRunAt(reservation: ReservationDetails, trigger: TimeTrigger): number {
  return Date.parse(reservation[trigger.anchor]) + triggerOffsetMinutes(trigger) * 60_000;
}

/**
 * Whose page a message links to: a waitlist entry's messages (joined, offer, expired) open the entry — its place and
 * its offer; a reservation's open the reservation; a message about a slot (to staff) opens nothing.
 */
function customerPageOf(cause: NotificationCause, waitlistId: string | undefined): CustomerLinkSubject | undefined {
  if (waitlistId && cause.waitlistEntryId) {
    return { kind: 'waitlist-entry', tenantId: cause.tenantId, waitlistId, entryId: cause.waitlistEntryId };
  }
  if (cause.auditReservationId === null) return undefined;
  return {
    kind: 'reservation',
    tenantId: cause.tenantId,
    reservationId: cause.auditReservationId ?? cause.reservation.reservationId,
  };
}
