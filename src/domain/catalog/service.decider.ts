import type { Command, Decider, DomainEvent } from '../shared/decider.js';
import { IllegalStateError, NotFoundError } from '../shared/errors.js';
import { compoundStreamName } from './stream-name.js';
import {
  invalid,
  jsonEqual,
  optionalText,
  requireBoolean,
  requireId,
  requireInstant,
  requireInteger,
  requireText,
} from './validation.js';

export interface Service {
  readonly serviceId: string;
  readonly tenantId: string;
  readonly locationId: string;
  readonly name: string;
  /** Goes into customer messages. */
  readonly description: string;
  readonly durationMinutes: number;
  /** 1 for an appointment, N for a class or a pool session. */
  readonly seatsPerSlot: number;
  /** Time the resource stays blocked after each booking (cleaning, travel); not shown to the customer. */
  readonly bufferMinutes: number;
  /** At most `seatsPerSlot`. */
  readonly maxPartySize: number;
  /** The resources that can deliver the service, at least one. */
  readonly resourceIds: readonly string[];
  /** false: a request is confirmed at once; true: staff confirms (or declines) it. */
  readonly requiresConfirmation: boolean;
  /** Slot starts are `interval start + k * slotIntervalMinutes` in wall time. */
  readonly slotIntervalMinutes: number;
  /** Goes into the payment receipt message (e.g. "bring a towel"); absent or '' = none. */
  readonly afterPaymentText?: string;
}

/** The editable part of a service. */
export type ServiceSettings = Omit<Service, 'serviceId' | 'tenantId' | 'locationId'>;

/**
 * Texts for one occurrence of a service (one slot: the service at one start instant), besides the service's own
 * (seed 001: "within the specific date setting ... details for customer after"): shown in that slot's messages.
 */
export interface OccurrenceTexts {
  /** Shown with the service's description in emails about the booking. */
  readonly description?: string;
  /** Shown with the service's after-payment text once the reservation is paid. */
  readonly afterPaymentText?: string;
}

/** Occurrence texts by the slot's start instant (ISO, UTC). */
export type Occurrences = Readonly<Record<string, OccurrenceTexts>>;

export type ServiceState =
  | { readonly status: 'none' }
  | { readonly status: 'active'; readonly service: Service; readonly occurrences?: Occurrences }
  | {
      readonly status: 'archived';
      readonly service: Service;
      readonly archivedAt: string;
      readonly occurrences?: Occurrences;
    };

// Commands -------------------------------------------------------------------------------------------------------

export type CreateService = Command<
  'CreateService',
  {
    readonly serviceId: string;
    readonly tenantId: string;
    readonly locationId: string;
    readonly name: string;
    /** Default ''. */
    readonly description?: string;
    readonly durationMinutes: number;
    readonly seatsPerSlot: number;
    /** Default 0. */
    readonly bufferMinutes?: number;
    /** Default 1. */
    readonly maxPartySize?: number;
    readonly resourceIds: readonly string[];
    /** Default false. */
    readonly requiresConfirmation?: boolean;
    /** Default durationMinutes + bufferMinutes (back-to-back slots). */
    readonly slotIntervalMinutes?: number;
    /** Default none. */
    readonly afterPaymentText?: string;
    readonly now: string;
    readonly actor: string;
  }
>;

/** Fields left out stay as they are; the result must still be a valid service. */
export type UpdateService = Command<
  'UpdateService',
  Partial<ServiceSettings> & { readonly serviceId: string; readonly now: string; readonly actor: string }
>;

export type ArchiveService = Command<
  'ArchiveService',
  { readonly serviceId: string; readonly reason?: string; readonly now: string; readonly actor: string }
>;

/** Sets the texts of one occurrence; both empty removes them. */
export type SetOccurrenceTexts = Command<
  'SetOccurrenceTexts',
  {
    readonly serviceId: string;
    /** The slot's start instant. */
    readonly start: string;
    readonly description?: string;
    readonly afterPaymentText?: string;
    readonly now: string;
    readonly actor: string;
  }
>;

export type ServiceCommand = CreateService | UpdateService | ArchiveService | SetOccurrenceTexts;

// Events ---------------------------------------------------------------------------------------------------------

export type ServiceCreated = DomainEvent<
  'ServiceCreated',
  Service & { readonly createdAt: string; readonly actor: string }
>;

export type ServiceUpdated = DomainEvent<
  'ServiceUpdated',
  {
    readonly serviceId: string;
    /** Only the fields that changed, with their new values. */
    readonly changes: Partial<ServiceSettings>;
    readonly updatedAt: string;
    readonly actor: string;
  }
>;

export type ServiceArchived = DomainEvent<
  'ServiceArchived',
  { readonly serviceId: string; readonly reason: string; readonly archivedAt: string; readonly actor: string }
>;

export type ServiceOccurrenceTextsChanged = DomainEvent<
  'ServiceOccurrenceTextsChanged',
  {
    readonly serviceId: string;
    readonly start: string;
    /** '' when none. */
    readonly description: string;
    readonly afterPaymentText: string;
    readonly changedAt: string;
    readonly actor: string;
  }
>;

export type ServiceEvent = ServiceCreated | ServiceUpdated | ServiceArchived | ServiceOccurrenceTextsChanged;

export function serviceStreamName(tenantId: string, serviceId: string): string {
  return compoundStreamName('service', tenantId, serviceId);
}

const MINUTES_PER_DAY = 24 * 60;
export const MAX_SEATS_PER_SLOT = 10_000;

/** Validates the settings as a whole (cross-field rules included) and returns them normalised. */
export function validateServiceSettings(raw: Partial<Record<keyof ServiceSettings, unknown>>): ServiceSettings {
  const durationMinutes = requireInteger('durationMinutes', raw.durationMinutes, 1, MINUTES_PER_DAY);
  const seatsPerSlot = requireInteger('seatsPerSlot', raw.seatsPerSlot, 1, MAX_SEATS_PER_SLOT);
  const bufferMinutes = requireInteger('bufferMinutes', raw.bufferMinutes ?? 0, 0, MINUTES_PER_DAY);
  const maxPartySize = requireInteger('maxPartySize', raw.maxPartySize ?? 1, 1, MAX_SEATS_PER_SLOT);
  if (maxPartySize > seatsPerSlot) {
    throw invalid('maxPartySize', 'at-most-seats-per-slot', 'maxPartySize cannot exceed seatsPerSlot.', {
      seatsPerSlot,
    });
  }
  const slotIntervalMinutes = requireInteger(
    'slotIntervalMinutes',
    raw.slotIntervalMinutes ?? durationMinutes + bufferMinutes,
    1,
    MINUTES_PER_DAY,
  );
  if (!Array.isArray(raw.resourceIds) || raw.resourceIds.length === 0) {
    throw invalid('resourceIds', 'non-empty', 'A service needs at least one resource that can deliver it.');
  }
  const resourceIds = raw.resourceIds.map((id: unknown, index) => requireId(`resourceIds[${index}]`, id));
  if (new Set(resourceIds).size !== resourceIds.length) {
    throw invalid('resourceIds', 'unique', 'resourceIds lists a resource twice.');
  }
  const afterPaymentText = optionalText('afterPaymentText', raw.afterPaymentText, 2000, 'multiline');
  return {
    name: requireText('name', raw.name),
    description: optionalText('description', raw.description, 4000, 'multiline'),
    durationMinutes,
    seatsPerSlot,
    bufferMinutes,
    maxPartySize,
    resourceIds,
    requiresConfirmation: requireBoolean('requiresConfirmation', raw.requiresConfirmation ?? false),
    slotIntervalMinutes,
    ...(afterPaymentText ? { afterPaymentText } : {}),
  };
}

const SETTINGS_KEYS: ReadonlyArray<keyof ServiceSettings> = [
  'name',
  'description',
  'durationMinutes',
  'seatsPerSlot',
  'bufferMinutes',
  'maxPartySize',
  'resourceIds',
  'requiresConfirmation',
  'slotIntervalMinutes',
  'afterPaymentText',
];

// Decider --------------------------------------------------------------------------------------------------------

function decide(command: ServiceCommand, state: ServiceState): ServiceEvent[] {
  switch (command.type) {
    case 'CreateService': {
      const data = command.data;
      const service: Service = {
        serviceId: requireId('serviceId', data.serviceId),
        tenantId: requireId('tenantId', data.tenantId),
        locationId: requireId('locationId', data.locationId),
        ...validateServiceSettings(data),
      };
      const createdAt = requireInstant('now', data.now);
      const actor = requireText('actor', data.actor);
      if (state.status !== 'none') {
        if (state.status === 'active' && jsonEqual(state.service, service)) return [];
        throw new IllegalStateError('service-already-exists', `Service ${service.serviceId} already exists.`, {
          serviceId: service.serviceId,
          status: state.status,
        });
      }
      return [{ type: 'ServiceCreated', data: { ...service, createdAt, actor } }];
    }
    case 'UpdateService': {
      const data = command.data;
      const current = requireActive(state, data.serviceId);
      const merged: Record<string, unknown> = { ...current };
      for (const key of SETTINGS_KEYS) if (data[key] !== undefined) merged[key] = data[key];
      const next = validateServiceSettings(merged);
      const updatedAt = requireInstant('now', data.now);
      const actor = requireText('actor', data.actor);
      const changes: Record<string, unknown> = {};
      // A cleared optional text is recorded as '' (JSON has no undefined).
      for (const key of SETTINGS_KEYS)
        if (!jsonEqual(next[key] ?? '', current[key] ?? '')) changes[key] = next[key] ?? '';
      if (Object.keys(changes).length === 0) return [];
      return [
        {
          type: 'ServiceUpdated',
          data: { serviceId: current.serviceId, changes: changes as Partial<ServiceSettings>, updatedAt, actor },
        },
      ];
    }
    case 'SetOccurrenceTexts': {
      const data = command.data;
      const current = requireActive(state, data.serviceId);
      const start = requireInstant('start', data.start);
      const description = optionalText('description', data.description, 4000, 'multiline');
      const afterPaymentText = optionalText('afterPaymentText', data.afterPaymentText, 2000, 'multiline');
      const changedAt = requireInstant('now', data.now);
      const actor = requireText('actor', data.actor);
      const known = state.status === 'active' ? state.occurrences?.[start] : undefined;
      if ((known?.description ?? '') === description && (known?.afterPaymentText ?? '') === afterPaymentText) return [];
      return [
        {
          type: 'ServiceOccurrenceTextsChanged',
          data: { serviceId: current.serviceId, start, description, afterPaymentText, changedAt, actor },
        },
      ];
    }
    case 'ArchiveService': {
      const data = command.data;
      if (state.status === 'none') throw notFound(data.serviceId);
      if (state.status === 'archived') return [];
      return [
        {
          type: 'ServiceArchived',
          data: {
            serviceId: state.service.serviceId,
            reason: optionalText('reason', data.reason, 500),
            archivedAt: requireInstant('now', data.now),
            actor: requireText('actor', data.actor),
          },
        },
      ];
    }
  }
}

function requireActive(state: ServiceState, serviceId: string): Service {
  if (state.status === 'none') throw notFound(serviceId);
  if (state.status === 'archived') {
    throw new IllegalStateError('service-archived', `Service ${serviceId} is archived.`, {
      serviceId,
      status: state.status,
    });
  }
  return state.service;
}

function notFound(serviceId: string): NotFoundError {
  return new NotFoundError('service-not-found', `Service ${serviceId} does not exist.`, { serviceId });
}

function evolve(state: ServiceState, event: ServiceEvent): ServiceState {
  switch (event.type) {
    case 'ServiceCreated': {
      const { createdAt: _createdAt, actor: _actor, ...service } = event.data;
      return { status: 'active', service };
    }
    case 'ServiceUpdated':
      if (state.status === 'none') return state;
      return { ...state, service: { ...state.service, ...event.data.changes } };
    case 'ServiceArchived':
      if (state.status === 'none') return state;
      return {
        status: 'archived',
        service: state.service,
        archivedAt: event.data.archivedAt,
        ...(state.occurrences ? { occurrences: state.occurrences } : {}),
      };
    case 'ServiceOccurrenceTextsChanged': {
      if (state.status === 'none') return state;
      const { [event.data.start]: _previous, ...others } = state.occurrences ?? {};
      const texts: OccurrenceTexts = {
        ...(event.data.description ? { description: event.data.description } : {}),
        ...(event.data.afterPaymentText ? { afterPaymentText: event.data.afterPaymentText } : {}),
      };
      return {
        ...state,
        occurrences: Object.keys(texts).length > 0 ? { ...others, [event.data.start]: texts } : others,
      };
    }
  }
}

export const serviceDecider: Decider<ServiceCommand, ServiceState, ServiceEvent> = {
  decide,
  evolve,
  initialState: () => ({ status: 'none' }),
};
