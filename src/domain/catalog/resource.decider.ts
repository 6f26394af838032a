import type { Command, Decider, DomainEvent } from '../shared/decider.js';
import { IllegalStateError, NotFoundError } from '../shared/errors.js';
import type { ScheduleExceptions, WeeklyHours } from './schedule.js';
import { validateExceptions, validateWeeklyHours } from './schedule.js';
import { compoundStreamName } from './stream-name.js';
import {
  invalid,
  jsonEqual,
  optionalText,
  requireEmail,
  requireId,
  requireInstant,
  requireOneOf,
  requirePhone,
  requireText,
} from './validation.js';

export const RESOURCE_KINDS = ['staff', 'room', 'lane', 'equipment', 'other'] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

/** Where staff notifications about this resource go. Both optional; an empty object means "nobody". */
export interface StaffContact {
  readonly email?: string;
  readonly phone?: string;
}

export interface Resource {
  readonly resourceId: string;
  readonly tenantId: string;
  /** Fixed at creation: the location's zone gives the working hours their meaning. */
  readonly locationId: string;
  readonly name: string;
  readonly kind: ResourceKind;
  readonly weeklyHours: WeeklyHours;
  readonly exceptions: ScheduleExceptions;
  readonly contact: StaffContact;
}

export type ResourceState =
  | { readonly status: 'none' }
  | { readonly status: 'active'; readonly resource: Resource }
  | { readonly status: 'archived'; readonly resource: Resource; readonly archivedAt: string };

// Commands -------------------------------------------------------------------------------------------------------

export type CreateResource = Command<
  'CreateResource',
  {
    readonly resourceId: string;
    readonly tenantId: string;
    readonly locationId: string;
    readonly name: string;
    readonly kind: ResourceKind;
    /** Missing weekdays mean "not working". */
    readonly weeklyHours: Partial<WeeklyHours>;
    readonly exceptions?: Partial<ScheduleExceptions>;
    readonly contact?: StaffContact;
    readonly now: string;
    readonly actor: string;
  }
>;

/** Fields left out stay as they are; `contact` is replaced as a whole. */
export type UpdateResource = Command<
  'UpdateResource',
  {
    readonly resourceId: string;
    readonly name?: string;
    readonly kind?: ResourceKind;
    readonly contact?: StaffContact;
    readonly now: string;
    readonly actor: string;
  }
>;

/** Replaces the whole schedule: weekly hours and exceptions. */
export type ChangeResourceSchedule = Command<
  'ChangeResourceSchedule',
  {
    readonly resourceId: string;
    readonly weeklyHours: Partial<WeeklyHours>;
    readonly exceptions?: Partial<ScheduleExceptions>;
    readonly now: string;
    readonly actor: string;
  }
>;

export type ArchiveResource = Command<
  'ArchiveResource',
  { readonly resourceId: string; readonly reason?: string; readonly now: string; readonly actor: string }
>;

export type ResourceCommand = CreateResource | UpdateResource | ChangeResourceSchedule | ArchiveResource;

// Events ---------------------------------------------------------------------------------------------------------

export type ResourceCreated = DomainEvent<
  'ResourceCreated',
  Resource & { readonly createdAt: string; readonly actor: string }
>;

export type ResourceUpdated = DomainEvent<
  'ResourceUpdated',
  {
    readonly resourceId: string;
    readonly changes: { readonly name?: string; readonly kind?: ResourceKind; readonly contact?: StaffContact };
    readonly updatedAt: string;
    readonly actor: string;
  }
>;

/** Carries the complete new schedule, so a reader never needs the previous one to know the current one. */
export type ResourceScheduleChanged = DomainEvent<
  'ResourceScheduleChanged',
  {
    readonly resourceId: string;
    readonly weeklyHours: WeeklyHours;
    readonly exceptions: ScheduleExceptions;
    readonly changedAt: string;
    readonly actor: string;
  }
>;

export type ResourceArchived = DomainEvent<
  'ResourceArchived',
  { readonly resourceId: string; readonly reason: string; readonly archivedAt: string; readonly actor: string }
>;

export type ResourceEvent = ResourceCreated | ResourceUpdated | ResourceScheduleChanged | ResourceArchived;

export function resourceStreamName(tenantId: string, resourceId: string): string {
  return compoundStreamName('resource', tenantId, resourceId);
}

export function validateContact(field: string, value: unknown): StaffContact {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw invalid(field, 'object', `${field} must be {email?, phone?}.`);
  const raw = value as Record<string, unknown>;
  return {
    ...(raw.email !== undefined && raw.email !== null && raw.email !== ''
      ? { email: requireEmail(`${field}.email`, raw.email) }
      : {}),
    ...(raw.phone !== undefined && raw.phone !== null && raw.phone !== ''
      ? { phone: requirePhone(`${field}.phone`, raw.phone) }
      : {}),
  };
}

// Decider --------------------------------------------------------------------------------------------------------

function decide(command: ResourceCommand, state: ResourceState): ResourceEvent[] {
  switch (command.type) {
    case 'CreateResource': {
      const data = command.data;
      const resource: Resource = {
        resourceId: requireId('resourceId', data.resourceId),
        tenantId: requireId('tenantId', data.tenantId),
        locationId: requireId('locationId', data.locationId),
        name: requireText('name', data.name),
        kind: requireOneOf('kind', data.kind, RESOURCE_KINDS),
        weeklyHours: validateWeeklyHours('weeklyHours', data.weeklyHours),
        exceptions: validateExceptions('exceptions', data.exceptions),
        contact: validateContact('contact', data.contact),
      };
      const createdAt = requireInstant('now', data.now);
      const actor = requireText('actor', data.actor);
      if (state.status !== 'none') {
        if (state.status === 'active' && jsonEqual(state.resource, resource)) return [];
        throw new IllegalStateError('resource-already-exists', `Resource ${resource.resourceId} already exists.`, {
          resourceId: resource.resourceId,
          status: state.status,
        });
      }
      return [{ type: 'ResourceCreated', data: { ...resource, createdAt, actor } }];
    }
    case 'UpdateResource': {
      const data = command.data;
      const current = requireActive(state, data.resourceId);
      const updatedAt = requireInstant('now', data.now);
      const actor = requireText('actor', data.actor);
      const changes: { name?: string; kind?: ResourceKind; contact?: StaffContact } = {};
      if (data.name !== undefined) {
        const name = requireText('name', data.name);
        if (name !== current.name) changes.name = name;
      }
      if (data.kind !== undefined) {
        const kind = requireOneOf('kind', data.kind, RESOURCE_KINDS);
        if (kind !== current.kind) changes.kind = kind;
      }
      if (data.contact !== undefined) {
        const contact = validateContact('contact', data.contact);
        if (!jsonEqual(contact, current.contact)) changes.contact = contact;
      }
      if (Object.keys(changes).length === 0) return [];
      return [{ type: 'ResourceUpdated', data: { resourceId: current.resourceId, changes, updatedAt, actor } }];
    }
    case 'ChangeResourceSchedule': {
      const data = command.data;
      const current = requireActive(state, data.resourceId);
      const weeklyHours = validateWeeklyHours('weeklyHours', data.weeklyHours);
      const exceptions = validateExceptions('exceptions', data.exceptions);
      const changedAt = requireInstant('now', data.now);
      const actor = requireText('actor', data.actor);
      if (jsonEqual(weeklyHours, current.weeklyHours) && jsonEqual(exceptions, current.exceptions)) return [];
      return [
        {
          type: 'ResourceScheduleChanged',
          data: { resourceId: current.resourceId, weeklyHours, exceptions, changedAt, actor },
        },
      ];
    }
    case 'ArchiveResource': {
      const data = command.data;
      if (state.status === 'none') throw notFound(data.resourceId);
      if (state.status === 'archived') return [];
      return [
        {
          type: 'ResourceArchived',
          data: {
            resourceId: state.resource.resourceId,
            reason: optionalText('reason', data.reason, 500),
            archivedAt: requireInstant('now', data.now),
            actor: requireText('actor', data.actor),
          },
        },
      ];
    }
  }
}

function requireActive(state: ResourceState, resourceId: string): Resource {
  if (state.status === 'none') throw notFound(resourceId);
  if (state.status === 'archived') {
    throw new IllegalStateError('resource-archived', `Resource ${resourceId} is archived.`, {
      resourceId,
      status: state.status,
    });
  }
  return state.resource;
}

function notFound(resourceId: string): NotFoundError {
  return new NotFoundError('resource-not-found', `Resource ${resourceId} does not exist.`, { resourceId });
}

function evolve(state: ResourceState, event: ResourceEvent): ResourceState {
  switch (event.type) {
    case 'ResourceCreated': {
      const { createdAt: _createdAt, actor: _actor, ...resource } = event.data;
      return { status: 'active', resource };
    }
    case 'ResourceUpdated':
      if (state.status === 'none') return state;
      return { ...state, resource: { ...state.resource, ...event.data.changes } };
    case 'ResourceScheduleChanged':
      if (state.status === 'none') return state;
      return {
        ...state,
        resource: { ...state.resource, weeklyHours: event.data.weeklyHours, exceptions: event.data.exceptions },
      };
    case 'ResourceArchived':
      if (state.status === 'none') return state;
      return { status: 'archived', resource: state.resource, archivedAt: event.data.archivedAt };
  }
}

export const resourceDecider: Decider<ResourceCommand, ResourceState, ResourceEvent> = {
  decide,
  evolve,
  initialState: () => ({ status: 'none' }),
};
