import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../../src/application/ports/event-store.port.js';
import {
  customersProjection,
  queryTokens,
  searchTokens,
  type CustomerDocument,
} from '../../../src/application/projections/customers.projection.js';
import type { ReservationDetails } from '../../../src/domain/booking/reservation.decider.js';
import {
  customerPreferencesDecider,
  type CustomerPreferencesState,
} from '../../../src/domain/notification/preferences.js';
import { ValidationError } from '../../../src/domain/shared/errors.js';
import { deciderSpec } from '../support/decider-spec.js';

let position = 0n;
function recorded(type: string, data: Record<string, unknown>): RecordedEvent {
  position++;
  return {
    id: `e${position}`,
    streamName: 's',
    type,
    data,
    metadata: { tenantId: 'acme' },
    revision: 0n,
    position,
    recordedAt: `2030-01-01T00:00:${String(position).padStart(2, '0')}.000Z`,
  };
}

const reservation = (id: string, start: string, customer: ReservationDetails['customer']): ReservationDetails => ({
  reservationId: id,
  tenantId: 'acme',
  source: 'external',
  customer,
  serviceId: null,
  serviceName: 'Sauna',
  resourceId: null,
  locationId: null,
  location: { name: 'Spa', address: 'Street 1', timeZone: 'Europe/Prague' },
  start,
  end: start,
  partySize: 1,
  requiresConfirmation: false,
  external: null,
  code: 'K7M2QX',
});

/** A reservation event as the customers consumer hands it over: with the reservation as of then and its ref. */
const enriched = (type: string, status: string, details: ReservationDetails) =>
  recorded(type, {
    reservationId: details.reservationId,
    customerRef: 'ref-1',
    asOf: { status, reservation: details },
  });

function fold(events: RecordedEvent[]): CustomerDocument | null {
  let doc: CustomerDocument | null = null;
  for (const event of events) {
    if (customersProjection.documentId(event) !== 'acme:ref-1') continue;
    doc = customersProjection.evolve(doc, event);
  }
  return doc;
}

describe('customers projection', () => {
  const ada = { name: 'Ada Lovelace', email: 'ada@example.com', phone: '+420777123456', locale: 'en' };
  const r1 = reservation('r-1', '2030-01-10T09:00:00.000Z', ada);
  const r2 = reservation('r-2', '2030-02-10T09:00:00.000Z', { ...ada, email: 'ada@new.example.com' });

  it('keeps one line per reservation, the latest contact, the count and the last visit', () => {
    const doc = fold([
      enriched('ReservationConfirmed', 'confirmed', r1),
      enriched('ReservationConfirmed', 'confirmed', r2),
    ]);
    expect(doc).toMatchObject({
      customerRef: 'ref-1',
      name: 'Ada Lovelace',
      email: 'ada@new.example.com',
      reservationCount: 2,
      lastVisitAt: '2030-02-10T09:00:00.000Z',
    });
    expect(doc?.reservations.map((line) => [line.reservationId, line.code, line.status])).toEqual([
      ['r-1', 'K7M2QX', 'confirmed'],
      ['r-2', 'K7M2QX', 'confirmed'],
    ]);
  });

  it('a cancelled reservation no longer counts, nor is it a visit; a later event of an older reservation keeps the contact', () => {
    const doc = fold([
      enriched('ReservationConfirmed', 'confirmed', r1),
      enriched('ReservationConfirmed', 'confirmed', r2),
      enriched('ReservationCancelled', 'cancelled', r2),
      enriched('PaymentRecorded', 'confirmed', r1),
    ]);
    expect(doc).toMatchObject({
      reservationCount: 1,
      lastVisitAt: '2030-01-10T09:00:00.000Z',
      email: 'ada@new.example.com',
    });
  });

  it('takes preferences and tags from the customer stream, before or after any reservation', () => {
    const doc = fold([
      recorded('CustomerTagsChanged', { customerId: 'ref-1', tenantId: 'acme', tags: ['VIP'], at: 'x', by: 'y' }),
      recorded('CustomerSmsOptedOut', { customerId: 'ref-1', tenantId: 'acme', source: 'keyword', at: 'x' }),
      enriched('ReservationRequested', 'requested', r1),
    ]);
    expect(doc).toMatchObject({
      name: 'Ada Lovelace',
      tags: ['VIP'],
      tagKeys: ['vip'],
      smsOptedOut: true,
      reservationCount: 1,
    });
    expect(doc?.lastVisitAt).toBeNull();
  });

  it('ignores a reservation event that was not enriched (no ref: a customer without contact)', () => {
    expect(customersProjection.documentId(recorded('ReservationCancelled', { reservationId: 'r-9' }))).toBeNull();
  });

  it('search tokens: word prefixes without accents, email and its parts, phone digits and endings', () => {
    const tokens = searchTokens({ name: 'Jiří Dvořák', email: 'Jiri.D@Example.com', phone: '+420 777 123 456' });
    for (const token of [
      'ji',
      'jiri',
      'dvo',
      'dvorak',
      'jiri.d@example.com',
      'jiri',
      'example.com',
      '420777123456',
      '3456',
      '123456',
    ])
      expect(tokens).toContain(token);
    expect(queryTokens('  Dvořák  Jiří ')).toEqual(['dvorak', 'jiri']);
    expect(queryTokens('777 123 456')).toEqual(['777123456']);
    expect(queryTokens('Ada@Example.com')).toEqual(['ada@example.com']);
  });
});

describe('customer tags on the customer aggregate', () => {
  const spec = deciderSpec(customerPreferencesDecider);
  const change = (tags: string[]) => ({
    type: 'ChangeCustomerTags' as const,
    data: { customerId: 'ref-1', tenantId: 'acme', tags, at: '2030-01-01T00:00:00.000Z', by: 'apikey:k' },
  });

  it('are recorded de-duplicated (any case, first spelling kept) and sorted; the same set again is nothing', () => {
    const state: CustomerPreferencesState = spec
      .given([])
      .when(change(['yoga', 'VIP', 'vip']))
      .then([
        {
          type: 'CustomerTagsChanged',
          data: {
            customerId: 'ref-1',
            tenantId: 'acme',
            tags: ['VIP', 'yoga'],
            at: '2030-01-01T00:00:00.000Z',
            by: 'apikey:k',
          },
        },
      ]);
    expect(customerPreferencesDecider.decide(change(['yoga', 'VIP']), state)).toEqual([]);
    // Another spelling is a change.
    expect(customerPreferencesDecider.decide(change(['vip', 'yoga']), state)).toHaveLength(1);
  });

  it('refuse unsafe characters and lists that are too long', () => {
    spec
      .given([])
      .when(change(['a\u202Eb']))
      .thenThrows(ValidationError);
    spec
      .given([])
      .when(change(Array.from({ length: 51 }, (_, i) => `t${i}`)))
      .thenThrows(ValidationError, { code: 'invalid-tags' });
  });

  it('leave the preferences as they were', () => {
    const state = customerPreferencesDecider
      .decide(change(['VIP']), customerPreferencesDecider.initialState())
      .reduce(customerPreferencesDecider.evolve, customerPreferencesDecider.initialState());
    expect(state).toMatchObject({
      status: 'customised',
      smsOptedOut: false,
      blocked: { email: [], sms: [] },
      tags: ['VIP'],
    });
  });
});
