import { describe, expect, it } from 'vitest';
import type {
  CancelReservation,
  ReservationCommand,
  ReservationDetails,
  ReservationEvent,
  ReservationRequested,
  RequestReservation,
  SlotReference,
} from '../../../src/domain/booking/reservation.decider.js';
import { reservationDecider, reservationStreamName } from '../../../src/domain/booking/reservation.decider.js';
import { IllegalStateError, NotFoundError, ValidationError } from '../../../src/domain/shared/errors.js';
import { deciderSpec } from '../support/decider-spec.js';

const spec = deciderSpec(reservationDecider);

const NOW = '2025-03-20T10:00:00.000Z';
const HOLD_UNTIL = '2025-03-20T10:10:00.000Z';
const START = '2025-03-30T07:00:00.000Z'; // 09:00 in Oslo, the first day of summer time
const END = '2025-03-30T08:00:00.000Z';
const AFTER_START = '2025-03-30T07:05:00.000Z';
const STAFF = 'staff:u-7';
const CUSTOMER = 'customer:c-42';

const requestData: RequestReservation['data'] = {
  reservationId: 'r-1',
  tenantId: 'acme',
  customer: { id: 'c-42', name: 'Kari Nordmann', email: 'kari@example.no', phone: '+4791234567', locale: 'nb-NO' },
  serviceId: 'svc-cut',
  serviceName: 'Haircut',
  resourceId: 'res-anna',
  locationId: 'loc-oslo',
  location: { name: 'Salon Grünerløkka', address: 'Thorvald Meyers gate 1, 0555 Oslo, NO', timeZone: 'Europe/Oslo' },
  start: START,
  end: END,
  partySize: 1,
  requiresConfirmation: true,
  holdExpiresAt: HOLD_UNTIL,
  now: NOW,
  actor: CUSTOMER,
};

const request = (overrides: Partial<RequestReservation['data']> = {}): RequestReservation => ({
  type: 'RequestReservation',
  data: { ...requestData, ...overrides },
});

const details: ReservationDetails = {
  reservationId: 'r-1',
  tenantId: 'acme',
  source: 'internal',
  customer: requestData.customer,
  serviceId: 'svc-cut',
  serviceName: 'Haircut',
  resourceId: 'res-anna',
  locationId: 'loc-oslo',
  location: requestData.location,
  start: START,
  end: END,
  partySize: 1,
  requiresConfirmation: true,
  external: null,
};

const slot: SlotReference = {
  serviceId: 'svc-cut',
  resourceId: 'res-anna',
  start: START,
  end: END,
  timeZone: 'Europe/Oslo',
  partySize: 1,
};

const stamped = { reservationId: 'r-1', now: NOW, actor: STAFF };
const at = (now: string, actor = STAFF) => ({ reservationId: 'r-1', now, actor });

// Events that bring the reservation into each status.
const requested: ReservationRequested = {
  type: 'ReservationRequested',
  data: { reservationId: 'r-1', reservation: details, holdExpiresAt: HOLD_UNTIL, requestedAt: NOW, actor: CUSTOMER },
};
const confirmed: ReservationEvent = {
  type: 'ReservationConfirmed',
  data: { reservationId: 'r-1', source: 'internal', reservation: details, confirmedAt: NOW, actor: STAFF },
};
const cancelled: ReservationEvent = {
  type: 'ReservationCancelled',
  data: {
    reservationId: 'r-1',
    by: 'customer',
    reason: '',
    previousStatus: 'confirmed',
    slot,
    cancelledAt: NOW,
    actor: CUSTOMER,
  },
};
const declined: ReservationEvent = {
  type: 'ReservationDeclined',
  data: { reservationId: 'r-1', reason: 'fully booked', slot, declinedAt: NOW, actor: STAFF },
};
const deleted: ReservationEvent = {
  type: 'ReservationDeleted',
  data: { reservationId: 'r-1', reason: '', previousStatus: 'requested', slot, deletedAt: NOW, actor: STAFF },
};
const notTaken: ReservationEvent = {
  type: 'ReservationMarkedNotTaken',
  data: { reservationId: 'r-1', reason: '', slot, markedAt: AFTER_START, actor: STAFF },
};
const completed: ReservationEvent = {
  type: 'ReservationCompleted',
  data: { reservationId: 'r-1', completedAt: AFTER_START, actor: STAFF },
};
const expired: ReservationEvent = {
  type: 'ReservationHoldExpired',
  data: { reservationId: 'r-1', holdExpiresAt: HOLD_UNTIL, slot, expiredAt: HOLD_UNTIL, actor: 'system:hold-expiry' },
};

const history = {
  requested: [requested],
  confirmed: [requested, confirmed],
  cancelled: [requested, confirmed, cancelled],
  declined: [requested, declined],
  deleted: [requested, deleted],
  'not-taken': [requested, confirmed, notTaken],
  completed: [requested, confirmed, completed],
  expired: [requested, expired],
} satisfies Record<string, ReservationEvent[]>;
type Status = keyof typeof history;

const statusesExcept = (...allowed: Status[]) =>
  (Object.keys(history) as Status[]).filter((status) => !allowed.includes(status));

describe('reservation decider', () => {
  it('names streams reservation-<tenant>+<id>', () => {
    expect(reservationStreamName('acme', 'r-1')).toBe('reservation-acme+r-1');
    expect(() => reservationStreamName('acme', 'r+1')).toThrow(ValidationError);
  });

  describe('RequestReservation', () => {
    it('records a request holding the slot until the hold expires', () => {
      spec.given([]).when(request()).then([requested]);
    });

    it('confirms at once when the service has no confirmation step', () => {
      const immediate = { ...details, requiresConfirmation: false };
      spec
        .given([])
        .when(request({ requiresConfirmation: false }))
        .then([
          { ...requested, data: { ...requested.data, reservation: immediate } },
          {
            type: 'ReservationConfirmed',
            data: {
              reservationId: 'r-1',
              source: 'internal',
              reservation: immediate,
              confirmedAt: NOW,
              actor: CUSTOMER,
            },
          },
        ]);
    });

    it('normalises instants with offsets to UTC', () => {
      const state = spec
        .given([])
        .when(request({ start: '2025-03-30T09:00:00+02:00', end: '2025-03-30T10:00+02:00' }))
        .then([requested]);
      expect(state).toMatchObject({ status: 'requested', reservation: { start: START, end: END } });
    });

    it('is a no-op when the same request is resent after confirmation', () => {
      spec.given(history.confirmed).when(request()).thenNothing();
    });

    it('refuses another reservation under an existing id', () => {
      spec
        .given(history.requested)
        .when(request({ partySize: 2 }))
        .thenThrows(IllegalStateError, { code: 'reservation-already-exists', details: { status: 'requested' } });
    });

    it.each([
      ['start', { start: '2025-03-30T09:00:00' }, 'instant-with-zone'],
      ['start', { start: '2025-03-19T09:00:00Z' }, 'in-the-past'],
      ['end', { end: START }, 'after-start'],
      ['holdExpiresAt', { holdExpiresAt: NOW }, 'after-now'],
      ['partySize', { partySize: 0 }, 'range'],
      ['partySize', { partySize: 1.5 }, 'integer'],
      ['location.timeZone', { location: { ...requestData.location, timeZone: 'Europe/Atlantis' } }, 'iana-time-zone'],
      ['customer.email', { customer: { ...requestData.customer, email: 'kari' } }, 'email'],
      ['customer.phone', { customer: { ...requestData.customer, phone: '91234567' } }, 'e164-phone'],
      ['customer.locale', { customer: { ...requestData.customer, locale: 'no_NO!' } }, 'bcp47-locale'],
      ['customer.name', { customer: { ...requestData.customer, name: ' ' } }, 'required'],
      ['actor', { actor: '' }, 'required'],
      ['reservationId', { reservationId: 'r 1' }, 'id'],
    ] as const)('rejects a bad %s (%o) with rule %s', (field, overrides, rule) => {
      spec
        .given([])
        .when(request(overrides as Partial<RequestReservation['data']>))
        .thenThrows(ValidationError, { code: 'invalid-input', details: { field, rule } });
    });
  });

  describe('RecordExternalReservation', () => {
    const external: ReservationCommand = {
      type: 'RecordExternalReservation',
      data: {
        reservationId: 'r-ext',
        tenantId: 'acme',
        customer: { name: 'Ola', phone: '+4798765432', locale: 'nb' },
        serviceName: 'Massage (booked by phone)',
        location: requestData.location,
        start: '2025-03-10T09:00:00Z',
        end: '2025-03-10T10:00:00Z',
        external: { system: 'legacy-pos', reference: 'B-991' },
        now: NOW,
        actor: 'integration:legacy-pos',
      },
    };
    const externalDetails: ReservationDetails = {
      reservationId: 'r-ext',
      tenantId: 'acme',
      source: 'external',
      customer: { name: 'Ola', phone: '+4798765432', locale: 'nb' },
      serviceId: null,
      serviceName: 'Massage (booked by phone)',
      resourceId: null,
      locationId: null,
      location: requestData.location,
      start: '2025-03-10T09:00:00.000Z',
      end: '2025-03-10T10:00:00.000Z',
      partySize: 1,
      requiresConfirmation: false,
      external: { system: 'legacy-pos', reference: 'B-991' },
    };

    it('records a finalized reservation of another system as confirmed, even in the past, without a service id', () => {
      const state = spec
        .given([])
        .when(external)
        .then([
          {
            type: 'ReservationConfirmed',
            data: {
              reservationId: 'r-ext',
              source: 'external',
              reservation: externalDetails,
              confirmedAt: NOW,
              actor: 'integration:legacy-pos',
              // It ended before it was recorded: a historical import, which nobody is sent a confirmation of.
              historical: true,
            },
          },
        ]);
      expect(state.status).toBe('confirmed');
    });

    it('marks an external reservation historical only once it has ended (one under way is not)', () => {
      const underWay = { ...external, data: { ...external.data, start: '2025-03-20T09:30:00Z', end: NOW } };
      const [ended] = reservationDecider.decide(underWay, reservationDecider.initialState());
      expect(ended!.data).toMatchObject({ historical: true });
      const running = {
        ...external,
        data: { ...external.data, start: '2025-03-20T09:30:00Z', end: '2025-03-20T10:00:01Z' },
      };
      const [confirmed] = reservationDecider.decide(running, reservationDecider.initialState());
      expect(confirmed!.data).not.toHaveProperty('historical');
    });

    it('refuses a different reservation under the same id', () => {
      const replayed = {
        ...external,
        data: { ...external.data, start: '2025-03-10T11:00:00Z', end: '2025-03-10T12:00:00Z' },
      };
      spec
        .given([
          {
            type: 'ReservationConfirmed',
            data: {
              reservationId: 'r-ext',
              source: 'external',
              reservation: externalDetails,
              confirmedAt: NOW,
              actor: 'x',
            },
          },
        ])
        .when(replayed)
        .thenThrows(IllegalStateError, { code: 'reservation-already-exists' });
    });

    it('requires the external reference', () => {
      const { external: _missing, ...withoutReference } = external.data as Extract<
        ReservationCommand,
        { type: 'RecordExternalReservation' }
      >['data'];
      spec
        .given([])
        .when({ type: 'RecordExternalReservation', data: withoutReference } as ReservationCommand)
        .thenThrows(ValidationError, { details: { field: 'external', rule: 'required' } });
    });
  });

  describe('ConfirmReservation', () => {
    const confirm: ReservationCommand = { type: 'ConfirmReservation', data: stamped };

    it('finalizes a requested reservation, carrying the whole reservation', () => {
      spec.given(history.requested).when(confirm).then([confirmed]);
    });

    it('is a no-op on a confirmed reservation', () => {
      spec.given(history.confirmed).when(confirm).thenNothing();
    });

    it.each(statusesExcept('requested', 'confirmed'))('refuses a %s reservation', (status) => {
      spec
        .given(history[status])
        .when(confirm)
        .thenThrows(IllegalStateError, {
          code: 'reservation-not-confirmable',
          details: { status, reservationId: 'r-1' },
        });
    });

    it('does not know a reservation that was never requested', () => {
      spec.given([]).when(confirm).thenThrows(NotFoundError, { code: 'reservation-not-found' });
    });
  });

  describe('CancelReservation', () => {
    const cancel = (by: 'customer' | 'staff', reason?: string): CancelReservation => ({
      type: 'CancelReservation',
      data: { ...at(NOW, by === 'customer' ? CUSTOMER : STAFF), by, ...(reason === undefined ? {} : { reason }) },
    });

    it('cancels a requested reservation for the customer', () => {
      spec
        .given(history.requested)
        .when(cancel('customer', 'ill'))
        .then([
          {
            type: 'ReservationCancelled',
            data: {
              reservationId: 'r-1',
              by: 'customer',
              reason: 'ill',
              previousStatus: 'requested',
              slot,
              cancelledAt: NOW,
              actor: CUSTOMER,
            },
          },
        ]);
    });

    it('cancels a confirmed reservation for staff', () => {
      spec
        .given(history.confirmed)
        .when(cancel('staff', 'stylist sick'))
        .then([
          {
            type: 'ReservationCancelled',
            data: {
              reservationId: 'r-1',
              by: 'staff',
              reason: 'stylist sick',
              previousStatus: 'confirmed',
              slot,
              cancelledAt: NOW,
              actor: STAFF,
            },
          },
        ]);
    });

    it('is a no-op on a cancelled reservation, whoever asks', () => {
      spec.given(history.cancelled).when(cancel('staff')).thenNothing();
    });

    it.each(statusesExcept('requested', 'confirmed', 'cancelled'))('refuses a %s reservation', (status) => {
      spec
        .given(history[status])
        .when(cancel('customer'))
        .thenThrows(IllegalStateError, { code: 'reservation-not-cancellable', details: { status } });
    });

    it('needs to know who cancels', () => {
      spec
        .given(history.confirmed)
        .when({ type: 'CancelReservation', data: { ...stamped, by: 'robot' as 'staff' } })
        .thenThrows(ValidationError, { details: { field: 'by', rule: 'one-of' } });
    });

    it('does not know a reservation that was never requested', () => {
      spec.given([]).when(cancel('customer')).thenThrows(NotFoundError, { code: 'reservation-not-found' });
    });
  });

  describe('DeclineReservation', () => {
    const decline: ReservationCommand = { type: 'DeclineReservation', data: { ...stamped, reason: 'fully booked' } };

    it('declines a requested reservation with the reason', () => {
      spec.given(history.requested).when(decline).then([declined]);
    });

    it('is a no-op on a declined reservation', () => {
      spec.given(history.declined).when(decline).thenNothing();
    });

    it.each(statusesExcept('requested', 'declined'))(
      'refuses a %s reservation (a confirmed one is cancelled instead)',
      (status) => {
        spec
          .given(history[status])
          .when(decline)
          .thenThrows(IllegalStateError, { code: 'reservation-not-declinable', details: { status } });
      },
    );
  });

  describe('DeleteReservation', () => {
    const remove: ReservationCommand = { type: 'DeleteReservation', data: { ...stamped, reason: 'duplicate' } };

    it.each(statusesExcept('deleted'))('deletes a %s reservation, recording what it was', (status) => {
      spec
        .given(history[status])
        .when(remove)
        .then([
          {
            type: 'ReservationDeleted',
            data: {
              reservationId: 'r-1',
              reason: 'duplicate',
              previousStatus: status as never,
              slot,
              deletedAt: NOW,
              actor: STAFF,
            },
          },
        ]);
    });

    it('is a no-op on a deleted reservation', () => {
      spec.given(history.deleted).when(remove).thenNothing();
    });

    it('does not know a reservation that was never requested', () => {
      spec.given([]).when(remove).thenThrows(NotFoundError);
    });
  });

  describe('MarkNotTaken', () => {
    const mark = (now: string): ReservationCommand => ({ type: 'MarkNotTaken', data: at(now) });

    it('marks a confirmed reservation as a no-show once it has started', () => {
      spec.given(history.confirmed).when(mark(AFTER_START)).then([notTaken]);
    });

    it('refuses before the reservation starts', () => {
      spec
        .given(history.confirmed)
        .when(mark(NOW))
        .thenThrows(IllegalStateError, { code: 'reservation-not-started', details: { start: START } });
    });

    it('is a no-op on a reservation already marked', () => {
      spec.given(history['not-taken']).when(mark(AFTER_START)).thenNothing();
    });

    it.each(statusesExcept('confirmed', 'not-taken'))('refuses a %s reservation', (status) => {
      spec
        .given(history[status])
        .when(mark(AFTER_START))
        .thenThrows(IllegalStateError, { code: 'reservation-not-markable-not-taken', details: { status } });
    });
  });

  describe('CompleteReservation', () => {
    const complete = (now: string): ReservationCommand => ({ type: 'CompleteReservation', data: at(now) });

    it('completes a confirmed reservation once it has started', () => {
      spec.given(history.confirmed).when(complete(AFTER_START)).then([completed]);
    });

    it('refuses before the reservation starts', () => {
      spec
        .given(history.confirmed)
        .when(complete(NOW))
        .thenThrows(IllegalStateError, { code: 'reservation-not-started' });
    });

    it('is a no-op on a completed reservation', () => {
      spec.given(history.completed).when(complete(AFTER_START)).thenNothing();
    });

    it.each(statusesExcept('confirmed', 'completed'))('refuses a %s reservation', (status) => {
      spec
        .given(history[status])
        .when(complete(AFTER_START))
        .thenThrows(IllegalStateError, { code: 'reservation-not-completable', details: { status } });
    });
  });

  describe('ExpireHold', () => {
    const expire = (now: string): ReservationCommand => ({ type: 'ExpireHold', data: at(now, 'system:hold-expiry') });

    it('expires a request whose hold has run out', () => {
      spec.given(history.requested).when(expire(HOLD_UNTIL)).then([expired]);
    });

    it('refuses while the hold still runs, so an early job can retry', () => {
      spec
        .given(history.requested)
        .when(expire('2025-03-20T10:09:59.999Z'))
        .thenThrows(IllegalStateError, {
          code: 'reservation-hold-not-expired',
          details: { holdExpiresAt: HOLD_UNTIL },
        });
    });

    it.each(statusesExcept('requested'))('is a no-op on a %s reservation: no hold is left to expire', (status) => {
      spec.given(history[status]).when(expire('2025-04-01T00:00:00Z')).thenNothing();
    });

    it('does not know a reservation that was never requested', () => {
      spec.given([]).when(expire(HOLD_UNTIL)).thenThrows(NotFoundError);
    });
  });

  describe('RescheduleReservation', () => {
    const NEW_START = '2025-03-31T07:00:00.000Z';
    const NEW_END = '2025-03-31T08:00:00.000Z';
    const reschedule = (overrides: Record<string, unknown> = {}): ReservationCommand => ({
      type: 'RescheduleReservation',
      data: {
        ...stamped,
        newStart: NEW_START,
        newEnd: NEW_END,
        newResourceId: 'res-bo',
        reason: 'customer asked',
        ...overrides,
      },
    });
    const rescheduled = (status: 'requested' | 'confirmed'): ReservationEvent => ({
      type: 'ReservationRescheduled',
      data: {
        reservationId: 'r-1',
        status,
        previous: { start: START, end: END, resourceId: 'res-anna' },
        new: { start: NEW_START, end: NEW_END, resourceId: 'res-bo' },
        timeZone: 'Europe/Oslo',
        partySize: 1,
        serviceId: 'svc-cut',
        reason: 'customer asked',
        rescheduledAt: NOW,
        actor: STAFF,
      },
    });

    it.each(['requested', 'confirmed'] as const)(
      'moves a %s reservation to the new slot, keeping its status',
      (status) => {
        const state = spec
          .given(history[status])
          .when(reschedule())
          .then([rescheduled(status)]);
        expect(state).toMatchObject({ status, reservation: { start: NEW_START, end: NEW_END, resourceId: 'res-bo' } });
      },
    );

    it('keeps the resource when none is given', () => {
      spec
        .given(history.confirmed)
        .when(reschedule({ newResourceId: undefined }))
        .then([
          {
            ...rescheduled('confirmed'),
            data: { ...rescheduled('confirmed').data, new: { start: NEW_START, end: NEW_END, resourceId: 'res-anna' } },
          } as ReservationEvent,
        ]);
    });

    it('is a no-op when the reservation is already at that time', () => {
      spec
        .given([...history.confirmed, rescheduled('confirmed')])
        .when(reschedule())
        .thenNothing();
    });

    it('later transitions name the new slot', () => {
      spec
        .given([...history.confirmed, rescheduled('confirmed')])
        .when({ type: 'CancelReservation', data: { ...stamped, by: 'staff' } })
        .then([
          {
            type: 'ReservationCancelled',
            data: {
              reservationId: 'r-1',
              by: 'staff',
              reason: '',
              previousStatus: 'confirmed',
              slot: { ...slot, start: NEW_START, end: NEW_END, resourceId: 'res-bo' },
              cancelledAt: NOW,
              actor: STAFF,
            },
          },
        ]);
    });

    it('refuses a new time in the past', () => {
      spec
        .given(history.confirmed)
        .when(reschedule({ newStart: '2025-03-01T07:00:00Z', newEnd: '2025-03-01T08:00:00Z' }))
        .thenThrows(ValidationError, { details: { field: 'newStart', rule: 'in-the-past' } });
    });

    it('refuses an end before the start', () => {
      spec
        .given(history.confirmed)
        .when(reschedule({ newEnd: NEW_START }))
        .thenThrows(ValidationError, { details: { field: 'newEnd', rule: 'after-start' } });
    });

    it.each(statusesExcept('requested', 'confirmed'))('refuses a %s reservation', (status) => {
      spec
        .given(history[status])
        .when(reschedule())
        .thenThrows(IllegalStateError, { code: 'reservation-not-reschedulable', details: { status } });
    });
  });

  describe('RecordPayment', () => {
    const pay = (overrides: Record<string, unknown> = {}): ReservationCommand => ({
      type: 'RecordPayment',
      data: {
        ...stamped,
        paymentId: 'pay-1',
        amount: 49_900,
        currency: 'NOK',
        actor: 'integration:stripe',
        ...overrides,
      },
    });
    const paid: ReservationEvent = {
      type: 'PaymentRecorded',
      data: {
        reservationId: 'r-1',
        paymentId: 'pay-1',
        amount: 49_900,
        currency: 'NOK',
        recordedAt: NOW,
        actor: 'integration:stripe',
      },
    };

    it.each(Object.keys(history) as Status[])('records a payment on a %s reservation', (status) => {
      const state = spec.given(history[status]).when(pay()).then([paid]);
      expect(state).toMatchObject({
        status,
        payments: [{ paymentId: 'pay-1', amount: 49_900, currency: 'NOK', recordedAt: NOW }],
      });
    });

    it('records a second payment under another id', () => {
      spec
        .given([...history.confirmed, paid])
        .when(pay({ paymentId: 'pay-2', amount: 100 }))
        .then([{ type: 'PaymentRecorded', data: { ...paid.data, paymentId: 'pay-2', amount: 100 } }]);
    });

    it('refuses the same payment id with another amount', () => {
      spec
        .given([...history.confirmed, paid])
        .when(pay({ amount: 1 }))
        .thenThrows(IllegalStateError, {
          code: 'payment-conflict',
          details: { paymentId: 'pay-1', recordedAmount: 49_900 },
        });
    });

    it.each([
      ['amount', { amount: 0 }, 'range'],
      ['amount', { amount: 49.9 }, 'integer'],
      ['currency', { currency: 'kr' }, 'iso-4217'],
    ] as const)('rejects a bad %s', (field, overrides, rule) => {
      spec.given(history.confirmed).when(pay(overrides)).thenThrows(ValidationError, { details: { field, rule } });
    });

    it('does not know a reservation that was never requested', () => {
      spec.given([]).when(pay()).thenThrows(NotFoundError);
    });
  });
});
