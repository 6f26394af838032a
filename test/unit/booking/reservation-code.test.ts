import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  codeFromDigest,
  isReservationCode,
  normalizeReservationCode,
  RESERVATION_CODE_ALPHABET,
  reservationCodeDecider,
  reservationCodeStreamName,
  type ReservationCodeClaimed,
} from '../../../src/domain/booking/reservation-code.js';
import {
  reservationDecider,
  type RecordExternalReservation,
  type ReservationConfirmed,
  type RequestReservation,
} from '../../../src/domain/booking/reservation.decider.js';
import { IllegalStateError, ValidationError } from '../../../src/domain/shared/errors.js';
import { deciderSpec } from '../support/decider-spec.js';

describe('reservation codes', () => {
  it('are six characters of an alphabet without 0, O, 1, I, L (and U)', () => {
    expect(RESERVATION_CODE_ALPHABET).toHaveLength(30);
    for (const lookAlike of ['0', 'O', '1', 'I', 'L', 'U']) expect(RESERVATION_CODE_ALPHABET).not.toContain(lookAlike);
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9a-f]{32}$/), (hex) => {
        const code = codeFromDigest(hex);
        expect(code).toMatch(/^[23456789ABCDEFGHJKMNPQRSTVWXYZ]{6}$/);
        expect(codeFromDigest(hex)).toBe(code);
      }),
    );
  });

  it('come from the digest: different digests spread over the codes', () => {
    const codes = new Set(
      Array.from({ length: 2000 }, (_, i) =>
        codeFromDigest(i.toString(16).padStart(12, '0').split('').reverse().join('')),
      ),
    );
    expect(codes.size).toBeGreaterThan(1990);
  });

  it('are read as people type them: any case, dashes and spaces ignored; look-alikes are not codes', () => {
    expect(normalizeReservationCode('k7m-2qx')).toBe('K7M2QX');
    expect(normalizeReservationCode(' K7M 2QX ')).toBe('K7M2QX');
    expect(normalizeReservationCode('K0M2QX')).toBeNull();
    expect(normalizeReservationCode('KLM2QX')).toBeNull();
    expect(normalizeReservationCode('K7M2Q')).toBeNull();
    expect(normalizeReservationCode('3f2a9c4e-8b1d-4c57-9d2e-0b8f5a7c3e21')).toBeNull();
    expect(isReservationCode('k7m2qx')).toBe(false);
    expect(reservationCodeStreamName('acme', 'K7M2QX')).toBe('reservationcode-acme+K7M2QX');
  });
});

describe('reservation code claims', () => {
  const spec = deciderSpec(reservationCodeDecider);
  const claim = (reservationId: string) => ({
    type: 'ClaimReservationCode' as const,
    data: { code: 'K7M2QX', reservationId, now: '2025-03-20T10:00:00.000Z' },
  });
  const claimed: ReservationCodeClaimed = {
    type: 'ReservationCodeClaimed',
    data: { code: 'K7M2QX', reservationId: 'r-1', claimedAt: '2025-03-20T10:00:00.000Z' },
  };

  it('a free code is claimed for the reservation', () => {
    spec.given([]).when(claim('r-1')).then([claimed]);
  });

  it('the same reservation claiming it again is a retry', () => {
    spec.given([claimed]).when(claim('r-1')).then([]);
  });

  it('another reservation cannot have it', () => {
    spec.given([claimed]).when(claim('r-2')).thenThrows(IllegalStateError, { code: 'reservation-code-taken' });
  });
});

describe('the reservation carries its code', () => {
  const spec = deciderSpec(reservationDecider);
  const external: RecordExternalReservation['data'] = {
    reservationId: 'r-9',
    tenantId: 'acme',
    customer: { name: 'Kari', email: 'kari@example.no', locale: 'nb' },
    serviceName: 'Sauna',
    location: { name: 'Spa', address: 'Gate 1, Oslo', timeZone: 'Europe/Oslo' },
    start: '2030-03-30T07:00:00.000Z',
    end: '2030-03-30T08:00:00.000Z',
    external: { system: 'pos', reference: 'R-9' },
    now: '2030-03-20T10:00:00.000Z',
    actor: 'apikey:k',
  };
  const record = (code?: string): RecordExternalReservation => ({
    type: 'RecordExternalReservation',
    data: { ...external, ...(code ? { code } : {}) },
  });

  it('in the recorded event', () => {
    const [event] = reservationDecider.decide(record('K7M2QX'), reservationDecider.initialState());
    expect((event as ReservationConfirmed).data.reservation.code).toBe('K7M2QX');
  });

  it('refuses a code that is not one', () => {
    spec.given([]).when(record('k7m2qx')).thenThrows(ValidationError, { code: 'invalid-input' });
  });

  it('a retry of a reservation recorded before codes existed is still the same reservation', () => {
    const [old] = reservationDecider.decide(record(), reservationDecider.initialState()) as ReservationConfirmed[];
    spec.given([old!]).when(record('K7M2QX')).thenNothing();
  });

  it('a retry with another code than the recorded one is a clash', () => {
    const [recorded] = reservationDecider.decide(record('K7M2QX'), reservationDecider.initialState());
    spec
      .given([recorded as ReservationConfirmed])
      .when(record('AB2CDE'))
      .thenThrows(IllegalStateError, { code: 'reservation-already-exists' });
  });

  it('a catalog request keeps it too', () => {
    const request: RequestReservation = {
      type: 'RequestReservation',
      data: {
        reservationId: 'r-1',
        tenantId: 'acme',
        customer: { name: 'Kari', locale: 'nb' },
        serviceId: 's',
        serviceName: 'Cut',
        resourceId: 'res',
        locationId: 'loc',
        location: external.location,
        start: external.start,
        end: external.end,
        partySize: 1,
        requiresConfirmation: false,
        holdExpiresAt: '2030-03-20T10:10:00.000Z',
        code: 'K7M2QX',
        now: external.now,
        actor: 'apikey:k',
      },
    };
    const events = reservationDecider.decide(request, reservationDecider.initialState());
    expect(events.map((e) => (e.data as { reservation: { code?: string } }).reservation.code)).toEqual([
      'K7M2QX',
      'K7M2QX',
    ]);
  });
});
