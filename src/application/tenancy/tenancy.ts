import {
  apiKeyDecider,
  apiKeyStreamName,
  requireRotationOverlap,
  type ApiKeyRole,
} from '../../domain/tenancy/api-key.decider.js';
import {
  defaultTenantProfile,
  tenantDecider,
  tenantStreamName,
  type TenantProfile,
} from '../../domain/tenancy/tenant.decider.js';
import { IllegalStateError, NotFoundError } from '../../domain/shared/errors.js';
import { handleCommand, type CommandContext } from '../command-handler.js';
import type { ApiKeyAuthenticator, Authentication, Operator, Principal } from '../ports/api-keys.port.js';
import type { Clock } from '../ports/clock.port.js';
import type { EventStore } from '../ports/event-store.port.js';
import type { IdSource } from '../ports/id-source.port.js';
import { isWellFormedSecret, type KeySecrets } from '../ports/key-secrets.port.js';
import type { Logger } from '../ports/logger.port.js';
import type { ReadModelStore, StoredDocument } from '../ports/read-model-store.port.js';
import { apiKeyDocumentId, apiKeysProjection, type ApiKeyDocument } from '../projections/api-keys.projection.js';
import { physicalCollection, projectInline, type Projection } from '../projections/projection.js';
import { tenantsProjection, type TenantDocument } from '../projections/tenants.projection.js';

const API_KEYS = physicalCollection(apiKeysProjection);
const TENANTS = physicalCollection(tenantsProjection);
/**
 * Last use of each key. Not derived from events, and the one exception to "only projections in the read-model
 * store": losing it (a rebuild) only forgets when keys were last used. Written at most every USAGE_WRITE_INTERVAL_MS
 * per key and process, so a busy key costs one write per interval, never one per request and never an event.
 */
export const API_KEY_USAGE = 'api_key_usage';
export const USAGE_WRITE_INTERVAL_MS = 5 * 60_000;
/** Keys created before keys were event-sourced (a read-model collection); imported once at start, then dropped. */
export const LEGACY_API_KEYS = 'api_keys';

export const DEFAULT_TENANT = 'default';
const SYSTEM_ACTOR = 'system:tenancy';

export interface TenancyDeps {
  readonly eventStore: EventStore;
  readonly readModels: ReadModelStore;
  readonly ids: IdSource;
  readonly clock: Clock;
  readonly secrets: KeySecrets;
  readonly logger: Logger;
  /** OPERATOR_API_KEY. Unset: the bootstrap key is the operator key. */
  readonly operatorSecret?: string;
  /** BOOTSTRAP_API_KEY: an admin key of tenant `default`, kept in existence at every start. */
  readonly bootstrapSecret?: string;
}

export interface TenantView {
  readonly tenantId: string;
  readonly name: string;
  readonly defaultLocale: string;
  readonly timeZone: string;
  readonly sender: { readonly name: string; readonly address: string };
  readonly status: 'active' | 'deactivated';
  readonly createdAt: string;
  readonly createdBy: string;
  readonly deactivatedAt: string | null;
  readonly deactivatedBy: string | null;
  /** The tenant stream's revision (ETag). */
  readonly revision: number;
}

export interface ApiKeyView {
  readonly keyId: string;
  readonly name: string;
  readonly role: ApiKeyRole;
  readonly status: 'active' | 'rotated' | 'revoked';
  readonly createdAt: string;
  readonly createdBy: string;
  /** Coarse: updated at most every 5 minutes per key. Null: not used since the last read-model rebuild. */
  readonly lastUsedAt: string | null;
  readonly rotatedFrom: string | null;
  readonly replacedBy: string | null;
  /** A rotated key works until then. */
  readonly expiresAt: string | null;
  readonly revokedAt: string | null;
  readonly revokedBy: string | null;
}

export interface NewKey {
  readonly key: ApiKeyView;
  /** Shown once; Herald keeps only its SHA-256. */
  readonly secret: string;
}

export interface Tenancy extends ApiKeyAuthenticator {
  createTenant(context: CommandContext, profile: TenantProfile): Promise<{ tenant: TenantView; created: boolean }>;
  listTenants(options?: { includeDeactivated?: boolean }): Promise<TenantView[]>;
  getTenant(tenantId: string): Promise<TenantView>;
  deactivateTenant(context: CommandContext, tenantId: string, reason?: string): Promise<TenantView>;
  /** The tenant exists (created with Herald's defaults when not): tenant `default`, tests, migrated keys. */
  ensureTenant(tenantId: string, actor?: string): Promise<void>;
  /** `context.tenantId` is the key's tenant; it must exist and be active. */
  createKey(context: CommandContext, input: { role: ApiKeyRole; name: string }): Promise<NewKey>;
  listKeys(tenantId: string, options?: { includeRevoked?: boolean }): Promise<ApiKeyView[]>;
  getKey(tenantId: string, keyId: string): Promise<ApiKeyView>;
  revokeKey(context: CommandContext, keyId: string, reason?: string): Promise<ApiKeyView>;
  /** A new key with the old one's role and name; the old one keeps working for `overlapSeconds`. */
  rotateKey(context: CommandContext, keyId: string, overlapSeconds: number): Promise<NewKey & { previous: ApiKeyView }>;
  /** BOOTSTRAP_API_KEY: tenant `default` and an admin key with exactly this secret (idempotent). */
  ensureBootstrapKey(): Promise<Principal | undefined>;
  /** Imports keys kept in the read models by earlier versions (LEGACY_API_KEYS) as events, then drops them. */
  migrateLegacyKeys(): Promise<number>;
}

interface UsageDocument extends StoredDocument {
  readonly lastUsedAt: string;
}

interface LegacyKeyDocument extends StoredDocument {
  readonly keyId: string;
  readonly tenantId: string;
  readonly role: ApiKeyRole;
  readonly name: string;
  readonly createdAt: string;
  readonly revokedAt?: string;
}

function tenantView(doc: TenantDocument): TenantView {
  return {
    tenantId: doc.tenantId,
    name: doc.name,
    defaultLocale: doc.defaultLocale,
    timeZone: doc.timeZone,
    sender: { name: doc.sender.name, address: doc.sender.address },
    status: doc.status,
    createdAt: doc.createdAt,
    createdBy: doc.createdBy,
    deactivatedAt: doc.deactivatedAt ?? null,
    deactivatedBy: doc.deactivatedBy ?? null,
    revision: doc.revision,
  };
}

function keyView(doc: ApiKeyDocument, lastUsedAt: string | null): ApiKeyView {
  return {
    keyId: doc.keyId,
    name: doc.name,
    role: doc.role,
    status: doc.status,
    createdAt: doc.createdAt,
    createdBy: doc.createdBy,
    lastUsedAt,
    rotatedFrom: doc.rotatedFrom ?? null,
    replacedBy: doc.replacedBy ?? null,
    expiresAt: doc.expiresAt ?? null,
    revokedAt: doc.revokedAt ?? null,
    revokedBy: doc.revokedBy ?? null,
  };
}

/**
 * Tenants and their API keys, event-sourced (`tenant-<id>`, `apikey-<tenant>+<keyId>`), looked up through the
 * `tenants` and `api-keys` projections. Commands project their stream inline, so a new key works and a revoked or
 * deactivated one stops on the very next request.
 */
export function createTenancy(deps: TenancyDeps): Tenancy {
  const { eventStore, readModels, ids, clock, secrets, logger } = deps;
  const now = () => clock.now().toISOString();
  const operatorHash = deps.operatorSecret ? secrets.hash(deps.operatorSecret) : undefined;
  const operatorActor = operatorHash ? `operator:${ids.derive('operator-api-key', operatorHash)}` : undefined;
  const bootstrapHash = deps.bootstrapSecret ? secrets.hash(deps.bootstrapSecret) : undefined;
  const bootstrapKeyId = bootstrapHash ? ids.derive('bootstrap-api-key', bootstrapHash) : undefined;
  /** The bootstrap key is the setting's: revoked or rotated over the API it would come back at the next start. */
  const refuseBootstrapKey = (keyId: string) => {
    if (keyId !== bootstrapKeyId) return;
    throw new IllegalStateError(
      'bootstrap-key',
      'The bootstrap key is set by BOOTSTRAP_API_KEY: change or unset that setting and restart to replace it.',
      { keyId },
    );
  };
  const lastUsageWrite = new Map<string, number>();

  const project = async (streamName: string, projection: Projection) => {
    const { events } = await eventStore.readStream(streamName);
    await projectInline(readModels, projection, events);
  };

  const tenantDoc = (tenantId: string) => readModels.get<TenantDocument & StoredDocument>(TENANTS, tenantId);
  const keyDoc = (tenantId: string, keyId: string) =>
    readModels.get<ApiKeyDocument & StoredDocument>(API_KEYS, apiKeyDocumentId(tenantId, keyId));
  const lastUsed = async (tenantId: string, keyId: string) =>
    (await readModels.get<UsageDocument>(API_KEY_USAGE, apiKeyDocumentId(tenantId, keyId)))?.lastUsedAt ?? null;

  const requireTenant = async (tenantId: string): Promise<TenantDocument> => {
    const doc = await tenantDoc(tenantId);
    if (!doc) throw new NotFoundError('tenant-not-found', `Tenant ${tenantId} does not exist.`, { tenantId });
    return doc;
  };
  const requireActiveTenant = async (tenantId: string): Promise<TenantDocument> => {
    const doc = await requireTenant(tenantId);
    if (doc.status !== 'active') {
      throw new IllegalStateError('tenant-deactivated', `Tenant ${tenantId} is deactivated.`, { tenantId });
    }
    return doc;
  };
  const requireKey = async (tenantId: string, keyId: string): Promise<ApiKeyDocument> => {
    const doc = await keyDoc(tenantId, keyId);
    if (!doc) throw new NotFoundError('api-key-not-found', `API key ${keyId} does not exist.`, { keyId });
    return doc;
  };
  const viewOf = async (tenantId: string, keyId: string) =>
    keyView(await requireKey(tenantId, keyId), await lastUsed(tenantId, keyId));

  const appendKey = async (
    context: CommandContext,
    input: { keyId: string; role: ApiKeyRole; name: string; secretHash: string; rotatedFrom?: string },
  ) => {
    const stream = apiKeyStreamName(context.tenantId, input.keyId);
    await handleCommand(
      { eventStore, ids },
      stream,
      apiKeyDecider,
      {
        type: 'CreateApiKey',
        data: { tenantId: context.tenantId, ...input, now: now(), actor: context.actor },
      },
      context,
    );
    await project(stream, apiKeysProjection);
  };

  const tenancy: Tenancy = {
    async authenticate(secret) {
      if (!isWellFormedSecret(secret)) return null;
      const hash = secrets.hash(secret);
      let operator: Operator | undefined =
        operatorHash && operatorActor && secrets.sameHash(hash, operatorHash) ? { actor: operatorActor } : undefined;
      let principal: Principal | undefined;
      const [doc] = await readModels.find<ApiKeyDocument & StoredDocument>(
        API_KEYS,
        { secretHash: hash },
        { limit: 1 },
      );
      // The lookup is by digest already; the comparison guards against a store that matches loosely.
      const found = doc && secrets.sameHash(doc.secretHash, hash) ? doc : undefined;
      const keyUsable =
        found !== undefined &&
        (found.status === 'active' ||
          (found.status === 'rotated' &&
            found.expiresAt !== undefined &&
            clock.now().getTime() < Date.parse(found.expiresAt)));
      if (found && keyUsable && (await tenantDoc(found.tenantId))?.status === 'active') {
        principal = { keyId: found.keyId, tenantId: found.tenantId, role: found.role };
      }
      // Without OPERATOR_API_KEY the bootstrap key is the operator's as long as the key itself is valid (not
      // revoked), even with tenant `default` deactivated: the operator must not lock itself out.
      if (!operatorHash && found && keyUsable && bootstrapKeyId && found.keyId === bootstrapKeyId) {
        operator = { actor: `apikey:${found.keyId}` };
      }
      if (!principal && !operator) return null;
      const result: Authentication = { ...(principal ? { principal } : {}), ...(operator ? { operator } : {}) };
      return result;
    },

    recordUse(principal) {
      const id = apiKeyDocumentId(principal.tenantId, principal.keyId);
      const at = clock.now();
      const previous = lastUsageWrite.get(id);
      if (previous !== undefined && at.getTime() - previous < USAGE_WRITE_INTERVAL_MS) return;
      lastUsageWrite.set(id, at.getTime());
      const minute = new Date(Math.floor(at.getTime() / 60_000) * 60_000).toISOString();
      void readModels
        .put(API_KEY_USAGE, { _id: id, tenantId: principal.tenantId, keyId: principal.keyId, lastUsedAt: minute })
        .catch((error: unknown) => {
          lastUsageWrite.delete(id);
          logger.warn({ keyId: principal.keyId, err: String(error) }, 'recording the last use of a key failed');
        });
    },

    async createTenant(context, profile) {
      const stream = tenantStreamName(profile.tenantId);
      const result = await handleCommand(
        { eventStore, ids },
        stream,
        tenantDecider,
        { type: 'CreateTenant', data: { ...profile, now: now(), actor: context.actor } },
        { ...context, tenantId: profile.tenantId },
      );
      await project(stream, tenantsProjection);
      return { tenant: tenantView(await requireTenant(profile.tenantId)), created: result.newEvents.length > 0 };
    },

    async listTenants(options = {}) {
      const docs = await readModels.find<TenantDocument & StoredDocument>(
        TENANTS,
        options.includeDeactivated ? {} : { status: 'active' },
        { sort: { field: 'createdAt', direction: 1 }, limit: 10_000 },
      );
      return docs.map(tenantView);
    },

    async getTenant(tenantId) {
      return tenantView(await requireTenant(tenantId));
    },

    async deactivateTenant(context, tenantId, reason) {
      const stream = tenantStreamName(tenantId);
      await handleCommand(
        { eventStore, ids },
        stream,
        tenantDecider,
        {
          type: 'DeactivateTenant',
          data: { tenantId, ...(reason !== undefined ? { reason } : {}), now: now(), actor: context.actor },
        },
        { ...context, tenantId },
      );
      await project(stream, tenantsProjection);
      return tenantView(await requireTenant(tenantId));
    },

    async ensureTenant(tenantId, actor = SYSTEM_ACTOR) {
      const stream = tenantStreamName(tenantId);
      const { revision } = await eventStore.readStream(stream);
      if (revision === 'no_stream') {
        await handleCommand(
          { eventStore, ids },
          stream,
          tenantDecider,
          { type: 'CreateTenant', data: { ...defaultTenantProfile(tenantId), now: now(), actor } },
          { tenantId, actor },
        ).catch((error: unknown) => {
          // Created by someone else in the meantime, with another profile: it exists, which is all we need.
          if (!(error instanceof IllegalStateError)) throw error;
        });
      }
      await project(stream, tenantsProjection);
    },

    async createKey(context, input) {
      await requireActiveTenant(context.tenantId);
      const secret = secrets.generate();
      const keyId = ids.newId();
      await appendKey(context, { keyId, role: input.role, name: input.name, secretHash: secrets.hash(secret) });
      return { key: await viewOf(context.tenantId, keyId), secret };
    },

    async listKeys(tenantId, options = {}) {
      const docs = await readModels.find<ApiKeyDocument & StoredDocument>(
        API_KEYS,
        options.includeRevoked ? { tenantId } : { tenantId, status: { $ne: 'revoked' } },
        { sort: { field: 'createdAt', direction: 1 }, limit: 10_000 },
      );
      const usage = new Map(
        (await readModels.find<UsageDocument & { keyId: string }>(API_KEY_USAGE, { tenantId }, { limit: 10_000 })).map(
          (doc) => [doc.keyId, doc.lastUsedAt],
        ),
      );
      return docs.map((doc) => keyView(doc, usage.get(doc.keyId) ?? null));
    },

    async getKey(tenantId, keyId) {
      return viewOf(tenantId, keyId);
    },

    async revokeKey(context, keyId, reason) {
      await requireKey(context.tenantId, keyId); // another tenant's key id is not found here: 404
      refuseBootstrapKey(keyId);
      const stream = apiKeyStreamName(context.tenantId, keyId);
      await handleCommand(
        { eventStore, ids },
        stream,
        apiKeyDecider,
        {
          type: 'RevokeApiKey',
          data: { keyId, ...(reason !== undefined ? { reason } : {}), now: now(), actor: context.actor },
        },
        context,
      );
      await project(stream, apiKeysProjection);
      return viewOf(context.tenantId, keyId);
    },

    async rotateKey(context, keyId, overlapSeconds) {
      await requireActiveTenant(context.tenantId);
      const old = await requireKey(context.tenantId, keyId);
      refuseBootstrapKey(keyId);
      if (old.status !== 'active') {
        throw new IllegalStateError(
          old.status === 'revoked' ? 'api-key-revoked' : 'api-key-already-rotated',
          old.status === 'revoked' ? `API key ${keyId} is revoked.` : `API key ${keyId} was already replaced.`,
          { keyId, status: old.status },
        );
      }
      // The decider checks it again; checking first avoids creating a key the rotation would then refuse.
      requireRotationOverlap(overlapSeconds);
      // The new key first: if the process stops before the old one is marked, the new key is one nobody knows
      // the secret of (harmless), and the old one is untouched — rather than an old key pointing at nothing.
      const secret = secrets.generate();
      const newKeyId = ids.newId();
      await appendKey(context, {
        keyId: newKeyId,
        role: old.role,
        name: old.name,
        secretHash: secrets.hash(secret),
        rotatedFrom: keyId,
      });
      const oldStream = apiKeyStreamName(context.tenantId, keyId);
      try {
        await handleCommand(
          { eventStore, ids },
          oldStream,
          apiKeyDecider,
          {
            type: 'RotateApiKey',
            data: { keyId, replacedBy: newKeyId, overlapSeconds, now: now(), actor: context.actor },
          },
          context,
        );
      } catch (error) {
        // Revoked or rotated by someone else meanwhile: the new key must not outlive the refusal.
        await handleCommand(
          { eventStore, ids },
          apiKeyStreamName(context.tenantId, newKeyId),
          apiKeyDecider,
          {
            type: 'RevokeApiKey',
            data: { keyId: newKeyId, reason: 'rotation refused', now: now(), actor: context.actor },
          },
          context,
        );
        await project(apiKeyStreamName(context.tenantId, newKeyId), apiKeysProjection);
        throw error;
      }
      await project(oldStream, apiKeysProjection);
      return {
        key: await viewOf(context.tenantId, newKeyId),
        secret,
        previous: await viewOf(context.tenantId, keyId),
      };
    },

    async ensureBootstrapKey() {
      if (!bootstrapHash || !bootstrapKeyId) return undefined;
      await tenancy.ensureTenant(DEFAULT_TENANT, 'system:bootstrap');
      await appendKey(
        { tenantId: DEFAULT_TENANT, actor: 'system:bootstrap' },
        { keyId: bootstrapKeyId, role: 'admin', name: 'bootstrap', secretHash: bootstrapHash },
      );
      return { keyId: bootstrapKeyId, tenantId: DEFAULT_TENANT, role: 'admin' };
    },

    async migrateLegacyKeys() {
      const legacy = await readModels.find<LegacyKeyDocument>(LEGACY_API_KEYS, {}, { limit: 100_000 });
      const actor = 'system:migration';
      let failed = 0;
      for (const doc of legacy) {
        try {
          await tenancy.ensureTenant(doc.tenantId, actor);
          const context = { tenantId: doc.tenantId, actor };
          const stream = apiKeyStreamName(doc.tenantId, doc.keyId);
          // Recorded with the times the old documents knew, so the key list reads as it did.
          await handleCommand(
            { eventStore, ids },
            stream,
            apiKeyDecider,
            {
              type: 'CreateApiKey',
              data: {
                tenantId: doc.tenantId,
                keyId: doc.keyId,
                role: doc.role,
                name: doc.name,
                secretHash: doc._id,
                now: doc.createdAt,
                actor,
              },
            },
            context,
          );
          if (doc.revokedAt) {
            await handleCommand(
              { eventStore, ids },
              stream,
              apiKeyDecider,
              { type: 'RevokeApiKey', data: { keyId: doc.keyId, now: doc.revokedAt, actor } },
              context,
            );
          }
          await project(stream, apiKeysProjection);
        } catch (error) {
          // One unreadable old document must not keep Herald from starting; it stays for a later look.
          failed++;
          logger.error({ keyId: doc.keyId, err: String(error) }, 'an old API key could not be imported');
        }
      }
      if (legacy.length > 0 && failed === 0) await readModels.dropCollection(LEGACY_API_KEYS);
      if (legacy.length > 0) {
        logger.info(
          { keys: legacy.length - failed, failed },
          'API keys imported from the read models into the event store',
        );
      }
      return legacy.length - failed;
    },
  };
  return tenancy;
}
