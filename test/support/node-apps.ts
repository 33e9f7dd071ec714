import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuildahBuilder } from '../../libs/build/src/buildah';
import { buildBaseImage } from '../../libs/build/src/testing';

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
cp /app/burn /www/cgi-bin/burn
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
    await writeFile(join(context, 'burn'), BURN);
    await chmod(join(context, 'burn'), 0o755);
    await writeFile(join(context, 'version'), `${version}\n`);
    const result = await new BuildahBuilder({ ...storage, tlsVerify: false }).build({
      buildId: `node-app-${version}`,
      contextDir: context,
      containerfile: [`FROM ${base}`, 'COPY start.sh burn version /app/', 'CMD ["sh", "/app/start.sh"]', ''].join('\n'),
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
