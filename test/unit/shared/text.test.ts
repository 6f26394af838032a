import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isEmailAddress } from '../../../src/domain/shared/email-address.js';
import { ValidationError } from '../../../src/domain/shared/errors.js';
import { findUnsafeCharacter, neutraliseText, requireSafeText } from '../../../src/domain/shared/text.js';

const BIDI = [
  '\u202A',
  '\u202B',
  '\u202C',
  '\u202D',
  '\u202E',
  '\u2066',
  '\u2067',
  '\u2068',
  '\u2069',
  '\u200E',
  '\u200F',
  '\u061C',
];
const SEPARATORS = ['\u2028', '\u2029', '\u0085'];
const CONTROLS = ['\u0000', '\u0007', '\u000B', '\u000C', '\u001B', '\u007F', '\u0080', '\u009F'];

describe('findUnsafeCharacter', () => {
  it('finds every bidi control, separator and control character, in lines and in multi-line text', () => {
    for (const character of [...BIDI, ...SEPARATORS, ...CONTROLS, '\r']) {
      for (const kind of ['line', 'multiline'] as const) {
        const found = findUnsafeCharacter(`ab${character}cd`, kind);
        expect(found, `${kind} ${JSON.stringify(character)}`).toMatchObject({ index: 2 });
      }
    }
    expect(findUnsafeCharacter('a\u202Eb', 'line')).toEqual({
      character: 'U+202E',
      name: 'RIGHT-TO-LEFT OVERRIDE',
      index: 1,
    });
  });

  it('allows LF, TAB and CRLF in multi-line text only', () => {
    expect(findUnsafeCharacter('a\nb\tc', 'multiline')).toBeNull();
    expect(findUnsafeCharacter('a\r\nb', 'multiline')).toBeNull();
    expect(findUnsafeCharacter('a\nb', 'line')).toMatchObject({ character: 'U+000A' });
    expect(findUnsafeCharacter('a\tb', 'line')).toMatchObject({ character: 'U+0009' });
  });

  it('leaves letters, emoji (joiners included), RTL scripts and non-breaking spaces alone', () => {
    for (const text of ['Zoë Ølstad', 'Łódź', '山田太郎', 'שלום', 'مرحبا', '👩‍👩‍👧', 'a\u00A0b', '\u200D', 'Dvořák']) {
      expect(findUnsafeCharacter(text, 'line'), text).toBeNull();
    }
  });
});

describe('requireSafeText', () => {
  it('refuses with a ValidationError naming the field and the character; CRLF normalised in multi-line text', () => {
    expect(() => requireSafeText('customer.name', 'Ada\r\nBcc: x', 'line')).toThrow(ValidationError);
    try {
      requireSafeText('customer.name', 'Ada\u2028', 'line');
    } catch (error) {
      expect(error).toMatchObject({
        code: 'unsafe-text',
        details: { field: 'customer.name', rule: 'unsafe-character', character: 'U+2028' },
      });
    }
    expect(requireSafeText('footer', 'a\r\nb', 'multiline')).toBe('a\nb');
  });
});

describe('neutraliseText', () => {
  it('turns line breaks into spaces in a line and keeps them in multi-line text, dropping the rest', () => {
    expect(neutraliseText('Ada\u202E\r\nBcc: x\u2028y', 'line')).toBe('Ada Bcc: x y');
    expect(neutraliseText('Ada\u202E\r\nBcc\u2029x\u0085y', 'multiline')).toBe('Ada\nBcc\n\nx\ny');
    expect(neutraliseText('Safe text', 'line')).toBe('Safe text');
  });

  it('never leaves an unsafe character, and changes no safe text (property)', () => {
    const anyText = fc.string({ unit: 'binary', maxLength: 60 });
    fc.assert(
      fc.property(anyText, fc.constantFrom('line' as const, 'multiline' as const), (text, kind) => {
        expect(findUnsafeCharacter(neutraliseText(text, kind), kind)).toBeNull();
        if (findUnsafeCharacter(text, kind) === null && !text.includes('\r\n')) {
          expect(neutraliseText(text, kind)).toBe(text);
        }
      }),
    );
  });
});

describe('isEmailAddress', () => {
  it('accepts internationalised addresses and refuses what could split or corrupt a header', () => {
    for (const ok of [
      'ada@example.com',
      'user@exämple.com',
      'jøran@exämple.no',
      'a.b+tag@sub.example.co.uk',
      '用户@例子.广告',
    ]) {
      expect(isEmailAddress(ok), ok).toBe(true);
    }
    for (const bad of [
      'ada@example',
      'a,b@example.com',
      'a@b@example.com',
      'a b@example.com',
      '<a@example.com>',
      'a@example.com\r\n',
      'a\u202E@example.com',
      'a@example.',
      `${'a'.repeat(250)}@example.com`,
    ]) {
      expect(isEmailAddress(bad), JSON.stringify(bad)).toBe(false);
    }
  });
});
