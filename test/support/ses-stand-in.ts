import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { startHttpStandIn, type HttpStandIn, type StandInAnswer, type StandInRequest } from './http-stand-in.js';

/**
 * A stand-in for Amazon SES API v2 `SendEmail` (`POST /v2/email/outbound-emails`, restJson1).
 *
 * What it checks, from AWS's published descriptions:
 * - Signature Version 4 (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html):
 *   the `Authorization: AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/ses/aws4_request, SignedHeaders=…,
 *   Signature=…` header is recomputed from the canonical request (method, URI, query, signed headers, SHA-256 of
 *   the body) with the secret key; `host` and `x-amz-date` must be signed; the date must be within 15 minutes. An
 *   unknown key answers 403 UnrecognizedClientException, a wrong signature 403 InvalidSignatureException.
 * - The input shape of `com.amazonaws.sesv2#SendEmail` in AWS's Smithy model (aws/aws-sdk-js-v3,
 *   codegen/sdk-codegen/aws-models/sesv2.json, Apache-2.0; the member names below are read from the schema the
 *   SDK generates from that model, `@aws-sdk/client-sesv2` 3.1176.0 `SendEmailRequest$`, `Message$`,
 *   `Attachment$`, not from a vendored copy): only the members
 *   SendEmailRequest declares, `Content` required with exactly one of Simple / Raw / Template, a Simple message with
 *   `Subject.Data` and `Body`, attachments with `RawContent` (base64) and `FileName`, message tags
 *   `[A-Za-z0-9_-]{1,256}`, at most 50 recipients.
 * - Errors in the restJson1 shape: `x-amzn-ErrorType` header and `{ "message" }` body. A sender that is not a
 *   verified identity answers 400 MessageRejected ("Email address is not verified"), as SES does in the sandbox.
 */

const SEND_EMAIL_MEMBERS = new Set([
  'FromEmailAddress',
  'FromEmailAddressIdentityArn',
  'Destination',
  'ReplyToAddresses',
  'FeedbackForwardingEmailAddress',
  'FeedbackForwardingEmailAddressIdentityArn',
  'Content',
  'EmailTags',
  'ConfigurationSetName',
  'EndpointId',
  'TenantName',
  'ListManagementOptions',
  'ConfigurationOverrides',
]);
const MESSAGE_MEMBERS = new Set(['Subject', 'Body', 'Headers', 'Attachments']);
const ATTACHMENT_MEMBERS = new Set([
  'RawContent',
  'ContentDisposition',
  'FileName',
  'ContentDescription',
  'ContentId',
  'ContentTransferEncoding',
  'ContentType',
]);
const TAG = /^[A-Za-z0-9_-]{1,256}$/;

export interface SesMessage {
  readonly messageId: string;
  readonly from: string;
  readonly to: readonly string[];
  readonly subject: string;
  readonly text?: string;
  readonly html?: string;
  readonly attachments: readonly { fileName: string; contentType?: string; content: Buffer }[];
  readonly tags: Readonly<Record<string, string>>;
}

export interface SesStandIn extends HttpStandIn {
  readonly region: string;
  readonly messages: readonly SesMessage[];
  /** Requests that broke the model or the signature rules in a way a correct client never would. */
  readonly violations: readonly string[];
}

export async function startSesStandIn(options: {
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Verified identities (addresses or domains): other senders get MessageRejected. */
  verifiedIdentities: readonly string[];
}): Promise<SesStandIn> {
  const messages: SesMessage[] = [];
  const violations: string[] = [];
  let next = 1;
  const error = (
    status: number,
    type: string,
    message: string,
    headers: Record<string, string> = {},
  ): StandInAnswer => ({
    status,
    json: { message },
    headers: { 'x-amzn-ErrorType': type, 'x-amzn-RequestId': `req-${next++}`, ...headers },
  });
  const bad = (message: string): StandInAnswer => {
    violations.push(message);
    return error(400, 'BadRequestException', message);
  };

  const base = await startHttpStandIn({
    failureAnswer: ({ status, retryAfterSeconds }) =>
      status === 429
        ? error(429, 'TooManyRequestsException', 'Too many requests have been made to the operation.', {
            ...(retryAfterSeconds !== undefined ? { 'retry-after': String(retryAfterSeconds) } : {}),
          })
        : error(status, 'InternalFailure', 'The request processing has failed because of an unknown error.'),
    handle(request) {
      const auth = checkSigV4(request, options);
      if (auth) return auth.type === 'violation' ? bad(auth.message) : error(403, auth.type, auth.message);
      if (request.method !== 'POST' || request.path !== '/v2/email/outbound-emails') {
        return error(404, 'NotFoundException', `No operation at ${request.method} ${request.path}`);
      }
      if (!String(request.headers['content-type'] ?? '').startsWith('application/json')) {
        return bad('Content-Type must be application/json');
      }
      let input: Record<string, unknown>;
      try {
        input = JSON.parse(request.body) as Record<string, unknown>;
      } catch {
        return bad('The body is not JSON');
      }
      for (const name of Object.keys(input)) {
        if (!SEND_EMAIL_MEMBERS.has(name)) return bad(`SendEmailRequest has no member ${name}`);
      }
      const content = input.Content as Record<string, unknown> | undefined;
      if (!content || typeof content !== 'object') return bad('Content is required');
      const kinds = ['Simple', 'Raw', 'Template'].filter((k) => content[k] !== undefined);
      if (kinds.length !== 1) return bad('Content takes exactly one of Simple, Raw, Template');
      const simple = content.Simple as Record<string, unknown> | undefined;
      if (!simple) return bad('this stand-in only takes Simple messages');
      for (const name of Object.keys(simple)) {
        if (!MESSAGE_MEMBERS.has(name)) return bad(`Message has no member ${name}`);
      }
      const subject = (simple.Subject as { Data?: unknown } | undefined)?.Data;
      if (typeof subject !== 'string') return bad('Message.Subject.Data is required');
      const body = simple.Body as { Text?: { Data?: unknown }; Html?: { Data?: unknown } } | undefined;
      if (!body || typeof body !== 'object') return bad('Message.Body is required');
      if (body.Text !== undefined && typeof body.Text.Data !== 'string') return bad('Body.Text.Data is required');
      if (body.Html !== undefined && typeof body.Html.Data !== 'string') return bad('Body.Html.Data is required');
      const attachments: { fileName: string; contentType?: string; content: Buffer }[] = [];
      for (const raw of (simple.Attachments as Record<string, unknown>[] | undefined) ?? []) {
        for (const name of Object.keys(raw)) {
          if (!ATTACHMENT_MEMBERS.has(name)) return bad(`Attachment has no member ${name}`);
        }
        if (typeof raw.RawContent !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(raw.RawContent)) {
          return bad('Attachment.RawContent must be base64');
        }
        if (typeof raw.FileName !== 'string' || raw.FileName === '') return bad('Attachment.FileName is required');
        attachments.push({
          fileName: raw.FileName,
          ...(typeof raw.ContentType === 'string' ? { contentType: raw.ContentType } : {}),
          content: Buffer.from(raw.RawContent, 'base64'),
        });
      }
      const destination = input.Destination as { ToAddresses?: unknown } | undefined;
      const to = destination?.ToAddresses;
      if (!Array.isArray(to) || to.length === 0 || !to.every((a) => typeof a === 'string')) {
        return bad('Destination.ToAddresses must list the recipients');
      }
      if (to.length > 50) return error(400, 'MessageRejected', 'Recipient count exceeds 50.');
      const tags: Record<string, string> = {};
      for (const tag of (input.EmailTags as { Name?: unknown; Value?: unknown }[] | undefined) ?? []) {
        if (
          typeof tag.Name !== 'string' ||
          !TAG.test(tag.Name) ||
          typeof tag.Value !== 'string' ||
          !TAG.test(tag.Value)
        ) {
          return bad('MessageTag Name and Value are 1-256 of A-Z a-z 0-9 _ -');
        }
        tags[tag.Name] = tag.Value;
      }
      const from = typeof input.FromEmailAddress === 'string' ? input.FromEmailAddress : '';
      const address = (/<([^>]+)>\s*$/.exec(from)?.[1] ?? from).trim().toLowerCase();
      const domain = address.split('@')[1] ?? '';
      if (!options.verifiedIdentities.some((identity) => identity === address || identity === domain)) {
        return error(
          400,
          'MessageRejected',
          `Email address is not verified. The following identities failed the check in region ${options.region.toUpperCase()}: ${address}`,
        );
      }
      const messageId = `0100019${String(next++).padStart(6, '0')}-${request.body.length.toString(16)}-000000`;
      return {
        status: 200,
        json: { MessageId: messageId },
        after: () => {
          messages.push({
            messageId,
            from,
            to: to as string[],
            subject,
            ...(typeof body.Text?.Data === 'string' ? { text: body.Text.Data } : {}),
            ...(typeof body.Html?.Data === 'string' ? { html: body.Html.Data } : {}),
            attachments,
            tags,
          });
          base.accepted.push(messageId);
        },
      };
    },
  });
  const resetBase = base.reset.bind(base);
  return Object.assign(base, {
    region: options.region,
    messages,
    violations,
    reset() {
      resetBase();
      messages.length = 0;
      violations.length = 0;
    },
  });
}

type AuthProblem = { type: 'UnrecognizedClientException' | 'InvalidSignatureException' | 'violation'; message: string };

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

/** Signature Version 4, recomputed as the documented algorithm says; undefined when the request is genuine. */
function checkSigV4(
  request: StandInRequest,
  options: { region: string; accessKeyId: string; secretAccessKey: string },
): AuthProblem | undefined {
  const header = String(request.headers.authorization ?? '');
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(
      header,
    );
  if (!match) return { type: 'violation', message: 'Authorization is not an AWS4-HMAC-SHA256 header' };
  const [, keyId, date, region, service, signedHeaderList, signature] = match as unknown as string[];
  if (keyId !== options.accessKeyId) {
    return { type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' };
  }
  if (region !== options.region || service !== 'ses') {
    return { type: 'violation', message: `credential scope ${region}/${service} is not ${options.region}/ses` };
  }
  const amzDate = String(request.headers['x-amz-date'] ?? '');
  if (!/^\d{8}T\d{6}Z$/.test(amzDate) || amzDate.slice(0, 8) !== date) {
    return { type: 'violation', message: 'X-Amz-Date is missing or not the credential scope’s date' };
  }
  const when = Date.parse(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );
  if (!(Math.abs(Date.now() - when) <= 15 * 60_000)) {
    return { type: 'InvalidSignatureException', message: 'Signature expired.' };
  }
  const signedHeaders = signedHeaderList!.split(';');
  if (!signedHeaders.includes('host') || !signedHeaders.includes('x-amz-date')) {
    return { type: 'violation', message: 'SignedHeaders must include host and x-amz-date' };
  }
  const canonicalHeaders = signedHeaders.map((name) => `${name}:${headerValue(request.headers, name)}\n`).join('');
  const canonicalQuery = [...request.search.entries()]
    .map(([k, v]) => [encode(k), encode(v)] as const)
    .sort(([a, av], [b, bv]) => (a === b ? (av < bv ? -1 : 1) : a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const payloadHash = sha256(Buffer.from(request.body, 'utf8'));
  const declared = request.headers['x-amz-content-sha256'];
  if (declared !== undefined && declared !== payloadHash) {
    return { type: 'violation', message: 'x-amz-content-sha256 is not the SHA-256 of the body' };
  }
  const canonicalRequest = [
    request.method,
    request.path.split('/').map(encode).join('/'),
    canonicalQuery,
    canonicalHeaders,
    signedHeaderList,
    payloadHash,
  ].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${options.secretAccessKey}`, date!), region!), service!), 'aws4_request');
  const expected = createHmac('sha256', key).update(stringToSign).digest();
  const given = Buffer.from(signature!, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return {
      type: 'InvalidSignatureException',
      message:
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    };
  }
  return undefined;
}

function headerValue(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name];
  const text = Array.isArray(value) ? value.join(',') : (value ?? '');
  return text.trim().replace(/\s+/g, ' ');
}

/** URI encoding as SigV4 wants it: everything but A-Z a-z 0-9 - _ . ~ percent-encoded. */
function encode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
