import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The pages the front end builds (web/src/pages/<name>.ts). */
export const PAGES = ['booking', 'customer', 'staff'] as const;
export type PageName = (typeof PAGES)[number];

export interface WebAsset {
  readonly body: Buffer;
  readonly contentType: string;
}

/**
 * The built front end (npm run build:web → dist/web): one script per page and one style sheet, named by their
 * content hash, so they are served with a year-long immutable cache and a new build is picked up at once.
 */
export interface WebAssets {
  /** URL path of a page's script, e.g. /assets/booking-2JKW3C.js. */
  script(page: PageName): string;
  /** URL path of the style sheet. */
  readonly styles: string;
  /** A file under /assets/ by its name; undefined for anything not in the build. */
  file(name: string): WebAsset | undefined;
}

export const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../../dist/web/', import.meta.url));

interface Manifest {
  readonly pages: Record<PageName, string>;
  readonly styles: string;
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/** Reads dist/web into memory; a missing or partial build is an error that says how to make it. */
export function loadWebAssets(dir = DEFAULT_WEB_DIR): WebAssets {
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) {
    throw new Error(`the pages are not built (${manifestPath} is missing): run "npm run build:web"`);
  }
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
  const files = new Map<string, WebAsset>();
  for (const name of [...Object.values(manifest.pages), manifest.styles]) {
    const type = TYPES[name.slice(name.lastIndexOf('.'))];
    if (!type || !/^[A-Za-z0-9._-]+$/.test(name)) throw new Error(`unexpected file in the web build: ${name}`);
    files.set(name, { body: readFileSync(join(dir, name)), contentType: type });
  }
  return {
    script: (page) => `/assets/${manifest.pages[page]}`,
    styles: `/assets/${manifest.styles}`,
    file: (name) => files.get(name),
  };
}
