import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IDEMPOTENCY_KEY_MAX, problemSchema } from '../../src/interfaces/http/schemas/common.js';
import { aReservation, startTestHerald, type TestHerald } from '../support/test-herald.js';

interface Parameter {
  in: string;
  name: string;
  required?: boolean;
  schema: Record<string, unknown>;
}
interface Response {
  description: string;
  headers?: Record<string, { required?: boolean; schema: Record<string, unknown> }>;
  content?: Record<string, { schema: Record<string, unknown> }>;
}
interface Operation {
  operationId?: string;
  security?: unknown[];
  parameters?: Parameter[];
  requestBody?: unknown;
  responses: Record<string, Response>;
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown> };
}

let herald: TestHerald;
let document: Document;
let operations: { method: string; path: string; operation: Operation; label: string }[];

beforeAll(async () => {
  herald = await startTestHerald();
  document = (await herald.app.inject({ method: 'GET', url: '/openapi.json' })).json() as Document;
  operations = Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]) => ({
      method: method.toUpperCase(),
      path,
      operation,
      label: `${method.toUpperCase()} ${path}`,
    })),
  );
});
afterAll(async () => {
  await herald.stop();
});

/**
 * Needs no API key: `security: []`, or only a scheme of its own (GET /metrics: METRICS_TOKEN, checked by the route,
 * not by the API-key hook and its 401/429).
 */
const isPublic = (operation: Operation) =>
  Array.isArray(operation.security) &&
  operation.security.every(
    (requirement) => !Object.keys(requirement as object).some((name) => name === 'bearerAuth' || name === 'apiKey'),
  );
/** The customer's own page: authenticated by its link's token, not by a key, and outside Idempotency-Key. */
const isCustomerPage = (operation: Operation) =>
  operation.security?.length === 1 && Object.keys(operation.security[0] ?? {}).join() === 'customerToken';
const headerParameter = (operation: Operation, name: string) =>
  operation.parameters?.find((parameter) => parameter.in === 'header' && parameter.name.toLowerCase() === name);

describe('the OpenAPI document', () => {
  it('gives every operation a camelCase operationId of its own', () => {
    expect(operations.length).toBeGreaterThan(40);
    const missing = operations.filter(({ operation }) => operation.operationId === undefined).map(({ label }) => label);
    expect(missing, 'operations without an operationId').toEqual([]);
    const notCamelCase = operations
      .filter(({ operation }) => !/^[a-z][a-zA-Z0-9]*$/.test(operation.operationId ?? ''))
      .map(({ label, operation }) => `${label}: ${operation.operationId}`);
    expect(notCamelCase, 'operationIds that are not camelCase').toEqual([]);
    const byId = new Map<string, string[]>();
    for (const { operation, label } of operations) {
      byId.set(operation.operationId!, [...(byId.get(operation.operationId!) ?? []), label]);
    }
    const shared = [...byId].filter(([, labels]) => labels.length > 1);
    expect(shared, 'operationIds used more than once').toEqual([]);
  });

  it('declares every error as application/problem+json with the one shared Problem schema', () => {
    const wrong: string[] = [];
    for (const { operation, label } of operations) {
      for (const [status, response] of Object.entries(operation.responses)) {
        if (Number(status) < 400) continue;
        const content = response.content ?? {};
        if (
          Object.keys(content).join() !== 'application/problem+json' ||
          content['application/problem+json']?.schema.$ref !== '#/components/schemas/Problem'
        ) {
          wrong.push(`${label} ${status}: ${JSON.stringify(content)}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(document.components.schemas.Problem).toMatchObject({
      required: expect.arrayContaining(['type', 'title', 'status', 'instance', 'code']),
      properties: expect.objectContaining({ detail: expect.anything(), errors: expect.anything() }),
      additionalProperties: {},
    });
  });

  it('names each schema once: no …Input twins and nothing unused in components', () => {
    const names = Object.keys(document.components.schemas);
    expect(names.filter((name) => name.endsWith('Input'))).toEqual([]);
    const text = JSON.stringify(document.paths) + JSON.stringify(document.components.schemas);
    const unused = names.filter((name) => !text.includes(`"#/components/schemas/${name}"`));
    expect(unused).toEqual([]);
    expect(names).toEqual(expect.arrayContaining(['Reservation', 'CreateReservation', 'BookReservation', 'Problem']));
  });

  it('declares the answers every operation can get from the hooks it passes through', () => {
    const missing: string[] = [];
    const expectStatus = (label: string, operation: Operation, ...statuses: number[]) => {
      for (const status of statuses) if (!operation.responses[status]) missing.push(`${label}: ${status}`);
    };
    for (const { method, operation, label } of operations) {
      expectStatus(label, operation, 400, 500);
      if (!isPublic(operation)) {
        expectStatus(label, operation, 401, 429);
        if (operation.responses[429]?.headers?.['Retry-After']?.required !== true)
          missing.push(`${label}: Retry-After`);
      }
      if (['POST', 'PUT', 'PATCH', 'DELETE'].includes(method)) expectStatus(label, operation, 413, 415);
      if (headerParameter(operation, 'if-match')) expectStatus(label, operation, 412);
    }
    expect(missing).toEqual([]);
  });

  it('documents Idempotency-Key, as enforced, on every authenticated POST, and Idempotent-Replayed on its 2xx', async () => {
    // Routes that answer a secret (a new API key) do not honour Idempotency-Key: the stored answer would keep it;
    // nor does creating a staff account, whose body carries a password (the record keeps an unsalted hash of the body);
    // nor do a webhook endpoint's creation and secret rotation, whose answers carry its signing secret.
    const secretAnswers = new Set([
      'createTenantApiKey',
      'createApiKey',
      'rotateApiKey',
      'createStaffAccount',
      'createWebhookEndpoint',
      'rotateWebhookSecret',
    ]);
    const posts = operations.filter(
      ({ method, operation }) =>
        method === 'POST' &&
        !isPublic(operation) &&
        !isCustomerPage(operation) &&
        !secretAnswers.has(String(operation.operationId)),
    );
    for (const { operation, label } of operations.filter(({ operation }) => isCustomerPage(operation))) {
      expect(headerParameter(operation, 'idempotency-key'), label).toBeUndefined();
    }
    for (const { operation, label } of operations.filter(({ operation }) =>
      secretAnswers.has(String(operation.operationId)),
    )) {
      expect(headerParameter(operation, 'idempotency-key'), label).toBeUndefined();
    }
    expect(posts.length).toBeGreaterThan(10);
    for (const { operation, label } of posts) {
      expect(headerParameter(operation, 'idempotency-key')?.schema, label).toMatchObject({
        minLength: 1,
        maxLength: IDEMPOTENCY_KEY_MAX,
      });
      for (const [status, response] of Object.entries(operation.responses)) {
        if (status.startsWith('2'))
          expect(response.headers?.['Idempotent-Replayed'], `${label} ${status}`).toBeDefined();
      }
      for (const status of [409, 422]) expect(operation.responses[status], `${label} ${status}`).toBeDefined();
    }
    // ... and the limits are the server's.
    const post = (key: string) =>
      herald.app.inject({
        method: 'POST',
        url: '/v1/reservations',
        headers: { ...herald.auth, 'idempotency-key': key },
        payload: aReservation({ start: '2031-03-01T10:00:00Z', end: '2031-03-01T11:00:00Z' }),
      });
    expect((await post('k'.repeat(IDEMPOTENCY_KEY_MAX + 1))).statusCode).toBe(400);
    expect((await post('k'.repeat(IDEMPOTENCY_KEY_MAX))).statusCode).toBe(201);
  });

  it('types the Twilio webhook answers as sent: no body on status callbacks, TwiML on inbound messages', () => {
    const status = document.paths['/v1/webhooks/twilio/status']!.post!;
    expect(status.responses[200]!.content).toBeUndefined();
    expect(status.responses[202]!.content).toBeUndefined();
    const inbound = document.paths['/v1/webhooks/twilio/inbound']!.post!;
    expect(Object.keys(inbound.responses[200]!.content!)).toEqual(['text/xml']);
  });
});

describe('problems as sent', () => {
  it('match the Problem schema, extension members included', async () => {
    const created = await herald.app.inject({
      method: 'POST',
      url: '/v1/reservations',
      headers: herald.auth,
      payload: aReservation({ start: '2031-04-01T10:00:00Z', end: '2031-04-01T11:00:00Z' }),
    });
    const id = created.json().reservationId as string;
    const answers = await Promise.all([
      herald.app.inject({ method: 'POST', url: '/v1/reservations', headers: herald.auth, payload: { customer: 1 } }),
      herald.app.inject({ method: 'GET', url: '/v1/reservations/nope', headers: herald.auth }),
      herald.app.inject({ method: 'GET', url: '/v1/reservations' }),
      herald.app.inject({
        method: 'POST',
        url: `/v1/reservations/${id}/cancel`,
        headers: { ...herald.auth, 'if-match': '"9"' },
        payload: { by: 'staff' },
      }),
    ]);
    expect(answers.map((answer) => answer.statusCode)).toEqual([400, 404, 401, 412]);
    for (const answer of answers) {
      expect(answer.headers['content-type']).toBe('application/problem+json; charset=utf-8');
      const parsed = problemSchema.safeParse(answer.json());
      expect(parsed.error?.issues ?? [], answer.body).toEqual([]);
    }
    expect(answers[0]!.json().errors.length).toBeGreaterThan(0);
    expect(answers[3]!.json()).toMatchObject({ code: 'stale-revision', currentRevision: '0' });
  });
});
