export { BuildFailedError, type BuildFailureKind, type BuildRequest, type BuildResult, type BuildDriver } from './types';
export { BuildahDriver, type BuildahDriverOptions } from './buildah.driver';
export { KubernetesJobDriver, type KubernetesJobDriverOptions } from './kubernetes-job.driver';
export { buildJobOutcome, type BuildJobOutcome } from './kubernetes-job.outcome';
export { registryAuthFile, type RegistryCredentials } from './auth';
export { BuildOutput, LOG_TAIL_LINES, type StepHeader } from './output';
