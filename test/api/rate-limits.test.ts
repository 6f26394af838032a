import { afterEach, describe, expect, it } from 'vitest';
import { startTestHerald, type TestHerald } from '../support/test-herald.js';

// Failed authentication is limited per client address, and every key to RATE_LIMIT_PER_KEY requests a minute, by
// @fastify/rate-limit: 429 problem+json with Retry-After. The windows are a minute long, far longer than a test.

const running: TestHerald[] = [];
afterEach(async () => {
  for (const herald of running.splice(0)) await herald.stop();
});
async function heraldWith(env: Record<string, string>): Promise<TestHerald> {
  const herald = await startTestHerald({ env });
  running.push(herald);
  return herald;
}

const WRONG = { authorization: 'Bearer hk_this-is-not-a-key-of-ours-0123' };

describe('failed authentication', () => {
  it('past AUTH_FAILURES_PER_MINUTE from one address: 429 with Retry-After; valid keys and other addresses go on', async () => {
    const herald = await heraldWith({ AUTH_FAILURES_PER_MINUTE: '3' });
    const get = (headers: Record<string, string>, remoteAddress = '198.51.100.7') =>
      herald.app.inject({ method: 'GET', url: '/v1/api-keys', headers, remoteAddress });

    for (let i = 0; i < 3; i++) expect((await get(WRONG)).statusCode).toBe(401);
    const limited = await get(WRONG);
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['content-type']).toContain('application/problem+json');
    expect(limited.json()).toMatchObject({ status: 429, code: 'too-many-failed-authentications' });
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect((await get({})).statusCode).toBe(429); // no key at all is a failure too

    expect((await get(herald.auth)).statusCode).toBe(200);
    expect((await get(WRONG, '198.51.100.8')).statusCode).toBe(401);
  });

  it('takes the client address from X-Forwarded-For only behind a trusted proxy (TRUST_PROXY)', async () => {
    const trusting = await heraldWith({ AUTH_FAILURES_PER_MINUTE: '1', TRUST_PROXY: '127.0.0.1' });
    const via = (herald: TestHerald, client: string) =>
      herald.app.inject({
        method: 'GET',
        url: '/v1/api-keys',
        headers: { ...WRONG, 'x-forwarded-for': client },
        remoteAddress: '127.0.0.1',
      });
    expect((await via(trusting, '203.0.113.1')).statusCode).toBe(401);
    expect((await via(trusting, '203.0.113.1')).statusCode).toBe(429);
    expect((await via(trusting, '203.0.113.2')).statusCode).toBe(401);

    const untrusting = await heraldWith({ AUTH_FAILURES_PER_MINUTE: '1' });
    expect((await via(untrusting, '203.0.113.1')).statusCode).toBe(401);
    // Without TRUST_PROXY a forged header cannot make a new client: it is the proxy's address that is counted.
    expect((await via(untrusting, '203.0.113.2')).statusCode).toBe(429);
  });
});

describe('RATE_LIMIT_PER_KEY', () => {
  it('limits each key on its own: 429 with Retry-After past the limit, another key unaffected', async () => {
    const herald = await heraldWith({ RATE_LIMIT_PER_KEY: '5' });
    const other = await herald.keyFor('default', 'staff');
    const get = (headers: Record<string, string>) =>
      herald.app.inject({ method: 'GET', url: '/v1/reservations', headers });
    for (let i = 0; i < 5; i++) expect((await get(herald.auth)).statusCode).toBe(200);
    const limited = await get(herald.auth);
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['content-type']).toContain('application/problem+json');
    expect(limited.json().code).toBe('rate-limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await get(other)).statusCode).toBe(200);
  });

  it('0 turns the limit off (it does not mean that no request is allowed)', async () => {
    const herald = await heraldWith({ RATE_LIMIT_PER_KEY: '0' });
    const statuses = new Set<number>();
    for (let i = 0; i < 50; i++) {
      statuses.add(
        (await herald.app.inject({ method: 'GET', url: '/v1/reservations', headers: herald.auth })).statusCode,
      );
    }
    expect([...statuses]).toEqual([200]);
  });
});
