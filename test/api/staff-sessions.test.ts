import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHerald, type TestHerald } from '../support/test-herald.js';

/**
 * The staff console's sign-in as the API sees it: a session cookie (HttpOnly, SameSite=Strict) instead of an API
 * key, every write needing the session's own CSRF token, sign-out and disabling an account ending the session at
 * once, and sign-in attempts limited per address.
 * Breaks when a cross-site write without the token (or with another session's) gets through or changes anything, a
 * signed-out or disabled account's cookie still works, or sign-in can be guessed at without limit.
 */

let herald: TestHerald;
const PASSWORD = 'correct horse battery staple';

beforeAll(async () => {
  herald = await startTestHerald({ env: { SIGN_IN_ATTEMPTS_PER_MINUTE: '5' } });
});
afterAll(async () => {
  await herald.stop();
});

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

async function createAccount(email: string): Promise<string> {
  const response = await herald.app.inject({
    method: 'POST',
    url: '/v1/staff-accounts',
    headers: herald.auth,
    payload: { email, name: 'Front Desk', role: 'staff', locale: 'en', password: PASSWORD },
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json().staffId as string;
}

/** Signs in as a browser would, from its own address: the cookie to send back and the CSRF token. */
async function signIn(email: string, address = '203.0.113.1', password = PASSWORD) {
  const response = await herald.app.inject({
    method: 'POST',
    url: '/v1/staff-sessions',
    remoteAddress: address,
    payload: { tenantId: 'default', email, password },
  });
  const setCookie = String(response.headers['set-cookie'] ?? '');
  return { response, cookie: setCookie.split(';')[0]!, setCookie, csrfToken: response.json().csrfToken as string };
}

const asSession = (method: Method, url: string, cookie: string, csrf?: string, payload?: object) =>
  herald.app.inject({
    method,
    url,
    headers: { cookie, ...(csrf ? { 'x-csrf-token': csrf } : {}) },
    ...(payload ? { payload } : {}),
  });

const reservation = (name: string) => ({
  customer: { name, email: `${name.toLowerCase()}@example.com`, locale: 'en-GB' },
  serviceName: 'Sauna',
  location: { name: 'Wellness Praha', address: 'Vodičkova 1, Praha', timeZone: 'Europe/Prague' },
  start: '2030-12-01T17:00:00Z',
  end: '2030-12-01T18:00:00Z',
});

async function reservationCount(): Promise<number> {
  const response = await herald.app.inject({ method: 'GET', url: '/v1/reservations?limit=200', headers: herald.auth });
  return (response.json().items as unknown[]).length;
}

describe('staff console sessions', () => {
  it('signs in with a cookie the page’s script cannot read nor another site send', async () => {
    await createAccount('desk@example.com');
    const { response, setCookie, csrfToken } = await signIn('desk@example.com');
    expect(response.statusCode, response.body).toBe(201);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(csrfToken).toMatch(/^\S{16,}$/);
    expect(response.json().account).toMatchObject({ email: 'desk@example.com', role: 'staff' });
    expect(JSON.stringify(response.json())).not.toContain(PASSWORD);
  });

  it('refuses a write without the session’s CSRF token, or with another session’s, and changes nothing', async () => {
    await createAccount('csrf@example.com');
    const mine = await signIn('csrf@example.com');
    const other = await signIn('csrf@example.com', '203.0.113.2');
    expect(mine.csrfToken).not.toBe(other.csrfToken);
    // Reading needs no token.
    expect((await asSession('GET', '/v1/reservations', mine.cookie)).statusCode).toBe(200);

    const before = await reservationCount();
    for (const token of [undefined, 'forged-token-0123456789', other.csrfToken]) {
      const refused = await asSession('POST', '/v1/reservations', mine.cookie, token, reservation('Mallory'));
      expect(refused.statusCode, refused.body).toBe(403);
      expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(refused.json()).toMatchObject({ status: 403, code: 'csrf-token-invalid' });
    }
    expect(await reservationCount()).toBe(before);

    const accepted = await asSession('POST', '/v1/reservations', mine.cookie, mine.csrfToken, reservation('Alice'));
    expect(accepted.statusCode, accepted.body).toBe(201);
    await herald.settle(); // the list is a projection: it shows the reservation once it has caught up
    expect(await reservationCount()).toBe(before + 1);
    // Signing out is a write too.
    expect((await asSession('DELETE', '/v1/staff-sessions/current', mine.cookie)).statusCode).toBe(403);
    expect((await asSession('GET', '/v1/staff-sessions/current', mine.cookie)).statusCode).toBe(200);
  });

  it('ends the session on sign-out: the old cookie no longer works, and the cookie is cleared', async () => {
    await createAccount('out@example.com');
    const { cookie, csrfToken } = await signIn('out@example.com');
    const other = await signIn('out@example.com', '203.0.113.3');
    const out = await asSession('DELETE', '/v1/staff-sessions/current', cookie, csrfToken);
    expect(out.statusCode, out.body).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/Max-Age=0/);
    expect((await asSession('GET', '/v1/staff-sessions/current', cookie)).statusCode).toBe(401);
    expect((await asSession('GET', '/v1/reservations', cookie)).statusCode).toBe(401);
    // Only that session: the same person's other sign-in goes on.
    expect((await asSession('GET', '/v1/staff-sessions/current', other.cookie)).statusCode).toBe(200);
  });

  it('ends every session of an account an admin disables, and the account can no longer sign in', async () => {
    const staffId = await createAccount('gone@example.com');
    const { cookie } = await signIn('gone@example.com');
    expect((await asSession('GET', '/v1/reservations', cookie)).statusCode).toBe(200);
    const disabled = await herald.app.inject({
      method: 'PATCH',
      url: `/v1/staff-accounts/${staffId}`,
      headers: herald.auth,
      payload: { disabled: true },
    });
    expect(disabled.statusCode, disabled.body).toBe(200);
    expect((await asSession('GET', '/v1/reservations', cookie)).statusCode).toBe(401);
    const again = await signIn('gone@example.com', '203.0.113.4');
    expect(again.response.statusCode).toBe(401);
    expect(again.response.json()).toMatchObject({ code: 'sign-in-failed' });
  });

  it('limits sign-in attempts per address (429 with Retry-After), whether the password is right or not', async () => {
    await createAccount('limit@example.com');
    const address = '198.51.100.7';
    for (let i = 0; i < 5; i++) {
      const attempt = await signIn('limit@example.com', address, 'wrong password, try again');
      expect(attempt.response.statusCode).toBe(401);
    }
    const limited = await signIn('limit@example.com', address);
    expect(limited.response.statusCode).toBe(429);
    expect(Number(limited.response.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.response.json()).toMatchObject({ code: 'too-many-sign-in-attempts' });
    // Another address is not held back by it.
    expect((await signIn('limit@example.com', '198.51.100.8')).response.statusCode).toBe(201);
  });
});
