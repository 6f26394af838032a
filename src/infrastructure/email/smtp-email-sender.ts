import { domainToASCII } from 'node:url';
import { createTransport } from 'nodemailer';
import type { NodemailerError, SendMailOptions } from 'nodemailer';
import type { Clock } from '../../application/ports/clock.port.js';
import {
  DeliveryError,
  type EmailMessage,
  type EmailSender,
  type ProviderAcceptance,
} from '../../application/ports/email-sender.port.js';
import type { Logger } from '../../application/ports/logger.port.js';

export interface SmtpEmailSenderOptions {
  /** `smtp://user:pass@host:port` or `smtps://...`, as accepted by nodemailer. */
  readonly url: string;
  readonly clock: Clock;
  /** Bounds connecting, the greeting and every silence on the socket. Default 30 s. */
  readonly timeoutMs?: number;
  readonly logger?: Logger;
}

export interface SmtpAcceptance extends ProviderAcceptance {
  /** The queue id from the server's final reply (`250 ... queued as X`), for log correlation. */
  readonly serverQueueId?: string;
}

export interface SmtpEmailSender extends EmailSender {
  send(message: EmailMessage): Promise<SmtpAcceptance>;
}

/**
 * The Message-ID an idempotency key gets: the same key always gives the same id, so a resend after a crash is
 * recognisable (receivers and our own audit can dedupe on it). Characters a msg-id may not hold are
 * percent-encoded as UTF-8 bytes (the '%' and '.' too), which keeps the mapping one-to-one.
 */
export function messageIdFor(idempotencyKey: string): string {
  const local = idempotencyKey.replace(/[^A-Za-z0-9!#$&'*+\-/=?^_`{|}~]/gu, (c) =>
    [...Buffer.from(c, 'utf8')].map((b) => '%' + b.toString(16).toUpperCase().padStart(2, '0')).join(''),
  );
  return `<${local}@herald>`;
}

/**
 * An address as SMTP carries it. An internationalised domain becomes its punycode A-label (`user@exämple.com` ->
 * `user@xn--exmple-cua.com`), which every server accepts. A non-ASCII local part cannot be written in ASCII: it is
 * left in UTF-8 and nodemailer sends `MAIL FROM:<…> SMTPUTF8` (RFC 6531) when the server offers the extension; a
 * server that does not refuses the recipient, which is a permanent failure with the server's reason.
 */
export function smtpAddress(address: string): string {
  const at = address.lastIndexOf('@');
  if (at < 0) return address;
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(domain) || /[^\x00-\x7f]/.test(local)) return address;
  const ascii = domainToASCII(domain);
  return ascii === '' ? address : `${local}@${ascii}`;
}

/** The nodemailer message both the SMTP and the outbox adapter send, so the outbox shows what SMTP would carry. */
export function composeMail(message: EmailMessage, date: Date): SendMailOptions {
  const from = smtpAddress(message.from.address);
  return {
    messageId: messageIdFor(message.idempotencyKey),
    date,
    from: message.from.name ? { name: message.from.name, address: from } : from,
    to: smtpAddress(message.to),
    subject: message.subject,
    text: message.text,
    ...(message.html !== undefined ? { html: message.html } : {}),
    ...(message.calendar
      ? { icalEvent: { method: message.calendar.method, filename: 'invite.ics', content: message.calendar.content } }
      : {}),
    ...(message.attachments && message.attachments.length > 0
      ? {
          attachments: message.attachments.map((attachment) => ({
            filename: attachment.filename,
            contentType: attachment.contentType,
            content: Buffer.from(attachment.content),
          })),
        }
      : {}),
    ...(message.headers ? { headers: { ...message.headers } } : {}),
    // Quoted-printable rather than base64 keeps non-ASCII bodies readable in the raw message (and the outbox).
    textEncoding: 'quoted-printable',
    // Message content comes from templates, never from paths or URLs: refuse both so nothing can be read in.
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}

export function createSmtpEmailSender(options: SmtpEmailSenderOptions): SmtpEmailSender {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const transporter = createTransport({
    url: options.url,
    pool: true,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  // A pooled connection failing between sends is reported here; without a listener it would crash the process.
  transporter.on('error', (err: NodemailerError) =>
    options.logger?.warn({ code: err.code, responseCode: err.responseCode }, 'smtp transport error'),
  );

  return {
    channel: 'email',
    async send(message) {
      let info;
      try {
        info = await transporter.sendMail(composeMail(message, options.clock.now()));
      } catch (err) {
        throw toDeliveryError(err);
      }
      const serverQueueId = /queued as ([A-Za-z0-9._-]+)/i.exec(info.response)?.[1];
      return {
        providerMessageId: info.messageId,
        acceptedAt: options.clock.now().toISOString(),
        ...(serverQueueId ? { serverQueueId } : {}),
      };
    },
    async close() {
      transporter.close();
    },
  };
}

/** Codes of failures on the way to the server: nothing was refused, so a later attempt may get through. */
const NETWORK_CODES = new Set([
  'ECONNECTION',
  'ESOCKET',
  'ETIMEDOUT',
  'EDNS',
  'EPROXY',
  'EABORT',
  'EMAXLIMIT',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

function toDeliveryError(err: unknown): DeliveryError {
  const e = (err ?? {}) as NodemailerError;
  const reason = e.response ?? e.message ?? String(err);
  let result: DeliveryError;
  if (typeof e.responseCode === 'number') {
    // RFC 5321: 4yz is a transient refusal (421, 450, 451, 452), 5yz permanent (550, 553, 501). 503 is a session
    // state problem rather than a verdict on the message, so it is retried; nodemailer's `permanent` says the same.
    const permanent = e.permanent ?? (e.responseCode >= 500 && e.responseCode !== 503);
    result = new DeliveryError(`SMTP ${e.responseCode}: ${reason}`, !permanent, String(e.responseCode));
  } else {
    const code = e.originalCode ?? e.code;
    const transient = NETWORK_CODES.has(e.code ?? '') || NETWORK_CODES.has(code ?? '');
    // Anything else (bad envelope, configuration, TLS or credential setup) fails the same way on every attempt.
    result = new DeliveryError(`SMTP ${code ?? 'error'}: ${reason}`, transient);
  }
  result.cause = err;
  return result;
}
