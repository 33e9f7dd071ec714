import type { BuildJobOptions } from '../build-job';

const COMMIT = '0123456789abcdef0123456789abcdef01234567';

/** Build Job options of the golden files and of the real API server's check (test/e2e-cluster/manifests.spec.ts). */
export function minimalOptions(): BuildJobOptions {
  return {
    namespace: 'apprunner-builds',
    buildId: '6f1c1a52-6d0e-4f3b-9a51-2b1d1c0e9f00',
    image: 'quay.io/buildah/stable:v1.37',
    cloneImage: 'docker.io/alpine/git:2.47.2',
    sourceSecretName: 'build-6f1c1a52-source',
    gitCloneUrl: 'https://github.com/example/web.git',
    commit: COMMIT,
    containerfileConfigMap: 'build-6f1c1a52-containerfile',
    containerfile: 'FROM public.ecr.aws/docker/library/node:22\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD ["npm", "start"]\n',
    repository: 'registry.apprunner.svc:5000/123456789012/0d1f6e3c9a2b4c5d8e7f6a5b4c3d2e1f',
    tag: '0123456',
    activeDeadlineSeconds: 1800,
    labels: { 'app.kubernetes.io/managed-by': 'apprunner-k8s', 'apprunner.k8s/account-id': '123456789012' },
  };
}

export function fullOptions(): BuildJobOptions {
  return {
    ...minimalOptions(),
    sourceSecretKey: 'installation-token',
    sourceDirectory: '/services/api/',
    buildArgs: { NODE_ENV: 'production', APP_VERSION: '1.2.3 "quoted" $(not-expanded)' },
    registryAuthSecret: 'registry-push',
    cacheRepository: 'registry.apprunner.svc:5000/123456789012/0d1f6e3c9a2b4c5d8e7f6a5b4c3d2e1f/cache',
    tlsVerify: false,
    ttlSecondsAfterFinished: 600,
    resources: { cpu: '2', memory: '4Gi', ephemeralStorage: '20Gi' },
  };
}

export const CASES: Record<string, () => BuildJobOptions> = {
  'build-job-minimal': minimalOptions,
  'build-job-cache-auth-args': fullOptions,
};
