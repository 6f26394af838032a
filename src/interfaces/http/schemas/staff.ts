import { z } from 'zod';
import { STAFF_ROLES } from '../../../domain/staff/staff-account.decider.js';
import { PASSWORD_MAX, PASSWORD_MIN } from '../../../application/staff/staff-accounts.js';
import { email, id, line, locale } from './common.js';

const password = z.string().min(PASSWORD_MIN).max(PASSWORD_MAX);

export const staffAccountSchema = z
  .object({
    tenantId: z.string(),
    staffId: z.string(),
    email: z.string(),
    name: z.string(),
    role: z.enum(STAFF_ROLES),
    locale: z.string(),
    status: z.enum(['active', 'disabled']),
    createdAt: z.string(),
    createdBy: z.string(),
    lastSignInAt: z.string().nullable(),
  })
  .meta({ id: 'StaffAccount' });

export const createStaffAccountSchema = z
  .strictObject({
    email,
    name: line(200).trim().min(1),
    role: z.enum(STAFF_ROLES).describe('admin: everything in the tenant; staff: the day-to-day work.'),
    locale: locale.default('en').describe('The console’s language for this person: en, cs or nb.'),
    password: password.describe(`${PASSWORD_MIN}-${PASSWORD_MAX} characters; stored as an argon2id hash only.`),
  })
  .meta({ id: 'CreateStaffAccount' });

export const changeStaffAccountSchema = z
  .strictObject({
    name: line(200).trim().min(1).optional(),
    role: z.enum(STAFF_ROLES).optional(),
    locale: locale.optional(),
    password: password.optional().describe('A new password: every session of the account ends.'),
    disabled: z.boolean().optional().describe('true: the account cannot sign in and its sessions end.'),
  })
  .refine((body) => Object.keys(body).length > 0, { message: 'send at least one field' })
  .meta({ id: 'ChangeStaffAccount' });

export const signInSchema = z
  .strictObject({
    tenantId: id.describe('The organisation (tenant) the account belongs to.'),
    email: z.string().max(254),
    password: z.string().min(1).max(PASSWORD_MAX),
  })
  .meta({ id: 'StaffSignIn' });

export const staffSessionSchema = z
  .object({
    account: staffAccountSchema,
    expiresAt: z.string().describe('When the session ends unless signed out before.'),
    csrfToken: z.string().describe('Send it in X-CSRF-Token with every POST, PUT, PATCH and DELETE of this session.'),
  })
  .meta({ id: 'StaffSession' });

export const staffParams = z.object({ staffId: id });
