import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { SecretBox } from '../../application/ports/secret-box.port.js';
import type { SealedSecret } from '../../domain/shared/sealed-secret.js';

/** 64 hex digits or 32 bytes in base64(url): a 256-bit key; undefined when the text is neither. */
export function parseKey256(text: string): Buffer | undefined {
  const value = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(value)) {
    const key = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    return key.length === 32 ? key : undefined;
  }
  return undefined;
}

/**
 * AES-256-GCM, a fresh 96-bit IV per seal, the context as associated data (a blob copied to another tenant or link
 * does not open). `keyId` names the key (a hash prefix, not the key) so a rotation knows which one sealed a blob.
 */
export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== 32) throw new Error('a secret box key must be 32 bytes');
  const keyId = createHash('sha256').update(key).digest('hex').slice(0, 12);
  return {
    seal(secret, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const ciphertext = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
      return {
        v: 1,
        keyId,
        iv: iv.toString('base64'),
        ciphertext: ciphertext.toString('base64'),
        tag: cipher.getAuthTag().toString('base64'),
      };
    },
    open(sealed: SealedSecret, context) {
      if (sealed.v !== 1) throw new Error(`unknown seal version ${String(sealed.v)}`);
      if (sealed.keyId !== keyId) throw new Error('the secret was sealed with another key');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(sealed.ciphertext, 'base64')), decipher.final()]).toString(
        'utf8',
      );
    },
  };
}
