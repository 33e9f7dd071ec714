import type { Runtime } from '@aws-sdk/client-apprunner';

/**
 * App Runner's managed runtimes, as the developer guide describes them (line numbers `Lnnnn` refer to
 * /work/shared/reference/app-runner-developer-guide.ja.txt). Our builds start from public upstream images
 * instead of App Runner's Amazon Linux runtime images; everything else (names, build process, versions,
 * end of support) follows the guide.
 */

export type RuntimeFamily = 'python' | 'nodejs' | 'corretto' | 'dotnet' | 'php' | 'ruby' | 'go';

/**
 * `original`: the CodeBuild-based build (L1510-1536). `revised`: the multi-stage build where only /app
 * reaches the run image and `pre-run` exists (L1538-1577; Python 3.11, Node.js 18 and 22, L1478-1485).
 */
export type BuildProcess = 'original' | 'revised';

export interface EndOfSupport {
  /** ISO date from the guide's end-of-support tables (L1449-1463, L1480-1494). */
  date: string;
  /** The guide's wording, translated, with its line numbers. */
  guide: string;
  /** The runtime the guide tells services to move to, when it names one (L1447). */
  moveTo?: Runtime;
  /**
   * Marked `*` in the guide: App Runner releases no new language versions of this runtime; the guide
   * advises another managed runtime or an image-based service (L1465-1469).
   */
  noNewLanguageVersions: boolean;
}

export interface RuntimeInfo {
  runtime: Runtime;
  /** The `runtime:` name in apprunner.yaml (`<language-name><major-version>`, L1425). */
  configName: string;
  family: RuntimeFamily;
  /** Human name as the guide's tables write it. */
  displayName: string;
  /** The language version line this runtime covers (e.g. `3.11`, or `3` for python3 = 3.7 and 3.8). */
  languageVersion: string;
  build: BuildProcess;
  endOfSupport?: EndOfSupport;
  /**
   * Default base image. `{version}` is replaced by the runtime version the build uses (the
   * `runtime-version` lock resolved against `knownVersions`, else `defaultVersion`); `{sdk}` (.NET only)
   * by the .NET SDK the guide lists for that runtime version. A template without a placeholder is one
   * fixed image.
   */
  defaultImage: string;
  /** The version a build without `runtime-version` uses: the newest in the guide's release table. */
  defaultVersion: string;
  /** Versions from the guide's release-information table, newest first. */
  knownVersions: readonly string[];
  /** .NET: runtime version → SDK version shipped with it (release table, L2699-2722). */
  sdkVersions?: Readonly<Record<string, string>>;
  /** `runtime-version` syntax as the guide writes it. */
  versionSyntax: string;
  /** Version lines (prefixes) a lock must stay within: a lock may be any prefix of, or extend, one of them. */
  versionLines: readonly string[];
  /** Fewest and most dot-separated components a `runtime-version` may have. */
  versionComponents: readonly [min: number, max: number];
}

const LIBRARY = 'public.ecr.aws/docker/library';

const EOS_2025_12_01 = '2025-12-01';
const MOVE_NOTE =
  'App Runner releases no new language versions of this runtime: switch to another supported managed runtime, ' +
  'or build your own container image and deploy it as an image-based service (L1465-1469).';

/** Every value of the SDK's `Runtime` enum; `Record<Runtime, …>` makes a missing one a compile error. */
export const RUNTIMES: Readonly<Record<Runtime, RuntimeInfo>> = {
  PYTHON_3: {
    runtime: 'PYTHON_3',
    configName: 'python3',
    family: 'python',
    displayName: 'Python 3 (3.7, 3.8)',
    languageVersion: '3',
    build: 'original',
    endOfSupport: {
      date: EOS_2025_12_01,
      guide: 'Runtimes supported by Python 3.8 and Python 3.7: end of support 1 December 2025 (L1452-1453, L1607).',
      moveTo: 'PYTHON_311',
      noNewLanguageVersions: false,
    },
    defaultImage: `${LIBRARY}/python:{version}`,
    defaultVersion: '3.8.20',
    knownVersions: ['3.8.20', '3.8.16', '3.8.15', '3.7.16', '3.7.15', '3.7.10'],
    versionSyntax: 'major[.minor[.patch]], e.g. 3.8.5 (L1617-1624)',
    versionLines: ['3.7', '3.8'],
    versionComponents: [1, 3],
  },
  PYTHON_311: {
    runtime: 'PYTHON_311',
    configName: 'python311',
    family: 'python',
    displayName: 'Python 3.11',
    languageVersion: '3.11',
    build: 'revised',
    defaultImage: `${LIBRARY}/python:{version}`,
    defaultVersion: '3.11.14',
    knownVersions: ['3.11.14', '3.11.13', '3.11.12', '3.11.11', '3.11.10', '3.11.9', '3.11.8', '3.11.7'],
    versionSyntax: 'major[.minor[.patch]], e.g. 3.11 (L1617, L1669)',
    versionLines: ['3.11'],
    versionComponents: [1, 3],
  },
  NODEJS_12: nodejs('12', 'original', ['12.22.12', '12.21.0'], 'L1457'),
  NODEJS_14: nodejs('14', 'original', ['14.21.3', '14.21.2', '14.21.1', '14.20.1', '14.19.0'], 'L1456'),
  NODEJS_16: nodejs('16', 'original', ['16.20.2', '16.20.1', '16.20.0', '16.19.1', '16.19.0', '16.18.1', '16.17.1', '16.17.0'], 'L1455'),
  NODEJS_18: nodejs(
    '18',
    'revised',
    ['18.20.8', '18.20.7', '18.20.6', '18.20.5', '18.20.4', '18.20.3', '18.20.2', '18.19.1', '18.19.0'],
    'L1454',
  ),
  NODEJS_22: nodejs('22', 'revised', ['22.21.1', '22.20.0', '22.17.0', '22.16.0', '22.14.0']),
  CORRETTO_11: {
    runtime: 'CORRETTO_11',
    configName: 'corretto11',
    family: 'corretto',
    displayName: 'Corretto 11',
    languageVersion: '11',
    build: 'original',
    // App Runner's Corretto images ship Maven and Gradle (L2514-2532); the Maven image on Corretto is the
    // closest public equivalent. Its tag names only the Corretto major, so a finer lock cannot pick the image.
    defaultImage: `${LIBRARY}/maven:3.9.11-amazoncorretto-11`,
    defaultVersion: '11.0.28.6.1',
    knownVersions: [
      '11.0.28.6.1',
      '11.0.27.6.1',
      '11.0.26.4.1',
      '11.0.25.9.1',
      '11.0.24.8.1',
      '11.0.23.9.1',
      '11.0.22.7.1',
      '11.0.21.9.1',
      '11.0.20.8.1',
      '11.0.19.7.1',
      '11.0.18.10.1',
      '11.0.17.8.1',
      '11.0.16.9.1',
      '11.0.13.08.1',
    ],
    versionSyntax: '11.0[.openjdk-update[.openjdk-build[.corretto-specific-revision]]], e.g. 11.0.13.08.1 (L2289-2293)',
    versionLines: ['11.0'],
    versionComponents: [2, 5],
  },
  CORRETTO_8: {
    runtime: 'CORRETTO_8',
    configName: 'corretto8',
    family: 'corretto',
    displayName: 'Corretto 8',
    languageVersion: '8',
    build: 'original',
    defaultImage: `${LIBRARY}/maven:3.9.11-amazoncorretto-8`,
    defaultVersion: '8.472.08.1',
    knownVersions: [
      '8.472.08.1',
      '8.462.08.1',
      '8.452.09.2',
      '8.452.09.1',
      '8.442.06.1',
      '8.432.06.1',
      '8.422.05.1',
      '8.412.08.1',
      '8.402.08.1',
      '8.392.08.1',
      '8.382.05.1',
      '8.372.07.1',
      '8.362.08.1',
      '8.352.08.1',
      '8.342.07.4',
      '8.312.07.1',
    ],
    versionSyntax: '8[.openjdk-update[.openjdk-build[.corretto-specific-revision]]], e.g. 8.312.07.1 (L2289-2293)',
    versionLines: ['8'],
    versionComponents: [1, 4],
  },
  DOTNET_6: {
    runtime: 'DOTNET_6',
    configName: 'dotnet6',
    family: 'dotnet',
    displayName: '.NET 6',
    languageVersion: '6.0',
    build: 'original',
    endOfSupport: {
      date: EOS_2025_12_01,
      guide: '.NET 6 *: end of support 1 December 2025 (L1460, L2560).',
      noNewLanguageVersions: true,
    },
    // SDK images are tagged by SDK version, not runtime version: `{sdk}` maps one to the other.
    defaultImage: 'mcr.microsoft.com/dotnet/sdk:{sdk}',
    defaultVersion: '6.0.36',
    knownVersions: [
      '6.0.36',
      '6.0.33',
      '6.0.32',
      '6.0.31',
      '6.0.30',
      '6.0.29',
      '6.0.28',
      '6.0.26',
      '6.0.25',
      '6.0.24',
      '6.0.22',
      '6.0.21',
      '6.0.20',
      '6.0.19',
      '6.0.16',
      '6.0.15',
      '6.0.14',
      '6.0.13',
      '6.0.12',
      '6.0.11',
      '6.0.10',
      '6.0.9',
    ],
    sdkVersions: {
      '6.0.36': '6.0.428',
      '6.0.33': '6.0.425',
      '6.0.32': '6.0.424',
      '6.0.31': '6.0.423',
      '6.0.30': '6.0.422',
      '6.0.29': '6.0.421',
      '6.0.28': '6.0.420',
      '6.0.26': '6.0.418',
      '6.0.25': '6.0.417',
      '6.0.24': '6.0.416',
      '6.0.22': '6.0.414',
      '6.0.21': '6.0.413',
      '6.0.20': '6.0.412',
      '6.0.19': '6.0.411',
      '6.0.16': '6.0.408',
      '6.0.15': '6.0.407',
      '6.0.14': '6.0.406',
      '6.0.13': '6.0.405',
      '6.0.12': '6.0.404',
      '6.0.11': '6.0.403',
      '6.0.10': '6.0.402',
      '6.0.9': '6.0.401',
    },
    versionSyntax: 'major[.minor[.patch]], e.g. 6.0.9 (L2570-2572)',
    versionLines: ['6.0'],
    versionComponents: [1, 3],
  },
  PHP_81: {
    runtime: 'PHP_81',
    configName: 'php81',
    family: 'php',
    displayName: 'PHP 8.1',
    languageVersion: '8.1',
    build: 'original',
    endOfSupport: {
      date: '2025-12-31',
      guide: 'PHP 8.1 *: end of support 31 December 2025 (L1461, L2732).',
      noNewLanguageVersions: true,
    },
    defaultImage: `${LIBRARY}/php:{version}-fpm`,
    defaultVersion: '8.1.33',
    knownVersions: [
      '8.1.33',
      '8.1.32',
      '8.1.31',
      '8.1.29',
      '8.1.28',
      '8.1.27',
      '8.1.26',
      '8.1.24',
      '8.1.22',
      '8.1.21',
      '8.1.20',
      '8.1.19',
      '8.1.17',
      '8.1.16',
      '8.1.14',
      '8.1.13',
      '8.1.12',
      '8.1.10',
    ],
    versionSyntax: 'major[.minor[.patch]], e.g. 8.1.10 (L2742-2744)',
    versionLines: ['8.1'],
    versionComponents: [1, 3],
  },
  RUBY_31: {
    runtime: 'RUBY_31',
    configName: 'ruby31',
    family: 'ruby',
    displayName: 'Ruby 3.1',
    languageVersion: '3.1',
    build: 'original',
    endOfSupport: {
      date: EOS_2025_12_01,
      guide: 'Ruby 3.1 *: end of support 1 December 2025 (L1462, L3228).',
      noNewLanguageVersions: true,
    },
    defaultImage: `${LIBRARY}/ruby:{version}`,
    defaultVersion: '3.1.7',
    knownVersions: ['3.1.7', '3.1.6', '3.1.4', '3.1.3', '3.1.2'],
    versionSyntax: 'major[.minor[.patch]], e.g. 3.1.2 (L3238-3240)',
    versionLines: ['3.1'],
    versionComponents: [1, 3],
  },
  GO_1: {
    runtime: 'GO_1',
    configName: 'go1',
    family: 'go',
    displayName: 'Go 1 (1.18)',
    languageVersion: '1.18',
    build: 'original',
    endOfSupport: {
      date: EOS_2025_12_01,
      guide: 'Go 1 *: end of support 1 December 2025; the Go page names Go 1.18 (L1463, L3399).',
      noNewLanguageVersions: true,
    },
    defaultImage: `${LIBRARY}/golang:{version}`,
    defaultVersion: '1.18.10',
    knownVersions: ['1.18.10', '1.18.9', '1.18.8', '1.18.7'],
    versionSyntax: 'major[.minor[.patch]], e.g. 1.18.7 (L3409-3411)',
    versionLines: ['1.18'],
    versionComponents: [1, 3],
  },
};

function nodejs(major: string, build: BuildProcess, knownVersions: string[], eosLine?: string): RuntimeInfo {
  const runtime = `NODEJS_${major}` as Runtime;
  return {
    runtime,
    configName: `nodejs${major}`,
    family: 'nodejs',
    displayName: `Node.js ${major}`,
    languageVersion: major,
    build,
    ...(eosLine
      ? {
          endOfSupport: {
            date: EOS_2025_12_01,
            guide: `Runtimes supported by Node.js ${major}: end of support 1 December 2025 (${eosLine}, L1917).`,
            moveTo: 'NODEJS_22',
            noNewLanguageVersions: false,
          },
        }
      : {}),
    defaultImage: `${LIBRARY}/node:{version}`,
    defaultVersion: knownVersions[0],
    knownVersions,
    versionSyntax: 'major[.minor[.patch]], e.g. 22.14.0 (L1927-1929)',
    versionLines: [major],
    versionComponents: [1, 3],
  };
}

export const RUNTIME_IDS = Object.keys(RUNTIMES) as Runtime[];

/** apprunner.yaml `runtime:` name → SDK enum value. */
export const CONFIG_RUNTIME_NAMES: Readonly<Record<string, Runtime>> = Object.fromEntries(
  RUNTIME_IDS.map((id) => [RUNTIMES[id].configName, id]),
);

export function isRuntime(value: unknown): value is Runtime {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(RUNTIMES, value);
}

export function usesRevisedBuild(runtime: Runtime): boolean {
  return RUNTIMES[runtime].build === 'revised';
}

export function unknownRuntimeMessage(value: string): string {
  return `Unknown runtime "${value}". Valid runtimes: ${RUNTIME_IDS.join(', ')}.`;
}

/** The explanation a build on an end-of-support runtime fails with. */
export function endOfSupportMessage(runtime: Runtime): string | undefined {
  const info = RUNTIMES[runtime];
  const eos = info.endOfSupport;
  if (!eos) return undefined;
  const head = `Runtime ${runtime} (${info.configName}, ${info.displayName}) reached end of support on ${eos.date} and is no longer supported for new builds.`;
  if (eos.moveTo) {
    const target = RUNTIMES[eos.moveTo];
    const revised =
      target.build === 'revised' && info.build !== 'revised'
        ? ` ${target.displayName} uses the revised App Runner build: only /app reaches the run image, so move anything your build installs elsewhere into pre-run (L1447, L1538-1577).`
        : '';
    return `${head} Move to ${eos.moveTo} (runtime: ${target.configName} in apprunner.yaml).${revised}`;
  }
  return `${head} ${MOVE_NOTE}`;
}

// ---------------------------------------------------------------------------------------------------------------
// runtime-version

export type RuntimeVersionCheck = { ok: true; version: string } | { ok: false; error: string };

const NUMERIC_COMPONENTS = /^\d+(\.\d+)*$/;

/**
 * Checks a `runtime-version` lock against the guide's rules for the runtime and resolves it to the version
 * a build uses: a lock that names fewer components than a full version resolves to the newest release in
 * the guide's table it matches (App Runner updates the unlocked levels to the newest); a full version is
 * used as written, even when the guide's snapshot of releases does not list it.
 */
export function checkRuntimeVersion(runtime: Runtime, requested: string): RuntimeVersionCheck {
  const info = RUNTIMES[runtime];
  const value = requested.trim();
  const [min, max] = info.versionComponents;
  if (!NUMERIC_COMPONENTS.test(value)) {
    return { ok: false, error: `runtime-version "${requested}" is not a version: ${info.configName} expects ${info.versionSyntax}.` };
  }
  const parts = value.split('.');
  if (parts.length < min || parts.length > max) {
    return {
      ok: false,
      error: `runtime-version "${value}" has ${parts.length} component(s); ${info.configName} expects ${min === max ? min : `${min} to ${max}`} (${info.versionSyntax}).`,
    };
  }
  const onLine = info.versionLines.some((line) => isComponentPrefix(parts, line.split('.')) || isComponentPrefix(line.split('.'), parts));
  if (!onLine) {
    return {
      ok: false,
      error: `runtime-version "${value}" is outside ${info.configName} (${info.displayName}): it must lock a version of ${info.versionLines.join(' or ')}; releases: ${info.knownVersions.join(', ')}.`,
    };
  }
  if (parts.length === max) return { ok: true, version: value };
  // A partial lock on a release newer than the guide's table (e.g. 22.19) is used as written.
  const newest = info.knownVersions.find((known) => isComponentPrefix(known.split('.'), parts));
  return { ok: true, version: newest ?? value };
}

/** True when `prefix` equals the first components of `parts` (numerically: `08` equals `8`). */
function isComponentPrefix(parts: string[], prefix: string[]): boolean {
  if (prefix.length > parts.length) return false;
  return prefix.every((p, i) => Number(p) === Number(parts[i]));
}

// ---------------------------------------------------------------------------------------------------------------
// Base images

/** Base image per runtime as the platform admin configured it (`BUILD_RUNTIME_IMAGES`); see docs/runtimes.md. */
export type RuntimeImageTable = Record<Runtime, string>;
export type RuntimeImageOverrides = Partial<RuntimeImageTable>;

export const DEFAULT_RUNTIME_IMAGES: Readonly<RuntimeImageTable> = Object.fromEntries(
  RUNTIME_IDS.map((id) => [id, RUNTIMES[id].defaultImage]),
) as RuntimeImageTable;

const PLACEHOLDER = /\{([a-z]+)\}/g;
const KNOWN_PLACEHOLDERS = new Set(['version', 'sdk']);

/**
 * Parses `BUILD_RUNTIME_IMAGES`: a JSON object from SDK runtime id (`PYTHON_311`) to an image reference
 * that may contain `{version}` (and, for DOTNET_6, `{sdk}`). Throws an Error that names the offending key.
 */
export function parseRuntimeImageOverrides(json: string): RuntimeImageOverrides {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    throw new Error(`BUILD_RUNTIME_IMAGES is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error('BUILD_RUNTIME_IMAGES must be a JSON object from runtime (e.g. "PYTHON_311") to image reference.');
  }
  const out: RuntimeImageOverrides = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (!isRuntime(key)) {
      const hint = CONFIG_RUNTIME_NAMES[key] ? ` (did you mean ${CONFIG_RUNTIME_NAMES[key]}?)` : '';
      throw new Error(`BUILD_RUNTIME_IMAGES: unknown runtime "${key}"${hint}. Valid runtimes: ${RUNTIME_IDS.join(', ')}.`);
    }
    if (typeof value !== 'string' || value.trim() === '') {
      throw new Error(`BUILD_RUNTIME_IMAGES.${key} must be a non-empty string (an image reference), got ${JSON.stringify(value)}.`);
    }
    if (/\s/.test(value)) throw new Error(`BUILD_RUNTIME_IMAGES.${key}: "${value}" is not an image reference (it contains whitespace).`);
    for (const [, name] of value.matchAll(PLACEHOLDER)) {
      if (!KNOWN_PLACEHOLDERS.has(name) || (name === 'sdk' && !RUNTIMES[key].sdkVersions)) {
        throw new Error(
          `BUILD_RUNTIME_IMAGES.${key}: unknown placeholder {${name}} in "${value}" (use {version}${RUNTIMES[key].sdkVersions ? ' or {sdk}' : ''}).`,
        );
      }
    }
    out[key] = value;
  }
  return out;
}

export type RuntimeImageResult = { image: string; version: string; warning?: string } | { error: string };

/**
 * The base image a build of `runtime` starts from. `runtimeVersion` is the apprunner.yaml lock (undefined:
 * the runtime's default version). An end-of-support runtime is refused unless the admin configured an image
 * for it, which is how a platform keeps such builds going on purpose.
 */
export function runtimeImage(runtime: string, runtimeVersion: string | undefined, overrides: RuntimeImageOverrides): RuntimeImageResult {
  if (!isRuntime(runtime)) return { error: unknownRuntimeMessage(runtime) };
  const info = RUNTIMES[runtime];
  const override = overrides[runtime];
  if (info.endOfSupport && override === undefined) return { error: endOfSupportMessage(runtime)! };

  let version = info.defaultVersion;
  if (runtimeVersion !== undefined) {
    const checked = checkRuntimeVersion(runtime, runtimeVersion);
    if (!checked.ok) return { error: checked.error };
    version = checked.version;
  }
  const template = override ?? info.defaultImage;
  let error: string | undefined;
  const image = template.replace(PLACEHOLDER, (whole, name: string) => {
    if (name === 'version') return version;
    if (name === 'sdk' && info.sdkVersions) {
      const sdk = info.sdkVersions[version];
      if (sdk) return sdk;
      error = `No .NET SDK is known for runtime version ${version} (image ${template}); known versions: ${Object.keys(info.sdkVersions).join(', ')}.`;
      return whole;
    }
    error = `Unknown placeholder ${whole} in the image for ${runtime}: ${template}.`;
    return whole;
  });
  if (error) return { error };
  const pinsNothing = !/\{(version|sdk)\}/.test(template);
  if (runtimeVersion !== undefined && pinsNothing) {
    return {
      image,
      version,
      warning: `runtime-version ${runtimeVersion} is accepted, but the base image for ${runtime} (${image}) has no {version} placeholder, so the build uses whatever version that image ships.`,
    };
  }
  return { image, version };
}
