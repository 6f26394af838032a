/**
 * A secret sealed for the event store: AES-256-GCM with a fresh 96-bit IV, the context (tenant, what it belongs to)
 * as associated data, base64 fields. Opaque to the domain; the SecretBox port seals and opens it. The same shape as
 * the channel credentials of issue 10 (`v`, `keyId`, `iv`, `ciphertext`, `tag`), so one key service can open both.
 */
export interface SealedSecret {
  /** Format version (1: AES-256-GCM). */
  readonly v: 1;
  /** Which key sealed it: a hash prefix of the key, never the key. */
  readonly keyId: string;
  readonly iv: string;
  readonly ciphertext: string;
  readonly tag: string;
}
