/**
 * Validation of every object written: the real OpenAPI schema through its `kubernetes-models` class (or a CRD's
 * structural schema), then server-side rules the schemas do not express: name syntax, label/annotation syntax,
 * Deployment/ReplicaSet selector vs template labels and selector immutability, unique container names, required
 * images, requests <= limits, Service port names, ConfigMap/Secret keys, HPA min <= max, CRD naming.
 * Any violation becomes a 422 `Invalid` with one `details.causes` entry per problem.
 */
import type { ModelClass, ModelLoader, NameRule, ResourceType } from './resources';
import { validateSchema } from './schema';
import { asArray, asRecord, asString, deepEqual, isRecord, type JsonObject, type KubeObject, type StatusCause } from './types';
import { matchesLabelSelector } from './selectors';

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const MESSAGES = {
  subdomain: `a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
  label: `a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
  dns1035: `a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
};

const invalid = (field: string, value: unknown, why: string): StatusCause => ({
  reason: 'FieldValueInvalid',
  message: `Invalid value: ${JSON.stringify(value)}: ${why}`,
  field,
});
const required = (field: string): StatusCause => ({ reason: 'FieldValueRequired', message: 'Required value', field });

/** Problems with a name under the given rule (empty when valid). */
export function nameProblems(name: string, rule: NameRule): string[] {
  if (rule === 'path') {
    if (name === '.' || name === '..') return [`may not be '${name}'`];
    return /[/%]/.test(name) ? [`may not contain '/' or '%'`] : [];
  }
  const max = rule === 'subdomain' ? 253 : 63;
  const re = rule === 'subdomain' ? SUBDOMAIN : rule === 'label' ? LABEL : DNS1035;
  const out: string[] = [];
  if (name.length > max) out.push(`must be no more than ${max} characters`);
  if (!re.test(name)) out.push(MESSAGES[rule]);
  return out;
}

function qualifiedNameProblems(key: string): string[] {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  const out: string[] = [];
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !SUBDOMAIN.test(prefix)))
    out.push(`prefix part ${MESSAGES.subdomain}`);
  if (name.length === 0 || name.length > 63 || !QUALIFIED_NAME.test(name)) {
    out.push(
      `name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
    );
  }
  return out;
}

function validateLabels(labels: unknown, field: string, causes: StatusCause[]): void {
  for (const [k, v] of Object.entries(asRecord(labels))) {
    for (const p of qualifiedNameProblems(k)) causes.push(invalid(field, k, p));
    const value = typeof v === 'string' ? v : '';
    if (value.length > 63) causes.push(invalid(field, value, 'must be no more than 63 characters'));
    if (!LABEL_VALUE.test(value))
      causes.push(
        invalid(
          field,
          value,
          `a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
        ),
      );
  }
}

function validateAnnotations(annotations: unknown, field: string, causes: StatusCause[]): void {
  let total = 0;
  for (const [k, v] of Object.entries(asRecord(annotations))) {
    for (const p of qualifiedNameProblems(k.toLowerCase())) causes.push(invalid(field, k, p));
    total += k.length + String(v).length;
  }
  if (total > 256 * 1024) causes.push({ reason: 'FieldValueTooLong', message: 'Too long: must have at most 262144 bytes', field });
}

const SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** Parses a resource quantity (`500m`, `1.5`, `128Mi`, `1e3`) to a number; undefined when malformed. */
export function parseQuantity(q: unknown): number | undefined {
  if (typeof q === 'number') return q;
  if (typeof q !== 'string') return undefined;
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?)$/.exec(q.trim());
  if (!m) return undefined;
  return Number(m[1] + (m[2] ?? '')) * SUFFIX[m[3] ?? ''];
}

function validatePodSpec(spec: unknown, field: string, causes: StatusCause[], kind: string): void {
  if (!isRecord(spec)) return;
  const seen = new Set<string>();
  const lists: [string, unknown[]][] = [
    ['containers', asArray(spec.containers)],
    ['initContainers', asArray(spec.initContainers)],
  ];
  for (const [listName, list] of lists) {
    list.forEach((raw, i) => {
      const c = asRecord(raw);
      const at = `${field}.${listName}[${i}]`;
      const name = asString(c.name) ?? '';
      if (name && seen.has(name))
        causes.push({ reason: 'FieldValueDuplicate', message: `Duplicate value: ${JSON.stringify(name)}`, field: `${at}.name` });
      seen.add(name);
      if (name) for (const p of nameProblems(name, 'label')) causes.push(invalid(`${at}.name`, name, p));
      if (typeof c.image !== 'string' || c.image.trim() === '') causes.push(required(`${at}.image`));
      const resources = asRecord(c.resources);
      const limits = asRecord(resources.limits);
      for (const [res, req] of Object.entries(asRecord(resources.requests))) {
        const r = parseQuantity(req);
        const l = limits[res] === undefined ? undefined : parseQuantity(limits[res]);
        if (r === undefined) causes.push(invalid(`${at}.resources.requests[${res}]`, req, 'must be a valid quantity'));
        else if (l !== undefined && r > l)
          causes.push(invalid(`${at}.resources.requests`, req, `must be less than or equal to ${res} limit of ${String(limits[res])}`));
      }
      for (const [res, lim] of Object.entries(limits))
        if (parseQuantity(lim) === undefined) causes.push(invalid(`${at}.resources.limits[${res}]`, lim, 'must be a valid quantity'));
    });
  }
  if (kind === 'Job' && spec.restartPolicy !== 'Never' && spec.restartPolicy !== 'OnFailure') {
    causes.push({
      reason: 'FieldValueNotSupported',
      message: `Unsupported value: ${JSON.stringify(spec.restartPolicy ?? '')}: supported values: "OnFailure", "Never"`,
      field: `${field}.restartPolicy`,
    });
  }
}

function validateWorkload(obj: KubeObject, old: KubeObject | undefined, causes: StatusCause[]): void {
  const spec = asRecord(obj.spec);
  const selector = spec.selector;
  const template = asRecord(spec.template);
  const templateLabels = asRecord(asRecord(template.metadata).labels) as Record<string, string>;
  validateLabels(templateLabels, 'spec.template.metadata.labels', causes);
  const sel = asRecord(selector);
  if (!isRecord(selector) || (Object.keys(asRecord(sel.matchLabels)).length === 0 && asArray(sel.matchExpressions).length === 0)) {
    causes.push(invalid('spec.selector', selector ?? {}, 'empty selector is invalid for deployment'));
  } else if (!matchesLabelSelector(selector, templateLabels)) {
    causes.push(invalid('spec.template.metadata.labels', templateLabels, '`selector` does not match template `labels`'));
  }
  if (old && !deepEqual(asRecord(old.spec).selector, selector)) causes.push(invalid('spec.selector', selector, 'field is immutable'));
  validatePodSpec(template.spec, 'spec.template.spec', causes, obj.kind);
}

function validateService(obj: KubeObject, causes: StatusCause[]): void {
  const spec = asRecord(obj.spec);
  const ports = asArray(spec.ports);
  if (ports.length === 0 && spec.clusterIP !== 'None' && spec.type !== 'ExternalName') causes.push(required('spec.ports'));
  if (ports.length > 1) ports.forEach((p, i) => asString(asRecord(p).name) || causes.push(required(`spec.ports[${i}].name`)));
}

function validateData(obj: KubeObject, causes: StatusCause[]): void {
  for (const key of ['data', 'binaryData', 'stringData']) {
    for (const [k, v] of Object.entries(asRecord(obj[key]))) {
      if (!CONFIG_KEY.test(k))
        causes.push(
          invalid(
            `${key}[${k}]`,
            k,
            `a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`,
          ),
        );
      if (obj.kind === 'Secret' && key === 'data' && (typeof v !== 'string' || !BASE64.test(v)))
        causes.push(invalid(`data[${k}]`, '<secret contents redacted>', 'illegal base64 data'));
    }
  }
}

/** The kind-specific server rules. */
function serverRules(obj: KubeObject, rt: ResourceType, old: KubeObject | undefined): StatusCause[] {
  const causes: StatusCause[] = [];
  const name = obj.metadata.name ?? '';
  if (!name)
    causes.push({ reason: 'FieldValueRequired', message: 'Required value: name or generateName is required', field: 'metadata.name' });
  else for (const p of nameProblems(name, rt.nameRule)) causes.push(invalid('metadata.name', name, p));
  validateLabels(obj.metadata.labels, 'metadata.labels', causes);
  validateAnnotations(obj.metadata.annotations, 'metadata.annotations', causes);
  for (const [i, f] of (obj.metadata.finalizers ?? []).entries())
    for (const p of qualifiedNameProblems(String(f))) causes.push(invalid(`metadata.finalizers[${i}]`, f, p));
  const spec = asRecord(obj.spec);
  switch (`${rt.group}/${rt.kind}`) {
    case 'apps/Deployment':
    case 'apps/ReplicaSet':
      validateWorkload(obj, old, causes);
      break;
    case '/Pod':
      validatePodSpec(obj.spec, 'spec', causes, 'Pod');
      break;
    case 'batch/Job':
      validatePodSpec(asRecord(spec.template).spec, 'spec.template.spec', causes, 'Job');
      break;
    case '/Service':
      validateService(obj, causes);
      break;
    case '/ConfigMap':
    case '/Secret':
      validateData(obj, causes);
      break;
    case 'autoscaling/HorizontalPodAutoscaler': {
      const min = typeof spec.minReplicas === 'number' ? spec.minReplicas : 1;
      if (typeof spec.maxReplicas === 'number' && spec.maxReplicas < min)
        causes.push(invalid('spec.maxReplicas', spec.maxReplicas, 'must be greater than or equal to `minReplicas`'));
      break;
    }
    case 'apiextensions.k8s.io/CustomResourceDefinition': {
      const expected = `${String(asRecord(spec.names).plural)}.${String(spec.group)}`;
      if (name !== expected) causes.push(invalid('metadata.name', name, `must be spec.names.plural+"."+spec.group`));
      break;
    }
  }
  return causes;
}

/** ajv error objects (as thrown by `Model.validate()`) to Status causes. */
function schemaCauses(err: unknown, obj: KubeObject): StatusCause[] {
  const list = isRecord(err) && Array.isArray(err.errors) ? err.errors : [];
  if (list.length === 0) return [{ reason: 'FieldValueInvalid', message: err instanceof Error ? err.message : String(err) }];
  const causes: StatusCause[] = [];
  for (const raw of list) {
    const e = asRecord(raw);
    const params = asRecord(e.params);
    const segments = String(e.instancePath ?? '')
      .split('/')
      .filter((s) => s !== '');
    if (e.keyword === 'required' && typeof params.missingProperty === 'string') segments.push(params.missingProperty);
    const field = segments.map((s, i) => (/^\d+$/.test(s) ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
    let value: unknown = obj;
    for (const s of String(e.instancePath ?? '')
      .split('/')
      .filter((x) => x !== ''))
      value = isRecord(value) ? value[s] : Array.isArray(value) ? value[Number(s)] : undefined;
    const cause: StatusCause =
      e.keyword === 'required'
        ? required(field)
        : e.keyword === 'enum'
          ? {
              reason: 'FieldValueNotSupported',
              message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${asArray(params.allowedValues)
                .map((v) => JSON.stringify(v))
                .join(', ')}`,
              field,
            }
          : invalid(field, value, String(e.message ?? 'invalid'));
    if (!causes.some((c) => c.field === cause.field && c.message === cause.message)) causes.push(cause);
  }
  return causes;
}

/** Loads model classes once and validates objects synchronously afterwards. */
export class Validator {
  private readonly models = new Map<ModelLoader, ModelClass>();

  constructor(private readonly enabled: boolean) {}

  /** Must be awaited before `validate` for a resource type (validation itself stays synchronous). */
  async prepare(rt: ResourceType): Promise<void> {
    if (!this.enabled || !rt.model || this.models.has(rt.model)) return;
    this.models.set(rt.model, await rt.model());
  }

  /** All problems with `obj` (empty when valid). `old` is the live object on updates. */
  validate(obj: KubeObject, rt: ResourceType, old?: KubeObject): StatusCause[] {
    if (!this.enabled) return [];
    const causes: StatusCause[] = [];
    const Model = rt.model ? this.models.get(rt.model) : undefined;
    if (rt.model && !Model) throw new Error(`kube-fake: validator for ${rt.kind} used before prepare()`);
    if (Model) {
      try {
        new Model(obj as unknown as JsonObject).validate();
      } catch (e) {
        causes.push(...schemaCauses(e, obj));
      }
    } else if (rt.schema) {
      causes.push(...validateSchema(obj, rt.schema));
    }
    causes.push(...serverRules(obj, rt, old));
    return causes;
  }
}
