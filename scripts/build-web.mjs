// Builds the front end (web/src) into dist/web with esbuild: one bundle per page, one style sheet, content-hashed
// names and a manifest.json the server reads at start. Run by `npm run build:web` (also before `npm start`,
// `npm test` and the benchmarks). Prints each file's size and its gzip size: the budget is in docs/benchmarks.md.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'web');
const pages = ['booking', 'customer', 'staff'];
const quiet = process.argv.includes('--quiet');

rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: [...pages.map((page) => `web/src/pages/${page}.ts`), 'web/src/styles.css'],
  outdir,
  entryNames: '[name]-[hash]',
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2020'],
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
});

const manifest = { pages: {}, styles: '' };
for (const [output, meta] of Object.entries(result.metafile.outputs)) {
  const name = basename(output);
  const entry = meta.entryPoint ?? '';
  const page = pages.find((p) => entry === `web/src/pages/${p}.ts`);
  if (page) manifest.pages[page] = name;
  else if (entry === 'web/src/styles.css') manifest.styles = name;
}
writeFileSync(join(outdir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
if (!quiet) {
  for (const name of [...Object.values(manifest.pages), manifest.styles]) {
    const body = readFileSync(join(outdir, name));
    console.log(
      `${name.padEnd(28)} ${String(body.length).padStart(7)} B  ${String(gzipSync(body).length).padStart(6)} B gzip`,
    );
  }
}
