import {
  SESv2Client,
  SESv2ServiceException,
  SendEmailCommand,
  type SendEmailCommandInput,
} from '@aws-sdk/client-sesv2';
import type { ChannelAdapter, SendOutcome } from '../../application/ports/channel.port.js';
import type { Clock } from '../../application/ports/clock.port.js';
import { parseRetryAfter } from '../http/retry-after.js';

export interface SesOptions {
  /** An AWS region with SES (`eu-west-1`): the SigV4 scope and, without `apiUrl`, the endpoint. */
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Default https://email.<region>.amazonaws.com (tests: the stand-in). */
  readonly apiUrl?: string;
  /** A configuration set whose event destinations publish deliveries and bounces (optional). */
  readonly configurationSetName?: string;
  readonly clock: Clock;
  /** Per request. Default 30 s. */
  readonly timeoutMs?: number;
}

/** Message tags SES attaches to every event it publishes for the message (event destinations). */
export const SES_TENANT_TAG = 'herald_tenant';
export const SES_NOTIFICATION_TAG = 'herald_notification';

/** SES's tag rule: ASCII letters, digits, `_`, `-`, at most 256 characters. */
const tagValue = (value: string) => value.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 256);

/**
 * Errors of SendEmail (Smithy model `com.amazonaws.sesv2#SendEmail`) that a later attempt may get past. The model
 * declares every SendEmail error a 400 except TooManyRequestsException (429); of the 400s only
 * LimitExceededException (the daily quota or the sending rate, which reset) passes with time.
 */
const RETRYABLE_ERRORS = new Set([
  'TooManyRequestsException',
  'LimitExceededException',
  'InternalServiceErrorException',
]);

/**
 * Amazon SES API v2 SendEmail (`POST /v2/email/outbound-emails`) through the official SDK (`@aws-sdk/client-sesv2`,
 * which signs with SigV4). The SDK's own retries are off (`maxAttempts: 1`): retries belong to the dispatcher. The
 * rendered subject, text, HTML, calendar invitation and attachments go as a Simple message; the tenant and delivery
 * ride along as message tags, which SES echoes in every event it publishes.
 */
export function createSesEmailChannel(options: SesOptions): ChannelAdapter {
  const client = new SESv2Client({
    region: options.region,
    credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
    ...(options.apiUrl ? { endpoint: options.apiUrl } : {}),
    maxAttempts: 1,
    requestHandler: { requestTimeout: options.timeoutMs ?? 30_000, connectionTimeout: options.timeoutMs ?? 30_000 },
  });
  return {
    channel: 'email',
    provider: 'ses',
    async send(message): Promise<SendOutcome> {
      const { content } = message;
      const attachments = [
        ...(content.ics
          ? [
              {
                RawContent: Buffer.from(content.ics.content, 'utf8'),
                FileName: 'invite.ics',
                ContentType: `text/calendar; method=${content.ics.method}`,
                ContentDisposition: 'ATTACHMENT' as const,
              },
            ]
          : []),
        ...(message.attachments ?? []).map((attachment) => ({
          RawContent: Buffer.from(attachment.content),
          FileName: attachment.filename,
          ContentType: attachment.contentType,
          ContentDisposition: 'ATTACHMENT' as const,
        })),
      ];
      const from = content.from?.address ?? 'no-reply@herald.invalid';
      const input: SendEmailCommandInput = {
        FromEmailAddress: content.from?.name ? `"${content.from.name.replace(/["\\]/g, '')}" <${from}>` : from,
        Destination: { ToAddresses: [message.to] },
        Content: {
          Simple: {
            Subject: { Data: content.subject || content.text.split('\n', 1)[0]!.slice(0, 200), Charset: 'UTF-8' },
            Body: {
              Text: { Data: content.text, Charset: 'UTF-8' },
              ...(content.html ? { Html: { Data: content.html, Charset: 'UTF-8' } } : {}),
            },
            ...(attachments.length > 0 ? { Attachments: attachments } : {}),
          },
        },
        EmailTags: [
          { Name: SES_TENANT_TAG, Value: tagValue(message.tenantId) },
          { Name: SES_NOTIFICATION_TAG, Value: tagValue(message.notificationId) },
        ],
        ...(options.configurationSetName ? { ConfigurationSetName: options.configurationSetName } : {}),
      };
      try {
        const answer = await client.send(new SendEmailCommand(input));
        if (!answer.MessageId) return { outcome: 'retryable', reason: 'SES accepted the message without a MessageId' };
        return {
          outcome: 'accepted',
          providerMessageId: answer.MessageId,
          acceptedAt: options.clock.now().toISOString(),
        };
      } catch (error) {
        return sesErrorOutcome(error, options.clock.now(), options.timeoutMs ?? 30_000);
      }
    },
    async close() {
      client.destroy();
    },
  };
}

function sesErrorOutcome(error: unknown, now: Date, timeoutMs: number): Exclude<SendOutcome, { outcome: 'accepted' }> {
  if (error instanceof SESv2ServiceException) {
    const status = error.$metadata.httpStatusCode ?? 0;
    const reason = `SES ${status} ${error.name}: ${error.message}`.slice(0, 400);
    const retryable = status === 408 || status === 429 || status >= 500 || RETRYABLE_ERRORS.has(error.name);
    if (!retryable) return { outcome: 'permanent', reason, code: error.name };
    const headers = (error as { $response?: { headers?: Record<string, string | undefined> } }).$response?.headers;
    const after = parseRetryAfter(headers?.['retry-after'] ?? null, now);
    return { outcome: 'retryable', reason, code: error.name, ...(after !== undefined ? { retryAfterMs: after } : {}) };
  }
  // No answer (refused, reset, timed out): nothing was refused, a later attempt may get through.
  const e = error as { name?: string; code?: string; message?: string };
  const code = e.code ?? e.name ?? 'error';
  const what = code === 'TimeoutError' || code === 'AbortError' ? `no answer within ${timeoutMs} ms` : code;
  return { outcome: 'retryable', reason: `SES request failed: ${what}`.slice(0, 400), code };
}
