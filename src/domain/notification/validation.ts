import { ValidationError } from '../shared/errors.js';

/** Small guards shared by the notification deciders. Each throws a ValidationError naming the field. */

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;

/** Parses an ISO-8601 instant that carries its offset (`Z` or `+01:00`); a local time without zone is refused. */
export function parseInstant(value: unknown, field: string): Date {
  const date = typeof value === 'string' && INSTANT.test(value) ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime())) {
    throw new ValidationError('invalid-instant', `${field} must be an ISO-8601 instant with a zone offset.`, { field });
  }
  return date;
}

export function requireText(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ValidationError('missing-field', `${field} is required.`, { field });
  }
  return value;
}

export function requireNonNegativeInteger(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new ValidationError('invalid-number', `${field} must be a whole number, zero or more.`, { field });
  }
  return value;
}

export function requirePositiveInteger(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new ValidationError('invalid-number', `${field} must be a whole number greater than zero.`, { field });
  }
  return value;
}
