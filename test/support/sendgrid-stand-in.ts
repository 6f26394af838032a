import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { hasBearer, startHttpStandIn, type HttpStandIn, type StandInAnswer } from './http-stand-in.js';

/**
 * A stand-in for SendGrid v3 Mail Send (`POST /v3/mail/send`). Request bodies are validated against the schema of
 * SendGrid's own OpenAPI description (sendgrid/sendgrid-oai, MIT; the extract in vendor/sendgrid-mail-send.json
 * names its commit), error answers use its documented error shape, and a 202 carries X-Message-Id as SendGrid's
 * does. Beyond the schema, as SendGrid documents: the API key goes in `Authorization: Bearer`, a sender must be a
 * verified Sender Identity (403 otherwise), and 429 answers carry X-RateLimit-Reset (SendGrid sends no
 * Retry-After). `deliverEvents` posts Event Webhook batches signed like the Signed Event Webhook (ECDSA P-256 over
 * timestamp + body, base64 DER in X-Twilio-Email-Event-Webhook-Signature).
 */

const vendored = JSON.parse(readFileSync(new URL('./vendor/sendgrid-mail-send.json', import.meta.url), 'utf8')) as {
  request: object;
};

const addFormats = (addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule;
const ajv = new Ajv({ strict: false, allErrors: true });
(addFormats as unknown as (a: Ajv) => void)(ajv);
const validateMailSend: ValidateFunction = ajv.compile(vendored.request);

export interface SentMail {
  readonly messageId: string;
  readonly body: {
    personalizations: {
      to: { email: string }[];
      custom_args?: Record<string, string>;
      dynamic_template_data?: Record<string, unknown>;
      headers?: Record<string, string>;
    }[];
    from: { email: string; name?: string };
    subject?: string;
    content?: { type: string; value: string }[];
    template_id?: string;
    attachments?: { content: string; type?: string; filename: string }[];
    headers?: Record<string, string>;
  };
}

export interface SendGridStandIn extends HttpStandIn {
  readonly apiKey: string;
  readonly mails: readonly SentMail[];
  /** The Signed Event Webhook's public key, base64 DER (SPKI), as SendGrid's settings show it. */
  readonly webhookPublicKey: string;
  waitForMails(count: number, timeoutMs?: number): Promise<SentMail[]>;
  /** Posts one signed Event Webhook batch for these messages to `url`; resolves with the HTTP status answered. */
  deliverEvents(
    url: string,
    events: { messageId: string; event: 'delivered' | 'bounce' | 'dropped' | 'deferred'; reason?: string }[],
    options?: { tamper?: boolean; foreignKey?: boolean },
  ): Promise<number>;
}

export async function startSendGridStandIn(options: {
  apiKey: string;
  verifiedSenders: readonly string[];
}): Promise<SendGridStandIn> {
  const mails: SentMail[] = [];
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const errors = (status: number, message: string, field: string | null = null): StandInAnswer => ({
    status,
    json: { errors: [{ message, field, help: null }] },
  });

  const base = await startHttpStandIn({
    failureAnswer: ({ status, retryAfterSeconds }) => ({
      ...errors(status, status === 429 ? 'too many requests' : 'internal server error'),
      headers: (status === 429
        ? {
            'X-RateLimit-Limit': '600',
            'X-RateLimit-Remaining': '0',
            'X-RateLimit-Reset': String(Math.floor(Date.now() / 1000) + (retryAfterSeconds ?? 1)),
          }
        : {}) as Record<string, string>,
    }),
    handle(request) {
      if (request.path !== '/v3/mail/send') return errors(404, 'not found');
      if (request.method !== 'POST') return errors(405, 'method not allowed');
      if (!hasBearer(request.headers, options.apiKey)) {
        return errors(401, 'The provided authorization grant is invalid, expired, or revoked');
      }
      if (!String(request.headers['content-type']).startsWith('application/json')) {
        return errors(415, 'Content-Type should be application/json.');
      }
      let body: SentMail['body'];
      try {
        body = JSON.parse(request.body) as SentMail['body'];
      } catch {
        return errors(400, 'Bad Request', null);
      }
      if (!validateMailSend(body)) {
        const first = validateMailSend.errors?.[0];
        return errors(
          400,
          `${first?.message ?? 'invalid'}`,
          first?.instancePath.replace(/^\//, '').replaceAll('/', '.') || null,
        );
      }
      if (!options.verifiedSenders.includes(body.from.email)) {
        return errors(403, 'The from address does not match a verified Sender Identity.', 'from');
      }
      const messageId = randomBytes(16).toString('base64url').slice(0, 22);
      return {
        status: 202,
        headers: { 'X-Message-Id': messageId },
        after: () => {
          mails.push({ messageId, body });
          base.accepted.push(messageId);
        },
      };
    },
  });

  const resetBase = base.reset.bind(base);
  return Object.assign(base, {
    apiKey: options.apiKey,
    mails,
    webhookPublicKey: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
    waitForMails: async (count: number, timeoutMs?: number) => {
      await base.waitForAccepted(count, timeoutMs);
      return mails.slice(0, count);
    },
    async deliverEvents(
      url: string,
      events: { messageId: string; event: string; reason?: string }[],
      eventOptions: { tamper?: boolean; foreignKey?: boolean } = {},
    ) {
      const batch = events.map((e) => {
        const mail = mails.find((m) => m.messageId === e.messageId);
        if (!mail) throw new Error(`no mail ${e.messageId}`);
        return {
          email: mail.body.personalizations[0]!.to[0]!.email,
          timestamp: Math.floor(Date.now() / 1000),
          event: e.event,
          sg_event_id: randomBytes(12).toString('base64url'),
          sg_message_id: `${e.messageId}.filterdrecv-${randomBytes(4).toString('hex')}-1-0`,
          ...(e.reason ? { reason: e.reason } : {}),
          // custom_args are echoed as top-level fields of every event.
          ...(mail.body.personalizations[0]!.custom_args ?? {}),
        };
      });
      const body = JSON.stringify(batch);
      const timestamp = String(Math.floor(Date.now() / 1000));
      // foreignKey: signed by another account's key pair, which this account's public key must not verify.
      const key = eventOptions.foreignKey
        ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey
        : privateKey;
      const signature = sign('sha256', Buffer.from(timestamp + body), key).toString('base64');
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'X-Twilio-Email-Event-Webhook-Signature': signature,
          'X-Twilio-Email-Event-Webhook-Timestamp': timestamp,
        },
        body: eventOptions.tamper ? body.replace('"delivered"', '"bounce"') : body,
      });
      await response.arrayBuffer();
      return response.status;
    },
    reset() {
      resetBase();
      mails.length = 0;
    },
  });
}
