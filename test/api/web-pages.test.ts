import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHerald, type TestHerald } from '../support/test-herald.js';

/**
 * The pages' HTML shells and their assets as a browser gets them. Breaks when a page loads from anywhere but this
 * origin (CSP), the customer's page (its URL is their key) is cached or sent as a Referer, a malformed tenant or
 * token gets a page, an asset outside the build is served, or assets are not cacheable by their content hash.
 */
describe('the pages (booking page, customer’s page, staff console)', () => {
  let herald: TestHerald;
  beforeAll(async () => {
    herald = await startTestHerald();
  });
  afterAll(async () => {
    await herald.stop();
  });
  const get = (url: string, headers: Record<string, string> = {}) => herald.app.inject({ method: 'GET', url, headers });

  it('serves each page as a shell in the asked language, with its script and style sheet from this origin only', async () => {
    for (const [url, lang, title] of [
      ['/book/default?lang=cs', 'cs', 'Rezervace'],
      ['/book/default', 'nb', 'Bestill'],
      ['/staff', 'en', 'Staff console'],
    ] as const) {
      const response = await get(url, { 'accept-language': 'nb-NO,nb;q=0.9' });
      expect(response.statusCode, url).toBe(200);
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
      const csp = String(response.headers['content-security-policy']);
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toMatch(/https?:|unsafe-inline/);
      const html = response.body;
      if (url !== '/staff') expect(html).toContain(`<html lang="${lang}">`);
      if (url !== '/staff') expect(html).toContain(`<title>${title}</title>`);
      const script = /<script type="module" src="(\/assets\/[^"]+\.js)"><\/script>/.exec(html)?.[1];
      const styles = /<link rel="stylesheet" href="(\/assets\/[^"]+\.css)">/.exec(html)?.[1];
      expect(script, html).toBeDefined();
      expect(styles, html).toBeDefined();
      for (const asset of [script!, styles!]) {
        const file = await get(asset);
        expect(file.statusCode, asset).toBe(200);
        expect(file.headers['cache-control']).toBe('public, max-age=31536000, immutable');
        expect(file.body.length).toBeGreaterThan(1000);
      }
    }
  });

  it('never caches the customer’s page nor sends its URL on as a Referer', async () => {
    const response = await get(`/my/${'a'.repeat(40)}`);
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.headers['referrer-policy']).toBe('no-referrer');
    expect(response.headers['x-robots-tag']).toBe('noindex');
  });

  it('answers 404 to a malformed tenant or token and to files outside the build', async () => {
    for (const url of ['/book/-bad', `/my/${'a'.repeat(10)}`, '/my/has.dots.in.it.but.long.enough', '/assets/x.js']) {
      expect((await get(url)).statusCode, url).toBe(404);
    }
    expect((await get('/assets/..%2Fmanifest.json')).statusCode).toBe(404);
  });
});
