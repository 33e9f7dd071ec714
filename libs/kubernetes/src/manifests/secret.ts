import { createHmac } from 'node:crypto';
import type { ISecret } from 'kubernetes-models/v1/Secret';
import { serviceAnnotations, serviceLabels } from './labels';
import { namespaceName, serviceSecretName } from './names';
import { toKubeObject } from './object';
import { resolveSettings, type KubePlatformSettings } from './settings';
import type { KubeObject, ServiceInput } from './types';

/** Secret keys: `[-._a-zA-Z0-9]+`, at most 253 characters. */
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;

/**
 * The per-service Secret behind `secretEnv` (`RuntimeEnvironmentSecrets` resolved at deploy time):
 * type Opaque, values base64 in `data` with keys sorted. `data` rather than `stringData`: the API
 * server never returns `stringData`, so applied `data` is what a drift check reads back.
 * Every key that `input.secretEnv` references must be present in `values`.
 */
export function buildServiceSecret(settings: KubePlatformSettings, input: ServiceInput, values: Record<string, string>): KubeObject {
  const s = resolveSettings(settings);
  const keys = Object.keys(values).sort();
  for (const key of keys) {
    if (key.length > 253 || !SECRET_KEY.test(key)) throw new Error(`Secret key ${JSON.stringify(key)} is not a valid Secret data key.`);
  }
  const missing = [...new Set(Object.values(input.secretEnv))].filter((key) => !(key in values)).sort();
  if (missing.length > 0) throw new Error(`Secret values missing for key(s): ${missing.join(', ')}.`);
  const secret: ISecret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: serviceSecretName(input.service.serviceId),
      namespace: namespaceName(s, input.tenant.accountId),
      labels: serviceLabels(s.fieldManager, input),
      annotations: serviceAnnotations(input),
    },
    type: 'Opaque',
    data: Object.fromEntries(keys.map((key) => [key, Buffer.from(values[key], 'utf8').toString('base64')])),
  };
  return toKubeObject(secret);
}

/**
 * Fingerprint of secret values for `ServiceInput.secretHash`: HMAC-SHA256 over the sorted key/value
 * pairs (independent of insertion order). It goes into the pod template, so only a value change
 * rolls the pods. Keyed, because a plain hash of a short value (a PIN, "true") in a readable
 * annotation could be reversed by guessing; pass a platform secret (e.g. derived from MASTER_KEY).
 */
export function hashSecretValues(values: Record<string, string>, key: string | Uint8Array): string {
  const entries = Object.keys(values)
    .sort()
    .map((name) => [name, values[name]]);
  return createHmac('sha256', key).update(JSON.stringify(entries)).digest('hex');
}
