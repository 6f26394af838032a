import { findUnsafeCharacter } from './text.js';

/**
 * The one rule for email addresses, at the edge and in the domain: deliberately loose (deliverability is the
 * provider's judgement) but safe in a header. One @; a local part and a domain without whitespace, control or bidi
 * characters and without the characters that separate or quote addresses in a header (`,;:<>()[]\"`); a dot in
 * the domain. Internationalised addresses are accepted (`user@exämple.com`, `jøran@exämple.no`): the SMTP adapter
 * converts the domain to punycode and asks for SMTPUTF8 where the local part needs it.
 */
const EMAIL_PATTERN = /^[^\s@,;:<>()[\]\\"]+@[^\s@,;:<>()[\]\\"]+\.[^\s@,;:<>()[\]\\".]+$/u;

export function isEmailAddress(value: string): boolean {
  return value.length <= 254 && EMAIL_PATTERN.test(value) && findUnsafeCharacter(value, 'line') === null;
}
