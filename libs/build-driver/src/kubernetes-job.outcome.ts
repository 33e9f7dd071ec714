/**
 * What a build Job came to, read from the Job and its pod (the objects of libs/kubernetes/src/manifests/build-job.ts).
 * Pure: the driver polls.
 */
import { BUILD_CONTAINER, CLONE_CONTAINER, PUSH_MARKER } from '@apprunner/kubernetes';
import { isDigest } from '@apprunner/registry';
import { BuildOutput } from './output';
import { BuildFailedError } from './types';

export type BuildJobOutcome =
  { state: 'running' } | { state: 'succeeded'; digest: string; image: string } | { state: 'failed'; error: BuildFailedError };

interface ContainerStatusLike {
  name: string;
  state?: { terminated?: { exitCode: number; reason?: string; message?: string } };
}
interface JobLike {
  spec?: { activeDeadlineSeconds?: number };
  status?: { conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> };
}
interface PodLike {
  status?: { initContainerStatuses?: ContainerStatusLike[]; containerStatuses?: ContainerStatusLike[] };
}

export function buildJobOutcome(repository: string, job: JobLike, pod?: PodLike): BuildJobOutcome {
  const failed = (reason: string, logTail: string, kind: BuildFailedError['kind']): BuildJobOutcome => ({
    state: 'failed',
    error: new BuildFailedError(reason, logTail, kind),
  });
  const failure = job.status?.conditions?.find((c) => c.type === 'Failed' && c.status === 'True');
  // First: the kubelet kills the pod at the deadline, and its exit code alone would read as a failed step.
  if (failure?.reason === 'DeadlineExceeded') {
    return failed(`build timed out after ${job.spec?.activeDeadlineSeconds ?? '?'} s`, '', 'timeout');
  }
  const clone = terminated(pod?.status?.initContainerStatuses, CLONE_CONTAINER);
  if (clone && clone.exitCode !== 0) {
    const log = clone.message ?? '';
    const last = log.trim().split('\n').pop() ?? '';
    return failed(`cloning the source failed (exit code ${clone.exitCode})${last ? `: ${last}` : ''}`, log, 'build');
  }
  const build = terminated(pod?.status?.containerStatuses, BUILD_CONTAINER);
  if (build && build.exitCode === 0) {
    const digest = (build.message ?? '').trim();
    if (!isDigest(digest))
      return failed(`build container succeeded without reporting a digest (got ${JSON.stringify(digest.slice(0, 100))})`, '', 'builder');
    return { state: 'succeeded', digest, image: `${repository}@${digest}` };
  }
  if (build) {
    const log = build.message ?? '';
    const output = new BuildOutput();
    const pushing = log.split('\n').findIndex((line) => line === PUSH_MARKER);
    if (pushing >= 0) {
      output.push(
        log
          .split('\n')
          .slice(pushing + 1)
          .join('\n'),
      );
      const why = output.lastError() ?? `buildah push exited with code ${build.exitCode}`;
      return failed(`push failed: ${why}`, log, 'push');
    }
    output.push(log);
    if (build.reason === 'OOMKilled') return failed('build ran out of memory (OOMKilled)', log, 'build');
    return failed(output.buildFailureReason(build.exitCode), log, 'build');
  }
  if (failure)
    return failed(
      `build Job failed: ${failure.reason ?? 'unknown reason'}${failure.message ? ` (${failure.message})` : ''}`,
      '',
      'builder',
    );
  if (job.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True')) {
    return failed('build Job completed but its pod (and the digest) is gone', '', 'builder');
  }
  return { state: 'running' };
}

function terminated(statuses: ContainerStatusLike[] | undefined, name: string) {
  return statuses?.find((s) => s.name === name)?.state?.terminated;
}
