import { z } from 'zod';
import { CANCELLED_BY } from '../../../domain/booking/reservation.decider.js';
import { id, line } from './common.js';
import { createReservationSchema, customerSchema, reservationViewFields } from './reservations.js';

// Instants are plain strings here on purpose: the domain checks them and answers 400 naming the rule
// (`instant-with-zone` for a time without a zone, `in-the-past`, `outside-working-hours`...).
const instantText = z.string().max(64).describe('ISO-8601 instant with Z or an offset, e.g. 2030-06-03T09:00:00+02:00');

/** Booking a slot of a catalog service (POST /v1/reservations with `serviceId`). */
export const bookReservationSchema = z
  .strictObject({
    reservationId: id.optional().describe('Your id for it; generated when absent. Sending it again is harmless.'),
    serviceId: id,
    resourceId: id.optional().describe('When absent, the first of the service’s resources that has the seats.'),
    start: instantText,
    partySize: z.number().int().min(1).max(10_000).optional().describe('Default 1.'),
    customer: customerSchema,
    bypassWaitlist: z
      .boolean()
      .optional()
      .describe('Staff only: book seats that belong to the waitlist’s line (a walk-in), on purpose.'),
  })
  .meta({ id: 'BookReservation' });

/** POST /v1/reservations takes either shape; `serviceId` tells them apart. */
export const reservationPostSchema = z.union([bookReservationSchema, createReservationSchema]);

export function isBooking(body: unknown): body is z.infer<typeof bookReservationSchema> {
  return typeof body === 'object' && body !== null && 'serviceId' in body;
}

const reason = line(1000).optional();
const bypassWaitlist = z
  .boolean()
  .optional()
  .describe('Admin only: free the seats without handing them to the slot’s waitlist.');

export const cancelSchema = z
  .strictObject({ by: z.enum(CANCELLED_BY).describe('Who asked for it.'), reason, bypassWaitlist })
  .meta({ id: 'CancelReservation' });
export const reasonSchema = z.strictObject({ reason }).meta({ id: 'Reason' });
export const freeingSchema = z.strictObject({ reason, bypassWaitlist }).meta({ id: 'FreeSeats' });
export const rescheduleSchema = z
  .strictObject({
    start: instantText,
    resourceId: id.optional().describe('Default: the current resource.'),
    reason,
  })
  .meta({ id: 'RescheduleReservation' });
export const paymentSchema = z
  .strictObject({
    paymentId: id.describe('The payment provider’s id; recording it twice is harmless.'),
    amount: z.number().int().min(1).describe('In the currency’s minor unit (cents, øre).'),
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as NOK')
      .describe('ISO 4217, e.g. NOK'),
  })
  .meta({ id: 'RecordPayment' });

export const reservationListQuery = z.strictObject({
  status: z.string().max(200).optional().describe('One status or several, comma-separated.'),
  from: z.string().max(64).optional().describe('Reservations starting at or after this instant.'),
  to: z.string().max(64).optional().describe('... and before this one.'),
  customer: z.string().max(254).optional().describe('Customer id, email or E.164 phone.'),
  serviceId: id.optional(),
  resourceId: id.optional(),
  locationId: id.optional(),
  cursor: z.string().max(1000).optional().describe('nextCursor of the previous page.'),
  limit: z.coerce.number().int().min(1).max(200).optional().describe('Default 50.'),
});

export const reservationListItemSchema = z
  .object({
    reservationId: z.string(),
    status: z.string(),
    statusReason: z.string().optional(),
    ...reservationViewFields,
    revision: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'ReservationListItem' });

export const reservationPageSchema = z
  .object({ items: z.array(reservationListItemSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'ReservationPage' });

export const historySchema = z
  .object({
    reservationId: z.string(),
    revision: z.number().int(),
    events: z.array(
      z.object({
        eventId: z.string(),
        revision: z.number().int(),
        type: z.string(),
        data: z.record(z.string(), z.unknown()),
        metadata: z.object({
          actor: z.string().nullable(),
          causationId: z.string().nullable(),
          correlationId: z.string().nullable(),
        }),
        recordedAt: z.string(),
      }),
    ),
  })
  .meta({ id: 'ReservationHistory' });

export const availabilityQuerySchema = z.strictObject({
  serviceId: id,
  from: z.string().max(64).describe('Slots starting at or after this instant.'),
  to: z.string().max(64).describe('... and before this one (at most 93 days later).'),
  resourceId: id.optional(),
  locationId: id.optional(),
  partySize: z.coerce.number().int().min(1).max(10_000).optional().describe('Default 1.'),
  includeFull: z
    .enum(['true', 'false'])
    .optional()
    .transform((value) => value === 'true')
    .describe('Also list slots without enough free seats (to offer the waitlist).'),
});

export const availabilitySchema = z
  .object({
    serviceId: z.string(),
    locationId: z.string(),
    timeZone: z.string(),
    slots: z.array(
      z.object({
        resourceId: z.string(),
        start: z.string(),
        end: z.string(),
        localStart: z.string(),
        capacity: z.number().int(),
        remainingSeats: z.number().int(),
      }),
    ),
  })
  .meta({ id: 'Availability' });
