import { openApiComponents } from '@apprunner/api-model';
import { REST_ROUTES } from './routes';

const ERROR_RESPONSE = { $ref: '#/components/responses/Error' };
/** Refusals of a request body before it is parsed: past the door's size (413), or not of its media type (415). */
const BODY_ERRORS = { '413': ERROR_RESPONSE, '415': ERROR_RESPONSE };
const REQUEST_ID_HEADERS = {
  'x-request-id': {
    description: 'The request id (also in error bodies, audit records and logs)',
    schema: { type: 'string', format: 'uuid' },
  },
  'x-amzn-RequestId': { description: 'The same id, under the name AWS clients read', schema: { type: 'string', format: 'uuid' } },
};

/** Every tag the operations use, declared with what it groups (Swagger UI shows them as sections). */
const TAGS: Record<string, string> = {
  services: 'Services, their deployments, pause and resume, operations and custom domains',
  'auto-scaling-configurations': 'Auto scaling configurations and their revisions',
  'observability-configurations': 'Observability configurations (tracing) and their revisions',
  'vpc-connectors': 'VPC connectors: the networks a service with VPC egress may reach',
  'vpc-ingress-connections': "VPC ingress connections: a service's private endpoints",
  connections: 'Connections to GitHub for code-based services, and their handshake',
  operations: 'Build output of operations',
  tags: 'Tags of any resource',
  admin: 'The platform admin API: tenants, their quotas and credentials, the networks tenants may name (bearer ADMIN_TOKEN)',
  webhooks: 'Endpoints GitHub and container registries call',
};

/**
 * The OpenAPI 3.1 document of the REST API and the admin API, generated from the route table and
 * App Runner's own shapes (the same model that validates requests). Checked in as docs/openapi.json.
 */
export function buildOpenApi(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of REST_ROUTES) {
    const pathParams = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
    const parameters = [
      ...pathParams.map((name) => ({
        name,
        in: 'path',
        required: true,
        schema: { type: 'string' },
        description: name.endsWith('Arn') ? 'URL-encoded ARN' : undefined,
      })),
      ...(route.query ?? []).map((name) => ({
        name,
        in: 'query',
        required: false,
        schema:
          name === 'MaxResults'
            ? { type: 'integer' }
            : name === 'TagKeys'
              ? { type: 'array', items: { type: 'string' } }
              : ['LatestOnly', 'DeleteAllRevisions'].includes(name)
                ? { type: 'boolean' }
                : { type: 'string' },
      })),
    ].map((p) => JSON.parse(JSON.stringify(p)) as Record<string, unknown>);
    const operation: Record<string, unknown> = {
      operationId: route.action,
      summary: route.summary,
      description: `App Runner action \`${route.action}\`. Body and query members use App Runner's names; path parameters fill ${pathParams.join(', ') || 'nothing'}.`,
      tags: [route.path.split('/')[2]],
      security: [{ apiKey: [] }],
      ...(parameters.length ? { parameters } : {}),
      ...(route.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: { $ref: `#/components/schemas/${route.action}Request` } } },
            },
          }
        : {}),
      responses: {
        [String(route.status ?? 200)]: {
          description: 'Success',
          content: { 'application/json': { schema: { $ref: `#/components/schemas/${route.action}Response` } } },
        },
        '400': ERROR_RESPONSE,
        '401': ERROR_RESPONSE,
        '403': ERROR_RESPONSE,
        '404': ERROR_RESPONSE,
        '409': ERROR_RESPONSE,
        ...(route.body ? BODY_ERRORS : {}),
        '500': ERROR_RESPONSE,
      },
    };
    (paths[route.path] ??= {})[route.method.toLowerCase()] = operation;
  }
  Object.assign(paths, adminPaths(), sourcePaths());
  return {
    openapi: '3.1.0',
    info: {
      title: 'apprunner-k8s REST API',
      version: '1.0.0',
      contact: { name: 'The platform team operating this apprunner-k8s installation' },
      description:
        'Resource-oriented REST API over the App Runner actions, for platform teams. The same actions are served as AWS JSON 1.0 at `POST /` ' +
        '(X-Amz-Target: AppRunner.<Action>, SigV4) for the AWS SDKs and CLI. Timestamps here are ISO-8601 strings (epoch seconds on the AWS door).',
    },
    servers: [{ url: '/' }],
    tags: usedTags(paths).map((name) => ({ name, description: TAGS[name] ?? name })),
    paths,
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'Tenant API key (ark_...) issued by the admin API.' },
        adminToken: { type: 'http', scheme: 'bearer', description: 'The platform ADMIN_TOKEN.' },
      },
      responses: {
        Error: {
          description: 'An App Runner error',
          headers: REQUEST_ID_HEADERS,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['code', 'message'],
                properties: {
                  code: {
                    type: 'string',
                    examples: [
                      'InvalidRequestException',
                      'ResourceNotFoundException',
                      'InvalidStateException',
                      'ServiceQuotaExceededException',
                    ],
                  },
                  message: { type: 'string' },
                  requestId: { type: 'string' },
                },
              },
            },
          },
        },
      },
      schemas: referencedSchemas(paths, { ...openApiComponents(), ...adminSchemas() }),
    },
  };
}

function usedTags(paths: Record<string, Record<string, unknown>>): string[] {
  const used = new Set(Object.values(paths).flatMap((item) => Object.values(item).flatMap((op) => (op as { tags?: string[] }).tags ?? [])));
  return [...Object.keys(TAGS).filter((t) => used.has(t)), ...[...used].filter((t) => !(t in TAGS))];
}

/**
 * The schemas the operations reach, directly or through other schemas. The model has a request shape for every action;
 * those of actions whose members all travel in the path or the query are reached by nothing.
 */
function referencedSchemas(paths: Record<string, unknown>, schemas: Record<string, unknown>): Record<string, unknown> {
  const reached = new Set<string>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (typeof value !== 'object' || value === null) return;
    for (const [key, v] of Object.entries(value)) {
      const name = key === '$ref' && typeof v === 'string' ? /^#\/components\/schemas\/(.+)$/.exec(v)?.[1] : undefined;
      if (name && !reached.has(name)) {
        reached.add(name);
        visit(schemas[name]);
      } else visit(v);
    }
  };
  visit(paths);
  return Object.fromEntries(Object.entries(schemas).filter(([name]) => reached.has(name)));
}

/** Code-based services: the connection handshake, build logs, and the webhooks GitHub and registries call. */
function sourcePaths(): Record<string, Record<string, unknown>> {
  const text = { content: { 'text/plain': { schema: { type: 'string' } } } };
  const json = { content: { 'application/json': { schema: { type: 'object' } } } };
  return {
    '/v1/connections/{ConnectionArn}/handshake': {
      post: {
        operationId: 'StartConnectionHandshake',
        summary: "Start a GitHub connection's handshake: install the platform's GitHub App at HandshakeUrl (valid one hour)",
        description:
          "Not an App Runner action: App Runner completes a handshake in its console. Open HandshakeUrl, install the platform's GitHub App and authorize it; GitHub then calls /github/setup and the connection becomes AVAILABLE.",
        tags: ['connections'],
        security: [{ apiKey: [] }],
        parameters: [{ name: 'ConnectionArn', in: 'path', required: true, schema: { type: 'string' }, description: 'URL-encoded ARN' }],
        responses: {
          '200': {
            description: 'Handshake URL',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: { ConnectionArn: { type: 'string' }, HandshakeUrl: { type: 'string' }, ExpiresAt: { type: 'string' } },
                },
              },
            },
          },
          '400': ERROR_RESPONSE,
          '404': ERROR_RESPONSE,
          '409': ERROR_RESPONSE,
        },
      },
    },
    '/v1/operations/{OperationId}/logs': {
      get: {
        operationId: 'GetOperationLogs',
        summary: 'Build output of an operation of a code-based service (follow=true streams it until the build ends)',
        description:
          'Not an App Runner action: the output of the build a deploying operation of a code-based service ran, as stored while it came (CloudWatch Logs on App Runner).',
        tags: ['operations'],
        security: [{ apiKey: [] }],
        parameters: [
          { name: 'OperationId', in: 'path', required: true, schema: { type: 'string' } },
          { name: 'follow', in: 'query', schema: { type: 'boolean' } },
          {
            name: 'after',
            in: 'query',
            schema: { type: 'integer' },
            description: 'Resume after this chunk (X-Log-Next of a previous answer)',
          },
        ],
        responses: {
          '200': { description: 'Log text; headers X-Log-Next and X-Build-Ended (not following)', ...text },
          '404': ERROR_RESPONSE,
        },
      },
    },
    '/github/setup': {
      get: {
        operationId: 'GitHubAppSetupCallback',
        summary:
          "The GitHub App's setup URL: completes the handshake of the connection named by `state`, for an installation the authorizing user (`code`) has",
        description: 'Called by GitHub (the browser of the user installing the App), not by tenants.',
        tags: ['webhooks'],
        parameters: ['installation_id', 'setup_action', 'state', 'code'].map((name) => ({ name, in: 'query', schema: { type: 'string' } })),
        responses: { '200': { description: 'HTML confirmation' }, '400': ERROR_RESPONSE },
      },
    },
    '/github/webhook': {
      post: {
        operationId: 'GitHubWebhook',
        summary: "The GitHub App's webhook: X-Hub-Signature-256 over the raw body; push and installation events",
        description:
          'Called by GitHub, not by tenants: a push to a branch a service with automatic deployments builds starts a deployment.',
        tags: ['webhooks'],
        // A GitHub App's webhook content type may be either; the form carries the document in its `payload` field.
        requestBody: {
          content: {
            ...json.content,
            'application/x-www-form-urlencoded': {
              schema: { type: 'object', required: ['payload'], properties: { payload: { type: 'string' } } },
            },
          },
        },
        responses: {
          '202': { description: 'Handled (or a duplicate delivery)', ...json },
          '400': ERROR_RESPONSE,
          '401': ERROR_RESPONSE,
          ...BODY_ERRORS,
        },
      },
    },
    '/registry/notifications': {
      post: {
        operationId: 'RegistryNotifications',
        summary: "A registry's notifications endpoint (CNCF distribution events); Authorization: Bearer REGISTRY_WEBHOOK_TOKEN",
        description:
          'Called by container registries, not by tenants: a new digest of a tag an image service with automatic deployments tracks starts a deployment.',
        tags: ['webhooks'],
        requestBody: {
          content: { 'application/vnd.docker.distribution.events.v1+json': { schema: { type: 'object' } }, ...json.content },
        },
        responses: { '202': { description: 'Events handled', ...json }, '400': ERROR_RESPONSE, '401': ERROR_RESPONSE, ...BODY_ERRORS },
      },
    },
  };
}

function adminPaths(): Record<string, Record<string, unknown>> {
  const op = (operationId: string, summary: string, body?: string, status = 200) => ({
    operationId,
    summary,
    description: `${summary}. Platform admin API, not part of App Runner's: authorized by the ADMIN_TOKEN bearer token.`,
    tags: ['admin'],
    security: [{ adminToken: [] }],
    ...(body
      ? { requestBody: { required: true, content: { 'application/json': { schema: { $ref: `#/components/schemas/${body}` } } } } }
      : {}),
    responses: {
      [String(status)]: { description: 'Success' },
      '400': ERROR_RESPONSE,
      '401': ERROR_RESPONSE,
      '403': ERROR_RESPONSE,
      '404': ERROR_RESPONSE,
      ...(body ? BODY_ERRORS : {}),
    },
  });
  const account = [{ name: 'accountId', in: 'path', required: true, schema: { type: 'string', pattern: '^\\d{12}$' } }];
  return {
    '/admin/tenants': {
      get: op('AdminListTenants', 'List tenants'),
      post: op('AdminCreateTenant', 'Create a tenant (with its DefaultConfiguration)', 'AdminCreateTenantRequest', 201),
    },
    '/admin/tenants/{accountId}': {
      parameters: account,
      get: op('AdminGetTenant', 'Describe a tenant and its quotas'),
      delete: op(
        'AdminDeleteTenant',
        'Delete a tenant without services (the worker then removes its namespace from the cluster)',
        undefined,
        204,
      ),
    },
    '/admin/tenants/{accountId}/quotas': {
      parameters: account,
      put: op('AdminSetQuotas', 'Set quota overrides (null resets to the default)', 'AdminQuotaOverrides'),
    },
    '/admin/tenants/{accountId}/access-keys': {
      parameters: account,
      post: op('AdminIssueAccessKey', 'Issue a SigV4 access key (secret shown once)', 'AdminCredentialRequest', 201),
    },
    '/admin/tenants/{accountId}/api-keys': {
      parameters: account,
      post: op('AdminIssueApiKey', 'Issue a REST API key (shown once)', 'AdminCredentialRequest', 201),
    },
    '/admin/tenants/{accountId}/credentials': { parameters: account, get: op('AdminListCredentials', 'List credentials (never secrets)') },
    '/admin/tenants/{accountId}/credentials/{keyId}': {
      parameters: [...account, { name: 'keyId', in: 'path', required: true, schema: { type: 'string' } }],
      delete: op('AdminRevokeCredential', 'Revoke a credential'),
    },
    '/admin/subnets': { get: op('AdminListSubnets', 'List the subnets VPC connectors may name') },
    '/admin/subnets/{subnetId}': {
      parameters: [{ name: 'subnetId', in: 'path', required: true, schema: { type: 'string', pattern: '^subnet-[0-9a-zA-Z-]{1,64}$' } }],
      put: op('AdminPutSubnet', 'Register a subnet: the CIDRs it stands for', 'AdminSubnet'),
      delete: op('AdminDeleteSubnet', 'Unregister a subnet', undefined, 204),
    },
    '/admin/vpcs': { get: op('AdminListVpcs', 'List the private networks VPC ingress connections may name') },
    '/admin/vpcs/{vpcId}': {
      parameters: [{ name: 'vpcId', in: 'path', required: true, schema: { type: 'string', pattern: '^vpc-[0-9a-zA-Z-]{1,64}$' } }],
      put: op('AdminPutVpc', 'Register a private network and the IngressClass serving it', 'AdminVpc'),
      delete: op('AdminDeleteVpc', 'Unregister a private network', undefined, 204),
    },
    '/admin/security-groups': { get: op('AdminListSecurityGroups', 'List the security groups VPC connectors may name') },
    '/admin/security-groups/{groupId}': {
      parameters: [{ name: 'groupId', in: 'path', required: true, schema: { type: 'string', pattern: '^sg-[0-9a-zA-Z-]{1,64}$' } }],
      put: op('AdminPutSecurityGroup', 'Register a security group: its egress rules', 'AdminSecurityGroup'),
      delete: op('AdminDeleteSecurityGroup', 'Unregister a security group', undefined, 204),
    },
  };
}

function adminSchemas(): Record<string, unknown> {
  const quota = { type: ['integer', 'null'], minimum: 0, maximum: 100000 };
  return {
    AdminCreateTenantRequest: {
      type: 'object',
      required: ['Name'],
      properties: {
        Name: { type: 'string', pattern: '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$' },
        AccountId: { type: 'string', pattern: '^\\d{12}$' },
        QuotaOverrides: { $ref: '#/components/schemas/AdminQuotaOverrides' },
      },
    },
    AdminQuotaOverrides: {
      type: 'object',
      additionalProperties: false,
      properties: Object.fromEntries(
        [
          'Services',
          'Connections',
          'AutoScalingConfigurationNames',
          'ObservabilityConfigurationNames',
          'VpcConnectors',
          'VpcIngressConnections',
        ].map((q) => [q, quota]),
      ),
    },
    AdminCredentialRequest: { type: 'object', properties: { Description: { type: 'string', maxLength: 256 } } },
    AdminVpc: { type: 'object', required: ['IngressClassName'], properties: { IngressClassName: { type: 'string' } } },
    AdminSubnet: {
      type: 'object',
      required: ['Cidrs'],
      properties: { Cidrs: { type: 'array', minItems: 1, maxItems: 50, items: { type: 'string' } } },
    },
    AdminSecurityGroup: {
      type: 'object',
      required: ['Egress'],
      properties: {
        Egress: {
          type: 'array',
          maxItems: 60,
          items: {
            type: 'object',
            required: ['Protocol', 'Cidrs'],
            properties: {
              Protocol: { enum: ['tcp', 'udp', '-1'] },
              FromPort: { type: 'integer', minimum: 1, maximum: 65535 },
              ToPort: { type: 'integer', minimum: 1, maximum: 65535 },
              Cidrs: { type: 'array', minItems: 1, maxItems: 50, items: { type: 'string' } },
            },
          },
        },
      },
    },
  };
}
