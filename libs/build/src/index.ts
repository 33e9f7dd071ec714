export { BuildFailedError, type BuildFailureKind, type BuildRequest, type BuildResult, type ImageBuilder } from './types';
export { BuildahBuilder, type BuildahBuilderOptions } from './buildah';
export { registryAuthFile, type RegistryCredentials } from './auth';
export { assertImageTarget, isDigest, isValidTag, repositoryProblems } from './reference';
export { BuildOutput, LOG_TAIL_LINES, type StepHeader } from './output';
export {
  BUILD_CONTAINER,
  BUILD_LABELS,
  CLONE_CONTAINER,
  PUSH_MARKER,
  buildJobManifest,
  buildJobName,
  buildJobOutcome,
  type BuildJobObjects,
  type BuildJobOptions,
  type BuildJobOutcome,
} from './job';
