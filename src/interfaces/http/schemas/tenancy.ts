import { z } from 'zod';
import { API_KEY_ROLES, MAX_ROTATION_OVERLAP_SECONDS } from '../../../domain/tenancy/api-key.decider.js';
import { email, id, line, locale, timeZone } from './common.js';

export const createTenantSchema = z
  .strictObject({
    tenantId: id.optional().describe('Your id for it (letters, digits, . _ : -); generated when absent.'),
    name: line(200).trim().min(1),
    defaultLocale: locale.default('en').describe('Language of messages to recipients without a locale of their own.'),
    timeZone: timeZone.default('UTC'),
    sender: z
      .strictObject({ name: line(200).trim().min(1), address: email })
      .describe("The From of the tenant's emails until its notification settings name another sender."),
  })
  .meta({ id: 'CreateTenant' });

export const tenantSchema = z
  .object({
    tenantId: z.string(),
    name: z.string(),
    defaultLocale: z.string(),
    timeZone: z.string(),
    sender: z.object({ name: z.string(), address: z.string() }),
    status: z.enum(['active', 'deactivated']),
    createdAt: z.string(),
    createdBy: z.string().describe('Who created it: operator:<id> or apikey:<id>.'),
    deactivatedAt: z.string().nullable(),
    deactivatedBy: z.string().nullable(),
    revision: z.number().int().describe('The ETag value.'),
  })
  .meta({ id: 'Tenant' });

export const tenantListQuery = z.strictObject({
  includeDeactivated: z
    .enum(['true', 'false'])
    .optional()
    .transform((value) => value === 'true'),
});

export const deactivateQuery = z.strictObject({ reason: line(1000).optional() });

export const createApiKeySchema = z
  .strictObject({
    name: line(100).trim().min(1).describe('What the key is for, e.g. "front desk" or "booking system".'),
    role: z
      .enum(API_KEY_ROLES)
      .describe('admin: everything in the tenant; staff: day-to-day; integration: booking systems.'),
  })
  .meta({ id: 'CreateApiKey' });

export const rotateApiKeySchema = z
  .strictObject({
    overlapSeconds: z
      .int()
      .min(0)
      .max(MAX_ROTATION_OVERLAP_SECONDS)
      .default(3600)
      .describe('How long the old key keeps working next to the new one (0 to 7 days; default 1 hour).'),
  })
  .meta({ id: 'RotateApiKey' });

export const revokeQuery = z.strictObject({ reason: line(1000).optional() });

export const apiKeySchema = z
  .object({
    keyId: z.string(),
    name: z.string(),
    role: z.enum(API_KEY_ROLES),
    status: z.enum(['active', 'rotated', 'revoked']).describe('rotated: replaced, still valid until expiresAt.'),
    createdAt: z.string(),
    createdBy: z.string().describe('Who created it: apikey:<id>, operator:<id> or system:<process>.'),
    lastUsedAt: z.string().nullable().describe('Coarse (to within 5 minutes); null when not used since tracking.'),
    rotatedFrom: z.string().nullable(),
    replacedBy: z.string().nullable(),
    expiresAt: z.string().nullable().describe('A rotated key stops working then.'),
    revokedAt: z.string().nullable(),
    revokedBy: z.string().nullable(),
  })
  .meta({ id: 'ApiKey' });

export const newApiKeySchema = apiKeySchema
  .extend({ secret: z.string().describe('The key itself. Shown this once: Herald keeps only its SHA-256.') })
  .meta({ id: 'NewApiKey' });

export const rotatedApiKeySchema = newApiKeySchema
  .extend({ previous: apiKeySchema.describe('The old key, valid until its expiresAt.') })
  .meta({ id: 'RotatedApiKey' });

export const apiKeyListQuery = z.strictObject({
  includeRevoked: z
    .enum(['true', 'false'])
    .optional()
    .transform((value) => value === 'true'),
});
