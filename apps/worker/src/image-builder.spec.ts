import { describe, expect, it } from 'vitest';
import { BuildahBuilder } from '@apprunner/build';
import { loadConfig } from '@apprunner/core';
import { type KubeClient, KubernetesJobBuilder } from '@apprunner/kubernetes';
import { imageBuilder } from './worker.module';

const base = { MASTER_KEY: 'k'.repeat(44), ADMIN_TOKEN: 'a'.repeat(32) };
const kube = {} as KubeClient;

describe('imageBuilder (the build driver the worker uses)', () => {
  it('is none without BUILD_REGISTRY: code-based deployments then fail, saying builds are not configured', () => {
    expect(imageBuilder(loadConfig({ ...base }), kube)).toBeNull();
  });

  it('runs builds as Kubernetes Jobs with BUILD_DRIVER=kubernetes, and with buildah in the worker otherwise', () => {
    expect(
      imageBuilder(loadConfig({ ...base, BUILD_REGISTRY: 'registry.example.com/apps', BUILD_DRIVER: 'kubernetes' }), kube),
    ).toBeInstanceOf(KubernetesJobBuilder);
    expect(imageBuilder(loadConfig({ ...base, BUILD_REGISTRY: 'registry.example.com/apps' }), kube)).toBeInstanceOf(BuildahBuilder);
  });
});
