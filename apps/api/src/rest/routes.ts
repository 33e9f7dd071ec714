import type { ActionName } from '@apprunner/api-model';
import { InvalidRequestException } from '@apprunner/core';

/**
 * Front door 2, as data: the resource-oriented REST API for platform teams. Each route maps an HTTP
 * method and path onto an App Runner action; bodies and query parameters use App Runner's member
 * names, and `{Arn}` path segments are URL-encoded ARNs. The OpenAPI document is generated from this table.
 */
export interface RestRoute {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  path: string;
  action: ActionName;
  /** Which input member each `{param}` in the path fills. */
  params?: Record<string, string>;
  /** Query parameters copied into the input (numbers and booleans converted by the model type). */
  query?: string[];
  /** Whether the JSON body is merged into the input. */
  body?: boolean;
  status?: number;
  summary: string;
}

export const REST_ROUTES: RestRoute[] = [
  { method: 'GET', path: '/v1/services', action: 'ListServices', query: ['MaxResults', 'NextToken'], summary: 'List services' },
  { method: 'POST', path: '/v1/services', action: 'CreateService', body: true, status: 201, summary: 'Create a service' },
  { method: 'GET', path: '/v1/services/{ServiceArn}', action: 'DescribeService', summary: 'Describe a service' },
  { method: 'PATCH', path: '/v1/services/{ServiceArn}', action: 'UpdateService', body: true, summary: 'Update a service' },
  { method: 'DELETE', path: '/v1/services/{ServiceArn}', action: 'DeleteService', summary: 'Delete a service' },
  { method: 'POST', path: '/v1/services/{ServiceArn}/pause', action: 'PauseService', summary: 'Pause a service' },
  { method: 'POST', path: '/v1/services/{ServiceArn}/resume', action: 'ResumeService', summary: 'Resume a service' },
  { method: 'POST', path: '/v1/services/{ServiceArn}/deployments', action: 'StartDeployment', status: 202, summary: 'Start a deployment' },
  {
    method: 'GET',
    path: '/v1/services/{ServiceArn}/operations',
    action: 'ListOperations',
    query: ['MaxResults', 'NextToken'],
    summary: 'List operations, newest first',
  },
  {
    method: 'GET',
    path: '/v1/services/{ServiceArn}/custom-domains',
    action: 'DescribeCustomDomains',
    query: ['MaxResults', 'NextToken'],
    summary: 'Describe custom domains',
  },
  {
    method: 'POST',
    path: '/v1/services/{ServiceArn}/custom-domains',
    action: 'AssociateCustomDomain',
    body: true,
    summary: 'Associate a custom domain',
  },
  {
    method: 'DELETE',
    path: '/v1/services/{ServiceArn}/custom-domains/{DomainName}',
    action: 'DisassociateCustomDomain',
    summary: 'Disassociate a custom domain',
  },
  {
    method: 'GET',
    path: '/v1/auto-scaling-configurations',
    action: 'ListAutoScalingConfigurations',
    query: ['AutoScalingConfigurationName', 'LatestOnly', 'MaxResults', 'NextToken'],
    summary: 'List auto scaling configurations',
  },
  {
    method: 'POST',
    path: '/v1/auto-scaling-configurations',
    action: 'CreateAutoScalingConfiguration',
    body: true,
    status: 201,
    summary: 'Create an auto scaling configuration (revision)',
  },
  {
    method: 'GET',
    path: '/v1/auto-scaling-configurations/{AutoScalingConfigurationArn}',
    action: 'DescribeAutoScalingConfiguration',
    summary: 'Describe an auto scaling configuration',
  },
  {
    method: 'DELETE',
    path: '/v1/auto-scaling-configurations/{AutoScalingConfigurationArn}',
    action: 'DeleteAutoScalingConfiguration',
    query: ['DeleteAllRevisions'],
    summary: 'Delete an auto scaling configuration',
  },
  {
    method: 'PUT',
    path: '/v1/auto-scaling-configurations/{AutoScalingConfigurationArn}/default',
    action: 'UpdateDefaultAutoScalingConfiguration',
    summary: 'Make it the default for new services',
  },
  {
    method: 'GET',
    path: '/v1/auto-scaling-configurations/{AutoScalingConfigurationArn}/services',
    action: 'ListServicesForAutoScalingConfiguration',
    query: ['MaxResults', 'NextToken'],
    summary: 'List services using it',
  },
  {
    method: 'GET',
    path: '/v1/observability-configurations',
    action: 'ListObservabilityConfigurations',
    query: ['ObservabilityConfigurationName', 'LatestOnly', 'MaxResults', 'NextToken'],
    summary: 'List observability configurations',
  },
  {
    method: 'POST',
    path: '/v1/observability-configurations',
    action: 'CreateObservabilityConfiguration',
    body: true,
    status: 201,
    summary: 'Create an observability configuration (revision)',
  },
  {
    method: 'GET',
    path: '/v1/observability-configurations/{ObservabilityConfigurationArn}',
    action: 'DescribeObservabilityConfiguration',
    summary: 'Describe an observability configuration',
  },
  {
    method: 'DELETE',
    path: '/v1/observability-configurations/{ObservabilityConfigurationArn}',
    action: 'DeleteObservabilityConfiguration',
    summary: 'Delete an observability configuration',
  },
  {
    method: 'GET',
    path: '/v1/vpc-connectors',
    action: 'ListVpcConnectors',
    query: ['MaxResults', 'NextToken'],
    summary: 'List VPC connectors',
  },
  { method: 'POST', path: '/v1/vpc-connectors', action: 'CreateVpcConnector', body: true, status: 201, summary: 'Create a VPC connector' },
  { method: 'GET', path: '/v1/vpc-connectors/{VpcConnectorArn}', action: 'DescribeVpcConnector', summary: 'Describe a VPC connector' },
  { method: 'DELETE', path: '/v1/vpc-connectors/{VpcConnectorArn}', action: 'DeleteVpcConnector', summary: 'Delete a VPC connector' },
  {
    method: 'GET',
    path: '/v1/vpc-ingress-connections',
    action: 'ListVpcIngressConnections',
    query: ['MaxResults', 'NextToken'],
    summary: 'List VPC ingress connections',
  },
  {
    method: 'POST',
    path: '/v1/vpc-ingress-connections',
    action: 'CreateVpcIngressConnection',
    body: true,
    status: 201,
    summary: 'Create a VPC ingress connection',
  },
  {
    method: 'GET',
    path: '/v1/vpc-ingress-connections/{VpcIngressConnectionArn}',
    action: 'DescribeVpcIngressConnection',
    summary: 'Describe a VPC ingress connection',
  },
  {
    method: 'PATCH',
    path: '/v1/vpc-ingress-connections/{VpcIngressConnectionArn}',
    action: 'UpdateVpcIngressConnection',
    body: true,
    summary: 'Update a VPC ingress connection',
  },
  {
    method: 'DELETE',
    path: '/v1/vpc-ingress-connections/{VpcIngressConnectionArn}',
    action: 'DeleteVpcIngressConnection',
    summary: 'Delete a VPC ingress connection',
  },
  {
    method: 'GET',
    path: '/v1/connections',
    action: 'ListConnections',
    query: ['ConnectionName', 'MaxResults', 'NextToken'],
    summary: 'List connections',
  },
  { method: 'POST', path: '/v1/connections', action: 'CreateConnection', body: true, status: 201, summary: 'Create a connection' },
  { method: 'DELETE', path: '/v1/connections/{ConnectionArn}', action: 'DeleteConnection', summary: 'Delete a connection' },
  { method: 'GET', path: '/v1/tags/{ResourceArn}', action: 'ListTagsForResource', summary: 'List tags of a resource' },
  { method: 'POST', path: '/v1/tags/{ResourceArn}', action: 'TagResource', body: true, summary: 'Add or overwrite tags' },
  {
    method: 'DELETE',
    path: '/v1/tags/{ResourceArn}',
    action: 'UntagResource',
    query: ['TagKeys'],
    summary: 'Remove tags (TagKeys repeated)',
  },
];

interface CompiledRoute extends RestRoute {
  regex: RegExp;
  names: string[];
}

const COMPILED: CompiledRoute[] = REST_ROUTES.map((r) => {
  const names: string[] = [];
  const regex = new RegExp('^' + r.path.replace(/\{(\w+)\}/g, (_m, name: string) => (names.push(name), '([^/]+)')) + '/?$');
  return { ...r, regex, names };
});

export function matchRoute(
  method: string,
  path: string,
): { route: RestRoute; params: Record<string, string> } | 'method-not-allowed' | undefined {
  let pathMatched = false;
  for (const r of COMPILED) {
    const m = r.regex.exec(path);
    if (!m) continue;
    pathMatched = true;
    if (r.method !== method) continue;
    const params: Record<string, string> = {};
    r.names.forEach((name, i) => (params[name] = decodePathSegment(name, m[i + 1])));
    return { route: r, params };
  }
  return pathMatched ? 'method-not-allowed' : undefined;
}

function decodePathSegment(name: string, segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new InvalidRequestException(`The path parameter ${name} is not a valid URL-encoded value.`);
  }
}
