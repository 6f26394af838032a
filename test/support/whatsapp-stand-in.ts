import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import { hasBearer, startHttpStandIn, type HttpStandIn, type StandInAnswer } from './http-stand-in.js';

/**
 * A stand-in for the WhatsApp Business Cloud API's Send Message (`POST /{Version}/{Phone-Number-ID}/messages`).
 * Requests are validated against Meta's own OpenAPI description (facebook/openapi, MIT; the extract in
 * vendor/whatsapp-send-message.json names its commit): the message variant is chosen by `type`, as the document's
 * discriminator says, and its schema applied. One reading is needed: the document builds variants as
 * `allOf: [BaseMessageProperties, {additionalProperties: false, …}]`, which taken literally in JSON Schema would
 * forbid the base's own required fields; the stand-in merges each allOf into one object before validating.
 * Success answers are checked against MessageResponsePayload. Errors use Graph's `{ error: { message, type, code,
 * error_subcode, fbtrace_id } }` shape with Meta's codes (131026 undeliverable, 130429 rate limit, 190 token).
 * `deliverStatus` posts a status webhook signed with X-Hub-Signature-256 (HMAC-SHA256 of the body, app secret).
 */

interface JsonSchema {
  $ref?: string;
  allOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  type?: string;
  [key: string]: unknown;
}

const vendored = JSON.parse(readFileSync(new URL('./vendor/whatsapp-send-message.json', import.meta.url), 'utf8')) as {
  request: JsonSchema & { discriminator: { mapping: Record<string, string> } };
  components: { schemas: Record<string, JsonSchema> };
};
const schemas = vendored.components.schemas;

/** Inlines $refs and merges allOf branches into one object schema (see above). */
function flatten(schema: JsonSchema, depth = 0): JsonSchema {
  if (depth > 20) return {};
  if (schema.$ref) return flatten(schemas[schema.$ref.split('/').pop()!]!, depth + 1);
  let result: JsonSchema = { ...schema };
  if (schema.allOf) {
    const parts = schema.allOf.map((part) => flatten(part, depth + 1));
    const { allOf: _ignored, ...rest } = schema;
    result = {
      ...rest,
      type: 'object',
      properties: Object.assign({}, ...parts.map((p) => p.properties ?? {})),
      required: [...new Set(parts.flatMap((p) => p.required ?? []))],
      ...(parts.some((p) => p.additionalProperties === false) ? { additionalProperties: false } : {}),
    };
  }
  if (result.properties) {
    result.properties = Object.fromEntries(
      Object.entries(result.properties).map(([k, v]) => [k, flatten(v, depth + 1)]),
    );
  }
  for (const key of ['items', 'discriminator'] as const) {
    const value = result[key] as JsonSchema | undefined;
    if (key === 'items' && value) result.items = flatten(value, depth + 1);
  }
  delete (result as { discriminator?: unknown }).discriminator;
  return result;
}

const ajv = new Ajv({ strict: false, allErrors: true });
const variants: Record<string, ValidateFunction> = Object.fromEntries(
  Object.entries(
    (schemas.Message as unknown as { discriminator: { mapping: Record<string, string> } }).discriminator.mapping,
  ).map(([type, ref]) => [type, ajv.compile({ ...flatten({ $ref: ref }), components: vendored.components })]),
);
const validateResponse = ajv.compile({
  ...flatten({ $ref: '#/components/schemas/MessageResponsePayload' }),
  components: vendored.components,
});

export interface WhatsAppMessage {
  readonly id: string;
  readonly body: {
    to: string;
    type: string;
    template?: {
      name: string;
      language: { code: string; policy: string };
      components?: { type: string; parameters: { type: string; text: string }[] }[];
    };
    text?: { body: string };
  };
}

export interface WhatsAppStandIn extends HttpStandIn {
  readonly messages: readonly WhatsAppMessage[];
  readonly specViolations: readonly string[];
  /** Templates the business has approved, by name: the number of body parameters each takes. */
  approveTemplate(name: string, language: string, bodyParameters: number): void;
  /** Numbers that are not on WhatsApp (131026 "Message undeliverable"). */
  notOnWhatsApp(number: string): void;
  waitForMessages(count: number, timeoutMs?: number): Promise<WhatsAppMessage[]>;
  /** Posts a signed status webhook for a message to `url`; resolves with the HTTP status answered. */
  deliverStatus(
    url: string,
    messageId: string,
    status: 'sent' | 'delivered' | 'read' | 'failed',
    options?: { secret?: string; tamper?: boolean },
  ): Promise<number>;
}

export async function startWhatsAppStandIn(options: {
  accessToken: string;
  phoneNumberId: string;
  appSecret: string;
}): Promise<WhatsAppStandIn> {
  const messages: WhatsAppMessage[] = [];
  const specViolations: string[] = [];
  const templates = new Map<string, number>();
  const unreachable = new Set<string>();
  const graphError = (status: number, code: number, message: string, type = 'OAuthException'): StandInAnswer => ({
    status,
    json: { error: { message, type, code, fbtrace_id: randomBytes(8).toString('base64url') } },
  });

  const base = await startHttpStandIn({
    failureAnswer: ({ status, retryAfterSeconds }) => ({
      ...(status === 429
        ? graphError(429, 130429, '(#130429) Rate limit hit', 'OAuthException')
        : graphError(status, 131016, '(#131016) Service unavailable')),
      ...(retryAfterSeconds !== undefined ? { headers: { 'Retry-After': String(retryAfterSeconds) } } : {}),
    }),
    handle(request) {
      const match = /^\/v\d+\.\d+\/(\d+)\/messages$/.exec(request.path);
      if (!match) return graphError(400, 100, 'Unknown path components', 'OAuthException');
      if (request.method !== 'POST')
        return graphError(400, 100, 'Unsupported request - method type', 'GraphMethodException');
      if (!hasBearer(request.headers, options.accessToken)) return graphError(401, 190, 'Invalid OAuth access token');
      if (match[1] !== options.phoneNumberId)
        return graphError(400, 100, 'Unsupported post request. Object does not exist');
      let body: WhatsAppMessage['body'];
      try {
        body = JSON.parse(request.body) as WhatsAppMessage['body'];
      } catch {
        return graphError(400, 100, 'Invalid JSON');
      }
      const validate = variants[body?.type];
      if (!validate)
        return graphError(400, 100, `(#100) Param type must be one of {${Object.keys(variants).join(', ')}}`);
      if (!validate(body)) {
        const first = validate.errors?.[0];
        return graphError(
          400,
          100,
          `(#100) Invalid parameter ${first?.instancePath ?? ''} ${first?.message ?? ''}`.trim(),
        );
      }
      if (body.type === 'template') {
        const t = body.template!;
        const expected = templates.get(`${t.name}:${t.language.code}`);
        if (expected === undefined)
          return graphError(404, 132001, '(#132001) Template name does not exist in the translation');
        const given = t.components?.find((c) => c.type === 'body')?.parameters ?? [];
        if (given.length !== expected) {
          return graphError(400, 132000, '(#132000) Number of parameters does not match the expected number of params');
        }
        if (given.some((p) => /[\n\t]|\s{5,}/.test(p.text))) {
          return graphError(400, 132018, '(#132018) There was an issue with the parameters in your template.');
        }
      }
      if (unreachable.has(body.to)) return graphError(400, 131026, '(#131026) Message undeliverable');
      const id = `wamid.${randomBytes(24).toString('base64url')}`;
      const json = {
        messaging_product: 'whatsapp',
        contacts: [{ input: body.to, wa_id: body.to.replace(/^\+/, '') }],
        messages: [{ id }],
      };
      if (!validateResponse(json)) specViolations.push(`response: ${JSON.stringify(validateResponse.errors)}`);
      return {
        status: 200,
        json,
        after: () => {
          messages.push({ id, body });
          base.accepted.push(id);
        },
      };
    },
  });

  const resetBase = base.reset.bind(base);
  return Object.assign(base, {
    messages,
    specViolations,
    approveTemplate(name: string, language: string, bodyParameters: number) {
      templates.set(`${name}:${language}`, bodyParameters);
    },
    notOnWhatsApp(number: string) {
      unreachable.add(number);
    },
    async waitForMessages(count: number, timeoutMs?: number) {
      await base.waitForAccepted(count, timeoutMs);
      return messages.slice(0, count);
    },
    async deliverStatus(
      url: string,
      messageId: string,
      status: string,
      statusOptions: { secret?: string; tamper?: boolean } = {},
    ) {
      const message = messages.find((m) => m.id === messageId);
      if (!message) throw new Error(`no message ${messageId}`);
      const body = JSON.stringify({
        object: 'whatsapp_business_account',
        entry: [
          {
            id: '102290129340398',
            changes: [
              {
                field: 'messages',
                value: {
                  messaging_product: 'whatsapp',
                  metadata: { display_phone_number: '15550783881', phone_number_id: options.phoneNumberId },
                  statuses: [
                    {
                      id: messageId,
                      status,
                      timestamp: String(Math.floor(Date.now() / 1000)),
                      recipient_id: message.body.to.replace(/^\+/, ''),
                      ...(status === 'failed' ? { errors: [{ code: 131026, title: 'Message undeliverable' }] } : {}),
                    },
                  ],
                },
              },
            ],
          },
        ],
      });
      const signature = `sha256=${createHmac('sha256', statusOptions.secret ?? options.appSecret)
        .update(body)
        .digest('hex')}`;
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'X-Hub-Signature-256': signature },
        // tamper: the body changed after it was signed.
        body: statusOptions.tamper ? body.replace(`"status":"${status}"`, '"status":"read"') : body,
      });
      await response.arrayBuffer();
      return response.status;
    },
    reset() {
      resetBase();
      messages.length = 0;
      specViolations.length = 0;
    },
  });
}
