export type Role = 'admin' | 'staff' | 'integration';

/** Who is calling: resolved from an API key. Every command and query runs inside `tenantId`. */
export interface Principal {
  readonly keyId: string;
  readonly tenantId: string;
  readonly role: Role;
  /** Who acts, in the events' metadata; `apikey:<keyId>` when absent (`staff:<id>` for a console session). */
  readonly actor?: string;
}

/** The operator: creates, lists and deactivates tenants, and issues a tenant's first keys. */
export interface Operator {
  /** For the audit trail: `operator:<id>` for OPERATOR_API_KEY, `apikey:<id>` for the bootstrap key. */
  readonly actor: string;
}

/** What a key opens: a tenant (a tenant key), the operator role (OPERATOR_API_KEY), or both (the bootstrap key). */
export interface Authentication {
  readonly principal?: Principal;
  readonly operator?: Operator;
}

/** What the HTTP edge needs to let a request in. */
export interface ApiKeyAuthenticator {
  /** null for a secret that is malformed, unknown, revoked, expired or of a deactivated tenant. */
  authenticate(secret: string): Promise<Authentication | null>;
  /** Notes that a key was used; cheap and throttled (last use is coarse by design). */
  recordUse(principal: Principal): void;
}
