/**
 * The object store: every object by group/kind/namespace/name, a global resourceVersion counter, a bounded
 * history of watch events, and the deletion machinery kube-apiserver and kube-controller-manager provide together
 * (finalizers, ownerReference garbage collection with Background/Foreground/Orphan propagation, namespace
 * cascade, CustomResourceDefinitions becoming served resources).
 *
 * Its public methods are also the "direct access" API for tests: they bypass validation and field management.
 */
import { randomUUID } from 'node:crypto';
import { resourcesFromCrd, type ResourceRegistry } from './resources';
import { asRecord, clone, deepEqual, formatTime, isRecord, type JsonObject, type KubeObject, splitApiVersion } from './types';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoredEvent {
  type: WatchEventType;
  /** resourceVersion at which the event happened. */
  rv: number;
  group: string;
  kind: string;
  namespace: string;
  object: KubeObject;
  /** The previous state for MODIFIED events (used to turn selector transitions into ADDED/DELETED). */
  previous?: KubeObject;
}

export type PropagationPolicy = 'Background' | 'Foreground' | 'Orphan';

/** Result of a delete: the object's last state and whether it is gone or only marked for deletion. */
export interface DeleteResult {
  object: KubeObject;
  removed: boolean;
}

const keyOf = (group: string, kind: string, namespace: string | undefined, name: string): string =>
  `${group}|${kind}|${namespace ?? ''}|${name}`;

/** Objects by key, indexed by kind too, so listing a kind never walks the whole store (thousands of pods...). */
class ObjectIndex {
  private readonly byKey = new Map<string, KubeObject>();
  private readonly byKind = new Map<string, Map<string, KubeObject>>();

  private static kindOf(key: string): string {
    const second = key.indexOf('|', key.indexOf('|') + 1);
    return key.slice(0, second + 1);
  }

  get(key: string): KubeObject | undefined {
    return this.byKey.get(key);
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  set(key: string, o: KubeObject): void {
    this.byKey.set(key, o);
    const kind = ObjectIndex.kindOf(key);
    let m = this.byKind.get(kind);
    if (!m) this.byKind.set(kind, (m = new Map()));
    m.set(key, o);
  }

  delete(key: string): void {
    this.byKey.delete(key);
    this.byKind.get(ObjectIndex.kindOf(key))?.delete(key);
  }

  values(): IterableIterator<KubeObject> {
    return this.byKey.values();
  }

  /** Entries of one kind (`<group>|<kind>|`). */
  ofKind(kindPrefix: string): Iterable<[string, KubeObject]> {
    return this.byKind.get(kindPrefix) ?? [];
  }
}

/** Whether the object's desired state changed: `spec`, or for spec-less kinds anything but metadata/status. */
export function desiredStateChanged(a: KubeObject, b: KubeObject): boolean {
  if ('spec' in a || 'spec' in b) return !deepEqual(a.spec, b.spec);
  const strip = (o: KubeObject): JsonObject => {
    const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = o;
    return rest;
  };
  return !deepEqual(strip(a), strip(b));
}

export class FakeStore {
  private readonly objects = new ObjectIndex();
  /** In-process controllers (the simulator) see every event. */
  private readonly observers = new Set<(e: StoredEvent) => void>();
  private rv = 0;

  constructor(
    private readonly registry: ResourceRegistry,
    private readonly now: () => Date,
  ) {}

  /** The current (latest) resourceVersion, as lists report it. */
  resourceVersion(): string {
    return String(this.rv);
  }

  /** A copy of one object, or undefined. `namespace` is ignored for cluster-scoped kinds. */
  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const found = this.find(splitApiVersion(apiVersion).group, kind, namespace, name);
    return found && clone(found);
  }

  /** Copies of all objects of a kind, in one namespace or all, sorted by namespace/name. */
  list(apiVersion: string, kind: string, namespace?: string): KubeObject[] {
    return this.items(splitApiVersion(apiVersion).group, kind, namespace).map((o) => clone(o));
  }

  /** Creates or replaces an object as given (no validation, no field management); returns the stored copy. */
  put(obj: KubeObject): KubeObject {
    const { group } = splitApiVersion(obj.apiVersion);
    const existing = this.find(group, obj.kind, obj.metadata.namespace, obj.metadata.name ?? '');
    return clone(this.write(clone(obj), existing));
  }

  /** Merges `status` into an object's status (direct access for tests; emits MODIFIED). */
  patchStatus(apiVersion: string, kind: string, namespace: string | undefined, name: string, status: JsonObject): KubeObject {
    const existing = this.find(splitApiVersion(apiVersion).group, kind, namespace, name);
    if (!existing) throw new Error(`kube-fake: ${kind} ${namespace ?? ''}/${name} not found`);
    const next = clone(existing);
    next.status = { ...asRecord(existing.status), ...clone(status) };
    return clone(this.write(next, existing));
  }

  /** Deletes like the API server would (finalizers, garbage collection); false when the object did not exist. */
  delete(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    name: string,
    propagationPolicy: PropagationPolicy = 'Background',
  ): boolean {
    const existing = this.find(splitApiVersion(apiVersion).group, kind, namespace, name);
    if (!existing) return false;
    this.deleteObject(existing, propagationPolicy);
    return true;
  }

  // ---- internal API used by the request handlers and the simulator -------------------------------------------

  /** The stored object itself (do not mutate). */
  find(group: string, kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const rt = this.registry.byGroupKind(group, kind);
    const ns = rt && !rt.namespaced ? undefined : namespace;
    return this.objects.get(keyOf(group, kind, ns, name));
  }

  /** Stored objects of a kind (do not mutate), sorted by namespace then name. */
  items(group: string, kind: string, namespace?: string): KubeObject[] {
    const prefix = namespace === undefined ? `${group}|${kind}|` : `${group}|${kind}|${namespace}|`;
    const out: { sortKey: string; o: KubeObject }[] = [];
    for (const [k, o] of this.objects.ofKind(`${group}|${kind}|`))
      if (k.startsWith(prefix)) out.push({ sortKey: `${o.metadata.namespace ?? ''}/${o.metadata.name}`, o });
    // code-unit order, as the API server lists (etcd keys); cheaper than localeCompare
    return out.sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0)).map((x) => x.o);
  }

  private all(): KubeObject[] {
    return [...this.objects.values()];
  }

  /**
   * Stores `next` (which replaces `previous`, if any): assigns uid/creationTimestamp/generation for new objects,
   * bumps generation when the desired state changed, bumps resourceVersion and emits ADDED/MODIFIED. An object
   * being deleted whose last finalizer went away is removed instead.
   */
  write(next: KubeObject, previous: KubeObject | undefined): KubeObject {
    const meta = next.metadata;
    if (previous) {
      meta.uid = previous.metadata.uid;
      meta.creationTimestamp = previous.metadata.creationTimestamp;
      meta.generation = (previous.metadata.generation ?? 1) + (desiredStateChanged(previous, next) ? 1 : 0);
      if (previous.metadata.deletionTimestamp) meta.deletionTimestamp = previous.metadata.deletionTimestamp;
    } else {
      meta.uid ??= randomUUID();
      meta.creationTimestamp ??= formatTime(this.now());
      meta.generation ??= 1;
    }
    if (meta.finalizers?.length === 0) delete meta.finalizers;
    if (next.kind === 'CustomResourceDefinition' && next.apiVersion.startsWith('apiextensions.k8s.io/')) this.establishCrd(next);
    if (previous && meta.deletionTimestamp && !meta.finalizers?.length) {
      this.objects.set(this.key(next), next);
      this.remove(next);
      return next;
    }
    meta.resourceVersion = String(++this.rv);
    this.objects.set(this.key(next), next);
    this.emit(previous ? 'MODIFIED' : 'ADDED', next, previous);
    return next;
  }

  /** Deletes one object with the given propagation policy; see the module comment. */
  deleteObject(obj: KubeObject, policy: PropagationPolicy): DeleteResult {
    if (obj.metadata.deletionTimestamp) return { object: obj, removed: false };
    const group = splitApiVersion(obj.apiVersion).group;
    if (group === '' && obj.kind === 'Namespace') return this.deleteNamespace(obj);
    const finalizers = obj.metadata.finalizers ?? [];
    const dependents = this.dependentsOf(obj);
    if (policy === 'Foreground' && dependents.length > 0) {
      const marked = this.mark(obj, [...finalizers, 'foregroundDeletion']);
      for (const d of dependents) this.deleteObject(d, 'Foreground');
      const current = this.find(group, obj.kind, obj.metadata.namespace, obj.metadata.name ?? '') ?? marked;
      const rest = (current.metadata.finalizers ?? []).filter((f) => f !== 'foregroundDeletion');
      const next = clone(current);
      next.metadata.finalizers = rest;
      const written = this.write(next, current);
      return { object: written, removed: rest.length === 0 };
    }
    if (policy === 'Orphan') for (const d of dependents) this.dropOwner(d, obj.metadata.uid);
    if (finalizers.length > 0) return { object: this.mark(obj, finalizers), removed: false };
    this.remove(obj);
    return { object: obj, removed: true };
  }

  /** Marks for deletion (deletionTimestamp, given finalizers) and emits MODIFIED. */
  private mark(obj: KubeObject, finalizers: string[]): KubeObject {
    const next = clone(obj);
    next.metadata.deletionTimestamp = formatTime(this.now());
    next.metadata.deletionGracePeriodSeconds = 0;
    next.metadata.finalizers = finalizers;
    next.metadata.resourceVersion = String(++this.rv);
    this.objects.set(this.key(next), next);
    this.emit('MODIFIED', next, obj);
    return next;
  }

  /** Namespace deletion: Terminating, contents deleted, then the namespace itself once empty and unfinalized. */
  private deleteNamespace(ns: KubeObject): DeleteResult {
    const next = clone(ns);
    next.status = { ...asRecord(ns.status), phase: 'Terminating' };
    next.metadata.deletionTimestamp = formatTime(this.now());
    next.metadata.resourceVersion = String(++this.rv);
    this.objects.set(this.key(next), next);
    this.emit('MODIFIED', next, ns);
    const name = ns.metadata.name;
    for (const o of this.all()) {
      const current = o.metadata.namespace === name ? this.objects.get(this.key(o)) : undefined;
      if (current) this.deleteObject(current, 'Background');
    }
    return this.finalizeNamespace(name ?? '');
  }

  private finalizeNamespace(name: string): DeleteResult {
    const ns = this.find('', 'Namespace', undefined, name);
    if (!ns) return { object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, removed: true };
    const empty = !this.all().some((o) => o.metadata.namespace === name);
    if (!ns.metadata.deletionTimestamp || !empty || ns.metadata.finalizers?.length) return { object: ns, removed: false };
    this.remove(ns);
    return { object: ns, removed: true };
  }

  /** Removes from the store (DELETED event), then garbage-collects dependents and finishes namespace/CRD removal. */
  private remove(obj: KubeObject): void {
    const key = this.key(obj);
    if (!this.objects.has(key)) return;
    this.objects.delete(key);
    const gone = clone(obj);
    gone.metadata.resourceVersion = String(++this.rv);
    this.emit('DELETED', gone);
    for (const stale of this.dependentsOf(obj)) {
      const d = this.objects.get(this.key(stale));
      if (!d) continue;
      const others = (d.metadata.ownerReferences ?? []).filter((r) => r.uid !== obj.metadata.uid && this.byUid(r.uid));
      if (others.length > 0) this.dropOwner(d, obj.metadata.uid);
      else this.deleteObject(d, 'Background');
    }
    if (obj.kind === 'CustomResourceDefinition' && obj.apiVersion.startsWith('apiextensions.k8s.io/') && obj.metadata.name) {
      for (const t of this.registry.removeCrd(obj.metadata.name)) for (const o of this.items(t.group, t.kind)) this.remove(o);
    }
    const ns = obj.metadata.namespace;
    if (ns) {
      const owner = this.find('', 'Namespace', undefined, ns);
      if (owner?.metadata.deletionTimestamp) this.finalizeNamespace(ns);
    }
  }

  private dependentsOf(owner: KubeObject): KubeObject[] {
    const uid = owner.metadata.uid;
    if (!uid) return [];
    return this.all().filter((o) => o.metadata.ownerReferences?.some((r) => r.uid === uid));
  }

  private byUid(uid: string): KubeObject | undefined {
    return this.all().find((o) => o.metadata.uid === uid);
  }

  private dropOwner(obj: KubeObject, uid: string | undefined): void {
    const next = clone(obj);
    next.metadata.ownerReferences = (obj.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid);
    if (next.metadata.ownerReferences.length === 0) delete next.metadata.ownerReferences;
    this.write(next, obj);
  }

  /** apiextensions-apiserver accepts names at once: Established + NamesAccepted, and serves the CRD's versions. */
  private establishCrd(crd: KubeObject): void {
    const names = asRecord(asRecord(crd.spec).names);
    const time = formatTime(this.now());
    const existing = asRecord(crd.status);
    if (!Array.isArray(existing.conditions)) {
      crd.status = {
        acceptedNames: clone(names),
        conditions: [
          { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found', lastTransitionTime: time },
          {
            type: 'Established',
            status: 'True',
            reason: 'InitialNamesAccepted',
            message: 'the initial names have been accepted',
            lastTransitionTime: time,
          },
        ],
        storedVersions: ((asRecord(crd.spec).versions as unknown[]) ?? [])
          .filter((v) => isRecord(v) && v.storage === true)
          .map((v) => asRecord(v).name),
      };
    }
    if (crd.metadata.name) this.registry.removeCrd(crd.metadata.name);
    for (const t of resourcesFromCrd(crd)) this.registry.add(t);
  }

  private key(o: KubeObject): string {
    const { group } = splitApiVersion(o.apiVersion);
    const rt = this.registry.byGroupKind(group, o.kind);
    return keyOf(group, o.kind, rt && !rt.namespaced ? undefined : o.metadata.namespace, o.metadata.name ?? '');
  }

  // ---- events -------------------------------------------------------------------------------------------------

  private emit(type: WatchEventType, object: KubeObject, previous?: KubeObject): void {
    const event: StoredEvent = {
      type,
      rv: this.rv,
      group: splitApiVersion(object.apiVersion).group,
      kind: object.kind,
      namespace: object.metadata.namespace ?? '',
      object: clone(object),
      ...(previous ? { previous: clone(previous) } : {}),
    };
    for (const o of this.observers) o(event);
  }

  /** Calls `observer` for every future event (the simulated controllers); returns the unsubscribe function. */
  observe(observer: (e: StoredEvent) => void): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }
}
