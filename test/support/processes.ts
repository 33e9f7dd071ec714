import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import type { PlatformConfig } from '@apprunner/core';
import { type TestClusterInfo, workerKubeOptions } from './cluster';

const ROOT = join(__dirname, '../..');

/** A platform process (the API's or the worker's own main.ts) started as production starts it, in a process of its own. */
export interface PlatformProcess {
  child: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Resolves with how it ended: exit code or signal, and after how many ms since `since` (default: now). */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  /** SIGKILL if still running (clean-up). */
  kill(): void;
}

/** The platform's configuration as the environment a process reads it from. */
export function configEnv(config: PlatformConfig, overrides: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };
  for (const [k, v] of Object.entries(config)) if (v !== undefined) env[k] = String(v);
  return { ...env, ...overrides };
}

/** A kubeconfig file for the chart's worker ServiceAccount, against `server` (the API server or a proxy before it). */
export function workerKubeconfig(cluster: TestClusterInfo, server?: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'apprunner-kubeconfig-')), 'worker.kubeconfig');
  const options = workerKubeOptions(cluster, server) as {
    clusters: { name: string; server: string; caData?: string; skipTLSVerify?: boolean }[];
    users: { name: string; token: string }[];
    contexts: { name: string; cluster: string; user: string }[];
    currentContext: string;
  };
  const c = options.clusters[0];
  writeFileSync(
    file,
    YAML.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: c.name,
          cluster: {
            server: c.server,
            ...(c.caData ? { 'certificate-authority-data': c.caData } : {}),
            ...(c.skipTLSVerify ? { 'insecure-skip-tls-verify': true } : {}),
          },
        },
      ],
      users: options.users.map((u) => ({ name: u.name, user: { token: u.token } })),
      contexts: options.contexts.map((x) => ({ name: x.name, context: { cluster: x.cluster, user: x.user } })),
      'current-context': options.currentContext,
    }),
    { mode: 0o600 },
  );
  return file;
}

/**
 * Starts `apps/<app>/src/main.ts` with exactly `env`: under vite-node (the TypeScript sources, as the tests run them),
 * or from `compiled` (test/support/compiled.ts) when the suite starts it many times. `ready` says from its output when
 * it is up; the promise rejects if it exits first or takes longer than `timeoutMs`.
 */
export async function startPlatformProcess(
  app: 'api' | 'worker',
  env: Record<string, string>,
  ready: (output: string) => boolean,
  timeoutMs = 60_000,
  compiled?: string,
): Promise<PlatformProcess> {
  const args = compiled
    ? [join(compiled, `apps/${app}/src/main.js`)]
    : [join(ROOT, 'node_modules/vite-node/vite-node.mjs'), '-c', join(ROOT, 'vitest.config.mts'), join(ROOT, `apps/${app}/src/main.ts`)];
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += String(d)));
  child.stderr!.on('data', (d) => (out += String(d)));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  const proc: PlatformProcess = {
    child,
    output: () => out,
    exited: () => exit,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
  const deadline = Date.now() + timeoutMs;
  while (!ready(out)) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${app} exited before it was ready:\n${out}`);
    if (Date.now() > deadline) {
      proc.kill();
      throw new Error(`${app} not ready after ${timeoutMs} ms:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return proc;
}
