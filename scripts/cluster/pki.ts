import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A client identity of the local cluster: certificate and key files signed by its CA. */
export interface Identity {
  cert: string;
  key: string;
}

export interface Pki {
  dir: string;
  ca: string;
  caKey: string;
  apiServer: Identity;
  /** Signs and verifies service account tokens. */
  serviceAccountKey: string;
  serviceAccountPub: string;
  /** The front proxy CA and its client: how the API server authenticates itself to aggregated APIs. */
  frontProxyCa: string;
  frontProxyClient: Identity;
  clients: Record<ClientName, Identity>;
}

/** The one real node a machine runs (scripts/cluster/real-node.ts): its client certificate names it. */
export const REAL_NODE_NAME = 'apprunner-node';

/** Each component authenticates as itself, with the groups the RBAC bootstrap policy expects of it. */
const CLIENTS = {
  admin: { cn: 'apprunner-local-admin', o: 'system:masters' },
  'kube-controller-manager': { cn: 'system:kube-controller-manager' },
  'kube-scheduler': { cn: 'system:kube-scheduler' },
  // The node simulation writes node and pod status for every node, like a fleet of kubelets (and Leases).
  kwok: { cn: 'apprunner-local-kwok', o: 'system:masters' },
  // cert-manager's controllers need cluster-wide rights on its CRDs and Secrets; the chart it ships grants as much.
  'cert-manager': { cn: 'apprunner-local-cert-manager', o: 'system:masters' },
  // The API server's own client to kubelets (pod logs, exec).
  'apiserver-kubelet-client': { cn: 'kube-apiserver-kubelet-client', o: 'system:masters' },
  // The real node (--node=real): its kubelet is authorized by the Node authorizer and NodeRestriction as this node,
  // kube-proxy by the bootstrap policy's system:node-proxier binding (CoreDNS runs as a pod, as its ServiceAccount).
  kubelet: { cn: `system:node:${REAL_NODE_NAME}`, o: 'system:nodes' },
  'kube-proxy': { cn: 'system:kube-proxy' },
  // Traefik, the real node's gateway: bound to the ClusterRole its chart grants (scripts/cluster/gateway.ts)
  traefik: { cn: 'apprunner-local-traefik' },
  // kube-router's network-policy controller and metrics-server: bound to the ClusterRoles their manifests grant
  'kube-router': { cn: 'apprunner-local-kube-router' },
  'metrics-server': { cn: 'apprunner-local-metrics-server' },
} as const;
export type ClientName = keyof typeof CLIENTS;

function openssl(args: string[], input?: string): string {
  try {
    return execFileSync('openssl', args, { input, stdio: ['pipe', 'pipe', 'pipe'] }).toString();
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    if (err.code === 'ENOENT')
      throw new Error('openssl is not installed (Debian package openssl): the local cluster needs it for its certificates', { cause: e });
    throw new Error(`openssl ${args[0]} failed: ${err.stderr?.toString().trim() ?? err.message}`, { cause: e });
  }
}

const ecKey = (path: string) => openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', path]);

function selfSignedCa(dir: string, name: string, cn: string): { cert: string; key: string } {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.crt`);
  ecKey(key);
  openssl([
    'req',
    '-x509',
    '-new',
    '-key',
    key,
    '-out',
    cert,
    '-days',
    '3650',
    '-subj',
    `/CN=${cn}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
  ]);
  return { cert, key };
}

function signed(dir: string, name: string, ca: { cert: string; key: string }, subject: string, extensions: string): Identity {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.crt`);
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  ecKey(key);
  openssl(['req', '-new', '-key', key, '-out', csr, '-subj', subject]);
  writeFileSync(ext, extensions);
  openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', cert, '-days', '825', '-extfile', ext]);
  return { cert, key };
}

const CLIENT_EXT = 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n';

/**
 * The cluster's certificates and keys under `dir` (created once, reused by later starts): a CA, the API server's
 * serving certificate for 127.0.0.1 and the in-cluster `kubernetes` names, one client certificate per component,
 * the service account signing key and the front proxy CA.
 */
export function ensurePki(dir: string, serviceIp: string): Pki {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const pki: Pki = {
    dir,
    ca: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    apiServer: { cert: join(dir, 'apiserver.crt'), key: join(dir, 'apiserver.key') },
    serviceAccountKey: join(dir, 'sa.key'),
    serviceAccountPub: join(dir, 'sa.pub'),
    frontProxyCa: join(dir, 'front-proxy-ca.crt'),
    frontProxyClient: { cert: join(dir, 'front-proxy-client.crt'), key: join(dir, 'front-proxy-client.key') },
    clients: Object.fromEntries(
      Object.keys(CLIENTS).map((n) => [n, { cert: join(dir, `${n}.crt`), key: join(dir, `${n}.key`) }]),
    ) as Pki['clients'],
  };
  const complete = join(dir, '.complete');
  if (existsSync(complete)) {
    // a folder made before a client was added to CLIENTS gets that client's certificate, signed by its own CA
    for (const [name, { cn, ...rest }] of Object.entries(CLIENTS)) {
      if (existsSync(pki.clients[name as ClientName].cert)) continue;
      signed(dir, name, { cert: pki.ca, key: pki.caKey }, `${'o' in rest ? `/O=${rest.o}` : ''}/CN=${cn}`, CLIENT_EXT);
    }
    return pki;
  }

  const ca = selfSignedCa(dir, 'ca', 'apprunner-local-cluster-ca');
  const names = ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'];
  signed(
    dir,
    'apiserver',
    ca,
    '/CN=kube-apiserver',
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' +
      `subjectAltName=${[...names.map((n) => `DNS:${n}`), 'IP:127.0.0.1', `IP:${serviceIp}`].join(',')}\n`,
  );
  for (const [name, { cn, ...rest }] of Object.entries(CLIENTS)) {
    const o = 'o' in rest ? `/O=${rest.o}` : '';
    signed(dir, name, ca, `${o}/CN=${cn}`, CLIENT_EXT);
  }
  ecKey(pki.serviceAccountKey);
  writeFileSync(pki.serviceAccountPub, openssl(['ec', '-in', pki.serviceAccountKey, '-pubout']));
  const frontProxy = selfSignedCa(dir, 'front-proxy-ca', 'apprunner-local-front-proxy-ca');
  signed(dir, 'front-proxy-client', frontProxy, '/CN=front-proxy-client', CLIENT_EXT);
  writeFileSync(complete, new Date().toISOString());
  return pki;
}

/**
 * A serving certificate signed by the cluster CA for `sans` (`DNS:name`, `IP:address`), made once per name in the
 * PKI folder (made again when the names change): the real node's kubelet and metrics-server.
 */
export function servingCert(pki: Pki, name: string, sans: string[]): Identity {
  const cert = join(pki.dir, `${name}.crt`);
  const sansFile = join(pki.dir, `${name}.sans`);
  const wanted = sans.join(',');
  if (existsSync(cert) && existsSync(sansFile) && readFileSync(sansFile, 'utf8') === wanted)
    return { cert, key: join(pki.dir, `${name}.key`) };
  const made = signed(
    pki.dir,
    name,
    { cert: pki.ca, key: pki.caKey },
    `/CN=${name}`,
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' +
      `subjectAltName=${wanted}\n`,
  );
  writeFileSync(sansFile, wanted);
  return made;
}

/** A kubeconfig with embedded credentials (so it can be copied elsewhere). */
export function kubeconfig(server: string, caFile: string, user: string, credentials: Identity | { token: string }): string {
  const b64 = (path: string) => readFileSync(path).toString('base64');
  const auth =
    'token' in credentials
      ? `    token: ${credentials.token}\n`
      : `    client-certificate-data: ${b64(credentials.cert)}\n    client-key-data: ${b64(credentials.key)}\n`;
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: apprunner-local',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${b64(caFile)}`,
    'users:',
    `- name: ${user}`,
    '  user:',
    auth.trimEnd(),
    'contexts:',
    `- name: ${user}@apprunner-local`,
    '  context:',
    '    cluster: apprunner-local',
    `    user: ${user}`,
    `current-context: ${user}@apprunner-local`,
    '',
  ].join('\n');
}
