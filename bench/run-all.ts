import { runBookingBench } from './booking.bench.js';
import { machine, startServers, type Servers } from './bench-support.js';
import { campaignTable, runCampaignBench } from './campaign.bench.js';
import { confirmationsBench } from './confirmations.bench.js';
import { remindersBench } from './reminders.bench.js';
import { rebuildBench, rebuildSection } from './rebuild.bench.js';
import { thinSliceBench } from './thin-slice.bench.js';
import { waitlistBench } from './waitlist.bench.js';
import { webBudgetBench } from './web-budget.bench.js';

/**
 * `npm run bench` — every benchmark, the notification ones each beside a baseline measured in the same run, printed
 * as markdown for docs/benchmarks.md (progress goes to stderr). `npm run bench -- thin-slice` (or `confirmations`,
 * `booking`, `waitlist`, `campaign`, `rebuild`, `web`, `reminders`) runs one. BENCH_SCALE=0.2 shrinks them for a smoke
 * run.
 */
const only = process.argv[2];
const scale = Number(process.env.BENCH_SCALE ?? 1);
const sizes = { paced: Math.max(10, Math.round(200 * scale)), rate: 40, burst: Math.max(20, Math.round(1000 * scale)) };
const waitlistSizes = { paced: sizes.paced, concurrent: Math.max(10, Math.round(50 * scale)) };

async function bookingSection(): Promise<string> {
  const results = await runBookingBench({ scale, log: (line) => console.error(line) });
  return [
    '### Booking (bench/booking.bench.ts)',
    '',
    '| scenario | value | unit | detail |',
    '|---|---:|---|---|',
    ...results.map((r) => `| ${r.name} | ${r.value.toFixed(1)} | ${r.unit} | ${r.detail ?? ''} |`),
  ].join('\n');
}

/**
 * Issue 9: a bulk campaign of 10 000 recipients at the throttle (BENCH_CAMPAIGN_RATE, default 30 a second: the
 * default CAMPAIGN_SMS_PER_SECOND) — time to complete against the throttle's best, and time to the first message;
 * then SMS + email (a fifth of the recipients) at the same rate per channel.
 */
async function campaignSection(servers: Servers): Promise<string> {
  const recipients = Math.max(100, Math.round(10_000 * scale));
  const rate = Number(process.env.BENCH_CAMPAIGN_RATE ?? 30);
  const log = (line: string) => console.error(line);
  const results = [
    await runCampaignBench(servers, { recipients, ratePerSecond: rate, channels: ['sms'], log }),
    await runCampaignBench(servers, {
      recipients: Math.max(100, Math.round(recipients / 5)),
      ratePerSecond: rate,
      channels: ['sms', 'email'],
      log,
    }),
  ];
  return ['### Bulk campaign (bench/campaign.bench.ts)', '', campaignTable(results)].join('\n');
}

/**
 * Issue 11 item 8: 100 000 reminders due within 10 minutes at full size (real time: the run takes over 20 minutes).
 * BENCH_SCALE shrinks count and window alike (same rate due per second); BENCH_REMINDERS=<count> overrides the count
 * alone, keeping the rate of 166.7 due per second.
 */
const reminderCount = Math.max(100, Number(process.env.BENCH_REMINDERS ?? Math.round(100_000 * scale)));
if (!Number.isInteger(reminderCount)) throw new Error(`BENCH_REMINDERS must be a whole number, not ${reminderCount}`);
const reminderSizes = { count: reminderCount, windowMs: Math.round((reminderCount / 100_000) * 600_000) };

const benches: readonly (readonly [string, (servers: Servers) => Promise<string>])[] = [
  ['thin-slice', (servers) => thinSliceBench(servers, sizes)],
  ['confirmations', (servers) => confirmationsBench(servers, sizes)],
  ['booking', () => bookingSection()],
  ['waitlist', (servers) => waitlistBench(servers, waitlistSizes)],
  ['campaign', (servers) => campaignSection(servers)],
  ['web', async () => (await webBudgetBench()).markdown],
  // Issue 11 item 4: 1M generated events (BENCH_SCALE scales it), rebuilt and verified by the real command.
  [
    'rebuild',
    async () =>
      rebuildSection(await rebuildBench({ events: Math.round(1_000_000 * scale), log: (line) => console.error(line) })),
  ],
  ['reminders', () => remindersBench(reminderSizes)],
];

const servers = await startServers();
const sections: string[] = [`Herald benchmarks — ${new Date().toISOString()} — ${machine()}, scale ${scale}`, ''];
try {
  for (const [name, bench] of benches) {
    if (only && only !== name) continue;
    const started = performance.now();
    console.error(`running ${name} ...`);
    const section = await bench(servers);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.error(`${name} took ${seconds} s`);
    sections.push(section, '', `_${name}: ${seconds} s wall time_`, '');
  }
} finally {
  await servers.close();
}
console.log(sections.join('\n'));
