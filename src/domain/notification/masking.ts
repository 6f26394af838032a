import { contactKindOf, type Channel } from './kinds.js';

/**
 * Masking for the audit trail: enough to recognise a recipient when asked about them, not enough to harvest
 * addresses from a screenshot or an export.
 */

/** `jana.novak@example.com` -> `j***@example.com`. Not an address at all -> first character and `***`. */
export function maskEmail(address: string): string {
  const trimmed = address.trim();
  const at = trimmed.lastIndexOf('@');
  if (at <= 0) return `${firstChar(trimmed)}***`;
  return `${firstChar(trimmed)}***@${trimmed.slice(at + 1).toLowerCase()}`;
}

/**
 * `+420771234589` -> `+42077****89`: the country code and operator prefix stay (useful for support), the middle
 * is replaced by a fixed `****` so that not even the length leaks. Short numbers reveal less.
 */
export function maskPhone(phone: string): string {
  const compact = phone.trim().replace(/[\s\-.()]/g, '');
  const plus = compact.startsWith('+') ? '+' : '';
  const digits = plus ? compact.slice(1) : compact;
  if (digits.length <= 4) return `${plus}****`;
  const head = digits.length >= 9 ? 5 : 2;
  return `${plus}${digits.slice(0, head)}****${digits.slice(-2)}`;
}

/** `123456789` -> `12****89`: a Telegram chat id, masked like a number. */
export function maskChatId(chatId: string): string {
  const trimmed = chatId.trim();
  const sign = trimmed.startsWith('-') ? '-' : '';
  const digits = sign ? trimmed.slice(1) : trimmed;
  if (digits.length <= 4) return `${sign}****`;
  return `${sign}${digits.slice(0, 2)}****${digits.slice(-2)}`;
}

/** A push registration token: its first and last four characters, enough to tell two devices apart. */
export function maskDeviceToken(token: string): string {
  const trimmed = token.trim();
  return trimmed.length <= 12 ? '****' : `${trimmed.slice(0, 4)}****${trimmed.slice(-4)}`;
}

/** A Pusher channel name is not personal (the tenant names it: `front-desk`, `offers`): shown as it is. */
export function maskAddress(channel: Channel, address: string): string {
  const kind = contactKindOf(channel);
  return kind === 'email'
    ? maskEmail(address)
    : kind === 'telegram'
      ? maskChatId(address)
      : kind === 'device'
        ? maskDeviceToken(address)
        : kind === 'live-channel'
          ? address
          : maskPhone(address);
}

function firstChar(text: string): string {
  const [first] = text;
  return first ?? '';
}
