/**
 * The in-cluster build driver (BUILD_DRIVER=kubernetes): every build is a `batch/v1` Job in the build namespace
 * (`buildJobManifest` in libs/kubernetes/src/manifests: an init container clones the commit with the token from a Secret, rootless buildah builds and
 * pushes, the digest comes back as the build container's termination message). Tenant build steps never run in the
 * worker pod, which holds the platform's secrets.
 *
 * Level-triggered: the Job's name derives from the build id, so a second `build` for the same id (a worker that
 * took over the build of one that died) adopts the Job it finds instead of starting another one.
 */
import {
  BUILD_CONTAINER,
  BUILD_LABELS,
  CLONE_CONTAINER,
  buildJobManifest,
  buildJobName,
  KubePermanentError,
  type KubeClient,
  type LiveObject,
} from '@apprunner/kubernetes';
import { TransientReconcileError } from '@apprunner/operation';
import { buildJobOutcome } from './kubernetes-job.outcome';
import { BuildOutput } from './output';
import { BuildFailedError, type BuildDriver, type BuildRequest, type BuildResult } from './types';

export interface KubernetesJobDriverOptions {
  /** Namespace of the build Jobs (BUILD_NAMESPACE): tenants' code runs there, away from the platform's Secrets. */
  namespace: string;
  /** Image with rootless buildah (BUILD_JOB_IMAGE). */
  buildahImage: string;
  /** Image with git for the clone init container (BUILD_CLONE_IMAGE). */
  cloneImage: string;
  /** `kubernetes.io/dockerconfigjson` Secret in `namespace` with the push credential; none: anonymous pushes. */
  registryAuthSecret?: string;
  /** false for a plain-HTTP registry (BUILD_REGISTRY_INSECURE). */
  tlsVerify: boolean;
  /** Registry repository used as the layer cache of a repository (pods keep no storage between builds). */
  cacheRepository?: (repository: string) => string | undefined;
  /** Interval of reading the Job, its pod and the logs (default 2 s). */
  pollMs?: number;
  /** Labels on the Secret, the ConfigMap, the Job and its pod (the build id label is added). */
  labels?: Record<string, string>;
  /** How long past `timeoutMs` the Job's own deadline gets before the driver deletes the Job itself (default 30 s). */
  deadlineGraceMs?: number;
  /** Requests = limits of the build container, so one tenant's build can't starve the others on a node. */
  resources?: { cpu?: string; memory?: string; ephemeralStorage?: string };
}

/** Without `req.timeoutMs`: the Job's activeDeadlineSeconds still bounds a build that hangs. */
const DEFAULT_TIMEOUT_MS = 3_600_000;
const DEFAULT_POLL_MS = 2_000;
const DEFAULT_DEADLINE_GRACE_MS = 30_000;
/** First limit of one log read; doubled when a single second of output is larger (reads resume at whole seconds). */
const LOG_READ_BYTES = 4 * 1024 * 1024;
const MAX_LOG_READ_BYTES = 256 * 1024 * 1024;
const TOKEN_KEY = 'token';
/** RFC 3339 (nano) timestamp the kubelet puts before each line when asked for `timestamps`. */
const LOG_TIMESTAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d) /;

type ContainerStatus = { name: string; state?: { running?: object; terminated?: { exitCode: number } } };
type Pod = LiveObject & {
  metadata: { creationTimestamp?: string };
  status?: { initContainerStatuses?: ContainerStatus[]; containerStatuses?: ContainerStatus[] };
};
type Job = LiveObject & {
  spec?: { activeDeadlineSeconds?: number };
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
};

/** Where a container's log has been read up to: the last timestamp emitted and how many lines carried it. */
interface LogCursor {
  last?: bigint;
  atLast: number;
  done: boolean;
  readBytes: number;
}

/** One build: the request, its objects' names and what has been streamed so far. */
interface Run {
  req: BuildRequest;
  jobName: string;
  secretName: string;
  configMapName: string;
  deadline: number;
  output: BuildOutput;
  log: (chunk: string) => void;
  pod?: string;
  cursors: Map<string, LogCursor>;
  logsUnavailable: boolean;
}

export class KubernetesJobDriver implements BuildDriver {
  private readonly pollMs: number;

  constructor(
    private readonly kube: KubeClient,
    private readonly opts: KubernetesJobDriverOptions,
  ) {
    this.pollMs = opts.pollMs ?? DEFAULT_POLL_MS;
    if (!(this.pollMs > 0)) throw new TypeError(`KubernetesJobDriver: pollMs must be positive (got ${opts.pollMs})`);
  }

  async build(req: BuildRequest): Promise<BuildResult> {
    const source = req.source;
    if (!source) {
      throw new TypeError(
        'KubernetesJobDriver needs req.source (clone URL, commit, token, context directory): the build pod fetches the commit itself',
      );
    }
    const started = Date.now();
    const timeoutMs = req.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const jobName = buildJobName(req.buildId);
    const output = new BuildOutput();
    const run: Run = {
      req,
      jobName,
      secretName: `${jobName}-source`,
      configMapName: `${jobName}-containerfile`,
      deadline: started + timeoutMs + (this.opts.deadlineGraceMs ?? DEFAULT_DEADLINE_GRACE_MS),
      output,
      log: (chunk) => {
        output.push(chunk);
        try {
          req.onLog?.(chunk);
        } catch {
          // A failing log sink must not fail or hang the build.
        }
      },
      cursors: new Map(),
      logsUnavailable: false,
    };
    const cacheRepository = this.opts.cacheRepository?.(req.repository);
    // Pure and throwing TypeError on bad input: nothing is written for a request that cannot build.
    const { configMap, job } = buildJobManifest({
      namespace: this.opts.namespace,
      buildId: req.buildId,
      image: this.opts.buildahImage,
      cloneImage: this.opts.cloneImage,
      sourceSecretName: run.secretName,
      sourceSecretKey: TOKEN_KEY,
      gitCloneUrl: source.cloneUrl,
      commit: source.commit,
      sourceDirectory: source.contextDirectory,
      containerfileConfigMap: run.configMapName,
      containerfile: req.containerfile,
      repository: req.repository,
      tag: req.tag,
      ...(req.buildArgs ? { buildArgs: req.buildArgs } : {}),
      ...(this.opts.registryAuthSecret ? { registryAuthSecret: this.opts.registryAuthSecret } : {}),
      ...(cacheRepository ? { cacheRepository } : {}),
      ...(this.opts.resources ? { resources: this.opts.resources } : {}),
      tlsVerify: this.opts.tlsVerify,
      activeDeadlineSeconds: Math.max(1, Math.ceil(timeoutMs / 1000)),
      labels: this.opts.labels ?? { 'app.kubernetes.io/managed-by': 'apprunner-k8s' },
    });
    const secret: LiveObject = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: run.secretName, namespace: this.opts.namespace, labels: { ...configMap.metadata.labels } },
      type: 'Opaque',
      data: { [TOKEN_KEY]: Buffer.from(source.token ?? '').toString('base64') },
    };
    if (req.signal?.aborted) throw new BuildFailedError('build cancelled', '', 'cancelled');

    const live = await this.ensureJob(run, secret, configMap as LiveObject, job as LiveObject);
    const { digest, image } = await this.follow(run, live);
    return { digest, image, durationMs: Date.now() - started };
  }

  /** The build's Job: adopted when it exists, else created with its Secret and ConfigMap, which it then owns. */
  private async ensureJob(run: Run, secret: LiveObject, configMap: LiveObject, job: LiveObject): Promise<Job> {
    const { namespace } = this.opts;
    for (;;) {
      const existing = await this.retrying(run, () => this.kube.get<Job>('batch/v1', 'Job', run.jobName, namespace));
      if (existing?.metadata.deletionTimestamp) {
        // A cancelled attempt's Job is still being deleted (Foreground): its name frees up once it is gone.
        if (run.req.signal?.aborted) throw new BuildFailedError('build cancelled', '', 'cancelled');
        if (Date.now() > run.deadline)
          throw new BuildFailedError(
            `build timed out waiting for the deletion of an earlier Job ${namespace}/${run.jobName}`,
            '',
            'timeout',
          );
        await this.sleep(run);
        continue;
      }
      if (existing) {
        const owner = existing.metadata.labels?.[BUILD_LABELS.buildId];
        const mine = job.metadata.labels?.[BUILD_LABELS.buildId];
        if (owner !== mine) {
          throw new BuildFailedError(
            `Job ${namespace}/${run.jobName} exists but belongs to build ${owner ?? '(unlabelled)'}, not ${mine}`,
            '',
            'builder',
          );
        }
        run.log(`==> Following build Job ${namespace}/${run.jobName} (already started)\n`);
        // The Job runs with the Containerfile it was started with (a ConfigMap is immutable): keep it, add the owner.
        const current = await this.retrying(run, () => this.kube.get<LiveObject>('v1', 'ConfigMap', run.configMapName, namespace));
        const kept = current ? { ...configMap, data: current.data } : configMap;
        await this.own(run, existing, secret, kept);
        return existing;
      }
      await this.retrying(run, () => this.kube.apply(secret));
      await this.retrying(run, () => this.kube.apply(configMap));
      let created: Job;
      try {
        created = await this.retrying(run, () => this.kube.apply<Job>(job));
      } catch (e) {
        // Without the Job nothing owns the Secret: it must not outlive this attempt with the token in it.
        await this.kube.delete(secret).catch(() => undefined);
        await this.kube.delete(configMap).catch(() => undefined);
        throw e instanceof BuildFailedError
          ? e
          : new BuildFailedError(`cannot create the build Job: ${(e as Error).message}`, '', 'builder');
      }
      run.log(`==> Started build Job ${namespace}/${run.jobName}\n`);
      await this.own(run, created, secret, configMap);
      return created;
    }
  }

  /** Makes the Job the owner of its inputs, so that they are deleted with it (TTL, cancellation). */
  private async own(run: Run, job: Job, secret: LiveObject, configMap: LiveObject): Promise<void> {
    const owner = { apiVersion: 'batch/v1', kind: 'Job', name: job.metadata.name, uid: job.metadata.uid ?? '' };
    if (!owner.uid)
      throw new BuildFailedError(`the API server returned Job ${this.opts.namespace}/${run.jobName} without a uid`, '', 'builder');
    for (const obj of [secret, configMap]) {
      await this.retrying(run, () => this.kube.apply({ ...obj, metadata: { ...obj.metadata, ownerReferences: [owner] } }));
    }
  }

  /** Polls the Job and its pod, streams the pod's logs, and returns the pushed image or throws why there is none. */
  private async follow(run: Run, job: Job): Promise<{ digest: string; image: string }> {
    const { namespace } = this.opts;
    const uid = job.metadata.uid ?? '';
    for (;;) {
      if (run.req.signal?.aborted) {
        await this.deleteJob(job);
        throw new BuildFailedError('build cancelled', run.output.tail(), 'cancelled');
      }
      if (Date.now() > run.deadline) {
        await this.deleteJob(job);
        throw new BuildFailedError(
          `build timed out after ${formatSeconds(run.req.timeoutMs ?? DEFAULT_TIMEOUT_MS)} (the build Job did not finish)`,
          run.output.tail(),
          'timeout',
        );
      }
      try {
        const current = await this.kube.get<Job>('batch/v1', 'Job', run.jobName, namespace);
        if (!current || current.metadata.uid !== uid) {
          throw new BuildFailedError(`build Job ${namespace}/${run.jobName} was deleted before it finished`, run.output.tail(), 'builder');
        }
        const pods = await this.kube.list<Pod>('v1', 'Pod', namespace, `batch.kubernetes.io/controller-uid=${uid}`);
        const pod = pods
          .sort((a, b) => String(a.metadata.creationTimestamp ?? '').localeCompare(String(b.metadata.creationTimestamp ?? '')))
          .at(-1);
        if (pod) await this.streamLogs(run, pod);
        const outcome = buildJobOutcome(run.req.repository, current, pod);
        if (outcome.state === 'succeeded') return outcome;
        if (outcome.state === 'failed') {
          const { reason, logTail, kind } = outcome.error;
          throw new BuildFailedError(reason, logTail || run.output.tail(), kind);
        }
      } catch (e) {
        if (e instanceof BuildFailedError) throw e;
        // Transient API trouble (5xx, throttling, network): the next poll tries again, within the deadline.
        if (!(e instanceof TransientReconcileError))
          throw new BuildFailedError(`following the build Job failed: ${(e as Error).message}`, run.output.tail(), 'builder');
      }
      await this.sleep(run);
    }
  }

  /** Streams the init container's log, then the build container's, as far as each has got. */
  private async streamLogs(run: Run, pod: Pod): Promise<void> {
    if (run.logsUnavailable) return;
    const name = pod.metadata.name;
    if (run.pod !== name) {
      // A replacement pod (or the first one): its containers' logs start from the beginning.
      run.pod = name;
      run.cursors.clear();
    }
    const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
    for (const container of [CLONE_CONTAINER, BUILD_CONTAINER]) {
      const state = statuses.find((s) => s.name === container)?.state;
      // The build container starts only after the clone: nothing later to read either.
      if (!state?.running && !state?.terminated) return;
      const cursor = run.cursors.get(container) ?? { atLast: 0, done: false, readBytes: LOG_READ_BYTES };
      run.cursors.set(container, cursor);
      if (cursor.done) continue;
      // Terminated before the read: the read sees the whole log.
      const finished = state.terminated !== undefined;
      try {
        const gone = await this.drain(run, name, container, cursor, finished);
        if (gone) return;
      } catch (e) {
        if (e instanceof KubePermanentError && e.code === 400) return; // not started after all: next poll
        if (e instanceof KubePermanentError) {
          // e.g. 403: the build goes on; its log says why there is no more of it.
          run.logsUnavailable = true;
          run.log(`==> The build log cannot be read: ${e.message}\n`);
          return;
        }
        throw e;
      }
      if (finished) cursor.done = true;
      else return;
    }
  }

  /**
   * Reads new lines of one container and emits them. The API resumes at whole seconds, so lines come again: each
   * carries its timestamp, and lines at or before the last one emitted (counted, for equal timestamps) are skipped.
   * True when the pod is gone.
   */
  private async drain(run: Run, pod: string, container: string, cursor: LogCursor, finished: boolean): Promise<boolean> {
    for (;;) {
      const text = await this.kube.podLog(this.opts.namespace, pod, container, {
        timestamps: true,
        limitBytes: cursor.readBytes,
        ...(cursor.last !== undefined ? { sinceTime: wholeSecond(cursor.last) } : {}),
      });
      if (text === undefined) return true;
      const truncated = Buffer.byteLength(text) >= cursor.readBytes;
      const end = text.lastIndexOf('\n') + 1;
      const lines = text
        .slice(0, end)
        .split('\n')
        .slice(0, -1)
        .map((line) => ({ line, newline: '\n' }));
      // After the last newline: a line cut by limitBytes or still being written, unless the log is final.
      const rest = text.slice(end);
      if (rest !== '' && !truncated && finished) lines.push({ line: rest, newline: '' });
      let emitted = 0;
      let seenAtLast = 0;
      for (const { line, newline } of lines) {
        const parsed = parseLogLine(line, cursor.last);
        if (cursor.last !== undefined && parsed.at < cursor.last) continue;
        if (cursor.last !== undefined && parsed.at === cursor.last) {
          seenAtLast++;
          if (seenAtLast <= cursor.atLast) continue;
          cursor.atLast++;
        } else {
          cursor.last = parsed.at;
          cursor.atLast = 1;
          seenAtLast = 1;
        }
        run.log(`${parsed.text}${newline}`);
        emitted++;
      }
      if (!truncated) return false;
      if (emitted === 0) {
        if (cursor.readBytes >= MAX_LOG_READ_BYTES)
          throw new BuildFailedError(
            `container ${container} wrote more than ${MAX_LOG_READ_BYTES} bytes of log within one second`,
            run.output.tail(),
            'builder',
          );
        cursor.readBytes *= 2;
      }
    }
  }

  /** Deletes the Job and, with it (Foreground), its pod, Secret and ConfigMap. */
  private async deleteJob(job: Job): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.kube.delete(job, 'Foreground');
        return;
      } catch (e) {
        if (!(e instanceof TransientReconcileError) || attempt >= 4) {
          throw new BuildFailedError(
            `cannot delete the build Job ${this.opts.namespace}/${job.metadata.name}: ${(e as Error).message}`,
            '',
            'builder',
          );
        }
        await new Promise((r) => setTimeout(r, this.pollMs));
      }
    }
  }

  /** Retries transient API errors until the build's deadline or cancellation; permanent ones fail the build. */
  private async retrying<T>(run: Run, fn: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await fn();
      } catch (e) {
        if (e instanceof KubePermanentError)
          throw new BuildFailedError(`the Kubernetes API refused a build request: ${e.message}`, '', 'builder');
        if (!(e instanceof TransientReconcileError)) throw e;
        if (run.req.signal?.aborted) throw new BuildFailedError('build cancelled', '', 'cancelled');
        if (Date.now() > run.deadline)
          throw new BuildFailedError(`build timed out: the Kubernetes API kept failing (${e.message})`, '', 'timeout');
        await this.sleep(run);
      }
    }
  }

  /** Waits one poll interval; cancellation ends the wait at once. */
  private sleep(run: Run): Promise<void> {
    const signal = run.req.signal;
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, this.pollMs);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}

/** A log line's timestamp (ns since the epoch) and text; a line without one keeps the previous timestamp. */
function parseLogLine(line: string, previous: bigint | undefined): { at: bigint; text: string } {
  const m = LOG_TIMESTAMP.exec(line);
  if (!m) return { at: previous ?? 0n, text: line };
  const seconds = Date.parse(`${m[1]}${m[3]}`) / 1000;
  const nanos = (m[2] ?? '').padEnd(9, '0');
  return { at: BigInt(seconds) * 1_000_000_000n + BigInt(nanos), text: line.slice(m[0].length) };
}

/** `sinceTime` for resuming at a timestamp: kube-apiserver takes whole seconds, so round down. */
function wholeSecond(at: bigint): string {
  return new Date(Number(at / 1_000_000_000n) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function formatSeconds(ms: number): string {
  return `${ms < 10_000 ? (ms / 1000).toFixed(1) : Math.round(ms / 1000)} s`;
}
