import { z } from 'zod';
import { instant, line } from './common.js';

export const customerListQuery = z.strictObject({
  query: line(200)
    .optional()
    .describe(
      'Words of the name (any of their beginnings), an email or its beginning, a phone number or its last digits.',
    ),
  tag: line(50).optional().describe('Customers with this tag (any case).'),
  lastVisitBefore: instant.optional().describe('Customers whose last visit was before this instant.'),
  lastVisitAfter: instant.optional().describe('Customers whose last visit was at or after this instant.'),
  minReservations: z.coerce.number().int().min(0).max(1_000_000).optional(),
  cursor: z.string().max(1000).optional().describe('nextCursor of the previous page.'),
  limit: z.coerce.number().int().min(1).max(500).optional().describe('Default 50.'),
});

export const customerProfileSchema = z
  .object({
    customerRef: z.string().describe('The id messages and preferences are kept under.'),
    customerId: z.string().nullable().describe("The booking system's customer id, when it sends one."),
    name: z.string().nullable(),
    email: z.string().nullable(),
    phone: z.string().nullable(),
    locale: z.string().nullable(),
    tags: z.array(z.string()),
    preferences: z.object({
      blocked: z.object({ email: z.array(z.string()), sms: z.array(z.string()) }),
      smsOptedOut: z.boolean(),
    }),
    reservationCount: z.number().int().describe('Reservations made and not called off.'),
    lastVisitAt: z.string().nullable().describe('Start of the latest confirmed or completed reservation.'),
    reservations: z.array(
      z.object({
        reservationId: z.string(),
        code: z.string().nullable(),
        status: z.string(),
        serviceId: z.string().nullable(),
        serviceName: z.string(),
        locationId: z.string().nullable(),
        start: z.string(),
        end: z.string(),
      }),
    ),
    updatedAt: z.string(),
  })
  .meta({ id: 'CustomerProfile' });

export const customerPageSchema = z
  .object({ items: z.array(customerProfileSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'CustomerPage' });

export const customerTagsSchema = z
  .strictObject({
    tags: z.array(line(50).trim().min(1)).max(50).describe('The whole list: tags left out are removed.'),
  })
  .meta({ id: 'CustomerTagsChange' });

export const customerTagsViewSchema = z
  .object({ customerRef: z.string(), tags: z.array(z.string()) })
  .meta({ id: 'CustomerTags' });
