import { z } from 'zod';
import { isEmailAddress } from '../../../domain/shared/email-address.js';
import { findUnsafeCharacter, unsafeTextMessage, type TextKind } from '../../../domain/shared/text.js';

// The same rule as findUnsafeCharacter, for the OpenAPI document (clients and fuzzers); the check in safeText is the one
// that runs. A multi-line text may also hold CRLF, which the check normalises to LF.
const UNSAFE_CLASS = '\\u007f-\\u009f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069\\u200e\\u200f\\u061c';
const SAFE_LINE_PATTERN = `^[^\\u0000-\\u001f${UNSAFE_CLASS}]*$`;
const SAFE_MULTILINE_PATTERN = `^(?:[^\\u0000-\\u0008\\u000b-\\u001f${UNSAFE_CLASS}]|\\r\\n)*$`;

/**
 * Text that can reach a subject, an SMS or a header (src/domain/shared/text.ts): control, bidi and line-separator
 * characters are refused with a 400 naming the field. `line` is one line; `multiline` also allows LF and TAB.
 */
function safeText(kind: TextKind, max: number) {
  return z
    .string()
    .max(max)
    .superRefine((value, ctx) => {
      const unsafe = findUnsafeCharacter(value, kind);
      if (unsafe) ctx.addIssue({ code: 'custom', message: unsafeTextMessage('the text', unsafe, kind) });
    })
    .meta({ pattern: kind === 'line' ? SAFE_LINE_PATTERN : SAFE_MULTILINE_PATTERN });
}

export const line = (max: number) => safeText('line', max);
export const multiline = (max: number) => safeText('multiline', max);

/** E.164: a plus, a non-zero digit, at most 15 digits. */
export const e164 = z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 phone number, e.g. +420777123456');
/** An email address by the domain's one rule: internationalised addresses (`user@exämple.com`) included. */
export const email = z
  .string()
  .max(254)
  .refine(isEmailAddress, 'must be an email address')
  .meta({ format: 'idn-email' });
export const locale = z
  .string()
  .min(2)
  .max(35)
  .refine((value) => {
    try {
      return Intl.getCanonicalLocales(value).length === 1;
    } catch {
      return false;
    }
  }, 'must be a BCP 47 language tag, e.g. cs-CZ');
export const timeZone = z.string().refine((zone) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}, 'must be an IANA time zone, e.g. Europe/Prague');
/** An instant with an explicit offset or Z: a time without a zone is ambiguous and refused. */
export const instant = z.iso.datetime({ offset: true, message: 'must be an ISO-8601 instant with a zone offset or Z' });
export const id = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, "must be 1-128 letters, digits, '.', '_', ':' or '-'");

/** The If-Match header of a conditional write: an ETag this service returned. */
export const ifMatchHeaders = z.object({ 'if-match': z.string().optional() }).loose();

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    code: z.string().optional(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .loose()
  .meta({ id: 'Problem', description: 'RFC 9457 problem details (application/problem+json).' });

/** Standard error responses of a route, documented in OpenAPI. */
export function problems(...statuses: number[]): Record<number, typeof problemSchema> {
  return Object.fromEntries(statuses.map((status) => [status, problemSchema]));
}
