import { spawn } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHerald, TEST_ADMIN_KEY, type TestHerald } from '../support/test-herald.js';

/**
 * Issue 8: a client generated from the served /openapi.json at test time (openapi-typescript for the types,
 * openapi-fetch as the client) drives a listening Herald: create a reservation (and replay it), get it, cancel it
 * (first with a stale If-Match), read its deliveries. test/client/flow.ts is written against the generated types and
 * must typecheck with tsc before it runs, so the document's operationIds, Problem schema and headers are what a
 * generated client gets.
 *
 * Breaks when: an operationId used by flow.ts disappears, errors lose their Problem type, a header read there is
 * not documented, the server sends a header the document does not declare for that operation and status, or the
 * API behaves otherwise than documented.
 */

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLIENT_DIR = join(REPO_ROOT, 'test', 'client');
const GENERATED_DIR = join(CLIENT_DIR, 'generated');
/** Headers every response may carry whatever the operation: transport, not contract. */
const TRANSPORT_HEADERS = new Set(['content-type', 'content-length', 'date', 'connection', 'keep-alive']);

interface Document {
  paths: Record<string, Record<string, { responses: Record<string, { headers?: Record<string, unknown> }> }>>;
}

/** flow.ts's `drive`, as far as this test reads its result (flow.ts has the generated types). */
type Answer<T> = { status: number } & T;
type Drive = (
  baseUrl: string,
  apiKey: string,
  settle: () => Promise<void>,
) => Promise<{
  created: Answer<{ reservation: { reservationId: string }; etag: string; location: string }>;
  replayed: Answer<{ replayedHeader: string | null; sameId: boolean }>;
  fetched: Answer<{ reservation: unknown; etag: string | null }>;
  invalid: Answer<{ problem: unknown; contentType: string | null }>;
  stale: Answer<{ problem: unknown }>;
  cancelled: Answer<{ reservation: unknown; etag: string | null }>;
  missing: Answer<{ problem: unknown }>;
  deliveries: { kind: string; channel: string; status: string }[];
  exchanges: { method: string; path: string; status: number; headers: string[] }[];
}>;

let herald: TestHerald;
let baseUrl: string;
let document: Document;

beforeAll(async () => {
  herald = await startTestHerald();
  await herald.app.listen({ port: 0, host: '127.0.0.1' });
  baseUrl = `http://127.0.0.1:${(herald.app.server.address() as { port: number }).port}`;
  document = (await (await fetch(`${baseUrl}/openapi.json`)).json()) as Document;
});
afterAll(async () => {
  await herald?.stop();
});

function tsc(project: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project],
      {
        cwd: REPO_ROOT,
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('a client generated from /openapi.json', () => {
  it('typechecks, and drives create → get → cancel → deliveries with typed problems', async () => {
    await rm(GENERATED_DIR, { recursive: true, force: true });
    await mkdir(GENERATED_DIR, { recursive: true });
    const types = astToString(await openapiTS(document as unknown as Parameters<typeof openapiTS>[0]));
    await writeFile(join(GENERATED_DIR, 'schema.ts'), `/* Generated from /openapi.json at test time. */\n${types}`);
    const checked = await tsc(join(CLIENT_DIR, 'tsconfig.json'));
    expect(checked.output, 'tsc on test/client').toBe('');
    expect(checked.code).toBe(0);

    // Imported by path: flow.ts compiles only against the generated types, so the project's own typecheck (which
    // runs before they exist) must not follow this import; test/client/tsconfig.json checks it above.
    const { drive } = (await import(join(CLIENT_DIR, 'flow.ts'))) as { drive: Drive };
    const result = await drive(baseUrl, TEST_ADMIN_KEY, () => herald.settle());

    expect(result.created).toMatchObject({
      status: 201,
      etag: '"0"',
      location: `/v1/reservations/${result.created.reservation.reservationId}`,
      reservation: { status: 'confirmed', serviceName: 'Massage' },
    });
    expect(result.replayed).toEqual({ status: 201, replayedHeader: 'true', sameId: true });
    expect(result.fetched).toMatchObject({ status: 200, etag: '"0"', reservation: result.created.reservation });

    expect(result.invalid.status).toBe(400);
    expect(result.invalid.contentType).toBe('application/problem+json; charset=utf-8');
    expect(result.invalid.problem).toMatchObject({
      type: 'https://herald.dev/problems/validation-failed',
      code: 'validation-failed',
      status: 400,
      instance: '/v1/reservations',
      errors: [{ field: 'body.end', message: 'must be after start' }],
    });
    expect(result.stale).toMatchObject({ status: 412, problem: { code: 'stale-revision', currentRevision: '0' } });
    expect(result.cancelled).toMatchObject({ status: 200, etag: '"1"', reservation: { status: 'cancelled' } });
    expect(result.missing).toMatchObject({ status: 404, problem: { code: 'reservation-not-found', status: 404 } });

    const sent = result.deliveries.map((delivery) => [delivery.kind, delivery.channel, delivery.status]).sort();
    expect(sent).toEqual([
      ['reservation-cancelled', 'email', 'sent'],
      ['reservation-cancelled', 'sms', 'sent'],
      ['reservation-confirmed', 'email', 'sent'],
      ['reservation-confirmed', 'sms', 'sent'],
    ]);

    // Every header the server sent is documented for that operation and status.
    const undocumented = result.exchanges.flatMap(({ method, path, status, headers }) => {
      const documented = Object.keys(document.paths[path]?.[method.toLowerCase()]?.responses[status]?.headers ?? {});
      const known = new Set(documented.map((name) => name.toLowerCase()));
      return headers
        .filter((name) => !TRANSPORT_HEADERS.has(name) && !known.has(name))
        .map((name) => `${method} ${path} ${status}: ${name}`);
    });
    expect(result.exchanges.length).toBeGreaterThanOrEqual(8);
    expect(undocumented).toEqual([]);
  });
});
