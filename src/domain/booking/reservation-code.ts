import { compoundStreamName } from '../catalog/stream-name.js';
import { invalid, requireId, requireInstant } from '../catalog/validation.js';
import type { Command, Decider, DomainEvent } from '../shared/decider.js';
import { IllegalStateError } from '../shared/errors.js';

/**
 * The short code a customer reads and types: six characters of an alphabet without look-alikes (Crockford's base32
 * less 0, 1 and the letters it already leaves out: I, L, O, U), e.g. `K7M2QX`. 30^6 = 729 million codes per tenant.
 *
 * Unique per tenant by construction: a code is claimed on a stream of its own (`reservationcode-<tenant>+<code>`),
 * appended with `no_stream`, before the reservation that carries it is recorded. The candidates of a reservation are
 * derived from its id (attempt 0, 1, ...), so a retried booking claims the same code again and a collision moves
 * to the next candidate, the same one on every retry.
 */
export const RESERVATION_CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTVWXYZ';
export const RESERVATION_CODE_LENGTH = 6;

const CODE_PATTERN = new RegExp(`^[${RESERVATION_CODE_ALPHABET}]{${RESERVATION_CODE_LENGTH}}$`);

/**
 * The code of a candidate from a hex digest (at least 12 hex digits; the application passes a derived UUID). The
 * first 48 bits are read as a number and written in base 30: the bias of the modulo is below 1e-5.
 */
export function codeFromDigest(hex: string): string {
  const digits = hex.replace(/[^0-9a-fA-F]/g, '').slice(0, 12);
  if (digits.length < 12) throw new Error('codeFromDigest needs at least 12 hex digits');
  let value = BigInt(`0x${digits}`);
  const base = BigInt(RESERVATION_CODE_ALPHABET.length);
  let code = '';
  for (let i = 0; i < RESERVATION_CODE_LENGTH; i++) {
    code = RESERVATION_CODE_ALPHABET[Number(value % base)] + code;
    value /= base;
  }
  return code;
}

/** What a person typed (any case, with spaces or dashes) as a code, or null when it cannot be one. */
export function normalizeReservationCode(input: string): string | null {
  const compact = input.replace(/[\s-]/g, '').toUpperCase();
  return CODE_PATTERN.test(compact) ? compact : null;
}

export function isReservationCode(value: unknown): value is string {
  return typeof value === 'string' && CODE_PATTERN.test(value);
}

/** Validation for commands that carry a code (undefined stays undefined). */
export function optionalReservationCode(field: string, value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isReservationCode(value)) {
    throw invalid(
      field,
      'reservation-code',
      `${field} must be ${RESERVATION_CODE_LENGTH} characters of ${RESERVATION_CODE_ALPHABET}.`,
    );
  }
  return value;
}

export function reservationCodeStreamName(tenantId: string, code: string): string {
  if (!isReservationCode(code)) throw invalid('code', 'reservation-code', 'Not a reservation code.');
  return compoundStreamName('reservationcode', tenantId, code);
}

// Claim decider ------------------------------------------------------------------------------------------------------

export type ReservationCodeState =
  | { readonly status: 'free' }
  | { readonly status: 'claimed'; readonly code: string; readonly reservationId: string; readonly claimedAt: string };

export type ClaimReservationCode = Command<
  'ClaimReservationCode',
  { readonly code: string; readonly reservationId: string; readonly now: string }
>;

export type ReservationCodeClaimed = DomainEvent<
  'ReservationCodeClaimed',
  { readonly code: string; readonly reservationId: string; readonly claimedAt: string }
>;

/** A claim is for good: a reservation that was never recorded after its claim leaves the code unused. */
export const reservationCodeDecider: Decider<ClaimReservationCode, ReservationCodeState, ReservationCodeClaimed> = {
  initialState: () => ({ status: 'free' }),
  decide(command, state) {
    const { code, now } = command.data;
    const reservationId = requireId('reservationId', command.data.reservationId);
    if (!isReservationCode(code)) throw invalid('code', 'reservation-code', 'Not a reservation code.');
    const claimedAt = requireInstant('now', now);
    if (state.status === 'claimed') {
      if (state.reservationId === reservationId) return [];
      throw new IllegalStateError('reservation-code-taken', `Code ${code} belongs to another reservation.`, { code });
    }
    return [{ type: 'ReservationCodeClaimed', data: { code, reservationId, claimedAt } }];
  },
  evolve(_state, event) {
    return { status: 'claimed', ...event.data };
  },
};
