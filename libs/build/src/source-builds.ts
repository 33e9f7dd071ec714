import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Inject, Injectable, Logger, type OnModuleDestroy, Optional } from '@nestjs/common';
import type { ImageConfiguration } from '@aws-sdk/client-apprunner';
import { BuildFailedError, type BuildDriver } from '@apprunner/build-driver';
import { GITHUB_APP } from '@apprunner/connection';
import { PLATFORM_CONFIG, type PlatformConfig } from '@apprunner/core';
import { checkoutCommit, type GitHubAppClient } from '@apprunner/github';
import type { OperationBuilds, SourceOutcome } from '@apprunner/operation';
import {
  type BuildRecord,
  BuildRepository,
  ConnectionRepository,
  type OperationRecord,
  type ServiceRecord,
  type TenantRecord,
} from '@apprunner/persistence';
import {
  buildPlan,
  configFilePath,
  effectiveConfig,
  formatConfigErrors,
  normalizeSourceDirectory,
  parseRuntimeImageOverrides,
  runtimeImage,
} from '@apprunner/build-plan';
import { BuildLogStore } from './build-log.store';

/** The image builder the worker uses (BuildahDriver locally; null when builds are not configured). */
export const BUILD_DRIVER = Symbol('BUILD_DRIVER');

/** A build whose row has not been touched for this long lost its worker (killed, node gone): another worker restarts it. */
const STALE_MS = 60_000;
const HEARTBEAT_MS = 15_000;

/**
 * Builds of code-based services, one per deploying operation (CreateService, UpdateService, StartDeployment and
 * automatic deployments): fetch the commit with an installation token, read apprunner.yaml or the API's values,
 * generate the build plan, build and push the image to the platform registry by digest. Level-triggered like the
 * reconciler: the Build row says where a build stands; reconcile passes start it, follow it, or take over one whose
 * worker died. Output goes to the build log as it comes.
 */
@Injectable()
export class SourceBuilds implements OperationBuilds, OnModuleDestroy {
  private readonly logger = new Logger(SourceBuilds.name);
  private readonly running = new Map<string, { abort: AbortController; done: Promise<void> }>();
  private readonly waiting: (() => void)[] = [];
  private active = 0;
  /** Set when the process shuts down: no new build starts here any more. */
  private stopping = false;
  private readonly overrides: ReturnType<typeof parseRuntimeImageOverrides>;

  constructor(
    private readonly builds: BuildRepository,
    private readonly connections: ConnectionRepository,
    private readonly logs: BuildLogStore,
    @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
    @Optional() @Inject(GITHUB_APP) private readonly github: GitHubAppClient | null = null,
    @Optional() @Inject(BUILD_DRIVER) private readonly builder: BuildDriver | null = null,
  ) {
    this.overrides = config.BUILD_RUNTIME_IMAGES ? parseRuntimeImageOverrides(config.BUILD_RUNTIME_IMAGES) : {};
  }

  /** Starts, follows or takes over the build of a deploying operation; `ready` once the image is pushed. */
  async forOperation(operation: OperationRecord, service: ServiceRecord, tenant: TenantRecord): Promise<SourceOutcome> {
    const build = await this.builds.findOrCreate({ operationId: operation.id, tenantId: tenant.id, serviceId: service.id });
    if (build.status === 'SUCCEEDED' && build.image) {
      return {
        ready: {
          image: build.image,
          imageConfiguration: build.imageConfiguration ?? {},
          ...(build.commit ? { commit: build.commit } : {}),
        },
      };
    }
    if (build.status === 'FAILED') return { error: build.reason ?? 'The build failed.' };
    if (this.running.has(build.id) || this.stopping) return { inProgress: 'Building the image.' };
    if (build.status === 'RUNNING' && Date.now() - build.updatedAt.getTime() < STALE_MS)
      return { inProgress: 'Building the image (on another worker).' };
    // QUEUED, or RUNNING on a worker that stopped touching it: claim it (one claimant wins) and run it here.
    if (!(await this.builds.claim(build, new Date()))) return { inProgress: 'Building the image.' };
    const abort = new AbortController();
    const takeover = build.status === 'RUNNING';
    const done = this.run(build, operation, service, tenant, abort.signal, takeover).finally(() => this.running.delete(build.id));
    this.running.set(build.id, { abort, done });
    return { inProgress: build.status === 'RUNNING' ? 'Restarting the build its worker left.' : 'Build started.' };
  }

  /** Waits for builds this process runs (tests, benchmarks, shutdown). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await new Promise((r) => setTimeout(r, 50));
  }

  /** Shutting down: builds in progress stop and go back to the queue (before the database connection closes). */
  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    const running = [...this.running.values()];
    for (const { abort } of running) abort.abort();
    await Promise.allSettled(running.map(({ done }) => done));
  }

  private async run(
    build: BuildRecord,
    operation: OperationRecord,
    service: ServiceRecord,
    tenant: TenantRecord,
    signal: AbortSignal,
    takeover: boolean,
  ): Promise<void> {
    const log = this.logs.writer(build.id);
    // The output so far stays; what follows is the build again from the start (a build Job is adopted, not re-run).
    if (takeover) log.write('==> The worker running this build stopped; this worker takes it over from the start.\n');
    const heartbeat = setInterval(() => void this.touch(build.id), HEARTBEAT_MS);
    let workDir: string | undefined;
    await this.slot();
    try {
      const code = service.spec.SourceConfiguration.CodeRepository;
      if (!code?.RepositoryUrl) throw new BuildError('The service has no code repository.');
      if (!this.github)
        throw new BuildError('GitHub is not configured on this platform (GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY, GITHUB_APP_SLUG).');
      if (!this.builder || !this.config.BUILD_REGISTRY)
        throw new BuildError('Builds are not configured on this platform (BUILD_REGISTRY).');
      const connection = service.connectionId ? await this.connections.findById(service.connectionId) : undefined;
      if (!connection || connection.status !== 'AVAILABLE' || connection.installationId === null) {
        throw new BuildError(
          `The connection ${connection?.connectionName ?? '(none)'} is ${connection?.status ?? 'missing'}: complete its handshake before deploying.`,
        );
      }
      const installationId = Number(connection.installationId);
      const branch = code.SourceCodeVersion?.Value ?? 'main';
      const commit = operation.sourceCommit ?? (await this.github.branchHead(installationId, code.RepositoryUrl, branch));
      await this.builds.setCommit(build.id, commit);
      log.write(`==> ${code.RepositoryUrl} ${branch} @ ${commit}\n`);
      const token = await this.github.installationToken(installationId);
      workDir = await mkdtemp(join(tmpdir(), 'apprunner-src-'));
      await checkoutCommit({
        cloneUrl: cloneUrl(code.RepositoryUrl),
        token,
        commit,
        dir: workDir,
        onLog: (line) => log.write(`${line}\n`),
        timeoutMs: 300_000,
      });

      // The image gets the tree, not the history (and no remote configuration).
      await rm(join(workDir, '.git'), { recursive: true, force: true });
      const directory = normalizeSourceDirectory(code.SourceDirectory);
      if (!directory.ok) throw new BuildError(directory.error);
      const sourceDirectory = directory.path;
      const configPath = configFilePath(sourceDirectory);
      const fileText = existsSync(join(workDir, configPath)) ? await readFile(join(workDir, configPath), 'utf8') : undefined;
      const codeConfiguration = code.CodeConfiguration ?? { ConfigurationSource: 'REPOSITORY' };
      log.write(
        `==> Configuration from ${codeConfiguration.ConfigurationSource === 'API' ? 'the API (CodeConfigurationValues)' : configPath}\n`,
      );
      const effective = effectiveConfig({ codeConfiguration, fileText, sourceDirectory });
      if (!effective.ok) {
        const errors = typeof effective.errors === 'string' ? effective.errors : formatConfigErrors(effective.errors, configPath);
        throw new BuildError(`The configuration is not valid:\n${errors}`);
      }
      const base = runtimeImage(effective.config.runtime, effective.config.runtimeVersion, this.overrides);
      if ('error' in base) throw new BuildError(base.error);
      if (base.warning) log.write(`==> Warning: ${base.warning}\n`);
      const plan = buildPlan(effective.config, { baseImage: base.image, sourceDirectory });
      log.write(`==> Building on ${base.image}\n`);
      const repository = `${this.config.BUILD_REGISTRY}/${tenant.accountId}/${service.serviceId}`;
      const result = await this.builder.build({
        buildId: build.id,
        contextDir: join(workDir, plan.contextDirectory),
        containerfile: plan.containerfile,
        repository,
        tag: commit.slice(0, 12),
        source: { cloneUrl: cloneUrl(code.RepositoryUrl), commit, token, contextDirectory: plan.contextDirectory },
        onLog: (chunk) => log.write(chunk),
        signal,
        timeoutMs: this.config.BUILD_TIMEOUT_SECONDS * 1_000,
      });
      log.write(`==> Pushed ${result.image} in ${(result.durationMs / 1_000).toFixed(1)} s\n`);
      const imageConfiguration: ImageConfiguration = {
        Port: String(plan.port),
        ...(plan.startCommand ? { StartCommand: plan.startCommand } : {}),
        ...(Object.keys(plan.runtimeEnv).length > 0 ? { RuntimeEnvironmentVariables: plan.runtimeEnv } : {}),
        ...(Object.keys(plan.runtimeSecrets).length > 0 ? { RuntimeEnvironmentSecrets: plan.runtimeSecrets } : {}),
      };
      await log.flush();
      await this.builds.succeeded(build.id, { image: result.image, imageConfiguration }, new Date());
    } catch (e) {
      if (signal.aborted) {
        // This worker is shutting down (a rollout, a drain): the build is not the tenant's failure. Queued again, the
        // next reconcile pass on any worker starts it over.
        log.write('==> This worker is shutting down; the build starts again on another worker.\n');
        await log.flush();
        await this.builds.requeue(build.id);
        return;
      }
      const reason = failureReason(e);
      this.logger.warn(`build ${build.id} (operation ${operation.id}) failed: ${reason.split('\n')[0]}`);
      log.write(`==> Build failed: ${reason}\n`);
      await log.flush();
      await this.builds.failed(build.id, reason.slice(0, 4_000), new Date());
    } finally {
      clearInterval(heartbeat);
      this.release();
      if (workDir) await rm(workDir, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  private async touch(buildId: string): Promise<void> {
    await this.builds.touch(buildId, new Date()).catch(() => undefined);
  }

  private async slot(): Promise<void> {
    if (this.active < this.config.BUILD_CONCURRENCY) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
  }

  private release(): void {
    this.active--;
    this.waiting.shift()?.();
  }
}

class BuildError extends Error {}

function failureReason(e: unknown): string {
  if (e instanceof BuildFailedError) return e.reason;
  if (e instanceof Error) return e.message;
  return String(e);
}

function cloneUrl(repositoryUrl: string): string {
  const trimmed = repositoryUrl.replace(/\/+$/, '');
  return trimmed.endsWith('.git') ? trimmed : `${trimmed}.git`;
}
