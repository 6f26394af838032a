import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { CredentialCipher } from '../../application/ports/credential-cipher.port.js';
import type { SealedCredentials } from '../../domain/notification/index.js';

/** JSON with sorted keys: the same credentials give the same bytes, whatever order they came in. */
function canonical(credentials: Readonly<Record<string, string>>): string {
  return JSON.stringify(
    Object.fromEntries(Object.entries(credentials).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  );
}

/**
 * AES-256-GCM with a fresh 96-bit IV per seal and the context as AAD. The fingerprint uses a separate key derived
 * with HKDF, so it reveals nothing about the encryption key and cannot be computed without it.
 */
export function createAesGcmCredentialCipher(key: Buffer): CredentialCipher {
  if (key.length !== 32) throw new Error('the channel credentials key must be 32 bytes');
  const keyId = createHash('sha256').update(key).digest('hex').slice(0, 12);
  const fingerprintKey = Buffer.from(
    hkdfSync('sha256', key, Buffer.alloc(0), 'herald channel credential fingerprint', 32),
  );
  return {
    seal(credentials, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const ciphertext = Buffer.concat([cipher.update(canonical(credentials), 'utf8'), cipher.final()]);
      return {
        v: 1,
        keyId,
        iv: iv.toString('base64'),
        ciphertext: ciphertext.toString('base64'),
        tag: cipher.getAuthTag().toString('base64'),
      };
    },
    open(sealed: SealedCredentials, context) {
      if (sealed.v !== 1) throw new Error(`unknown credential seal version ${String(sealed.v)}`);
      if (sealed.keyId !== keyId) throw new Error('the credentials were sealed with another CHANNEL_CREDENTIALS_KEY');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
      const plain = Buffer.concat([decipher.update(Buffer.from(sealed.ciphertext, 'base64')), decipher.final()]);
      return JSON.parse(plain.toString('utf8')) as Record<string, string>;
    },
    fingerprint(credentials, context) {
      return createHmac('sha256', fingerprintKey)
        .update(context)
        .update('\0')
        .update(canonical(credentials))
        .digest('hex');
    },
  };
}
