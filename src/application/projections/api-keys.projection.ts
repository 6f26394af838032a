import type { ApiKeyEvent, ApiKeyRole } from '../../domain/tenancy/api-key.decider.js';
import { API_KEY_EVENT_TYPES } from '../../domain/tenancy/api-key.decider.js';
import type { Projection } from './projection.js';

/**
 * The key lookup: one document per key, found at authentication by `secretHash`. Rebuilt from the `apikey-`
 * streams like any projection, so deleting the read models and replaying restores every key (and every
 * revocation). Never holds a secret, only its SHA-256.
 */
export interface ApiKeyDocument extends Record<string, unknown> {
  tenantId: string;
  keyId: string;
  name: string;
  role: ApiKeyRole;
  secretHash: string;
  status: 'active' | 'rotated' | 'revoked';
  createdAt: string;
  createdBy: string;
  rotatedFrom?: string;
  replacedBy?: string;
  rotatedBy?: string;
  /** A rotated key works until then. */
  expiresAt?: string;
  revokedAt?: string;
  revokedBy?: string;
  revocationReason?: string;
}

export function apiKeyDocumentId(tenantId: string, keyId: string): string {
  return `${tenantId}:${keyId}`;
}

export const apiKeysProjection: Projection<ApiKeyDocument> = {
  name: 'api-keys',
  version: 1,
  collection: 'api_keys',
  eventTypes: API_KEY_EVENT_TYPES,
  indexes: [['secretHash'], ['tenantId', 'createdAt']],
  documentId(event) {
    const { tenantId, keyId } = event.data;
    return typeof tenantId === 'string' && typeof keyId === 'string' ? apiKeyDocumentId(tenantId, keyId) : null;
  },
  evolve(doc, recorded) {
    const event = { type: recorded.type, data: recorded.data } as ApiKeyEvent;
    switch (event.type) {
      case 'ApiKeyCreated': {
        const { createdAt, actor, ...key } = event.data;
        return { ...key, status: 'active', createdAt, createdBy: actor };
      }
      case 'ApiKeyRotated':
        if (!doc || doc.status === 'revoked') return doc;
        return {
          ...doc,
          status: 'rotated',
          replacedBy: event.data.replacedBy,
          rotatedBy: event.data.actor,
          expiresAt: event.data.expiresAt,
        };
      case 'ApiKeyRevoked':
        if (!doc) return doc;
        return {
          ...doc,
          status: 'revoked',
          revokedAt: event.data.revokedAt,
          revokedBy: event.data.actor,
          ...(event.data.reason ? { revocationReason: event.data.reason } : {}),
        };
      default:
        return doc;
    }
  },
};
