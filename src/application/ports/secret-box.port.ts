import type { SealedSecret } from '../../domain/shared/sealed-secret.js';

/**
 * Seals secrets a tenant hands over (calendar feed addresses, provider tokens) so the event store keeps them
 * encrypted at rest, and opens them for the adapter that needs them. `context` (e.g. `tenant|calendar|id`) is bound
 * to the seal: a sealed blob copied into another tenant's or link's event does not open.
 */
export interface SecretBox {
  seal(secret: string, context: string): SealedSecret;
  /** Throws when the blob was not sealed for this context or with this key. */
  open(sealed: SealedSecret, context: string): string;
}
