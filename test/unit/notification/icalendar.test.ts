import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { IcsInput } from '../../../src/domain/notification/icalendar.js';
import { buildIcs, foldLine, reservationIcsUid, toIcsUtc } from '../../../src/domain/notification/icalendar.js';
import { ValidationError } from '../../../src/domain/shared/errors.js';

const octets = (s: string) => new TextEncoder().encode(s).length;

/** A strict little reader: CRLF only, every physical line <= 75 octets, then unfolded content lines. */
function contentLines(ics: string): string[] {
  expect(ics.endsWith('\r\n')).toBe(true);
  expect(ics.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
  const physical = ics.slice(0, -2).split('\r\n');
  for (const line of physical) expect(octets(line)).toBeLessThanOrEqual(75);
  const lines: string[] = [];
  for (const line of physical) {
    if (line.startsWith(' ') || line.startsWith('\t')) lines[lines.length - 1] += line.slice(1);
    else lines.push(line);
  }
  return lines;
}

interface Property {
  readonly name: string;
  readonly params: string;
  readonly value: string;
}

function properties(ics: string): Property[] {
  return contentLines(ics).map((line) => {
    // The name ends at the first ';' or ':'; quoted parameter values may contain ':'.
    const nameEnd = line.search(/[;:]/);
    let i = nameEnd;
    let quoted = false;
    for (; i < line.length; i++) {
      if (line[i] === '"') quoted = !quoted;
      else if (line[i] === ':' && !quoted) break;
    }
    return { name: line.slice(0, nameEnd), params: line.slice(nameEnd, i), value: line.slice(i + 1) };
  });
}

function unescapeText(value: string): string {
  return value.replace(/\\([\\;,nN])/g, (_m, c: string) => (c === 'n' || c === 'N' ? '\n' : c));
}

function prop(ics: string, name: string): Property {
  const found = properties(ics).filter((p) => p.name === name);
  expect(found, name).toHaveLength(1);
  return found[0] as Property;
}

const base: IcsInput = {
  method: 'REQUEST',
  uid: reservationIcsUid('R-2025-0042', 'herald.example'),
  sequence: 0,
  start: '2025-03-14T10:30:00+01:00',
  end: '2025-03-14T11:30:00+01:00',
  summary: 'Masáž zad',
  location: 'Studio Vinohrady, Korunní 12, Praha',
  description: 'Přijďte 10 minut předem.\nS sebou ručník; platba kartou.',
  organizer: { name: 'Studio Zen', email: 'booking@studiozen.cz' },
  attendee: { name: 'Jana Nováková', email: 'jana@example.com' },
  dtstamp: '2025-03-01T08:00:00Z',
};

describe('buildIcs', () => {
  it('writes a REQUEST with the structure calendar clients expect', () => {
    const ics = buildIcs(base);
    const names = properties(ics).map((p) => p.name);
    expect(names).toEqual([
      'BEGIN',
      'VERSION',
      'PRODID',
      'CALSCALE',
      'METHOD',
      'BEGIN',
      'UID',
      'SEQUENCE',
      'DTSTAMP',
      'DTSTART',
      'DTEND',
      'SUMMARY',
      'LOCATION',
      'DESCRIPTION',
      'ORGANIZER',
      'ATTENDEE',
      'STATUS',
      'TRANSP',
      'END',
      'END',
    ]);
    expect(prop(ics, 'METHOD').value).toBe('REQUEST');
    expect(prop(ics, 'VERSION').value).toBe('2.0');
    expect(prop(ics, 'STATUS').value).toBe('CONFIRMED');
    expect(prop(ics, 'UID').value).toBe('reservation-R-2025-0042@herald.example');
    expect(prop(ics, 'SEQUENCE').value).toBe('0');
  });

  it('writes start, end and stamp in UTC', () => {
    const ics = buildIcs(base);
    expect(prop(ics, 'DTSTART').value).toBe('20250314T093000Z');
    expect(prop(ics, 'DTEND').value).toBe('20250314T103000Z');
    expect(prop(ics, 'DTSTAMP').value).toBe('20250301T080000Z');
    expect(toIcsUtc('2025-07-01T00:15:00.000+02:00')).toBe('20250630T221500Z');
  });

  it('writes a CANCEL with STATUS:CANCELLED, the same UID and the sequence given', () => {
    const request = buildIcs({ ...base, sequence: 1 });
    const cancel = buildIcs({ ...base, method: 'CANCEL', sequence: 2 });
    expect(prop(cancel, 'METHOD').value).toBe('CANCEL');
    expect(prop(cancel, 'STATUS').value).toBe('CANCELLED');
    expect(prop(cancel, 'SEQUENCE').value).toBe('2');
    expect(prop(cancel, 'UID').value).toBe(prop(request, 'UID').value);
  });

  it('keeps the UID stable for a reservation', () => {
    expect(reservationIcsUid('abc')).toBe(reservationIcsUid('abc'));
    expect(reservationIcsUid('abc')).not.toBe(reservationIcsUid('abd'));
  });

  it('escapes commas, semicolons, backslashes and newlines in text, and reads back the original', () => {
    const description = 'Line one, with comma; semicolon \\ backslash\r\nline two\nline three';
    const ics = buildIcs({ ...base, description, summary: 'A, B; C' });
    expect(prop(ics, 'SUMMARY').value).toBe('A\\, B\\; C');
    expect(prop(ics, 'DESCRIPTION').value).toBe(
      'Line one\\, with comma\\; semicolon \\\\ backslash\\nline two\\nline three',
    );
    expect(unescapeText(prop(ics, 'DESCRIPTION').value)).toBe(
      'Line one, with comma; semicolon \\ backslash\nline two\nline three',
    );
    expect(unescapeText(prop(ics, 'LOCATION').value)).toBe(base.location);
  });

  it('quotes names in parameters and writes mailto addresses', () => {
    const ics = buildIcs({ ...base, attendee: { name: 'Novák, Jan "Honza"', email: 'jan@example.com' } });
    const attendee = prop(ics, 'ATTENDEE');
    expect(attendee.params).toContain(';CN="Novák, Jan ^\'Honza^\'"');
    expect(attendee.value).toBe('mailto:jan@example.com');
    expect(prop(ics, 'ORGANIZER')).toEqual({
      name: 'ORGANIZER',
      params: ';CN="Studio Zen"',
      value: 'mailto:booking@studiozen.cz',
    });
  });

  it('folds long lines at 75 octets without splitting UTF-8 characters, and unfolds to the original', () => {
    const description =
      'Přijďte prosím o deset minut dříve, ať máme čas na vyplnění dotazníku. '.repeat(6) + '😀 konec';
    const ics = buildIcs({ ...base, description });
    const raw = ics.split('\r\n');
    expect(raw.filter((l) => l.startsWith(' ')).length).toBeGreaterThan(3);
    expect(raw.some((l) => octets(l) === 75 || octets(l) === 74 || octets(l) === 73)).toBe(true);
    expect(ics).not.toContain('\uFFFD');
    expect(unescapeText(prop(ics, 'DESCRIPTION').value)).toBe(description);
  });

  it('folds any text so that lines stay <= 75 octets and unfold to the same text (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (text) => {
        const line = `DESCRIPTION:${text}`;
        const folded = foldLine(line);
        for (const physical of folded.split('\r\n')) {
          expect(octets(physical)).toBeLessThanOrEqual(75);
          expect(physical.isWellFormed()).toBe(true);
        }
        expect(
          folded
            .split('\r\n')
            .map((p, i) => (i === 0 ? p : p.slice(1)))
            .join(''),
        ).toBe(line);
      }),
      { numRuns: 300 },
    );
  });

  it.each<[string, Partial<IcsInput>, string]>([
    ['an end before the start', { end: '2025-03-14T09:00:00+01:00' }, 'end'],
    ['a negative sequence', { sequence: -1 }, 'sequence'],
    ['a fractional sequence', { sequence: 1.5 }, 'sequence'],
    ['a local time without zone', { start: '2025-03-14T10:30:00' }, 'start'],
    ['an organizer without address', { organizer: { name: 'X', email: 'nope' } }, 'organizer.email'],
    ['a UID with a newline', { uid: 'a\r\nX-INJECTED:1' }, 'uid'],
  ])('refuses %s', (_name, change, field) => {
    let error: unknown;
    try {
      buildIcs({ ...base, ...change });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).details.field).toBe(field);
  });
});

describe('attendee participation', () => {
  it('states the attendee as accepted in a REQUEST and asks for no reply', () => {
    expect(prop(buildIcs(base), 'ATTENDEE').params).toBe(
      ';CN="Jana Nováková";CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;RSVP=FALSE',
    );
    expect(prop(buildIcs({ ...base, method: 'CANCEL' }), 'ATTENDEE').params).toBe(
      ';CN="Jana Nováková";CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;RSVP=FALSE',
    );
  });
});
