import type { Command, Decider, DomainEvent } from '../shared/decider.js';
import { IllegalStateError, NotFoundError } from '../shared/errors.js';
import { compoundStreamName } from './stream-name.js';
import {
  invalid,
  jsonEqual,
  optionalText,
  requireId,
  requireInstant,
  requireText,
  requireTimeZone,
} from './validation.js';

export interface Address {
  readonly street: string;
  /** Omitted where a country has no postal codes. */
  readonly postalCode?: string;
  readonly city: string;
  /** ISO 3166-1 alpha-2, upper case. */
  readonly country: string;
}

export interface Location {
  readonly locationId: string;
  readonly tenantId: string;
  readonly name: string;
  readonly address: Address;
  /** IANA zone; all working hours of the location's resources are wall times in this zone. */
  readonly timeZone: string;
}

export type LocationState =
  | { readonly status: 'none' }
  | { readonly status: 'active'; readonly location: Location }
  | { readonly status: 'archived'; readonly location: Location; readonly archivedAt: string };

// Commands -------------------------------------------------------------------------------------------------------

export type CreateLocation = Command<
  'CreateLocation',
  {
    readonly locationId: string;
    readonly tenantId: string;
    readonly name: string;
    readonly address: Address;
    readonly timeZone: string;
    readonly now: string;
    readonly actor: string;
  }
>;

/** Fields left out stay as they are. Changing the zone moves every future working hour with it. */
export type UpdateLocation = Command<
  'UpdateLocation',
  {
    readonly locationId: string;
    readonly name?: string;
    readonly address?: Address;
    readonly timeZone?: string;
    readonly now: string;
    readonly actor: string;
  }
>;

export type ArchiveLocation = Command<
  'ArchiveLocation',
  { readonly locationId: string; readonly reason?: string; readonly now: string; readonly actor: string }
>;

export type LocationCommand = CreateLocation | UpdateLocation | ArchiveLocation;

// Events ---------------------------------------------------------------------------------------------------------

export type LocationCreated = DomainEvent<
  'LocationCreated',
  Location & { readonly createdAt: string; readonly actor: string }
>;

export type LocationUpdated = DomainEvent<
  'LocationUpdated',
  {
    readonly locationId: string;
    /** Only the fields that changed, with their new values. */
    readonly changes: { readonly name?: string; readonly address?: Address; readonly timeZone?: string };
    readonly updatedAt: string;
    readonly actor: string;
  }
>;

export type LocationArchived = DomainEvent<
  'LocationArchived',
  { readonly locationId: string; readonly reason: string; readonly archivedAt: string; readonly actor: string }
>;

export type LocationEvent = LocationCreated | LocationUpdated | LocationArchived;

export function locationStreamName(tenantId: string, locationId: string): string {
  return compoundStreamName('location', tenantId, locationId);
}

export function formatAddress(address: Address): string {
  const cityLine = address.postalCode ? `${address.postalCode} ${address.city}` : address.city;
  return `${address.street}, ${cityLine}, ${address.country}`;
}

export function validateAddress(field: string, value: unknown): Address {
  if (typeof value !== 'object' || value === null) throw invalid(field, 'required', `${field} is required.`);
  const raw = value as Record<string, unknown>;
  const country = requireText(`${field}.country`, raw.country, 2).toUpperCase();
  if (!/^[A-Z]{2}$/.test(country)) {
    throw invalid(`${field}.country`, 'iso-3166-alpha-2', `${field}.country must be a two-letter country code.`);
  }
  const postalCode = optionalText(`${field}.postalCode`, raw.postalCode, 20);
  return {
    street: requireText(`${field}.street`, raw.street, 200),
    ...(postalCode ? { postalCode } : {}),
    city: requireText(`${field}.city`, raw.city, 100),
    country,
  };
}

// Decider --------------------------------------------------------------------------------------------------------

function decide(command: LocationCommand, state: LocationState): LocationEvent[] {
  switch (command.type) {
    case 'CreateLocation': {
      const data = command.data;
      const location: Location = {
        locationId: requireId('locationId', data.locationId),
        tenantId: requireId('tenantId', data.tenantId),
        name: requireText('name', data.name),
        address: validateAddress('address', data.address),
        timeZone: requireTimeZone('timeZone', data.timeZone),
      };
      const createdAt = requireInstant('now', data.now);
      const actor = requireText('actor', data.actor);
      if (state.status !== 'none') {
        if (state.status === 'active' && jsonEqual(state.location, location)) return [];
        throw new IllegalStateError('location-already-exists', `Location ${location.locationId} already exists.`, {
          locationId: location.locationId,
          status: state.status,
        });
      }
      return [{ type: 'LocationCreated', data: { ...location, createdAt, actor } }];
    }
    case 'UpdateLocation': {
      const data = command.data;
      const current = requireActive(state, data.locationId);
      const updatedAt = requireInstant('now', data.now);
      const actor = requireText('actor', data.actor);
      const changes: { name?: string; address?: Address; timeZone?: string } = {};
      if (data.name !== undefined) {
        const name = requireText('name', data.name);
        if (name !== current.name) changes.name = name;
      }
      if (data.address !== undefined) {
        const address = validateAddress('address', data.address);
        if (!jsonEqual(address, current.address)) changes.address = address;
      }
      if (data.timeZone !== undefined) {
        const timeZone = requireTimeZone('timeZone', data.timeZone);
        if (timeZone !== current.timeZone) changes.timeZone = timeZone;
      }
      if (Object.keys(changes).length === 0) return [];
      return [{ type: 'LocationUpdated', data: { locationId: current.locationId, changes, updatedAt, actor } }];
    }
    case 'ArchiveLocation': {
      const data = command.data;
      if (state.status === 'none') throw notFound(data.locationId);
      if (state.status === 'archived') return [];
      return [
        {
          type: 'LocationArchived',
          data: {
            locationId: state.location.locationId,
            reason: optionalText('reason', data.reason, 500),
            archivedAt: requireInstant('now', data.now),
            actor: requireText('actor', data.actor),
          },
        },
      ];
    }
  }
}

function requireActive(state: LocationState, locationId: string): Location {
  if (state.status === 'none') throw notFound(locationId);
  if (state.status === 'archived') {
    throw new IllegalStateError('location-archived', `Location ${locationId} is archived.`, {
      locationId,
      status: state.status,
    });
  }
  return state.location;
}

function notFound(locationId: string): NotFoundError {
  return new NotFoundError('location-not-found', `Location ${locationId} does not exist.`, { locationId });
}

function evolve(state: LocationState, event: LocationEvent): LocationState {
  switch (event.type) {
    case 'LocationCreated': {
      const { createdAt: _createdAt, actor: _actor, ...location } = event.data;
      return { status: 'active', location };
    }
    case 'LocationUpdated':
      if (state.status === 'none') return state;
      return { ...state, location: { ...state.location, ...event.data.changes } };
    case 'LocationArchived':
      if (state.status === 'none') return state;
      return { status: 'archived', location: state.location, archivedAt: event.data.archivedAt };
  }
}

export const locationDecider: Decider<LocationCommand, LocationState, LocationEvent> = {
  decide,
  evolve,
  initialState: () => ({ status: 'none' }),
};
