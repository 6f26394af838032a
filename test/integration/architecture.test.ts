import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const depcruise = join(root, 'node_modules/.bin/depcruise');
let dir: string | undefined;

afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** Runs our dependency rule over a tiny tree laid out like src/. */
function cruise(files: Record<string, string>): { status: number | null; output: string } {
  dir = mkdtempSync(join(tmpdir(), 'herald-deps-'));
  cpSync(join(root, '.dependency-cruiser.cjs'), join(dir, '.dependency-cruiser.cjs'));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext' } }),
  );
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  const result = spawnSync(depcruise, ['src', '--config', '.dependency-cruiser.cjs', '--no-progress'], {
    cwd: dir,
    encoding: 'utf8',
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('the dependency rule', () => {
  it('passes when dependencies point inward', () => {
    const result = cruise({
      'src/domain/a.ts': 'export const a = 1;\n',
      'src/application/b.ts': "import { a } from '../domain/a.js';\nexport const b = a;\n",
      'src/infrastructure/c.ts': "import { b } from '../application/b.js';\nexport const c = b;\n",
    });
    expect(result.output).toContain('no dependency violations');
    expect(result.status).toBe(0);
  });

  it('fails when the domain imports an adapter', () => {
    const result = cruise({
      'src/infrastructure/sqlite.ts': 'export const db = 1;\n',
      'src/domain/a.ts': "import { db } from '../infrastructure/sqlite.js';\nexport const a = db;\n",
    });
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('domain-is-pure');
  });

  it('fails when the application imports an adapter', () => {
    const result = cruise({
      'src/infrastructure/smtp.ts': 'export const smtp = 1;\n',
      'src/application/a.ts': "import { smtp } from '../infrastructure/smtp.js';\nexport const a = smtp;\n",
    });
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('application-depends-only-on-domain');
  });
});
