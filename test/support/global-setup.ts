import type { TestProject } from 'vitest/node';

/** Starts the real servers the integration suites need (filled in by the MongoDB harness). */
export default async function setup(_project: TestProject): Promise<() => Promise<void>> {
  return async () => {};
}
