import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../../src/application/ports/event-store.port.js';
import { apiKeysProjection } from '../../../src/application/projections/api-keys.projection.js';
import { tenantsProjection } from '../../../src/application/projections/tenants.projection.js';
import { IllegalStateError, NotFoundError, ValidationError } from '../../../src/domain/shared/errors.js';
import {
  apiKeyDecider,
  apiKeyStreamName,
  isKeyUsable,
  type ApiKeyEvent,
  type CreateApiKey,
} from '../../../src/domain/tenancy/api-key.decider.js';
import {
  tenantDecider,
  tenantStreamName,
  type CreateTenant,
  type TenantEvent,
} from '../../../src/domain/tenancy/tenant.decider.js';
import { fold } from '../../../src/domain/shared/decider.js';
import { deciderSpec } from '../support/decider-spec.js';

const NOW = '2030-01-01T09:00:00.000Z';
const HASH = 'a'.repeat(64);

describe('tenant decider', () => {
  const spec = deciderSpec(tenantDecider);
  const create = (overrides: Partial<CreateTenant['data']> = {}): CreateTenant => ({
    type: 'CreateTenant',
    data: {
      tenantId: 'acme',
      name: 'Acme Salon',
      defaultLocale: 'nb-no',
      timeZone: 'Europe/Oslo',
      sender: { name: 'Acme', address: 'booking@acme.test' },
      now: NOW,
      actor: 'operator:1',
      ...overrides,
    },
  });
  const created: TenantEvent = {
    type: 'TenantCreated',
    data: {
      tenantId: 'acme',
      name: 'Acme Salon',
      defaultLocale: 'nb-NO',
      timeZone: 'Europe/Oslo',
      sender: { name: 'Acme', address: 'booking@acme.test' },
      createdAt: NOW,
      actor: 'operator:1',
    },
  };
  const deactivate = { type: 'DeactivateTenant' as const, data: { tenantId: 'acme', now: NOW, actor: 'operator:1' } };

  it('creates a tenant with a canonical locale; the same creation again decides nothing', () => {
    spec.given([]).when(create()).then([created]);
  });

  it('refuses another profile under a taken id, and unsafe or invalid fields naming them', () => {
    spec
      .given([created])
      .when(create({ name: 'Other' }))
      .thenThrows(IllegalStateError, { code: 'tenant-already-exists' });
    spec
      .given([])
      .when(create({ name: 'Acme\u2028Salon' }))
      .thenThrows(ValidationError, {
        code: 'unsafe-text',
        details: { field: 'name', character: 'U+2028' },
      });
    spec
      .given([])
      .when(create({ sender: { name: 'A', address: 'not-an-address' } }))
      .thenThrows(ValidationError, {
        details: { field: 'sender.address' },
      });
    spec
      .given([])
      .when(create({ tenantId: 'a+b' }))
      .thenThrows(ValidationError, { details: { field: 'tenantId' } });
  });

  it('deactivates once; an unknown tenant is not found', () => {
    const state = spec
      .given([created])
      .when(deactivate)
      .then([
        { type: 'TenantDeactivated', data: { tenantId: 'acme', reason: '', deactivatedAt: NOW, actor: 'operator:1' } },
      ]);
    expect(state.status).toBe('deactivated');
    spec.given([]).when(deactivate).thenThrows(NotFoundError, { code: 'tenant-not-found' });
    expect(tenantStreamName('acme')).toBe('tenant-acme');
  });
});

describe('API key decider', () => {
  const spec = deciderSpec(apiKeyDecider);
  const create = (overrides: Partial<CreateApiKey['data']> = {}): CreateApiKey => ({
    type: 'CreateApiKey',
    data: {
      tenantId: 'acme',
      keyId: 'k1',
      name: 'desk',
      role: 'staff',
      secretHash: HASH,
      now: NOW,
      actor: 'apikey:k0',
      ...overrides,
    },
  });
  const created: ApiKeyEvent = {
    type: 'ApiKeyCreated',
    data: {
      tenantId: 'acme',
      keyId: 'k1',
      name: 'desk',
      role: 'staff',
      secretHash: HASH,
      createdAt: NOW,
      actor: 'apikey:k0',
    },
  };
  const rotate = (overlapSeconds: number, replacedBy = 'k2') => ({
    type: 'RotateApiKey' as const,
    data: { keyId: 'k1', replacedBy, overlapSeconds, now: NOW, actor: 'apikey:k0' },
  });
  const revoke = { type: 'RevokeApiKey' as const, data: { keyId: 'k1', now: NOW, actor: 'apikey:k0' } };

  it('records the hash, never a secret; the same key again decides nothing, even once revoked', () => {
    spec.given([]).when(create()).then([created]);
    spec
      .given([
        created,
        { type: 'ApiKeyRevoked', data: { tenantId: 'acme', keyId: 'k1', reason: '', revokedAt: NOW, actor: 'x' } },
      ])
      .when(create())
      .thenNothing();
    spec
      .given([created])
      .when(create({ secretHash: 'b'.repeat(64) }))
      .thenThrows(IllegalStateError, { code: 'api-key-already-exists' });
    spec
      .given([])
      .when(create({ secretHash: 'hk_the-secret-itself' }))
      .thenThrows(ValidationError, { details: { field: 'secretHash' } });
    spec
      .given([])
      .when(create({ role: 'root' as never }))
      .thenThrows(ValidationError, { details: { field: 'role' } });
    expect(apiKeyStreamName('acme', 'k1')).toBe('apikey-acme+k1');
  });

  it('rotation keeps the old key usable for the overlap, bounded to 7 days', () => {
    const state = spec
      .given([created])
      .when(rotate(3600))
      .then([
        {
          type: 'ApiKeyRotated',
          data: {
            tenantId: 'acme',
            keyId: 'k1',
            replacedBy: 'k2',
            rotatedAt: NOW,
            expiresAt: '2030-01-01T10:00:00.000Z',
            actor: 'apikey:k0',
          },
        },
      ]);
    expect(isKeyUsable(state, '2030-01-01T09:59:59.999Z')).toBe(true);
    expect(isKeyUsable(state, '2030-01-01T10:00:00.000Z')).toBe(false);
    spec
      .given([created])
      .when(rotate(7 * 86_400 + 1))
      .thenThrows(ValidationError, { details: { field: 'overlapSeconds' } });
    spec
      .given([created])
      .when(rotate(-1))
      .thenThrows(ValidationError, { details: { field: 'overlapSeconds' } });
    spec
      .given([created])
      .when(rotate(60, 'k1'))
      .thenThrows(ValidationError, { details: { field: 'replacedBy' } });
  });

  it('a rotated key cannot be rotated to another; a revoked one neither; revoking ends it at once', () => {
    const rotated = apiKeyDecider.decide(rotate(60), fold(apiKeyDecider, [created]));
    spec
      .given([created, ...rotated])
      .when(rotate(60, 'k3'))
      .thenThrows(IllegalStateError, { code: 'api-key-already-rotated' });
    const afterRevoke = spec
      .given([created, ...rotated])
      .when(revoke)
      .then([
        {
          type: 'ApiKeyRevoked',
          data: { tenantId: 'acme', keyId: 'k1', reason: '', revokedAt: NOW, actor: 'apikey:k0' },
        },
      ]);
    expect(isKeyUsable(afterRevoke, NOW)).toBe(false);
    spec
      .given([created])
      .when(revoke)
      .then([expect.objectContaining({ type: 'ApiKeyRevoked' }) as never]);
    spec.given([]).when(revoke).thenThrows(NotFoundError, { code: 'api-key-not-found' });
  });
});

describe('tenancy projections', () => {
  const recorded = (type: string, data: Record<string, unknown>, revision = 0n): RecordedEvent => ({
    id: `e-${type}-${revision}`,
    streamName: 'x',
    type,
    data,
    metadata: { tenantId: 'acme' },
    revision,
    position: revision,
    recordedAt: NOW,
  });

  it('api-keys: one document per key, found by its hash, that follows rotation and revocation', () => {
    const create = recorded('ApiKeyCreated', { ...created(), createdAt: NOW, actor: 'apikey:k0' });
    expect(apiKeysProjection.documentId(create)).toBe('acme:k1');
    let doc = apiKeysProjection.evolve(null, create);
    expect(doc).toMatchObject({ keyId: 'k1', secretHash: HASH, status: 'active', createdBy: 'apikey:k0' });
    doc = apiKeysProjection.evolve(
      doc,
      recorded('ApiKeyRotated', { tenantId: 'acme', keyId: 'k1', replacedBy: 'k2', expiresAt: NOW, actor: 'a' }, 1n),
    );
    expect(doc).toMatchObject({ status: 'rotated', replacedBy: 'k2', expiresAt: NOW });
    doc = apiKeysProjection.evolve(
      doc,
      recorded('ApiKeyRevoked', { tenantId: 'acme', keyId: 'k1', revokedAt: NOW, actor: 'b', reason: '' }, 2n),
    );
    expect(doc).toMatchObject({ status: 'revoked', revokedBy: 'b' });
    // A rotation recorded after a revocation (two admins at once) cannot bring the key back.
    expect(
      apiKeysProjection.evolve(
        doc,
        recorded('ApiKeyRotated', { tenantId: 'acme', keyId: 'k1', replacedBy: 'k3', expiresAt: NOW, actor: 'a' }, 3n),
      ),
    ).toMatchObject({ status: 'revoked' });
    function created() {
      return { tenantId: 'acme', keyId: 'k1', name: 'desk', role: 'staff', secretHash: HASH };
    }
  });

  it('tenants: active, then deactivated, with who did it', () => {
    let doc = tenantsProjection.evolve(
      null,
      recorded('TenantCreated', {
        tenantId: 'acme',
        name: 'Acme',
        defaultLocale: 'en',
        timeZone: 'UTC',
        sender: { name: 'A', address: 'a@a.test' },
        createdAt: NOW,
        actor: 'operator:1',
      }),
    );
    expect(doc).toMatchObject({ tenantId: 'acme', status: 'active', createdBy: 'operator:1', revision: 0 });
    doc = tenantsProjection.evolve(
      doc,
      recorded('TenantDeactivated', { tenantId: 'acme', reason: 'gone', deactivatedAt: NOW, actor: 'operator:1' }, 1n),
    );
    expect(doc).toMatchObject({
      status: 'deactivated',
      deactivatedBy: 'operator:1',
      deactivationReason: 'gone',
      revision: 1,
    });
  });
});
