import { ValidationError } from '../shared/errors.js';
import { isEmailAddress } from '../shared/email-address.js';
import { requireSafeText, type TextKind } from '../shared/text.js';
import { normalizeInstant, normalizeTimeZone } from '../shared/zoned-time.js';

/**
 * Field checks shared by the catalog and booking deciders. Every failure is a ValidationError with code
 * `invalid-input` and `details: { field, rule }`, so the HTTP edge can say which field broke which rule.
 */
export function invalid(
  field: string,
  rule: string,
  message: string,
  extra: Record<string, unknown> = {},
): ValidationError {
  return new ValidationError('invalid-input', message, { field, rule, ...extra });
}

/**
 * Required text, trimmed. One line unless `kind` is `multiline`: control, bidi and line-separator characters are
 * refused (src/domain/shared/text.ts), since names and reasons end up in subjects, SMS and headers.
 */
export function requireText(field: string, value: unknown, maxLength = 200, kind: TextKind = 'line'): string {
  if (typeof value !== 'string' || value.trim() === '') throw invalid(field, 'required', `${field} is required.`);
  const trimmed = requireSafeText(field, value.trim(), kind);
  if (trimmed.length > maxLength) {
    throw invalid(field, 'max-length', `${field} must be at most ${maxLength} characters.`, { maxLength });
  }
  return trimmed;
}

/** Optional text ('' when absent), trimmed, with the same character rules as requireText. */
export function optionalText(field: string, value: unknown, maxLength: number, kind: TextKind = 'line'): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw invalid(field, 'string', `${field} must be a string.`);
  const trimmed = requireSafeText(field, value.trim(), kind);
  if (trimmed.length > maxLength) {
    throw invalid(field, 'max-length', `${field} must be at most ${maxLength} characters.`, { maxLength });
  }
  return trimmed;
}

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** Ids are opaque strings; `+` is reserved as the separator of compound stream ids, whitespace is never useful. */
export function requireId(field: string, value: unknown): string {
  if (typeof value !== 'string' || !ID_PATTERN.test(value)) {
    throw invalid(field, 'id', `${field} must be 1-128 letters, digits, '.', '_', ':' or '-'.`);
  }
  return value;
}

export function requireInteger(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw invalid(field, 'integer', `${field} must be an integer.`);
  }
  if (value < min || value > max) {
    throw invalid(field, 'range', `${field} must be between ${min} and ${max}.`, { min, max });
  }
  return value;
}

export function requireBoolean(field: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw invalid(field, 'boolean', `${field} must be true or false.`);
  return value;
}

/** A zoned ISO-8601 instant, returned in its canonical `...Z` form. */
export function requireInstant(field: string, value: unknown): string {
  const normalized = normalizeInstant(value);
  if (normalized === null) {
    throw invalid(field, 'instant-with-zone', `${field} must be an ISO-8601 instant with Z or an offset.`);
  }
  return normalized;
}

export function requireTimeZone(field: string, value: unknown): string {
  const zone = typeof value === 'string' ? normalizeTimeZone(value) : null;
  if (zone === null) throw invalid(field, 'iana-time-zone', `${field} must be an IANA time zone such as Europe/Oslo.`);
  return zone;
}

const E164_PATTERN = /^\+[1-9]\d{6,14}$/;

export function requireEmail(field: string, value: unknown): string {
  if (typeof value !== 'string' || !isEmailAddress(value.trim())) {
    throw invalid(field, 'email', `${field} must be an email address.`);
  }
  return value.trim();
}

export function requirePhone(field: string, value: unknown): string {
  if (typeof value !== 'string' || !E164_PATTERN.test(value)) {
    throw invalid(field, 'e164-phone', `${field} must be a phone number in E.164 form, e.g. +4791234567.`);
  }
  return value;
}

export function requireLocale(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw invalid(field, 'required', `${field} is required.`);
  try {
    const [canonical] = Intl.getCanonicalLocales(value);
    if (canonical) return canonical;
  } catch {
    // fall through
  }
  throw invalid(field, 'bcp47-locale', `${field} must be a BCP 47 language tag such as nb-NO.`);
}

export function requireOneOf<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw invalid(field, 'one-of', `${field} must be one of ${allowed.join(', ')}.`, { allowed });
  }
  return value as T;
}

/** Structural equality for JSON-safe values (plain objects, arrays, primitives); key order does not matter. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, index) => jsonEqual(item, b[index]));
  }
  const aRecord = a as Record<string, unknown>;
  const bRecord = b as Record<string, unknown>;
  const aKeys = Object.keys(aRecord).filter((key) => aRecord[key] !== undefined);
  const bKeys = Object.keys(bRecord).filter((key) => bRecord[key] !== undefined);
  return aKeys.length === bKeys.length && aKeys.every((key) => jsonEqual(aRecord[key], bRecord[key]));
}
