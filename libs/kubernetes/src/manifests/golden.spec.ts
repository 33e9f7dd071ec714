import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  FULL_SECRET_VALUES,
  SETTINGS,
  SETTINGS_WITH_PAUSED_BACKEND,
  TENANT,
  codeInput,
  fullInput,
  pausedInput,
  privateDualStackInput,
  privateInput,
  SETTINGS_WITH_PRIVATE_CLASS,
  serviceInput,
} from './__fixtures__/inputs';
import { buildServiceObjects, buildServiceSecret, buildTenantObjects, toYaml, validateObject, type KubeObject } from './index';
import { expectGolden as expectGoldenFile } from '../../../../test/support/golden';
import { builtinSchema, unknownFields } from '@apprunner/kube-fake';

const GOLDEN_DIR = join(__dirname, '__golden__');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

/** Every representative case: the objects a reconciler would apply for it. */
const CASES: Record<string, () => KubeObject[]> = {
  'tenant': () => buildTenantObjects(SETTINGS, TENANT),
  'image-tcp-defaults': () => buildServiceObjects(SETTINGS, serviceInput()),
  'http-start-env-secrets-4vcpu-12gb': () => {
    const input = fullInput();
    return [buildServiceSecret(SETTINGS, input, FULL_SECRET_VALUES), ...buildServiceObjects(SETTINGS, input)];
  },
  'paused': () => buildServiceObjects(SETTINGS_WITH_PAUSED_BACKEND, pausedInput()),
  'paused-without-backend': () => buildServiceObjects(SETTINGS, pausedInput()),
  'private': () => buildServiceObjects(SETTINGS, privateInput()),
  'private-class-dual-stack': () => [
    ...buildTenantObjects(SETTINGS_WITH_PRIVATE_CLASS, TENANT).filter((o) => o.kind === 'NetworkPolicy'),
    ...buildServiceObjects(SETTINGS_WITH_PRIVATE_CLASS, privateDualStackInput()),
  ],
  'code-repository': () => buildServiceObjects(SETTINGS, codeInput()),
};

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
        expect(await validateObject(obj), `${obj.kind} ${obj.metadata.name}`).toEqual([]);
        // The models ignore fields they don't declare, and client-node drops them silently on the way out: a typo
        // would never reach a cluster. kube-apiserver's own field list says what exists.
        const schema = builtinSchema(obj.apiVersion, obj.kind);
        if (schema) expect(unknownFields(obj, schema), `${obj.kind} ${obj.metadata.name}: unknown fields`).toEqual([]);
      }
    });
  }

  it('finds a field the API does not declare (a typo client-node would drop silently)', () => {
    const deployment = CASES['image-tcp-defaults']().find((o) => o.kind === 'Deployment') as any;
    deployment.spec.template.spec.containers[0].imagePulPolicy = 'Always';
    expect(unknownFields(deployment, builtinSchema('apps/v1', 'Deployment')!)).toEqual(['.spec.template.spec.containers[0].imagePulPolicy']);
  });

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
