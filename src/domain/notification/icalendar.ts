import { ValidationError } from '../shared/errors.js';
import { isEmailAddress } from './kinds.js';
import { parseInstant } from './validation.js';

/**
 * iCalendar invitations (RFC 5545 syntax, RFC 5546 iTIP methods). The calendar client recognises the event by UID
 * and applies an update only when SEQUENCE rises, so UID must be stable per reservation and the caller passes a
 * sequence that grows with every REQUEST/CANCEL for it.
 */

export type IcsMethod = 'REQUEST' | 'CANCEL';

export interface IcsParty {
  readonly name: string;
  readonly email: string;
}

export interface IcsInput {
  readonly method: IcsMethod;
  readonly uid: string;
  readonly sequence: number;
  /** ISO-8601 instants; written as UTC (`Z`). */
  readonly start: string;
  readonly end: string;
  readonly summary: string;
  readonly location: string;
  readonly description: string;
  readonly organizer: IcsParty;
  readonly attendee: IcsParty;
  /** When this version of the invitation was created (from the command, never the clock). */
  readonly dtstamp: string;
}

const CRLF = '\r\n';
const MAX_LINE_OCTETS = 75;

/** A UID that stays the same for every message about one reservation. */
export function reservationIcsUid(reservationId: string, domain = 'herald.invalid'): string {
  if (reservationId.trim() === '' || /[\r\n]/.test(reservationId)) {
    throw new ValidationError('invalid-ics-uid', 'A reservation id is needed for a calendar UID.', {
      field: 'reservationId',
    });
  }
  return `reservation-${reservationId}@${domain}`;
}

export function buildIcs(input: IcsInput): string {
  validate(input);
  const cancel = input.method === 'CANCEL';
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//Herald//Notifications//EN',
    'CALSCALE:GREGORIAN',
    `METHOD:${input.method}`,
    'BEGIN:VEVENT',
    `UID:${escapeText(input.uid)}`,
    `SEQUENCE:${input.sequence}`,
    `DTSTAMP:${toIcsUtc(input.dtstamp)}`,
    `DTSTART:${toIcsUtc(input.start)}`,
    `DTEND:${toIcsUtc(input.end)}`,
    `SUMMARY:${escapeText(input.summary)}`,
    `LOCATION:${escapeText(input.location)}`,
    `DESCRIPTION:${escapeText(input.description)}`,
    `ORGANIZER;CN=${paramValue(input.organizer.name)}:mailto:${input.organizer.email}`,
    // The booking is already decided, so the invitation asks for no reply (RSVP=FALSE) and, for a REQUEST, states
    // the attendee as accepted; a CANCEL says nothing about the attendee's answer.
    `ATTENDEE;CN=${paramValue(input.attendee.name)};CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;` +
      `${cancel ? '' : 'PARTSTAT=ACCEPTED;'}RSVP=FALSE:mailto:${input.attendee.email}`,
    `STATUS:${cancel ? 'CANCELLED' : 'CONFIRMED'}`,
    `TRANSP:${cancel ? 'TRANSPARENT' : 'OPAQUE'}`,
    'END:VEVENT',
    'END:VCALENDAR',
  ];
  return lines.map(foldLine).join(CRLF) + CRLF;
}

/** `2025-03-14T09:30:00.000Z` -> `20250314T093000Z`. */
export function toIcsUtc(iso: string): string {
  const date = parseInstant(iso, 'instant');
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/** TEXT value escaping (RFC 5545 3.3.11); other control characters are not allowed in TEXT and are dropped. */
export function escapeText(value: string): string {
  return (
    value
      .replace(/\\/g, '\\\\')
      .replace(/;/g, '\\;')
      .replace(/,/g, '\\,')
      .replace(/\r\n|\r|\n/g, '\\n')
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, '')
  );
}

/**
 * A parameter value, always quoted. DQUOTE cannot appear inside a quoted value; RFC 6868 caret-encodes it
 * (`^'`), together with newlines (`^n`) and the caret itself (`^^`).
 */
function paramValue(value: string): string {
  const encoded = value
    .replace(/\^/g, '^^')
    .replace(/"/g, "^'")
    .replace(/\r\n|\r|\n/g, '^n')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, '');
  return `"${encoded}"`;
}

/**
 * Folds a content line so that no physical line exceeds 75 octets of UTF-8 (RFC 5545 3.1). Continuation lines
 * start with one space, which counts towards their 75. Splits only between code points, never inside a UTF-8
 * sequence or a surrogate pair.
 */
export function foldLine(line: string): string {
  const encoder = new TextEncoder();
  const physical: string[] = [];
  let current = '';
  let octets = 0;
  for (const char of line) {
    const size = encoder.encode(char).length;
    const limit = physical.length === 0 ? MAX_LINE_OCTETS : MAX_LINE_OCTETS - 1;
    if (octets + size > limit) {
      physical.push(current);
      current = '';
      octets = 0;
    }
    current += char;
    octets += size;
  }
  physical.push(current);
  return physical.map((part, index) => (index === 0 ? part : ` ${part}`)).join(CRLF);
}

function validate(input: IcsInput): void {
  if (input.method !== 'REQUEST' && input.method !== 'CANCEL') {
    throw new ValidationError('invalid-ics', `Unknown iTIP method ${String(input.method)}.`, { field: 'method' });
  }
  if (input.uid.trim() === '' || /[\r\n]/.test(input.uid)) {
    throw new ValidationError('invalid-ics', 'UID must be a non-empty single line.', { field: 'uid' });
  }
  if (!Number.isSafeInteger(input.sequence) || input.sequence < 0) {
    throw new ValidationError('invalid-ics', 'SEQUENCE must be a non-negative integer.', { field: 'sequence' });
  }
  const start = parseInstant(input.start, 'start');
  const end = parseInstant(input.end, 'end');
  parseInstant(input.dtstamp, 'dtstamp');
  if (end.getTime() <= start.getTime()) {
    throw new ValidationError('invalid-ics', 'The event must end after it starts.', { field: 'end' });
  }
  for (const [field, party] of [
    ['organizer', input.organizer],
    ['attendee', input.attendee],
  ] as const) {
    if (!isEmailAddress(party.email)) {
      throw new ValidationError('invalid-ics', `The ${field} needs a valid email address.`, {
        field: `${field}.email`,
      });
    }
  }
}
