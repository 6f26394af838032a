import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { renderWebApiTypes } from '../../scripts/web-api-types.js';

/**
 * The pages' API client is typed by web/src/api/schema.d.ts. Breaks when a route changed and the types were not
 * regenerated (`npm run gen:web-api`): the pages would then be typechecked against an API that is not served.
 */
describe('the pages’ API types', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-web-api-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('are what openapi-typescript makes of the served OpenAPI document', async () => {
    const committed = readFileSync(fileURLToPath(new URL('../../web/src/api/schema.d.ts', import.meta.url)), 'utf8');
    const fresh = await renderWebApiTypes(dataDir);
    expect(fresh === committed, 'web/src/api/schema.d.ts is stale: run npm run gen:web-api').toBe(true);
  }, 60_000);
});
