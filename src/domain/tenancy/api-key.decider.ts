import { compoundStreamName } from '../catalog/stream-name.js';
import { invalid, optionalText, requireId, requireInstant, requireOneOf, requireText } from '../catalog/validation.js';
import type { Command, Decider, DomainEvent } from '../shared/decider.js';
import { IllegalStateError, NotFoundError } from '../shared/errors.js';
import { toIsoInstant } from '../shared/zoned-time.js';

export const API_KEY_ROLES = ['admin', 'staff', 'integration'] as const;
export type ApiKeyRole = (typeof API_KEY_ROLES)[number];

/** The longest overlap a rotation may give the old key: long enough for a slow deploy, short enough to matter. */
export const MAX_ROTATION_OVERLAP_SECONDS = 7 * 24 * 60 * 60;

export interface ApiKeyDetails {
  readonly tenantId: string;
  readonly keyId: string;
  readonly name: string;
  readonly role: ApiKeyRole;
  /** SHA-256 (hex) of the secret. The secret itself is shown once, at creation, and recorded nowhere. */
  readonly secretHash: string;
  /** The key this one replaces (rotation). */
  readonly rotatedFrom?: string;
}

export type ApiKeyState =
  | { readonly status: 'none' }
  | { readonly status: 'active'; readonly key: ApiKeyDetails; readonly createdAt: string }
  | {
      /** Replaced by another key; still valid until `expiresAt` (the overlap the rotation chose). */
      readonly status: 'rotated';
      readonly key: ApiKeyDetails;
      readonly createdAt: string;
      readonly replacedBy: string;
      readonly expiresAt: string;
    }
  | { readonly status: 'revoked'; readonly key: ApiKeyDetails; readonly createdAt: string; readonly revokedAt: string };

// Commands -------------------------------------------------------------------------------------------------------

export type CreateApiKey = Command<'CreateApiKey', ApiKeyDetails & { readonly now: string; readonly actor: string }>;
export type RevokeApiKey = Command<
  'RevokeApiKey',
  { readonly keyId: string; readonly reason?: string; readonly now: string; readonly actor: string }
>;
/** Marks the key as replaced by `replacedBy`; it keeps working for `overlapSeconds`, then stops. */
export type RotateApiKey = Command<
  'RotateApiKey',
  {
    readonly keyId: string;
    readonly replacedBy: string;
    readonly overlapSeconds: number;
    readonly now: string;
    readonly actor: string;
  }
>;
export type ApiKeyCommand = CreateApiKey | RevokeApiKey | RotateApiKey;

// Events ---------------------------------------------------------------------------------------------------------

export type ApiKeyCreated = DomainEvent<
  'ApiKeyCreated',
  ApiKeyDetails & { readonly createdAt: string; readonly actor: string }
>;
export type ApiKeyRevoked = DomainEvent<
  'ApiKeyRevoked',
  {
    readonly tenantId: string;
    readonly keyId: string;
    readonly reason: string;
    readonly revokedAt: string;
    readonly actor: string;
  }
>;
export type ApiKeyRotated = DomainEvent<
  'ApiKeyRotated',
  {
    readonly tenantId: string;
    readonly keyId: string;
    readonly replacedBy: string;
    readonly rotatedAt: string;
    /** The old key works until then. */
    readonly expiresAt: string;
    readonly actor: string;
  }
>;
export type ApiKeyEvent = ApiKeyCreated | ApiKeyRevoked | ApiKeyRotated;

export const API_KEY_EVENT_TYPES: readonly ApiKeyEvent['type'][] = ['ApiKeyCreated', 'ApiKeyRevoked', 'ApiKeyRotated'];

/** `apikey-<tenant>+<keyId>` */
export function apiKeyStreamName(tenantId: string, keyId: string): string {
  return compoundStreamName('apikey', tenantId, requireId('keyId', keyId));
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Whether a key in `state` lets a request in at `now`. */
export function isKeyUsable(state: ApiKeyState, now: string): boolean {
  if (state.status === 'active') return true;
  return state.status === 'rotated' && Date.parse(now) < Date.parse(state.expiresAt);
}

/** How long the old key of a rotation keeps working: whole seconds, 0 to 7 days. */
export function requireRotationOverlap(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_ROTATION_OVERLAP_SECONDS) {
    throw invalid(
      'overlapSeconds',
      'range',
      `overlapSeconds must be a whole number from 0 to ${MAX_ROTATION_OVERLAP_SECONDS} (7 days).`,
      { min: 0, max: MAX_ROTATION_OVERLAP_SECONDS },
    );
  }
  return value;
}

function requireExisting(state: ApiKeyState, keyId: string): Exclude<ApiKeyState, { status: 'none' }> {
  if (state.status === 'none')
    throw new NotFoundError('api-key-not-found', `API key ${keyId} does not exist.`, { keyId });
  return state;
}

function decide(command: ApiKeyCommand, state: ApiKeyState): ApiKeyEvent[] {
  switch (command.type) {
    case 'CreateApiKey': {
      const now = requireInstant('now', command.data.now);
      const actor = requireText('actor', command.data.actor);
      if (typeof command.data.secretHash !== 'string' || !SHA256_HEX.test(command.data.secretHash)) {
        throw invalid('secretHash', 'sha256-hex', 'secretHash must be a SHA-256 digest in hex.');
      }
      const key: ApiKeyDetails = {
        tenantId: requireId('tenantId', command.data.tenantId),
        keyId: requireId('keyId', command.data.keyId),
        name: requireText('name', command.data.name, 100),
        role: requireOneOf('role', command.data.role, API_KEY_ROLES),
        secretHash: command.data.secretHash,
        ...(command.data.rotatedFrom !== undefined
          ? { rotatedFrom: requireId('rotatedFrom', command.data.rotatedFrom) }
          : {}),
      };
      if (state.status !== 'none') {
        // The same key again (a retry, or BOOTSTRAP_API_KEY at every start) changes nothing, even once revoked.
        if (state.key.secretHash === key.secretHash) return [];
        throw new IllegalStateError('api-key-already-exists', `API key ${key.keyId} already exists.`, {
          keyId: key.keyId,
        });
      }
      return [{ type: 'ApiKeyCreated', data: { ...key, createdAt: now, actor } }];
    }
    case 'RevokeApiKey': {
      const now = requireInstant('now', command.data.now);
      const actor = requireText('actor', command.data.actor);
      const reason = optionalText('reason', command.data.reason, 1000);
      const current = requireExisting(state, command.data.keyId);
      if (current.status === 'revoked') return [];
      return [
        {
          type: 'ApiKeyRevoked',
          data: { tenantId: current.key.tenantId, keyId: current.key.keyId, reason, revokedAt: now, actor },
        },
      ];
    }
    case 'RotateApiKey': {
      const now = requireInstant('now', command.data.now);
      const actor = requireText('actor', command.data.actor);
      const replacedBy = requireId('replacedBy', command.data.replacedBy);
      const overlap = requireRotationOverlap(command.data.overlapSeconds);
      const current = requireExisting(state, command.data.keyId);
      if (current.status === 'rotated' && current.replacedBy === replacedBy) return [];
      if (current.status !== 'active') {
        throw new IllegalStateError(
          current.status === 'revoked' ? 'api-key-revoked' : 'api-key-already-rotated',
          current.status === 'revoked'
            ? `API key ${current.key.keyId} is revoked.`
            : `API key ${current.key.keyId} was already replaced by ${current.replacedBy}.`,
          { keyId: current.key.keyId, status: current.status },
        );
      }
      if (replacedBy === current.key.keyId) throw invalid('replacedBy', 'other-key', 'A key cannot replace itself.');
      return [
        {
          type: 'ApiKeyRotated',
          data: {
            tenantId: current.key.tenantId,
            keyId: current.key.keyId,
            replacedBy,
            rotatedAt: now,
            expiresAt: toIsoInstant(Date.parse(now) + overlap * 1000),
            actor,
          },
        },
      ];
    }
  }
}

function evolve(state: ApiKeyState, event: ApiKeyEvent): ApiKeyState {
  switch (event.type) {
    case 'ApiKeyCreated': {
      const { createdAt, actor: _actor, ...key } = event.data;
      return { status: 'active', key, createdAt };
    }
    case 'ApiKeyRotated':
      return state.status === 'none'
        ? state
        : {
            status: 'rotated',
            key: state.key,
            createdAt: state.createdAt,
            replacedBy: event.data.replacedBy,
            expiresAt: event.data.expiresAt,
          };
    case 'ApiKeyRevoked':
      return state.status === 'none'
        ? state
        : { status: 'revoked', key: state.key, createdAt: state.createdAt, revokedAt: event.data.revokedAt };
  }
}

export const apiKeyDecider: Decider<ApiKeyCommand, ApiKeyState, ApiKeyEvent> = {
  decide,
  evolve,
  initialState: () => ({ status: 'none' }),
};
