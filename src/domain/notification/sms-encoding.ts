/**
 * SMS length and segmentation (3GPP TS 23.038 / GSM 03.38, TS 23.040 concatenation).
 *
 * GSM-7: 160 septets in one part; a concatenated part loses 7 septets to the UDH, leaving 153. Extension-table
 * characters take two septets (ESC + code) and are never split across parts, so such a part may carry only 152.
 * UCS-2: 70 UTF-16 code units in one part, 67 per concatenated part; a surrogate pair (emoji) is never split.
 */

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface SmsAnalysis {
  readonly encoding: SmsEncoding;
  /** Number of parts the provider will bill; 0 for an empty text. */
  readonly parts: number;
  /** Capacity of one part in this encoding: 160/153 septets or 70/67 UTF-16 units. */
  readonly charactersPerPart: number;
  /** Total length: septets for GSM-7 (extension characters count 2), UTF-16 code units for UCS-2. */
  readonly length: number;
}

// The GSM 03.38 default alphabet, in code order. Position 0x1B (ESC) is the escape to the extension table,
// not a character, so it is absent here.
const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_BASIC_SET: ReadonlySet<string> = new Set([...GSM_BASIC].filter((c) => c !== '\u001b'));
/** Default extension table characters: each costs ESC + code = 2 septets. */
const GSM_EXTENSION_SET: ReadonlySet<string> = new Set(['\f', '^', '{', '}', '\\', '[', '~', ']', '|', '€']);

export const SMS_LIMITS = {
  'GSM-7': { single: 160, multi: 153 },
  'UCS-2': { single: 70, multi: 67 },
} as const;

/** Septets one character costs in GSM-7, or undefined when it is not representable. */
export function gsmSeptets(char: string): 1 | 2 | undefined {
  if (GSM_BASIC_SET.has(char)) return 1;
  if (GSM_EXTENSION_SET.has(char)) return 2;
  return undefined;
}

export function isGsm7(text: string): boolean {
  for (const char of text) if (gsmSeptets(char) === undefined) return false;
  return true;
}

/** The cost of one code point: septets in GSM-7, UTF-16 units in UCS-2. */
function unitsOf(char: string, encoding: SmsEncoding): number {
  return encoding === 'GSM-7' ? (gsmSeptets(char) ?? 0) : char.length;
}

function totalLength(text: string, encoding: SmsEncoding): number {
  let total = 0;
  for (const char of text) total += unitsOf(char, encoding);
  return total;
}

export function smsEncodingOf(text: string): SmsEncoding {
  return isGsm7(text) ? 'GSM-7' : 'UCS-2';
}

/**
 * The text as the parts a handset receives. Iterates by code point, so a surrogate pair stays whole; an extension
 * character that does not fit in the rest of a part starts the next one.
 */
export function segmentSms(text: string): string[] {
  if (text.length === 0) return [];
  const encoding = smsEncodingOf(text);
  const limits = SMS_LIMITS[encoding];
  if (totalLength(text, encoding) <= limits.single) return [text];
  const parts: string[] = [];
  let current = '';
  let used = 0;
  for (const char of text) {
    const cost = unitsOf(char, encoding);
    if (used + cost > limits.multi) {
      parts.push(current);
      current = '';
      used = 0;
    }
    current += char;
    used += cost;
  }
  if (current.length > 0) parts.push(current);
  return parts;
}

export function analyzeSms(text: string): SmsAnalysis {
  const encoding = smsEncodingOf(text);
  const limits = SMS_LIMITS[encoding];
  const length = totalLength(text, encoding);
  const parts = segmentSms(text).length;
  return { encoding, parts, charactersPerPart: parts > 1 ? limits.multi : limits.single, length };
}
