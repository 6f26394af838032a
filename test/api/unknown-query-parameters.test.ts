import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aReservation, startTestHerald, type TestHerald } from '../support/test-herald.js';

interface Operation {
  operationId?: string;
  parameters?: { in: string; name: string }[];
}

let herald: TestHerald;
let getOperations: { path: string; operation: Operation }[];

beforeAll(async () => {
  herald = await startTestHerald();
  const document = (await herald.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
    paths: Record<string, Record<string, Operation>>;
  };
  getOperations = Object.entries(document.paths).flatMap(([path, item]) =>
    item.get ? [{ path, operation: item.get }] : [],
  );
});
afterAll(async () => {
  await herald.stop();
});

/** A concrete URL for an OpenAPI path: every path parameter gets a valid-looking id (an instant for `start`). */
const concrete = (path: string) =>
  path.replace(/\{([^}]+)\}/g, (_, name: string) => (name === 'start' ? '2030-01-01T10:00:00Z' : 'zz-unknown-id'));

/** Query parameters the operation documents as required, with values that pass validation. */
function requiredQuery(operation: Operation): string {
  const known: Record<string, string> = {
    serviceId: 'svc-1',
    from: '2030-01-01T00:00:00Z',
    to: '2030-01-02T00:00:00Z',
    email: 'ada@example.com',
  };
  const names = (operation.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
  return names
    .filter((name) => name in known)
    .map((name) => `${name}=${encodeURIComponent(known[name]!)}`)
    .join('&');
}

describe('unknown query parameters', () => {
  it('are refused with a 400 problem+json naming the parameter on every GET operation of the document', async () => {
    expect(getOperations.length).toBeGreaterThan(25);
    const accepted: string[] = [];
    for (const { path, operation } of getOperations) {
      const known = requiredQuery(operation);
      const url = `${concrete(path)}?${known ? `${known}&` : ''}zzUnknown=1`;
      const response = await herald.app.inject({ method: 'GET', url, headers: herald.auth });
      const body = String(response.headers['content-type']).startsWith('application/problem+json')
        ? response.json()
        : {};
      const named = (body.errors ?? []).some(
        (error: { field: string; message: string }) =>
          error.field === 'querystring.zzUnknown' && error.message === 'unknown parameter',
      );
      if (response.statusCode !== 400 || !named) {
        accepted.push(`${operation.operationId} ${url}: ${response.statusCode} ${response.body.slice(0, 200)}`);
      }
    }
    expect(accepted, 'GET operations that did not refuse an unknown parameter').toEqual([]);
  });

  it('names every unknown parameter and changes nothing on a write', async () => {
    const response = await herald.app.inject({
      method: 'POST',
      url: '/v1/reservations?dryRun=true&asOf=3',
      headers: herald.auth,
      payload: aReservation({ reservationId: 'r-unknown-query' }),
    });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json().errors).toEqual(
      expect.arrayContaining([
        { field: 'querystring.dryRun', message: 'unknown parameter' },
        { field: 'querystring.asOf', message: 'unknown parameter' },
      ]),
    );
    const after = await herald.app.inject({
      method: 'GET',
      url: '/v1/reservations/r-unknown-query',
      headers: herald.auth,
    });
    expect(after.statusCode).toBe(404);
  });

  it('are refused on the document itself, and ignored on the claim page customers open from a message', async () => {
    const document = await herald.app.inject({ method: 'GET', url: '/openapi.json?x=1' });
    expect(document.statusCode).toBe(400);
    // An invalid claim token is the same page with or without utm_* parameters (never a validation error).
    const plain = await herald.app.inject({ method: 'GET', url: '/claim/default/not-a-token' });
    const decorated = await herald.app.inject({ method: 'GET', url: '/claim/default/not-a-token?utm_source=mail' });
    expect(decorated.statusCode).toBe(plain.statusCode);
    expect(decorated.headers['content-type']).toBe(plain.headers['content-type']);
  });
});
