export {
  CONFIG_RUNTIME_NAMES,
  DEFAULT_RUNTIME_IMAGES,
  RUNTIMES,
  RUNTIME_IDS,
  checkRuntimeVersion,
  endOfSupportMessage,
  isRuntime,
  parseRuntimeImageOverrides,
  runtimeImage,
  unknownRuntimeMessage,
  usesRevisedBuild,
  type BuildProcess,
  type EndOfSupport,
  type RuntimeFamily,
  type RuntimeImageOverrides,
  type RuntimeImageResult,
  type RuntimeImageTable,
  type RuntimeInfo,
  type RuntimeVersionCheck,
} from './runtimes';
export {
  APPRUNNER_YAML,
  BUILD_ENV_NAME,
  RESERVED_ENV_NAME,
  RUNTIME_ENV_NAME,
  formatConfigErrors,
  parseApprunnerYaml,
  runtimeNameProblem,
  secretRefProblem,
  type ApprunnerConfig,
  type ApprunnerYamlResult,
  type ConfigError,
  type EnvVar,
  type SecretRef,
} from './apprunner-yaml';
export { configFilePath, normalizeSourceDirectory, type SourceDirectoryResult } from './source-directory';
export { DEFAULT_PORT, effectiveConfig, type EffectiveBuildConfig, type EffectiveConfigInput, type EffectiveConfigResult } from './effective';
export { buildPlan, type BuildPlan, type BuildPlanOptions } from './build-plan';
