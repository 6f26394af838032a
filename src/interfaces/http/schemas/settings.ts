import { z } from 'zod';
import {
  CHANNELS,
  customTemplateFields,
  CUSTOMER_BLOCKABLE_KINDS,
  DELIVERY_KINDS,
  isValidAddress,
  NOTIFICATION_KINDS,
  validateCustomTemplate,
  validateNotificationSettings,
  type DeliveryKind,
  type NotificationKind,
  type NotificationSettings,
} from '../../../domain/notification/index.js';
import { DomainError } from '../../../domain/shared/errors.js';
import { deliverySchema } from './reservations.js';
import { e164, email, id, instant, line, locale, multiline } from './common.js';

// ---------------------------------------------------------------------------------------------------------------
// Notification settings

const kindSettingsSchema = z.strictObject({
  email: z.boolean(),
  sms: z.boolean(),
  recipients: z.strictObject({
    customer: z.boolean(),
    resourceStaff: z.boolean(),
    admins: z.boolean(),
    custom: z.boolean(),
  }),
});

/** Kinds added after the first release may be left out of a document: they keep their default. */
const LATER_KINDS: readonly NotificationKind[] = ['waitlist-joined', 'waitlist-offer-expired', 'custom-message'];
const kindsShape = Object.fromEntries(
  NOTIFICATION_KINDS.map((kind) => [
    kind,
    LATER_KINDS.includes(kind) ? kindSettingsSchema.optional() : kindSettingsSchema,
  ]),
) as Record<NotificationKind, typeof kindSettingsSchema>;

const MAX_OFFSET = 60 * 24 * 60;
const offsets = z
  .array(z.int().min(1, 'must be at least 1 minute').max(MAX_OFFSET, `must be at most ${MAX_OFFSET} minutes (60 days)`))
  .max(10);
const price = z.int('must be a whole number of credits').min(0, 'must be zero or more');

const customMessageSchema = z.strictObject({
  id,
  kind: z.enum(NOTIFICATION_KINDS),
  channel: z.enum(CHANNELS),
  subject: line(300).optional().describe('Email only (required there); may use {{placeholders}}.'),
  text: multiline(1600).min(1).describe('May use {{placeholders}}: the fields of the kind.'),
  to: z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('customer') }),
    z.strictObject({ type: z.literal('custom'), address: z.string().trim().min(1).max(254) }),
  ]),
  minutesBefore: z
    .int()
    .min(1)
    .max(MAX_OFFSET)
    .optional()
    .describe('reservation-reminder only: minutes before the start at which this message goes out.'),
});

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM');
const quietWindow = z.strictObject({ start: hhmm, end: hhmm }).nullable();
const quietWindows = z.strictObject({ email: quietWindow.optional(), sms: quietWindow.optional() });

const settingsShape = z.strictObject({
  channels: z.strictObject({ email: z.boolean(), sms: z.boolean() }).describe('Master switch per channel.'),
  kinds: z.strictObject(kindsShape).describe('Per kind: channels on or off, and who receives it.'),
  reminderOffsets: z.strictObject({ email: offsets, sms: offsets }).describe('Minutes before the start, per channel.'),
  customRecipients: z
    .strictObject({ email: z.array(email).max(50), sms: z.array(e164).max(50) })
    .describe('Extra recipients of kinds whose recipients.custom is on.'),
  sender: z.strictObject({
    name: line(200).trim().min(1),
    address: email,
  }),
  footer: multiline(4000).optional().describe('Appended to every customer email.'),
  defaultLocale: locale,
  prices: z
    .strictObject({ smsPerPart: price, emailManual: price, emailAutomatic: price, emailBulk: price.optional() })
    .describe(
      'Credits per SMS part (every SMS: automatic, hand-sent, bulk), per hand-sent email, per automatic email, and ' +
        'per email of a bulk message (default: the hand-sent price).',
    ),
  customMessages: z.array(customMessageSchema).max(50),
  admins: z
    .array(
      z.strictObject({ id: id.optional(), email: email.optional(), phone: e164.optional(), locale: locale.optional() }),
    )
    .max(50)
    .optional()
    .describe('The tenant admins: recipients of staff alerts (kinds with recipients.admins).'),
  quietHours: z
    .strictObject({
      channels: quietWindows.describe('The tenant’s windows per channel.'),
      locations: z
        .record(id, quietWindows)
        .optional()
        .describe('Per location: replaces the tenant’s window of a channel (null: no quiet hours there).'),
      exemptCustomerActions: z
        .boolean()
        .describe(
          'Messages caused by the customer’s own action (booking, cancelling, joining a waitlist) go out anyway.',
        ),
    })
    .optional()
    .describe(
      'Windows (wall clock of the location) in which customers are sent nothing on a channel, e.g. no SMS 21:00–08:00: ' +
        'a message due inside is deferred to their end, or skipped (recorded) when that is after the start.',
    ),
  reservationPdf: z
    .boolean()
    .optional()
    .describe(
      "Attach the reservation's PDF (its short code as text and QR code, and its details) to the customer's " +
        'confirmation, seat-assigned and rescheduled emails. Default false.',
    ),
});

type Issue = { path: (string | number)[]; message: string };

/** `customMessages[0].to.address` -> ['customMessages', 0, 'to', 'address'] */
function pathOf(field: string): (string | number)[] {
  return field
    .split(/[.[\]]+/)
    .filter((part) => part !== '')
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

/** The rules beyond the shape, with the path of the field they concern. */
function settingsIssues(settings: NotificationSettings): Issue[] {
  const issues: Issue[] = [];
  settings.customMessages.forEach((message, index) => {
    const at = (...rest: (string | number)[]) => ['customMessages', index, ...rest];
    for (const [field, text] of [
      ['text', message.text],
      ['subject', message.subject],
    ] as const) {
      if (text === undefined) continue;
      try {
        validateCustomTemplate(text, message.kind);
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        const allowed =
          error.code === 'unknown-template-field' ? ` Allowed: ${customTemplateFields(message.kind).join(', ')}.` : '';
        issues.push({ path: at(field), message: `${error.message}${allowed}` });
      }
    }
    if (message.channel === 'email' && (message.subject ?? '').trim() === '') {
      issues.push({ path: at('subject'), message: 'an email needs a subject' });
    }
    if (message.channel === 'sms' && message.subject !== undefined)
      issues.push({ path: at('subject'), message: 'an SMS has no subject' });
    if (message.to.type === 'custom' && !isValidAddress(message.channel, message.to.address)) {
      issues.push({
        path: at('to', 'address'),
        message:
          message.channel === 'email'
            ? 'must be an email address'
            : 'must be an E.164 phone number, e.g. +420777123456',
      });
    }
    if (message.minutesBefore !== undefined && message.kind !== 'reservation-reminder') {
      issues.push({ path: at('minutesBefore'), message: 'only reservation-reminder messages have minutesBefore' });
    }
  });
  const ids = settings.customMessages.map((message) => message.id);
  ids.forEach((messageId, index) => {
    if (ids.indexOf(messageId) !== index)
      issues.push({ path: ['customMessages', index, 'id'], message: `duplicate id ${messageId}` });
  });
  if (issues.length > 0) return issues;
  // The decider validates again when the change is recorded; checking here names the field in the 400.
  try {
    validateNotificationSettings(settings);
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    const field = typeof error.details.field === 'string' ? error.details.field : '';
    issues.push({ path: pathOf(field), message: error.message });
  }
  return issues;
}

/** The whole settings document, as PUT takes it and GET returns it. */
export const notificationSettingsSchema = settingsShape
  .superRefine((settings, ctx) => {
    for (const issue of settingsIssues(settings as NotificationSettings)) ctx.addIssue({ code: 'custom', ...issue });
  })
  .meta({ id: 'NotificationSettings' });

export const notificationSettingsViewSchema = settingsShape.meta({ id: 'NotificationSettingsView' });

// ---------------------------------------------------------------------------------------------------------------
// Customer preferences

const blockableKind = z.enum(CUSTOMER_BLOCKABLE_KINDS as [DeliveryKind, ...DeliveryKind[]]);

export const preferencesChangeSchema = z
  .strictObject({
    blocked: z
      .strictObject({
        email: z.array(blockableKind).max(20).optional(),
        sms: z.array(blockableKind).max(20).optional(),
      })
      .optional()
      .describe('Kinds the customer does not want, per channel. A channel left out keeps its list.'),
    smsOptedOut: z.boolean().optional().describe('Opt the customer out of all SMS (true) or back in (false).'),
  })
  .refine((body) => body.blocked !== undefined || body.smsOptedOut !== undefined, {
    message: 'send blocked, smsOptedOut or both',
  })
  .meta({ id: 'CustomerPreferencesChange' });

export const preferencesSchema = z
  .object({
    customerRef: z.string(),
    blocked: z.object({ email: z.array(z.string()), sms: z.array(z.string()) }),
    smsOptedOut: z.boolean(),
    changedAt: z.string().nullable(),
    smsOptOutChangedAt: z.string().nullable(),
  })
  .meta({ id: 'CustomerPreferences' });

export const customerLookupQuerySchema = z
  .strictObject({ email: email.optional(), phone: e164.optional() })
  .refine((q) => (q.email === undefined) !== (q.phone === undefined), {
    message: 'give exactly one of email or phone',
  });

export const customerLookupSchema = z
  .object({
    items: z.array(
      z.object({
        customerRef: z.string(),
        customerId: z.string().nullable(),
        name: z.string(),
        reservations: z.number().int(),
      }),
    ),
    derivedCustomerRef: z
      .string()
      .describe('The ref of a customer known only by this address (no customer id from the booking system).'),
  })
  .meta({ id: 'CustomerLookup' });

// ---------------------------------------------------------------------------------------------------------------
// Credits

export const topUpSchema = z
  .strictObject({
    topUpId: id.describe('Your id for the top-up (an invoice or payment id): the same top-up twice is recorded once.'),
    amount: z.int().min(1, 'must be at least 1').max(100_000_000),
  })
  .meta({ id: 'CreditTopUp' });

export const creditsSchema = z
  .object({
    balance: z.number().int(),
    prices: z.object({
      smsPerPart: z.number(),
      emailManual: z.number(),
      emailAutomatic: z.number(),
      emailBulk: z.number().optional(),
    }),
    lowBalanceThreshold: z
      .number()
      .int()
      .nullable()
      .describe('Admins are alerted once when the balance falls below it; a top-up above it re-arms the alert.'),
    lowBalance: z.boolean().describe('The balance fell below the threshold and has not been topped up above it.'),
    entries: z.array(
      z.object({
        type: z.enum(['charge', 'refund', 'top-up']),
        amount: z.number(),
        balanceAfter: z.number(),
        at: z.string(),
        deliveryId: z.string().optional(),
        topUpId: z.string().optional(),
        by: z.string().optional(),
        reason: z.string().optional(),
      }),
    ),
  })
  .meta({ id: 'Credits' });

// ---------------------------------------------------------------------------------------------------------------
// Deliveries

const limit = (max: number, fallback: number) => z.coerce.number().int().min(1).max(max).default(fallback);
const cursor = z.string().max(600).optional().describe('nextCursor of the previous page.');

export const deliveryListQuerySchema = z.strictObject({
  status: z
    .enum([
      'requested',
      'sending',
      'retrying',
      'sent',
      'delivered',
      'undelivered',
      'bounced',
      'failed',
      'dead-lettered',
      'skipped',
    ])
    .optional(),
  channel: z.enum(CHANNELS).optional(),
  kind: z.enum(DELIVERY_KINDS as [DeliveryKind, ...DeliveryKind[]]).optional(),
  reservationId: id.optional(),
  customerId: id.optional(),
  campaignId: id.optional().describe("A campaign's deliveries: one per recipient and channel."),
  from: instant.optional().describe('requestedAt at or after'),
  to: instant.optional().describe('requestedAt before'),
  cursor,
  limit: limit(200, 50),
});

export const deliveryRecordSchema = deliverySchema
  .extend({
    reservationId: z.string().nullable(),
    customerId: z.string().nullable(),
    workflowId: z.string().nullable().describe('The workflow that planned it; null for messages staff wrote.'),
    campaignId: z.string().nullable().optional().describe('The campaign (bulk message) it belongs to.'),
    causedAt: z.string().nullable(),
    notBefore: z.string().nullable().describe('Deferred to the end of quiet hours: not sent before this time.'),
    finishedAt: z.string().nullable(),
    latencyToDeliveredMs: z.number().nullable(),
  })
  .meta({ id: 'DeliveryRecord' });

export const deliveryListSchema = z
  .object({ items: z.array(deliveryRecordSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'DeliveryList' });

export const auditEntrySchema = z
  .object({
    eventId: z.string(),
    type: z.string(),
    at: z.string(),
    recordedAt: z.string(),
    position: z.string(),
    actor: z.string().nullable(),
    causationId: z.string().nullable(),
    correlationId: z.string().nullable(),
    detail: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'DeliveryAuditEntry' });

export const deliveryDetailSchema = deliveryRecordSchema
  .extend({ audit: z.array(auditEntrySchema) })
  .meta({ id: 'DeliveryDetail' });

export const resendResultSchema = z
  .object({ notificationId: z.string(), status: z.string(), round: z.number().int(), charged: z.number().int() })
  .meta({ id: 'ResendResult' });

export const sentSmsQuerySchema = z.strictObject({
  from: instant.optional().describe('accepted by the provider at or after'),
  to: instant.optional().describe('accepted by the provider before'),
  cursor,
  limit: limit(500, 100),
});

export const sentSmsSchema = z
  .object({
    items: z.array(
      z.object({
        notificationId: z.string(),
        reservationId: z.string().nullable(),
        kind: z.string(),
        recipientType: z.string(),
        maskedRecipient: z.string().nullable(),
        parts: z.number().nullable(),
        encoding: z.string().nullable(),
        cost: z.number(),
        status: z.string(),
        providerMessageId: z.string().nullable(),
        sentAt: z.string(),
        deliveredAt: z.string().nullable(),
      }),
    ),
    nextCursor: z.string().nullable(),
  })
  .meta({ id: 'SentSmsLog' });
