import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { untilReceived } from './until-received.js';

/**
 * The loop of every HTTP provider stand-in (SendGrid, WhatsApp, Telegram): a real server on 127.0.0.1, bounded
 * bodies, injected failures (`failNext`, `setDown`), recorded requests. What a provider accepts and answers is the
 * provider stand-in's `handle`, which validates against the provider's published schema or documented fields.
 */

export interface StandInRequest {
  readonly method: string;
  readonly path: string;
  readonly search: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface StandInAnswer {
  readonly status: number;
  readonly json?: unknown;
  /** A plain-text body (Slack answers `ok` or an error word), when there is no `json`. */
  readonly text?: string;
  readonly headers?: Record<string, string>;
  /** Runs after the answer was written (e.g. record the accepted message). */
  readonly after?: () => void;
}

export interface Failure {
  readonly status: number;
  readonly retryAfterSeconds?: number;
}

export interface HttpStandIn {
  readonly url: string;
  /** Every request received, failed ones included. */
  readonly requests: readonly StandInRequest[];
  /** The next `count` requests get this failure (in the provider's error shape, from `failureAnswer`). */
  failNext(count: number, status: number, retryAfterSeconds?: number): void;
  setDown(down: boolean): Promise<void>;
  /** Resolves once `count` requests were accepted (`accepted` grows in the provider's `after`). */
  waitForAccepted(count: number, timeoutMs?: number): Promise<unknown[]>;
  readonly accepted: unknown[];
  reset(): void;
  close(): Promise<void>;
}

export async function startHttpStandIn(options: {
  handle(request: StandInRequest): StandInAnswer;
  failureAnswer(failure: Failure): StandInAnswer;
  maxBodyBytes?: number;
}): Promise<HttpStandIn> {
  const requests: StandInRequest[] = [];
  const accepted: unknown[] = [];
  const waiters = new Set<() => void>();
  let failures: { remaining: number; failure: Failure } | undefined;
  const maxBody = options.maxBodyBytes ?? 1024 * 1024;

  const server = createServer((req, res) => {
    readBody(req, maxBody).then(
      (body) => respond(req, res, body),
      () => {
        res.writeHead(413).end();
      },
    );
  });

  function respond(req: IncomingMessage, res: ServerResponse, body: string): void {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const request: StandInRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      search: url.searchParams,
      headers: req.headers,
      body,
    };
    requests.push(request);
    let answer: StandInAnswer;
    if (failures && failures.remaining > 0) {
      failures.remaining -= 1;
      answer = options.failureAnswer(failures.failure);
    } else {
      answer = options.handle(request);
    }
    res.writeHead(answer.status, {
      ...(answer.json !== undefined ? { 'content-type': 'application/json; charset=utf-8' } : {}),
      ...(answer.json === undefined && answer.text !== undefined
        ? { 'content-type': 'text/plain; charset=utf-8' }
        : {}),
      ...answer.headers,
    });
    res.end(answer.json !== undefined ? JSON.stringify(answer.json) : answer.text);
    answer.after?.();
    for (const wake of waiters) wake();
  }

  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  const port = await listen(0);
  let down = false;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    accepted,
    failNext(count, status, retryAfterSeconds) {
      failures = {
        remaining: count,
        failure: { status, ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}) },
      };
    },
    async setDown(value) {
      if (value === down) return;
      down = value;
      if (value) await stop();
      else await listen(port);
    },
    waitForAccepted(count, timeoutMs = 5_000) {
      return untilReceived(accepted, waiters, count, timeoutMs);
    },
    reset() {
      requests.length = 0;
      accepted.length = 0;
      failures = undefined;
    },
    async close() {
      if (!down) await stop();
    },
  };
}

function readBody(req: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        reject(new Error('too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** `Authorization: Bearer <token>` with exactly this token. */
export function hasBearer(headers: IncomingHttpHeaders, token: string): boolean {
  return headers.authorization === `Bearer ${token}`;
}
