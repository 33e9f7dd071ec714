import { describe, expect, it } from 'vitest';
import { loadConfig } from '@apprunner/core';
import type { ServiceOperationSnapshot, SourceOutcome } from '@apprunner/operation';
import type { KubeClient, LiveObject } from '../kube-client';
import { imageSpec } from '../manifests/__fixtures__/inputs';
import { ReconcilerSettings } from './reconciler-settings';
import { ServiceInputs } from './service-inputs';
import { ServiceObjects } from './service-objects';
import { ServiceReconciler } from './service.reconciler';
import { TenantNamespaceReconciler } from './tenant-namespace.reconciler';

/**
 * The service reconciler as a function of its snapshot: what it decides before and after the cluster answers. The
 * cluster here is a map that makes every Deployment available at once; rollouts, rollbacks and everything the API
 * server judges are tested on the real cluster (test/e2e-cluster/scenarios.spec.ts).
 */
function cluster() {
  const objects = new Map<string, LiveObject>();
  const key = (apiVersion: string, kind: string, name: string, namespace?: string) => `${apiVersion}|${kind}|${namespace ?? ''}|${name}`;
  const applied: string[] = [];
  const kube = {
    async apply(o: LiveObject): Promise<LiveObject> {
      applied.push(`${o.kind}/${o.metadata.name}`);
      const replicas = (o.spec as { replicas?: number } | undefined)?.replicas ?? 1;
      const live: LiveObject = {
        ...o,
        metadata: { ...o.metadata, uid: `uid-${o.metadata.name}`, generation: 1 },
        ...(o.kind === 'Deployment'
          ? { status: { observedGeneration: 1, replicas, updatedReplicas: replicas, availableReplicas: replicas } }
          : {}),
      };
      objects.set(key(o.apiVersion, o.kind, o.metadata.name, o.metadata.namespace), live);
      return live;
    },
    async get<T>(apiVersion: string, kind: string, name: string, namespace?: string): Promise<T | undefined> {
      return objects.get(key(apiVersion, kind, name, namespace)) as T | undefined;
    },
    async list(): Promise<LiveObject[]> {
      return [];
    },
    async delete(o: LiveObject): Promise<void> {
      objects.delete(key(o.apiVersion, o.kind, o.metadata.name, o.metadata.namespace));
    },
  };
  const settings = new ReconcilerSettings(loadConfig({ MASTER_KEY: 'k'.repeat(44), ADMIN_TOKEN: 'a'.repeat(32) }));
  const client = kube as unknown as KubeClient;
  const objectsOfServices = new ServiceObjects(client, settings);
  const reconciler = new ServiceReconciler(
    settings,
    new TenantNamespaceReconciler(client, settings),
    new ServiceInputs(client, settings),
    objectsOfServices,
  );
  return { reconciler, applied };
}

function snapshot(overrides: Partial<ServiceOperationSnapshot> = {}): ServiceOperationSnapshot {
  return {
    tenant: { id: 't-1', accountId: '123456789012', name: 'acme', quotas: { Services: 30 } },
    service: {
      id: '0b8f3c1e-6a2d-4f57-9c3e-2d1a5b7e9f40',
      serviceId: '8fe1e10304f84fd2b0df550fe98a71fa',
      serviceName: 'web',
      arn: 'arn:aws:apprunner:us-east-1:123456789012:service/web/8fe1e10304f84fd2b0df550fe98a71fa',
      urlHost: 'k3xq7mn2pa.us-east-1.apprunner.example.com',
      generation: 1,
      status: 'OPERATION_IN_PROGRESS',
      spec: imageSpec(),
    },
    autoScaling: {
      arn: 'arn:aws:apprunner:us-east-1:123456789012:autoscalingconfiguration/DefaultConfiguration/1/x',
      minSize: 1,
      maxSize: 25,
      maxConcurrency: 100,
    },
    operation: { id: 'op-1', type: 'CREATE_SERVICE', fromStatus: 'OPERATION_IN_PROGRESS', generation: 1 },
    ...overrides,
  };
}

const codeSpec = () => {
  const spec = imageSpec();
  return {
    ...spec,
    SourceConfiguration: {
      CodeRepository: {
        RepositoryUrl: 'https://github.com/acme/web',
        SourceCodeVersion: { Type: 'BRANCH' as const, Value: 'main' },
        CodeConfiguration: { ConfigurationSource: 'REPOSITORY' as const },
      },
    },
  };
};

describe('ServiceReconciler', () => {
  it('deploys the image of an image service and says what runs now', async () => {
    const { reconciler, applied } = cluster();
    expect(await reconciler.reconcile(snapshot())).toEqual({
      status: 'SUCCEEDED',
      deployed: { image: 'registry.example.com/team/web:1.4.2' },
    });
    expect(applied).toContain('Deployment/svc-8fe1e10304f84fd2b0df550fe98a71fa');
  });

  it("waits for a code service's build and deploys nothing meanwhile; a failed build fails the operation with its reason", async () => {
    const { reconciler, applied } = cluster();
    const code = (build?: SourceOutcome) => snapshot({ service: { ...snapshot().service, spec: codeSpec() }, ...(build ? { build } : {}) });
    expect(await reconciler.reconcile(code({ inProgress: 'Building the image.' }))).toMatchObject({
      status: 'IN_PROGRESS',
      message: 'Building the image.',
    });
    expect(applied.filter((o) => o.startsWith('Deployment/'))).toEqual([]);
    expect(await reconciler.reconcile(code({ error: 'RUN step 3/5 "npm ci" exited with code 1' }))).toEqual({
      status: 'FAILED',
      reason: 'RUN step 3/5 "npm ci" exited with code 1',
    });
    expect(await reconciler.reconcile(code())).toMatchObject({
      status: 'FAILED',
      reason: expect.stringMatching(/need the build pipeline/),
    });
  });

  it("records the build's run configuration and commit with the image a code service runs", async () => {
    const { reconciler } = cluster();
    const ready = {
      image: 'registry.internal/123456789012/web@sha256:' + 'a'.repeat(64),
      imageConfiguration: { Port: '3000' },
      commit: 'c0ffee',
    };
    const outcome = await reconciler.reconcile(snapshot({ service: { ...snapshot().service, spec: codeSpec() }, build: { ready } }));
    expect(outcome).toEqual({ status: 'SUCCEEDED', deployed: ready });
  });

  it('fails a VPC-egress deployment whose connector names a network the admin has not registered', async () => {
    const { reconciler } = cluster();
    const spec = imageSpec({ NetworkConfiguration: { EgressConfiguration: { EgressType: 'VPC', VpcConnectorArn: 'arn:x' } } });
    const vpcConnector = {
      name: 'private',
      subnets: ['subnet-a', 'subnet-b'],
      securityGroups: ['sg-1'],
      registeredSubnets: [{ id: 'subnet-a', cidrs: ['10.0.0.0/24'] }],
      registeredSecurityGroups: [{ id: 'sg-1', egress: [{ Protocol: '-1' as const, Cidrs: ['10.0.0.0/8'] }] }],
    };
    expect(await reconciler.reconcile(snapshot({ service: { ...snapshot().service, spec }, vpcConnector }))).toEqual({
      status: 'FAILED',
      reason: 'VPC connector private: subnet-b is not registered by the platform administrator.',
    });
  });
});
