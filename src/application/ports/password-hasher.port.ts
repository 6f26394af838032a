/** Hashes staff passwords (argon2id in production: src/infrastructure/auth/argon2-password-hasher.ts). */
export interface PasswordHasher {
  /** A PHC string (`$argon2id$v=19$m=...`) with a fresh salt. */
  hash(password: string): Promise<string>;
  /** Whether `password` matches `hash`; false (never a throw) for a malformed hash. */
  verify(hash: string, password: string): Promise<boolean>;
}
