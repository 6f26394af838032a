import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { HeraldProcess } from './herald-process.js';

export interface CrashWorkspace {
  /** The DATA_DIR every Herald process of the file shares (made before the first test). */
  readonly dataDir: string;
  /** Every Herald process started: killed after the last test, whatever state they are in. */
  readonly processes: HeraldProcess[];
}

/** The data directory and processes of a kill -9 test file; after its last test every process dies and the directory goes. */
export function crashWorkspace(prefix: string): CrashWorkspace {
  const workspace = { dataDir: '', processes: [] as HeraldProcess[] };
  beforeAll(async () => {
    workspace.dataDir = await mkdtemp(join(tmpdir(), prefix));
  });
  afterAll(async () => {
    for (const p of workspace.processes) p.crash();
    await Promise.all(workspace.processes.map((p) => p.exited));
    if (workspace.dataDir) await rm(workspace.dataDir, { recursive: true, force: true });
  });
  return workspace;
}
