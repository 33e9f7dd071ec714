import { spawn } from 'node:child_process';

export interface GitRunOptions {
  gitPath?: string;
  cwd?: string;
  /** The whole environment of the child (never merged with process.env here: callers decide what leaks in). */
  env: NodeJS.ProcessEnv;
  input?: string | Buffer;
  /** Killed with SIGKILL after this long; the result then has `timedOut: true`. */
  timeoutMs?: number;
  /** Each stderr line as it arrives (git reports progress and remote messages there). */
  onStderrLine?: (line: string) => void;
}

export interface GitRunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs git with an argument array (never a shell) and collects its output. Rejects only when git cannot start. */
export function runGit(args: readonly string[], opts: GitRunOptions): Promise<GitRunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(opts.gitPath ?? 'git', args, { cwd: opts.cwd, env: opts.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let pending = '';
    let timedOut = false;
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(
            () => {
              timedOut = true;
              child.kill('SIGKILL');
            },
            Math.max(1, opts.timeoutMs),
          );

    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr.push(chunk);
      if (!opts.onStderrLine) return;
      pending += chunk.toString('utf8');
      const lines = pending.split(/\r\n|\r|\n/);
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) opts.onStderrLine(line);
    });
    child.once('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code) => {
      if (timer) clearTimeout(timer);
      if (opts.onStderrLine && pending.trim()) opts.onStderrLine(pending);
      resolve({ code, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8'), timedOut });
    });
    // A child that exits before reading its stdin makes the write fail with EPIPE; its exit code tells the story.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** An environment in which git reads no system or user configuration and never prompts. */
export function isolatedGitEnv(home: string, extraConfig: ReadonlyArray<readonly [string, string]> = []): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: home,
    XDG_CONFIG_HOME: home,
    LANG: 'C',
    LC_ALL: 'C',
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
  };
  const config: Array<readonly [string, string]> = [['advice.defaultBranchName', 'false'], ...extraConfig];
  env.GIT_CONFIG_COUNT = String(config.length);
  config.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key;
    env[`GIT_CONFIG_VALUE_${i}`] = value;
  });
  return env;
}
