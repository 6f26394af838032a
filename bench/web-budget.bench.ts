import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

/**
 * The JavaScript each page costs a customer's phone: `npm run build:web` as shipped (minified ES modules, one per
 * page), measured raw and gzip-compressed (level 9, as a server would send it). The baseline, built in the same run
 * with the same esbuild options, is the smallest page the stack can make — Preact + htm rendering one paragraph — so
 * "× baseline" says how much is the pages' own code. A page over its gzip budget fails the bench (exit code 1).
 *
 * `npx tsx bench/web-budget.bench.ts` (or `npm run bench -- web`).
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = join(ROOT, 'dist', 'web');

/** gzip bytes per page: phone-first pages stay under these (docs/benchmarks.md). */
export const BUDGET_GZIP: Readonly<Record<string, number>> = {
  booking: 20_000,
  customer: 20_000,
  staff: 30_000,
  styles: 4_000,
};

interface Row {
  readonly name: string;
  readonly bytes: number;
  readonly gzip: number;
  readonly budget?: number;
}

const gzipped = (body: Uint8Array) => gzipSync(body, { level: 9 }).length;

async function baseline(): Promise<Row> {
  const result = await build({
    absWorkingDir: ROOT,
    stdin: {
      contents:
        "import { h, render } from 'preact'; import htm from 'htm';\n" +
        "render(htm.bind(h)`<p>Hello</p>`, document.getElementById('app'));\n",
      resolveDir: ROOT,
      loader: 'ts',
    },
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2020'],
    legalComments: 'none',
    write: false,
  });
  const body = result.outputFiles[0]!.contents;
  return { name: 'baseline: Preact + htm, one paragraph', bytes: body.length, gzip: gzipped(body) };
}

export async function webBudgetBench(): Promise<{ markdown: string; overBudget: string[] }> {
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-web.mjs'), '--quiet'], { stdio: 'inherit' });
  const manifest = JSON.parse(readFileSync(join(DIST, 'manifest.json'), 'utf8')) as {
    pages: Record<string, string>;
    styles: string;
  };
  const base = await baseline();
  const rows: Row[] = [
    ...Object.entries(manifest.pages).map(([page, file]) => {
      const body = readFileSync(join(DIST, file));
      return { name: page, bytes: body.length, gzip: gzipped(body), budget: BUDGET_GZIP[page] };
    }),
    (() => {
      const body = readFileSync(join(DIST, manifest.styles));
      return { name: 'styles', bytes: body.length, gzip: gzipped(body), budget: BUDGET_GZIP.styles };
    })(),
  ];
  const overBudget = rows.filter((r) => r.budget !== undefined && r.gzip > r.budget).map((r) => r.name);
  const kb = (n: number) => (n / 1024).toFixed(1);
  const markdown = [
    '### JavaScript per page (bench/web-budget.bench.ts)',
    '',
    '| file | bytes | gzip bytes | gzip × baseline | budget (gzip) | within |',
    '|---|---:|---:|---:|---:|---|',
    `| ${base.name} | ${base.bytes} | ${base.gzip} | 1.00 | — | — |`,
    ...rows.map(
      (r) =>
        `| ${r.name} | ${r.bytes} | ${r.gzip} | ${r.name === 'styles' ? '—' : (r.gzip / base.gzip).toFixed(2)} | ` +
        `${r.budget ?? '—'} | ${r.budget === undefined ? '—' : r.gzip <= r.budget ? 'yes' : 'NO'} |`,
    ),
    '',
    `A page's first visit costs its script + the style sheet (+ the HTML shell, under 1 kB): booking ` +
      `${kb(rows.find((r) => r.name === 'booking')!.gzip + rows.find((r) => r.name === 'styles')!.gzip)} kB gzip.`,
  ].join('\n');
  return { markdown, overBudget };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { markdown, overBudget } = await webBudgetBench();
  console.log(markdown);
  if (overBudget.length > 0) {
    console.error(`over budget: ${overBudget.join(', ')}`);
    process.exitCode = 1;
  }
}
