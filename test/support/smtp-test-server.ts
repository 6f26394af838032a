import { randomBytes } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerError } from 'smtp-server';
import { untilReceived } from './until-received.js';

/** A message as a mailbox would show it, parsed by mailparser. */
export interface ParsedEmail {
  readonly from?: { readonly name: string; readonly address: string };
  readonly to: readonly string[];
  readonly subject?: string;
  readonly text?: string;
  readonly html?: string;
  readonly messageId?: string;
  readonly headers: ParsedMail['headers'];
  readonly attachments: readonly ReceivedAttachment[];
  readonly raw: Buffer;
}

/** A message as this server received it: the SMTP envelope plus the parsed content. */
export interface ReceivedEmail extends ParsedEmail {
  readonly envelope: {
    readonly mailFrom: string;
    readonly rcptTo: readonly string[];
    /** Whether MAIL FROM declared SMTPUTF8 (RFC 6531). */
    readonly smtpUtf8: boolean;
  };
  /** The queue id the server answered with (`250 Message queued as <id>`). */
  readonly queueId: string;
}

export interface ReceivedAttachment {
  readonly contentType: string;
  readonly filename?: string;
  /** For text/calendar parts: the `method` parameter of the Content-Type (REQUEST, CANCEL). */
  readonly method?: string;
  readonly content: Buffer;
}

/**
 * - `refuse`: the port stops listening, connections are refused (the server process is gone).
 * - `reply421`: connections get `421 Service not available` instead of a greeting (the server is overloaded).
 * - `hang`: connections are accepted and never greeted (a stuck server or a black-holing firewall).
 */
export type SmtpDownMode = 'refuse' | 'reply421' | 'hang';

export interface SmtpTestServer {
  /** `smtp://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly messages: readonly ReceivedEmail[];
  /** Every MAIL FROM and RCPT TO line as clients sent it (the server itself shows domains decoded). */
  readonly envelopeCommands: readonly string[];
  waitForMessages(count: number, timeoutMs?: number): Promise<ReceivedEmail[]>;
  /** The next `count` messages are refused with `code message` after DATA (where content and policy checks run). */
  failNext(count: number, code: number, message: string): void;
  /** Refuse this recipient at RCPT TO (550 5.1.1 by default: mailbox unavailable). */
  rejectRecipient(address: string, code?: number, message?: string): void;
  setDown(down: boolean, mode?: SmtpDownMode): Promise<void>;
  /** Clears messages and injected faults. */
  reset(): void;
  close(): Promise<void>;
}

export interface SmtpTestServerOptions {
  readonly host?: string;
  readonly port?: number;
  /** Do not offer SMTPUTF8 in the EHLO answer, like servers without RFC 6531 support. */
  readonly hideSmtpUtf8?: boolean;
}

export async function startSmtpTestServer(opts: SmtpTestServerOptions = {}): Promise<SmtpTestServer> {
  const host = opts.host ?? '127.0.0.1';
  const messages: ReceivedEmail[] = [];
  const waiters = new Set<() => void>();
  const sockets = new Set<Socket>();
  const rejected = new Map<string, { code: number; message: string }>();
  const envelopeCommands: string[] = [];
  let failures: { remaining: number; code: number; message: string } | undefined;
  let down: SmtpDownMode | undefined;

  const smtpError = (code: number, message: string): SMTPServerError =>
    Object.assign(new Error(message), { responseCode: code });

  const server = new SMTPServer({
    // A loopback stand-in: no TLS to negotiate, no credentials to check.
    secure: false,
    disabledCommands: ['STARTTLS', 'AUTH'],
    hideSMTPUTF8: opts.hideSmtpUtf8 ?? false,
    authOptional: true,
    allowInsecureAuth: true,
    logger: false,
    closeTimeout: 100,
    onConnect(_session, callback) {
      if (down === 'hang') return; // never greet
      if (down === 'reply421') return callback(smtpError(421, 'Service not available, try again later'));
      callback();
    },
    onRcptTo(address, _session, callback) {
      const refusal = rejected.get(address.address.toLowerCase());
      callback(refusal ? smtpError(refusal.code, refusal.message) : undefined);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (failures && failures.remaining > 0) {
          failures.remaining -= 1;
          return callback(smtpError(failures.code, failures.message));
        }
        parseEmail(Buffer.concat(chunks)).then(
          (parsed) => {
            const queueId = randomBytes(5).toString('hex').toUpperCase();
            const { mailFrom, rcptTo } = session.envelope;
            const envelope = {
              mailFrom: mailFrom ? mailFrom.address : '',
              rcptTo: rcptTo.map((r) => r.address),
              smtpUtf8: session.envelope.smtpUtf8 === true,
            };
            messages.push({ ...parsed, envelope, queueId });
            for (const wake of waiters) wake();
            callback(null, `Message queued as ${queueId}`);
          },
          (err: Error) => callback(smtpError(554, `Unparseable message: ${err.message}`)),
        );
      });
    },
  });
  server.on('error', () => undefined); // connection-level noise from faults we inject ourselves
  server.server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    let pending = '';
    socket.on('data', (chunk: Buffer) => {
      // Only the command lines; message data passes through too but never starts with these verbs at a line start
      // that matters here (the tests send no such text).
      pending += chunk.toString('utf8');
      const lines = pending.split('\r\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (/^(MAIL FROM|RCPT TO):/i.test(line)) envelopeCommands.push(line);
    });
    socket.once('close', () => sockets.delete(socket));
  });

  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(port, host, () => {
        server.server.off('error', reject);
        resolve((server.server.address() as AddressInfo).port);
      });
    });
  const stopListening = () => new Promise<void>((resolve) => server.server.close(() => resolve()));
  const dropConnections = () => {
    for (const socket of sockets) socket.destroy();
  };

  const port = await listen(opts.port ?? 0);

  return {
    url: `smtp://${host}:${port}`,
    port,
    messages,
    envelopeCommands,
    waitForMessages(count, timeoutMs = 5_000) {
      return untilReceived(messages, waiters, count, timeoutMs);
    },
    failNext(count, code, message) {
      failures = { remaining: count, code, message };
    },
    rejectRecipient(address, code = 550, message = '5.1.1 Mailbox unavailable') {
      rejected.set(address.toLowerCase(), { code, message });
    },
    async setDown(isDown, mode = 'refuse') {
      const wasRefusing = down === 'refuse';
      down = isDown ? mode : undefined;
      // Pooled clients keep their connections: drop them, or "down" would only affect new ones.
      dropConnections();
      if (isDown && mode === 'refuse' && !wasRefusing) await stopListening();
      if (!isDown && wasRefusing) await listen(port);
    },
    reset() {
      messages.length = 0;
      envelopeCommands.length = 0;
      rejected.clear();
      failures = undefined;
    },
    async close() {
      down = undefined;
      dropConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Parses a raw RFC 5322 message into what the contract tests assert on (also used for the outbox's .eml files). */
export async function parseEmail(raw: Buffer): Promise<ParsedEmail> {
  const parsed = await simpleParser(raw);
  const from = parsed.from?.value[0];
  const toObjects = parsed.to === undefined ? [] : Array.isArray(parsed.to) ? parsed.to : [parsed.to];
  return {
    ...(from ? { from: { name: from.name, address: from.address ?? '' } } : {}),
    to: toObjects.flatMap((o) => o.value.map((a) => a.address ?? '')),
    ...(parsed.subject !== undefined ? { subject: parsed.subject } : {}),
    ...(parsed.text !== undefined ? { text: parsed.text } : {}),
    ...(typeof parsed.html === 'string' ? { html: parsed.html } : {}),
    ...(parsed.messageId !== undefined ? { messageId: parsed.messageId } : {}),
    headers: parsed.headers,
    attachments: parsed.attachments.map((a) => {
      const contentType = a.headers.get('content-type');
      const method =
        typeof contentType === 'object' && contentType !== null && 'params' in contentType
          ? (contentType.params as Record<string, string>)['method']
          : undefined;
      return {
        contentType: a.contentType,
        ...(a.filename !== undefined ? { filename: a.filename } : {}),
        ...(method !== undefined ? { method } : {}),
        content: a.content,
      };
    }),
    raw,
  };
}
