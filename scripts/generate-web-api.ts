// Writes web/src/api/schema.d.ts: the types openapi-typescript generates from Herald's OpenAPI document, which the
// pages' API client (openapi-fetch) is typed with. Run `npm run gen:web-api` after changing a route; the test
// test/api/web-api-types.test.ts fails while the committed file differs from what the served document gives.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderWebApiTypes } from './web-api-types.js';

const out = fileURLToPath(new URL('../web/src/api/schema.d.ts', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'herald-gen-'));
try {
  writeFileSync(out, await renderWebApiTypes(dataDir));
  console.log(`wrote ${out}`);
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
