/**
 * The objects of the Kubernetes Job build driver (libs/build-driver): a ConfigMap holding the Containerfile and a
 * `batch/v1` Job whose init container shallow-clones the commit and whose build container runs rootless buildah,
 * pushes, and writes the pushed digest as its termination message. Pure: no I/O, golden-tested.
 */
import { posix } from 'node:path';
import { assertImageTarget, repositoryProblems } from '@apprunner/registry';
import type { KubeObject } from './types';

export const BUILD_LABELS = {
  buildId: 'apprunner.k8s/build-id',
} as const;

export const BUILD_CONTAINER = 'build';
export const CLONE_CONTAINER = 'clone';
/** Printed by the build container between build and push: tells a failed push from a failed build in its log. */
export const PUSH_MARKER = '--> Pushing image';

/** uid/gid of the `build` user of quay.io/buildah/stable, which has /etc/subuid ranges for rootless buildah. */
const BUILD_USER = 1000;
const SOURCE_ROOT = '/workspace/source';
const CONTAINERFILE_DIR = '/workspace/containerfile';
const STORAGE_DIR = '/workspace/storage';
const AUTH_DIR = '/workspace/registry-auth';
const CONTAINERFILE_KEY = 'Containerfile';
const TERMINATION_LOG = '/dev/termination-log';
const MAX_CONFIGMAP_BYTES = 1024 * 1024;
const COMMIT = /^(?:[a-f0-9]{40}|[a-f0-9]{64})$/;
const BUILD_ARG_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface BuildJobOptions {
  namespace: string;
  buildId: string;
  /** Builder image with buildah and its `build` user, e.g. `quay.io/buildah/stable:v1.37`. */
  image: string;
  /** Image with `sh` and git >= 2.31 for the clone init container, e.g. `docker.io/alpine/git:2.47.2`. */
  cloneImage: string;
  /** Secret holding the repository access token (a GitHub App installation token). */
  sourceSecretName: string;
  /** Key of the token in that Secret (default `token`). */
  sourceSecretKey?: string;
  /** https URL of the repository, without credentials. */
  gitCloneUrl: string;
  /** Full commit sha (40 or 64 hex): a shallow fetch by sha needs the whole id. */
  commit: string;
  /** App Runner's SourceDirectory: the build context inside the repository (default: the repository root). */
  sourceDirectory?: string;
  /** Name of the ConfigMap holding the Containerfile (created with the Job, see `BuildJobObjects`). */
  containerfileConfigMap: string;
  containerfile: string;
  repository: string;
  tag: string;
  buildArgs?: Record<string, string>;
  /** `kubernetes.io/dockerconfigjson` Secret with the push credential (and pull credentials of base images). */
  registryAuthSecret?: string;
  /** Registry repository used as layer cache (`--cache-from`/`--cache-to`): pods have no persistent storage. */
  cacheRepository?: string;
  /** false for a plain-HTTP registry inside the cluster (default true). */
  tlsVerify?: boolean;
  activeDeadlineSeconds: number;
  /** Finished Jobs (and their pods) are deleted after this (default 3600). */
  ttlSecondsAfterFinished?: number;
  /** Labels on the ConfigMap, the Job and its pod (tenant, service...); the build id label is added. */
  labels: Record<string, string>;
  /** Requests and limits of the build container. */
  resources?: { cpu?: string; memory?: string; ephemeralStorage?: string };
}

export interface BuildJobObjects {
  configMap: KubeObject;
  job: KubeObject;
}

/** Job name for a build: `build-<build id>`, a DNS-1123 label (Jobs label their pods with their name). */
export function buildJobName(buildId: string): string {
  const id = buildId
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  const name = `build-${id}`.slice(0, 63).replace(/-+$/, '');
  if (id === '') throw new TypeError(`Build id ${JSON.stringify(buildId)} gives no valid Job name`);
  return name;
}

export function buildJobManifest(opts: BuildJobOptions): BuildJobObjects {
  assertImageTarget(opts.repository, opts.tag);
  if (opts.cacheRepository !== undefined) {
    const problems = repositoryProblems(opts.cacheRepository);
    if (problems.length > 0) throw new TypeError(`Invalid cacheRepository: ${problems.join('; ')}`);
  }
  if (!COMMIT.test(opts.commit)) throw new TypeError(`commit must be a full lowercase hex sha (got ${JSON.stringify(opts.commit)})`);
  const url = parseCloneUrl(opts.gitCloneUrl);
  const contextDir = contextPath(opts.sourceDirectory);
  if (!(Number.isInteger(opts.activeDeadlineSeconds) && opts.activeDeadlineSeconds > 0)) {
    throw new TypeError(`activeDeadlineSeconds must be a positive integer (got ${opts.activeDeadlineSeconds})`);
  }
  if (Buffer.byteLength(opts.containerfile) > MAX_CONFIGMAP_BYTES - 1024)
    throw new TypeError('Containerfile is too large for a ConfigMap (1 MiB)');
  const buildArgs = Object.entries(opts.buildArgs ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const badArg = buildArgs.find(([name]) => !BUILD_ARG_NAME.test(name));
  if (badArg) throw new TypeError(`Build argument name ${JSON.stringify(badArg[0])} must match ${BUILD_ARG_NAME.source}`);

  const labels = { ...opts.labels, [BUILD_LABELS.buildId]: buildIdLabel(opts.buildId) };
  const tlsVerify = opts.tlsVerify ?? true;

  const configMap: KubeObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: opts.containerfileConfigMap, namespace: opts.namespace, labels: { ...labels } },
    data: { [CONTAINERFILE_KEY]: opts.containerfile },
    immutable: true,
  };

  const clone = {
    name: CLONE_CONTAINER,
    image: opts.cloneImage,
    command: ['/bin/sh', '-c', CLONE_SCRIPT],
    env: [
      { name: 'SOURCE_DIR', value: SOURCE_ROOT },
      { name: 'GIT_URL', value: url },
      { name: 'GIT_COMMIT', value: opts.commit },
      // The token reaches git through a credential helper reading the environment: never in args or the URL.
      { name: 'GIT_TOKEN', valueFrom: { secretKeyRef: { name: opts.sourceSecretName, key: opts.sourceSecretKey ?? 'token' } } },
      { name: 'GIT_TERMINAL_PROMPT', value: '0' },
      { name: 'GIT_CONFIG_COUNT', value: '1' },
      { name: 'GIT_CONFIG_KEY_0', value: 'credential.helper' },
      { name: 'GIT_CONFIG_VALUE_0', value: CREDENTIAL_HELPER },
      { name: 'HOME', value: '/tmp' },
    ],
    volumeMounts: [{ name: 'source', mountPath: SOURCE_ROOT }],
    securityContext: restrictedSecurityContext(),
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };

  const build = {
    name: BUILD_CONTAINER,
    image: opts.image,
    command: [
      '/bin/sh',
      '-c',
      buildScript(tlsVerify, opts.cacheRepository !== undefined),
      'build',
      ...buildArgs.flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]),
    ],
    env: [
      { name: 'IMAGE', value: `${opts.repository}:${opts.tag}` },
      { name: 'CONTEXT_DIR', value: contextDir },
      { name: 'CONTAINERFILE', value: `${CONTAINERFILE_DIR}/${CONTAINERFILE_KEY}` },
      { name: 'STORAGE_DIR', value: STORAGE_DIR },
      { name: 'BUILDAH_ISOLATION', value: 'chroot' },
      { name: 'TERMINATION_LOG', value: TERMINATION_LOG },
      ...(opts.cacheRepository !== undefined ? [{ name: 'CACHE_REPOSITORY', value: opts.cacheRepository }] : []),
      ...(opts.registryAuthSecret !== undefined ? [{ name: 'REGISTRY_AUTH_FILE', value: `${AUTH_DIR}/.dockerconfigjson` }] : []),
    ],
    volumeMounts: [
      { name: 'source', mountPath: SOURCE_ROOT, readOnly: true },
      { name: 'containerfile', mountPath: CONTAINERFILE_DIR, readOnly: true },
      { name: 'storage', mountPath: STORAGE_DIR },
      ...(opts.registryAuthSecret !== undefined ? [{ name: 'registry-auth', mountPath: AUTH_DIR, readOnly: true }] : []),
    ],
    ...(opts.resources ? { resources: containerResources(opts.resources) } : {}),
    securityContext: {
      runAsNonRoot: true,
      runAsUser: BUILD_USER,
      runAsGroup: BUILD_USER,
      // Rootless buildah maps a user namespace with the setuid newuidmap/newgidmap helpers: they need privilege
      // escalation and SETUID/SETGID in the bounding set, and unshare(CLONE_NEWUSER) is refused by the default
      // seccomp and AppArmor profiles. Everything else stays dropped; the container is never privileged.
      allowPrivilegeEscalation: true,
      capabilities: { drop: ['ALL'], add: ['SETUID', 'SETGID'] },
      seccompProfile: { type: 'Unconfined' },
      appArmorProfile: { type: 'Unconfined' },
    },
    // On success the file holds the digest; on failure the kubelet takes the log tail instead.
    terminationMessagePath: TERMINATION_LOG,
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };

  const job: KubeObject = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: buildJobName(opts.buildId), namespace: opts.namespace, labels: { ...labels } },
    spec: {
      // A failed build is reported, not retried: reruns are the operation's decision.
      backoffLimit: 0,
      activeDeadlineSeconds: opts.activeDeadlineSeconds,
      ttlSecondsAfterFinished: opts.ttlSecondsAfterFinished ?? 3600,
      template: {
        metadata: { labels: { ...labels } },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: { runAsNonRoot: true, runAsUser: BUILD_USER, runAsGroup: BUILD_USER, fsGroup: BUILD_USER },
          initContainers: [clone],
          containers: [build],
          volumes: [
            { name: 'source', emptyDir: {} },
            {
              name: 'containerfile',
              configMap: { name: opts.containerfileConfigMap, items: [{ key: CONTAINERFILE_KEY, path: CONTAINERFILE_KEY }] },
            },
            { name: 'storage', emptyDir: opts.resources?.ephemeralStorage ? { sizeLimit: opts.resources.ephemeralStorage } : {} },
            ...(opts.registryAuthSecret !== undefined
              ? [
                  {
                    name: 'registry-auth',
                    secret: { secretName: opts.registryAuthSecret, items: [{ key: '.dockerconfigjson', path: '.dockerconfigjson' }] },
                  },
                ]
              : []),
          ],
        },
      },
    },
  };
  return { configMap, job };
}

/** Label value for the build id (at most 63 characters of [A-Za-z0-9_.-], alphanumeric at both ends). */
function buildIdLabel(buildId: string): string {
  const value = buildId
    .replace(/[^A-Za-z0-9_.-]/g, '-')
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  if (value === '') throw new TypeError(`Build id ${JSON.stringify(buildId)} gives no valid label value`);
  return value;
}

function parseCloneUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TypeError(`gitCloneUrl ${JSON.stringify(raw)} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new TypeError(`gitCloneUrl must be an http(s) URL (got ${url.protocol})`);
  if (url.username || url.password) throw new TypeError('gitCloneUrl must not carry credentials: the token comes from sourceSecretName');
  return url.toString();
}

/** Build context path for App Runner's SourceDirectory (`/`, `api`, `/services/api/`); never outside the checkout. */
function contextPath(sourceDirectory: string | undefined): string {
  const relative = (sourceDirectory ?? '').replace(/^\/+|\/+$/g, '');
  if (relative === '' || relative === '.') return SOURCE_ROOT;
  const normalized = posix.normalize(relative);
  if (normalized === '..' || normalized.startsWith('../') || relative.split('/').includes('..')) {
    throw new TypeError(`sourceDirectory ${JSON.stringify(sourceDirectory)} must stay inside the repository`);
  }
  return `${SOURCE_ROOT}/${normalized}`;
}

function containerResources(r: NonNullable<BuildJobOptions['resources']>): Record<string, Record<string, string>> {
  const quantities: Record<string, string> = {};
  if (r.cpu) quantities.cpu = r.cpu;
  if (r.memory) quantities.memory = r.memory;
  if (r.ephemeralStorage) quantities['ephemeral-storage'] = r.ephemeralStorage;
  return { requests: { ...quantities }, limits: { ...quantities } };
}

function restrictedSecurityContext(): Record<string, unknown> {
  return {
    runAsNonRoot: true,
    runAsUser: BUILD_USER,
    runAsGroup: BUILD_USER,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** git credential helper answering `get` with the token from the environment (expanded only when git calls it). */
const CREDENTIAL_HELPER = '!f() { if [ "$1" = get ]; then echo username=x-access-token; echo "password=$GIT_TOKEN"; fi; }; f';

const CLONE_SCRIPT = [
  'set -eu',
  'git init -q "$SOURCE_DIR"',
  'cd "$SOURCE_DIR"',
  'git remote add origin "$GIT_URL"',
  'git fetch -q --depth 1 origin "$GIT_COMMIT"',
  'git checkout -q --detach FETCH_HEAD',
  'test "$(git rev-parse HEAD)" = "$GIT_COMMIT"',
  'echo "checked out $GIT_COMMIT"',
  '',
].join('\n');

/** Values come from the environment and "$@" (build args), so nothing the user controls is parsed by the shell. */
function buildScript(tlsVerify: boolean, cache: boolean): string {
  const common = `--root "$STORAGE_DIR/root" --runroot "$STORAGE_DIR/run" --storage-driver vfs`;
  const tls = `--tls-verify=${tlsVerify}`;
  const cacheFlags = cache ? ' --cache-from "$CACHE_REPOSITORY" --cache-to "$CACHE_REPOSITORY"' : '';
  return [
    'set -eu',
    `buildah ${common} build --isolation chroot --layers --force-rm ${tls}${cacheFlags} --iidfile "$STORAGE_DIR/image-id" -f "$CONTAINERFILE" "$@" "$CONTEXT_DIR"`,
    `echo '${PUSH_MARKER}'`,
    `buildah ${common} push ${tls} --digestfile "$STORAGE_DIR/digest" "$(cat "$STORAGE_DIR/image-id")" "docker://$IMAGE"`,
    // The kubelet reads this file into status.containerStatuses[].state.terminated.message.
    'cat "$STORAGE_DIR/digest" > "$TERMINATION_LOG"',
    '',
  ].join('\n');
}
