import { z } from 'zod';
import { CHANNELS, CUSTOMER_BLOCKABLE_KINDS, type NotificationKind } from '../../../domain/notification/index.js';
import { e164, email, id, line, locale } from './common.js';
import { availabilitySchema } from './booking.js';

const minutes = z
  .int()
  .min(0)
  .max(60 * 24 * 60);
const rule = z.strictObject({
  allowed: z.boolean(),
  untilMinutesBefore: minutes.describe('Until this many minutes before the start.'),
});

export const selfServiceSettingsSchema = z
  .strictObject({
    bookingPage: z
      .strictObject({ enabled: z.boolean() })
      .describe('The public booking page /book/<tenant> and its API. Off until switched on.'),
    cancellation: rule.describe('Customers cancelling from their own page.'),
    reschedule: rule.describe('Customers moving to another slot of the same service from their own page.'),
  })
  .meta({ id: 'SelfServiceSettings' });

// The public booking page --------------------------------------------------------------------------------------------

export const tenantParams = z.object({ tenantId: id });

const locationView = z.object({
  locationId: z.string(),
  name: z.string(),
  address: z.string(),
  timeZone: z.string(),
});

export const bookingPageSchema = z
  .object({
    tenantId: z.string(),
    name: z.string(),
    defaultLocale: z.string(),
    services: z.array(
      z.object({
        serviceId: z.string(),
        name: z.string(),
        description: z.string(),
        durationMinutes: z.int(),
        maxPartySize: z.int(),
        location: locationView,
      }),
    ),
  })
  .meta({ id: 'BookingPage' });

export const publicAvailabilityQuery = z.strictObject({
  serviceId: id,
  from: z.string().max(64).describe('Slots starting at or after this instant.'),
  to: z.string().max(64).describe('... and before this one (at most 31 days later).'),
  partySize: z.coerce.number().int().min(1).max(100).optional().describe('Default 1.'),
});

export { availabilitySchema };

/** A customer who books on the public page: a name, a way to reach them and their language; nothing else. */
export const publicCustomerSchema = z
  .strictObject({
    name: line(200).trim().min(1),
    email: email.optional(),
    phone: e164.optional(),
    locale: locale.describe('The language of their messages and pages, e.g. cs-CZ.'),
  })
  .refine((customer) => customer.email !== undefined || customer.phone !== undefined, {
    message: 'give an email address, a phone number or both',
    path: ['email'],
  })
  .meta({ id: 'PublicCustomer' });

export const publicBookingSchema = z
  .strictObject({
    requestId: z
      .uuid()
      .describe('A random UUID the page makes per booking attempt: sending the same request again is harmless.'),
    serviceId: id,
    start: z.string().max(64).describe('The slot’s start, as availability gave it.'),
    partySize: z.int().min(1).max(100).optional().describe('Default 1.'),
    customer: publicCustomerSchema,
  })
  .meta({ id: 'PublicBooking' });

export const publicWaitlistJoinSchema = z
  .strictObject({
    serviceId: id,
    start: z.string().max(64),
    partySize: z.int().min(1).max(100).optional(),
    customer: publicCustomerSchema,
  })
  .meta({ id: 'PublicWaitlistJoin' });

// What the customer sees ----------------------------------------------------------------------------------------------

export const customerReservationSchema = z
  .object({
    reservationId: z.string(),
    code: z.string().nullable().describe('The short code the customer reads and quotes.'),
    status: z.string(),
    serviceId: z.string().nullable(),
    serviceName: z.string(),
    location: z.object({ name: z.string(), address: z.string(), timeZone: z.string() }),
    start: z.string(),
    end: z.string(),
    partySize: z.int(),
    customer: z.object({
      name: z.string(),
      email: z.string().nullable().describe('Masked.'),
      phone: z.string().nullable().describe('Masked.'),
      locale: z.string(),
    }),
  })
  .meta({ id: 'CustomerReservation' });

export const customerWaitlistEntrySchema = z
  .object({
    waitlistId: z.string(),
    entryId: z.string(),
    status: z.string(),
    position: z.int().nullable().describe('1 = next in line; null when not waiting any more.'),
    partySize: z.int(),
    joinedAt: z.string(),
    slot: z.object({
      serviceName: z.string(),
      location: z.object({ name: z.string(), address: z.string(), timeZone: z.string() }),
      start: z.string(),
      end: z.string(),
    }),
    offer: z
      .object({ status: z.string(), mode: z.string(), expiresAt: z.string().nullable(), reservationId: z.string() })
      .nullable(),
    reservationId: z.string().nullable(),
  })
  .meta({ id: 'CustomerWaitlistEntry' });

const blockableKind = z.enum(CUSTOMER_BLOCKABLE_KINDS as [NotificationKind, ...NotificationKind[]]);

export const customerPageSchema = z
  .object({
    kind: z.enum(['reservation', 'waitlist-entry']),
    tenant: z.object({ tenantId: z.string(), name: z.string() }),
    language: z.string().describe('en, cs or nb: the customer’s.'),
    reservation: customerReservationSchema.nullable(),
    waitlistEntry: customerWaitlistEntrySchema.nullable(),
    rules: z.object({
      cancelUntil: z.string().nullable().describe('Until when the customer may cancel it here; null: not here.'),
      rescheduleUntil: z.string().nullable().describe('Until when the customer may move it here; null: not here.'),
    }),
    messages: z.array(
      z.object({
        kind: z.string(),
        channel: z.enum(CHANNELS),
        status: z.string(),
        requestedAt: z.string(),
        sentAt: z.string().nullable(),
        deliveredAt: z.string().nullable(),
      }),
    ),
    preferences: z
      .object({
        blocked: z.object({ email: z.array(z.string()), sms: z.array(z.string()) }),
        smsOptedOut: z.boolean(),
        blockableKinds: z.array(z.string()),
      })
      .nullable(),
    telegram: z
      .object({
        linked: z.boolean().describe('Messages on Telegram go to a chat the customer linked.'),
        startLink: z
          .string()
          .nullable()
          .describe(
            'https://t.me/<bot>?start=<token>: opening it and pressing Start links the customer’s chat (the token ' +
              'is signed for this customer and runs out within an hour); null when no link can be made.',
          ),
      })
      .nullable()
      .describe('Null: the tenant has no Telegram bot customers can link.'),
  })
  .meta({ id: 'CustomerOwnPage' });

export const customerCancelSchema = z
  .strictObject({ reason: line(500).optional() })
  .nullish()
  .meta({ id: 'CustomerCancel' });

export const customerRescheduleSchema = z
  .strictObject({ start: z.string().max(64).describe('A slot’s start from the reschedule options.') })
  .meta({ id: 'CustomerReschedule' });

export const customerSlotsQuery = z.strictObject({
  from: z.string().max(64),
  to: z.string().max(64).describe('At most 31 days after from.'),
});

export const customerPreferencesChangeSchema = z
  .strictObject({
    blocked: z
      .strictObject({ email: z.array(blockableKind).max(20), sms: z.array(blockableKind).max(20) })
      .optional()
      .describe('The kinds of message the customer does not want, per channel.'),
    smsOptedOut: z.boolean().optional().describe('No SMS at all (true), or SMS again (false).'),
  })
  .refine((body) => body.blocked !== undefined || body.smsOptedOut !== undefined, {
    message: 'send blocked, smsOptedOut or both',
  })
  .meta({ id: 'CustomerPreferencesChangeBySelf' });

export const publicBookingAnswerSchema = z
  .object({
    reservation: customerReservationSchema,
    customerPageUrl: z.string().describe('The customer’s own page of this reservation (a signed link).'),
    customerToken: z.string(),
  })
  .meta({ id: 'PublicBookingAnswer' });

export const publicWaitlistAnswerSchema = z
  .object({
    waitlistEntry: customerWaitlistEntrySchema,
    customerPageUrl: z.string(),
    customerToken: z.string(),
  })
  .meta({ id: 'PublicWaitlistAnswer' });
