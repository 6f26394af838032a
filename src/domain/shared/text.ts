import { ValidationError } from './errors.js';

/**
 * Text hygiene for everything that can reach an email header or subject, an SMS or an HTTP header: the one place
 * that says which characters are unsafe. Two kinds of field:
 *
 * - `line` (names, subjects, sender names, addresses of places, reasons, external references...): one line of
 *   text. Refused: every C0 control (CR, LF, TAB, VT, FF, NUL...), DEL, every C1 control (NEL U+0085 among them),
 *   the line and paragraph separators U+2028/U+2029, and the bidi controls (U+202A-U+202E, U+2066-U+2069,
 *   U+200E/U+200F, U+061C) that let a name reorder the rest of a subject line.
 * - `multiline` (message texts, footers, descriptions): the same, except that LF and TAB are allowed (CRLF is
 *   normalised to LF first, so text pasted from Windows stays valid; a lone CR is still refused).
 *
 * The rule per use: input (request fields, settings texts) is refused with a ValidationError naming the field
 * (HTTP 400); text rendered into a message from data recorded before this rule existed (placeholder values) is
 * neutralised instead, because a recorded fact cannot be refused any more.
 */
export type TextKind = 'line' | 'multiline';

const BIDI_CONTROLS = new Set([
  0x061c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069,
]);

function isUnsafe(codePoint: number, kind: TextKind): boolean {
  if (codePoint < 0x20) return !(kind === 'multiline' && (codePoint === 0x0a || codePoint === 0x09));
  if (codePoint >= 0x7f && codePoint <= 0x9f) return true; // DEL and C1, NEL (U+0085) among them
  return codePoint === 0x2028 || codePoint === 0x2029 || BIDI_CONTROLS.has(codePoint);
}

const CHARACTER_NAMES: Record<number, string> = {
  0x09: 'TAB',
  0x0a: 'LF (line feed)',
  0x0b: 'VT (vertical tab)',
  0x0c: 'FF (form feed)',
  0x0d: 'CR (carriage return)',
  0x85: 'NEL (next line)',
  0x2028: 'LINE SEPARATOR',
  0x2029: 'PARAGRAPH SEPARATOR',
  0x202e: 'RIGHT-TO-LEFT OVERRIDE',
  0x202d: 'LEFT-TO-RIGHT OVERRIDE',
};

/** `U+202E`, the notation used in error messages. */
export function codePointLabel(codePoint: number): string {
  return `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
}

export interface UnsafeCharacter {
  /** e.g. `U+202E` */
  readonly character: string;
  /** A readable name for the common ones, else `control or bidi character`. */
  readonly name: string;
  /** Index (in UTF-16 code units) in the text as given. */
  readonly index: number;
}

/** CRLF becomes LF in multi-line text; line text is left as it is (a CR in it is refused). */
export function normaliseLineBreaks(text: string, kind: TextKind): string {
  return kind === 'multiline' && text.includes('\r\n') ? text.replaceAll('\r\n', '\n') : text;
}

/** The first character `kind` does not allow, or null when the text is safe. */
export function findUnsafeCharacter(text: string, kind: TextKind): UnsafeCharacter | null {
  const normalised = normaliseLineBreaks(text, kind);
  for (let index = 0; index < normalised.length; index++) {
    const codePoint = normalised.charCodeAt(index);
    // Every unsafe character is in the BMP and never a surrogate, so code units are enough.
    if (isUnsafe(codePoint, kind)) {
      return {
        character: codePointLabel(codePoint),
        name: CHARACTER_NAMES[codePoint] ?? 'control or bidi character',
        index,
      };
    }
  }
  return null;
}

/** The message a refused text gets: names the character, never echoes the text. */
export function unsafeTextMessage(field: string, unsafe: UnsafeCharacter, kind: TextKind): string {
  const allowed = kind === 'line' ? 'one line of text' : 'text without control characters other than line breaks';
  return `${field} must be ${allowed}: ${unsafe.character} ${unsafe.name} at position ${unsafe.index} is not allowed.`;
}

/**
 * `value` when it is safe for `kind` (multi-line text with CRLF normalised to LF); otherwise a ValidationError with
 * code `unsafe-text` and `details: { field, rule: 'unsafe-character', character }` (HTTP 400 naming the field).
 */
export function requireSafeText(field: string, value: string, kind: TextKind): string {
  const unsafe = findUnsafeCharacter(value, kind);
  if (unsafe) {
    throw new ValidationError('unsafe-text', unsafeTextMessage(field, unsafe, kind), {
      field,
      rule: 'unsafe-character',
      character: unsafe.character,
    });
  }
  return normaliseLineBreaks(value, kind);
}

/**
 * Makes recorded text safe to render: in a `line`, every line break or separator becomes one space and other
 * unsafe characters are dropped; in `multiline` text, line breaks are kept as LF and the rest is dropped.
 */
export function neutraliseText(text: string, kind: TextKind): string {
  if (findUnsafeCharacter(text, kind) === null) return normaliseLineBreaks(text, kind);
  let out = '';
  for (const char of normaliseLineBreaks(text, kind)) {
    const codePoint = char.codePointAt(0)!;
    if (!isUnsafe(codePoint, kind)) out += char;
    else if (codePoint === 0x0a || codePoint === 0x0d || codePoint === 0x85 || codePoint === 0x2028) {
      out += kind === 'multiline' ? '\n' : ' ';
    } else if (codePoint === 0x2029) out += kind === 'multiline' ? '\n\n' : ' ';
    else if (codePoint === 0x09 || codePoint === 0x0b || codePoint === 0x0c) out += ' ';
  }
  return kind === 'line' ? out.replace(/ {2,}/g, ' ') : out;
}
