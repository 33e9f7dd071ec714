import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/**
 * A routed "cluster" built from network namespaces, never touching the host's own interfaces or rules: a router
 * namespace and one namespace per endpoint, each joined to the router by a veth pair. Like Calico, every endpoint
 * address is a /32 routed to its veth, so all traffic between endpoints crosses the router's forward hook, where
 * the ruleset under test is applied. One agent process per endpoint serves its ports and opens the probes.
 */

const AGENT = join(__dirname, 'agent.mjs');
const NAME_PREFIX = 'arnet-';
/** The router's address on every veth: the endpoints' gateway (TEST-NET-1, routed nowhere else). */
const GATEWAY = '192.0.2.1';

export type Outcome = 'connected' | 'dropped' | 'refused' | 'error';

export interface EndpointSpec {
  /** Short name, also the agent's greeting. */
  name: string;
  ips: string[];
  tcp?: number[];
  udp?: number[];
}

export interface ProbeResult {
  outcome: Outcome;
  /** The listener's greeting (`<name> <ip>:<port>`) when connected, else the error. */
  reply: string;
}

interface Agent {
  child: ChildProcessWithoutNullStreams;
  pending: Map<number, (result: ProbeResult) => void>;
  exited: Promise<void>;
}

function run(args: string[], input?: string): string {
  const result = spawnSync(args[0], args.slice(1), { input, encoding: 'utf8', timeout: 10_000 });
  if (result.error) throw new Error(`${args.join(' ')}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}: ${result.stderr.trim()}`);
  return result.stdout;
}

/**
 * Why this machine cannot run the lab, or undefined when it can. Tries the real thing (a namespace, a veth
 * inside it, nft in it) rather than guessing from the uid alone.
 */
export function labUnavailableReason(): string | undefined {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'not running as root (ip netns, veth and nft need CAP_SYS_ADMIN and CAP_NET_ADMIN)';
  for (const [tool, flag] of [
    ['ip', '-V'],
    ['nft', '--version'],
  ]) {
    if (spawnSync(tool, [flag]).error) return `${tool} is not installed (iproute2 / nftables)`;
  }
  const probe = `${NAME_PREFIX}${process.pid}-probe`;
  try {
    run(['ip', 'netns', 'add', probe]);
    run(['ip', '-n', probe, 'link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'p1']);
    run(
      ['ip', 'netns', 'exec', probe, 'nft', '-f', '-'],
      'table inet probe {\n  chain f {\n    type filter hook forward priority filter;\n  }\n}\n',
    );
    return undefined;
  } catch (err) {
    return `ip netns / veth / nft unavailable: ${(err as Error).message}`;
  } finally {
    spawnSync('ip', ['netns', 'del', probe]);
  }
}

/** Namespaces left by runs whose process is gone (a killed worker cannot clean up after itself). */
function removeStaleNamespaces(): void {
  for (const line of run(['ip', 'netns', 'list']).split('\n')) {
    const name = line.split(' ')[0];
    const pid = Number(new RegExp(`^${NAME_PREFIX}(\\d+)-`).exec(name)?.[1]);
    if (!pid || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch {
      spawnSync('ip', ['netns', 'del', name]);
    }
  }
}

export class NetnsLab {
  /** Every namespace of this run starts with it: `arnet-<pid>-<random>-`. */
  readonly prefix = `${NAME_PREFIX}${process.pid}-${randomBytes(2).toString('hex')}-`;
  readonly router = `${this.prefix}router`;
  private readonly namespaces: string[] = [];
  private readonly agents = new Map<string, Agent>();
  private readonly endpoints = new Map<string, EndpointSpec>();
  private nextId = 1;
  // Each probe binds its own source port, so no probe ever meets a conntrack entry left by an earlier one.
  private nextSourcePort = 20_000;

  constructor() {
    removeStaleNamespaces();
    try {
      this.addNamespace(this.router);
      run(['ip', 'netns', 'exec', this.router, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    } catch (err) {
      // No lab object reaches the caller's afterAll, so undo here.
      for (const ns of this.namespaces) spawnSync('ip', ['netns', 'del', ns]);
      throw err;
    }
  }

  private addNamespace(name: string): void {
    run(['ip', 'netns', 'add', name]);
    this.namespaces.push(name);
    run(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
  }

  /** A namespace for the endpoint, wired to the router, with its agent listening. */
  async addEndpoint(spec: EndpointSpec): Promise<void> {
    if (this.endpoints.has(spec.name)) throw new Error(`Endpoint ${spec.name} exists already.`);
    const ns = `${this.prefix}${spec.name}`;
    const veth = `v${this.endpoints.size}`;
    this.endpoints.set(spec.name, spec);
    this.addNamespace(ns);
    run(['ip', '-n', this.router, 'link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    run(['ip', '-n', this.router, 'addr', 'add', `${GATEWAY}/32`, 'dev', veth]);
    run(['ip', '-n', this.router, 'link', 'set', veth, 'up']);
    for (const ip of spec.ips) {
      run(['ip', '-n', ns, 'addr', 'add', `${ip}/32`, 'dev', 'eth0']);
      run(['ip', '-n', this.router, 'route', 'add', `${ip}/32`, 'dev', veth]);
    }
    run(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
    run(['ip', '-n', ns, 'route', 'add', `${GATEWAY}/32`, 'dev', 'eth0']);
    run(['ip', '-n', ns, 'route', 'add', 'default', 'via', GATEWAY, 'dev', 'eth0']);
    await this.startAgent(ns, spec);
  }

  private async startAgent(ns: string, spec: EndpointSpec): Promise<void> {
    const child = spawn(
      'ip',
      ['netns', 'exec', ns, process.execPath, AGENT, spec.name, spec.ips.join(','), (spec.tcp ?? []).join(','), (spec.udp ?? []).join(',')],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    const pending = new Map<number, (result: ProbeResult) => void>();
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    this.agents.set(spec.name, { child, pending, exited });
    let stderr = '';
    child.on('error', (err) => (stderr += String(err)));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const lines = createInterface({ input: child.stdout });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Agent ${spec.name} not ready after 15 s. ${stderr}`)), 15_000);
      child.once('close', (code) => reject(new Error(`Agent ${spec.name} exited (${code}) before it was ready: ${stderr}`)));
      lines.on('line', (line) => {
        const message = JSON.parse(line) as { ready?: boolean; error?: string; id?: number } & ProbeResult;
        if (message.ready !== undefined) {
          clearTimeout(timer);
          if (message.ready) resolve();
          else reject(new Error(`Agent ${spec.name} could not listen: ${message.error}`));
          return;
        }
        pending.get(message.id!)?.({ outcome: message.outcome, reply: message.reply });
        pending.delete(message.id!);
      });
    });
  }

  /** Opens a connection (TCP) or sends a datagram and waits for the answer (UDP) from one endpoint to an address. */
  probe(from: string, proto: 'tcp' | 'udp', host: string, port: number, timeoutMs = 1_500): Promise<ProbeResult> {
    const agent = this.agents.get(from);
    if (!agent) throw new Error(`No endpoint ${from}.`);
    const id = this.nextId++;
    const sourcePort = this.nextSourcePort++;
    return new Promise((resolve, reject) => {
      // The agent answers within timeoutMs; this only catches a dead agent.
      const guard = setTimeout(() => reject(new Error(`Agent ${from} did not answer probe ${id}.`)), timeoutMs + 5_000);
      agent.pending.set(id, (result) => (clearTimeout(guard), resolve(result)));
      agent.child.stdin.write(`${JSON.stringify({ id, proto, host, port, sourcePort, timeoutMs })}\n`);
    });
  }

  /** Replaces the router's ruleset (the translator's output replaces its own table atomically). */
  applyRuleset(ruleset: string): void {
    run(['ip', 'netns', 'exec', this.router, 'nft', '-f', '-'], ruleset);
  }

  /** No rules at all: plain routing. Only the router namespace's ruleset is touched. */
  clearRuleset(): void {
    run(['ip', 'netns', 'exec', this.router, 'nft', 'flush', 'ruleset']);
  }

  listRuleset(): string {
    return run(['ip', 'netns', 'exec', this.router, 'nft', 'list', 'ruleset']);
  }

  /** Stops the agents, deletes every namespace of this run (their veths go with them); returns what is left. */
  async destroy(): Promise<string[]> {
    for (const agent of this.agents.values()) agent.child.stdin.end();
    await Promise.all(
      [...this.agents.values()].map(async (agent) => {
        const timer = setTimeout(() => agent.child.kill('SIGKILL'), 3_000);
        await agent.exited;
        clearTimeout(timer);
      }),
    );
    this.agents.clear();
    for (const ns of this.namespaces.reverse()) spawnSync('ip', ['netns', 'del', ns]);
    this.namespaces.length = 0;
    return run(['ip', 'netns', 'list'])
      .split('\n')
      .map((line) => line.split(' ')[0])
      .filter((name) => name.startsWith(this.prefix));
  }
}
