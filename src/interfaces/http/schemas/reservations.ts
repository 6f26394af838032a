import { z } from 'zod';
import { e164, email, id, instant, line, locale, timeZone } from './common.js';

export const customerSchema = z
  .strictObject({
    id: id.optional(),
    name: line(200).trim().min(1),
    email: email.optional(),
    phone: e164.optional(),
    locale: locale.default('en'),
  })
  .meta({ id: 'Customer' });

export const locationSnapshotSchema = z
  .strictObject({
    name: line(200).trim().min(1),
    address: line(500).trim().min(1),
    timeZone,
  })
  .meta({ id: 'LocationSnapshot' });

/**
 * A reservation reported by another system as final (Herald as the communication layer of an existing booking
 * system). Booking from Herald's own catalog uses `serviceId` instead of `serviceName` and `location`.
 */
export const createReservationSchema = z
  .strictObject({
    reservationId: id.optional().describe('Your id for it; generated when absent.'),
    customer: customerSchema,
    serviceName: line(200).trim().min(1),
    location: locationSnapshotSchema,
    start: instant,
    end: instant,
    partySize: z.number().int().min(1).max(10_000).optional(),
    external: z
      .strictObject({ system: line(100).trim().min(1), reference: line(200).trim().min(1) })
      .optional()
      .describe('The owning system and its reference; the same reference always maps to the same reservation.'),
  })
  .refine((body) => Date.parse(body.end) > Date.parse(body.start), { path: ['end'], message: 'must be after start' })
  .meta({ id: 'CreateReservation' });

/** What a reservation answer and a reservation list item both show, from `source` to `payments`. */
export const reservationViewFields = {
  code: z
    .string()
    .optional()
    .describe('The short code customers read (6 characters); accepted wherever a reservation id is.'),
  source: z.enum(['internal', 'external']),
  customer: z.object({
    id: z.string().optional(),
    name: z.string(),
    email: z.string().optional(),
    phone: z.string().optional(),
    locale: z.string(),
  }),
  serviceId: z.string().nullable(),
  serviceName: z.string(),
  resourceId: z.string().nullable(),
  locationId: z.string().nullable(),
  location: z.object({ name: z.string(), address: z.string(), timeZone: z.string() }),
  start: z.string(),
  end: z.string(),
  partySize: z.number().int(),
  payments: z.array(
    z.object({ paymentId: z.string(), amount: z.number(), currency: z.string(), recordedAt: z.string() }),
  ),
};

export const reservationSchema = z
  .object({
    reservationId: z.string(),
    status: z.string(),
    ...reservationViewFields,
    revision: z.number().int().describe('The ETag value; send it back in If-Match.'),
    holdExpiresAt: z.string().optional().describe('A requested reservation keeps its seats until then.'),
    origin: z
      .object({
        type: z.literal('waitlist'),
        waitlistId: z.string(),
        entryId: z.string(),
        offerId: z.string(),
        mode: z.enum(['offer', 'assign']),
      })
      .optional()
      .describe('Came from the waitlist: the entry and offer it was booked from.'),
  })
  .meta({ id: 'Reservation' });

/** A transition that freed seats: the reservation, and who on the slot's waitlist got them. */
export const freedReservationSchema = reservationSchema
  .extend({
    waitlist: z
      .array(
        z.object({
          waitlistId: z.string(),
          allocated: z.array(
            z.object({
              entryId: z.string(),
              offerId: z.string(),
              reservationId: z.string(),
              resourceId: z.string(),
              seats: z.number().int(),
              mode: z.enum(['offer', 'assign']),
              expiresAt: z.string().nullable(),
              customerName: z.string(),
            }),
          ),
          exhausted: z.boolean(),
          skipped: z.enum(['no-waitlist', 'disabled', 'service-unavailable', 'nothing-to-allocate']).optional(),
        }),
      )
      .optional()
      .describe('What the freed seats went to: an offer, an assignment, or back to public availability.'),
  })
  .meta({ id: 'FreedReservation' });

export const deliverySchema = z
  .object({
    notificationId: z.string(),
    kind: z.string(),
    channel: z.enum(['email', 'sms']),
    recipientType: z.string(),
    maskedRecipient: z.string().nullable(),
    summary: z.string().nullable(),
    status: z.string(),
    skipReason: z.string().nullable(),
    smsEncoding: z.string().nullable(),
    smsParts: z.number().nullable(),
    cost: z.number(),
    attempts: z.number(),
    providerMessageId: z.string().nullable(),
    lastError: z.string().nullable(),
    causationEventId: z.string(),
    requestedAt: z.string(),
    sentAt: z.string().nullable(),
    deliveredAt: z.string().nullable(),
    latencyToSentMs: z.number().nullable(),
    history: z.array(
      z.object({
        status: z.string(),
        at: z.string(),
        eventId: z.string(),
        attempt: z.number().optional(),
        detail: z.string().optional(),
      }),
    ),
  })
  .meta({ id: 'Delivery' });
