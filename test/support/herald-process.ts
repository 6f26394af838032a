import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** One line of Herald's pino log (JSON), as far as the tests read it. */
export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

export interface HeraldProcess {
  /** `http://127.0.0.1:<port>` once it listens. */
  readonly url: string;
  readonly pid: number;
  /** Log lines at info and above, request logs left out. */
  readonly logs: readonly LogLine[];
  /** Whatever the process wrote that was not a JSON log line (stack traces, the dev-key banner). */
  readonly output: readonly string[];
  /** Resolves when the process has exited, however it ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** True once crash() or stop() was called or the process exited: requests may fail from then on. */
  readonly isDown: () => boolean;
  /** SIGKILL: no handler runs, nothing is flushed — a crash. */
  crash(): void;
  /** SIGTERM, then waits for the graceful stop. */
  stop(timeoutMs?: number): Promise<void>;
}

export interface StartHeraldProcessOptions {
  /** Herald's environment (DATA_DIR, SMTP_URL, TWILIO_*, BOOTSTRAP_API_KEY, ...); nothing else is inherited. */
  readonly env: Readonly<Record<string, string>>;
  readonly startTimeoutMs?: number;
}

/**
 * Runs `src/interfaces/main.ts` (what `npm start` runs) as a child process on a free port. Node loads the TypeScript
 * through `--import tsx` in the same process, so SIGKILL really kills Herald (the `tsx` CLI would put a parent
 * process in between, and SIGKILL cannot be forwarded).
 */
export async function startHeraldProcess(options: StartHeraldProcessOptions): Promise<HeraldProcess> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/interfaces/main.ts'], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      TMPDIR: process.env.TMPDIR ?? '',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  const output: string[] = [];
  let goingDown = false;
  let exitedWith: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      exitedWith = { code, signal };
      resolve(exitedWith);
    });
  });

  let announce: ((url: string) => void) | undefined;
  const listening = new Promise<string>((resolve) => (announce = resolve));
  const read = (stream: NodeJS.ReadableStream) =>
    createInterface({ input: stream }).on('line', (line) => {
      let parsed: LogLine | undefined;
      try {
        parsed = line.startsWith('{') ? (JSON.parse(line) as LogLine) : undefined;
      } catch {
        parsed = undefined;
      }
      if (!parsed) {
        if (output.length < 2_000) output.push(line);
        return;
      }
      const listen = /^Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(parsed.msg ?? '');
      if (listen) announce?.(listen[1]!);
      if (parsed.msg !== 'incoming request' && parsed.msg !== 'request completed') logs.push(parsed);
    });
  read(child.stdout!);
  read(child.stderr!);

  const timeoutMs = options.startTimeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    const url = await Promise.race([
      listening,
      exited.then((e) => {
        throw new Error(`herald exited during start (${JSON.stringify(e)}):\n${output.slice(-30).join('\n')}`);
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const tail = [...output.slice(-20), ...logs.slice(-20).map((l) => JSON.stringify(l))].join('\n');
          reject(new Error(`herald did not listen within ${timeoutMs} ms:\n${tail}`));
        }, timeoutMs);
      }),
    ]);
    return {
      url,
      pid: child.pid!,
      logs,
      output,
      exited,
      isDown: () => goingDown || exitedWith !== undefined,
      crash() {
        goingDown = true;
        if (!exitedWith) child.kill('SIGKILL');
      },
      async stop(stopTimeoutMs = 30_000) {
        goingDown = true;
        if (exitedWith) return;
        child.kill('SIGTERM');
        let stopTimer: NodeJS.Timeout | undefined;
        await Promise.race([
          exited,
          new Promise<void>((resolve) => {
            stopTimer = setTimeout(() => {
              child.kill('SIGKILL');
              resolve();
            }, stopTimeoutMs);
          }),
        ]);
        clearTimeout(stopTimer);
      },
    };
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
