/** The only source of new ids. `derive` gives the same id for the same inputs (UUID v5), for idempotent effects. */
export interface IdSource {
  newId(): string;
  derive(...parts: readonly string[]): string;
}
