import { z } from 'zod';
import { parseAsOf } from '../../../application/as-of.js';
import { isEmailAddress } from '../../../domain/shared/email-address.js';
import { findUnsafeCharacter, unsafeTextMessage, type TextKind } from '../../../domain/shared/text.js';

// The same rule as findUnsafeCharacter, for the OpenAPI document (clients and fuzzers); the check in safeText is the one
// that runs. A multi-line text may also hold CRLF, which the check normalises to LF.
const UNSAFE_CLASS = '\\u007f-\\u009f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069\\u200e\\u200f\\u061c';
const SAFE_LINE_PATTERN = `^[^\\u0000-\\u001f${UNSAFE_CLASS}]*$`;
const SAFE_MULTILINE_PATTERN = `^(?:[^\\u0000-\\u0008\\u000b-\\u001f${UNSAFE_CLASS}]|\\r\\n)*$`;

/**
 * Text that can reach a subject, an SMS or a header (src/domain/shared/text.ts): control, bidi and line-separator
 * characters are refused with a 400 naming the field. `line` is one line; `multiline` also allows LF and TAB.
 */
function safeText(kind: TextKind, max: number) {
  return z
    .string()
    .max(max)
    .superRefine((value, ctx) => {
      const unsafe = findUnsafeCharacter(value, kind);
      if (unsafe) ctx.addIssue({ code: 'custom', message: unsafeTextMessage('the text', unsafe, kind) });
    })
    .meta({ pattern: kind === 'line' ? SAFE_LINE_PATTERN : SAFE_MULTILINE_PATTERN });
}

export const line = (max: number) => safeText('line', max);
export const multiline = (max: number) => safeText('multiline', max);

/** E.164: a plus, a non-zero digit, at most 15 digits. */
export const e164 = z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 phone number, e.g. +420777123456');
/** An email address by the domain's one rule: internationalised addresses (`user@exämple.com`) included. */
export const email = z
  .string()
  .max(254)
  .refine(isEmailAddress, 'must be an email address')
  .meta({ format: 'idn-email' });
export const locale = z
  .string()
  .min(2)
  .max(35)
  .refine((value) => {
    try {
      return Intl.getCanonicalLocales(value).length === 1;
    } catch {
      return false;
    }
  }, 'must be a BCP 47 language tag, e.g. cs-CZ');
export const timeZone = z.string().refine((zone) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}, 'must be an IANA time zone, e.g. Europe/Prague');
/** An instant with an explicit offset or Z: a time without a zone is ambiguous and refused. */
export const instant = z.iso.datetime({ offset: true, message: 'must be an ISO-8601 instant with a zone offset or Z' });
export const id = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, "must be 1-128 letters, digits, '.', '_', ':' or '-'");

/** The If-Match header of a conditional write: ETags this service returned, or `*` (RFC 9110 §13.1.1). */
export const ifMatchHeaders = z
  .object({
    'if-match': z
      .string()
      .max(1000)
      .optional()
      .describe(
        'Only if the resource is still at this revision: its ETag (e.g. "3"), a comma-separated list of them, or * for ' +
          'any current revision. Strong comparison: a weak tag (W/"3") never matches. A mismatch is a 412.',
      )
      // Documented, not enforced here: conditional.ts parses it and names what is wrong (400 invalid-if-match).
      .meta({ pattern: '^(\\*|(W/)?"[!#-~]*"([ \\t]*,[ \\t]*(W/)?"[!#-~]*")*)$' }),
  })
  .loose();

/** `Idempotency-Key` as `registerIdempotency` enforces it (1 to 255 characters). */
export const IDEMPOTENCY_KEY_MAX = 255;
export const idempotencyKeyHeader = z
  .string()
  .min(1)
  .max(IDEMPOTENCY_KEY_MAX)
  .optional()
  .describe(
    'Makes a retry safe: the first successful answer is stored and replayed (with Idempotent-Replayed: true) for a ' +
      'retry with the same key and body, without doing anything again. The same key with another body is a 422.',
  );

/** RFC 9457 problem details, as `sendProblem` (problem.ts) writes them. */
export const problemSchema = z
  .object({
    type: z.string().describe('A URI naming the kind of problem: https://herald.dev/problems/<code>.'),
    title: z.string().describe('A short, human-readable summary of the kind of problem.'),
    status: z.int().min(100).max(599).describe('The HTTP status code.'),
    detail: z.string().optional().describe('What went wrong with this request.'),
    instance: z.string().describe('The path of the request.'),
    code: z.string().describe('The last segment of `type`: a stable, machine-readable error code.'),
    errors: z
      .array(z.object({ field: z.string(), message: z.string() }))
      .optional()
      .describe('One entry per invalid field, e.g. `body.customer.email`.'),
  })
  .catchall(z.unknown())
  .meta({
    id: 'Problem',
    description:
      'RFC 9457 problem details (application/problem+json). Extension members (e.g. `currentRevision`, ' +
      '`remainingSeats`) may follow the standard ones.',
  });

export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

/** A response header as OpenAPI documents it. */
export interface ResponseHeader {
  readonly description: string;
  readonly required?: boolean;
  readonly schema: Readonly<Record<string, unknown>>;
}

/** Every header Herald sets on a response, by its name on the wire. Content-Type and Content-Length aside. */
export const RESPONSE_HEADERS = {
  ETag: {
    description: 'The revision of the resource, a strong entity tag; send it back in If-Match.',
    schema: { type: 'string', pattern: '^"(0|[1-9][0-9]*)"$' },
  },
  Location: {
    description: 'The path of the resource this request created or acted on.',
    schema: { type: 'string', pattern: '^/v1/' },
  },
  'Idempotent-Replayed': {
    description:
      '"true": the stored answer to an earlier request with the same Idempotency-Key; nothing was done again.',
    schema: { type: 'string', enum: ['true'] },
  },
  'Retry-After': {
    description: 'Seconds to wait before trying again.',
    schema: { type: 'string', pattern: '^[0-9]+$' },
  },
  'Cache-Control': {
    description: '"no-store": the answer carries a secret that must not be kept by caches.',
    schema: { type: 'string', enum: ['no-store'] },
  },
} as const satisfies Record<string, ResponseHeader>;

export type ResponseHeaderName = keyof typeof RESPONSE_HEADERS;
/** Header name -> sent on every such response (true) or only sometimes (false). */
export type ResponseHeaders = Partial<Record<ResponseHeaderName, boolean>>;

function headerObjects(headers: ResponseHeaders): Record<string, ResponseHeader> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, required]) => [
      name,
      { ...RESPONSE_HEADERS[name as ResponseHeaderName], ...(required ? { required: true } : {}) },
    ]),
  );
}

/** A documented response: its description, the headers it carries and its body per media type. */
export interface DocumentedResponse<Content extends Record<string, { schema: z.ZodType }>> {
  readonly description: string;
  readonly headers?: Record<string, ResponseHeader>;
  readonly content: Content;
}

/**
 * A JSON answer. `headers` names the response headers it carries: `{ ETag: true, Location: true }` (true: on every
 * such response; false: only sometimes). `app.ts` adds `Idempotent-Replayed` to the 2xx of authenticated POSTs.
 */
export function json<S extends z.ZodType>(
  schema: S,
  description: string,
  headers: ResponseHeaders = {},
): DocumentedResponse<{ 'application/json': { schema: S } }> {
  return {
    description,
    ...(Object.keys(headers).length > 0 ? { headers: headerObjects(headers) } : {}),
    content: { 'application/json': { schema } },
  };
}

/** An answer without a body (and without a Content-Type). */
export function empty(description: string): z.ZodUndefined {
  return z.undefined().describe(description);
}

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: 'The request is not valid: malformed (URL, JSON, a header) or a field breaks a rule; `errors` names each field.',
  401: 'No valid API key (send "Authorization: Bearer <key>" or "X-Api-Key: <key>").',
  403: "The key's role may not do this, or the caller could not be verified.",
  404: 'There is no such resource (for this tenant).',
  409: 'The request conflicts with the current state of the resource, or a request with this Idempotency-Key is still running.',
  412: 'If-Match does not match the current revision (the ETag): read the resource again and retry.',
  413: 'The body is larger than 1 MiB.',
  414: 'A path segment is longer than the router accepts.',
  415: 'The body is not in a media type this operation accepts (JSON unless stated otherwise).',
  422: 'This Idempotency-Key was already used with a different request.',
  429: 'Too many requests (e.g. failed authentication attempts) from this client: wait Retry-After seconds.',
  431: 'The request headers are too large.',
  500: 'An unexpected error; nothing the client can fix. The log has the details.',
  503: 'The service is not ready.',
};

/** Statuses whose problem carries headers, e.g. 429 with Retry-After. */
const PROBLEM_HEADERS: Record<number, ResponseHeaders> = { 429: { 'Retry-After': true } };

export type ProblemResponse = DocumentedResponse<{ [PROBLEM_MEDIA_TYPE]: { schema: typeof problemSchema } }>;

/** One problem+json response, described; `description` overrides the generic text of the status. */
export function problemResponse(status: number, description?: string): ProblemResponse {
  const headers = PROBLEM_HEADERS[status];
  return {
    description: description ?? PROBLEM_DESCRIPTIONS[status] ?? 'A problem (RFC 9457).',
    ...(headers ? { headers: headerObjects(headers) } : {}),
    content: { [PROBLEM_MEDIA_TYPE]: { schema: problemSchema } },
  };
}

/**
 * The error responses a route's own handler gives (403 role, 404, 409...), each application/problem+json with the
 * shared `Problem` schema. The cross-cutting ones (400, 401, 412, 413, 415, 422, 429, 500) are added from what the
 * route is by `applyHttpConventions` (openapi.ts): a route may list them, it need not.
 */
export function problems<const S extends readonly number[]>(...statuses: S): Record<S[number], ProblemResponse> {
  return Object.fromEntries(statuses.map((status) => [status, problemResponse(status)])) as Record<
    S[number],
    ProblemResponse
  >;
}

/**
 * `?asOf=` on the reads auditors use: the resource as it was at a stream revision or an instant, folded from its
 * events (src/application/as-of.ts). Validated here; `asOfOf` turns it into the application's AsOf.
 */
export const asOfQuery = z.strictObject({
  asOf: z
    .string()
    .max(40)
    .refine((value) => parseAsOf(value) !== undefined, {
      message: 'must be a stream revision (0, 1, 2, ...) or an ISO-8601 instant with a zone offset or Z',
    })
    .optional()
    .describe(
      'Show it as it was then: a stream revision (0 is the first event; the ETag and the history name them) or an ' +
        'ISO-8601 instant with a zone offset (every event recorded by then). Folded from the events, never from a ' +
        'read model. Before the first event it is a 404; a revision the stream has not reached is a 404 ' +
        '`revision-not-found`.',
    )
    .meta({
      pattern:
        '^(0|[1-9][0-9]{0,17}|[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{1,9})?)?(Z|[+-][0-9]{2}:[0-9]{2}))$',
    }),
});

export function asOfOf(query: { readonly asOf?: string | undefined }): ReturnType<typeof parseAsOf> {
  return query.asOf === undefined ? undefined : parseAsOf(query.asOf);
}
