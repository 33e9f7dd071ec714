import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuildahDriver } from '@apprunner/build-driver';
import { buildBaseImage } from '../doubles/registry/local-registry';

/**
 * The tenant app of the real-node suites: Debian's static busybox (httpd) on a base built here, nothing pulled. It
 * serves `<GREETING or hello> from <version>` on `/`, `ok` on `/healthz` (not in an `unhealthy` version), its
 * environment on `/env.txt`, exits as soon as it gets SIGTERM, and `/cgi-bin/burn?<seconds>` starts a CPU-bound loop in the pod for that long (at most
 * 120 s: every load stops by itself).
 */
const START = `#!/bin/sh
mkdir -p /www/cgi-bin
version="$(cat /app/version)"
echo "\${GREETING:-hello} from $version" > /www/index.html
case "$version" in *unhealthy*) ;; *) echo ok > /www/healthz ;; esac
env | sort > /www/env.txt
cp /app/burn /app/probe /app/resolve /www/cgi-bin/
# a well-behaved app: it stops at once on SIGTERM (as PID 1, httpd alone would ignore it and wait for the SIGKILL)
httpd -f -p "\${PORT:-8080}" -h /www &
pid=$!
trap 'kill -TERM $pid; wait $pid; exit 0' TERM INT
wait $pid
`;

const BURN = `#!/bin/sh
seconds="\${QUERY_STRING:-30}"
case "$seconds" in ''|*[!0-9]*) seconds=30 ;; esac
[ "$seconds" -gt 120 ] && seconds=120
( timeout "$seconds" sh -c 'while :; do :; done' ) </dev/null >/dev/null 2>&1 &
printf 'Content-Type: text/plain\\r\\n\\r\\nburning %s s\\n' "$seconds"
`;

// Network probes from inside the pod, for the NetworkPolicy checks: /cgi-bin/probe?<ip>:<port> opens a TCP
// connection (2 s at most) and says reachable or blocked; /cgi-bin/resolve?<name> asks cluster DNS.
const PROBE = `#!/bin/sh
target="\${QUERY_STRING}"
case "$target" in *[!0-9.:]*|'') printf 'Status: 400 Bad Request\\r\\n\\r\\n'; exit 0 ;; esac
if /bin/timeout 5 /bin/nc -w 2 "\${target%:*}" "\${target#*:}" -e /bin/true </dev/null >/dev/null 2>&1; then r=reachable; else r=blocked; fi
printf 'Content-Type: text/plain\\r\\n\\r\\n%s\\n' "$r"
`;

const RESOLVE = `#!/bin/sh
name="\${QUERY_STRING}"
case "$name" in *[!a-z0-9.-]*|'') printf 'Status: 400 Bad Request\\r\\n\\r\\n'; exit 0 ;; esac
if out="$(/bin/timeout 8 /bin/nslookup "$name" 2>&1)"; then r="resolved $(echo "$out" | /bin/sed -n 's/^Address: //p' | /bin/tail -n 1)"; else r=unresolved; fi
printf 'Content-Type: text/plain\\r\\n\\r\\n%s\\n' "$r"
`;

/**
 * CreateService members that run one of these images on the real node: port 8080, the HTTP health check on `/healthz`
 * (every second), and a small instance: the node has 2 CPUs, App Runner's default instance (1 vCPU, 2 GB) would fill
 * it twice, a rollout's surge included.
 */
export function nodeAppService(image: string) {
  return {
    SourceConfiguration: {
      ImageRepository: { ImageIdentifier: image, ImageRepositoryType: 'ECR' as const, ImageConfiguration: { Port: '8080' } },
      AutoDeploymentsEnabled: false,
    },
    InstanceConfiguration: { Cpu: '0.25 vCPU', Memory: '0.5 GB' },
    HealthCheckConfiguration: {
      Protocol: 'HTTP' as const,
      Path: '/healthz',
      Interval: 1,
      Timeout: 1,
      HealthyThreshold: 1,
      UnhealthyThreshold: 2,
    },
  };
}

export interface NodeApps {
  /** `<registry>/node-e2e/app:<version>`, built and pushed on first use. */
  image(version: string): Promise<string>;
  close(): Promise<void>;
}

export async function nodeApps(registry: string): Promise<NodeApps> {
  const dir = await mkdtemp(join(tmpdir(), 'apprunner-node-apps-'));
  const storage = { root: join(dir, 'storage'), runroot: join(dir, 'run') };
  const built = new Map<string, Promise<string>>();
  const build = async (version: string): Promise<string> => {
    const base = await buildBaseImage(registry, storage);
    const context = join(dir, `context-${version}`);
    await mkdir(context, { recursive: true });
    await writeFile(join(context, 'start.sh'), START);
    for (const [name, script] of [
      ['burn', BURN],
      ['probe', PROBE],
      ['resolve', RESOLVE],
    ]) {
      await writeFile(join(context, name), script);
      await chmod(join(context, name), 0o755);
    }
    await writeFile(join(context, 'version'), `${version}\n`);
    const result = await new BuildahDriver({ ...storage, tlsVerify: false }).build({
      buildId: `node-app-${version}`,
      contextDir: context,
      containerfile: [`FROM ${base}`, 'COPY start.sh burn probe resolve version /app/', 'CMD ["sh", "/app/start.sh"]', ''].join('\n'),
      repository: `${registry}/node-e2e/app`,
      tag: version,
    });
    return result.image;
  };
  return {
    image(version) {
      let image = built.get(version);
      if (!image) {
        image = build(version);
        built.set(version, image);
      }
      return image;
    },
    async close() {
      await rm(dir, { recursive: true, force: true });
    },
  };
}
