import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { recordInboundSms, recordTwilioStatus } from '../../../application/notifications/provider-webhooks.js';
import { answerOfferBySms, parseOfferReply } from '../../../application/waitlist/waitlist-commands.js';
import { openOffersOfPhone } from '../../../application/waitlist/waitlist-queries.js';
import { normalizeAddress } from '../../../domain/notification/index.js';
import { isValidTwilioSignature } from '../../../infrastructure/sms/twilio-signature.js';
import type { HttpDeps } from '../http-deps.js';
import { HttpProblem, problem } from '../problem.js';
import { empty, id, problems } from '../schemas/common.js';

const FORM = 'application/x-www-form-urlencoded';
const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

type FormParams = Record<string, string | string[]>;

/** Twilio's callbacks carry a few dozen fields in a few KiB; anything far beyond that is not Twilio. */
export const WEBHOOK_LIMITS = { maxBytes: 64 * 1024, maxFields: 256 } as const;

export class FormLimitError extends Error {
  constructor(
    readonly code: 'too-many-fields' | 'malformed-form',
    message: string,
  ) {
    super(message);
  }
}

function decodeComponent(text: string): string {
  const plus = text.includes('+') ? text.replaceAll('+', ' ') : text;
  if (!plus.includes('%')) return plus;
  try {
    return decodeURIComponent(plus);
  } catch {
    throw new FormLimitError('malformed-form', 'The form body has an invalid percent-encoding.');
  }
}

/**
 * Form fields as Twilio signs them: a repeated name keeps every value. One pass over the body, one insertion per
 * field, and it stops at the `maxFields` + 1st field: the work is bounded by the limits, whatever the body holds.
 * `onField` observes each insertion (tests count them).
 */
export function parseTwilioForm(
  body: string,
  limits: { readonly maxFields: number } = WEBHOOK_LIMITS,
  onField?: (name: string) => void,
): FormParams {
  const params: FormParams = Object.create(null) as FormParams;
  let fields = 0;
  for (let start = 0; start < body.length;) {
    let end = body.indexOf('&', start);
    if (end === -1) end = body.length;
    if (end > start) {
      if (++fields > limits.maxFields) {
        throw new FormLimitError('too-many-fields', `The form has more than ${limits.maxFields} fields.`);
      }
      const pair = body.slice(start, end);
      const eq = pair.indexOf('=');
      const name = decodeComponent(eq === -1 ? pair : pair.slice(0, eq));
      const value = eq === -1 ? '' : decodeComponent(pair.slice(eq + 1));
      onField?.(name);
      const previous = params[name];
      if (previous === undefined) params[name] = value;
      else if (Array.isArray(previous)) previous.push(value);
      else params[name] = [previous, value];
    }
    start = end + 1;
  }
  return { ...params };
}

const statusBody = z
  .object({
    MessageSid: z.string().min(1).max(64),
    MessageStatus: z.string().min(1).max(32),
    ErrorCode: z.string().max(16).optional(),
    ErrorMessage: z.string().max(500).optional(),
  })
  .loose();

const inboundBody = z
  .object({
    MessageSid: z.string().min(1).max(64),
    From: z.string().min(1).max(32),
    Body: z.string().max(1600).default(''),
  })
  .loose();

/**
 * Twilio webhooks: public routes (no API key) that prove their origin with `X-Twilio-Signature`, an HMAC over the
 * URL Twilio called (PUBLIC_URL + the path and query this service received) and the form fields, keyed with
 * TWILIO_AUTH_TOKEN. A missing or wrong signature is a 403 before anything is recorded.
 *
 * Public, so the work is bounded (docs/architecture.md, "Public routes"): not configured, no signature header or not a
 * form is refused in `onRequest`, before the body is read; the body is capped at 64 KiB (413) and 256 fields (400)
 * and parsed in one linear pass; only then is the HMAC computed.
 *
 * Status callbacks answer 202 once the status is recorded (or already was), 200 for steps that are not facts
 * (queued, accepted, sending...), and 404 for a MessageSid no delivery has yet, so the provider retries later rather
 * than Herald acknowledging a status it did not record. That case is normal for a moment when the callback URL does
 * not name the delivery: the deliveries read model learns the SID only after the worker recorded the acceptance.
 * A URL with `?tenant=<id>&notification=<id>` names it, and the status is recorded from the stream at once.
 *
 * Inbound messages need `?tenant=<id>` in the URL configured at Twilio (one number per deployment; the signature
 * covers the query, so it cannot be changed by a caller).
 */
function invalidSignature(): HttpProblem {
  return new HttpProblem(
    problem(403, 'invalid-twilio-signature', 'The request does not carry a valid X-Twilio-Signature.', {
      detail: 'Webhooks are accepted only from Twilio, signed for PUBLIC_URL plus this path and query.',
    }),
  );
}

export function twilioWebhookRoutes(deps: HttpDeps): FastifyPluginAsyncZod {
  return async (app) => {
    // Scoped to this plugin: urlencoded bodies are accepted here only, up to WEBHOOK_LIMITS.maxBytes (else 413).
    app.addContentTypeParser(
      FORM,
      { parseAs: 'string', bodyLimit: WEBHOOK_LIMITS.maxBytes },
      (_request, body, done) => {
        try {
          done(null, parseTwilioForm(String(body)));
        } catch (error) {
          if (!(error instanceof FormLimitError)) throw error;
          done(
            new HttpProblem(
              problem(400, error.code, error.message, {
                detail: `Webhook forms may have at most ${WEBHOOK_LIMITS.maxFields} fields and ${WEBHOOK_LIMITS.maxBytes} bytes.`,
              }),
            ),
            undefined,
          );
        }
      },
    );

    /** The cheap checks, before the body is read: configured at all? signed at all? a form? */
    const precheck = async (request: FastifyRequest) => {
      if (!deps.twilio?.authToken || !deps.twilio.publicUrl) {
        throw new HttpProblem(
          problem(403, 'twilio-webhooks-not-configured', 'Twilio webhooks are not configured.', {
            detail: 'Set PUBLIC_URL and TWILIO_AUTH_TOKEN so that signatures can be verified.',
          }),
        );
      }
      const signature = request.headers['x-twilio-signature'];
      const form = String(request.headers['content-type'] ?? '')
        .toLowerCase()
        .startsWith(FORM);
      if (typeof signature !== 'string' || signature.length === 0 || signature.length > 256 || !form) {
        throw invalidSignature();
      }
    };

    /** The HMAC over URL and fields, once the (bounded) body is parsed. */
    const verify = async (request: FastifyRequest) => {
      const authToken = deps.twilio?.authToken;
      const publicUrl = deps.twilio?.publicUrl;
      const signature = request.headers['x-twilio-signature'];
      const valid =
        authToken !== undefined &&
        publicUrl !== undefined &&
        typeof signature === 'string' &&
        isValidTwilioSignature(
          authToken,
          signature,
          `${publicUrl.replace(/\/+$/, '')}${request.url}`,
          (request.body ?? {}) as FormParams,
        );
      if (!valid) throw invalidSignature();
    };

    app.post(
      '/webhooks/twilio/status',
      {
        config: { public: true },
        bodyLimit: WEBHOOK_LIMITS.maxBytes,
        onRequest: precheck,
        preValidation: verify,
        schema: {
          operationId: 'receiveTwilioStatus',
          tags: ['webhooks'],
          summary: 'Twilio message status callback (signed). 202 recorded, 200 ignored step, 404 unknown MessageSid.',
          security: [],
          consumes: [FORM],
          querystring: z.strictObject({ tenant: id.optional(), notification: id.optional() }),
          body: statusBody,
          response: {
            200: empty('No body: a step that is not a delivery fact (queued, accepted, sending...).'),
            202: empty('No body: the status is recorded.'),
            ...problems(403, 404, 409, 413),
          },
        },
      },
      async (request, reply) => {
        const { MessageSid, MessageStatus, ErrorCode, ErrorMessage } = request.body;
        const { tenant, notification } = request.query;
        const result = await recordTwilioStatus(deps, {
          messageSid: MessageSid,
          messageStatus: MessageStatus,
          ...(ErrorCode !== undefined ? { errorCode: ErrorCode } : {}),
          ...(ErrorMessage !== undefined ? { errorMessage: ErrorMessage } : {}),
          ...(tenant !== undefined && notification !== undefined
            ? { tenantId: tenant, notificationId: notification }
            : {}),
        });
        switch (result.outcome) {
          case 'ignored':
            return reply.code(200).send();
          case 'recorded':
            return reply.code(202).send();
          case 'unknown-message':
            throw new HttpProblem(
              problem(404, 'unknown-message', `No delivery has provider message ${MessageSid} (yet).`, {
                detail: 'Retry later: the acceptance of a message may not be recorded yet.',
                messageSid: MessageSid,
              }),
            );
        }
      },
    );

    app.post(
      '/webhooks/twilio/inbound',
      {
        config: { public: true },
        bodyLimit: WEBHOOK_LIMITS.maxBytes,
        onRequest: precheck,
        preValidation: verify,
        schema: {
          operationId: 'receiveTwilioInboundSms',
          tags: ['webhooks'],
          summary:
            'Twilio inbound SMS (signed): STOP-like keywords opt the sender out of SMS, START-like ones back in; ' +
            'YES/ANO/JA and NO/NE/NEI answer the sender’s open waitlist offer.',
          security: [],
          consumes: [FORM],
          querystring: z.strictObject({ tenant: id }),
          body: inboundBody,
          response: {
            200: {
              description: 'Empty TwiML: Herald sends no reply (Twilio answers STOP/START/HELP itself).',
              content: { 'text/xml': { schema: z.string().describe(EMPTY_TWIML) } },
            },
            ...problems(403, 413),
          },
        },
      },
      async (request, reply) => {
        const tenantId = request.query.tenant;
        await recordInboundSms(deps, {
          tenantId,
          messageSid: request.body.MessageSid,
          from: request.body.From,
          body: request.body.Body,
        });
        // YES/ANO/JA or NO/NE/NEI: the answer to the sender's open waitlist offer, if they have exactly one.
        if (parseOfferReply(request.body.Body) !== undefined) {
          const phone = normalizeAddress('sms', request.body.From);
          await answerOfferBySms(
            deps.waitlist,
            {
              tenantId,
              actor: 'customer:sms-reply',
              causationId: request.body.MessageSid,
              correlationId: request.body.MessageSid,
            },
            request.body.Body,
            await openOffersOfPhone(deps.readModels, tenantId, phone),
          );
        }
        // Empty TwiML: no reply from Herald (Twilio's opt-out handling answers STOP/START/HELP itself).
        return reply.code(200).header('content-type', 'text/xml; charset=utf-8').send(EMPTY_TWIML);
      },
    );
  };
}
