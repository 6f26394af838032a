import { z } from 'zod';
import type { AllocationOutcome } from '../../../application/waitlist/waitlist-commands.js';
import { WAITLIST_CHANNELS } from '../../../domain/waitlist/waitlist.decider.js';
import { id, line } from './common.js';
import { customerSchema, locationSnapshotSchema } from './reservations.js';

const instantText = z.string().max(64).describe('ISO-8601 instant with Z or an offset, e.g. 2030-06-03T09:00:00+02:00');
const reason = line(1000).pipe(z.string().trim().min(1, 'must not be empty'));

export const waitlistModeSchema = z.enum(['offer', 'assign']);
const channels = z.array(z.enum(WAITLIST_CHANNELS)).min(1).max(WAITLIST_CHANNELS.length);

export const joinWaitlistSchema = z
  .strictObject({
    serviceId: id,
    start: instantText.describe('The start of the full slot.'),
    resourceId: id.optional().describe('Only this resource; default any resource of the service.'),
    partySize: z.number().int().min(1).max(10_000).optional().describe('Default 1.'),
    customer: customerSchema,
    channels: channels.optional().describe('How the customer wants to be told; default every channel they have.'),
  })
  .meta({ id: 'JoinWaitlist' });

export const waitlistSlotSchema = z
  .object({
    serviceId: z.string(),
    serviceName: z.string(),
    locationId: z.string(),
    location: locationSnapshotSchema,
    start: z.string(),
    end: z.string(),
  })
  .meta({ id: 'WaitlistSlot' });

export const waitlistOfferSchema = z
  .object({
    offerId: z.string(),
    mode: waitlistModeSchema,
    status: z.enum(['open', 'accepted', 'declined', 'expired', 'withdrawn']),
    reservationId: z.string().describe('The reservation the offer becomes when accepted.'),
    resourceId: z.string(),
    seats: z.number().int(),
    madeAt: z.string(),
    expiresAt: z.string(),
  })
  .meta({ id: 'WaitlistOffer' });

export const waitlistEntrySchema = z
  .object({
    waitlistId: z.string(),
    entryId: z.string(),
    status: z.enum(['waiting', 'offered', 'booked', 'declined', 'expired', 'left', 'removed', 'closed']),
    position: z.number().int().nullable().describe('1 = next in line; null when not waiting.'),
    customer: z.object({
      id: z.string().optional(),
      name: z.string(),
      email: z.string().optional(),
      phone: z.string().optional(),
      locale: z.string(),
    }),
    partySize: z.number().int(),
    resourceId: z.string().nullable(),
    channels: z.array(z.enum(WAITLIST_CHANNELS)),
    joinedAt: z.string(),
    offer: waitlistOfferSchema.nullable().describe('The latest offer or assignment.'),
    reservationId: z.string().nullable().describe('The reservation the entry turned into.'),
    slot: waitlistSlotSchema,
  })
  .meta({ id: 'WaitlistEntry' });

export const waitlistSchema = z
  .object({
    waitlistId: z.string(),
    status: z.enum(['open', 'closed']),
    slot: waitlistSlotSchema,
    waiting: z.number().int(),
    revision: z.number().int().describe('The ETag value.'),
    entries: z.array(waitlistEntrySchema).describe('Waiting entries in line order, then the others.'),
  })
  .meta({ id: 'Waitlist' });

export const waitlistSummarySchema = z.object({
  waitlistId: z.string(),
  serviceId: z.string(),
  serviceName: z.string(),
  locationId: z.string(),
  locationName: z.string(),
  timeZone: z.string(),
  start: z.string(),
  end: z.string(),
  status: z.enum(['open', 'closed']),
  waiting: z.number().int(),
  offered: z.number().int(),
  booked: z.number().int(),
});

export const waitlistListQuery = z.strictObject({
  serviceId: id.optional(),
  status: z.enum(['open', 'closed']).optional(),
  from: z.string().max(64).optional().describe('Slots starting at or after this instant.'),
  to: z.string().max(64).optional().describe('... and before this one.'),
  limit: z.coerce.number().int().min(1).max(200).optional().describe('Default 50.'),
});

export const overrideSchema = z
  .strictObject({
    reason: reason.describe('Why the order is overridden: kept in the history.'),
    mode: waitlistModeSchema
      .optional()
      .describe("Offer (with the response window) or assign at once; default the policy's."),
  })
  .meta({ id: 'WaitlistOverride' });

export const reasonRequiredSchema = z.strictObject({ reason }).meta({ id: 'WaitlistReason' });

export const urgentAllocationSchema = z
  .strictObject({ reason: reason.describe('Why: kept in the history.') })
  .meta({ id: 'UrgentAllocation' });

export const allocationOutcomeSchema = z
  .object({
    waitlistId: z.string(),
    allocated: z.array(
      z.object({
        entryId: z.string(),
        offerId: z.string(),
        reservationId: z.string(),
        resourceId: z.string(),
        seats: z.number().int(),
        mode: waitlistModeSchema,
        expiresAt: z.string().nullable(),
        customerName: z.string(),
      }),
    ),
    exhausted: z.boolean().describe('Nobody waiting takes the free seats: they are public again (staff are told).'),
    skipped: z.enum(['no-waitlist', 'disabled', 'service-unavailable', 'nothing-to-allocate']).optional(),
  })
  .meta({ id: 'WaitlistAllocation' });

export const previewSchema = z
  .object({
    waitlistId: z.string(),
    enabled: z.boolean(),
    mode: waitlistModeSchema,
    waiting: z.number().int(),
    responseWindowSeconds: z.number().int(),
    next: z
      .array(
        z.object({
          entryId: z.string(),
          position: z.number().int(),
          customerName: z.string(),
          partySize: z.number().int(),
          outcome: waitlistModeSchema,
        }),
      )
      .describe('Who gets the seats if they are freed now; empty: they go back to public availability.'),
    warning: z.string().describe('The warning to show staff before they free the seat.'),
  })
  .meta({ id: 'WaitlistPreview' });

export const answerOfferSchema = z
  .strictObject({ via: z.enum(['api', 'link', 'sms']).optional().describe('How the customer answered; default api.') })
  .meta({ id: 'AnswerOffer' });

const policyFields = {
  enabled: z.boolean(),
  mode: waitlistModeSchema,
  responseWindowSeconds: z
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 3600),
  maxEntries: z.number().int().min(1).max(10_000),
  cutoffMinutes: z
    .number()
    .int()
    .min(-24 * 60)
    .max(30 * 24 * 60),
};

export const waitlistSettingsSchema = z
  .strictObject({
    ...policyFields,
    services: z
      .record(id, z.strictObject(policyFields).partial())
      .optional()
      .describe('Per-service overrides: only the fields given replace the tenant’s.'),
  })
  .meta({ id: 'WaitlistSettings' });

export const waitlistAnalyticsQuery = z.strictObject({
  from: z.string().max(64).optional().describe('Entries that joined at or after this instant (default 30 days ago).'),
  to: z.string().max(64).optional().describe('... and before this one (default now).'),
  serviceId: id.optional(),
  locationId: id.optional(),
  groupBy: z.enum(['service', 'location', 'day', 'none']).optional().describe('Default service.'),
});

export function outcomeView(outcome: AllocationOutcome): z.infer<typeof allocationOutcomeSchema> {
  return { ...outcome, allocated: outcome.allocated.map((a) => ({ ...a })) };
}
