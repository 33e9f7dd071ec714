import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CASES } from './__fixtures__/cases';
import { toYaml, validateObject, type KubeObject } from './index';
import { expectGolden as expectGoldenFile } from '../../../../test/support/golden';

const GOLDEN_DIR = join(__dirname, '__golden__');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

function expectGolden(name: string, actual: string): void {
  expectGoldenFile(GOLDEN_DIR, `${name}.yaml`, actual);
}

describe('golden manifests', () => {
  for (const [name, build] of Object.entries(CASES)) {
    it(`${name} matches __golden__/${name}.yaml`, () => {
      expectGolden(name, toYaml(build()));
    });
  }

  it('detects a change: a one-field edit no longer matches its golden file', () => {
    if (UPDATE) return;
    const objects = CASES['image-tcp-defaults']();
    const deployment = objects.find((o) => o.kind === 'Deployment') as any;
    deployment.spec.template.spec.containers[0].image = 'registry.example.com/team/web:other';
    const golden = readFileSync(join(GOLDEN_DIR, 'image-tcp-defaults.yaml'), 'utf8');
    expect(toYaml(objects)).not.toBe(golden);
  });

  it('is deterministic: every case built twice is deep-equal and serialises identically', () => {
    for (const build of Object.values(CASES)) {
      expect(build()).toEqual(build());
      expect(toYaml(build())).toBe(toYaml(build()));
    }
  });
});

describe('schema validation of every built object', () => {
  for (const [name, build] of Object.entries(CASES)) {
    it(`${name}: every object passes the Kubernetes OpenAPI schema and name rules`, async () => {
      const objects = build();
      expect(objects.length).toBeGreaterThan(0);
      for (const obj of objects) {
        // The models ignore fields they don't declare (client-node would drop a typo silently): the real API server,
        // with fieldValidation=Strict, judges every case too (test/e2e-cluster/manifests.spec.ts).
        expect(await validateObject(obj), `${obj.kind} ${obj.metadata.name}`).toEqual([]);
      }
    });
  }

  it('rejects a Deployment whose replicas is not an integer', async () => {
    const deployment = structuredClone(CASES['image-tcp-defaults']().find((o) => o.kind === 'Deployment')) as any;
    deployment.spec.replicas = 'two';
    expect(await validateObject(deployment)).toEqual(['/spec/replicas: must be integer']);
  });

  it('rejects a Deployment without a selector, and a container without a name', async () => {
    const deployment = structuredClone(CASES['image-tcp-defaults']().find((o) => o.kind === 'Deployment')) as any;
    delete deployment.spec.selector;
    expect((await validateObject(deployment)).join('\n')).toMatch(/selector/);
    const other = structuredClone(CASES['image-tcp-defaults']().find((o) => o.kind === 'Deployment')) as any;
    delete other.spec.template.spec.containers[0].name;
    expect((await validateObject(other)).join('\n')).toMatch(/containers\/0.*name/);
  });

  it('rejects an Ingress path without pathType and an invalid host', async () => {
    const ingress = structuredClone(CASES['image-tcp-defaults']().find((o) => o.kind === 'Ingress')) as any;
    delete ingress.spec.rules[0].http.paths[0].pathType;
    expect((await validateObject(ingress)).join('\n')).toMatch(/pathType/);
    const badHost = structuredClone(CASES['image-tcp-defaults']().find((o) => o.kind === 'Ingress')) as any;
    badHost.spec.rules[0].host = 'Not_A_Host';
    expect(await validateObject(badHost)).toEqual(['/spec/rules/0/host: "Not_A_Host" must be a DNS-1123 subdomain']);
  });

  it('rejects names, namespaces and labels the API server would refuse', async () => {
    const service = structuredClone(CASES['image-tcp-defaults']().find((o) => o.kind === 'Service')) as KubeObject;
    service.metadata.name = '1-starts-with-digest';
    service.metadata.labels = { ...service.metadata.labels, 'apprunner.k8s/service-name': 'ends-with_' };
    delete service.metadata.namespace;
    const errors = await validateObject(service);
    expect(errors).toHaveLength(3);
    expect(errors.join('\n')).toMatch(/metadata\/name: .* DNS-1035/);
    expect(errors.join('\n')).toMatch(/metadata\/namespace/);
    expect(errors.join('\n')).toMatch(/not a valid label value/);
  });

  it('rejects a liveness probe with successThreshold other than 1 (the API server does)', async () => {
    const deployment = structuredClone(CASES['image-tcp-defaults']().find((o) => o.kind === 'Deployment')) as any;
    deployment.spec.template.spec.containers[0].livenessProbe.successThreshold = 3;
    expect(await validateObject(deployment)).toEqual(['/spec/template/spec/containers/0/livenessProbe/successThreshold: must be 1']);
  });

  it('answers an unknown kind with an error instead of passing it', async () => {
    expect(await validateObject({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'n' } })).toEqual([
      'no schema known for example.com/v1/Widget',
    ]);
  });
});
