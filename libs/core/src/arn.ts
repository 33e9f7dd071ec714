/**
 * App Runner ARNs: `arn:<partition>:apprunner:<region>:<account>:<resource type>/<path...>`.
 *   service/<name>/<id>                                  connection/<name>/<id>
 *   autoscalingconfiguration/<name>/<revision>/<id>      observabilityconfiguration/<name>/<revision>/<id>
 *   vpcconnector/<name>/<revision>/<id>                  vpcingressconnection/<name>/<id>
 */
export const RESOURCE_TYPES = [
  'service',
  'connection',
  'autoscalingconfiguration',
  'observabilityconfiguration',
  'vpcconnector',
  'vpcingressconnection',
] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

export interface ArnScope {
  partition: string;
  region: string;
  accountId: string;
}

export interface ParsedArn extends ArnScope {
  resourceType: ResourceType;
  /** The segments after the resource type, e.g. [name, id] for a service. */
  path: string[];
}

const ARN = /^arn:(aws[a-z-]*):apprunner:([a-z0-9-]+):(\d{12}):([a-z]+)\/(.+)$/;

export function parseArn(arn: string): ParsedArn | undefined {
  const m = ARN.exec(arn);
  if (!m) return undefined;
  const resourceType = m[4] as ResourceType;
  if (!RESOURCE_TYPES.includes(resourceType)) return undefined;
  const path = m[5].split('/');
  if (path.some((p) => p.length === 0)) return undefined;
  return { partition: m[1], region: m[2], accountId: m[3], resourceType, path };
}

export function formatArn(scope: ArnScope, resourceType: ResourceType, ...path: (string | number)[]): string {
  return `arn:${scope.partition}:apprunner:${scope.region}:${scope.accountId}:${resourceType}/${path.join('/')}`;
}
