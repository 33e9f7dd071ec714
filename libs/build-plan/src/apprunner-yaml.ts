import type { Runtime } from '@aws-sdk/client-apprunner';
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, type Document, type Node, type Pair, type YAMLMap } from 'yaml';
import { CONFIG_RUNTIME_NAMES, RUNTIMES, checkRuntimeVersion, usesRevisedBuild } from './runtimes';

/**
 * apprunner.yaml, as the guide's configuration file reference defines it (L7705-7967): `version` and
 * `runtime` on top, a `build` section and a `run` section. Parsed with YAML 1.2's core schema, so `no`,
 * `yes` and `on` stay strings; numbers written where text is expected (`version: 1.0`,
 * `runtime-version: 3.10`, `value: 8080`) keep the text as written.
 */

/** One problem in the file, 1-based line and column of the offending key or value. */
export interface ConfigError {
  line: number;
  column: number;
  /** Dotted path of the offending entry, e.g. `run.network.port` or `build.env[1].name`; empty for the file itself. */
  path: string;
  message: string;
}

export interface EnvVar {
  name: string;
  value: string;
}

export interface SecretRef {
  name: string;
  /** Secrets Manager secret ARN, SSM parameter ARN, or an SSM parameter name (same Region). */
  valueFrom: string;
}

export interface ApprunnerConfig {
  version: '1.0';
  /** The SDK enum value of the file's `runtime`. */
  runtime: Runtime;
  /** `runtime` as written in the file (`python311`). */
  runtimeName: string;
  build?: {
    commands: { preBuild: string[]; build: string[]; postBuild: string[] };
    env: EnvVar[];
  };
  run: {
    /** The `runtime-version` lock as written (`3.11`); undefined: the latest version of the runtime. */
    runtimeVersion?: string;
    /** Revised-build runtimes only. */
    preRun: string[];
    command: string;
    /** `port` undefined means App Runner's default, 8080. */
    network?: { port?: number; env?: string };
    env: EnvVar[];
    secrets: SecretRef[];
  };
}

export type ApprunnerYamlResult = { ok: true; config: ApprunnerConfig } | { ok: false; errors: ConfigError[] };

export const APPRUNNER_YAML = 'apprunner.yaml';

/** Names App Runner reserves for itself (L5290): the service cannot set them. */
export const RESERVED_ENV_NAME = /^(PORT|AWSAPPRUNNER.*)$/;
/** Build env reaches build commands as shell variables, so it needs shell-variable names. */
export const BUILD_ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Runtime names: printable ASCII without `=` or spaces (the guide's own examples use `my-secret`). */
export const RUNTIME_ENV_NAME = /^[!-<>-~]+$/;

const SECTIONS = {
  top: ['version', 'runtime', 'build', 'run'],
  build: ['commands', 'env'],
  commands: ['pre-build', 'build', 'post-build'],
  run: ['runtime-version', 'pre-run', 'command', 'network', 'env', 'secrets'],
  network: ['port', 'env'],
  env: ['name', 'value'],
  secrets: ['name', 'value-from'],
} as const;

/** Where a key that is misplaced belongs, for a more helpful "unknown key" error. */
const MISPLACED: Record<string, Record<string, string>> = {
  top: {
    'runtime-version': 'run.runtime-version',
    'pre-run': 'run.pre-run',
    command: 'run.command',
    network: 'run.network',
    env: 'run.env or build.env',
    secrets: 'run.secrets',
    commands: 'build.commands',
    'pre-build': 'build.commands.pre-build',
    'post-build': 'build.commands.post-build',
  },
  build: {
    'pre-build': 'build.commands.pre-build',
    build: 'build.commands.build',
    'post-build': 'build.commands.post-build',
    'pre-run': 'run.pre-run',
  },
  commands: { 'pre-run': 'run.pre-run', env: 'build.env' },
  run: {
    port: 'run.network.port',
    commands: 'build.commands',
    'pre-build': 'build.commands.pre-build',
    build: 'build.commands.build',
    'post-build': 'build.commands.post-build',
    'start-command': 'run.command',
  },
  network: {},
  env: { 'value-from': 'run.secrets (name + value-from)' },
  secrets: { value: 'run.env (name + value)' },
};

export function parseApprunnerYaml(text: string): ApprunnerYamlResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, schema: 'core', version: '1.2', prettyErrors: false, uniqueKeys: true });
  const checker = new Checker(doc, lineCounter);
  if (doc.errors.length > 0) {
    // Syntax errors first: walking a half-parsed tree would only add noise.
    for (const err of doc.errors) checker.errorAtOffset(err.pos[0], '', `YAML syntax: ${err.message}`);
    return { ok: false, errors: checker.sorted() };
  }
  const config = checker.file();
  const errors = checker.sorted();
  return errors.length > 0 || !config ? { ok: false, errors } : { ok: true, config };
}

/** `apprunner.yaml:LINE:COL path: message`, one per line, for build logs and operation reasons. */
export function formatConfigErrors(errors: ConfigError[], file = APPRUNNER_YAML): string {
  return errors.map((e) => `${file}:${e.line}:${e.column}${e.path ? ` ${e.path}` : ''}: ${e.message}`).join('\n');
}

type Anchor = Node | null | undefined;

class Checker {
  private readonly errors: ConfigError[] = [];

  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  sorted(): ConfigError[] {
    return [...this.errors].sort((a, b) => a.line - b.line || a.column - b.column);
  }

  errorAtOffset(offset: number, path: string, message: string): void {
    const { line, col } = this.lines.linePos(offset);
    this.errors.push({ line, column: col, path, message });
  }

  private error(at: Anchor, path: string, message: string): void {
    this.errorAtOffset(at?.range?.[0] ?? 0, path, message);
  }

  private deref(node: unknown): Node | null {
    if (isAlias(node)) return (node.resolve(this.doc) as Node | undefined) ?? null;
    return (node as Node | null) ?? null;
  }

  file(): ApprunnerConfig | undefined {
    const root = this.deref(this.doc.contents);
    if (root === null || (isScalar(root) && root.value === null)) {
      this.error(null, '', 'The file is empty: it needs version, runtime, build and run (see the configuration file reference).');
      return undefined;
    }
    const top = this.section(root, '', 'top', null);
    if (!top) return undefined;

    const version = this.text(top.get('version'), 'version', { required: true, anchor: null });
    if (version !== undefined && version !== '1.0') {
      this.error(
        top.get('version')?.value as Node,
        'version',
        `version must be 1.0 (the only configuration file version), got "${version}".`,
      );
    }

    const runtimeName = this.text(top.get('runtime'), 'runtime', { required: true, anchor: null });
    let runtime: Runtime | undefined;
    if (runtimeName !== undefined) {
      runtime = CONFIG_RUNTIME_NAMES[runtimeName];
      if (!runtime) {
        const lower = CONFIG_RUNTIME_NAMES[runtimeName.toLowerCase()] ? ` (names are lower case: ${runtimeName.toLowerCase()})` : '';
        this.error(
          top.get('runtime')?.value as Node,
          'runtime',
          `Unknown runtime "${runtimeName}"${lower}. Valid runtimes: ${Object.keys(CONFIG_RUNTIME_NAMES).join(', ')}.`,
        );
      }
    }

    const buildPair = top.get('build');
    const build = buildPair ? this.build(buildPair) : undefined;
    const runPair = top.get('run');
    if (!runPair) this.error(null, 'run', 'The run section is required (it holds the start command).');
    const run = runPair ? this.run(runPair, runtime) : undefined;

    if (this.errors.length > 0 || !runtime || !runtimeName || !run) return undefined;
    return { version: '1.0', runtime, runtimeName, ...(build ? { build } : {}), run };
  }

  private build(pair: Pair): ApprunnerConfig['build'] {
    const section = this.section(pair.value, 'build', 'build', pair.key as Node);
    if (!section) return undefined;
    const commandsPair = section.get('commands');
    let commands = { preBuild: [] as string[], build: [] as string[], postBuild: [] as string[] };
    if (!commandsPair) {
      this.error(pair.key as Node, 'build.commands', 'build.commands is required (with at least the build commands).');
    } else {
      const c = this.section(commandsPair.value, 'build.commands', 'commands', commandsPair.key as Node);
      if (c) {
        const buildCommands = c.get('build');
        if (!buildCommands)
          this.error(
            commandsPair.key as Node,
            'build.commands.build',
            'build.commands.build is required: the commands that build your application.',
          );
        commands = {
          preBuild: this.commandList(c.get('pre-build'), 'build.commands.pre-build'),
          build: this.commandList(buildCommands, 'build.commands.build', { nonEmpty: true }),
          postBuild: this.commandList(c.get('post-build'), 'build.commands.post-build'),
        };
      }
    }
    const env = this.envList(section.get('env'), 'build.env', 'build');
    return { commands, env: env.map(({ name, value }) => ({ name, value: value! })) };
  }

  private run(pair: Pair, runtime: Runtime | undefined): ApprunnerConfig['run'] | undefined {
    const section = this.section(pair.value, 'run', 'run', pair.key as Node);
    if (!section) return undefined;
    const out: ApprunnerConfig['run'] = { preRun: [], command: '', env: [], secrets: [] };

    const versionPair = section.get('runtime-version');
    const runtimeVersion = this.text(versionPair, 'run.runtime-version');
    if (runtimeVersion !== undefined) {
      out.runtimeVersion = runtimeVersion;
      if (runtime) {
        const checked = checkRuntimeVersion(runtime, runtimeVersion);
        if (!checked.ok) this.error(versionPair!.value as Node, 'run.runtime-version', checked.error);
      }
    }

    const preRunPair = section.get('pre-run');
    if (preRunPair) {
      out.preRun = this.commandList(preRunPair, 'run.pre-run');
      if (runtime && !usesRevisedBuild(runtime)) {
        const revised = Object.values(RUNTIMES)
          .filter((r) => r.build === 'revised')
          .map((r) => r.configName);
        this.error(
          preRunPair.key as Node,
          'run.pre-run',
          `pre-run is supported only by runtimes that use the revised App Runner build (${revised.join(', ')}); ${RUNTIMES[runtime].configName} uses the original build.`,
        );
      }
    }

    const command = this.text(section.get('command'), 'run.command', { required: true, anchor: pair.key as Node });
    if (command !== undefined) out.command = command;

    const networkPair = section.get('network');
    if (networkPair) {
      const network = this.section(networkPair.value, 'run.network', 'network', networkPair.key as Node);
      if (network) {
        out.network = {};
        const port = this.port(network.get('port'));
        if (port !== undefined) out.network.port = port;
        const envPair = network.get('env');
        const envName = this.text(envPair, 'run.network.env');
        if (envName !== undefined) {
          const problem = runtimeNameProblem(envName);
          if (problem) this.error(envPair!.value as Node, 'run.network.env', problem);
          out.network.env = envName;
        }
      }
    }

    const seen = new Map<string, string>();
    if (out.network?.env) seen.set(out.network.env, 'run.network.env');
    out.env = this.envList(section.get('env'), 'run.env', 'run', seen).map(({ name, value }) => ({ name, value: value! }));
    out.secrets = this.envList(section.get('secrets'), 'run.secrets', 'secrets', seen).map(({ name, value }) => ({
      name,
      valueFrom: value!,
    }));
    return out;
  }

  /** A mapping with only the allowed keys; returns its pairs by key. */
  private section(node: unknown, path: string, kind: keyof typeof SECTIONS, anchor: Anchor): Map<string, Pair> | undefined {
    const value = this.deref(node);
    const where = path || 'The file';
    if (!isMap(value)) {
      this.error(value ?? anchor, path, `${where} must be a mapping (key: value lines)${describe(value)}.`);
      return undefined;
    }
    const allowed: readonly string[] = SECTIONS[kind];
    const pairs = new Map<string, Pair>();
    for (const item of (value as YAMLMap).items) {
      const keyNode = this.deref(item.key);
      const key = isScalar(keyNode) ? keyNode.value : undefined;
      const keyPath = path ? `${path}.${String(key)}` : String(key);
      if (typeof key !== 'string') {
        this.error(keyNode, path, `${where} has a key that is not a name${keyNode ? ` (${String(keyNode)})` : ''}.`);
        continue;
      }
      if (!allowed.includes(key)) {
        const belongs = MISPLACED[kind][key];
        const hint = belongs ? ` ${key} belongs under ${belongs}.` : '';
        this.error(keyNode, keyPath, `Unknown key "${key}" in ${path || 'the top section'}.${hint} Allowed keys: ${allowed.join(', ')}.`);
        continue;
      }
      pairs.set(key, item as Pair);
    }
    return pairs;
  }

  /**
   * A scalar read as text. Numbers and booleans written without quotes keep their source text, so
   * `version: 1.0` is "1.0" and `runtime-version: 3.10` is "3.10", not 3.1.
   */
  private text(pair: Pair | undefined, path: string, opts: { required?: boolean; anchor?: Anchor } = {}): string | undefined {
    if (!pair) {
      if (opts.required) this.error(opts.anchor, path, `${path} is required.`);
      return undefined;
    }
    const value = this.deref(pair.value);
    if (value === null || (isScalar(value) && value.value === null)) {
      this.error(pair.key as Node, path, `${path} must not be empty.`);
      return undefined;
    }
    if (!isScalar(value)) {
      this.error(value, path, `${path} must be a single value, not a ${isSeq(value) ? 'list' : 'mapping'}.`);
      return undefined;
    }
    const text = typeof value.value === 'string' ? value.value : (value.source ?? String(value.value));
    if (text.trim() === '') {
      this.error(value, path, `${path} must not be empty.`);
      return undefined;
    }
    return text;
  }

  private commandList(pair: Pair | undefined, path: string, opts: { nonEmpty?: boolean } = {}): string[] {
    if (!pair) return [];
    const value = this.deref(pair.value);
    if (!isSeq(value)) {
      const found = value === null || (isScalar(value) && value.value === null) ? ' (it is empty)' : describe(value);
      this.error(
        value && !(isScalar(value) && value.value === null) ? value : (pair.key as Node),
        path,
        `${path} must be a list of commands ("- command" lines)${found}.`,
      );
      return [];
    }
    if (opts.nonEmpty && value.items.length === 0) this.error(value, path, `${path} must list at least one command.`);
    const out: string[] = [];
    value.items.forEach((item, i) => {
      const node = this.deref(item);
      if (!isScalar(node) || node.value === null) {
        this.error(node ?? value, `${path}[${i}]`, `${path}[${i}] must be a command (text)${describe(node)}.`);
        return;
      }
      const text = typeof node.value === 'string' ? node.value : (node.source ?? String(node.value));
      if (text.trim() === '') this.error(node, `${path}[${i}]`, `${path}[${i}] is an empty command.`);
      else out.push(text);
    });
    return out;
  }

  /** `env` / `secrets` lists of {name, value} or {name, value-from}; names unique within `seen`. */
  private envList(
    pair: Pair | undefined,
    path: string,
    kind: 'build' | 'run' | 'secrets',
    seen = new Map<string, string>(),
  ): { name: string; value?: string }[] {
    if (!pair) return [];
    const value = this.deref(pair.value);
    const valueKey = kind === 'secrets' ? 'value-from' : 'value';
    if (!isSeq(value)) {
      this.error(
        value && !(isScalar(value) && value.value === null) ? value : (pair.key as Node),
        path,
        `${path} must be a list of "- name: …" / "${valueKey}: …" entries${describe(value)}.`,
      );
      return [];
    }
    const out: { name: string; value?: string }[] = [];
    value.items.forEach((item, i) => {
      const itemPath = `${path}[${i}]`;
      const entry = this.section(item, itemPath, kind === 'secrets' ? 'secrets' : 'env', null);
      if (!entry) return;
      const name = this.text(entry.get('name'), `${itemPath}.name`, { required: true, anchor: this.deref(item) });
      const val = this.text(entry.get(valueKey), `${itemPath}.${valueKey}`, { required: true, anchor: this.deref(item) });
      if (name === undefined || val === undefined) return;
      const nameNode = entry.get('name')!.value as Node;
      const valNode = entry.get(valueKey)!.value as Node;
      const problem = kind === 'build' ? buildNameProblem(name) : runtimeNameProblem(name);
      if (problem) this.error(nameNode, `${itemPath}.name`, problem);
      else if (seen.has(name)) this.error(nameNode, `${itemPath}.name`, `${name} is already defined in ${seen.get(name)}.`);
      seen.set(name, itemPath);
      if (kind === 'build' && /[\r\n]/.test(val)) {
        this.error(valNode, `${itemPath}.value`, 'Build environment values cannot contain line breaks.');
      }
      if (kind === 'secrets') {
        const refProblem = secretRefProblem(val);
        if (refProblem) this.error(valNode, `${itemPath}.value-from`, refProblem);
      }
      out.push({ name, value: val });
    });
    return out;
  }

  private port(pair: Pair | undefined): number | undefined {
    const text = this.text(pair, 'run.network.port');
    if (text === undefined) return undefined;
    const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
    if (!(port >= 1 && port <= 65535)) {
      this.error(pair!.value as Node, 'run.network.port', `run.network.port must be a port number from 1 to 65535, got "${text}".`);
      return undefined;
    }
    return port;
  }
}

function describe(node: Node | null): string {
  if (node === null || (isScalar(node) && node.value === null)) return '';
  if (isScalar(node)) return `, got "${node.source ?? String(node.value)}"`;
  if (isSeq(node)) return ', got a list';
  if (isMap(node)) return ', got a mapping';
  return '';
}

function buildNameProblem(name: string): string | undefined {
  if (!BUILD_ENV_NAME.test(name)) {
    return `"${name}" is not a valid build environment variable name: use letters, digits and _, not starting with a digit (build commands refer to it by name).`;
  }
  return undefined;
}

/** Why `name` cannot be a runtime environment variable, or undefined when it can. */
export function runtimeNameProblem(name: string): string | undefined {
  if (!RUNTIME_ENV_NAME.test(name)) return `"${name}" is not a valid environment variable name (no spaces, "=" or control characters).`;
  if (RESERVED_ENV_NAME.test(name)) return `${name} is reserved by App Runner (PORT and names starting with AWSAPPRUNNER).`;
  return undefined;
}

/** value-from: a Secrets Manager or SSM ARN, or a bare SSM parameter name (same Region; L5487-5491). */
export function secretRefProblem(ref: string): string | undefined {
  if (/\s/.test(ref)) return `"${ref}" is not a secret reference (it contains whitespace).`;
  if (!ref.startsWith('arn:')) return undefined;
  if (!/^arn:aws[a-z-]*:(secretsmanager|ssm):[^:]*:[^:]*:.+$/.test(ref)) {
    return `"${ref}" is not a Secrets Manager secret ARN or an SSM parameter ARN.`;
  }
  return undefined;
}
