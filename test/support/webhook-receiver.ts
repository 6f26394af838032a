import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** One request as an endpoint saw it, with the outcome of the reference verifier (standardwebhooks). */
export interface ReceivedWebhook {
  readonly id: string;
  readonly timestamp: string;
  readonly signature: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly status: number;
  /** Verified with the endpoint's secret by the Standard Webhooks reference library (null: no secret set yet). */
  readonly verified: boolean | null;
}

export interface WebhookReceiver {
  /** `http://127.0.0.1:<port>/hooks`; the port stays the same across `setDown(true)` / `setDown(false)`. */
  readonly url: string;
  readonly received: readonly ReceivedWebhook[];
  /** The webhook-ids answered 2xx, in the order they were accepted (a receiver dedupes by these). */
  readonly accepted: readonly string[];
  /** The secret the verifier uses (shown once by Herald on create). */
  setSecret(secret: string): void;
  /** What the next requests are answered: a status (with Retry-After seconds), or 204 by default. */
  answerWith(status: number, retryAfterSeconds?: number): void;
  /** Down: the port is closed (connection refused); up: listening again on the same port. */
  setDown(down: boolean): Promise<void>;
  close(): Promise<void>;
}

/**
 * A customer's webhook endpoint on loopback: a real HTTP server that checks each request as a Standard Webhooks
 * consumer would (the three headers, the signature by the reference verifier, JSON `{type, timestamp, data}`).
 */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const accepted: string[] = [];
  let verifier: Webhook | null = null;
  let answer = { status: 204, retryAfterSeconds: undefined as number | undefined };
  let server: Server;
  let port = 0;

  const listen = async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const header = (name: string) => String(request.headers[name] ?? '');
        let verified: boolean | null = null;
        if (verifier) {
          try {
            const parsed = verifier.verify(body, {
              'webhook-id': header('webhook-id'),
              'webhook-timestamp': header('webhook-timestamp'),
              'webhook-signature': header('webhook-signature'),
            }) as { type?: unknown; timestamp?: unknown; data?: unknown };
            verified =
              typeof parsed.type === 'string' &&
              typeof parsed.timestamp === 'string' &&
              typeof parsed.data === 'object';
          } catch {
            verified = false;
          }
        }
        const status = verified === false ? 401 : answer.status;
        received.push({
          id: header('webhook-id'),
          timestamp: header('webhook-timestamp'),
          signature: header('webhook-signature'),
          headers: request.headers,
          body,
          status,
          verified,
        });
        if (status >= 200 && status < 300) accepted.push(header('webhook-id'));
        response.writeHead(
          status,
          answer.retryAfterSeconds !== undefined ? { 'retry-after': String(answer.retryAfterSeconds) } : {},
        );
        response.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  };
  const stop = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  await listen();
  let down = false;

  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    accepted,
    setSecret: (secret) => void (verifier = new Webhook(secret)),
    answerWith: (status, retryAfterSeconds) => void (answer = { status, retryAfterSeconds }),
    async setDown(value) {
      if (value === down) return;
      down = value;
      if (value) await stop();
      else await listen();
    },
    async close() {
      if (!down) await stop();
    },
  };
}
