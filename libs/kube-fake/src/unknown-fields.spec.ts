import { describe, expect, it } from 'vitest';
import * as clientNode from '@kubernetes/client-node';
import { builtinModelName, builtinSchema, modelSchema } from './builtin-schemas';
import { builtinResources } from './resources';
import { apiVersionOf } from './types';
import { type FieldSchema, pruneUnknownFields, unknownFieldPaths, unknownFields } from './unknown-fields';

const schemaOf = (apiVersion: string, kind: string): FieldSchema => {
  const schema = builtinSchema(apiVersion, kind);
  if (!schema) throw new Error(`no schema for ${apiVersion} ${kind}`);
  return schema;
};
const check = (obj: { apiVersion: string; kind: string }): string[] => unknownFields(obj, schemaOf(obj.apiVersion, obj.kind));

const labels = { 'app.kubernetes.io/name': 'web', 'apprunner.aws/service': 'svc-1' };

function deployment(): any {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'web',
      namespace: 'tenant-a',
      labels,
      annotations: { 'deployment.kubernetes.io/revision': '3', 'example.com/any key at all': 'x' },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Namespace', name: 'tenant-a', uid: 'u-1', controller: true, blockOwnerDeletion: true }],
      managedFields: [{ manager: 'worker', operation: 'Apply', apiVersion: 'apps/v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:replicas': {} } } }],
      creationTimestamp: '2024-05-01T12:00:00Z',
    },
    spec: {
      replicas: 2,
      revisionHistoryLimit: 3,
      progressDeadlineSeconds: 600,
      selector: { matchLabels: labels, matchExpressions: [{ key: 'tier', operator: 'In', values: ['web'] }] },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },
      template: {
        metadata: { labels, annotations: { 'kubectl.kubernetes.io/restartedAt': 'now' } },
        spec: {
          serviceAccountName: 'web',
          automountServiceAccountToken: false,
          nodeSelector: { 'kubernetes.io/arch': 'amd64', 'node.example.com/pool': 'apps' },
          securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
          topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: labels } }],
          volumes: [{ name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } }],
          containers: [
            {
              name: 'app',
              image: 'registry.local/web@sha256:abc',
              ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
              env: [
                { name: 'PORT', value: '8080' },
                { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'web-env', key: 'TOKEN' } } },
              ],
              envFrom: [{ configMapRef: { name: 'web' } }],
              resources: { requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: 1, memory: '1Gi', 'nvidia.com/gpu': 1 } },
              readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 5 },
              livenessProbe: { tcpSocket: { port: 8080 } },
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true },
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
            },
          ],
        },
      },
    },
    status: { observedGeneration: 1, replicas: 2, conditions: [{ type: 'Available', status: 'True', lastUpdateTime: '2024-05-01T12:00:00Z' }] },
  };
}

describe('unknownFields against the built-in schemas', () => {
  it('passes valid Deployment, Service, Ingress, NetworkPolicy, HPA, Job and Secret objects', () => {
    expect(check(deployment())).toEqual([]);
    expect(
      check({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'web', labels },
        spec: { type: 'ClusterIP', selector: labels, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }], ipFamilyPolicy: 'PreferDualStack', ipFamilies: ['IPv4', 'IPv6'] },
      } as any),
    ).toEqual([]);
    expect(
      check({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name: 'web', annotations: { 'cert-manager.io/cluster-issuer': 'letsencrypt', 'nginx.ingress.kubernetes.io/proxy-body-size': '10m' } },
        spec: {
          ingressClassName: 'nginx',
          tls: [{ hosts: ['a.example.com'], secretName: 'web-tls' }],
          rules: [{ host: 'a.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }],
        },
        status: { loadBalancer: { ingress: [{ ip: '10.0.0.1' }] } },
      } as any),
    ).toEqual([]);
    expect(
      check({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'isolate' },
        spec: {
          podSelector: {},
          policyTypes: ['Ingress', 'Egress'],
          ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } }], ports: [{ port: 8080, protocol: 'TCP' }] }],
          egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }], ports: [{ port: 'dns', endPort: 60000 }] }],
        },
      } as any),
    ).toEqual([]);
    expect(
      check({
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: { name: 'web' },
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
          minReplicas: 1,
          maxReplicas: 25,
          metrics: [
            { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } },
            { type: 'Pods', pods: { metric: { name: 'inflight', selector: { matchLabels: labels } }, target: { type: 'AverageValue', averageValue: '100' } } },
          ],
          behavior: { scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] } },
        },
      } as any),
    ).toEqual([]);
    expect(
      check({
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: 'build-1' },
        spec: {
          backoffLimit: 0,
          activeDeadlineSeconds: 3600,
          ttlSecondsAfterFinished: 600,
          podFailurePolicy: { rules: [{ action: 'FailJob', onExitCodes: { operator: 'In', values: [1] } }] },
          template: { spec: { restartPolicy: 'Never', containers: [{ name: 'buildah', image: 'quay.io/buildah/stable', args: ['bud'], workingDir: '/work' }] } },
        },
      } as any),
    ).toEqual([]);
    expect(
      check({ apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/dockerconfigjson', metadata: { name: 'pull' }, data: { '.dockerconfigjson': 'e30=' }, stringData: { 'any.key_at-all': 'v' }, immutable: true } as any),
    ).toEqual([]);
  });

  it('reports typos and misplaced fields at every depth with their exact paths, in document order', () => {
    const d = deployment();
    d.metadata.lables = { a: 'b' };
    d.spec.replica = 3;
    d.spec.template.spec.containrs = [];
    d.spec.template.spec.containers[0].imagee = 'x';
    d.spec.template.spec.containers[0].ports[0].hostPortt = 80;
    d.spec.template.spec.containers[0].readinessProbe.httpGet.paht = '/';
    d.spec.template.spec.containers[0].env[1].valueFrom.secretKeyRef.optinal = true;
    // right name, wrong level: the pod spec's serviceAccountName on the Deployment spec
    d.spec.serviceAccountName = 'web';
    d.spec.template.spec.volumes[0].emptyDir.medum = 'Memory';
    expect(check(d)).toEqual([
      '.metadata.lables',
      '.spec.template.spec.volumes[0].emptyDir.medum',
      '.spec.template.spec.containers[0].ports[0].hostPortt',
      '.spec.template.spec.containers[0].env[1].valueFrom.secretKeyRef.optinal',
      '.spec.template.spec.containers[0].readinessProbe.httpGet.paht',
      '.spec.template.spec.containers[0].imagee',
      '.spec.template.spec.containrs',
      '.spec.replica',
      '.spec.serviceAccountName',
    ]);
    // an unknown field is reported once, not what lies below it
    expect(check({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, date: { deep: { deeper: 1 } } } as any)).toEqual(['.date']);
    expect(unknownFieldPaths({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'a', image: 'b', bogus: 1 }] } }, schemaOf('v1', 'Pod'))).toEqual([
      ['spec', 'containers', 0, 'bogus'],
    ]);
  });

  it('accepts any key in map-valued fields and does not descend into free-form JSON', () => {
    const d = deployment();
    d.metadata.labels = { 'whatever.example.com/x': 'y' };
    d.spec.template.spec.containers[0].resources.limits = { 'example.com/fpga': 2, 'hugepages-2Mi': '1Gi' };
    d.spec.template.spec.nodeSelector = { 'any-label': 'v' };
    // managedFields[].fieldsV1 is free-form JSON (`any` in the schema)
    d.metadata.managedFields[0].fieldsV1 = { 'f:metadata': { 'f:labels': { 'f:whatever': {} } }, 'k:{"name":"x"}': { '.': {} } };
    expect(check(d)).toEqual([]);
    expect(check({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { 'config.yaml': 'a: 1', 'ANY_KEY': 'x' }, binaryData: { 'b.bin': 'AA==' } } as any)).toEqual([]);
    expect(check({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'q' }, spec: { hard: { 'requests.cpu': '4', 'count/deployments.apps': '10' } } } as any)).toEqual([]);
    // a CRD's schema (JSONSchemaProps.default / example / x-kubernetes-* keys) holds arbitrary JSON where declared `any`
    expect(
      check({
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: 'widgets.example.com' },
        spec: {
          group: 'example.com',
          scope: 'Namespaced',
          names: { plural: 'widgets', kind: 'Widget' },
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              subresources: { status: {} },
              schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', default: { any: { thing: 1 } }, 'x-kubernetes-preserve-unknown-fields': true } } } },
            },
          ],
        },
      } as any),
    ).toEqual([]);
  });

  it('treats int-or-string values as scalars and leaves type errors to type validation', () => {
    const d = deployment();
    d.spec.strategy.rollingUpdate = { maxSurge: 1, maxUnavailable: '10%' };
    d.spec.replicas = { nested: 'object' };
    d.spec.template.spec.containers[0].ports = 'not a list';
    expect(check(d)).toEqual([]);
  });

  it('resolves $refs (definitions and components), allOf/anyOf/oneOf wrappers and x-kubernetes-preserve-unknown-fields', () => {
    const schema: FieldSchema = {
      type: 'object',
      properties: {
        spec: { allOf: [{ $ref: '#/components/schemas/io.k8s.Spec' }], description: 'wrapped like the v3 OpenAPI does' },
        extra: { $ref: '#/definitions/Extra' },
        open: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { known: { type: 'object', properties: { a: { type: 'string' } } } } },
        either: { anyOf: [{ type: 'object', properties: { a: {} } }, { type: 'object', properties: { b: {} } }] },
        port: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
        raw: { type: 'object' },
        flags: { type: 'object', additionalProperties: true },
        nested: { type: 'array', items: { type: 'array', items: { type: 'object', properties: { x: {} } } } },
      },
      definitions: { Extra: { type: 'object', properties: { size: { type: 'integer' } } } },
      components: { schemas: { 'io.k8s.Spec': { type: 'object', properties: { replicas: { type: 'integer' } } } } },
    };
    const obj = {
      spec: { replicas: 1, replicaz: 2 },
      extra: { size: 1, colour: 'red' },
      open: { anything: { goes: true }, known: { a: 'x', b: 'typo under a declared property' } },
      either: { a: 1, b: 2, c: 3 },
      port: 'http',
      raw: { whatever: { you: 'like' } },
      flags: { any: 1 },
      nested: [[{ x: 1 }, { y: 2 }]],
    };
    expect(unknownFields(obj, schema)).toEqual(['.spec.replicaz', '.extra.colour', '.open.known.b', '.either.c', '.nested[0][1].y']);
    expect(() => unknownFields({ a: 1 }, { properties: { a: { $ref: '#/definitions/Missing' } } })).toThrow('$ref "#/definitions/Missing" does not resolve');
    expect(() => unknownFields({ a: 1 }, { properties: { a: { $ref: 'https://example.com/s.json' } } })).toThrow('only local $refs');
  });

  it('prunes unknown fields without touching the input', () => {
    const d = deployment();
    d.spec.replica = 3;
    d.spec.template.spec.containers[0].imagee = 'x';
    const pruned = pruneUnknownFields(d, schemaOf('apps/v1', 'Deployment'));
    expect(check(pruned)).toEqual([]);
    expect(pruned.spec.replicas).toBe(2);
    expect(pruned.spec.template.spec.containers[0].image).toBe('registry.local/web@sha256:abc');
    expect(d.spec.replica).toBe(3);
    const clean = deployment();
    expect(pruneUnknownFields(clean, schemaOf('apps/v1', 'Deployment'))).toBe(clean);
  });

  it('finds the schema of every built-in kind, and none for custom resources', () => {
    expect(builtinModelName('v1', 'Event')).toBe('CoreV1Event');
    expect(builtinModelName('events.k8s.io/v1', 'Event')).toBe('EventsV1Event');
    expect(builtinModelName('policy/v1', 'PodDisruptionBudget')).toBe('V1PodDisruptionBudget');
    expect(builtinModelName('autoscaling/v2', 'HorizontalPodAutoscaler')).toBe('V2HorizontalPodAutoscaler');
    for (const rt of builtinResources()) expect(builtinSchema(apiVersionOf(rt.group, rt.version), rt.kind), rt.kind).toBeDefined();
    // every type a model refers to converts (a type client-node names without generating a model would throw)
    const models = Object.entries(clientNode).filter(([, m]) => Array.isArray((m as { attributeTypeMap?: unknown }).attributeTypeMap));
    expect(models.length).toBeGreaterThan(500);
    for (const [name] of models) expect(() => modelSchema(name), name).not.toThrow();
    expect(builtinSchema('cert-manager.io/v1', 'Certificate')).toBeUndefined();
    expect(builtinSchema('example.com/v1', 'Deployment')).toBeUndefined();
    expect(builtinSchema('v1', 'NoSuchKind')).toBeUndefined();
  });
});
