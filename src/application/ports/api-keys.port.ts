export type Role = 'admin' | 'staff' | 'integration';

/** Who is calling: resolved from an API key. Every command and query runs inside `tenantId`. */
export interface Principal {
  readonly keyId: string;
  readonly tenantId: string;
  readonly role: Role;
}

/** API keys, stored hashed: the secret is shown once, at creation, and never stored or logged. */
export interface ApiKeys {
  authenticate(secret: string): Promise<Principal | null>;
  create(input: { tenantId: string; role: Role; name: string }): Promise<{ principal: Principal; secret: string }>;
  /** Creates a key with exactly this secret unless it exists (BOOTSTRAP_API_KEY); idempotent. */
  ensure(input: { secret: string; tenantId: string; role: Role; name: string }): Promise<Principal>;
  list(tenantId: string): Promise<{ keyId: string; role: Role; name: string; createdAt: string }[]>;
  revoke(tenantId: string, keyId: string): Promise<boolean>;
}
