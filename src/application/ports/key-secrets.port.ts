/**
 * API key secrets: made from a cryptographic random source and stored only as a digest. The digest is what events
 * and read models hold; the secret is shown once, to whoever created the key.
 */
export interface KeySecrets {
  /** A new secret (printable ASCII, 16-256 characters, as authentication requires). */
  generate(): string;
  /** The digest a secret is stored and looked up under (SHA-256, hex). Deterministic. */
  hash(secret: string): string;
  /** Compares two digests in constant time. */
  sameHash(a: string, b: string): boolean;
}

/** Keys that cannot be one of ours are refused before any lookup: 16-256 printable ASCII characters, no spaces. */
export function isWellFormedSecret(secret: string): boolean {
  return secret.length >= 16 && secret.length <= 256 && /^[\x21-\x7E]+$/.test(secret);
}
