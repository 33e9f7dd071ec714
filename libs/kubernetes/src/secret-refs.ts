/**
 * `RuntimeEnvironmentSecrets` values name where a secret lives. On App Runner they are ARNs of Secrets Manager
 * secrets or SSM parameters; here they name a Kubernetes Secret in the tenant's own namespace (docs/aws-mapping.md):
 *
 * | value                                                             | Secret            | key              |
 * | ----------------------------------------------------------------- | ----------------- | ---------------- |
 * | `arn:aws:secretsmanager:<region>:<account>:secret:<name>`         | `<name>`          | `value`          |
 * | `arn:aws:secretsmanager:<region>:<account>:secret:<name>:<key>::` | `<name>`          | `<key>` (JSON key) |
 * | `arn:aws:ssm:<region>:<account>:parameter/<path/name>`            | `<path.name>`     | `value`          |
 * | `<name>` or `<name>:<key>`                                        | `<name>`          | `value` / `<key>` |
 *
 * The account in an ARN must be the tenant's own: a tenant never reads another tenant's secrets.
 */
export interface SecretRef {
  secretName: string;
  key: string;
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;
const SECRETS_MANAGER = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:(\d{12}):secret:([^:]+)(?::([^:]*)(?::[^:]*(?::[^:]*)?)?)?$/;
const SSM = /^arn:aws[a-z-]*:ssm:[a-z0-9-]+:(\d{12}):parameter\/?(.+)$/;

export function parseSecretRef(value: string, accountId: string): SecretRef | { error: string } {
  let secretName: string;
  let key = 'value';
  let account: string | undefined;
  const sm = SECRETS_MANAGER.exec(value);
  const ssm = sm ? null : SSM.exec(value);
  if (sm) {
    [, account, secretName] = sm;
    if (sm[3]) key = sm[3];
  } else if (ssm) {
    account = ssm[1];
    secretName = ssm[2].replace(/\//g, '.');
  } else if (value.startsWith('arn:')) {
    return { error: 'is neither a Secrets Manager secret ARN nor an SSM parameter ARN' };
  } else {
    const [name, k, ...rest] = value.split(':');
    if (rest.length > 0) return { error: 'must be <secret> or <secret>:<key>' };
    secretName = name;
    if (k !== undefined) key = k;
  }
  if (account !== undefined && account !== accountId) return { error: `belongs to account ${account}, not to this one` };
  if (secretName.length > 253 || !DNS1123_SUBDOMAIN.test(secretName))
    return { error: `names Secret "${secretName}", which is not a valid Kubernetes Secret name` };
  if (key.length > 253 || !SECRET_KEY.test(key)) return { error: `names key "${key}", which is not a valid Secret key` };
  return { secretName, key };
}
