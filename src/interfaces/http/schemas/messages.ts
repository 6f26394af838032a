import { z } from 'zod';
import { id, instant, line, multiline } from './common.js';

const channel = z.enum(['email', 'sms']);

export const placeholdersNote =
  'Texts may use {{customerName}}, {{senderName}} and, for a message about a reservation, {{reservationCode}}, ' +
  '{{reservationId}}, {{serviceName}}, {{locationName}}, {{locationAddress}}, {{start}}, {{end}}, {{date}}, {{time}} ' +
  "(in the customer's language and the location's time zone).";

export const manualMessageSchema = z
  .strictObject({
    channel,
    to: z.union([
      z.strictObject({ customerRef: id }).describe('A customer of the customers list: their email or phone.'),
      z
        .strictObject({ reservationId: id.describe('The reservation id or its short code.') })
        .describe('The customer of one reservation; the reservation fills the placeholders.'),
    ]),
    subject: line(300).trim().min(1).optional().describe('Email only (required for email).'),
    text: multiline(20_000).trim().min(1).describe('The message, with placeholders.'),
    messageId: id.optional().describe('Your id of this message: the same id is the same message, never sent twice.'),
    attachReservationPdf: z
      .boolean()
      .optional()
      .describe("An email to a reservation's customer: attach the reservation's PDF (code, QR code, details)."),
  })
  .refine((body) => body.channel === 'sms' || body.subject !== undefined, {
    path: ['subject'],
    message: 'an email needs a subject',
  })
  .refine((body) => body.channel === 'email' || body.subject === undefined, {
    path: ['subject'],
    message: 'an SMS has no subject',
  })
  .meta({ id: 'ManualMessage' });

export const manualMessageResultSchema = z
  .object({
    messageId: z.string().describe('The delivery id: GET /v1/deliveries/{messageId} shows its audit trail.'),
    channel,
    status: z.string(),
    kind: z.string(),
    maskedRecipient: z.string().nullable(),
    reservationId: z.string().nullable(),
    customerRef: z.string().nullable(),
    cost: z.number().int(),
    sms: z.object({ encoding: z.string(), parts: z.number().int() }).nullable(),
  })
  .meta({ id: 'ManualMessageResult' });

const audienceSchema = z
  .discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('reservations'),
      filter: z.strictObject({
        serviceId: id.optional(),
        locationId: id.optional(),
        resourceId: id.optional(),
        from: instant.optional().describe('Reservations starting at or after.'),
        to: instant.optional().describe('... and before.'),
        status: z
          .array(
            z.enum(['requested', 'confirmed', 'cancelled', 'declined', 'deleted', 'not-taken', 'completed', 'expired']),
          )
          .max(8)
          .optional()
          .describe('Default: every status.'),
      }),
    }),
    z.strictObject({
      type: z.literal('customers'),
      filter: z.strictObject({
        query: line(200).optional(),
        tag: line(50).optional(),
        lastVisitBefore: instant.optional(),
        lastVisitAfter: instant.optional(),
        minReservations: z.number().int().min(0).max(1_000_000).optional(),
      }),
    }),
  ])
  .describe('Who: the customers of the reservations that match (each once), or the customers that match.');

const bulkMessageSchema = z
  .strictObject({
    email: z.strictObject({ subject: line(300).trim().min(1), text: multiline(20_000).trim().min(1) }).optional(),
    sms: z.strictObject({ text: multiline(1_600).trim().min(1) }).optional(),
  })
  .refine((message) => message.email !== undefined || message.sms !== undefined, {
    message: 'give an email or an sms text, or both',
  })
  .describe('The text per channel; a campaign sends on the channels it has a text for.');

export const bulkPreviewSchema = z
  .strictObject({ audience: audienceSchema, message: bulkMessageSchema })
  .meta({ id: 'BulkMessagePreviewRequest' });

export const bulkPreviewResultSchema = z
  .object({
    matched: z.number().int().describe('Distinct customers the filter matched.'),
    unreachable: z.number().int().describe('Matching reservations whose customer has neither id, email nor phone.'),
    channels: z.record(
      z.string(),
      z.object({
        recipients: z.number().int(),
        excluded: z.number().int(),
        parts: z.number().int().optional(),
        credits: z.number().int(),
      }),
    ),
    credits: z.object({ total: z.number().int(), balance: z.number().int(), sufficient: z.boolean() }),
    excluded: z.array(
      z.object({
        customerRef: z.string(),
        name: z.string(),
        channel,
        reason: z.enum(['missing-contact', 'invalid-contact', 'opted-out', 'blocked-by-customer']),
      }),
    ),
    excludedTotal: z.number().int(),
    sample: z.record(z.string(), z.object({ subject: z.string().optional(), text: z.string() })),
  })
  .meta({ id: 'BulkMessagePreview' });

export const campaignCreateSchema = z
  .strictObject({
    campaignId: id.optional().describe('Your id for it: the same id and body again answers the same campaign.'),
    name: line(200).trim().min(1),
    audience: audienceSchema,
    message: bulkMessageSchema,
  })
  .meta({ id: 'CampaignCreate' });

const progressSchema = z.object({
  recipients: z.number().int(),
  processed: z.number().int().describe('Recipients whose delivery on this channel was requested or skipped.'),
  requested: z.number().int(),
  skipped: z.number().int(),
  throttlePerSecond: z.number().int().nullable(),
  nextBatchAt: z.string().nullable(),
  deliveries: z.record(z.string(), z.number().int()).describe('The deliveries by status, as the audit trail has them.'),
});

export const campaignSchema = z
  .object({
    campaignId: z.string(),
    name: z.string(),
    status: z.enum(['preparing', 'running', 'completed', 'cancelled']),
    audience: z.record(z.string(), z.unknown()),
    channels: z.array(channel),
    recipientCount: z.number().int(),
    progress: z.record(z.string(), progressSchema),
    createdAt: z.string(),
    createdBy: z.string(),
    startedAt: z.string().nullable(),
    completedAt: z.string().nullable(),
    cancelledAt: z.string().nullable(),
    revision: z.number().int(),
  })
  .meta({ id: 'Campaign' });

export const campaignListSchema = z
  .object({
    items: z.array(
      z.object({
        campaignId: z.string(),
        name: z.string(),
        status: z.string(),
        channels: z.array(z.string()),
        recipientCount: z.number().int(),
        createdAt: z.string(),
        completedAt: z.string().nullable(),
        cancelledAt: z.string().nullable(),
      }),
    ),
  })
  .meta({ id: 'CampaignList' });

export const campaignCancelSchema = z.strictObject({ reason: line(500).optional() }).meta({ id: 'CampaignCancel' });
