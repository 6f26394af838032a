import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { nearestRankPercentile } from '../src/application/notifications/notification-analytics.js';
import { queryNotificationAnalytics } from '../src/application/notifications/notification-analytics.js';
import { recordExternalReservation } from '../src/application/reservations/reservation-commands.js';
import { buildIcs, renderMessage, reservationIcsUid } from '../src/domain/notification/index.js';
import { loadConfig } from '../src/infrastructure/config.js';
import { createSmtpEmailSender } from '../src/infrastructure/email/smtp-email-sender.js';
import { createTwilioSmsSender } from '../src/infrastructure/sms/twilio-sms-sender.js';
import { systemClock } from '../src/infrastructure/system-clock.js';
import { createAdapters } from '../src/interfaces/adapters.js';
import { createHerald } from '../src/interfaces/herald.js';
import { API_KEY, reservationRequest, TWILIO } from '../test/support/herald-harness.js';
import { silentLogger } from '../test/support/silent-logger.js';
import { startSmtpTestServer, type ReceivedEmail, type SmtpTestServer } from '../test/support/smtp-test-server.js';
import { startTwilioStandIn, type StandInMessage, type TwilioStandIn } from '../test/support/twilio-stand-in.js';

/** Wall-clock milliseconds with sub-millisecond resolution (events carry wall-clock ISO instants). */
export const nowMs = () => performance.timeOrigin + performance.now();

export interface Servers {
  readonly smtp: SmtpTestServer;
  readonly twilio: TwilioStandIn;
  /** When each recipient's message was accepted by the server (email by RCPT TO, SMS by To). */
  readonly arrivals: { readonly email: Map<string, number>; readonly sms: Map<string, number> };
  reset(): void;
  waitForAll(messagesPerChannel: number, timeoutMs: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * The real SMTP test server and the Twilio stand-in, with the moment each message was accepted recorded by hooking
 * the servers' own message lists (the entry is added when the server accepts, before it replies).
 */
export async function startServers(): Promise<Servers> {
  const smtp = await startSmtpTestServer();
  const twilio = await startTwilioStandIn({ accountSid: TWILIO.accountSid, authToken: TWILIO.authToken });
  const arrivals = { email: new Map<string, number>(), sms: new Map<string, number>() };
  const emails = smtp.messages as ReceivedEmail[];
  const pushEmail = emails.push.bind(emails);
  emails.push = (...items) => {
    const at = nowMs();
    for (const item of items) arrivals.email.set(item.envelope.rcptTo[0]!, at);
    return pushEmail(...items);
  };
  const texts = twilio.messages as StandInMessage[];
  const pushSms = texts.push.bind(texts);
  texts.push = (...items) => {
    const at = nowMs();
    for (const item of items) arrivals.sms.set(item.resource.to, at);
    return pushSms(...items);
  };
  return {
    smtp,
    twilio,
    arrivals,
    reset() {
      smtp.reset();
      twilio.reset();
      arrivals.email.clear();
      arrivals.sms.clear();
    },
    async waitForAll(count, timeoutMs) {
      await Promise.all([smtp.waitForMessages(count, timeoutMs), twilio.waitForMessages(count, timeoutMs)]);
      return Math.max(...arrivals.email.values(), ...arrivals.sms.values());
    },
    async close() {
      await smtp.close();
      await twilio.close();
    },
  };
}

export interface LatencyStats {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export function latencyStats(values: readonly number[]): LatencyStats {
  const sorted = Float64Array.from(values).sort();
  return {
    count: sorted.length,
    p50: nearestRankPercentile(sorted, 50) ?? NaN,
    p99: nearestRankPercentile(sorted, 99) ?? NaN,
    max: sorted.length ? sorted[sorted.length - 1]! : NaN,
  };
}

export interface RunResult {
  readonly label: string;
  readonly reservations: number;
  /** Reservations whose two messages were both accepted, per second, from the first request to the last message. */
  readonly reservationsPerSecond: number;
  /** Requests (POSTs or appends) answered per second, alone. */
  readonly intakePerSecond?: number;
  /** Start (event appended / send called) → server accepted, per message. */
  readonly latency: LatencyStats;
  /** Herald's own measure from the audit trail (event → provider accepted as Herald saw it), p95. */
  readonly auditP95Ms?: number | null;
  readonly errors: number;
}

/** Runs `count` jobs, at most `concurrency` at once, or open-loop at `ratePerSecond` when given. */
export async function drive(count: number, job: (i: number) => Promise<void>, load: Load): Promise<void> {
  if (load.ratePerSecond) {
    const started = nowMs();
    const all: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      const due = started + (i * 1000) / load.ratePerSecond;
      const wait = due - nowMs();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      all.push(job(i));
    }
    await Promise.all(all);
    return;
  }
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) await job(i);
  };
  await Promise.all(Array.from({ length: load.concurrency ?? 16 }, worker));
}

export interface Load {
  /** Closed loop: this many requests in flight. */
  readonly concurrency?: number;
  /** Open loop: a request every 1/rate s, whatever the answers (latency without queueing). */
  readonly ratePerSecond?: number;
}

/** Reservations sent before measuring, by Herald and by the baseline alike. */
const WARMUP = 20;
const WARMUP_BASE = 900_000;

const phoneOf = (i: number) => `+1415${String(6_000_000 + i).padStart(7, '0')}`;
const emailOf = (i: number) => `bench-${i}@example.test`;
const bodyOf = (run: string, i: number) =>
  reservationRequest({
    customer: { name: `Guest ${i}`, email: emailOf(i), phone: phoneOf(i), locale: 'en' },
    external: { system: `bench-${run}`, reference: String(i) },
  });

export interface HeraldRunOptions {
  readonly label: string;
  readonly servers: Servers;
  readonly count: number;
  readonly load: Load;
  /** `http`: POST /v1/reservations over a real socket; `command`: the command handler, no HTTP. */
  readonly intake: 'http' | 'command';
  /** Read models and Agenda on MongoDB at this URL; otherwise the embedded SQLite files. */
  readonly mongodbUrl?: string;
}

/** Herald as main.ts builds it (createAdapters + createHerald on a fresh DATA_DIR), SMTP and Twilio configured. */
export async function runHerald(options: HeraldRunOptions): Promise<RunResult> {
  const { servers, count } = options;
  servers.reset();
  const dataDir = await mkdtemp(join(tmpdir(), 'herald-bench-'));
  const logger = silentLogger();
  const run = `${Date.now()}`;
  const config = loadConfig({
    DATA_DIR: dataDir,
    BOOTSTRAP_API_KEY: API_KEY,
    // Benchmarks measure Herald, not the per-key limit they would run into.
    RATE_LIMIT_PER_KEY: '0',
    SMTP_URL: servers.smtp.url,
    TWILIO_ACCOUNT_SID: TWILIO.accountSid,
    TWILIO_AUTH_TOKEN: TWILIO.authToken,
    TWILIO_FROM: TWILIO.from,
    TWILIO_API_URL: servers.twilio.url,
    ...(options.mongodbUrl ? { MONGODB_URL: options.mongodbUrl, MONGODB_DATABASE: `herald_bench_${run}` } : {}),
  });
  const adapters = await createAdapters(config, logger, systemClock);
  const herald = await createHerald({ config, adapters, logger });
  await herald.start();
  try {
    let post: (i: number) => Promise<void>;
    if (options.intake === 'http') {
      await herald.app.listen({ port: 0, host: '127.0.0.1' });
      const address = herald.app.server.address();
      const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/v1/reservations`;
      const headers = { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' };
      post = async (i) => {
        const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(bodyOf(run, i)) });
        await response.arrayBuffer();
        if (response.status !== 201) throw new Error(`POST answered ${response.status}`);
      };
    } else {
      post = async (i) => {
        const body = bodyOf(run, i);
        await recordExternalReservation(
          { eventStore: adapters.eventStore, ids: herald.ids, clock: herald.clock },
          { tenantId: 'default', actor: 'bench' },
          { ...body, customer: { ...body.customer, locale: 'en' } },
        );
      };
    }

    // Warm-up: connections opened, code paths compiled; then the servers' records start afresh.
    await drive(WARMUP, (i) => post(WARMUP_BASE + i), { concurrency: 4 });
    await servers.waitForAll(WARMUP, 60_000);
    await herald.settle(60_000);
    servers.reset();

    const started = nowMs();
    await drive(count, post, options.load);
    const intakeDone = nowMs();
    const lastArrival = await servers.waitForAll(count, 300_000);
    await herald.settle(60_000);

    const confirmedAt = new Map<string, number>();
    for (let after = -1n; ;) {
      const page = await adapters.eventStore.readAll({ after, limit: 5_000, eventTypes: ['ReservationConfirmed'] });
      if (page.length === 0) break;
      for (const event of page) {
        const reservation = event.data.reservation as { customer: { email: string } };
        confirmedAt.set(reservation.customer.email, Date.parse(event.recordedAt));
      }
      after = page[page.length - 1]!.position;
    }
    const latencies: number[] = [];
    for (let i = 0; i < count; i++) {
      const at = confirmedAt.get(emailOf(i));
      if (at === undefined) throw new Error(`no ReservationConfirmed for ${i}`);
      latencies.push(servers.arrivals.email.get(emailOf(i))! - at, servers.arrivals.sms.get(phoneOf(i))! - at);
    }
    const audit = await queryNotificationAnalytics(adapters.readModels, {
      tenantId: 'default',
      // From the start of the measured phase: the warm-up's cold deliveries would weigh on the p95.
      from: new Date(started).toISOString(),
      to: new Date(nowMs() + 60_000).toISOString(),
    });
    if (audit.requested !== 2 * count || audit.succeeded !== 2 * count) {
      throw new Error(`audit trail: ${audit.succeeded} of ${audit.requested} sent, ${2 * count} expected`);
    }
    return {
      label: options.label,
      reservations: count,
      reservationsPerSecond: count / ((lastArrival - started) / 1000),
      intakePerSecond: count / ((intakeDone - started) / 1000),
      latency: latencyStats(latencies),
      auditP95Ms: audit.timeToProviderAccepted.p95Ms,
      errors: logger.errors.length,
    };
  } finally {
    await herald.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * The same messages sent directly, without Herald: nodemailer (pooled, through the SMTP adapter) and the twilio SDK
 * (through the Twilio adapter), `2 × count` sends with the dispatcher's concurrency, content rendered from the same
 * templates (with the invitation). Latency: send called → server accepted.
 */
export async function runBaseline(options: {
  label: string;
  servers: Servers;
  count: number;
  load: Load;
}): Promise<RunResult> {
  const { servers, count } = options;
  servers.reset();
  const logger = silentLogger();
  const email = createSmtpEmailSender({ url: servers.smtp.url, clock: systemClock, logger });
  const sms = createTwilioSmsSender({ ...TWILIO, apiUrl: servers.twilio.url, clock: systemClock });
  const sample = bodyOf('baseline', 0);
  const context = {
    reservationId: 'baseline-0000',
    customerName: sample.customer.name,
    serviceName: sample.serviceName,
    locationName: sample.location.name,
    locationAddress: sample.location.address,
    start: sample.start,
    end: sample.end,
    timeZone: sample.location.timeZone,
    locale: 'en',
    paid: false,
    senderName: 'Herald',
  };
  const mail = renderMessage('reservation-confirmed', 'email', context);
  const text = renderMessage('reservation-confirmed', 'sms', context).text;
  const ics = buildIcs({
    method: 'REQUEST',
    uid: reservationIcsUid(context.reservationId),
    sequence: 0,
    start: sample.start,
    end: sample.end,
    summary: sample.serviceName,
    location: `${sample.location.name}, ${sample.location.address}`,
    description: sample.serviceName,
    organizer: { name: 'Herald', email: 'no-reply@herald.invalid' },
    attendee: { name: sample.customer.name, email: emailOf(0) },
    dtstamp: new Date().toISOString(),
  });
  const startedAt = new Map<string, number>();
  let errors = 0;
  try {
    await drive(
      WARMUP,
      async (i) => {
        await Promise.all([
          email.send({
            idempotencyKey: `warmup-${i}`,
            from: { address: 'no-reply@herald.invalid' },
            to: emailOf(WARMUP_BASE + i),
            subject: mail.subject,
            text: mail.text,
          }),
          sms.send({ idempotencyKey: `warmup-${i}`, to: phoneOf(WARMUP_BASE + i), body: text }),
        ]);
      },
      { concurrency: 4 },
    );
    await servers.waitForAll(WARMUP, 60_000);
    servers.reset();

    const started = nowMs();
    // One job = one reservation's two messages, sent concurrently as the dispatcher would.
    await drive(
      count,
      async (i) => {
        const sends = [
          (async () => {
            startedAt.set(emailOf(i), nowMs());
            await email.send({
              idempotencyKey: `baseline-${i}-email`,
              from: { name: 'Herald', address: 'no-reply@herald.invalid' },
              to: emailOf(i),
              subject: mail.subject,
              text: mail.text,
              html: mail.html,
              calendar: { method: 'REQUEST', content: ics },
            });
          })(),
          (async () => {
            startedAt.set(phoneOf(i), nowMs());
            await sms.send({ idempotencyKey: `baseline-${i}-sms`, to: phoneOf(i), body: text });
          })(),
        ];
        for (const outcome of await Promise.allSettled(sends)) if (outcome.status === 'rejected') errors++;
      },
      options.load.ratePerSecond
        ? options.load
        : { concurrency: Math.max(1, Math.floor((options.load.concurrency ?? 16) / 2)) },
    );
    const done = nowMs();
    const lastArrival = await servers.waitForAll(count, 300_000);
    const latencies: number[] = [];
    for (let i = 0; i < count; i++) {
      latencies.push(
        servers.arrivals.email.get(emailOf(i))! - startedAt.get(emailOf(i))!,
        servers.arrivals.sms.get(phoneOf(i))! - startedAt.get(phoneOf(i))!,
      );
    }
    return {
      label: options.label,
      reservations: count,
      reservationsPerSecond: count / ((Math.max(lastArrival, done) - started) / 1000),
      latency: latencyStats(latencies),
      errors,
    };
  } finally {
    await email.close();
    await sms.close();
  }
}

const fmt = (n: number | null | undefined, digits = 1) =>
  n === null || n === undefined || Number.isNaN(n) ? '–' : n.toFixed(digits);

/** A markdown table of Herald beside the baseline, with Herald ÷ baseline ratios. */
export function comparisonTable(herald: RunResult, baseline: RunResult): string {
  const rows: [string, number, number, number][] = [
    [
      'reservations/s (2 messages each, until the last is accepted)',
      herald.reservationsPerSecond,
      baseline.reservationsPerSecond,
      1,
    ],
    ['p50 latency, ms', herald.latency.p50, baseline.latency.p50, 1],
    ['p99 latency, ms', herald.latency.p99, baseline.latency.p99, 1],
    ['max latency, ms', herald.latency.max, baseline.latency.max, 1],
  ];
  const lines = [
    `| ${herald.label} vs ${baseline.label} (${herald.reservations} reservations) | Herald | baseline | Herald ÷ baseline |`,
    '|---|---:|---:|---:|',
    ...rows.map(([name, h, b, d]) => `| ${name} | ${fmt(h, d)} | ${fmt(b, d)} | ${fmt(h / b, 2)} |`),
  ];
  if (herald.intakePerSecond !== undefined)
    lines.push(`| intake alone (requests answered)/s | ${fmt(herald.intakePerSecond)} | – | – |`);
  if (herald.auditP95Ms !== undefined)
    lines.push(
      `| p95 event → provider accepted, from the audit trail (analytics), ms | ${fmt(herald.auditP95Ms, 0)} | – | – |`,
    );
  if (herald.errors + baseline.errors > 0) lines.push(`| errors | ${herald.errors} | ${baseline.errors} | – |`);
  return lines.join('\n');
}

export function machine(): string {
  const cpu = cpus();
  return `${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, Node ${process.version}, ${process.platform}`;
}
