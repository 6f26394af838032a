import { connect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReadinessReport } from '../../src/application/health.js';
import { buildApp } from '../../src/interfaces/http/app.js';
import { aReservation, startTestHerald, type TestHerald } from '../support/test-herald.js';

let herald: TestHerald;
/** The same Herald's HTTP app with a 1 s request timeout, listening, for requests `inject` cannot send. */
let impatient: FastifyInstance;
let port: number;
let readiness: ReadinessReport = { ready: true, checks: {} };

beforeAll(async () => {
  herald = await startTestHerald();
  impatient = await buildApp(
    { ...herald.httpDeps, health: { ready: async () => readiness } },
    { requestTimeoutMs: 1_000 },
  );
  await impatient.listen({ port: 0, host: '127.0.0.1' });
  port = (impatient.server.address() as { port: number }).port;
});
afterAll(async () => {
  await impatient.close();
  await herald.stop();
});

async function eventCount(): Promise<number> {
  // Consumers append on their own after a request (the planner, the dispatcher): count once they have.
  await herald.settle();
  return (await herald.adapters.eventStore.readAll({ limit: 100_000 })).length;
}

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends bytes as they are (no client library would send them malformed) and reads the answer until close. */
function rawRequest(bytes: string, timeoutMs = 10_000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms; got ${JSON.stringify(data)}`));
    }, timeoutMs);
    socket.on('data', (chunk) => (data += chunk.toString('utf8')));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      const [head = '', body = ''] = data.split('\r\n\r\n', 2);
      const [statusLine = '', ...headerLines] = head.split('\r\n');
      const headers = Object.fromEntries(
        headerLines.map((line) => {
          const colon = line.indexOf(':');
          return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
        }),
      );
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body });
    });
  });
}

const auth = () => `Authorization: ${herald.auth.authorization}\r\n`;

function expectProblem(response: { status: number; headers: Record<string, unknown>; body: string }, status: number) {
  expect(response.status).toBe(status);
  expect(String(response.headers['content-type'])).toMatch(/^application\/problem\+json/);
  const body = JSON.parse(response.body) as Record<string, unknown>;
  expect(body).toMatchObject({ status, type: expect.stringMatching(/^https:\/\/herald\.dev\/problems\//) });
  expect(typeof body.title).toBe('string');
  return body;
}

describe('framework-level errors are problem+json', () => {
  it('a path with malformed percent-encoding is a 400 malformed-url', async () => {
    const response = await rawRequest(
      `GET /v1/reservations/%E0%A4%A HTTP/1.1\r\nHost: herald\r\n${auth()}Connection: close\r\n\r\n`,
    );
    expect(expectProblem(response, 400).code).toBe('malformed-url');
  });

  it('a Content-Length that is not a number, or two that disagree, is a 400 and records nothing', async () => {
    const before = await eventCount();
    const body = JSON.stringify(aReservation());
    const notANumber = await rawRequest(
      `POST /v1/reservations HTTP/1.1\r\nHost: herald\r\n${auth()}Content-Type: application/json\r\n` +
        `Content-Length: 12abc\r\n\r\n${body}`,
    );
    expect(expectProblem(notANumber, 400).code).toBe('malformed-request');
    const twoLengths = await rawRequest(
      `POST /v1/reservations HTTP/1.1\r\nHost: herald\r\n${auth()}Content-Type: application/json\r\n` +
        `Content-Length: ${body.length}\r\nContent-Length: 2\r\n\r\n${body}`,
    );
    expect(expectProblem(twoLengths, 400).code).toBe('malformed-request');
    expect(await eventCount()).toBe(before);
  });

  it('a body shorter than its Content-Length is answered 408 once the request timeout passes', async () => {
    const response = await rawRequest(
      `POST /v1/reservations HTTP/1.1\r\nHost: herald\r\n${auth()}Content-Type: application/json\r\n` +
        `Content-Length: 500\r\n\r\n{"customer":`,
    );
    expect(expectProblem(response, 408).code).toBe('request-timeout');
  });

  it('headers over the size limit are a 431', async () => {
    const response = await rawRequest(
      `GET /v1/reservations HTTP/1.1\r\nHost: herald\r\n${auth()}X-Padding: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    expect(expectProblem(response, 431).code).toBe('headers-too-large');
  });

  it('a body over 1 MiB is a 413, invalid JSON a 400', async () => {
    const tooLarge = await herald.app.inject({
      method: 'POST',
      url: '/v1/reservations',
      headers: { ...herald.auth, 'content-type': 'application/json' },
      payload: JSON.stringify({ ...aReservation(), padding: 'x'.repeat(1024 * 1024) }),
    });
    expect(expectProblem({ ...tooLarge, status: tooLarge.statusCode }, 413).code).toBe('body-too-large');
    const invalid = await herald.app.inject({
      method: 'POST',
      url: '/v1/reservations',
      headers: { ...herald.auth, 'content-type': 'application/json' },
      payload: '{"customer": ',
    });
    expect(expectProblem({ ...invalid, status: invalid.statusCode }, 400).code).toBe('malformed-json');
  });

  it('a text/plain body, or a body without Content-Type, is a 415 and records nothing', async () => {
    const before = await eventCount();
    for (const headers of [{ 'content-type': 'text/plain' }, {}]) {
      const response = await herald.app.inject({
        method: 'POST',
        url: '/v1/reservations',
        headers: { ...herald.auth, ...headers },
        payload: JSON.stringify(aReservation()),
      });
      const problem = expectProblem({ ...response, status: response.statusCode }, 415);
      expect(problem.code).toBe('unsupported-media-type');
      expect(problem.title).toBe('Send application/json.');
    }
    const form = await herald.app.inject({
      method: 'PUT',
      url: '/v1/settings/notifications',
      headers: { ...herald.auth, 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'channels=all',
    });
    expectProblem({ ...form, status: form.statusCode }, 415);
    expect(await eventCount()).toBe(before);
  });

  it('a path parameter is judged by its schema, not cut off by the router', async () => {
    const longId = await herald.app.inject({
      method: 'GET',
      url: `/v1/reservations/${'a'.repeat(128)}`,
      headers: herald.auth,
    });
    expect(expectProblem({ ...longId, status: longId.statusCode }, 404).code).toBe('reservation-not-found');
    const tooLong = await herald.app.inject({
      method: 'GET',
      url: `/v1/reservations/${'a'.repeat(129)}`,
      headers: herald.auth,
    });
    const problem = expectProblem({ ...tooLong, status: tooLong.statusCode }, 400);
    expect(problem.errors).toEqual([expect.objectContaining({ field: 'params.reservationId' })]);
  });
});

describe('methods', () => {
  it('a path that exists answers another method with 405 and Allow; a path that does not with 404', async () => {
    for (const method of ['PUT', 'TRACE', 'QUERY'] as const) {
      const response = await herald.app.inject({ method, url: '/v1/reservations', headers: herald.auth });
      const problem = expectProblem({ ...response, status: response.statusCode }, 405);
      expect(problem).toMatchObject({ code: 'method-not-allowed', allowed: ['GET', 'HEAD', 'POST'] });
      expect(response.headers.allow).toBe('GET, HEAD, POST');
    }
    const withParameter = await herald.app.inject({ method: 'PUT', url: '/v1/reservations/r-1', headers: herald.auth });
    expect(withParameter.statusCode).toBe(405);
    expect(withParameter.headers.allow).toBe('DELETE, GET, HEAD');
    const unknown = await herald.app.inject({ method: 'GET', url: '/v1/reservation', headers: herald.auth });
    expect(expectProblem({ ...unknown, status: unknown.statusCode }, 404).code).toBe('route-not-found');
  });
});

describe('readiness', () => {
  it('answers 503 as a problem that carries the checks', async () => {
    readiness = { ready: false, checks: { eventStore: { ok: true }, projections: { ok: false, detail: 'behind' } } };
    try {
      const response = await impatient.inject({ method: 'GET', url: '/health/ready' });
      const problem = expectProblem({ ...response, status: response.statusCode }, 503);
      expect(problem).toMatchObject({ code: 'not-ready', ready: false, checks: readiness.checks });
      expect(problem.detail).toBe('Failing: projections.');
    } finally {
      readiness = { ready: true, checks: {} };
    }
  });
});

describe('If-Match (RFC 9110 §13.1.1)', () => {
  /** A location at revision `revision` (0 when created, +1 per accepted PATCH). */
  async function aLocation(): Promise<string> {
    const response = await herald.app.inject({
      method: 'POST',
      url: '/v1/locations',
      headers: herald.auth,
      payload: {
        name: 'Studio',
        address: { street: 'Storgata 1', city: 'Oslo', country: 'NO' },
        timeZone: 'Europe/Oslo',
      },
    });
    expect(response.statusCode).toBe(201);
    return response.json().locationId as string;
  }
  const rename = (locationId: string, ifMatch: string, name = `Studio ${ifMatch}`) =>
    herald.app.inject({
      method: 'PATCH',
      url: `/v1/locations/${locationId}`,
      headers: { ...herald.auth, 'if-match': ifMatch },
      payload: { name },
    });

  it('compares strongly: a weak tag never matches, even of the current revision (412, nothing recorded)', async () => {
    const locationId = await aLocation();
    const before = await eventCount();
    const weak = await rename(locationId, 'W/"0"');
    expect(expectProblem({ ...weak, status: weak.statusCode }, 412).code).toBe('stale-revision');
    expect(await eventCount()).toBe(before);
    const strong = await rename(locationId, '"0"');
    expect(strong.statusCode).toBe(200);
    expect(strong.headers.etag).toBe('"1"');
  });

  it('* matches any current revision; on a resource that does not exist the answer stays 404', async () => {
    const locationId = await aLocation();
    expect((await rename(locationId, '*')).headers.etag).toBe('"1"');
    expect((await rename(locationId, '*', 'Again')).headers.etag).toBe('"2"');
    expect((await rename('no-such-location', '*')).statusCode).toBe(404);
  });

  it('a list matches when any member matches; when none does it is a 412', async () => {
    const locationId = await aLocation();
    const matching = await rename(locationId, '"7", W/"0" ,"0"');
    expect(matching.statusCode).toBe(200);
    const before = await eventCount();
    const none = await rename(locationId, '"0", "2",, W/"1"');
    const problem = expectProblem({ ...none, status: none.statusCode }, 412);
    expect(problem.currentRevision).toBe('1');
    expect(await eventCount()).toBe(before);
  });

  it('a well-formed tag this service never issued is a 412; a value that is not an entity tag a 400', async () => {
    const locationId = await aLocation();
    for (const foreign of ['"abc"', '"00"', '""']) {
      const response = await rename(locationId, foreign);
      expect(expectProblem({ ...response, status: response.statusCode }, 412).code).toBe('stale-revision');
    }
    for (const malformed of ['0', '"0', 'W/0', '*, "0"', '"0" "1"']) {
      const response = await rename(locationId, malformed);
      expect(expectProblem({ ...response, status: response.statusCode }, 400).code).toBe('invalid-if-match');
    }
  });

  it('applies to reservation transitions and settings the same way', async () => {
    const created = await herald.app.inject({
      method: 'POST',
      url: '/v1/reservations',
      headers: herald.auth,
      payload: aReservation({ start: '2031-01-10T10:00:00Z', end: '2031-01-10T11:00:00Z' }),
    });
    const id = created.json().reservationId as string;
    const cancel = (ifMatch: string) =>
      herald.app.inject({
        method: 'POST',
        url: `/v1/reservations/${id}/cancel`,
        headers: { ...herald.auth, 'if-match': ifMatch },
        payload: { by: 'customer' },
      });
    expect((await cancel('W/"0"')).statusCode).toBe(412);
    expect((await cancel('"5", "0"')).statusCode).toBe(200);

    const auth = await herald.keyFor('if-match-settings');
    const current = await herald.app.inject({ method: 'GET', url: '/v1/settings/notifications', headers: auth });
    const put = (ifMatch: string) =>
      herald.app.inject({
        method: 'PUT',
        url: '/v1/settings/notifications',
        headers: { ...auth, 'if-match': ifMatch },
        payload: { ...(current.json() as object), footer: `footer ${ifMatch}` },
      });
    // Never written: the defaults are the current representation, without an ETag; * matches them.
    expect((await put('"0"')).statusCode).toBe(412);
    expect((await put('*')).statusCode).toBe(200);
    expect((await put('W/"0"')).statusCode).toBe(412);
    expect((await put('"0"')).statusCode).toBe(200);
  });
});
