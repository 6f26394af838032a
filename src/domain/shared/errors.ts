/**
 * Typed errors of the domain. Each is mapped once, at the HTTP edge, to an RFC 9457 problem:
 * ValidationError -> 400, NotFoundError -> 404, IllegalStateError -> 409, ConcurrencyError -> 412/409.
 */
export abstract class DomainError extends Error {
  abstract readonly kind: 'validation' | 'illegal-state' | 'not-found' | 'concurrency';
  /** A stable, machine-readable code, e.g. `slot-full`; becomes part of the problem type URI. */
  readonly code: string;
  /** Extra members of the problem document (field names, rule, remaining seats...). */
  readonly details: Record<string, unknown>;

  constructor(code: string, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }
}

export class ValidationError extends DomainError {
  readonly kind = 'validation' as const;
}

export class IllegalStateError extends DomainError {
  readonly kind = 'illegal-state' as const;
}

export class NotFoundError extends DomainError {
  readonly kind = 'not-found' as const;
}

/** A write lost a race: the stream moved on since it was read. */
export class ConcurrencyError extends DomainError {
  readonly kind = 'concurrency' as const;
}
