export interface BuildRequest {
  /** Unique per build (the operation id); used in temp names and Kubernetes names/labels. */
  buildId: string;
  /** Absolute path of the build context (a checked-out repository, maybe a subdirectory of it). */
  contextDir: string;
  /** Containerfile text; written to a temp file outside the context so it can never be overwritten by the source. */
  containerfile: string;
  /** Registry host and tenant-scoped path, e.g. `127.0.0.1:5000/t-123456789012/svc-abc`. */
  repository: string;
  /** Tag given to the pushed image, e.g. the short commit sha or the operation id. */
  tag: string;
  buildArgs?: Record<string, string>;
  /**
   * Where the context comes from, for builders that fetch it themselves (the Kubernetes Job builder clones the commit
   * in the build pod); builders that use `contextDir` ignore it.
   */
  source?: { cloneUrl: string; commit: string; token?: string; contextDirectory: string };
  /** Streamed build and push output (stdout and stderr interleaved, as produced). */
  onLog?: (chunk: string) => void;
  /** Cancels the build: the builder process group is killed. */
  signal?: AbortSignal;
  /** Limit for build and push together. */
  timeoutMs?: number;
}

export interface BuildResult {
  /** Manifest digest in the registry, `sha256:<64 hex>`. */
  digest: string;
  /** `${repository}@${digest}`: what the service deploys. */
  image: string;
  durationMs: number;
}

export interface BuildDriver {
  build(req: BuildRequest): Promise<BuildResult>;
}

/**
 * Why a build failed:
 * - `build`: the Containerfile or the source is at fault (a RUN step failed, a COPY source is missing, the base
 *   image does not exist): permanent, report `reason` to the user;
 * - `push`: the registry refused or failed the push (platform side, usually worth a retry);
 * - `timeout` / `cancelled`: stopped by `timeoutMs` / `signal`;
 * - `builder`: the builder itself could not run (binary missing, no digest written): a platform fault.
 */
export type BuildFailureKind = 'build' | 'push' | 'timeout' | 'cancelled' | 'builder';

export class BuildFailedError extends Error {
  override readonly name = 'BuildFailedError';

  constructor(
    /** Short and user-facing, e.g. `RUN step 3/5 "npm ci" exited with code 1`. */
    readonly reason: string,
    /** The last lines of build output (about 50). */
    readonly logTail: string,
    readonly kind: BuildFailureKind = 'build',
  ) {
    super(`Image build failed: ${reason}`);
  }
}
