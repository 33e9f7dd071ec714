import { spawn } from 'node:child_process';

export interface RunOptions {
  /** Each chunk of stdout and stderr, decoded as UTF-8, in the order produced. */
  onOutput: (chunk: string) => void;
  signal?: AbortSignal;
  /** Absolute time (ms since epoch) after which the process is stopped. */
  deadline?: number;
  env?: NodeJS.ProcessEnv;
  /** Between SIGTERM and SIGKILL when stopping (default 5 s). */
  killGraceMs?: number;
}

export interface RunOutcome {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process was stopped by us rather than exiting on its own. */
  stopped?: 'cancelled' | 'timeout';
}

/** Process groups still running; killed if this process exits first (a detached group would outlive it). */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function trackGroup(pid: number): void {
  liveGroups.add(pid);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const group of liveGroups) {
      try {
        process.kill(-group, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  });
}

/**
 * Runs a command (args array, never a shell) in its own process group, so that stopping it also stops what it
 * started: buildah runs RUN steps as grandchildren that would otherwise outlive it. Resolves when the process has
 * exited and its output is drained; rejects only when it cannot be started (e.g. ENOENT).
 */
export function runProcess(command: string, args: readonly string[], opts: RunOptions): Promise<RunOutcome> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) {
      resolve({ exitCode: null, signal: null, stopped: 'cancelled' });
      return;
    }
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: opts.env ?? process.env });
    let stopped: RunOutcome['stopped'];
    let killTimer: NodeJS.Timeout | undefined;
    let deadlineTimer: NodeJS.Timeout | undefined;

    const killGroup = (sig: NodeJS.Signals): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        // The group is already gone.
      }
    };
    const stop = (why: NonNullable<RunOutcome['stopped']>): void => {
      if (stopped) return;
      stopped = why;
      // SIGTERM first: buildah then removes its working container (with --force-rm) and releases storage locks.
      killGroup('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), opts.killGraceMs ?? 5_000);
      killTimer.unref();
    };
    const onAbort = (): void => stop('cancelled');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.deadline !== undefined) {
      deadlineTimer = setTimeout(() => stop('timeout'), Math.max(0, opts.deadline - Date.now()));
    }
    if (child.pid !== undefined) trackGroup(child.pid);

    const cleanup = (): void => {
      opts.signal?.removeEventListener('abort', onAbort);
      if (child.pid !== undefined) liveGroups.delete(child.pid);
      clearTimeout(deadlineTimer);
      clearTimeout(killTimer);
    };

    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => opts.onOutput(chunk));
    child.stderr.on('data', (chunk: string) => opts.onOutput(chunk));
    child.once('error', (err) => {
      cleanup();
      reject(err);
    });
    // 'close' (not 'exit'): waits until stdout and stderr are drained.
    child.once('close', (exitCode, signal) => {
      cleanup();
      if (stopped) killGroup('SIGKILL'); // stragglers that ignored SIGTERM
      resolve({ exitCode, signal, ...(stopped ? { stopped } : {}) });
    });
  });
}
