import { comparisonTable, runBaseline, runHerald, type Servers } from './bench-support.js';

/**
 * (a) The thin slice in the embedded mode (SQLite event store, read models and Agenda under a fresh DATA_DIR):
 * POST /v1/reservations over a real socket → ReservationConfirmed → planner → dispatcher → the SMTP server and the
 * Twilio stand-in. Latency: ReservationConfirmed recorded → the server accepted the message.
 * Paced: an open-loop rate well under capacity (latency without queueing). Burst: 16 requests in flight
 * (throughput; latency then includes the queue). Beside each, the same sends made directly.
 */
export async function thinSliceBench(servers: Servers, sizes = { paced: 200, rate: 40, burst: 1000 }): Promise<string> {
  const paced = await runHerald({
    label: `embedded, HTTP, paced ${sizes.rate}/s`,
    servers,
    count: sizes.paced,
    load: { ratePerSecond: sizes.rate },
    intake: 'http',
  });
  const pacedBaseline = await runBaseline({
    label: 'direct sends',
    servers,
    count: sizes.paced,
    load: { ratePerSecond: sizes.rate },
  });
  const burst = await runHerald({
    label: 'embedded, HTTP, burst',
    servers,
    count: sizes.burst,
    load: { concurrency: 16 },
    intake: 'http',
  });
  const burstBaseline = await runBaseline({
    label: 'direct sends',
    servers,
    count: sizes.burst,
    load: { concurrency: 16 },
  });
  return [
    '### (a) Thin slice, embedded mode, through POST /v1/reservations',
    '',
    comparisonTable(paced, pacedBaseline),
    '',
    comparisonTable(burst, burstBaseline),
  ].join('\n');
}
