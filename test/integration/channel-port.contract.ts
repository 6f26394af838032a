import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type {
  ChannelAdapter,
  OutboundMessage,
  SendOutcome,
  StatusWebhook,
  WebhookRequest,
} from '../../src/application/ports/channel.port.js';

/**
 * The behaviour every adapter of the channel port must have, run against the provider's loopback stand-in (which
 * checks the provider's published schema or documented fields and its auth headers):
 *
 * - a message the provider takes is `accepted` with the provider's id, after exactly one request;
 * - a refusal of the message (4xx) is `permanent` with the provider's reason, and so are wrong credentials;
 * - 5xx, 429 and an unreachable provider are `retryable`; a 429's Retry-After (or the provider's equivalent) comes
 *   back as `retryAfterMs`;
 * - the adapter never throws, whatever the provider does;
 * - where the provider has status callbacks: a genuine one verifies and parses to the message's id and status, a
 *   tampered one or one signed with another secret does not verify.
 */

export interface ChannelUnderTest {
  readonly adapter: ChannelAdapter;
  /** The same adapter with credentials the provider refuses (absent: the stand-in has no authentication). */
  readonly wrongCredentials?: ChannelAdapter;
  /** A message the provider takes (`n` makes it unique). */
  message(n: number): OutboundMessage;
  /** A message the provider refuses for what it is (an unknown recipient, a blocked chat...). */
  refusedMessage(): OutboundMessage;
  /** Requests the stand-in received so far. */
  requests(): number;
  failNext(count: number, status: number, retryAfterSeconds?: number): void;
  setDown(down: boolean): Promise<void>;
  /** Does the provider tell when to retry on 429? (SMTP has no such thing.) */
  readonly retryAfter: boolean;
  /** Contract problems the stand-in saw in requests or its own answers (must stay empty). */
  violations(): readonly string[];
  readonly statusCallbacks?: {
    readonly webhook: StatusWebhook;
    readonly secret: string;
    /** Makes the stand-in post a status for this provider message to `url` (signed with `secret` when given). */
    post(
      url: string,
      providerMessageId: string,
      status: 'delivered' | 'failed',
      options?: { secret?: string; tamper?: boolean },
    ): Promise<void>;
    /** The report the status should parse to. */
    readonly expected: { delivered: string; failed: string };
  };
}

export interface ChannelHarness {
  /** The provider posts status callbacks (its `ChannelUnderTest` has `statusCallbacks`). */
  readonly statusCallbacks: boolean;
  /** The provider authenticates requests (its `ChannelUnderTest` has `wrongCredentials`). */
  readonly credentials: boolean;
  setUp(): Promise<ChannelUnderTest>;
  tearDown(): Promise<void>;
}

/** A receiver for status callbacks: keeps the raw request as the HTTP edge would get it. */
async function startCatcher() {
  const caught: WebhookRequest[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers = Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : v]),
      );
      caught.push({
        rawBody: Buffer.concat(chunks),
        headers,
        url: `http://${req.headers.host ?? ''}${req.url ?? '/'}`,
      });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/status`,
    caught,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export function channelPortContract(name: string, harness: ChannelHarness): void {
  describe(`channel port contract: ${name}`, () => {
    let t: ChannelUnderTest;
    let n = 0;
    beforeAll(async () => {
      t = await harness.setUp();
    });
    afterAll(async () => {
      await harness.tearDown();
    });
    beforeEach(() => {
      n += 1;
    });

    const accepted = (outcome: SendOutcome) => {
      expect(outcome, JSON.stringify(outcome)).toMatchObject({ outcome: 'accepted' });
      return outcome as Extract<SendOutcome, { outcome: 'accepted' }>;
    };

    it('accepts a message the provider takes, with the provider’s id, after exactly one request', async () => {
      const before = t.requests();
      const outcome = accepted(await t.adapter.send(t.message(n)));
      expect(outcome.providerMessageId).not.toBe('');
      expect(Number.isNaN(Date.parse(outcome.acceptedAt))).toBe(false);
      expect(t.requests() - before).toBe(1);
      expect(t.violations()).toEqual([]);
    });

    it('gives distinct ids to distinct messages', async () => {
      const a = accepted(await t.adapter.send(t.message(n)));
      const b = accepted(await t.adapter.send(t.message(n + 1000)));
      expect(a.providerMessageId).not.toBe(b.providerMessageId);
    });

    it('is permanent, with the provider’s reason, when the provider refuses the message', async () => {
      const outcome = await t.adapter.send(t.refusedMessage());
      expect(outcome.outcome).toBe('permanent');
      expect((outcome as { reason: string }).reason.length).toBeGreaterThan(5);
    });

    if (harness.credentials) {
      it('is permanent when the credentials are wrong (the provider checks the auth header)', async () => {
        const before = t.requests();
        const outcome = await t.wrongCredentials!.send(t.message(n));
        expect(outcome.outcome).toBe('permanent');
        expect(t.requests() - before).toBe(1);
      });
    }

    it('is retryable on a server error, and the next attempt goes through', async () => {
      t.failNext(1, 503);
      const failed = await t.adapter.send(t.message(n));
      expect(failed.outcome).toBe('retryable');
      accepted(await t.adapter.send(t.message(n)));
    });

    it('is retryable on 429, with the provider’s Retry-After as retryAfterMs', async () => {
      t.failNext(1, 429, 7);
      const outcome = await t.adapter.send(t.message(n));
      expect(outcome.outcome).toBe('retryable');
      if (t.retryAfter) {
        const after = (outcome as { retryAfterMs?: number }).retryAfterMs;
        // SendGrid's X-RateLimit-Reset is a whole second: up to one second less than asked.
        expect(after).toBeGreaterThanOrEqual(5_500);
        expect(after).toBeLessThanOrEqual(7_000);
      }
    });

    it('is retryable, and does not throw, when the provider cannot be reached', async () => {
      await t.setDown(true);
      try {
        const outcome = await t.adapter.send(t.message(n));
        expect(outcome.outcome).toBe('retryable');
      } finally {
        await t.setDown(false);
      }
    });

    if (harness.statusCallbacks) {
      it('status callbacks: verifies and parses a genuine one, refuses a tampered one or another secret', async () => {
        const callbacks = t.statusCallbacks!;
        const catcher = await startCatcher();
        try {
          const sent = accepted(await t.adapter.send(t.message(n)));
          await callbacks.post(catcher.url, sent.providerMessageId, 'delivered');
          await callbacks.post(catcher.url, sent.providerMessageId, 'failed');
          await callbacks.post(catcher.url, sent.providerMessageId, 'delivered', { tamper: true });
          await callbacks.post(catcher.url, sent.providerMessageId, 'delivered', {
            secret: 'another-secret-0123456789',
          });
          const [delivered, failed, tampered, foreign] = catcher.caught;
          expect(callbacks.webhook.verify(delivered!, callbacks.secret)).toBe(true);
          expect(callbacks.webhook.verify(failed!, callbacks.secret)).toBe(true);
          expect(callbacks.webhook.verify(tampered!, callbacks.secret)).toBe(false);
          expect(callbacks.webhook.verify(foreign!, callbacks.secret)).toBe(false);
          expect(callbacks.webhook.parse(delivered!)).toEqual([
            expect.objectContaining({
              providerMessageId: sent.providerMessageId,
              status: callbacks.expected.delivered,
            }),
          ]);
          expect(callbacks.webhook.parse(failed!)).toEqual([
            expect.objectContaining({ providerMessageId: sent.providerMessageId, status: callbacks.expected.failed }),
          ]);
        } finally {
          await catcher.close();
        }
      });
    }
  });
}
