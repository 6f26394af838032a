import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { KeySecrets } from '../../application/ports/key-secrets.port.js';

/**
 * Secrets are `hk_` + 32 random bytes (base64url), so a single SHA-256 is enough (no password stretching needed):
 * the digest cannot be reversed and a lookup by digest stays O(1).
 */
export const keySecrets: KeySecrets = {
  generate: () => `hk_${randomBytes(32).toString('base64url')}`,
  hash: (secret) => createHash('sha256').update(secret, 'utf8').digest('hex'),
  sameHash: (a, b) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b)),
};
