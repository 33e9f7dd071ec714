/**
 * The resource table: which group/version/resource the fake serves, how each maps to a kind, which
 * subresources exist and which `kubernetes-models` class validates it. Also builds the discovery
 * documents (`/api`, `/api/v1`, `/apis`, `/apis/<group>/<version>`) that `KubernetesObjectApi` uses to
 * map a kind to its REST resource, and turns `CustomResourceDefinition` objects into served resources.
 */
import { apiVersionOf, asArray, asRecord, asString, isRecord, type JsonObject, type KubeObject, splitApiVersion } from './types';

/** A `kubernetes-models` class: `new Model(obj).validate()` throws on a schema violation. */
export type ModelClass = new (data: JsonObject) => { validate(): void };
export type ModelLoader = () => Promise<ModelClass>;

/**
 * Each generated class takes its own typed `ModelData`; validation is precisely about data whose shape is not
 * known yet, so the fake treats them all as taking a plain JSON object.
 */
function model<T>(ctor: new (data?: T) => { validate(): void }): ModelClass {
  return ctor as unknown as ModelClass;
}

/** How `metadata.name` is validated (kube-apiserver uses different rules per kind). */
export type NameRule = 'subdomain' | 'label' | 'dns1035' | 'path';

export interface ResourceType {
  group: string;
  version: string;
  kind: string;
  /** REST resource name, e.g. `deployments`. */
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  /** Has a `/status` subresource: main-resource writes ignore `status`, `/status` writes only `status`. */
  status: boolean;
  /** Has a `/scale` subresource (`autoscaling/v1` `Scale`). */
  scale: boolean;
  nameRule: NameRule;
  /** Schema validation through a `kubernetes-models` class. */
  model?: ModelLoader;
  /** Schema validation through a CRD's `openAPIV3Schema` (custom resources without a model class). */
  schema?: JsonObject;
  /** Served because a CustomResourceDefinition object exists (name of that CRD). */
  crdName?: string;
}

export const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

type Entry = Omit<ResourceType, 'status' | 'scale' | 'nameRule' | 'singular'> &
  Partial<Pick<ResourceType, 'status' | 'scale' | 'nameRule' | 'singular'>>;

function entry(e: Entry): ResourceType {
  return { status: false, scale: false, nameRule: 'subdomain', singular: e.kind.toLowerCase(), ...e };
}

const core = (e: Omit<Entry, 'group' | 'version'>): ResourceType => entry({ group: '', version: 'v1', ...e });

/** Built-in resources, in the order discovery lists them. */
export function builtinResources(): ResourceType[] {
  return [
    core({
      kind: 'Namespace',
      plural: 'namespaces',
      namespaced: false,
      shortNames: ['ns'],
      status: true,
      nameRule: 'label',
      model: () => import('kubernetes-models/v1/Namespace').then((m) => model(m.Namespace)),
    }),
    core({
      kind: 'ResourceQuota',
      plural: 'resourcequotas',
      namespaced: true,
      shortNames: ['quota'],
      status: true,
      model: () => import('kubernetes-models/v1/ResourceQuota').then((m) => model(m.ResourceQuota)),
    }),
    core({
      kind: 'LimitRange',
      plural: 'limitranges',
      namespaced: true,
      shortNames: ['limits'],
      model: () => import('kubernetes-models/v1/LimitRange').then((m) => model(m.LimitRange)),
    }),
    core({
      kind: 'Secret',
      plural: 'secrets',
      namespaced: true,
      model: () => import('kubernetes-models/v1/Secret').then((m) => model(m.Secret)),
    }),
    core({
      kind: 'ConfigMap',
      plural: 'configmaps',
      namespaced: true,
      shortNames: ['cm'],
      model: () => import('kubernetes-models/v1/ConfigMap').then((m) => model(m.ConfigMap)),
    }),
    core({
      kind: 'Service',
      plural: 'services',
      namespaced: true,
      shortNames: ['svc'],
      categories: ['all'],
      status: true,
      nameRule: 'dns1035',
      model: () => import('kubernetes-models/v1/Service').then((m) => model(m.Service)),
    }),
    core({
      kind: 'ServiceAccount',
      plural: 'serviceaccounts',
      namespaced: true,
      shortNames: ['sa'],
      model: () => import('kubernetes-models/v1/ServiceAccount').then((m) => model(m.ServiceAccount)),
    }),
    core({
      kind: 'Pod',
      plural: 'pods',
      namespaced: true,
      shortNames: ['po'],
      categories: ['all'],
      status: true,
      model: () => import('kubernetes-models/v1/Pod').then((m) => model(m.Pod)),
    }),
    core({
      kind: 'Event',
      plural: 'events',
      namespaced: true,
      shortNames: ['ev'],
      model: () => import('kubernetes-models/v1/Event').then((m) => model(m.Event)),
    }),
    entry({
      group: 'apps',
      version: 'v1',
      kind: 'Deployment',
      plural: 'deployments',
      namespaced: true,
      shortNames: ['deploy'],
      categories: ['all'],
      status: true,
      scale: true,
      model: () => import('kubernetes-models/apps/v1/Deployment').then((m) => model(m.Deployment)),
    }),
    entry({
      group: 'apps',
      version: 'v1',
      kind: 'ReplicaSet',
      plural: 'replicasets',
      namespaced: true,
      shortNames: ['rs'],
      categories: ['all'],
      status: true,
      scale: true,
      model: () => import('kubernetes-models/apps/v1/ReplicaSet').then((m) => model(m.ReplicaSet)),
    }),
    entry({
      group: 'autoscaling',
      version: 'v2',
      kind: 'HorizontalPodAutoscaler',
      plural: 'horizontalpodautoscalers',
      namespaced: true,
      shortNames: ['hpa'],
      categories: ['all'],
      status: true,
      model: () => import('kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler').then((m) => model(m.HorizontalPodAutoscaler)),
    }),
    entry({
      group: 'batch',
      version: 'v1',
      kind: 'Job',
      plural: 'jobs',
      namespaced: true,
      categories: ['all'],
      status: true,
      model: () => import('kubernetes-models/batch/v1/Job').then((m) => model(m.Job)),
    }),
    entry({
      group: 'networking.k8s.io',
      version: 'v1',
      kind: 'Ingress',
      plural: 'ingresses',
      namespaced: true,
      shortNames: ['ing'],
      status: true,
      model: () => import('kubernetes-models/networking.k8s.io/v1/Ingress').then((m) => model(m.Ingress)),
    }),
    entry({
      group: 'networking.k8s.io',
      version: 'v1',
      kind: 'IngressClass',
      plural: 'ingressclasses',
      namespaced: false,
      model: () => import('kubernetes-models/networking.k8s.io/v1/IngressClass').then((m) => model(m.IngressClass)),
    }),
    entry({
      group: 'networking.k8s.io',
      version: 'v1',
      kind: 'NetworkPolicy',
      plural: 'networkpolicies',
      namespaced: true,
      shortNames: ['netpol'],
      model: () => import('kubernetes-models/networking.k8s.io/v1/NetworkPolicy').then((m) => model(m.NetworkPolicy)),
    }),
    entry({
      group: 'rbac.authorization.k8s.io',
      version: 'v1',
      kind: 'Role',
      plural: 'roles',
      namespaced: true,
      nameRule: 'path',
      model: () => import('kubernetes-models/rbac.authorization.k8s.io/v1/Role').then((m) => model(m.Role)),
    }),
    entry({
      group: 'rbac.authorization.k8s.io',
      version: 'v1',
      kind: 'RoleBinding',
      plural: 'rolebindings',
      namespaced: true,
      nameRule: 'path',
      model: () => import('kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding').then((m) => model(m.RoleBinding)),
    }),
    entry({
      group: 'rbac.authorization.k8s.io',
      version: 'v1',
      kind: 'ClusterRole',
      plural: 'clusterroles',
      namespaced: false,
      nameRule: 'path',
      model: () => import('kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole').then((m) => model(m.ClusterRole)),
    }),
    entry({
      group: 'rbac.authorization.k8s.io',
      version: 'v1',
      kind: 'ClusterRoleBinding',
      plural: 'clusterrolebindings',
      namespaced: false,
      nameRule: 'path',
      model: () => import('kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding').then((m) => model(m.ClusterRoleBinding)),
    }),
    entry({
      group: 'apiextensions.k8s.io',
      version: 'v1',
      kind: 'CustomResourceDefinition',
      plural: 'customresourcedefinitions',
      namespaced: false,
      shortNames: ['crd', 'crds'],
      status: true,
      model: () =>
        import('kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition').then((m) => model(m.CustomResourceDefinition)),
    }),
  ];
}

/** Model classes for well-known custom resources, attached when their CRD is registered. */
const KNOWN_CUSTOM_MODELS: Record<string, ModelLoader> = {
  'cert-manager.io/v1/Certificate': () =>
    import('@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate').then((m) => model(m.Certificate)),
  'cert-manager.io/v1/Issuer': () => import('@kubernetes-models/cert-manager/cert-manager.io/v1/Issuer').then((m) => model(m.Issuer)),
  'cert-manager.io/v1/ClusterIssuer': () =>
    import('@kubernetes-models/cert-manager/cert-manager.io/v1/ClusterIssuer').then((m) => model(m.ClusterIssuer)),
  'cert-manager.io/v1/CertificateRequest': () =>
    import('@kubernetes-models/cert-manager/cert-manager.io/v1/CertificateRequest').then((m) => model(m.CertificateRequest)),
  'acme.cert-manager.io/v1/Order': () =>
    import('@kubernetes-models/cert-manager/acme.cert-manager.io/v1/Order').then((m) => model(m.Order)),
  'acme.cert-manager.io/v1/Challenge': () =>
    import('@kubernetes-models/cert-manager/acme.cert-manager.io/v1/Challenge').then((m) => model(m.Challenge)),
};

/**
 * cert-manager's CRDs: Certificate, CertificateRequest, Issuer, ClusterIssuer and the ACME Order and Challenge
 * (schema left open; validation uses the cert-manager model classes).
 */
export function certManagerCrds(): KubeObject[] {
  const crd = (
    group: string,
    kind: string,
    plural: string,
    scope: 'Namespaced' | 'Cluster',
    shortNames: string[],
    categories: string[],
  ): KubeObject => ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}`, labels: { app: 'cert-manager', 'app.kubernetes.io/name': 'cert-manager' } },
    spec: {
      group,
      names: { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase(), shortNames, categories },
      scope,
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          subresources: { status: {} },
          schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
        },
      ],
    },
  });
  const acme = ['cert-manager', 'cert-manager-acme'];
  return [
    crd('cert-manager.io', 'Certificate', 'certificates', 'Namespaced', ['cert', 'certs'], ['cert-manager']),
    crd('cert-manager.io', 'CertificateRequest', 'certificaterequests', 'Namespaced', ['cr', 'crs'], ['cert-manager']),
    crd('cert-manager.io', 'Issuer', 'issuers', 'Namespaced', [], ['cert-manager']),
    crd('cert-manager.io', 'ClusterIssuer', 'clusterissuers', 'Cluster', [], ['cert-manager']),
    crd('acme.cert-manager.io', 'Order', 'orders', 'Namespaced', [], acme),
    crd('acme.cert-manager.io', 'Challenge', 'challenges', 'Namespaced', [], acme),
  ];
}

/** Resource types served for each `served` version of a CustomResourceDefinition. */
export function resourcesFromCrd(crd: KubeObject): ResourceType[] {
  const spec = asRecord(crd.spec);
  const names = asRecord(spec.names);
  const group = asString(spec.group) ?? '';
  const kind = asString(names.kind) ?? '';
  const plural = asString(names.plural) ?? '';
  if (!group || !kind || !plural) return [];
  const out: ResourceType[] = [];
  for (const v of asArray(spec.versions)) {
    if (!isRecord(v) || v.served === false || typeof v.name !== 'string') continue;
    const subresources = asRecord(v.subresources);
    const schema = asRecord(v.schema).openAPIV3Schema;
    const shortNames = asArray(names.shortNames).filter((s): s is string => typeof s === 'string');
    const categories = asArray(names.categories).filter((s): s is string => typeof s === 'string');
    out.push({
      group,
      version: v.name,
      kind,
      plural,
      singular: asString(names.singular) ?? kind.toLowerCase(),
      namespaced: spec.scope !== 'Cluster',
      ...(shortNames.length ? { shortNames } : {}),
      ...(categories.length ? { categories } : {}),
      status: isRecord(subresources.status),
      scale: isRecord(subresources.scale),
      nameRule: 'subdomain',
      model: KNOWN_CUSTOM_MODELS[`${group}/${v.name}/${kind}`],
      schema: isRecord(schema) ? schema : undefined,
      crdName: crd.metadata.name,
    });
  }
  return out;
}

/** Lookup table of served resources; CRDs are added and removed at run time. */
export class ResourceRegistry {
  private readonly types: ResourceType[] = [];

  constructor(initial: ResourceType[]) {
    for (const t of initial) this.add(t);
  }

  add(t: ResourceType): void {
    const i = this.types.findIndex((x) => x.group === t.group && x.version === t.version && x.plural === t.plural);
    if (i >= 0) this.types[i] = t;
    else this.types.push(t);
  }

  /** Drops every resource served by the named CRD; returns what was removed. */
  removeCrd(crdName: string): ResourceType[] {
    const removed = this.types.filter((t) => t.crdName === crdName);
    for (const t of removed) this.types.splice(this.types.indexOf(t), 1);
    return removed;
  }

  byResource(group: string, version: string, plural: string): ResourceType | undefined {
    return this.types.find((t) => t.group === group && t.version === version && t.plural === plural);
  }

  byKind(apiVersion: string, kind: string): ResourceType | undefined {
    const { group, version } = splitApiVersion(apiVersion);
    return this.types.find((t) => t.group === group && t.version === version && t.kind === kind);
  }

  /** Any served version of a group/kind (objects are stored once per group/kind). */
  byGroupKind(group: string, kind: string): ResourceType | undefined {
    return this.types.find((t) => t.group === group && t.kind === kind);
  }

  all(): readonly ResourceType[] {
    return this.types;
  }

  hasGroupVersion(group: string, version: string): boolean {
    return this.types.some((t) => t.group === group && t.version === version);
  }

  /** `GET /api` */
  coreVersions(serverAddress: string): JsonObject {
    return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
  }

  private groupDoc(name: string): JsonObject {
    const versions = [...new Set(this.types.filter((t) => t.group === name).map((t) => t.version))].map((version) => ({
      groupVersion: `${name}/${version}`,
      version,
    }));
    return { name, versions, preferredVersion: versions[0] };
  }

  /** `GET /apis` */
  groupList(): JsonObject {
    const names = [...new Set(this.types.map((t) => t.group).filter((g) => g !== ''))];
    return { kind: 'APIGroupList', apiVersion: 'v1', groups: names.map((n) => this.groupDoc(n)) };
  }

  /** `GET /apis/<group>` */
  group(name: string): JsonObject | undefined {
    if (!this.types.some((t) => t.group === name)) return undefined;
    return { kind: 'APIGroup', apiVersion: 'v1', ...this.groupDoc(name) };
  }

  /** `GET /api/v1` or `GET /apis/<group>/<version>`: an `APIResourceList`, subresources included. */
  resourceList(group: string, version: string): JsonObject | undefined {
    const types = this.types.filter((t) => t.group === group && t.version === version);
    if (types.length === 0) return undefined;
    const resources: JsonObject[] = [];
    for (const t of types) {
      const verbs = t.kind === 'Namespace' ? ALL_VERBS.filter((v) => v !== 'deletecollection') : ALL_VERBS;
      resources.push({
        name: t.plural,
        singularName: t.singular,
        namespaced: t.namespaced,
        kind: t.kind,
        verbs,
        ...(t.shortNames ? { shortNames: t.shortNames } : {}),
        ...(t.categories ? { categories: t.categories } : {}),
      });
      if (t.status)
        resources.push({
          name: `${t.plural}/status`,
          singularName: '',
          namespaced: t.namespaced,
          kind: t.kind,
          verbs: ['get', 'patch', 'update'],
        });
      if (t.scale)
        resources.push({
          name: `${t.plural}/scale`,
          singularName: '',
          namespaced: t.namespaced,
          group: 'autoscaling',
          version: 'v1',
          kind: 'Scale',
          verbs: ['get', 'patch', 'update'],
        });
    }
    return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(group, version), resources };
  }
}
