import { z } from 'zod';
import { RESOURCE_KINDS } from '../../../domain/catalog/resource.decider.js';
import { MAX_SEATS_PER_SLOT } from '../../../domain/catalog/service.decider.js';
import { e164, email, id, line, multiline, timeZone } from './common.js';

// Shapes only: the rules (HH:MM, intervals that do not overlap, maxPartySize <= seatsPerSlot...) are the domain's,
// which answers 400 `invalid-input` naming the field and the rule.

const text = line;
/** An integer whose range the domain checks (400 invalid-input naming the rule); documented here for clients. */
const integerIn = (minimum: number, maximum: number) => z.number().int().meta({ minimum, maximum });
const MINUTES_PER_DAY = 24 * 60;

export const addressSchema = z
  .strictObject({
    street: text(200),
    postalCode: text(20).optional(),
    city: text(100),
    country: z.string().describe('ISO 3166-1 alpha-2, e.g. NO'),
  })
  .meta({ id: 'Address' });

export const createLocationSchema = z
  .strictObject({
    locationId: id.optional().describe('Your id for it; generated when absent.'),
    name: text(200),
    address: addressSchema,
    timeZone: timeZone.describe('IANA zone; every working hour at this location is wall time in it.'),
  })
  .meta({ id: 'CreateLocation' });

export const updateLocationSchema = z
  .strictObject({ name: text(200).optional(), address: addressSchema.optional(), timeZone: timeZone.optional() })
  .meta({ id: 'UpdateLocation' });

export const locationViewSchema = z
  .object({
    locationId: z.string(),
    name: z.string(),
    address: z.object({
      street: z.string(),
      postalCode: z.string().optional(),
      city: z.string(),
      country: z.string(),
    }),
    timeZone: z.string(),
    status: z.enum(['active', 'archived']),
    revision: z.number().int().describe('The ETag value; send it back in If-Match.'),
  })
  .meta({ id: 'Location' });

const intervalSchema = z.strictObject({
  start: z.string().describe('HH:MM wall time'),
  end: z.string().describe('HH:MM wall time, 24:00 allowed'),
});
const weekday = z.array(intervalSchema).optional();
export const weeklyHoursSchema = z
  .strictObject({
    monday: weekday,
    tuesday: weekday,
    wednesday: weekday,
    thursday: weekday,
    friday: weekday,
    saturday: weekday,
    sunday: weekday,
  })
  .describe('Wall-time intervals per weekday in the location zone; a missing day is not worked.')
  .meta({ id: 'WeeklyHours' });
export const exceptionsSchema = z
  .strictObject({
    closedDates: z.array(z.string().describe('YYYY-MM-DD')).max(1000).optional(),
    extraHours: z
      .array(z.strictObject({ date: z.string().describe('YYYY-MM-DD'), intervals: z.array(intervalSchema) }))
      .max(1000)
      .optional(),
  })
  .describe('Closed dates drop that date’s weekly hours; extra hours are added on top.')
  .meta({ id: 'ScheduleExceptions' });
export const contactSchema = z
  .strictObject({ email: email.optional(), phone: e164.optional() })
  .describe('Where staff notifications about this resource go.')
  .meta({ id: 'StaffContact' });

export const createResourceSchema = z
  .strictObject({
    resourceId: id.optional().describe('Your id for it; generated when absent.'),
    locationId: id,
    name: text(200),
    kind: z.enum(RESOURCE_KINDS),
    weeklyHours: weeklyHoursSchema,
    exceptions: exceptionsSchema.optional(),
    contact: contactSchema.optional(),
  })
  .meta({ id: 'CreateResource' });

export const updateResourceSchema = z
  .strictObject({
    name: text(200).optional(),
    kind: z.enum(RESOURCE_KINDS).optional(),
    contact: contactSchema.optional(),
  })
  .meta({ id: 'UpdateResource' });

export const scheduleSchema = z
  .strictObject({ weeklyHours: weeklyHoursSchema, exceptions: exceptionsSchema.optional() })
  .meta({ id: 'ResourceSchedule' });

const intervalView = z.object({ start: z.string(), end: z.string() });
export const resourceViewSchema = z
  .object({
    resourceId: z.string(),
    locationId: z.string(),
    name: z.string(),
    kind: z.string(),
    weeklyHours: z.record(z.string(), z.array(intervalView)),
    exceptions: z.object({
      closedDates: z.array(z.string()),
      extraHours: z.array(z.object({ date: z.string(), intervals: z.array(intervalView) })),
    }),
    contact: z.object({ email: z.string().optional(), phone: z.string().optional() }),
    status: z.enum(['active', 'archived']),
    revision: z.number().int(),
  })
  .meta({ id: 'Resource' });

const serviceSettings = {
  name: text(200),
  description: multiline(4000).optional().describe('Goes into customer messages.'),
  durationMinutes: integerIn(1, MINUTES_PER_DAY),
  seatsPerSlot: integerIn(1, MAX_SEATS_PER_SLOT).describe('1 for an appointment, N for a class or a pool session.'),
  bufferMinutes: integerIn(0, MINUTES_PER_DAY)
    .optional()
    .describe('Time the resource stays blocked after each booking.'),
  maxPartySize: integerIn(1, MAX_SEATS_PER_SLOT).optional().describe('At most seatsPerSlot. Default 1.'),
  resourceIds: z.array(id).max(500).describe('The resources that can deliver it, in the order booking tries them.'),
  requiresConfirmation: z.boolean().optional().describe('true: staff confirms (or declines) each request.'),
  slotIntervalMinutes: integerIn(1, MINUTES_PER_DAY).optional().describe('Default: duration + buffer (back to back).'),
  afterPaymentText: multiline(2000).optional().describe('Goes into the payment receipt.'),
};

export const createServiceSchema = z
  .strictObject({
    serviceId: id.optional().describe('Your id for it; generated when absent.'),
    locationId: id,
    ...serviceSettings,
  })
  .meta({ id: 'CreateService' });

export const updateServiceSchema = z
  .strictObject({
    name: serviceSettings.name.optional(),
    description: serviceSettings.description,
    durationMinutes: serviceSettings.durationMinutes.optional(),
    seatsPerSlot: serviceSettings.seatsPerSlot.optional(),
    bufferMinutes: serviceSettings.bufferMinutes,
    maxPartySize: serviceSettings.maxPartySize,
    resourceIds: serviceSettings.resourceIds.optional(),
    requiresConfirmation: serviceSettings.requiresConfirmation,
    slotIntervalMinutes: serviceSettings.slotIntervalMinutes,
    afterPaymentText: serviceSettings.afterPaymentText,
  })
  .meta({ id: 'UpdateService' });

export const serviceViewSchema = z
  .object({
    serviceId: z.string(),
    locationId: z.string(),
    name: z.string(),
    description: z.string(),
    durationMinutes: z.number().int(),
    seatsPerSlot: z.number().int(),
    bufferMinutes: z.number().int(),
    maxPartySize: z.number().int(),
    resourceIds: z.array(z.string()),
    requiresConfirmation: z.boolean(),
    slotIntervalMinutes: z.number().int(),
    afterPaymentText: z.string().optional(),
    status: z.enum(['active', 'archived']),
    revision: z.number().int(),
  })
  .meta({ id: 'Service' });

export const catalogListQuery = z.strictObject({
  locationId: id.optional(),
  includeArchived: z
    .enum(['true', 'false'])
    .optional()
    .transform((value) => value === 'true'),
});

export const archiveQuery = z.strictObject({ reason: text(500).optional() });
