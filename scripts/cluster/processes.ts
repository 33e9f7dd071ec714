import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import type { Identity } from './pki';

/** A process the cluster started: enough to find it again (and only it) from another process. */
export interface Started {
  name: string;
  pid: number;
  log: string;
}

/**
 * Starts a component detached from this process (it outlives `npm run cluster -- up`), its output in `log`.
 * Every component's command line names the cluster's folder, which is how `stop` tells it from a reused pid.
 */
export function startProcess(name: string, bin: string, args: string[], log: string, env: NodeJS.ProcessEnv = {}): Started {
  const out = openSync(log, 'a');
  try {
    const child = spawn(bin, args, { detached: true, stdio: ['ignore', out, out], env: { ...process.env, ...env } });
    if (child.pid === undefined) throw new Error(`${name} did not start (${bin})`);
    child.unref();
    return { name, pid: child.pid, log };
  } finally {
    closeSync(out);
  }
}

function cmdline(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`).toString().split('\0').join(' ');
  } catch {
    return undefined;
  }
}

/** Whether `pid` still runs and is the one we started (its command line mentions `marker`). */
export function isOurs(pid: number, marker: string): boolean {
  const cmd = cmdline(pid);
  if (cmd === undefined) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`).toString();
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return false; // a zombie has exited
  } catch {
    return false;
  }
  return cmd.includes(marker);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGTERM, then SIGKILL after `graceMs`; only processes that are ours. */
export async function stopProcesses(started: Started[], marker: string, graceMs = 10_000): Promise<void> {
  const alive = () => started.filter((p) => isOurs(p.pid, marker));
  for (const p of alive()) {
    try {
      process.kill(p.pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
  }
  const deadline = Date.now() + graceMs;
  while (alive().length > 0 && Date.now() < deadline) await sleep(100);
  for (const p of alive()) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  while (alive().length > 0) await sleep(50);
}

/** A free TCP port on 127.0.0.1 (bound, then released; the caller starts its server right away). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface Probe {
  url: string;
  ca?: string;
  client?: Identity;
  /** Accept any serving certificate (components that serve a self-signed one). */
  insecure?: boolean;
  /** A bearer token instead of a client certificate. */
  token?: string;
}

/** GET `url`; resolves the status code and body, or undefined when nothing answers. */
export function get(probe: Probe, timeoutMs = 2_000): Promise<{ status: number; body: string } | undefined> {
  return new Promise((resolve) => {
    const url = new URL(probe.url);
    const tls = url.protocol === 'https:';
    const options = {
      method: 'GET',
      timeout: timeoutMs,
      ...(tls
        ? {
            ca: probe.ca ? readFileSync(probe.ca) : undefined,
            cert: probe.client ? readFileSync(probe.client.cert) : undefined,
            key: probe.client ? readFileSync(probe.client.key) : undefined,
            rejectUnauthorized: !probe.insecure,
          }
        : {}),
    };
    const req = (tls ? request : httpRequest)(url, options, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

/**
 * Waits until `probe` answers 200, failing early (with the log's tail) when the process exits first.
 */
export async function waitHealthy(p: Started, marker: string, probe: Probe, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (!isOurs(p.pid, marker)) throw new Error(`${p.name} exited during start-up:\n${tail(p.log)}`);
    const res = await get(probe);
    if (res?.status === 200) return;
    if (res) last = `${res.status} ${res.body.slice(0, 300)}`;
    await sleep(200);
  }
  throw new Error(`${p.name} was not healthy after ${timeoutMs / 1000} s (${probe.url}: ${last}):\n${tail(p.log)}`);
}

/** One request to the API server as `target.client` (JSON in and out); rejects on a status of 300 or more (the error carries `statusCode` and the parsed `body`). */
export function kubeRequest<T = unknown>(
  target: Probe,
  method: string,
  path: string,
  body?: object,
  contentType = 'application/json',
): Promise<T> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, target.url);
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      url,
      {
        method,
        headers: {
          accept: 'application/json',
          ...(target.token ? { authorization: `Bearer ${target.token}` } : {}),
          ...(data !== undefined ? { 'content-type': contentType, 'content-length': Buffer.byteLength(data) } : {}),
        },
        ca: target.ca ? readFileSync(target.ca) : undefined,
        cert: target.client ? readFileSync(target.client.cert) : undefined,
        key: target.client ? readFileSync(target.client.key) : undefined,
      },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => {
          if (!res.statusCode || res.statusCode >= 300) {
            const error = new Error(`${method} ${url.pathname}: ${res.statusCode} ${text.slice(0, 500)}`) as Error & {
              statusCode?: number;
              body?: unknown;
            };
            error.statusCode = res.statusCode;
            try {
              error.body = JSON.parse(text);
            } catch {
              error.body = text;
            }
            return reject(error);
          }
          resolve((text ? JSON.parse(text) : undefined) as T);
        });
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

/** Server-side apply of one object at its resource path (force, field manager apprunner-local-cluster). */
export async function rawApply(target: Probe, path: string, object: object): Promise<void> {
  await kubeRequest(target, 'PATCH', `${path}?fieldManager=apprunner-local-cluster&force=true`, object, 'application/apply-patch+yaml');
}

export function tail(log: string, lines = 20): string {
  if (!existsSync(log)) return '(no log)';
  return readFileSync(log).toString().trimEnd().split('\n').slice(-lines).join('\n');
}
