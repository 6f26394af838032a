import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { openTenantProvider } from '../../../application/channels/channel-configuration.js';
import { recordProviderStatus } from '../../../application/notifications/provider-webhooks.js';
import type { ProviderStatusReport, WebhookRequest } from '../../../application/ports/channel.port.js';
import type { Channel } from '../../../domain/notification/index.js';
import { sendGridStatusWebhook } from '../../../infrastructure/channels/sendgrid-email-channel.js';
import { whatsAppStatusWebhook } from '../../../infrastructure/channels/whatsapp-cloud-channel.js';
import { sameSecret } from '../../../infrastructure/channels/signatures.js';
import type { HttpDeps } from '../http-deps.js';
import { HttpProblem, problem } from '../problem.js';
import { empty, id, problems } from '../schemas/common.js';

/** A SendGrid batch holds up to about a thousand events; a WhatsApp notification a few. 256 KiB bounds both. */
export const STATUS_WEBHOOK_MAX_BYTES = 256 * 1024;
const JSON_TYPE = 'application/json';

interface Provider {
  readonly name: 'sendgrid' | 'whatsapp-cloud';
  readonly channel: Channel;
  readonly signatureHeader: string;
  /** The environment's secret (public key / app secret); the tenant's is read from its provider configuration. */
  readonly environmentSecret: (deps: HttpDeps) => string | undefined;
  readonly tenantSecret: (p: {
    settings: Readonly<Record<string, string>>;
    credentials: Readonly<Record<string, string>>;
  }) => string | undefined;
  /** Verified reports with the delivery they name, when the provider names it. */
  readonly reports: (
    request: WebhookRequest,
  ) => { tenantId?: string; notificationId?: string; report: ProviderStatusReport }[];
}

const SENDGRID: Provider = {
  name: 'sendgrid',
  channel: 'email',
  signatureHeader: 'x-twilio-email-event-webhook-signature',
  environmentSecret: (deps) => deps.providerWebhooks?.sendgridPublicKey,
  tenantSecret: (p) => p.settings.webhookPublicKey,
  reports: (request) => sendGridStatusWebhook.locate(request),
};
const WHATSAPP: Provider = {
  name: 'whatsapp-cloud',
  channel: 'whatsapp',
  signatureHeader: 'x-hub-signature-256',
  environmentSecret: (deps) => deps.providerWebhooks?.whatsappAppSecret,
  tenantSecret: (p) => p.credentials.appSecret,
  reports: (request) => whatsAppStatusWebhook.parse(request).map((report) => ({ report })),
};
const VERIFIERS = { sendgrid: sendGridStatusWebhook, 'whatsapp-cloud': whatsAppStatusWebhook } as const;

declare module 'fastify' {
  interface FastifyRequest {
    /** The provider's secret for this request, found by the cheap checks in onRequest. */
    statusWebhookSecret?: string;
    /** The verified reports, once the signature held and the body was read. */
    statusReports?: ReturnType<Provider['reports']>;
  }
}

const tenantParams = z.object({ tenantId: id });

/**
 * Status webhooks of SendGrid (Signed Event Webhook: ECDSA over timestamp + body) and WhatsApp Cloud
 * (X-Hub-Signature-256: HMAC-SHA256 of the body under the app secret), for the environment's provider and for a
 * tenant's own (`/{tenantId}`). Public, so the work is bounded and cheap checks come first: configured? signature
 * header present? (onRequest, before the body is read) — the body capped at 256 KiB and kept as bytes — the
 * signature over those bytes — and only then the JSON is parsed. Each report is recorded on its delivery exactly as
 * Twilio's status callbacks are (RecordProviderStatus: a replay records nothing). A report about a message no
 * delivery has (yet) answers 404 so the provider retries; the recorded ones are not recorded again.
 */
export function providerStatusWebhookRoutes(deps: HttpDeps): FastifyPluginAsyncZod {
  return async (app) => {
    // Scoped to this plugin: JSON stays bytes until the signature over them is checked.
    app.removeContentTypeParser(JSON_TYPE);
    app.addContentTypeParser(JSON_TYPE, { parseAs: 'buffer', bodyLimit: STATUS_WEBHOOK_MAX_BYTES }, (_r, body, done) =>
      done(null, body),
    );

    const notConfigured = (provider: Provider) =>
      new HttpProblem(
        problem(403, 'status-webhook-not-configured', `${provider.name} status webhooks are not configured here.`, {
          detail:
            provider.name === 'sendgrid'
              ? 'Set SENDGRID_WEBHOOK_PUBLIC_KEY, or the tenant’s sendgrid provider setting webhookPublicKey.'
              : 'Set WHATSAPP_APP_SECRET, or the tenant’s whatsapp-cloud provider credential appSecret.',
        }),
      );
    const invalidSignature = (provider: Provider) =>
      new HttpProblem(
        problem(401, 'invalid-webhook-signature', `The request does not carry a valid ${provider.name} signature.`, {
          detail: `The ${provider.signatureHeader} header must sign this exact body.`,
        }),
      );

    const secretFor = async (provider: Provider, tenantId: string | undefined) => {
      if (tenantId === undefined) return provider.environmentSecret(deps);
      if (!id.safeParse(tenantId).success || !deps.channels) return undefined;
      const own = await openTenantProvider(
        deps.eventStore,
        deps.channels.cipher,
        tenantId,
        provider.channel,
        provider.name,
      );
      return own ? provider.tenantSecret(own) : undefined;
    };

    const precheck = (provider: Provider) => async (request: FastifyRequest) => {
      const tenantId = (request.params as { tenantId?: string }).tenantId;
      const secret = await secretFor(provider, tenantId);
      if (!secret) throw notConfigured(provider);
      const signature = request.headers[provider.signatureHeader];
      const json = String(request.headers['content-type'] ?? '')
        .toLowerCase()
        .startsWith(JSON_TYPE);
      if (typeof signature !== 'string' || signature.length === 0 || signature.length > 512 || !json) {
        throw invalidSignature(provider);
      }
      request.statusWebhookSecret = secret;
    };

    /** The signature over the bytes received; then (and only then) the JSON. */
    const verify = (provider: Provider) => async (request: FastifyRequest) => {
      const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const headers = Object.fromEntries(
        Object.entries(request.headers).map(([name, value]) => [name, Array.isArray(value) ? value[0] : value]),
      );
      const webhook: WebhookRequest = { rawBody, headers, url: request.url };
      if (!request.statusWebhookSecret || !VERIFIERS[provider.name].verify(webhook, request.statusWebhookSecret)) {
        throw invalidSignature(provider);
      }
      let reports;
      try {
        reports = provider.reports(webhook);
      } catch {
        throw new HttpProblem(
          problem(400, 'malformed-webhook', `The body is not a ${provider.name} status webhook.`, {
            detail: 'It is signed, but it cannot be read as the provider documents it.',
          }),
        );
      }
      request.statusReports = reports;
      // The provider's JSON, for the documented schema (validated next); it parsed above, so it parses here.
      request.body = JSON.parse(rawBody.toString('utf8')) as unknown;
    };

    const handle = (provider: Provider) => async (request: FastifyRequest) => {
      const tenantId = (request.params as { tenantId?: string }).tenantId;
      const reports = request.statusReports ?? [];
      let unknown = 0;
      for (const { tenantId: named, notificationId, report } of reports) {
        const outcome = await recordProviderStatus(deps, {
          provider: provider.name,
          providerMessageId: report.providerMessageId,
          status: report.status,
          ...(report.error !== undefined ? { error: report.error } : {}),
          ...(named !== undefined && notificationId !== undefined ? { tenantId: named, notificationId } : {}),
          ...(tenantId !== undefined ? { onlyTenant: tenantId } : {}),
        });
        if (outcome.outcome === 'unknown-message') unknown++;
      }
      if (unknown > 0) {
        throw new HttpProblem(
          problem(404, 'unknown-message', `${unknown} of the reports name no delivery (yet).`, {
            detail: 'Retry later: the acceptance of a message may not be recorded yet. The others are recorded.',
          }),
        );
      }
    };

    const post = (provider: Provider, path: string, operationId: string, summary: string, perTenant: boolean) =>
      app.post(
        path,
        {
          config: { public: true },
          bodyLimit: STATUS_WEBHOOK_MAX_BYTES,
          onRequest: precheck(provider),
          preValidation: verify(provider),
          schema: {
            operationId,
            tags: ['webhooks'],
            summary,
            security: [],
            ...(perTenant ? { params: tenantParams } : {}),
            body:
              provider.name === 'sendgrid'
                ? z
                    .array(z.object({ event: z.string().max(64) }).loose())
                    .describe('A SendGrid Event Webhook batch (events with sg_message_id and custom_args), signed.')
                : z
                    .object({ object: z.literal('whatsapp_business_account'), entry: z.array(z.unknown()) })
                    .loose()
                    .describe('A WhatsApp Business Account webhook (entry[].changes[].value.statuses), signed.'),
            response: {
              200: empty('No body: every report is recorded (or already was).'),
              ...problems(400, 401, 403, 404, 413),
            },
          },
        },
        async (request, reply) => {
          await handle(provider)(request);
          return reply.code(200).send();
        },
      );

    post(
      SENDGRID,
      '/webhooks/sendgrid/events',
      'receiveSendGridEvents',
      'SendGrid Signed Event Webhook (the environment’s account): delivered, bounced, dropped… recorded on the delivery.',
      false,
    );
    post(
      SENDGRID,
      '/webhooks/sendgrid/events/:tenantId',
      'receiveTenantSendGridEvents',
      'SendGrid Signed Event Webhook of a tenant’s own account.',
      true,
    );
    post(
      WHATSAPP,
      '/webhooks/whatsapp',
      'receiveWhatsAppStatus',
      'WhatsApp Cloud status webhook (the environment’s app, X-Hub-Signature-256): sent, delivered, read, failed.',
      false,
    );
    post(
      WHATSAPP,
      '/webhooks/whatsapp/:tenantId',
      'receiveTenantWhatsAppStatus',
      'WhatsApp Cloud status webhook of a tenant’s own app.',
      true,
    );

    // The subscription handshake: Meta calls GET with hub.mode=subscribe, hub.verify_token and hub.challenge.
    const handshake = (path: string, operationId: string, perTenant: boolean) =>
      app.get(
        path,
        {
          config: { public: true },
          schema: {
            operationId,
            tags: ['webhooks'],
            summary: 'WhatsApp webhook verification: echoes hub.challenge when hub.verify_token is the configured one.',
            security: [],
            ...(perTenant ? { params: tenantParams } : {}),
            querystring: z.object({
              'hub.mode': z.literal('subscribe'),
              'hub.verify_token': z.string().min(1).max(256),
              'hub.challenge': z.string().min(1).max(256),
            }),
            response: {
              200: { description: 'The challenge, as sent.', content: { 'text/plain': { schema: z.string() } } },
              ...problems(400, 403),
            },
          },
        },
        async (request, reply) => {
          const tenantId = (request.params as { tenantId?: string }).tenantId;
          let expected: string | undefined;
          if (tenantId === undefined) expected = deps.providerWebhooks?.whatsappVerifyToken;
          else if (deps.channels) {
            const own = await openTenantProvider(
              deps.eventStore,
              deps.channels.cipher,
              tenantId,
              'whatsapp',
              'whatsapp-cloud',
            );
            expected = own?.credentials.verifyToken;
          }
          const query = request.query as Record<string, string>;
          if (!expected || !sameSecret(query['hub.verify_token']!, expected)) {
            throw new HttpProblem(
              problem(403, 'invalid-verify-token', 'The verify token is not the one configured.', {
                detail:
                  'Set WHATSAPP_VERIFY_TOKEN (or the tenant’s verifyToken) to what the app’s webhook settings say.',
              }),
            );
          }
          return reply
            .code(200)
            .header('content-type', 'text/plain; charset=utf-8')
            .send(query['hub.challenge'] ?? '');
        },
      );
    handshake('/webhooks/whatsapp', 'verifyWhatsAppWebhook', false);
    handshake('/webhooks/whatsapp/:tenantId', 'verifyTenantWhatsAppWebhook', true);
  };
}
