import { describe, expect, it } from 'vitest';
import type { CreateLocation, LocationCommand, LocationEvent } from '../../../src/domain/catalog/location.decider.js';
import { formatAddress, locationDecider, locationStreamName } from '../../../src/domain/catalog/location.decider.js';
import { IllegalStateError, NotFoundError, ValidationError } from '../../../src/domain/shared/errors.js';
import { deciderSpec } from '../support/decider-spec.js';

const spec = deciderSpec(locationDecider);
const NOW = '2025-03-01T09:00:00.000Z';
const ACTOR = 'staff:admin';

const address = { street: 'Thorvald Meyers gate 1', postalCode: '0555', city: 'Oslo', country: 'NO' };
const create = (overrides: Partial<CreateLocation['data']> = {}): CreateLocation => ({
  type: 'CreateLocation',
  data: {
    locationId: 'loc-oslo',
    tenantId: 'acme',
    name: 'Salon Grünerløkka',
    address,
    timeZone: 'Europe/Oslo',
    now: NOW,
    actor: ACTOR,
    ...overrides,
  },
});
const created: LocationEvent = {
  type: 'LocationCreated',
  data: {
    locationId: 'loc-oslo',
    tenantId: 'acme',
    name: 'Salon Grünerløkka',
    address,
    timeZone: 'Europe/Oslo',
    createdAt: NOW,
    actor: ACTOR,
  },
};
const archived: LocationEvent = {
  type: 'LocationArchived',
  data: { locationId: 'loc-oslo', reason: 'closed down', archivedAt: NOW, actor: ACTOR },
};
const update = (changes: Record<string, unknown>): LocationCommand => ({
  type: 'UpdateLocation',
  data: { locationId: 'loc-oslo', now: NOW, actor: ACTOR, ...changes },
});

describe('location decider', () => {
  it('names streams location-<tenant>+<id> and prints addresses on one line', () => {
    expect(locationStreamName('acme', 'loc-oslo')).toBe('location-acme+loc-oslo');
    expect(formatAddress(address)).toBe('Thorvald Meyers gate 1, 0555 Oslo, NO');
    expect(formatAddress({ street: 'Main St 1', city: 'Dublin', country: 'IE' })).toBe('Main St 1, Dublin, IE');
  });

  describe('CreateLocation', () => {
    it('creates a location in an IANA time zone', () => {
      const state = spec.given([]).when(create()).then([created]);
      expect(state).toMatchObject({ status: 'active', location: { timeZone: 'Europe/Oslo' } });
    });

    it('normalises the zone case, the country case and trims text', () => {
      spec
        .given([])
        .when(create({ name: '  Salon Grünerløkka ', timeZone: 'europe/oslo', address: { ...address, country: 'no' } }))
        .then([created]);
    });

    it('refuses another location under an existing id', () => {
      spec
        .given([created])
        .when(create({ name: 'Other' }))
        .thenThrows(IllegalStateError, { code: 'location-already-exists' });
    });

    it.each([
      ['timeZone', { timeZone: 'Europe/Atlantis' }, 'iana-time-zone'],
      ['timeZone', { timeZone: '+01:00' }, 'iana-time-zone'],
      ['name', { name: '' }, 'required'],
      ['name', { name: 'x'.repeat(201) }, 'max-length'],
      ['address.city', { address: { ...address, city: '' } }, 'required'],
      ['address.country', { address: { ...address, country: 'NOR' } }, 'max-length'],
      ['address.country', { address: { ...address, country: 'N1' } }, 'iso-3166-alpha-2'],
      ['locationId', { locationId: 'loc+1' }, 'id'],
      ['now', { now: '2025-03-01 09:00' }, 'instant-with-zone'],
    ] as const)('rejects a bad %s', (field, overrides, rule) => {
      spec
        .given([])
        .when(create(overrides as Partial<CreateLocation['data']>))
        .thenThrows(ValidationError, { code: 'invalid-input', details: { field, rule } });
    });
  });

  describe('UpdateLocation', () => {
    it('records only the fields that changed', () => {
      spec
        .given([created])
        .when(update({ name: 'Salon Grünerløkka', timeZone: 'Europe/Berlin' }))
        .then([
          {
            type: 'LocationUpdated',
            data: { locationId: 'loc-oslo', changes: { timeZone: 'Europe/Berlin' }, updatedAt: NOW, actor: ACTOR },
          },
        ]);
    });

    it('changes the address', () => {
      const state = spec
        .given([created])
        .when(update({ address: { ...address, street: 'Markveien 2' } }))
        .then([
          {
            type: 'LocationUpdated',
            data: {
              locationId: 'loc-oslo',
              changes: { address: { ...address, street: 'Markveien 2' } },
              updatedAt: NOW,
              actor: ACTOR,
            },
          },
        ]);
      expect(state).toMatchObject({ location: { address: { street: 'Markveien 2' }, name: 'Salon Grünerløkka' } });
    });

    it('is a no-op when nothing changes', () => {
      spec
        .given([created])
        .when(update({ name: 'Salon Grünerløkka', address }))
        .thenNothing();
    });

    it('refuses an archived location', () => {
      spec
        .given([created, archived])
        .when(update({ name: 'New' }))
        .thenThrows(IllegalStateError, { code: 'location-archived', details: { status: 'archived' } });
    });

    it('does not know a location that was never created', () => {
      spec
        .given([])
        .when(update({ name: 'New' }))
        .thenThrows(NotFoundError, { code: 'location-not-found' });
    });

    it('validates the new values', () => {
      spec
        .given([created])
        .when(update({ timeZone: 'Mars/Olympus' }))
        .thenThrows(ValidationError, { details: { field: 'timeZone' } });
    });
  });

  describe('ArchiveLocation', () => {
    const archive: LocationCommand = {
      type: 'ArchiveLocation',
      data: { locationId: 'loc-oslo', reason: 'closed down', now: NOW, actor: ACTOR },
    };

    it('archives with the reason', () => {
      spec.given([created]).when(archive).then([archived]);
    });

    it('is a no-op on an archived location', () => {
      spec.given([created, archived]).when(archive).thenNothing();
    });

    it('does not know a location that was never created', () => {
      spec.given([]).when(archive).thenThrows(NotFoundError);
    });
  });
});
