import { ValidationError } from '../shared/errors.js';
import { requireSafeText } from '../shared/text.js';
import type { Channel, NotificationKind, SettingsChannel } from './kinds.js';
import {
  addressDescription,
  CHANNELS,
  isChannel,
  isValidAddress,
  normalizeAddress,
  SETTINGS_CHANNELS,
} from './kinds.js';
import type { NotificationSettings } from './preferences.js';
import { validateCustomTemplate } from './templates.js';

/**
 * Workflows (seed 004: "a ready-made workflow … enabled by default … can be edited, or you can create your own"):
 * trigger × scope × action × recipients. Every message Herald sends automatically about a reservation or a waitlist
 * comes from a workflow.
 *
 * The ready-made ones are derived from the tenant's notification settings (per-kind switches and recipients,
 * reminder offsets, custom messages) — `defaultWorkflows` — so a tenant that never touched workflows sends exactly
 * what it sent before (same deliveries, same ids). A tenant edits a ready-made workflow by saving one with its id (an
 * override), or adds its own; `effectiveWorkflows` combines the two.
 */

/** What can start a workflow: an event of a reservation or a waitlist. */
export const WORKFLOW_EVENTS = [
  'reservation-requested',
  'reservation-confirmed',
  'reservation-cancelled',
  'reservation-declined',
  'reservation-deleted',
  'reservation-not-taken',
  'reservation-completed',
  'reservation-rescheduled',
  'payment-received',
  /** "A time slot became free" for people on its waitlist. */
  'slot-freed',
  'waitlist-joined',
  'waitlist-offer',
  'waitlist-offer-expired',
  'waitlist-seat-assigned',
  'waitlist-exhausted',
  /** A linked external calendar became busy during a booked reservation (issue 12): a staff alert. */
  'calendar-conflict',
] as const;
export type WorkflowEvent = (typeof WORKFLOW_EVENTS)[number];

export type WorkflowTrigger =
  | {
      readonly type: 'event';
      readonly event: WorkflowEvent;
      /** `reservation-cancelled` only: who cancelled; absent = either. */
      readonly cancelledBy?: 'customer' | 'staff';
    }
  | {
      readonly type: 'time';
      /** Relative to the reservation's start or end. */
      readonly anchor: 'start' | 'end';
      readonly direction: 'before' | 'after';
      readonly minutes: number;
    };

export interface WorkflowScope {
  /** Empty: every service (location, resource). */
  readonly serviceIds: readonly string[];
  readonly locationIds: readonly string[];
  readonly resourceIds: readonly string[];
  readonly payment: 'any' | 'paid' | 'unpaid';
}

export type WorkflowMessage =
  /** Herald's built-in text of the trigger's kind, in the recipient's language. */
  | { readonly type: 'standard' }
  /** The tenant's own text with `{{placeholders}}`; `translations` by language (`cs`, `nb`...), else `text`. */
  | {
      readonly type: 'custom';
      readonly subject?: string;
      readonly text: string;
      readonly translations?: Readonly<Record<string, { readonly subject?: string; readonly text: string }>>;
    }
  /**
   * A template prepared at the provider (a WhatsApp message template, a SendGrid dynamic template), sent through
   * that provider's adapter with the named placeholders as its parameters, in this order.
   */
  | {
      readonly type: 'external';
      readonly system: string;
      readonly template: string;
      /** The template's language at the provider (WhatsApp: `en`, `en_US`, `cs`); default the tenant's language. */
      readonly language?: string;
      /** Placeholder names (`customerName`, `start`, `claimUrl`...): the template's parameters, in its order. */
      readonly parameters?: readonly string[];
    };

/** Which template systems a channel can send, and what their template ids look like. */
export const EXTERNAL_TEMPLATE_SYSTEMS: Readonly<Partial<Record<Channel, Readonly<Record<string, RegExp>>>>> = {
  /** Message template names: lower-case letters, digits and underscores (WhatsApp Manager's rule). */
  whatsapp: { whatsapp: /^[a-z0-9_]{1,512}$/ },
  /** SendGrid dynamic transactional template ids; SmartEmailing e-mail ids (a custom e-mail with replacements). */
  email: { sendgrid: /^d-[0-9a-f]{32}$/, smartemailing: /^[1-9]\d{0,9}$/ },
  /**
   * The CRM event or tag the delivery records on the customer's contact: a HubSpot event's fully qualified name
   * (`pe123456_waitlist_offer`), an Intercom event name, a Mailchimp tag; the parameters are its properties.
   */
  crm: { crm: /^[A-Za-z0-9][A-Za-z0-9 _.:-]{0,99}$/ },
  /**
   * The online meeting the customer is registered for (docs/channels/meeting.md): a Zoom meeting id (digits) or a
   * Webex meeting id (32 hex digits, or a scheduled occurrence's `<series>_<n>` / `<series>_I_<n>`).
   */
  meeting: { zoom: /^\d{9,12}$/, webex: /^[0-9a-f]{32}(_I)?(_\d{1,20})?$/ },
};

export interface WorkflowRecipients {
  readonly customer: boolean;
  readonly resourceStaff: boolean;
  readonly admins: boolean;
  /** Fixed addresses (email channel) or E.164 numbers (SMS): a desk, a device switched by SMS. */
  readonly addresses: readonly string[];
}

export interface Workflow {
  readonly workflowId: string;
  readonly name: string;
  readonly enabled: boolean;
  readonly trigger: WorkflowTrigger;
  readonly scope: WorkflowScope;
  readonly channel: Channel;
  readonly message: WorkflowMessage;
  readonly recipients: WorkflowRecipients;
  /** Ready-made (derived from the settings) or the tenant's own. */
  readonly origin: 'default' | 'custom';
}

export const EVERYWHERE: WorkflowScope = { serviceIds: [], locationIds: [], resourceIds: [], payment: 'any' };

/** The standard message kind an event stands for; time triggers before the start are reminders. */
const STANDARD_KIND: Partial<Record<WorkflowEvent, NotificationKind>> = {
  'reservation-confirmed': 'reservation-confirmed',
  'reservation-cancelled': 'reservation-cancelled',
  'reservation-declined': 'reservation-declined',
  'reservation-rescheduled': 'reservation-rescheduled',
  'payment-received': 'payment-received',
  'waitlist-joined': 'waitlist-joined',
  'waitlist-offer': 'waitlist-offer',
  'waitlist-offer-expired': 'waitlist-offer-expired',
  'waitlist-seat-assigned': 'waitlist-seat-assigned',
  'waitlist-exhausted': 'staff-alert',
  'calendar-conflict': 'staff-alert',
};

/** Triggers whose ready-made workflows are made apart: their kind's standard workflows belong to another event. */
const SEPARATE_DEFAULTS: readonly WorkflowEvent[] = ['calendar-conflict'];

/**
 * The kind of the messages a trigger leads to: what customers block and analysts count. Triggers without a
 * standard message of their own send the tenant's messages as `custom-message`.
 */
export function kindOfTrigger(trigger: WorkflowTrigger): NotificationKind {
  if (trigger.type === 'time') {
    return trigger.anchor === 'start' && trigger.direction === 'before' ? 'reservation-reminder' : 'custom-message';
  }
  return STANDARD_KIND[trigger.event] ?? 'custom-message';
}

/** Whether the trigger has a standard message (a kind with texts of Herald's own). */
export function hasStandardMessage(trigger: WorkflowTrigger): boolean {
  return kindOfTrigger(trigger) !== 'custom-message';
}

/** Minutes from the anchor, signed: -1440 = a day before, +60 = an hour after. */
export function triggerOffsetMinutes(trigger: Extract<WorkflowTrigger, { type: 'time' }>): number {
  return trigger.direction === 'before' ? -trigger.minutes : trigger.minutes;
}

/** Time triggers with the same signature run in one job per reservation. */
export function timeSignature(trigger: Extract<WorkflowTrigger, { type: 'time' }>): string {
  return `${trigger.anchor}:${trigger.direction}:${trigger.minutes}`;
}

// Defaults from the settings ----------------------------------------------------------------------------------------

/** The event each standard kind is sent on (the inverse of STANDARD_KIND). */
const EVENT_OF_KIND: Partial<Record<NotificationKind, WorkflowEvent>> = Object.fromEntries(
  Object.entries(STANDARD_KIND)
    .filter(([event]) => !SEPARATE_DEFAULTS.includes(event as WorkflowEvent))
    .map(([event, kind]) => [kind, event]),
);

/**
 * Today's per-kind settings and custom messages as workflows, in a fixed order: per kind, email then SMS; then the
 * reminders per offset and channel; then the custom messages. Ids are stable: `standard:<kind>:<channel>`,
 * `reminder:<minutes>:<channel>`, `custom:<custom message id>`.
 */
export function defaultWorkflows(settings: NotificationSettings): Workflow[] {
  const workflows: Workflow[] = [];
  const recipientsOf = (kind: NotificationKind, channel: SettingsChannel): WorkflowRecipients => {
    const r = settings.kinds[kind].recipients;
    return {
      customer: r.customer,
      resourceStaff: r.resourceStaff,
      admins: r.admins,
      addresses: r.custom ? settings.customRecipients[channel] : [],
    };
  };
  /** The ready-made workflow `standard:<key>:<channel>`: the standard message of `kind` when `event` happens. */
  const standard = (key: string, kind: NotificationKind, event: WorkflowEvent) => {
    for (const channel of SETTINGS_CHANNELS) {
      workflows.push({
        workflowId: `standard:${key}:${channel}`,
        name: `${key} (${channel})`,
        enabled: settings.kinds[kind][channel],
        trigger: { type: 'event', event },
        scope: EVERYWHERE,
        channel,
        message: { type: 'standard' },
        recipients: recipientsOf(kind, channel),
        origin: 'default',
      });
    }
  };
  for (const [kind, event] of Object.entries(EVENT_OF_KIND) as [NotificationKind, WorkflowEvent][]) {
    standard(kind, kind, event);
  }
  // A calendar conflict alerts like any staff alert (the staff-alert switches and recipients), under its own id.
  for (const event of SEPARATE_DEFAULTS) standard(event, STANDARD_KIND[event] ?? 'staff-alert', event);
  for (const channel of SETTINGS_CHANNELS) {
    for (const minutes of settings.reminderOffsets[channel]) {
      workflows.push({
        workflowId: `reminder:${minutes}:${channel}`,
        name: `reminder ${minutes} min before (${channel})`,
        enabled: settings.kinds['reservation-reminder'][channel],
        trigger: { type: 'time', anchor: 'start', direction: 'before', minutes },
        scope: EVERYWHERE,
        channel,
        message: { type: 'standard' },
        recipients: recipientsOf('reservation-reminder', channel),
        origin: 'default',
      });
    }
  }
  for (const custom of settings.customMessages) {
    const event = EVENT_OF_KIND[custom.kind];
    const trigger: WorkflowTrigger =
      custom.kind === 'reservation-reminder'
        ? { type: 'time', anchor: 'start', direction: 'before', minutes: custom.minutesBefore ?? 1440 }
        : { type: 'event', event: event ?? 'reservation-confirmed' };
    // A reminder-kind custom message without its own offset went out with every reminder: one per offset.
    const triggers: WorkflowTrigger[] =
      custom.kind === 'reservation-reminder' && custom.minutesBefore === undefined
        ? [...new Set([...settings.reminderOffsets.email, ...settings.reminderOffsets.sms])].map((minutes) => ({
            type: 'time' as const,
            anchor: 'start' as const,
            direction: 'before' as const,
            minutes,
          }))
        : [trigger];
    for (const [index, each] of triggers.entries()) {
      workflows.push({
        workflowId: triggers.length > 1 ? `custom:${custom.id}:${index}` : `custom:${custom.id}`,
        name: custom.id,
        enabled: true,
        trigger: each,
        scope: EVERYWHERE,
        channel: custom.channel,
        message: {
          type: 'custom',
          ...(custom.subject !== undefined ? { subject: custom.subject } : {}),
          text: custom.text,
        },
        recipients:
          custom.to.type === 'custom'
            ? { customer: false, resourceStaff: false, admins: false, addresses: [custom.to.address] }
            : { customer: true, resourceStaff: false, admins: false, addresses: [] },
        origin: 'default',
      });
    }
  }
  return workflows;
}

/** The custom message a default workflow was derived from (its deliveries keep that message's identity). */
export function customMessageIdOf(workflow: Workflow): string | undefined {
  if (workflow.origin !== 'default' || !workflow.workflowId.startsWith('custom:')) return undefined;
  return workflow.workflowId.slice('custom:'.length).replace(/:\d+$/, '');
}

/**
 * The workflows in force: the defaults derived from the settings, each replaced by the tenant's saved version of it
 * (same id), plus the tenant's own. Saved defaults that the settings no longer derive (a removed offset) stay as
 * they were saved.
 */
export function effectiveWorkflows(settings: NotificationSettings, saved: ReadonlyMap<string, Workflow>): Workflow[] {
  const defaults = defaultWorkflows(settings);
  const ids = new Set(defaults.map((w) => w.workflowId));
  return [
    ...defaults.map((workflow) => saved.get(workflow.workflowId) ?? workflow),
    ...[...saved.values()].filter((workflow) => !ids.has(workflow.workflowId)),
  ];
}

// Matching ------------------------------------------------------------------------------------------------------------

export interface WorkflowSubject {
  readonly serviceId: string | null;
  readonly locationId: string | null;
  readonly resourceId: string | null;
  readonly paid: boolean;
}

export function inScope(scope: WorkflowScope, subject: WorkflowSubject): boolean {
  const matches = (allowed: readonly string[], value: string | null) =>
    allowed.length === 0 || (value !== null && allowed.includes(value));
  return (
    matches(scope.serviceIds, subject.serviceId) &&
    matches(scope.locationIds, subject.locationId) &&
    matches(scope.resourceIds, subject.resourceId) &&
    (scope.payment === 'any' || (scope.payment === 'paid') === subject.paid)
  );
}

/** The enabled workflows an event starts, for this reservation (or waitlist entry). */
export function workflowsForEvent(
  workflows: readonly Workflow[],
  event: WorkflowEvent,
  subject: WorkflowSubject,
  detail: { cancelledBy?: 'customer' | 'staff' } = {},
): Workflow[] {
  return workflows.filter(
    (w) =>
      w.enabled &&
      w.trigger.type === 'event' &&
      w.trigger.event === event &&
      (w.trigger.cancelledBy === undefined || w.trigger.cancelledBy === detail.cancelledBy) &&
      inScope(w.scope, subject),
  );
}

/** The enabled time workflows of one signature that apply to this reservation. */
export function workflowsForTime(
  workflows: readonly Workflow[],
  signature: string,
  subject: WorkflowSubject,
): Workflow[] {
  return workflows.filter(
    (w) =>
      w.enabled && w.trigger.type === 'time' && timeSignature(w.trigger) === signature && inScope(w.scope, subject),
  );
}

/**
 * The distinct time triggers enabled for this reservation: one scheduled job each. A payment condition is not
 * decided here: the reservation may be paid (or refunded) before the trigger's time, so the job is scheduled either
 * way and `workflowsForTime` decides with the payments of that moment.
 */
export function timeTriggersFor(
  workflows: readonly Workflow[],
  subject: WorkflowSubject,
): Extract<WorkflowTrigger, { type: 'time' }>[] {
  const seen = new Map<string, Extract<WorkflowTrigger, { type: 'time' }>>();
  for (const w of workflows) {
    if (!w.enabled || w.trigger.type !== 'time' || !inScope({ ...w.scope, payment: 'any' }, subject)) continue;
    seen.set(timeSignature(w.trigger), w.trigger);
  }
  return [...seen.values()];
}

// Validation ------------------------------------------------------------------------------------------------------

const MAX_MINUTES = 60 * 24 * 60;
const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

function invalid(field: string, message: string): ValidationError {
  return new ValidationError('invalid-workflow', message, { field });
}

function safeText(field: string, value: unknown, kind: 'line' | 'multiline', max: number): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > max) {
    throw invalid(field, `${field} is required (at most ${max} characters).`);
  }
  return requireSafeText(field, value, kind);
}

function ids(field: string, value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > 500 || value.some((v) => typeof v !== 'string' || !ID.test(v))) {
    throw invalid(field, `${field} must be a list of ids.`);
  }
  return [...new Set(value as string[])].sort();
}

/** Checks a workflow as a whole (the text against the trigger's placeholders) and returns it normalised. */
export function validateWorkflow(raw: Workflow): Workflow {
  if (typeof raw.workflowId !== 'string' || !ID.test(raw.workflowId)) {
    throw invalid('workflowId', 'workflowId must be 1-128 letters, digits, ".", "_", ":" or "-".');
  }
  const name = safeText('name', raw.name, 'line', 200);
  if (typeof raw.enabled !== 'boolean') throw invalid('enabled', 'enabled must be true or false.');
  const trigger = validateTrigger(raw.trigger);
  if (!isChannel(raw.channel)) throw invalid('channel', `channel must be one of ${CHANNELS.join(', ')}.`);
  const scopeRaw = (raw.scope ?? {}) as Partial<WorkflowScope>;
  const payment = scopeRaw.payment ?? 'any';
  if (!['any', 'paid', 'unpaid'].includes(payment))
    throw invalid('scope.payment', 'payment must be any, paid or unpaid.');
  const scope: WorkflowScope = {
    serviceIds: ids('scope.serviceIds', scopeRaw.serviceIds),
    locationIds: ids('scope.locationIds', scopeRaw.locationIds),
    resourceIds: ids('scope.resourceIds', scopeRaw.resourceIds),
    payment,
  };
  const message = validateMessage(raw.message, trigger, raw.channel);
  const r = (raw.recipients ?? {}) as Partial<WorkflowRecipients>;
  for (const flag of ['customer', 'resourceStaff', 'admins'] as const) {
    if (r[flag] !== undefined && typeof r[flag] !== 'boolean')
      throw invalid(`recipients.${flag}`, 'must be a boolean.');
  }
  const addresses = r.addresses ?? [];
  if (!Array.isArray(addresses) || addresses.length > 50)
    throw invalid('recipients.addresses', 'at most 50 addresses.');
  for (const address of addresses) {
    if (typeof address !== 'string' || !isValidAddress(raw.channel, address)) {
      throw invalid('recipients.addresses', `${String(address)} is not a valid ${addressDescription(raw.channel)}.`);
    }
  }
  const recipients: WorkflowRecipients = {
    customer: r.customer ?? false,
    resourceStaff: r.resourceStaff ?? false,
    admins: r.admins ?? false,
    addresses: [...new Set(addresses.map((a) => normalizeAddress(raw.channel, a)))],
  };
  if (!recipients.customer && !recipients.resourceStaff && !recipients.admins && recipients.addresses.length === 0) {
    throw invalid('recipients', 'A workflow needs at least one recipient.');
  }
  return {
    workflowId: raw.workflowId,
    name,
    enabled: raw.enabled,
    trigger,
    scope,
    channel: raw.channel,
    message,
    recipients,
    origin:
      raw.workflowId.startsWith('standard:') || raw.workflowId.startsWith('reminder:')
        ? 'default'
        : raw.origin === 'default'
          ? 'default'
          : 'custom',
  };
}

function validateTrigger(raw: WorkflowTrigger | undefined): WorkflowTrigger {
  if (!raw || typeof raw !== 'object') throw invalid('trigger', 'trigger is required.');
  if (raw.type === 'event') {
    if (!(WORKFLOW_EVENTS as readonly string[]).includes(raw.event)) {
      throw invalid('trigger.event', `trigger.event must be one of ${WORKFLOW_EVENTS.join(', ')}.`);
    }
    if (raw.cancelledBy !== undefined) {
      if (raw.event !== 'reservation-cancelled') {
        throw invalid('trigger.cancelledBy', 'cancelledBy applies to reservation-cancelled only.');
      }
      if (raw.cancelledBy !== 'customer' && raw.cancelledBy !== 'staff') {
        throw invalid('trigger.cancelledBy', 'cancelledBy must be customer or staff.');
      }
    }
    return { type: 'event', event: raw.event, ...(raw.cancelledBy ? { cancelledBy: raw.cancelledBy } : {}) };
  }
  if (raw.type === 'time') {
    if (raw.anchor !== 'start' && raw.anchor !== 'end') throw invalid('trigger.anchor', 'anchor must be start or end.');
    if (raw.direction !== 'before' && raw.direction !== 'after') {
      throw invalid('trigger.direction', 'direction must be before or after.');
    }
    if (!Number.isSafeInteger(raw.minutes) || raw.minutes < 1 || raw.minutes > MAX_MINUTES) {
      throw invalid('trigger.minutes', `minutes must be a whole number from 1 to ${MAX_MINUTES}.`);
    }
    return { type: 'time', anchor: raw.anchor, direction: raw.direction, minutes: raw.minutes };
  }
  throw invalid('trigger.type', 'trigger.type must be event or time.');
}

function validateMessage(
  raw: WorkflowMessage | undefined,
  trigger: WorkflowTrigger,
  channel: Channel,
): WorkflowMessage {
  if (!raw || typeof raw !== 'object') throw invalid('message', 'message is required.');
  const kind = kindOfTrigger(trigger);
  switch (raw.type) {
    case 'standard':
      if (!hasStandardMessage(trigger)) {
        throw invalid('message.type', 'This trigger has no standard message: write a custom one.');
      }
      return { type: 'standard' };
    case 'custom': {
      const texts = [{ field: 'message', subject: raw.subject, text: raw.text }];
      const translations: Record<string, { subject?: string; text: string }> = {};
      for (const [language, translation] of Object.entries(raw.translations ?? {})) {
        if (!/^[a-z]{2,3}$/.test(language))
          throw invalid(`message.translations.${language}`, 'a language code such as cs.');
        texts.push({
          field: `message.translations.${language}`,
          subject: translation?.subject,
          text: translation?.text,
        });
        translations[language] = {
          ...(translation.subject !== undefined ? { subject: translation.subject } : {}),
          text: translation.text,
        };
      }
      for (const t of texts) {
        validateCustomTemplate(safeText(`${t.field}.text`, t.text, 'multiline', 4000), kind);
        if (channel === 'email') {
          validateCustomTemplate(safeText(`${t.field}.subject`, t.subject, 'line', 200), kind);
        } else if (t.subject !== undefined) {
          throw invalid(
            `${t.field}.subject`,
            channel === 'sms' ? 'An SMS has no subject.' : `A ${channel} message has no subject.`,
          );
        }
      }
      return {
        type: 'custom',
        ...(raw.subject !== undefined ? { subject: raw.subject } : {}),
        text: raw.text,
        ...(Object.keys(translations).length > 0 ? { translations } : {}),
      };
    }
    case 'external': {
      const systems = EXTERNAL_TEMPLATE_SYSTEMS[channel] ?? {};
      const pattern = systems[raw.system];
      if (pattern === undefined) {
        const known = Object.keys(systems);
        throw invalid(
          'message.system',
          known.length > 0
            ? `The ${channel} channel sends templates of ${known.join(', ')}.`
            : `The ${channel} channel has no provider templates.`,
        );
      }
      if (typeof raw.template !== 'string' || !pattern.test(raw.template)) {
        throw invalid('message.template', `Not a ${raw.system} template id.`);
      }
      if (
        raw.language !== undefined &&
        (typeof raw.language !== 'string' || !/^[a-z]{2,3}(_[A-Z]{2})?$/.test(raw.language))
      ) {
        throw invalid('message.language', 'language must be a code such as en, cs or en_US.');
      }
      const parameters = raw.parameters ?? [];
      if (!Array.isArray(parameters) || parameters.length > 20) {
        throw invalid('message.parameters', 'parameters lists at most 20 placeholder names.');
      }
      for (const [index, name] of parameters.entries()) {
        if (typeof name !== 'string' || !/^[A-Za-z][A-Za-z0-9]{0,63}$/.test(name)) {
          throw invalid(`message.parameters.${index}`, 'a placeholder name such as customerName.');
        }
        validateCustomTemplate(`{{${name}}}`, kind);
      }
      return {
        type: 'external',
        system: raw.system,
        template: raw.template,
        ...(raw.language !== undefined ? { language: raw.language } : {}),
        ...(parameters.length > 0 ? { parameters: [...parameters] } : {}),
      };
    }
    default:
      throw invalid('message.type', 'message.type must be standard, custom or external.');
  }
}
