import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reservationStreamName } from '../src/domain/booking/reservation.decider.js';
import { loadConfig } from '../src/infrastructure/config.js';
import { systemClock } from '../src/infrastructure/system-clock.js';
import { createAdapters } from '../src/interfaces/adapters.js';
import { createHerald } from '../src/interfaces/herald.js';
import { API_KEY, TWILIO } from '../test/support/herald-harness.js';
import { silentLogger } from '../test/support/silent-logger.js';
import { nowMs, type Servers } from './bench-support.js';

export interface CampaignBenchOptions {
  /** Recipients (customers of as many reservations). */
  readonly recipients: number;
  /** CAMPAIGN_SMS_PER_SECOND and CAMPAIGN_EMAIL_PER_SECOND. */
  readonly ratePerSecond: number;
  readonly channels: readonly ('sms' | 'email')[];
  readonly log: (line: string) => void;
}

export interface CampaignBenchResult {
  readonly recipients: number;
  readonly channels: string;
  readonly ratePerSecond: number;
  /** POST /v1/campaigns answered (recipients resolved, recorded in chunks, started). */
  readonly createMs: number;
  /** POST sent → the first message accepted by a server. */
  readonly firstMessageMs: number;
  /** POST sent → the last message accepted. */
  readonly completeMs: number;
  /** recipients / rate: the time the throttle allows at best. */
  readonly idealMs: number;
  /** Recipients per second per channel, from the POST to the last message. */
  readonly achievedPerSecond: number;
  readonly messages: { readonly sms: number; readonly email: number };
}

/**
 * A campaign of `recipients` customers through the embedded Herald (as main.ts builds it) to the SMTP server and the
 * Twilio stand-in, throttled to `ratePerSecond` per channel. The customers are recorded first as reservations that
 * already took place (imports: no messages of their own, decision 0011), then the campaign is POSTed over HTTP.
 * Measured at the servers: when the first and the last campaign message were accepted.
 */
export async function runCampaignBench(servers: Servers, options: CampaignBenchOptions): Promise<CampaignBenchResult> {
  servers.reset();
  const dataDir = await mkdtemp(join(tmpdir(), 'herald-bench-campaign-'));
  const logger = silentLogger();
  const config = loadConfig({
    DATA_DIR: dataDir,
    BOOTSTRAP_API_KEY: API_KEY,
    RATE_LIMIT_PER_KEY: '0',
    SMTP_URL: servers.smtp.url,
    TWILIO_ACCOUNT_SID: TWILIO.accountSid,
    TWILIO_AUTH_TOKEN: TWILIO.authToken,
    TWILIO_FROM: TWILIO.from,
    TWILIO_API_URL: servers.twilio.url,
    CAMPAIGN_SMS_PER_SECOND: String(options.ratePerSecond),
    CAMPAIGN_EMAIL_PER_SECOND: String(options.ratePerSecond),
  });
  const adapters = await createAdapters(config, logger, systemClock);
  const herald = await createHerald({ config, adapters, logger });
  await herald.start();
  try {
    // --- The audience: N customers with a reservation that ended last month (recorded, never messaged).
    const seeded = nowMs();
    const start = '2026-01-15T09:00:00.000Z';
    for (let i = 0; i < options.recipients; i++) {
      const reservationId = `bench-${i}`;
      await adapters.eventStore.appendToStream(
        reservationStreamName('default', reservationId),
        [
          {
            id: randomUUID(),
            type: 'ReservationConfirmed',
            data: {
              reservationId,
              source: 'external',
              reservation: {
                reservationId,
                tenantId: 'default',
                source: 'external',
                customer: {
                  id: `member-${i}`,
                  name: `Member ${i}`,
                  email: `member-${i}@example.test`,
                  phone: `+1415${String(7_000_000 + i).padStart(7, '0')}`,
                  locale: 'en',
                },
                serviceId: null,
                serviceName: 'Spin class',
                resourceId: null,
                locationId: null,
                location: { name: 'Studio Harbour', address: '1 Pier Road, New York', timeZone: 'America/New_York' },
                start,
                end: '2026-01-15T10:00:00.000Z',
                partySize: 1,
                requiresConfirmation: false,
                external: { system: 'import', reference: reservationId },
              },
              confirmedAt: '2026-01-20T09:00:00.000Z',
              actor: 'bench',
              historical: true,
            },
            metadata: { tenantId: 'default', actor: 'bench' },
          },
        ],
        'no_stream',
      );
    }
    await herald.settle(600_000);
    options.log(`campaign: ${options.recipients} customers recorded in ${((nowMs() - seeded) / 1000).toFixed(1)} s`);

    await herald.app.listen({ port: 0, host: '127.0.0.1' });
    const address = herald.app.server.address();
    const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const headers = { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' };
    const message = {
      ...(options.channels.includes('sms')
        ? { sms: { text: 'Studio news for {{customerName}}: new classes from March.' } }
        : {}),
      ...(options.channels.includes('email')
        ? { email: { subject: 'Studio news', text: 'Dear {{customerName}},\n\nnew classes from March.' } }
        : {}),
    };
    const posted = nowMs();
    const response = await fetch(`${base}/v1/campaigns`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        name: 'Studio news',
        audience: { type: 'reservations', filter: { from: start, to: '2026-01-15T09:00:01.000Z' } },
        message,
      }),
    });
    const created = nowMs();
    const body = (await response.json()) as { recipientCount?: number };
    if (response.status !== 201 || body.recipientCount !== options.recipients) {
      throw new Error(`POST /v1/campaigns answered ${response.status}: ${JSON.stringify(body).slice(0, 300)}`);
    }
    const perChannel = options.recipients;
    const timeoutMs = Math.max(120_000, (perChannel / options.ratePerSecond) * 3_000);
    await Promise.all([
      options.channels.includes('sms') ? servers.twilio.waitForMessages(perChannel, timeoutMs) : Promise.resolve(),
      options.channels.includes('email') ? servers.smtp.waitForMessages(perChannel, timeoutMs) : Promise.resolve(),
    ]);
    const arrivals = [...servers.arrivals.sms.values(), ...servers.arrivals.email.values()];
    const first = Math.min(...arrivals);
    const last = Math.max(...arrivals);
    const result: CampaignBenchResult = {
      recipients: options.recipients,
      channels: options.channels.join(' + '),
      ratePerSecond: options.ratePerSecond,
      createMs: created - posted,
      firstMessageMs: first - posted,
      completeMs: last - posted,
      idealMs: (perChannel / options.ratePerSecond) * 1000,
      achievedPerSecond: perChannel / ((last - posted) / 1000),
      messages: { sms: servers.twilio.messages.length, email: servers.smtp.messages.length },
    };
    options.log(`campaign: ${JSON.stringify(result)}`);
    if (process.env.BENCH_DEBUG) {
      const batches = (
        await adapters.eventStore.readAll({ limit: 1_000_000, eventTypes: ['CampaignBatchProcessed'] })
      ).map(
        (e) =>
          `${String(e.data.channel)} ${String(e.data.from)} at=${String(e.data.at).slice(17)} next=${String(e.data.nextAt).slice(17)} rec=${e.recordedAt.slice(17)}`,
      );
      options.log(batches.join('\n'));
    }
    return result;
  } finally {
    await herald.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

export function campaignTable(results: readonly CampaignBenchResult[]): string {
  return [
    '| campaign | recipients | throttle /s per channel | POST answered | first message | complete | at best (N ÷ rate) | achieved /s per channel | of the throttle |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...results.map(
      (r) =>
        `| ${r.channels} | ${r.recipients} | ${r.ratePerSecond} | ${(r.createMs / 1000).toFixed(2)} s | ` +
        `${(r.firstMessageMs / 1000).toFixed(2)} s | ${(r.completeMs / 1000).toFixed(1)} s | ${(r.idealMs / 1000).toFixed(1)} s | ` +
        `${r.achievedPerSecond.toFixed(1)} | ${((100 * r.achievedPerSecond) / r.ratePerSecond).toFixed(1)} % |`,
    ),
  ].join('\n');
}
