import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { recordInboundSms, recordTwilioStatus } from '../../../application/notifications/provider-webhooks.js';
import { isValidTwilioSignature } from '../../../infrastructure/sms/twilio-signature.js';
import type { HttpDeps } from '../http-deps.js';
import { HttpProblem, problem } from '../problem.js';
import { empty, id, problems } from '../schemas/common.js';

const FORM = 'application/x-www-form-urlencoded';
const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

type FormParams = Record<string, string | string[]>;

/** Form fields as Twilio signs them: a repeated name keeps every value. */
function parseForm(body: string): FormParams {
  const params: FormParams = {};
  for (const [name, value] of new URLSearchParams(body)) {
    const previous = params[name];
    params[name] = previous === undefined ? value : Array.isArray(previous) ? [...previous, value] : [previous, value];
  }
  return params;
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
 * TWILIO_AUTH_TOKEN. A missing or wrong signature is a 403 before anything is read or recorded.
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
export function twilioWebhookRoutes(deps: HttpDeps): FastifyPluginAsyncZod {
  return async (app) => {
    // Scoped to this plugin: urlencoded bodies are accepted here only.
    app.addContentTypeParser(FORM, { parseAs: 'string' }, (_request, body, done) => {
      done(null, parseForm(String(body)));
    });

    const verify = async (request: FastifyRequest) => {
      const authToken = deps.twilio?.authToken;
      const publicUrl = deps.twilio?.publicUrl;
      if (!authToken || !publicUrl) {
        throw new HttpProblem(
          problem(403, 'twilio-webhooks-not-configured', 'Twilio webhooks are not configured.', {
            detail: 'Set PUBLIC_URL and TWILIO_AUTH_TOKEN so that signatures can be verified.',
          }),
        );
      }
      const signature = request.headers['x-twilio-signature'];
      const form = String(request.headers['content-type'] ?? '').startsWith(FORM);
      const valid =
        form &&
        typeof signature === 'string' &&
        isValidTwilioSignature(
          authToken,
          signature,
          `${publicUrl.replace(/\/+$/, '')}${request.url}`,
          (request.body ?? {}) as FormParams,
        );
      if (!valid) {
        throw new HttpProblem(
          problem(403, 'invalid-twilio-signature', 'The request does not carry a valid X-Twilio-Signature.', {
            detail: 'Webhooks are accepted only from Twilio, signed for PUBLIC_URL plus this path and query.',
          }),
        );
      }
    };

    app.post(
      '/webhooks/twilio/status',
      {
        config: { public: true },
        preValidation: verify,
        schema: {
          operationId: 'receiveTwilioStatus',
          tags: ['webhooks'],
          summary: 'Twilio message status callback (signed). 202 recorded, 200 ignored step, 404 unknown MessageSid.',
          security: [],
          consumes: [FORM],
          querystring: z.object({ tenant: id.optional(), notification: id.optional() }).loose(),
          body: statusBody,
          response: {
            200: empty('No body: a step that is not a delivery fact (queued, accepted, sending...).'),
            202: empty('No body: the status is recorded.'),
            ...problems(403, 404, 409),
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
        preValidation: verify,
        schema: {
          operationId: 'receiveTwilioInboundSms',
          tags: ['webhooks'],
          summary:
            'Twilio inbound SMS (signed): STOP-like keywords opt the sender out of SMS, START-like ones back in.',
          security: [],
          consumes: [FORM],
          querystring: z.object({ tenant: id }).loose(),
          body: inboundBody,
          response: {
            200: {
              description: 'Empty TwiML: Herald sends no reply (Twilio answers STOP/START/HELP itself).',
              content: { 'text/xml': { schema: z.string().describe(EMPTY_TWIML) } },
            },
            ...problems(403),
          },
        },
      },
      async (request, reply) => {
        await recordInboundSms(deps, {
          tenantId: request.query.tenant,
          messageSid: request.body.MessageSid,
          from: request.body.From,
          body: request.body.Body,
        });
        // Empty TwiML: no reply from Herald (Twilio's opt-out handling answers STOP/START/HELP itself).
        return reply.code(200).header('content-type', 'text/xml; charset=utf-8').send(EMPTY_TWIML);
      },
    );
  };
}
