/** Where progress goes: a terminal gets a redrawn bar, anything else (a log, CI) a plain line now and then. */
export interface ProgressOutput {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): unknown;
}

export interface Progress {
  /** `done` of `total` units (global positions of the log), `count` items handled (events). */
  update(done: bigint, total: bigint, count: number): void;
  finish(): void;
}

const BAR_WIDTH = 30;

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  return h > 0
    ? `${h}:${String(m).padStart(2, '0')}:${String(rest).padStart(2, '0')}`
    : `${m}:${String(rest).padStart(2, '0')}`;
}

/**
 * A progress bar with rate and ETA on a terminal (redrawn at most every 100 ms on one line), plain lines every
 * `plainIntervalMs` otherwise. The ETA is the remaining share of positions at the average rate so far.
 */
export function createProgress(
  output: ProgressOutput,
  label: string,
  options: { readonly plainIntervalMs?: number; readonly now?: () => number } = {},
): Progress {
  const now = options.now ?? (() => performance.now());
  const started = now();
  const interval = output.isTTY ? 100 : (options.plainIntervalMs ?? 5_000);
  let last = -Infinity;
  let drawn = false;
  let latest: { done: bigint; total: bigint; count: number } | undefined;

  const render = (final: boolean) => {
    if (!latest) return;
    const { done, total, count } = latest;
    const elapsed = (now() - started) / 1000;
    const share = total > 0n ? Math.min(1, Number(done) / Number(total)) : 1;
    const rate = elapsed > 0 ? count / elapsed : 0;
    const eta = share > 0 ? (elapsed * (1 - share)) / share : Infinity;
    const numbers =
      `${(share * 100).toFixed(1).padStart(5)}%  ${count.toLocaleString('en')} events  ` +
      `${Math.round(rate).toLocaleString('en')} events/s  ` +
      (final ? `took ${formatDuration(elapsed)}` : `ETA ${formatDuration(eta)}`);
    if (output.isTTY) {
      const filled = Math.round(share * BAR_WIDTH);
      const bar = `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`;
      output.write(`\r${label} ${bar} ${numbers}\x1b[K${final ? '\n' : ''}`);
      drawn = !final;
    } else {
      output.write(`${label}: ${numbers}\n`);
    }
  };

  return {
    update(done, total, count) {
      latest = { done, total, count };
      const t = now();
      if (t - last < interval) return;
      last = t;
      render(false);
    },
    finish() {
      if (latest) render(true);
      else if (drawn) output.write('\n');
    },
  };
}
