import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CAMPAIGN_BATCH_JOB } from '../../src/application/messages/campaign-runner.js';
import { aReservation, startTestHerald, type TestHerald } from '../support/test-herald.js';

let herald: TestHerald;

beforeAll(async () => {
  herald = await startTestHerald({ env: { CAMPAIGN_SMS_PER_SECOND: '4', CAMPAIGN_EMAIL_PER_SECOND: '1000' } });
});
afterAll(async () => {
  await herald.stop();
});

async function customers(auth: Record<string, string>, prefix: string, count: number, start: string) {
  for (let i = 0; i < count; i++) {
    const response = await herald.app.inject({
      method: 'POST',
      url: '/v1/reservations',
      headers: auth,
      payload: aReservation({
        customer: {
          name: `${prefix} ${i}`,
          phone: `+4207773${prefix === 'a' ? '1' : '2'}${String(i).padStart(4, '0')}`,
          locale: 'en',
        },
        start,
        end: new Date(Date.parse(start) + 3_600_000).toISOString(),
      }),
    });
    expect(response.statusCode, response.body).toBe(201);
  }
  await herald.settle();
}

const campaign = (start: string) => ({
  name: 'Pool closed',
  audience: { type: 'reservations', filter: { from: start, to: new Date(Date.parse(start) + 60_000).toISOString() } },
  message: { sms: { text: 'The pool is closed today, {{customerName}}.' } },
});

describe('campaign throttle and cancellation', () => {
  it('sends no more SMS a second than configured: 10 recipients at 4/s take three batches a second apart', async () => {
    const auth = await herald.keyFor('throttle-a');
    const start = '2030-10-01T08:00:00Z';
    await customers(auth, 'a', 10, start);
    const before = herald.sms.sent.length;
    const created = await herald.app.inject({
      method: 'POST',
      url: '/v1/campaigns',
      headers: auth,
      payload: campaign(start),
    });
    expect(created.statusCode, created.body).toBe(201);
    const campaignId = created.json().campaignId;
    await vi.waitFor(
      async () => {
        await herald.settle();
        const view = await herald.app.inject({ method: 'GET', url: `/v1/campaigns/${campaignId}`, headers: auth });
        expect(view.json().status).toBe('completed');
      },
      { timeout: 15_000, interval: 50 },
    );
    await herald.settle();
    const sent = herald.sms.sent.slice(before).filter((m) => m.to.startsWith('+4207773'));
    expect(sent).toHaveLength(10);
    const times = sent
      .map((m) => Date.parse((m as unknown as { acceptedAt: string }).acceptedAt))
      .sort((a, b) => a - b);
    // Never more than 4 within any second.
    for (let i = 4; i < times.length; i++) expect(times[i]! - times[i - 4]!).toBeGreaterThanOrEqual(900);
    // Three batches: 4 + 4 + 2, the last about two seconds after the first.
    expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual(1_800);
    expect(times.at(-1)! - times[0]!).toBeLessThan(8_000);
  });

  it('cancelled while it runs: no batch follows, and the deliveries are exactly the recipients already processed', async () => {
    const auth = await herald.keyFor('throttle-b');
    const start = '2030-10-02T08:00:00Z';
    await customers(auth, 'b', 10, start);
    const created = await herald.app.inject({
      method: 'POST',
      url: '/v1/campaigns',
      headers: auth,
      payload: campaign(start),
    });
    const campaignId = created.json().campaignId as string;
    // Wait for the first batch only, then cancel.
    await vi.waitFor(
      async () => {
        await herald.settle();
        const view = await herald.app.inject({ method: 'GET', url: `/v1/campaigns/${campaignId}`, headers: auth });
        expect(view.json().progress.sms.processed).toBeGreaterThan(0);
      },
      { timeout: 15_000, interval: 20 },
    );
    const cancelled = await herald.app.inject({
      method: 'POST',
      url: `/v1/campaigns/${campaignId}/cancel`,
      headers: auth,
      payload: { reason: 'wrong day' },
    });
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect(cancelled.json().status).toBe('cancelled');
    await herald.settle();
    const pending = await herald.adapters.scheduler.pending({ name: CAMPAIGN_BATCH_JOB, tenantId: 'throttle-b' });
    expect(pending).toEqual([]);
    const view = (await herald.app.inject({ method: 'GET', url: `/v1/campaigns/${campaignId}`, headers: auth })).json();
    expect(view.progress.sms.processed).toBeLessThan(10);
    const deliveries = (
      await herald.app.inject({ method: 'GET', url: `/v1/deliveries?campaignId=${campaignId}`, headers: auth })
    ).json().items;
    expect(deliveries).toHaveLength(view.progress.sms.processed);
    // Cancelling again is harmless.
    const again = await herald.app.inject({
      method: 'POST',
      url: `/v1/campaigns/${campaignId}/cancel`,
      headers: auth,
      payload: {},
    });
    expect(again.statusCode).toBe(200);
  });
});
