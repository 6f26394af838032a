import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderMessage } from '../src/domain/notification/index.js';
import { loadConfig } from '../src/infrastructure/config.js';
import { createSmtpEmailSender } from '../src/infrastructure/email/smtp-email-sender.js';
import { createTwilioSmsSender } from '../src/infrastructure/sms/twilio-sms-sender.js';
import { systemClock } from '../src/infrastructure/system-clock.js';
import { createAdapters } from '../src/interfaces/adapters.js';
import { createHerald, type Herald } from '../src/interfaces/herald.js';
import { API_KEY, freePort, TWILIO } from '../test/support/herald-harness.js';
import { startMongoServer, type MongoServerHandle } from '../test/support/mongo-server.js';
import { silentLogger } from '../test/support/silent-logger.js';
import { drive, latencyStats, nowMs, type LatencyStats, type Servers } from './bench-support.js';

/**
 * Waitlist offers (issue 7): from a committed cancellation — the answer to POST /v1/reservations/{id}/cancel — to
 * the offer to number 1 in line accepted by the SMTP server and by the Twilio stand-in (both channels: the later of
 * the two), per cancellation. Herald as main.ts builds it (createAdapters + createHerald, fresh DATA_DIR), over a
 * real socket; every slot is full (one seat, its holder with email and phone) with one customer waiting, so each
 * cancellation also sends the holder's own cancellation email and SMS, as it would in use.
 *
 * - paced: one cancellation at a time; the next once both offer messages arrived and Herald settled;
 * - concurrent: 50 cancellations of 50 different slots sent at once.
 *
 * Baseline, same run: the same offer (rendered from the same templates, claim link included) sent directly through
 * the SMTP and Twilio adapters, email and SMS at once, one at a time / 50 at once; latency from the send call.
 * Target (issue 7): p99 ≤ 100 ms paced.
 */

export interface WaitlistBenchSizes {
  readonly paced: number;
  readonly concurrent: number;
}

const TARGET_P99_PACED_MS = 100;
const WARMUP = 10;
const SERVICE = 'bench-pool-swim';

interface Slot {
  readonly start: string;
  readonly holder: { name: string; email: string; phone: string; locale: string };
  readonly waiter: { name: string; email: string; phone: string; locale: string };
  reservationId?: string;
  entryId?: string;
}

interface Measured {
  readonly both: LatencyStats;
  readonly email: LatencyStats;
  readonly sms: LatencyStats;
  /** Where the time goes, from the event store's own timestamps (`recordedAt`). */
  readonly breakdown?: {
    /** Cancel request sent → ReservationCancelled committed. */
    readonly toCommit: LatencyStats;
    /** ReservationCancelled committed → WaitlistOfferMade recorded (allocation, inline in the cancel request). */
    readonly allocation: LatencyStats;
    /** ReservationCancelled committed → the cancel request answered. */
    readonly commitToAnswer: LatencyStats;
    /** WaitlistOfferMade recorded → the offer accepted by both servers (planner, dispatcher, providers). */
    readonly delivery: LatencyStats;
    /** ReservationCancelled committed → the offer accepted by both servers. */
    readonly fromCommit: LatencyStats;
  };
}

/** Weekdays from Monday 3 June 2030, 08:00-19:00 in Prague (CEST, +02:00 all summer): one slot per hour. */
function slotStarts(count: number): string[] {
  const starts: string[] = [];
  for (let day = 0; starts.length < count; day++) {
    const date = new Date(Date.UTC(2030, 5, 3 + day));
    if (date.getUTCDay() === 0 || date.getUTCDay() === 6) continue;
    for (let hour = 8; hour < 20 && starts.length < count; hour++) {
      starts.push(`${date.toISOString().slice(0, 10)}T${String(hour).padStart(2, '0')}:00:00+02:00`);
    }
  }
  return starts;
}

function slotsFor(run: string, starts: readonly string[]): Slot[] {
  return starts.map((start, i) => ({
    start,
    holder: {
      name: `Holder ${i}`,
      email: `holder-${run}-${i}@example.test`,
      phone: `+1415${String(7_000_000 + i).padStart(7, '0')}`,
      locale: 'en',
    },
    waiter: {
      name: `Waiting ${i}`,
      email: `waiting-${run}-${i}@example.test`,
      phone: `+1415${String(8_000_000 + i).padStart(7, '0')}`,
      locale: 'en',
    },
  }));
}

export async function runHeraldWaitlist(
  servers: Servers,
  sizes: WaitlistBenchSizes,
  mongodbUrl: string | undefined,
): Promise<{ paced: Measured; concurrent: Measured; errors: number }> {
  servers.reset();
  const dataDir = await mkdtemp(join(tmpdir(), 'herald-bench-waitlist-'));
  const logger = silentLogger();
  const port = await freePort();
  const run = `${Date.now()}`;
  const config = loadConfig({
    DATA_DIR: dataDir,
    PORT: String(port),
    BOOTSTRAP_API_KEY: API_KEY,
    SMTP_URL: servers.smtp.url,
    TWILIO_ACCOUNT_SID: TWILIO.accountSid,
    TWILIO_AUTH_TOKEN: TWILIO.authToken,
    TWILIO_FROM: TWILIO.from,
    TWILIO_API_URL: servers.twilio.url,
    ...(mongodbUrl ? { MONGODB_URL: mongodbUrl, MONGODB_DATABASE: `herald_bench_waitlist_${run}` } : {}),
  });
  const adapters = await createAdapters(config, logger, systemClock);
  const herald: Herald = await createHerald({ config, adapters, logger });
  await herald.start();
  await herald.app.listen({ port, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${port}`;
  const headers = { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' };
  const call = async (method: string, path: string, body: unknown, status: number) => {
    const response = await fetch(`${base}${path}`, { method, headers, body: JSON.stringify(body) });
    const text = await response.text();
    if (response.status !== status) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
    return JSON.parse(text) as Record<string, unknown>;
  };

  try {
    await call(
      'POST',
      '/v1/locations',
      {
        locationId: 'bench-pool',
        name: 'Plavecký stadion Podolí',
        address: { street: 'Podolská 74', postalCode: '147 00', city: 'Praha', country: 'CZ' },
        timeZone: 'Europe/Prague',
      },
      201,
    );
    const hours = [{ start: '08:00', end: '20:00' }];
    await call(
      'POST',
      '/v1/resources',
      {
        resourceId: 'bench-lane',
        locationId: 'bench-pool',
        name: 'Lane 1',
        kind: 'room',
        weeklyHours: { monday: hours, tuesday: hours, wednesday: hours, thursday: hours, friday: hours },
      },
      201,
    );
    await call(
      'POST',
      '/v1/services',
      {
        serviceId: SERVICE,
        locationId: 'bench-pool',
        name: 'Lane swim',
        durationMinutes: 60,
        seatsPerSlot: 1,
        resourceIds: ['bench-lane'],
      },
      201,
    );

    const total = WARMUP + sizes.paced + WARMUP + sizes.concurrent;
    const slots = slotsFor(run, slotStarts(total));
    // Every slot full, one customer waiting; their messages (confirmation, "you are number 1") all delivered.
    await drive(
      slots.length,
      async (i) => {
        const slot = slots[i]!;
        const held = await call(
          'POST',
          '/v1/reservations',
          { serviceId: SERVICE, start: slot.start, customer: slot.holder },
          201,
        );
        slot.reservationId = String(held.reservationId);
        const joined = await call(
          'POST',
          '/v1/waitlists/entries',
          { serviceId: SERVICE, start: slot.start, customer: slot.waiter },
          201,
        );
        slot.entryId = String(joined.entryId);
      },
      { concurrency: 8 },
    );
    await herald.settle(120_000);
    await servers.waitForAll(2 * slots.length, 120_000);
    await herald.settle(120_000);

    const cancel = async (slot: Slot) => {
      const sent = nowMs();
      const answer = await call('POST', `/v1/reservations/${slot.reservationId}/cancel`, { by: 'customer' }, 200);
      const committed = nowMs();
      const allocated = (answer.waitlist as { allocated: { customerName: string }[] }[] | undefined)?.[0]?.allocated;
      if (allocated?.[0]?.customerName !== slot.waiter.name) {
        throw new Error(`cancelling ${slot.start} offered the seat to ${JSON.stringify(allocated)}`);
      }
      return { sent, committed };
    };
    const measure = async (batch: readonly Slot[], concurrently: boolean): Promise<Measured> => {
      servers.reset();
      const times: { sent: number; committed: number }[] = [];
      if (concurrently) {
        times.push(...(await Promise.all(batch.map(cancel))));
        // The offer and the holder's cancellation, on each channel.
        await servers.waitForAll(2 * batch.length, 120_000);
      } else {
        for (const [i, slot] of batch.entries()) {
          times.push(await cancel(slot));
          await servers.waitForAll(2 * (i + 1), 30_000);
          await herald.settle(30_000);
        }
      }
      await herald.settle(60_000);
      const offers = (channel: 'email' | 'sms') =>
        channel === 'email'
          ? servers.smtp.messages.filter((m) => m.subject?.startsWith('A place is free:'))
          : servers.twilio.messages.filter((m) => m.resource.body.includes('A place is free:'));
      if (offers('email').length !== batch.length || offers('sms').length !== batch.length) {
        throw new Error(`${offers('email').length} offer emails, ${offers('sms').length} SMS for ${batch.length}`);
      }
      const email: number[] = [];
      const sms: number[] = [];
      const both: number[] = [];
      batch.forEach((slot, i) => {
        const committed = times[i]!.committed;
        const byEmail = servers.arrivals.email.get(slot.waiter.email)! - committed;
        const bySms = servers.arrivals.sms.get(slot.waiter.phone)! - committed;
        email.push(byEmail);
        sms.push(bySms);
        both.push(Math.max(byEmail, bySms));
      });
      const recorded = await recordedAt(batch);
      const breakdown = { toCommit: [], allocation: [], commitToAnswer: [], delivery: [], fromCommit: [] } as Record<
        keyof NonNullable<Measured['breakdown']>,
        number[]
      >;
      batch.forEach((slot, i) => {
        const cancelledAt = recorded.cancelled.get(slot.reservationId!)!;
        const offeredAt = recorded.offered.get(slot.entryId!)!;
        const accepted = Math.max(
          servers.arrivals.email.get(slot.waiter.email)!,
          servers.arrivals.sms.get(slot.waiter.phone)!,
        );
        breakdown.toCommit.push(cancelledAt - times[i]!.sent);
        breakdown.allocation.push(offeredAt - cancelledAt);
        breakdown.commitToAnswer.push(times[i]!.committed - cancelledAt);
        breakdown.delivery.push(accepted - offeredAt);
        breakdown.fromCommit.push(accepted - cancelledAt);
      });
      return {
        both: latencyStats(both),
        email: latencyStats(email),
        sms: latencyStats(sms),
        breakdown: {
          toCommit: latencyStats(breakdown.toCommit),
          allocation: latencyStats(breakdown.allocation),
          commitToAnswer: latencyStats(breakdown.commitToAnswer),
          delivery: latencyStats(breakdown.delivery),
          fromCommit: latencyStats(breakdown.fromCommit),
        },
      };
    };
    /** When each slot's cancellation and its offer were recorded in the event store (ms since the epoch). */
    const recordedAt = async (batch: readonly Slot[]) => {
      const cancelled = new Map<string, number>();
      const offered = new Map<string, number>();
      const wanted = new Set(batch.flatMap((slot) => [slot.reservationId, slot.entryId]));
      for (let after = -1n; ;) {
        const page = await adapters.eventStore.readAll({
          after,
          limit: 5_000,
          eventTypes: ['ReservationCancelled', 'WaitlistOfferMade'],
        });
        if (page.length === 0) break;
        for (const event of page) {
          const data = event.data as { reservationId?: string; entryId?: string };
          if (event.type === 'ReservationCancelled' && wanted.has(data.reservationId)) {
            cancelled.set(data.reservationId!, Date.parse(event.recordedAt));
          } else if (event.type === 'WaitlistOfferMade' && wanted.has(data.entryId)) {
            offered.set(data.entryId!, Date.parse(event.recordedAt));
          }
        }
        after = page[page.length - 1]!.position;
      }
      return { cancelled, offered };
    };

    let at = 0;
    const take = (n: number) => slots.slice(at, (at += n));
    await measure(take(WARMUP), false);
    const paced = await measure(take(sizes.paced), false);
    await measure(take(WARMUP), true);
    const concurrent = await measure(take(sizes.concurrent), true);
    return { paced, concurrent, errors: logger.errors.length };
  } finally {
    await herald.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** The same offer, sent directly through the adapters: email and SMS at once; latency from the send call. */
async function runBaselineOffers(servers: Servers, sizes: WaitlistBenchSizes) {
  const logger = silentLogger();
  const email = createSmtpEmailSender({ url: servers.smtp.url, clock: systemClock, logger });
  const sms = createTwilioSmsSender({ ...TWILIO, apiUrl: servers.twilio.url, clock: systemClock });
  const context = {
    reservationId: 'bench-offer-0000',
    customerName: 'Waiting 0',
    serviceName: 'Lane swim',
    locationName: 'Plavecký stadion Podolí',
    locationAddress: 'Podolská 74, 147 00 Praha, CZ',
    start: '2030-06-03T08:00:00+02:00',
    end: '2030-06-03T09:00:00+02:00',
    timeZone: 'Europe/Prague',
    locale: 'en',
    senderName: 'Herald',
    offer: { expiresAt: '2030-06-01T08:15:00Z' },
    claimUrl: `http://127.0.0.1:3000/claim/default/${'A'.repeat(64)}`,
  };
  const mail = renderMessage('waitlist-offer', 'email', context);
  const text = renderMessage('waitlist-offer', 'sms', context).text;
  const send = async (key: string, to: { email: string; phone: string }) => {
    const started = nowMs();
    await Promise.all([
      email.send({
        idempotencyKey: `${key}-email`,
        from: { name: 'Herald', address: 'no-reply@herald.invalid' },
        to: to.email,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
      }),
      sms.send({ idempotencyKey: `${key}-sms`, to: to.phone, body: text }),
    ]);
    return started;
  };
  const recipients = (run: string, n: number) =>
    Array.from({ length: n }, (_, i) => ({
      email: `direct-${run}-${i}@example.test`,
      phone: `+1415${String(9_000_000 + i).padStart(7, '0')}`,
    }));
  const measure = async (run: string, n: number, concurrently: boolean): Promise<Measured> => {
    servers.reset();
    const to = recipients(run, n);
    const started = concurrently
      ? await Promise.all(to.map((r, i) => send(`${run}-${i}`, r)))
      : await (async () => {
          const times: number[] = [];
          for (const [i, r] of to.entries()) times.push(await send(`${run}-${i}`, r));
          return times;
        })();
    await servers.waitForAll(n, 60_000);
    const byEmail = to.map((r, i) => servers.arrivals.email.get(r.email)! - started[i]!);
    const bySms = to.map((r, i) => servers.arrivals.sms.get(r.phone)! - started[i]!);
    return {
      both: latencyStats(byEmail.map((e, i) => Math.max(e, bySms[i]!))),
      email: latencyStats(byEmail),
      sms: latencyStats(bySms),
    };
  };
  try {
    await measure('warmup-paced', WARMUP, false);
    const paced = await measure('paced', sizes.paced, false);
    await measure('warmup-concurrent', WARMUP, true);
    const concurrent = await measure('concurrent', sizes.concurrent, true);
    return { paced, concurrent };
  } finally {
    await email.close();
    await sms.close();
  }
}

const ms = (n: number) => (Number.isNaN(n) ? '–' : n.toFixed(1));

function table(title: string, herald: Measured, baseline: Measured, target?: number): string {
  const rows = [
    `| ${title} | Herald | baseline (direct sends) | target |`,
    '|---|---:|---:|---:|',
    `| p50 → offer accepted by both servers, ms | ${ms(herald.both.p50)} | ${ms(baseline.both.p50)} | |`,
    `| **p99 → offer accepted by both servers, ms** | **${ms(herald.both.p99)}** | ${ms(baseline.both.p99)} | ${
      target === undefined ? '' : `≤ ${target} ${herald.both.p99 <= target ? '(met)' : '(missed)'}`
    } |`,
    `| max → offer accepted by both servers, ms | ${ms(herald.both.max)} | ${ms(baseline.both.max)} | |`,
    `| p50 / p99 → email accepted (SMTP), ms | ${ms(herald.email.p50)} / ${ms(herald.email.p99)} | ${ms(
      baseline.email.p50,
    )} / ${ms(baseline.email.p99)} | |`,
    `| p50 / p99 → SMS accepted (Twilio stand-in), ms | ${ms(herald.sms.p50)} / ${ms(herald.sms.p99)} | ${ms(
      baseline.sms.p50,
    )} / ${ms(baseline.sms.p99)} | |`,
  ];
  const b = herald.breakdown;
  if (b) {
    const row = (name: string, stats: LatencyStats) =>
      `| ${name}, p50 / p99 / max, ms | ${ms(stats.p50)} / ${ms(stats.p99)} / ${ms(stats.max)} | – | |`;
    rows.push(
      row('where it goes: cancel sent → ReservationCancelled committed', b.toCommit),
      row('… committed → WaitlistOfferMade recorded (allocation, inline in the request)', b.allocation),
      row('… committed → cancel answered', b.commitToAnswer),
      row('… offer recorded → offer accepted by both servers', b.delivery),
      row('… committed → offer accepted by both servers', b.fromCommit),
    );
  }
  return rows.join('\n');
}

/**
 * Both phases on the embedded stores, then with read models and Agenda on MongoDB (MONGODB_URL, else the
 * mongo-java-server test server; left out when neither can run).
 */
export async function waitlistBench(
  servers: Servers,
  sizes: WaitlistBenchSizes = { paced: 200, concurrent: 50 },
): Promise<string> {
  const baseline = await runBaselineOffers(servers, sizes);
  const embedded = await runHeraldWaitlist(servers, sizes, undefined);
  let mongo: MongoServerHandle | undefined;
  let mongodbUrl = process.env.MONGODB_URL?.trim() || undefined;
  let mongoSection: string;
  if (!mongodbUrl) {
    try {
      mongo = await startMongoServer();
      mongodbUrl = mongo.url;
    } catch (error) {
      mongoSection = `_MongoDB left out: ${error instanceof Error ? error.message.split('\n', 1)[0] : String(error)}_`;
    }
  }
  try {
    if (mongodbUrl) {
      const onMongo = await runHeraldWaitlist(servers, sizes, mongodbUrl);
      mongoSection = [
        table(
          `MongoDB read models and Agenda, paced, one cancellation at a time (${sizes.paced})`,
          onMongo.paced,
          baseline.paced,
          TARGET_P99_PACED_MS,
        ),
        '',
        table(
          `MongoDB read models and Agenda, ${sizes.concurrent} concurrent cancellations, ${sizes.concurrent} slots`,
          onMongo.concurrent,
          baseline.concurrent,
        ),
        ...(onMongo.errors > 0 ? ['', `_${onMongo.errors} errors logged_`] : []),
      ].join('\n');
    }
  } finally {
    await mongo?.stop();
  }
  return [
    '### (d) Waitlist: committed cancellation → offer accepted by the SMTP server and the Twilio stand-in',
    '',
    table(
      `embedded, paced, one cancellation at a time (${sizes.paced})`,
      embedded.paced,
      baseline.paced,
      TARGET_P99_PACED_MS,
    ),
    '',
    table(
      `embedded, ${sizes.concurrent} concurrent cancellations, ${sizes.concurrent} slots`,
      embedded.concurrent,
      baseline.concurrent,
    ),
    ...(embedded.errors > 0 ? ['', `_${embedded.errors} errors logged_`] : []),
    '',
    mongoSection!,
  ].join('\n');
}
