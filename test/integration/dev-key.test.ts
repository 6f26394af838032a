import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startHeraldProcess, type HeraldProcess } from '../support/herald-process.js';

// `npm start` in embedded mode without BOOTSTRAP_API_KEY prints a development key and keeps it in
// DATA_DIR/dev-api-key. The key is event-sourced like any other: it survives restarts and a read-model rebuild.

const dirs: string[] = [];
const running: HeraldProcess[] = [];
afterAll(async () => {
  for (const herald of running.splice(0)) await herald.stop();
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe('the embedded development key', () => {
  it('keeps working across restarts, also after the read models were deleted', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'herald-dev-key-'));
    dirs.push(dataDir);
    const start = async () => {
      const herald = await startHeraldProcess({ env: { DATA_DIR: dataDir } });
      running.push(herald);
      return herald;
    };
    const listKeys = async (herald: HeraldProcess, secret: string) =>
      fetch(`${herald.url}/v1/api-keys`, { headers: { authorization: `Bearer ${secret}` } });

    const first = await start();
    const secret = (await readFile(join(dataDir, 'dev-api-key'), 'utf8')).trim();
    expect(first.output.join('\n')).toContain(secret);
    const listed = await listKeys(first, secret);
    expect(listed.status).toBe(200);
    expect(((await listed.json()) as { items: { name: string }[] }).items.map((k) => k.name)).toEqual(['development']);
    await first.stop();

    for (const suffix of ['', '-wal', '-shm']) await rm(join(dataDir, `read-models.sqlite${suffix}`), { force: true });
    const second = await start();
    expect((await readFile(join(dataDir, 'dev-api-key'), 'utf8')).trim()).toBe(secret);
    expect(second.output.join('\n')).toContain(secret);
    const again = await listKeys(second, secret);
    expect(again.status).toBe(200);
    expect(((await again.json()) as { items: unknown[] }).items).toHaveLength(1); // no second key was made
    await second.stop();
  });
});
