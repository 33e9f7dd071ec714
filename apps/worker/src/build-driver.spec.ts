import { describe, expect, it } from 'vitest';
import { BuildahDriver, KubernetesJobDriver } from '@apprunner/build-driver';
import { loadConfig } from '@apprunner/core';
import type { KubeClient } from '@apprunner/kubernetes';
import { buildDriver } from './worker.module';

const base = { MASTER_KEY: 'k'.repeat(44), ADMIN_TOKEN: 'a'.repeat(32) };
const kube = {} as KubeClient;

describe('buildDriver (the build driver the worker uses)', () => {
  it('is none without BUILD_REGISTRY: code-based deployments then fail, saying builds are not configured', () => {
    expect(buildDriver(loadConfig({ ...base }), kube)).toBeNull();
  });

  it('runs builds as Kubernetes Jobs with BUILD_DRIVER=kubernetes, and with buildah in the worker otherwise', () => {
    expect(
      buildDriver(loadConfig({ ...base, BUILD_REGISTRY: 'registry.example.com/apps', BUILD_DRIVER: 'kubernetes' }), kube),
    ).toBeInstanceOf(KubernetesJobDriver);
    expect(buildDriver(loadConfig({ ...base, BUILD_REGISTRY: 'registry.example.com/apps' }), kube)).toBeInstanceOf(BuildahDriver);
  });
});
