import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Runs main.ts (what `npm start` runs) with exactly `env`; resolves with its exit code and stderr. */
function runMain(env: Record<string, string>): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/interfaces/main.ts'], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, stdout });
    });
  });
}

describe('start-up with an invalid configuration', () => {
  it('BOOTSTRAP_API_KEY=k1 stops the process with exit code 2 and a message naming the variable', async () => {
    const { code, stderr, stdout } = await runMain({
      BOOTSTRAP_API_KEY: 'k1',
      PORT: '70000',
      DATA_DIR: '/nonexistent/never-created',
    });
    expect(code).toBe(2);
    expect(stderr).toContain('Invalid configuration:');
    expect(stderr).toContain('BOOTSTRAP_API_KEY: must be at least 16 characters');
    expect(stderr).toContain('PORT: must be at most 65535');
    expect(stderr).not.toContain('k1');
    expect(stdout).toBe('');
  });
});
