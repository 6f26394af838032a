import {
  invalid,
  jsonEqual,
  optionalText,
  requireEmail,
  requireId,
  requireInstant,
  requireLocale,
  requireText,
  requireTimeZone,
} from '../catalog/validation.js';
import type { Command, Decider, DomainEvent } from '../shared/decider.js';
import { IllegalStateError, NotFoundError } from '../shared/errors.js';

/** The sender a tenant's messages come from, unless its notification settings name another. */
export interface TenantSender {
  readonly name: string;
  readonly address: string;
}

export interface TenantProfile {
  readonly tenantId: string;
  readonly name: string;
  /** BCP 47; the language of messages to recipients without a locale of their own. */
  readonly defaultLocale: string;
  /** IANA zone of the tenant's office (reports, staff messages without a location). */
  readonly timeZone: string;
  readonly sender: TenantSender;
}

export type TenantState =
  | { readonly status: 'none' }
  | { readonly status: 'active'; readonly tenant: TenantProfile; readonly createdAt: string }
  | {
      readonly status: 'deactivated';
      readonly tenant: TenantProfile;
      readonly createdAt: string;
      readonly deactivatedAt: string;
    };

// Commands -------------------------------------------------------------------------------------------------------

export type CreateTenant = Command<'CreateTenant', TenantProfile & { readonly now: string; readonly actor: string }>;

/** Every key of a deactivated tenant stops working; its data stays (an auditor can still replay it). */
export type DeactivateTenant = Command<
  'DeactivateTenant',
  { readonly tenantId: string; readonly reason?: string; readonly now: string; readonly actor: string }
>;

export type TenantCommand = CreateTenant | DeactivateTenant;

// Events ---------------------------------------------------------------------------------------------------------

export type TenantCreated = DomainEvent<
  'TenantCreated',
  TenantProfile & { readonly createdAt: string; readonly actor: string }
>;
export type TenantDeactivated = DomainEvent<
  'TenantDeactivated',
  { readonly tenantId: string; readonly reason: string; readonly deactivatedAt: string; readonly actor: string }
>;
export type TenantEvent = TenantCreated | TenantDeactivated;

export const TENANT_EVENT_TYPES: readonly TenantEvent['type'][] = ['TenantCreated', 'TenantDeactivated'];

/** `tenant-<tenantId>`: one stream per tenant (the tenant is the whole id). */
export function tenantStreamName(tenantId: string): string {
  return `tenant-${requireId('tenantId', tenantId)}`;
}

/** What a tenant gets when nobody said otherwise: the bootstrap tenant `default` and tenants of migrated keys. */
export function defaultTenantProfile(tenantId: string): TenantProfile {
  return {
    tenantId,
    name: tenantId,
    defaultLocale: 'en',
    timeZone: 'UTC',
    sender: { name: 'Herald', address: 'no-reply@herald.invalid' },
  };
}

export function validateTenantProfile(value: TenantProfile): TenantProfile {
  if (typeof value.sender !== 'object' || value.sender === null) {
    throw invalid('sender', 'required', 'sender is required.');
  }
  return {
    tenantId: requireId('tenantId', value.tenantId),
    name: requireText('name', value.name),
    defaultLocale: requireLocale('defaultLocale', value.defaultLocale),
    timeZone: requireTimeZone('timeZone', value.timeZone),
    sender: {
      name: requireText('sender.name', value.sender.name),
      address: requireEmail('sender.address', value.sender.address),
    },
  };
}

function decide(command: TenantCommand, state: TenantState): TenantEvent[] {
  switch (command.type) {
    case 'CreateTenant': {
      const { now: rawNow, actor: rawActor, ...profile } = command.data;
      const now = requireInstant('now', rawNow);
      const actor = requireText('actor', rawActor);
      const tenant = validateTenantProfile(profile);
      if (state.status !== 'none') {
        // A retry of the same creation is harmless; another profile under a taken id is a clash.
        if (jsonEqual(state.tenant, tenant)) return [];
        throw new IllegalStateError('tenant-already-exists', `Tenant ${tenant.tenantId} already exists.`, {
          tenantId: tenant.tenantId,
          status: state.status,
        });
      }
      return [{ type: 'TenantCreated', data: { ...tenant, createdAt: now, actor } }];
    }
    case 'DeactivateTenant': {
      const now = requireInstant('now', command.data.now);
      const actor = requireText('actor', command.data.actor);
      const reason = optionalText('reason', command.data.reason, 1000);
      if (state.status === 'none') {
        throw new NotFoundError('tenant-not-found', `Tenant ${command.data.tenantId} does not exist.`, {
          tenantId: command.data.tenantId,
        });
      }
      if (state.status === 'deactivated') return [];
      return [
        {
          type: 'TenantDeactivated',
          data: { tenantId: state.tenant.tenantId, reason, deactivatedAt: now, actor },
        },
      ];
    }
  }
}

function evolve(state: TenantState, event: TenantEvent): TenantState {
  switch (event.type) {
    case 'TenantCreated': {
      const { createdAt, actor: _actor, ...tenant } = event.data;
      return { status: 'active', tenant, createdAt };
    }
    case 'TenantDeactivated':
      return state.status === 'none'
        ? state
        : {
            status: 'deactivated',
            tenant: state.tenant,
            createdAt: state.createdAt,
            deactivatedAt: event.data.deactivatedAt,
          };
  }
}

export const tenantDecider: Decider<TenantCommand, TenantState, TenantEvent> = {
  decide,
  evolve,
  initialState: () => ({ status: 'none' }),
};
