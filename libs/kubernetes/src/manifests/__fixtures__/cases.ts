import { buildServiceObjects, buildServiceSecret, buildTenantObjects } from '../index';
import type { KubeObject } from '../types';
import {
  FULL_SECRET_VALUES,
  SETTINGS,
  SETTINGS_WITH_PAUSED_BACKEND,
  TENANT,
  codeInput,
  fullInput,
  pausedInput,
  privateDualStackInput,
  privateInput,
  SETTINGS_WITH_PRIVATE_CLASS,
  serviceInput,
} from './inputs';

/** Every representative case: the objects a reconciler would apply for it. */
export const CASES: Record<string, () => KubeObject[]> = {
  tenant: () => buildTenantObjects(SETTINGS, TENANT),
  'image-tcp-defaults': () => buildServiceObjects(SETTINGS, serviceInput()),
  'http-start-env-secrets-4vcpu-12gb': () => {
    const input = fullInput();
    return [buildServiceSecret(SETTINGS, input, FULL_SECRET_VALUES), ...buildServiceObjects(SETTINGS, input)];
  },
  paused: () => buildServiceObjects(SETTINGS_WITH_PAUSED_BACKEND, pausedInput()),
  'paused-without-backend': () => buildServiceObjects(SETTINGS, pausedInput()),
  private: () => buildServiceObjects(SETTINGS, privateInput()),
  'private-class-dual-stack': () => [
    ...buildTenantObjects(SETTINGS_WITH_PRIVATE_CLASS, TENANT).filter((o) => o.kind === 'NetworkPolicy'),
    ...buildServiceObjects(SETTINGS_WITH_PRIVATE_CLASS, privateDualStackInput()),
  ],
  'code-repository': () => buildServiceObjects(SETTINGS, codeInput()),
};
