import type { CodeConfiguration, CodeConfigurationValues, Runtime } from '@aws-sdk/client-apprunner';
import { parseApprunnerYaml, runtimeNameProblem, secretRefProblem, type ApprunnerConfig, type ConfigError } from './apprunner-yaml';
import { checkRuntimeVersion, isRuntime, unknownRuntimeMessage } from './runtimes';
import { configFilePath, normalizeSourceDirectory } from './source-directory';

/** What a build needs, whichever way the service supplies its configuration. */
export interface EffectiveBuildConfig {
  runtime: Runtime;
  /** apprunner.yaml `run.runtime-version` as written; the API cannot express a lock. */
  runtimeVersion?: string;
  preBuild: string[];
  build: string[];
  postBuild: string[];
  /** Build-stage variables (pre-build, build, post-build and pre-run see them; the running service does not). */
  buildEnv: Record<string, string>;
  preRun: string[];
  startCommand: string;
  port: number;
  /** apprunner.yaml `run.network.env`: a second variable that receives the port, besides PORT. */
  portEnvName?: string;
  runtimeEnv: Record<string, string>;
  /** Env name → Secrets Manager / SSM ARN (or SSM parameter name), resolved at deploy time. */
  runtimeSecrets: Record<string, string>;
}

export type EffectiveConfigResult = { ok: true; config: EffectiveBuildConfig } | { ok: false; errors: ConfigError[] | string };

export interface EffectiveConfigInput {
  codeConfiguration: CodeConfiguration;
  /** Text of `<SourceDirectory>/apprunner.yaml`, undefined when the checkout has no such file. */
  fileText: string | undefined;
  sourceDirectory?: string;
}

export const DEFAULT_PORT = 8080;

/** The guide: below PHP 8.1.22 only the repository root can be the source directory (L2753-2755, L2829). */
const PHP_NON_ROOT_MINIMUM = '8.1.22';

/**
 * ConfigurationSource REPOSITORY: everything comes from apprunner.yaml and CodeConfigurationValues is
 * ignored; API: everything comes from CodeConfigurationValues and the file is ignored even if present
 * (L4339). The API has no pre-build, post-build, pre-run, build env, port variable or runtime-version lock:
 * those exist only in the file (L1518, L1534, L1565, L7560).
 */
export function effectiveConfig(input: EffectiveConfigInput): EffectiveConfigResult {
  const dir = normalizeSourceDirectory(input.sourceDirectory);
  if (!dir.ok) return { ok: false, errors: dir.error };
  const source = String(input.codeConfiguration.ConfigurationSource ?? '').toUpperCase();

  let result: EffectiveConfigResult;
  if (source === 'REPOSITORY') {
    if (input.fileText === undefined) {
      return {
        ok: false,
        errors: `ConfigurationSource is REPOSITORY, but the repository has no /${configFilePath(dir.path)}: add the App Runner configuration file to the source directory, or set ConfigurationSource to API with CodeConfigurationValues.`,
      };
    }
    const parsed = parseApprunnerYaml(input.fileText);
    if (!parsed.ok) return { ok: false, errors: parsed.errors };
    result = { ok: true, config: fromFile(parsed.config) };
  } else if (source === 'API') {
    result = fromApi(input.codeConfiguration.CodeConfigurationValues);
  } else {
    return {
      ok: false,
      errors: `CodeConfiguration.ConfigurationSource must be REPOSITORY or API, got ${JSON.stringify(input.codeConfiguration.ConfigurationSource ?? null)}.`,
    };
  }
  if (!result.ok) return result;

  const php = phpSourceDirectoryProblem(result.config, dir.path);
  return php ? { ok: false, errors: php } : result;
}

function fromFile(file: ApprunnerConfig): EffectiveBuildConfig {
  const { run, build } = file;
  return {
    runtime: file.runtime,
    ...(run.runtimeVersion !== undefined ? { runtimeVersion: run.runtimeVersion } : {}),
    preBuild: build?.commands.preBuild ?? [],
    build: build?.commands.build ?? [],
    postBuild: build?.commands.postBuild ?? [],
    buildEnv: Object.fromEntries((build?.env ?? []).map((e) => [e.name, e.value])),
    preRun: run.preRun,
    startCommand: run.command,
    port: run.network?.port ?? DEFAULT_PORT,
    ...(run.network?.env !== undefined ? { portEnvName: run.network.env } : {}),
    runtimeEnv: Object.fromEntries(run.env.map((e) => [e.name, e.value])),
    runtimeSecrets: Object.fromEntries(run.secrets.map((s) => [s.name, s.valueFrom])),
  };
}

function fromApi(values: CodeConfigurationValues | undefined): EffectiveConfigResult {
  if (!values) return { ok: false, errors: 'ConfigurationSource is API, but CodeConfigurationValues is missing.' };
  const problems: string[] = [];
  const runtime = values.Runtime;
  if (!isRuntime(runtime)) problems.push(`CodeConfigurationValues.Runtime: ${unknownRuntimeMessage(String(runtime ?? ''))}`);

  const startCommand = values.StartCommand?.trim() ?? '';
  if (startCommand === '') problems.push('CodeConfigurationValues.StartCommand is required: the command that starts your application.');
  const buildCommand = values.BuildCommand?.trim() ?? '';

  const portText = values.Port === undefined || values.Port === '' ? String(DEFAULT_PORT) : values.Port.trim();
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 1 && port <= 65535))
    problems.push(`CodeConfigurationValues.Port must be a port number from 1 to 65535, got "${values.Port}".`);

  const runtimeEnv = { ...(values.RuntimeEnvironmentVariables ?? {}) };
  const runtimeSecrets = { ...(values.RuntimeEnvironmentSecrets ?? {}) };
  for (const name of Object.keys(runtimeEnv)) {
    const problem = runtimeNameProblem(name);
    if (problem) problems.push(`CodeConfigurationValues.RuntimeEnvironmentVariables: ${problem}`);
  }
  for (const [name, ref] of Object.entries(runtimeSecrets)) {
    const problem = runtimeNameProblem(name) ?? secretRefProblem(ref);
    if (problem) problems.push(`CodeConfigurationValues.RuntimeEnvironmentSecrets: ${problem}`);
    if (name in runtimeEnv) problems.push(`${name} is both a RuntimeEnvironmentVariable and a RuntimeEnvironmentSecret.`);
  }
  if (problems.length > 0 || !isRuntime(runtime)) return { ok: false, errors: problems.join(' ') };

  return {
    ok: true,
    config: {
      runtime,
      preBuild: [],
      // The API's BuildCommand is one shell command line, run like one apprunner.yaml build entry.
      build: buildCommand === '' ? [] : [buildCommand],
      postBuild: [],
      buildEnv: {},
      preRun: [],
      startCommand,
      port,
      runtimeEnv,
      runtimeSecrets,
    },
  };
}

function phpSourceDirectoryProblem(config: EffectiveBuildConfig, dir: string): string | undefined {
  if (config.runtime !== 'PHP_81' || dir === '.' || config.runtimeVersion === undefined) return undefined;
  const checked = checkRuntimeVersion('PHP_81', config.runtimeVersion);
  if (!checked.ok || compareVersions(checked.version, PHP_NON_ROOT_MINIMUM) >= 0) return undefined;
  return `runtime-version ${config.runtimeVersion} (PHP ${checked.version}) can only build from the repository root; SourceDirectory /${dir} needs PHP ${PHP_NON_ROOT_MINIMUM} or later.`;
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
