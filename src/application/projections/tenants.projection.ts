import type { TenantEvent, TenantSender } from '../../domain/tenancy/tenant.decider.js';
import { TENANT_EVENT_TYPES } from '../../domain/tenancy/tenant.decider.js';
import type { Projection } from './projection.js';

/** "Which tenants are there, and may their keys be used?": one document per tenant, keyed by its id. */
export interface TenantDocument extends Record<string, unknown> {
  tenantId: string;
  name: string;
  defaultLocale: string;
  timeZone: string;
  sender: TenantSender;
  status: 'active' | 'deactivated';
  createdAt: string;
  createdBy: string;
  deactivatedAt?: string;
  deactivatedBy?: string;
  deactivationReason?: string;
  revision: number;
}

export const tenantsProjection: Projection<TenantDocument> = {
  name: 'tenants',
  version: 1,
  collection: 'tenants',
  eventTypes: TENANT_EVENT_TYPES,
  indexes: [['createdAt']],
  documentId(event) {
    const tenantId = event.data.tenantId;
    return typeof tenantId === 'string' ? tenantId : null;
  },
  evolve(doc, recorded) {
    const event = { type: recorded.type, data: recorded.data } as TenantEvent;
    switch (event.type) {
      case 'TenantCreated': {
        const { createdAt, actor, ...profile } = event.data;
        return {
          ...profile,
          status: 'active',
          createdAt,
          createdBy: actor,
          revision: Number(recorded.revision),
        };
      }
      case 'TenantDeactivated':
        if (!doc) return doc;
        return {
          ...doc,
          status: 'deactivated',
          deactivatedAt: event.data.deactivatedAt,
          deactivatedBy: event.data.actor,
          ...(event.data.reason ? { deactivationReason: event.data.reason } : {}),
          revision: Number(recorded.revision),
        };
      default:
        return doc;
    }
  },
};
