import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod, ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  configureCalendlySource,
  loadCalendlySource,
  openSigningKey,
  receiveCalendlyEvent,
  removeCalendlySource,
  viewCalendlySource,
  type CalendlyInviteeEvent,
  type CalendlySourceView,
} from '../../../application/booking/calendly-source.js';
import type { CalendlySource } from '../../../domain/booking/calendly-source.decider.js';
import { isValidCalendlySignature, parseCalendlySignature } from '../../../infrastructure/channels/signatures.js';
import { commandContext, requireRole } from '../auth.js';
import type { HttpDeps } from '../http-deps.js';
import { HttpProblem, problem } from '../problem.js';
import { empty, id, json, problems } from '../schemas/common.js';
import { bookingDepsFrom } from './booking.routes.js';

/** Calendly's invitee payloads are a few KiB (questions and answers included); far beyond that is not Calendly. */
export const CALENDLY_WEBHOOK_LIMITS = { maxBytes: 128 * 1024 } as const;
/** How old a signature's `t` may be (and how far ahead of Herald's clock): Calendly's own guidance is 3 minutes. */
export const CALENDLY_SIGNATURE_TOLERANCE_SECONDS = 180;

const JSON_TYPE = 'application/json';
const TENANT_ID = /^[A-Za-z0-9._:-]{1,128}$/;

const mappingSchema = z.strictObject({
  eventTypeUri: z
    .string()
    .max(300)
    .describe('The Calendly event type URI, e.g. https://api.calendly.com/event_types/AAAAAAAAAAAAAAAA.'),
  serviceId: id.describe('The Herald service an invitee of this event type books.'),
  resourceId: id.optional().describe('The resource; absent: the first of the service’s resources with a free seat.'),
});

const configurationInput = z.strictObject({
  signingKey: z
    .string()
    .min(16)
    .max(1024)
    .describe('The webhook signing key given to (or by) Calendly for the subscription. Stored sealed, never shown.'),
  eventTypes: z.array(mappingSchema).min(1).max(100),
});

const configurationView = z.object({
  configured: z.boolean(),
  eventTypes: z.array(mappingSchema),
  configuredAt: z.string().nullable(),
});

const inviteeBody = z
  .object({
    event: z.string().min(1).max(100).describe('invitee.created and invitee.canceled are acted on; others ignored.'),
    payload: z
      .object({
        uri: z.string().min(1).max(500).optional(),
        name: z.string().min(1).max(200).optional(),
        email: z.string().max(320).optional(),
        text_reminder_number: z.string().max(64).nullable().optional(),
        scheduled_event: z
          .object({
            event_type: z.string().max(500),
            start_time: z.string().max(64),
            end_time: z.string().max(64).optional(),
          })
          .loose()
          .optional(),
        cancellation: z
          .object({ canceler_type: z.string().max(32).nullable().optional() })
          .loose()
          .nullable()
          .optional(),
      })
      .loose(),
  })
  .loose();

const outcomeSchema = z.object({
  outcome: z.enum(['recorded', 'already-recorded', 'ignored']),
  reservationId: z.string().optional(),
  reason: z.enum(['unsupported-event', 'unknown-event-type', 'unknown-invitee', 'not-bookable']).optional(),
  code: z.string().optional().describe('Why the slot could not be booked (slot-full, slot-not-bookable...).'),
});

const view = (v: CalendlySourceView) => ({ ...v, eventTypes: [...v.eventTypes] });

function invalidSignature(detail: string): HttpProblem {
  return new HttpProblem(
    problem(401, 'invalid-calendly-signature', 'The request does not carry a valid Calendly-Webhook-Signature.', {
      detail,
    }),
  );
}

declare module 'fastify' {
  interface FastifyRequest {
    calendlySource?: CalendlySource;
  }
}

/**
 * Calendly as a reservation source (docs/channels/calendly.md): the tenant's admin stores the webhook signing key
 * (sealed) and which service each Calendly event type books; Calendly's invitee.created / invitee.canceled webhooks
 * then book and cancel reservations like any other.
 */
export function calendlyRoutes(deps: HttpDeps): FastifyPluginAsyncZod {
  const booking = bookingDepsFrom(deps);
  const cipher = () => {
    if (!deps.channels) {
      throw new HttpProblem(problem(503, 'channels-unavailable', 'Integration configuration is not available here.'));
    }
    return deps.channels.cipher;
  };
  return async (app) => {
    app.get(
      '/integrations/calendly',
      {
        schema: {
          operationId: 'getCalendlySource',
          tags: ['integrations'],
          summary: 'Calendly as a reservation source: which event types book which services (never the key).',
          response: { 200: json(configurationView, 'The configuration.'), ...problems(403) },
        },
      },
      async (request) => {
        const principal = requireRole(request, 'admin');
        return view(await viewCalendlySource(deps.eventStore, principal.tenantId));
      },
    );

    app.put(
      '/integrations/calendly',
      {
        schema: {
          operationId: 'configureCalendlySource',
          tags: ['integrations'],
          summary: 'Accept Calendly webhooks: the signing key (stored encrypted) and the event type → service map.',
          body: configurationInput,
          response: { 200: json(configurationView, 'The configuration as it is now.'), ...problems(400, 403) },
        },
      },
      async (request) => {
        const principal = requireRole(request, 'admin');
        return view(
          await configureCalendlySource(
            { eventStore: deps.eventStore, ids: deps.ids, clock: deps.clock, cipher: cipher() },
            commandContext(principal, request.id),
            request.body,
          ),
        );
      },
    );

    app.delete(
      '/integrations/calendly',
      {
        schema: {
          operationId: 'removeCalendlySource',
          tags: ['integrations'],
          summary: 'Stop accepting Calendly webhooks (their signatures no longer verify).',
          response: { 204: empty('Removed (or there was nothing to remove).'), ...problems(403) },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin');
        await removeCalendlySource(
          { eventStore: deps.eventStore, ids: deps.ids, clock: deps.clock, cipher: cipher() },
          commandContext(principal, request.id),
        );
        return reply.code(204).send();
      },
    );

    // The webhook, in its own scope: its JSON body is kept as the raw text that was signed until it is verified.
    await app.register(async (plain) => {
      const scope = plain.withTypeProvider<ZodTypeProvider>();
      scope.addContentTypeParser(
        JSON_TYPE,
        { parseAs: 'string', bodyLimit: CALENDLY_WEBHOOK_LIMITS.maxBytes },
        (_request, body, done) => done(null, String(body)),
      );

      /** Before the body is read: a signature header at all, well-formed, and fresh. */
      const precheck = async (request: FastifyRequest) => {
        const header = request.headers['calendly-webhook-signature'];
        const parsed = typeof header === 'string' ? parseCalendlySignature(header) : null;
        if (!parsed) throw invalidSignature('Expected Calendly-Webhook-Signature: t=<unix seconds>,v1=<hex HMAC>.');
        const age = deps.clock.now().getTime() / 1000 - parsed.timestamp;
        if (Math.abs(age) > CALENDLY_SIGNATURE_TOLERANCE_SECONDS) {
          throw invalidSignature(
            `The signature's timestamp is more than ${CALENDLY_SIGNATURE_TOLERANCE_SECONDS} seconds from now.`,
          );
        }
        const tenantId = (request.params as { tenantId?: unknown }).tenantId;
        if (typeof tenantId !== 'string' || !TENANT_ID.test(tenantId)) {
          throw new HttpProblem(problem(404, 'calendly-not-configured', 'No tenant accepts Calendly webhooks here.'));
        }
      };

      /** Is it configured? Is the HMAC over `t.body` right? Only then is the (bounded) body parsed as JSON. */
      const verify = async (request: FastifyRequest) => {
        const tenantId = (request.params as { tenantId: string }).tenantId;
        const source = await loadCalendlySource(deps.eventStore, tenantId);
        const signingKey = source && deps.channels ? openSigningKey(deps.channels.cipher, tenantId, source) : null;
        if (!source || !signingKey) {
          throw new HttpProblem(
            problem(404, 'calendly-not-configured', 'This tenant does not accept Calendly webhooks.', {
              detail: 'An admin configures them with PUT /v1/integrations/calendly.',
            }),
          );
        }
        const raw = typeof request.body === 'string' ? request.body : '';
        const parsed = parseCalendlySignature(String(request.headers['calendly-webhook-signature']));
        if (!parsed || !isValidCalendlySignature(signingKey, parsed, raw)) {
          throw invalidSignature('The HMAC-SHA256 over t.body does not match the tenant’s signing key.');
        }
        try {
          request.body = JSON.parse(raw) as unknown;
        } catch {
          throw new HttpProblem(problem(400, 'malformed-json', 'The body is not JSON.'));
        }
        request.calendlySource = source;
      };

      scope.post(
        '/webhooks/calendly/:tenantId',
        {
          config: { public: true },
          bodyLimit: CALENDLY_WEBHOOK_LIMITS.maxBytes,
          onRequest: precheck,
          preValidation: verify,
          schema: {
            operationId: 'receiveCalendlyWebhook',
            tags: ['webhooks'],
            summary:
              'Calendly invitee.created / invitee.canceled (signed): books or cancels the reservation; a redelivery ' +
              'changes nothing; what cannot be acted on is answered 200 `ignored` (Calendly retries non-2xx).',
            security: [],
            params: z.strictObject({ tenantId: id }),
            headers: z
              .object({
                'calendly-webhook-signature': z
                  .string()
                  .max(512)
                  .describe('t=<unix seconds>,v1=<hex HMAC-SHA256 over "<t>.<raw body>" with the signing key>'),
              })
              .loose(),
            body: inviteeBody,
            response: {
              200: json(outcomeSchema, 'Recorded, already recorded (a redelivery), or ignored with the reason.'),
              ...problems(401, 404, 413),
            },
          },
        },
        async (request) => {
          const tenantId = request.params.tenantId;
          const source = request.calendlySource!;
          const body = request.body;
          const isInvitee = body.event === 'invitee.created' || body.event === 'invitee.canceled';
          const p = body.payload;
          if (isInvitee && (!p.uri || !p.name || !p.scheduled_event)) {
            throw new HttpProblem(
              problem(400, 'invalid-calendly-payload', 'An invitee event needs payload.uri, name and scheduled_event.'),
            );
          }
          const tenant = await deps.tenancy.getTenant(tenantId).catch(() => null);
          const context = {
            tenantId,
            actor: 'integration:calendly',
            correlationId: request.id,
            ...(p.uri ? { causationId: p.uri } : {}),
          };
          return receiveCalendlyEvent(
            { booking, ...(deps.waitlist.logger ? { logger: deps.waitlist.logger } : {}) },
            context,
            source,
            body as unknown as CalendlyInviteeEvent,
            tenant?.defaultLocale ?? 'en',
          );
        },
      );
    });
  };
}
