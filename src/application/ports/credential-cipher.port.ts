import type { SealedCredentials } from '../../domain/notification/index.js';

/**
 * Seals a tenant's provider credentials for the event store (AES-256-GCM under CHANNEL_CREDENTIALS_KEY) and opens
 * them for the adapter that needs them. `context` (tenant|channel|provider) is bound to the seal as associated data:
 * a sealed blob copied to another tenant or provider does not open.
 */
export interface CredentialCipher {
  seal(credentials: Readonly<Record<string, string>>, context: string): SealedCredentials;
  /** Throws when the blob was not sealed for this context or with this key. */
  open(sealed: SealedCredentials, context: string): Record<string, string>;
  /** A keyed hash of the credentials: equal credentials (in this context) give an equal fingerprint. */
  fingerprint(credentials: Readonly<Record<string, string>>, context: string): string;
}
