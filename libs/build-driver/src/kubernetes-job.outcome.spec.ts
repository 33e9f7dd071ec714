import { describe, expect, it } from 'vitest';
import { BUILD_CONTAINER, CLONE_CONTAINER, PUSH_MARKER } from '@apprunner/kubernetes';
import { buildJobOutcome } from './kubernetes-job.outcome';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

describe('buildJobOutcome', () => {
  const repository = 'registry.apprunner.svc:5000/123456789012/0d1f6e3c9a2b4c5d8e7f6a5b4c3d2e1f';
  const running = { status: { conditions: [] } };
  const pod = (build?: object, clone?: object): any => ({
    status: {
      initContainerStatuses: [{ name: CLONE_CONTAINER, state: clone ?? { terminated: { exitCode: 0 } } }],
      containerStatuses: build ? [{ name: BUILD_CONTAINER, state: build }] : [],
    },
  });

  it('is running until the build container terminates', () => {
    expect(buildJobOutcome(repository, running)).toEqual({ state: 'running' });
    expect(buildJobOutcome(repository, running, pod({ running: { startedAt: 'now' } }))).toEqual({ state: 'running' });
  });

  it('reads the digest from the termination message', () => {
    expect(buildJobOutcome(repository, running, pod({ terminated: { exitCode: 0, message: `${DIGEST}\n` } }))).toEqual({
      state: 'succeeded',
      digest: DIGEST,
      image: `${repository}@${DIGEST}`,
    });
    const noDigest = buildJobOutcome(repository, running, pod({ terminated: { exitCode: 0, message: 'done' } }));
    expect(noDigest).toMatchObject({
      state: 'failed',
      error: { kind: 'builder', reason: expect.stringMatching(/without reporting a digest/) },
    });
  });

  it('names the failed step from the log tail the kubelet kept, and tells a failed push apart', () => {
    const log = 'STEP 3/4: RUN npm ci\nnpm ERR! code E404\nError: building at STEP "RUN npm ci": exit status 1\n';
    const step = buildJobOutcome(repository, running, pod({ terminated: { exitCode: 1, message: log } }));
    expect(step).toMatchObject({
      state: 'failed',
      error: { kind: 'build', reason: 'RUN step 3/4 "npm ci" exited with code 1', logTail: log },
    });

    const push = `STEP 4/4: CMD ["npm", "start"]\nCOMMIT\n${PUSH_MARKER}\nError: pushing image: authentication required\n`;
    expect(buildJobOutcome(repository, running, pod({ terminated: { exitCode: 125, message: push } }))).toMatchObject({
      state: 'failed',
      error: { kind: 'push', reason: 'push failed: pushing image: authentication required' },
    });
  });

  it('reports a failed clone, a deadline and an out-of-memory kill', () => {
    const clone = buildJobOutcome(
      repository,
      running,
      pod(undefined, { terminated: { exitCode: 128, message: "fatal: couldn't find remote ref\n" } }),
    );
    expect(clone).toMatchObject({
      state: 'failed',
      error: { kind: 'build', reason: "cloning the source failed (exit code 128): fatal: couldn't find remote ref" },
    });

    const deadline = {
      spec: { activeDeadlineSeconds: 1800 },
      status: { conditions: [{ type: 'Failed', status: 'True', reason: 'DeadlineExceeded' }] },
    };
    expect(buildJobOutcome(repository, deadline, pod({ terminated: { exitCode: 137 } }))).toMatchObject({
      state: 'failed',
      error: { kind: 'timeout', reason: 'build timed out after 1800 s' },
    });

    expect(
      buildJobOutcome(repository, running, pod({ terminated: { exitCode: 137, reason: 'OOMKilled', message: 'STEP 2/3: RUN npm ci\n' } })),
    ).toMatchObject({
      error: { kind: 'build', reason: 'build ran out of memory (OOMKilled)' },
    });
  });

  it('reports a Job that failed or completed without a pod to read', () => {
    const failedJob = {
      status: {
        conditions: [
          { type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' },
        ],
      },
    };
    expect(buildJobOutcome(repository, failedJob)).toMatchObject({
      error: { kind: 'builder', reason: 'build Job failed: BackoffLimitExceeded (Job has reached the specified backoff limit)' },
    });
    expect(buildJobOutcome(repository, { status: { conditions: [{ type: 'Complete', status: 'True' }] } })).toMatchObject({
      error: { kind: 'builder', reason: expect.stringMatching(/pod \(and the digest\) is gone/) },
    });
  });
});
