import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiKeys, Principal, Role } from '../../application/ports/api-keys.port.js';
import type { Clock } from '../../application/ports/clock.port.js';
import type { IdSource } from '../../application/ports/id-source.port.js';
import type { ReadModelStore, StoredDocument } from '../../application/ports/read-model-store.port.js';

const COLLECTION = 'api_keys';

interface ApiKeyDocument extends StoredDocument {
  keyId: string;
  tenantId: string;
  role: Role;
  name: string;
  createdAt: string;
  revokedAt?: string;
}

/**
 * Keys are 32 random bytes, so a single SHA-256 is enough (no password stretching needed): the stored hash
 * cannot be reversed and lookups stay O(1). The document id is the hash; the secret itself is never stored.
 */
function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function createHashedApiKeys(deps: { store: ReadModelStore; ids: IdSource; clock: Clock }): ApiKeys {
  const { store, ids, clock } = deps;
  const toPrincipal = (doc: ApiKeyDocument): Principal => ({
    keyId: doc.keyId,
    tenantId: doc.tenantId,
    role: doc.role,
  });

  return {
    async authenticate(secret) {
      if (secret.length < 16 || secret.length > 256) return null;
      const hash = hashSecret(secret);
      const doc = await store.get<ApiKeyDocument>(COLLECTION, hash);
      if (!doc || doc.revokedAt) return null;
      // The lookup is by hash already; the comparison guards against a store that matches loosely.
      if (!timingSafeEqual(Buffer.from(doc._id), Buffer.from(hash))) return null;
      return toPrincipal(doc);
    },
    async create({ tenantId, role, name }) {
      const secret = `hk_${randomBytes(32).toString('base64url')}`;
      const doc: ApiKeyDocument = {
        _id: hashSecret(secret),
        keyId: ids.newId(),
        tenantId,
        role,
        name,
        createdAt: clock.now().toISOString(),
      };
      await store.put(COLLECTION, doc);
      return { principal: toPrincipal(doc), secret };
    },
    async ensure({ secret, tenantId, role, name }) {
      const doc: ApiKeyDocument = {
        _id: hashSecret(secret),
        keyId: ids.derive('bootstrap-api-key', hashSecret(secret)),
        tenantId,
        role,
        name,
        createdAt: clock.now().toISOString(),
      };
      await store.insertIfAbsent(COLLECTION, doc);
      const stored = await store.get<ApiKeyDocument>(COLLECTION, doc._id);
      return toPrincipal(stored ?? doc);
    },
    async list(tenantId) {
      const docs = await store.find<ApiKeyDocument>(
        COLLECTION,
        { tenantId, revokedAt: { $exists: false } },
        {
          sort: { field: 'createdAt', direction: 1 },
        },
      );
      return docs.map((d) => ({ keyId: d.keyId, role: d.role, name: d.name, createdAt: d.createdAt }));
    },
    async revoke(tenantId, keyId) {
      const [doc] = await store.find<ApiKeyDocument>(COLLECTION, { tenantId, keyId });
      if (!doc || doc.revokedAt) return false;
      await store.put(COLLECTION, { ...doc, revokedAt: clock.now().toISOString() });
      return true;
    },
  };
}
