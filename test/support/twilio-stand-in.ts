import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { untilReceived } from './until-received.js';

/**
 * A stand-in for Twilio's Programmable Messaging REST API (2010-04-01), checked against Twilio's own published
 * OpenAPI document (shipped in @twilio/cli-core): requests the spec does not allow are refused the way Twilio refuses
 * them, and every success response is checked against the documented schema before it leaves. A mismatch on our
 * side is recorded in `specViolations`, which the suites expect to stay empty.
 */

// ---------------------------------------------------------------------------------------------------------------
// The OpenAPI document and a validator for the small subset of JSON Schema it uses on these endpoints.

interface Schema {
  $ref?: string;
  type?: string;
  format?: string;
  enum?: string[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  nullable?: boolean;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
}
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema: Schema;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
}
interface OpenApi {
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, Schema> };
}

const require = createRequire(import.meta.url);
const SPEC_PATH = require.resolve('@twilio/cli-core/src/services/twilio-api/twilio_api_v2010.json');
const spec = JSON.parse(readFileSync(SPEC_PATH, 'utf8')) as OpenApi;
const HTTP_METHODS = new Set(['get', 'post', 'put', 'patch', 'delete']);

const resolve = (schema: Schema): Schema =>
  schema.$ref ? resolve(spec.components.schemas[schema.$ref.replace('#/components/schemas/', '')]!) : schema;

const routes = Object.entries(spec.paths).map(([template, item]) => ({
  template,
  item,
  regex: new RegExp('^' + template.replace(/[.]/g, '\\.').replace(/\{(\w+)\}/g, '(?<$1>[^/]+)') + '$'),
}));

type Match =
  | { kind: 'operation'; template: string; method: string; operation: Operation; pathParams: Record<string, string> }
  | { kind: 'no-path' }
  | { kind: 'no-method'; allowed: string[] };

function matchOperation(method: string, pathname: string): Match {
  for (const route of routes) {
    const m = route.regex.exec(pathname);
    if (!m) continue;
    const operation = route.item[method.toLowerCase()] as Operation | undefined;
    if (!operation) {
      return { kind: 'no-method', allowed: Object.keys(route.item).filter((k) => HTTP_METHODS.has(k)) };
    }
    const pathParams = Object.fromEntries(Object.entries(m.groups ?? {}).map(([k, v]) => [k, decodeURIComponent(v)]));
    return { kind: 'operation', template: route.template, method: method.toLowerCase(), operation, pathParams };
  }
  return { kind: 'no-path' };
}

const RFC_2822 =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} \+0000$/;

/** Checks one form or query value (always a string on the wire) against its schema; returns what is wrong. */
function checkWireValue(name: string, schemaIn: Schema, value: string): string | undefined {
  const schema = resolve(schemaIn);
  switch (schema.type) {
    case 'integer':
      if (!/^-?\d+$/.test(value)) return `${name} must be an integer`;
      if (schema.minimum !== undefined && Number(value) < schema.minimum) return `${name} must be >= ${schema.minimum}`;
      if (schema.maximum !== undefined && Number(value) > schema.maximum) return `${name} must be <= ${schema.maximum}`;
      return undefined;
    case 'number':
      return Number.isFinite(Number(value)) && value.trim() !== '' ? undefined : `${name} must be a number`;
    case 'boolean':
      return value === 'true' || value === 'false' ? undefined : `${name} must be true or false`;
  }
  if (schema.enum && !schema.enum.includes(value)) return `${name} must be one of ${schema.enum.join(', ')}`;
  if (schema.minLength !== undefined && value.length < schema.minLength) return `${name} is too short`;
  if (schema.maxLength !== undefined && value.length > schema.maxLength) return `${name} is too long`;
  if (schema.pattern && !new RegExp(schema.pattern).test(value)) return `${name} does not match ${schema.pattern}`;
  if (schema.format === 'uri' && !/^https?:\/\/[^/?#\s]+/.test(value)) return `${name} must be an http(s) URL`;
  if (schema.format === 'date-time' && Number.isNaN(Date.parse(value))) return `${name} must be a date`;
  return undefined;
}

/** Checks decoded form/query parameters: unknown names, required ones, repetition, then each value. */
function checkWireParams(
  params: Map<string, string[]>,
  allowed: Record<string, Schema>,
  required: readonly string[],
): string | undefined {
  for (const name of params.keys()) if (!(name in allowed)) return `Unknown parameter ${name}`;
  for (const name of required) if (!params.has(name)) return `Missing required parameter ${name}`;
  for (const [name, values] of params) {
    const schema = resolve(allowed[name]!);
    const items = schema.type === 'array' ? resolve(schema.items ?? {}) : schema;
    if (schema.type !== 'array' && values.length > 1) return `${name} may be given once`;
    for (const value of values) {
      const problem = checkWireValue(name, items, value);
      if (problem) return problem;
    }
  }
  return undefined;
}

/** Checks a JSON value the stand-in is about to return: every documented property present and well-typed. */
export function checkAgainstSchema(schemaIn: Schema, value: unknown, at = '$'): string[] {
  const schema = resolve(schemaIn);
  if (value === null) return schema.nullable ? [] : [`${at} is null but not nullable`];
  if (value === undefined) return [`${at} is missing`];
  const problems: string[] = [];
  switch (schema.type) {
    case 'object':
      if (typeof value !== 'object' || Array.isArray(value)) return [`${at} must be an object`];
      for (const [key, propSchema] of Object.entries(schema.properties ?? {})) {
        problems.push(...checkAgainstSchema(propSchema, (value as Record<string, unknown>)[key], `${at}.${key}`));
      }
      return problems;
    case 'array':
      if (!Array.isArray(value)) return [`${at} must be an array`];
      value.forEach((item, i) => problems.push(...checkAgainstSchema(schema.items ?? {}, item, `${at}[${i}]`)));
      return problems;
    case 'integer':
      return Number.isInteger(value) ? [] : [`${at} must be an integer`];
    case 'number':
      return typeof value === 'number' ? [] : [`${at} must be a number`];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${at} must be a boolean`];
    case 'string':
      if (typeof value !== 'string') return [`${at} must be a string`];
      if (schema.enum && !schema.enum.includes(value)) problems.push(`${at} = ${value} is not one of the enum`);
      if (schema.pattern && !new RegExp(schema.pattern).test(value)) problems.push(`${at} does not match the pattern`);
      if (schema.format === 'date-time-rfc-2822' && !RFC_2822.test(value)) problems.push(`${at} is not RFC 2822`);
      return problems;
    default:
      return [];
  }
}

export const messageResourceSchema: Schema = { $ref: '#/components/schemas/api.v2010.account.message' };

// ---------------------------------------------------------------------------------------------------------------
// Twilio behaviour beyond the schema.

/** The Message resource as the API returns it (snake_case, strings where Twilio uses strings). */
export interface MessageResource {
  account_sid: string;
  api_version: string;
  body: string;
  date_created: string;
  date_sent: string | null;
  date_updated: string;
  direction: 'outbound-api';
  error_code: number | null;
  error_message: string | null;
  from: string;
  messaging_service_sid: string | null;
  num_media: string;
  num_segments: string;
  price: string | null;
  price_unit: string;
  sid: string;
  status: string;
  subresource_uris: Record<string, string>;
  to: string;
  uri: string;
}

export interface StandInMessage {
  readonly resource: MessageResource;
  readonly statusCallback?: string;
}

export interface StatusCallbackDelivery {
  readonly url: string;
  readonly params: Record<string, string>;
  readonly signature: string;
  /** HTTP status the callback endpoint answered with. */
  readonly status: number;
}

export interface TwilioStandIn {
  /** `http://127.0.0.1:<port>`: pass as `apiUrl`. */
  readonly url: string;
  readonly accountSid: string;
  readonly authToken: string;
  readonly messages: readonly StandInMessage[];
  /** API requests received, failed ones included. */
  readonly requestCount: number;
  /** Responses the stand-in produced that Twilio's spec does not allow. A bug in the stand-in if not empty. */
  readonly specViolations: readonly string[];
  waitForMessages(count: number, timeoutMs?: number): Promise<StandInMessage[]>;
  /** The next `count` API requests get this status: 429 (with Retry-After), 500 or 503, in Twilio's error shape. */
  failNext(count: number, status: 429 | 500 | 503, retryAfterSeconds?: number): void;
  /** Messages to `to` are refused with this Twilio error (21610 unsubscribed, 21614 not a mobile number, ...). */
  rejectTo(to: string, code: number, message: string): void;
  /** Keep new messages `queued` (no date_sent) instead of moving them to `sent` right away. */
  holdInQueue(hold: boolean): void;
  /** Down: the port is closed and open connections are destroyed, so clients get ECONNREFUSED. */
  setDown(down: boolean): Promise<void>;
  /**
   * Moves a message to `status` (setting date_sent when it leaves the queue) and, as Twilio does, posts a signed
   * status callback if the message has a StatusCallback. Resolves with that callback, if one was posted.
   */
  deliverStatus(
    sid: string,
    status: 'sent' | 'delivered' | 'undelivered' | 'failed',
  ): Promise<StatusCallbackDelivery | undefined>;
  reset(): void;
  close(): Promise<void>;
}

export interface TwilioStandInOptions {
  readonly accountSid: string;
  readonly authToken: string;
}

const E164 = /^\+[1-9]\d{6,14}$/;
const GSM_BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
const GSM_EXTENDED = new Set('^{}\\[~]|€\f');

/** Segments as carriers count them: GSM-7 (160 septets, 153 per part) unless any character needs UCS-2 (70, 67). */
export function countSegments(body: string): number {
  const chars = [...body];
  if (chars.every((c) => GSM_BASIC.has(c) || GSM_EXTENDED.has(c))) {
    const septets = chars.reduce((n, c) => n + (GSM_EXTENDED.has(c) ? 2 : 1), 0);
    return septets <= 160 ? 1 : Math.ceil(septets / 153);
  }
  const units = body.length; // UTF-16 code units: an emoji takes two
  return units <= 70 ? 1 : Math.ceil(units / 67);
}

/** Twilio's webhook signature, computed here independently of the SDK so the adapter's check is really tested. */
export function signTwilioRequest(authToken: string, url: string, params: Record<string, string>): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, key) => acc + key + params[key], url);
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf-8')).digest('base64');
}

const rfc2822 = (d: Date) => d.toUTCString().replace('GMT', '+0000');

interface TwilioError {
  readonly status: number;
  readonly code: number;
  readonly message: string;
  readonly headers?: Record<string, string>;
}
const twilioError = (status: number, code: number, message: string, headers?: Record<string, string>): TwilioError => ({
  status,
  code,
  message,
  ...(headers ? { headers } : {}),
});

/** Twilio's codes for the Messages rules its OpenAPI document cannot express. */
const REQUIRED_PARAMETER_CODES: Record<string, number> = { To: 21604 };

export async function startTwilioStandIn(options: TwilioStandInOptions): Promise<TwilioStandIn> {
  const { accountSid, authToken } = options;
  const messages: StandInMessage[] = [];
  const specViolations: string[] = [];
  const waiters = new Set<() => void>();
  const refusals = new Map<string, { code: number; message: string }>();
  let failures: { remaining: number; status: 429 | 500 | 503; retryAfter: number } | undefined;
  let hold = false;
  let port = 0;
  let requestCount = 0;

  const accountBase = `/2010-04-01/Accounts/${accountSid}`;

  const server = createServer((req, res) => {
    readBody(req).then(
      (body) => respond(req, res, body),
      () => res.destroy(),
    );
  });

  function respond(req: IncomingMessage, res: ServerResponse, rawBody: string): void {
    requestCount += 1;
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const send = (status: number, json: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, {
        'Content-Type': 'application/json; charset=utf-8',
        'Twilio-Request-Id': 'RQ' + randomBytes(16).toString('hex'),
        ...headers,
      });
      res.end(JSON.stringify(json));
    };
    const fail = (e: TwilioError) =>
      send(
        e.status,
        {
          code: e.code,
          message: e.message,
          more_info: `https://www.twilio.com/docs/errors/${e.code}`,
          status: e.status,
        },
        e.headers,
      );

    if (failures && failures.remaining > 0) {
      failures.remaining -= 1;
      const { status, retryAfter } = failures;
      if (status === 429)
        return fail(twilioError(429, 20429, 'Too Many Requests', { 'Retry-After': String(retryAfter) }));
      return fail(
        twilioError(
          status,
          status === 500 ? 20500 : 20503,
          status === 500 ? 'Internal Server Error' : 'Service Unavailable',
        ),
      );
    }

    if (!isAuthorised(req.headers.authorization)) {
      return fail(twilioError(401, 20003, 'Authenticate'));
    }

    const match = matchOperation(req.method ?? 'GET', url.pathname);
    if (match.kind === 'no-path')
      return fail(twilioError(404, 20404, `The requested resource ${url.pathname} was not found`));
    if (match.kind === 'no-method') return fail(twilioError(405, 20004, 'Method not allowed'));

    const problem = checkRequest(match, url.searchParams, rawBody, req.headers['content-type']);
    if (problem) return fail(problem);
    if (match.pathParams['AccountSid'] !== accountSid) {
      return fail(twilioError(404, 20404, `The requested resource ${url.pathname} was not found`));
    }

    const outcome = handle(match, url.searchParams, new URLSearchParams(rawBody));
    if ('code' in outcome) return fail(outcome);

    // Whatever the stand-in answers must be what Twilio documents for this operation.
    const schema = match.operation.responses[String(outcome.status)]?.content?.['application/json']?.schema;
    const violations = schema ? checkAgainstSchema(schema, outcome.json) : [`no documented ${outcome.status} response`];
    if (violations.length > 0) {
      specViolations.push(...violations.map((v) => `${match.method.toUpperCase()} ${match.template}: ${v}`));
      return fail(twilioError(500, 20500, `stand-in response violates the OpenAPI spec: ${violations.join('; ')}`));
    }
    send(outcome.status, outcome.json);
    outcome.after?.();
  }

  function isAuthorised(header: string | undefined): boolean {
    const [scheme, encoded] = (header ?? '').split(' ');
    if (scheme !== 'Basic' || !encoded) return false;
    const decoded = Buffer.from(encoded, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return decoded.slice(0, colon) === accountSid && decoded.slice(colon + 1) === authToken;
  }

  function checkRequest(
    match: Extract<Match, { kind: 'operation' }>,
    query: URLSearchParams,
    rawBody: string,
    contentType: string | undefined,
  ): TwilioError | undefined {
    const invalid = (message: string) => {
      const missing = /^Missing required parameter (\w+)/.exec(message)?.[1];
      const code = missing ? (REQUIRED_PARAMETER_CODES[missing] ?? 20422) : 20422;
      return twilioError(400, code, message);
    };
    const parameters = match.operation.parameters ?? [];
    for (const p of parameters.filter((p) => p.in === 'path')) {
      const problem = checkWireValue(p.name, p.schema, match.pathParams[p.name] ?? '');
      if (problem) return invalid(problem);
    }
    const queryParams = parameters.filter((p) => p.in === 'query');
    const queryProblem = checkWireParams(
      collect(query),
      Object.fromEntries(queryParams.map((p) => [p.name, p.schema])),
      queryParams.filter((p) => p.required).map((p) => p.name),
    );
    if (queryProblem) return invalid(queryProblem);

    const formSchema = match.operation.requestBody?.content['application/x-www-form-urlencoded']?.schema;
    if (formSchema) {
      if (!contentType?.startsWith('application/x-www-form-urlencoded')) {
        return invalid('Content-Type must be application/x-www-form-urlencoded');
      }
      const resolved = resolve(formSchema);
      const problem = checkWireParams(
        collect(new URLSearchParams(rawBody)),
        resolved.properties ?? {},
        resolved.required ?? [],
      );
      if (problem) return invalid(problem);
    } else if (rawBody.length > 0) {
      return invalid('This operation takes no request body');
    }
    return undefined;
  }

  type Outcome = { status: number; json: unknown; after?: () => void } | TwilioError;

  function handle(
    match: Extract<Match, { kind: 'operation' }>,
    query: URLSearchParams,
    form: URLSearchParams,
  ): Outcome {
    const key = `${match.method} ${match.template}`;
    if (key === 'post /2010-04-01/Accounts/{AccountSid}/Messages.json') return createMessage(form);
    if (key === 'get /2010-04-01/Accounts/{AccountSid}/Messages.json') return listMessages(query);
    if (key === 'get /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json') {
      const found = messages.find((m) => m.resource.sid === match.pathParams['Sid']);
      if (!found) return twilioError(404, 20404, `The requested resource ${match.template} was not found`);
      return { status: 200, json: found.resource };
    }
    return twilioError(501, 20500, `The stand-in does not implement ${key}`);
  }

  function createMessage(form: URLSearchParams): Outcome {
    const to = form.get('To')!;
    const from = form.get('From');
    const body = form.get('Body');
    if (!from && !form.get('MessagingServiceSid')) return twilioError(400, 21603, "A 'From' phone number is required.");
    if (!body && !form.get('MediaUrl') && !form.get('ContentSid'))
      return twilioError(400, 21602, 'Message body is required.');
    if (!E164.test(to)) return twilioError(400, 21211, `Invalid 'To' Phone Number: ${to}`);
    if (from && !E164.test(from)) return twilioError(400, 21212, `Invalid 'From' Phone Number: ${from}`);
    if ((body ?? '').length > 1600) {
      return twilioError(400, 21617, 'The concatenated message body exceeds the 1600 character limit.');
    }
    const refusal = refusals.get(to);
    if (refusal) return twilioError(400, refusal.code, refusal.message);

    const sid = 'SM' + randomBytes(16).toString('hex');
    const now = rfc2822(new Date());
    const uri = `${accountBase}/Messages/${sid}.json`;
    const resource: MessageResource = {
      account_sid: accountSid,
      api_version: '2010-04-01',
      body: body ?? '',
      date_created: now,
      // Twilio sets date_sent when the message leaves its queue, not when it is accepted.
      date_sent: null,
      date_updated: now,
      direction: 'outbound-api',
      error_code: null,
      error_message: null,
      from: from ?? '',
      messaging_service_sid: form.get('MessagingServiceSid'),
      num_media: '0',
      num_segments: String(countSegments(body ?? '')),
      price: null,
      price_unit: 'USD',
      sid,
      status: 'queued',
      subresource_uris: {
        media: uri.replace('.json', '/Media.json'),
        feedback: uri.replace('.json', '/Feedback.json'),
      },
      to,
      uri,
    };
    const statusCallback = form.get('StatusCallback');
    const message: StandInMessage = { resource, ...(statusCallback ? { statusCallback } : {}) };
    return {
      status: 201,
      json: { ...resource },
      after: () => {
        messages.push(message);
        if (!hold) Object.assign(resource, { status: 'sent', date_sent: now });
        for (const wake of waiters) wake();
      },
    };
  }

  function listMessages(query: URLSearchParams): Outcome {
    const day = (v: string) => (/^\d{4}-\d{2}-\d{2}$/.test(v) ? Date.parse(`${v}T00:00:00Z`) : Date.parse(v));
    const sentOn = query.get('DateSent');
    const sentAfter = query.get('DateSent>');
    const sentBefore = query.get('DateSent<');
    const matching = messages
      .map((m) => m.resource)
      .filter((m) => !query.has('To') || m.to === query.get('To'))
      .filter((m) => !query.has('From') || m.from === query.get('From'))
      .filter((m) => {
        if (!sentOn && !sentAfter && !sentBefore) return true;
        // A message still queued has no date_sent, so a DateSent filter never matches it.
        if (m.date_sent === null) return false;
        const sent = Date.parse(m.date_sent);
        if (sentOn && new Date(sent).toISOString().slice(0, 10) !== sentOn.slice(0, 10)) return false;
        if (sentAfter && sent < day(sentAfter)) return false;
        if (sentBefore && sent > day(sentBefore)) return false;
        return true;
      })
      .reverse(); // newest first, as Twilio lists them

    const pageSize = Number(query.get('PageSize') ?? 50);
    const page = Number(query.get('Page') ?? 0);
    const slice = matching.slice(page * pageSize, (page + 1) * pageSize);
    const pageUri = (p: number) => {
      const q = new URLSearchParams(query);
      q.set('PageSize', String(pageSize));
      q.set('Page', String(p));
      if (p > 0) q.set('PageToken', `PA${p}`);
      else q.delete('PageToken');
      return `${accountBase}/Messages.json?${q.toString()}`;
    };
    const hasNext = (page + 1) * pageSize < matching.length;
    return {
      status: 200,
      json: {
        messages: slice,
        end: page * pageSize + Math.max(slice.length - 1, 0),
        first_page_uri: pageUri(0),
        next_page_uri: hasNext ? pageUri(page + 1) : null,
        page,
        page_size: pageSize,
        previous_page_uri: page > 0 ? pageUri(page - 1) : null,
        start: page * pageSize,
        uri: pageUri(page),
      },
    };
  }

  const listen = (p: number) =>
    new Promise<number>((resolvePort, reject) => {
      server.once('error', reject);
      server.listen(p, '127.0.0.1', () => {
        server.off('error', reject);
        resolvePort((server.address() as AddressInfo).port);
      });
    });
  const stop = () =>
    new Promise<void>((resolveStop) => {
      server.close(() => resolveStop());
      server.closeAllConnections();
    });

  port = await listen(0);
  let down = false;

  return {
    url: `http://127.0.0.1:${port}`,
    accountSid,
    authToken,
    messages,
    get requestCount() {
      return requestCount;
    },
    specViolations,
    waitForMessages(count, timeoutMs = 5_000) {
      return untilReceived(messages, waiters, count, timeoutMs);
    },
    failNext(count, status, retryAfterSeconds = 1) {
      failures = { remaining: count, status, retryAfter: retryAfterSeconds };
    },
    rejectTo(to, code, message) {
      refusals.set(to, { code, message });
    },
    holdInQueue(value) {
      hold = value;
    },
    async setDown(value) {
      if (value === down) return;
      down = value;
      if (value) await stop();
      else await listen(port);
    },
    async deliverStatus(sid, status) {
      const message = messages.find((m) => m.resource.sid === sid);
      if (!message) throw new Error(`no message ${sid}`);
      const now = rfc2822(new Date());
      Object.assign(message.resource, { status, date_updated: now, date_sent: message.resource.date_sent ?? now });
      if (!message.statusCallback) return undefined;
      const r = message.resource;
      const params: Record<string, string> = {
        AccountSid: accountSid,
        ApiVersion: '2010-04-01',
        From: r.from,
        MessageSid: sid,
        MessageStatus: status,
        SmsSid: sid,
        SmsStatus: status,
        To: r.to,
      };
      const signature = signTwilioRequest(authToken, message.statusCallback, params);
      const response = await fetch(message.statusCallback, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8',
          'X-Twilio-Signature': signature,
          'I-Twilio-Idempotency-Token': randomUUID(),
          'User-Agent': 'TwilioProxy/1.1',
        },
        body: new URLSearchParams(params).toString(),
      });
      await response.arrayBuffer();
      return { url: message.statusCallback, params, signature, status: response.status };
    },
    reset() {
      messages.length = 0;
      specViolations.length = 0;
      refusals.clear();
      failures = undefined;
      hold = false;
    },
    async close() {
      if (!down) await stop();
    },
  };
}

function collect(params: URLSearchParams): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const [k, v] of params) map.set(k, [...(map.get(k) ?? []), v]);
  return map;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolveBody(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
