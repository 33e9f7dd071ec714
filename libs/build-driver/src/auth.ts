/** Credentials for one registry host (`127.0.0.1:5000`, `registry.example.com`). */
export interface RegistryCredentials {
  username: string;
  password: string;
}

/**
 * The text of a containers-auth.json (the `~/.docker/config.json` format buildah, skopeo and Kubernetes'
 * `kubernetes.io/dockerconfigjson` Secrets read) for the given registry hosts.
 */
export function registryAuthFile(credentials: Record<string, RegistryCredentials>): string {
  const auths: Record<string, { auth: string }> = {};
  for (const [host, { username, password }] of Object.entries(credentials)) {
    // The user name may not contain ':' (the basic-auth separator); the password may.
    if (username.includes(':')) throw new TypeError(`Registry user name for ${host} must not contain ':'`);
    auths[host] = { auth: Buffer.from(`${username}:${password}`).toString('base64') };
  }
  return `${JSON.stringify({ auths }, null, 2)}\n`;
}
