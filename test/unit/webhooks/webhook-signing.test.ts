import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { webhookPayload } from '../../../src/application/webhooks/published-events.js';
import { signWebhook } from '../../../src/infrastructure/webhooks/webhook-http-transport.js';
import { createWebhookHttpTransport } from '../../../src/infrastructure/webhooks/webhook-http-transport.js';

describe('webhook signing (Standard Webhooks)', () => {
  it('verifies with the reference library (standardwebhooks), and fails when the body or the id changes', () => {
    const transport = createWebhookHttpTransport({
      guard: { allowHttp: false, allowLoopback: false },
      timeoutMs: 1000,
    });
    const secret = transport.newSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const id = 'msg_0123456789abcdef0123456789abcdef';
    const timestamp = Math.floor(Date.now() / 1000);
    const body = JSON.stringify({ type: 'ReservationConfirmed', timestamp: new Date().toISOString(), data: { a: 1 } });
    const headers = {
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signWebhook(secret, id, timestamp, body),
    };
    const verifier = new Webhook(secret);
    expect(verifier.verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => verifier.verify(body.replace('"a":1', '"a":2'), headers)).toThrow();
    expect(() => verifier.verify(body, { ...headers, 'webhook-id': 'msg_other' })).toThrow();
    expect(() => new Webhook(transport.newSecret()).verify(body, headers)).toThrow();
  });

  it('refuses http, loopback, private and link-local URLs unless the settings allow them', () => {
    const strict = createWebhookHttpTransport({ guard: { allowHttp: false, allowLoopback: false }, timeoutMs: 1000 });
    expect(strict.refusal('https://hooks.example.com/x')).toBeNull();
    expect(strict.refusal('http://hooks.example.com/x')).toMatch(/https/);
    for (const url of [
      'https://127.0.0.1/x',
      'https://10.1.2.3/x',
      'https://169.254.169.254/latest',
      'https://[::1]/x',
      'https://192.168.1.1/',
    ])
      expect(strict.refusal(url), url).not.toBeNull();
    const tests = createWebhookHttpTransport({ guard: { allowHttp: true, allowLoopback: true }, timeoutMs: 1000 });
    expect(tests.refusal('http://127.0.0.1:8080/x')).toBeNull();
    expect(tests.refusal('http://10.0.0.1/x')).not.toBeNull();
  });

  it('publishes the payload with the aggregate id and without anything that looks like a secret', () => {
    const payload = webhookPayload({
      id: 'e1',
      streamName: 'reservation-acme+r-1',
      type: 'ReservationConfirmed',
      data: { reservation: { customer: { name: 'Ada' }, accessToken: 'x' }, confirmedAt: '2026-01-01T00:00:00Z' },
      metadata: { tenantId: 'acme' },
      revision: 1n,
      position: 7n,
      recordedAt: '2026-01-01T00:00:01.000Z',
    });
    expect(payload).toEqual({
      type: 'ReservationConfirmed',
      timestamp: '2026-01-01T00:00:01.000Z',
      data: { reservationId: 'r-1', reservation: { customer: { name: 'Ada' } }, confirmedAt: '2026-01-01T00:00:00Z' },
    });
  });
});
