/** Objects an operator creates before installing the chart (ci/existing-secret-values.yaml names them). */
type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; [key: string]: any };

/** What an operator puts into secrets.existingSecret (ci/existing-secret-values.yaml turns GitHub and the registry webhook on). */
export const EXISTING_PLATFORM_SECRET: K8sObject = {
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'apprunner-platform', namespace: 'apprunner' },
  type: 'Opaque',
  data: Object.fromEntries(
    Object.entries({
      MASTER_KEY: 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=',
      ADMIN_TOKEN: '0123456789abcdef0123456789abcdef',
      DATABASE_URL: 'postgresql://apprunner:secret@db.example.com:5432/apprunner',
      REDIS_URL: 'redis://:secret@redis.example.com:6379/0',
      GITHUB_APP_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----\\nbm90IGEga2V5\\n-----END PRIVATE KEY-----',
      GITHUB_WEBHOOK_SECRET: 'webhook-secret-0123456789',
      GITHUB_CLIENT_SECRET: 'client-secret-0123456789abcdef',
      REGISTRY_WEBHOOK_TOKEN: 'registry-token-0123456789',
    }).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
  ),
};

export const REGISTRY_PUSH_SECRET: K8sObject = {
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'registry-push', namespace: 'apprunner' },
  type: 'kubernetes.io/dockerconfigjson',
  data: { '.dockerconfigjson': Buffer.from('{"auths":{}}').toString('base64') },
};
