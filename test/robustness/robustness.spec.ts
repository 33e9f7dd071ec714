import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION_NAMES, inputShapeName, openApiComponents } from '@apprunner/api-model';
import { encodeNextToken } from '@apprunner/core';
import { startTestPlatform, type TestPlatform, type TestTenant } from '../support/platform';
import { awsCall, signAws, type RawRequest } from '../support/raw-http';
import { type Door, installWriteCounter, newTally, probe, type Tally, type WriteCounter } from './harness';
import { anyJson, hostileAny, nested, type Schema, type SchemaContext, valuesOf } from './schema-arbitrary';

/**
 * Property-based robustness of every door (issue 13), generated from App Runner's service model (the AWS door: every
 * action, every member) and from docs/openapi.json (REST, admin, webhooks): wrong types, missing required members,
 * lengths, patterns, enums, numbers at and past their bounds, unknown members, nesting, encodings, content types,
 * sizes, targets, paths and credentials. Every answer must hold the invariants of harness.ts: never 5xx, an App Runner
 * error type and message, a request id, nothing committed when the answer is an error, answered within 2 s.
 * Fixed seed and run counts keep it reproducible and bounded (ROBUSTNESS_RUNS scales the counts).
 */
const SEED = 13;
const SCALE = Number(process.env.ROBUSTNESS_RUNS ?? '1');
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));
const REGISTRY_TOKEN = 'registry-token-robustness-0123';
const GITHUB_SECRET = 'github-secret-robustness-0123456';
const OPENAPI = JSON.parse(readFileSync(join(__dirname, '../../docs/openapi.json'), 'utf8')) as {
  paths: Record<string, Record<string, any>>;
  components: { schemas: Record<string, Schema> };
};

/** encodeURIComponent, except that an unpaired surrogate becomes its (invalid) UTF-8 bytes as a hostile client sends them. */
function encodeLoose(text: string): string {
  return text.replace(/[\ud800-\udbff][\udc00-\udfff]|[\s\S]/g, (c) => {
    const code = c.charCodeAt(0);
    if (c.length === 1 && code >= 0xd800 && code <= 0xdfff) {
      return [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)]
        .map((b) => `%${b.toString(16).toUpperCase()}`)
        .join('');
    }
    return encodeURIComponent(c);
  });
}

/** Mostly `usual`, sometimes one of `others` (credentials: most requests get past authentication, to reach deeper code). */
const mostly = <T>(usual: T, ...others: T[]): fc.Arbitrary<T> =>
  fc.oneof({ weight: 5, arbitrary: fc.constant(usual) }, { weight: 1, arbitrary: fc.constantFrom(...others) });

/** `null` mostly, a draw of `arb` one time in `every` (hostile envelopes around otherwise well-formed requests). */
const rarely = <T>(arb: fc.Arbitrary<T>, every: number): fc.Arbitrary<T | null> =>
  fc.oneof({ weight: every - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: arb });

const sample = <T>(arb: fc.Arbitrary<T>, numRuns: number, salt: number): T[] => fc.sample(arb, { seed: SEED + salt, numRuns });
/** Per request, how often each value is made hostile: some requests valid throughout, some broken in many places. */
const HOSTILITY = [0, 0, 0.03, 0.1, 0.3];

describe('robustness: every door, generated from the service model and the OpenAPI document', () => {
  let platform: TestPlatform;
  let tenant: TestTenant;
  let other: TestTenant;
  let writes: WriteCounter;
  const tallies = new Map<Door, Tally>();
  const seeded: Record<string, string> = {};
  const tally = (door: Door) => tallies.get(door) ?? (tallies.set(door, newTally()), tallies.get(door)!);

  beforeAll(async () => {
    platform = await startTestPlatform({
      worker: false,
      // No outbox sweep during the run: its re-enqueue of the (never consumed) operations is a write no request made.
      env: { REGISTRY_WEBHOOK_TOKEN: REGISTRY_TOKEN, GITHUB_WEBHOOK_SECRET: GITHUB_SECRET, OUTBOX_SWEEP_SECONDS: '86400' },
    });
    tenant = await platform.newTenant('robust');
    other = await platform.newTenant('robust-other');
    const call = async (who: TestTenant, action: string, input: unknown) => {
      const res = await awsCall(platform.url, who, action, JSON.stringify(input));
      if (res.status !== 200) throw new Error(`seeding ${action}: ${res.text}`);
      return res.json;
    };
    const image = { ImageRepository: { ImageIdentifier: 'registry.internal/team/app:1.0', ImageRepositoryType: 'ECR' } };
    seeded.service = (
      await call(tenant, 'CreateService', { ServiceName: 'seed-svc', SourceConfiguration: { ...image, AutoDeploymentsEnabled: true } })
    ).Service.ServiceArn;
    seeded.operation = (await call(tenant, 'ListOperations', { ServiceArn: seeded.service })).OperationSummaryList[0].Id;
    seeded.asc = (
      await call(tenant, 'CreateAutoScalingConfiguration', { AutoScalingConfigurationName: 'seed-asc' })
    ).AutoScalingConfiguration.AutoScalingConfigurationArn;
    seeded.obs = (
      await call(tenant, 'CreateObservabilityConfiguration', { ObservabilityConfigurationName: 'seed-obs' })
    ).ObservabilityConfiguration.ObservabilityConfigurationArn;
    seeded.vpc = (
      await call(tenant, 'CreateVpcConnector', { VpcConnectorName: 'seed-vpc', Subnets: ['subnet-1'] })
    ).VpcConnector.VpcConnectorArn;
    seeded.connection = (
      await call(tenant, 'CreateConnection', { ConnectionName: 'seed-conn', ProviderType: 'GITHUB' })
    ).Connection.ConnectionArn;
    seeded.otherService = (await call(other, 'CreateService', { ServiceName: 'other-svc', SourceConfiguration: image })).Service.ServiceArn;
    // Installed after seeding: from here on every committed row change is counted.
    writes = await installWriteCounter(platform);
  });

  afterAll(async () => {
    const lines = [...tallies].map(
      ([door, t]) =>
        `${door.padEnd(8)} requests ${String(t.requests).padStart(5)}  violations ${t.violations.length}  slowest ${Math.round(t.slowestMs)} ms  statuses ${JSON.stringify(t.byStatus)}  errors ${JSON.stringify(t.byError)}`,
    );
    const total = [...tallies.values()].reduce((a, t) => ({ r: a.r + t.requests, v: a.v + t.violations.length }), { r: 0, v: 0 });
    process.stderr.write(`robustness (seed ${SEED}, scale ${SCALE}): ${total.r} requests, ${total.v} violations\n${lines.join('\n')}\n`);
    await platform?.close();
  });

  const expectNoViolations = (door: Door) => {
    const t = tally(door);
    expect(t.requests).toBeGreaterThan(0);
    expect(t.violations.slice(0, 20), `${t.violations.length} violation(s) in ${t.requests} requests`).toEqual([]);
  };

  /** Member values aimed at existing resources (the schema alone would only ever produce unknown ARNs). */
  const pools = (): Record<string, fc.Arbitrary<unknown>> => {
    const revisionPrefix = (arn: string) => arn.split('/').slice(0, 2).join('/');
    const arns = fc.constantFrom(
      seeded.service,
      seeded.asc,
      revisionPrefix(seeded.asc),
      `${revisionPrefix(seeded.asc)}/1`,
      seeded.obs,
      revisionPrefix(seeded.obs),
      seeded.vpc,
      revisionPrefix(seeded.vpc),
      seeded.connection,
      seeded.otherService,
      `arn:aws:apprunner:us-east-1:${tenant.accountId}:autoscalingconfiguration/DefaultConfiguration/1/00000000000000000000000000000001`,
      `arn:aws:apprunner:eu-west-1:${tenant.accountId}:service/seed-svc/0123`,
      `arn:aws:apprunner:us-east-1:${tenant.accountId}:vpcingressconnection/vic/0123`,
      `arn:aws:s3:::bucket`,
      `arn:aws:apprunner:us-east-1:${tenant.accountId}:service/a//b`,
    );
    return {
      ServiceArn: arns,
      AutoScalingConfigurationArn: arns,
      ObservabilityConfigurationArn: arns,
      VpcConnectorArn: arns,
      VpcIngressConnectionArn: arns,
      ConnectionArn: arns,
      ResourceArn: arns,
      ImageIdentifier: fc.constantFrom(
        'registry.internal/team/app:1.0',
        'public.ecr.aws/nginx/nginx:1.27',
        'nginx',
        'ghcr.io/o/a@sha256:' + 'a'.repeat(64),
      ),
      RepositoryUrl: fc.constantFrom('https://github.com/org/repo', 'https://github.com/org'),
      DomainName: fc.constantFrom('www.example.com', 'example.com', '*.example.com', '*.login.example.com', 'login*.example.com'),
      NextToken: fc.constantFrom(encodeNextToken(['a', 1]), encodeNextToken(['2020-01-01T00:00:00.000Z', 'x']), 'bm9wZQ', '!!'),
      TagKeys: fc.array(fc.constantFrom('team', 'aws:x', ''), { maxLength: 3 }),
      Key: fc.constantFrom('team', 'env', 'aws:reserved'),
    };
  };
  const modelSchemas = openApiComponents() as unknown as Record<string, Schema>;
  const contexts = (schemas: Record<string, Schema>): SchemaContext[] => {
    const shared = pools();
    return HOSTILITY.map((hostility) => ({
      resolve: (ref) => schemas[ref.replace('#/components/schemas/', '')],
      pools: shared,
      hostility,
    }));
  };

  /** Bodies and headers that are wrong before any member is looked at. */
  const transport = fc.oneof(
    fc.constantFrom<[string, string | Buffer]>(
      ['application/x-www-form-urlencoded', 'MaxResults=5&ServiceArn=x'],
      ['text/plain', '{}'],
      ['', '{}'],
      ['application/x-amz-json-1.1', '{}'],
      ['application/json; charset=utf-8', '{}'],
      ['application/x-amz-json-1.0', ''],
      ['application/x-amz-json-1.0', 'null'],
      ['application/x-amz-json-1.0', '[]'],
      ['application/x-amz-json-1.0', '"x"'],
      ['application/x-amz-json-1.0', '{'],
      ['application/x-amz-json-1.0', '{"a":1}garbage'],
      ['application/x-amz-json-1.0', '{"ServiceArn":"a","ServiceArn":{"x":1}}'],
      ['application/x-amz-json-1.0', '{"__proto__":{"ServiceArn":"x"},"constructor":{"prototype":{}}}'],
      ['application/x-amz-json-1.0', Buffer.concat([Buffer.from('{"ServiceArn":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')])],
      ['application/x-amz-json-1.0', Buffer.from('{"MaxResults":5}', 'utf16le')],
      ['application/x-amz-json-1.0', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{}')])],
      ['application/x-amz-json-1.0', '[['.repeat(4_000) + ']]'.repeat(4_000)],
      ['application/x-amz-json-1.0', JSON.stringify({ ServiceArn: 'x'.repeat(1024 * 1024) })],
      ['application/x-amz-json-1.0', JSON.stringify({ ServiceArn: 'x'.repeat(1024 * 1024 - 20) })],
    ),
  );

  it(`the AWS door: all ${ACTION_NAMES.length} actions, every member of their inputs`, async () => {
    const perAction = runs(48);
    const modelContexts = contexts(modelSchemas);
    const answered = new Set<string>();
    for (const [i, action] of ACTION_NAMES.entries()) {
      const schema = modelSchemas[inputShapeName(action)];
      const inputs = sample(valuesOf(schema, modelContexts), perAction, i);
      for (const input of inputs) {
        const body = JSON.stringify(input);
        const req = await signAws(platform.url, tenant, {
          path: '/',
          headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `AppRunner.${action}` },
          body,
        });
        if ((await probe(platform, writes, tally('aws'), 'aws', req)) === 200) answered.add(action);
      }
    }
    // The envelope: bodies, encodings and content types, targets, paths, methods, credentials, header sizes.
    const envelopes = sample(
      fc.record({
        action: fc.constantFrom(...ACTION_NAMES),
        transport: rarely(transport, 2),
        target: rarely(
          fc.constantFrom(
            '',
            'AppRunner',
            'AppRunner.',
            'apprunner.ListServices',
            'AppRunner.listServices',
            'AppRunner.__proto__',
            'AppRunner.constructor',
            'AppRunner.toString',
            'AmazonAppRunner.ListServices',
            'AppRunner.ListServices.Extra',
            'AppRunner.ListServices ',
          ),
          4,
        ),
        path: rarely(fc.constantFrom('//', '/?x=1', '/.', '/%2F', '/v1', '/AppRunner.ListServices'), 5),
        method: rarely(fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'), 6),
        auth: mostly('signed', 'unsigned', 'wrong-secret', 'other-tenant', 'garbage-header'),
      }),
      runs(400),
      100,
    );
    for (const [n, e] of envelopes.entries()) {
      const [contentType, body] = e.transport ?? ['application/x-amz-json-1.0', '{}'];
      const headers: Record<string, string> = { ...(contentType ? { 'content-type': contentType } : {}) };
      if (e.target !== null) {
        if (e.target !== '') headers['x-amz-target'] = e.target;
      } else headers['x-amz-target'] = `AppRunner.${e.action}`;
      if (n % 50 === 7) headers['x-padding'] = 'p'.repeat(20_000); // over Node's 16 KiB header limit: 431
      let req: RawRequest = { method: e.method ?? 'POST', path: e.path ?? '/', headers, body };
      if (e.auth === 'signed') req = await signAws(platform.url, tenant, req);
      else if (e.auth === 'other-tenant') req = await signAws(platform.url, other, req);
      else if (e.auth === 'wrong-secret')
        req = await signAws(platform.url, { accessKeyId: tenant.accessKeyId, secretAccessKey: 'x'.repeat(40) }, req);
      else if (e.auth === 'garbage-header')
        req.headers = { ...headers, authorization: 'AWS4-HMAC-SHA256 Credential=/,SignedHeaders=,Signature=', 'x-amz-date': '2020' };
      if (req.method === 'GET' || req.method === 'OPTIONS') req.body = undefined;
      await probe(platform, writes, tally('aws'), 'aws', req);
    }
    process.stderr.write(`robustness: ${answered.size} of ${ACTION_NAMES.length} actions answered 200 to a generated input\n`);
    expectNoViolations('aws');
  }, 300_000);

  /** Requests for the operations of docs/openapi.json whose path starts with `prefix`. */
  const openApiRequests = (
    prefix: (path: string) => boolean,
    minHostility: number,
    paramPools: Record<string, fc.Arbitrary<string>>,
  ): fc.Arbitrary<{ method: string; path: string; query: string; body: unknown; hasBody: boolean }> => {
    const operations = Object.entries(OPENAPI.paths)
      .filter(([path]) => prefix(path))
      .flatMap(([path, item]) =>
        Object.entries(item)
          .filter(([method]) => method !== 'parameters')
          .map(([method, op]) => ({
            path,
            method: method.toUpperCase(),
            op,
            parameters: [...(item.parameters ?? []), ...(op.parameters ?? [])],
          })),
      );
    const ctxs = contexts(OPENAPI.components.schemas).filter((c) => c.hostility >= minHostility);
    const hostileSegment = fc.constantFrom('%', '%E0%A4%A', '..', '.', 'a'.repeat(3_000), '%2F%2F', '%00', 'ü', '%F0%9F%99%82', '{x}');
    // One arbitrary per operation, built once (building is what costs; drawing is cheap).
    return fc.oneof(
      ...operations.map(({ path, method, op, parameters }) => {
        const pathParams = parameters.filter((p: any) => p.in === 'path');
        const queryParams = parameters.filter((p: any) => p.in === 'query' && p.name !== 'follow');
        const segment = (p: any) =>
          fc.oneof(
            { weight: 5, arbitrary: (paramPools[p.name] ?? fc.string({ minLength: 1, maxLength: 20 })).map(encodeLoose) },
            { weight: 1, arbitrary: hostileSegment },
          );
        const queryValue = (p: any) =>
          fc.oneof(
            { weight: 4, arbitrary: valuesOf(p.schema ?? {}, ctxs).map((v) => (Array.isArray(v) ? v.map(String) : [String(v)])) },
            {
              weight: 1,
              arbitrary: fc.array(fc.constantFrom('', 'abc', '-1', '1e3', '0x10', '%', 'true', '99999999999999999999'), {
                minLength: 1,
                maxLength: 2,
              }),
            },
          );
        const schemaRef = op.requestBody?.content?.['application/json']?.schema;
        return fc.record({
          method: fc.oneof(
            { weight: 9, arbitrary: fc.constant(method) },
            { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS') },
          ),
          path: fc.tuple(...pathParams.map(segment)).map((values) => {
            let filled = path;
            pathParams.forEach((p: any, i: number) => (filled = filled.replace(`{${p.name}}`, values[i] as string)));
            return filled;
          }),
          query: fc
            .tuple(...queryParams.map((p: any) => fc.option(queryValue(p), { freq: 2 })))
            .map((values) =>
              queryParams
                .flatMap((p: any, i: number) =>
                  ((values[i] as string[] | null) ?? []).map((v) => `${encodeURIComponent(p.name)}=${encodeLoose(v)}`),
                )
                .join('&'),
            ),
          body: schemaRef ? valuesOf(schemaRef, ctxs) : fc.oneof(fc.constant(undefined), anyJson),
          hasBody: fc.constant(Boolean(schemaRef)),
        });
      }),
    );
  };

  const jsonRequest = (
    r: { method: string; path: string; query: string; body: unknown },
    auth: string | undefined,
    t: [string, string | Buffer] | null,
  ): RawRequest => {
    const [contentType, body] = t ?? ['application/json', r.body === undefined ? undefined : JSON.stringify(r.body)];
    const noBody = r.method === 'GET' || r.method === 'OPTIONS';
    return {
      method: r.method,
      path: r.query ? `${r.path}?${r.query}` : r.path,
      headers: {
        ...(auth ? { authorization: auth } : {}),
        ...(contentType && body !== undefined && !noBody ? { 'content-type': contentType } : {}),
      },
      body: noBody ? undefined : body,
    };
  };

  it('the REST door: every route of docs/openapi.json', async () => {
    const arn = (v: string) =>
      fc.constantFrom(
        v,
        seeded.otherService,
        seeded.asc.split('/').slice(0, 2).join('/'),
        'arn:aws:apprunner:us-east-1:000000000000:service/x/y',
        'not-an-arn',
      );
    const paramPools = {
      ServiceArn: arn(seeded.service),
      AutoScalingConfigurationArn: arn(seeded.asc),
      ObservabilityConfigurationArn: arn(seeded.obs),
      VpcConnectorArn: arn(seeded.vpc),
      VpcIngressConnectionArn: arn('arn:aws:apprunner:us-east-1:000000000000:vpcingressconnection/v/1'),
      ConnectionArn: arn(seeded.connection),
      ResourceArn: arn(seeded.service),
      DomainName: fc.constantFrom('www.example.com', '*.example.com'),
      OperationId: fc.constantFrom(seeded.operation, randomUUID(), 'not-a-uuid'),
    };
    const requests = sample(
      fc.record({
        r: openApiRequests((p) => p.startsWith('/v1/'), 0, paramPools),
        auth: mostly<string | undefined>(
          `Bearer ${tenant.apiKey}`,
          `Bearer ${other.apiKey}`,
          undefined,
          'Bearer ark_x',
          'Basic x',
          `Bearer ${tenant.apiKey}x`,
        ),
        t: rarely(transport, 8),
      }),
      runs(1_200),
      200,
    );
    for (const { r, auth, t } of requests) await probe(platform, writes, tally('rest'), 'rest', jsonRequest(r, auth, t));
    expectNoViolations('rest');
  }, 300_000);

  it('the GitHub webhook and setup callback', async () => {
    const sign = (body: string | Buffer) => `sha256=${createHmac('sha256', GITHUB_SECRET).update(body).digest('hex')}`;
    const push = (extra: unknown) => ({
      ref: 'refs/heads/main',
      after: 'a'.repeat(40),
      installation: { id: 42 },
      repository: { html_url: 'https://github.com/org/repo', clone_url: 'https://github.com/org/repo.git' },
      extra,
    });
    const documents = fc.oneof(
      fc.constant(push(null)),
      hostileAny.map(push),
      fc.record({
        action: fc.constantFrom('created', 'deleted', 'suspend', 'x'),
        installation: fc.oneof(anyJson, fc.constant({ id: 42, account: { login: 'org' } })),
      }),
      anyJson,
      hostileAny,
    );
    const deliveries = sample(
      fc.record({
        document: documents,
        encoding: fc.constantFrom('json', 'json', 'form', 'form-no-payload', 'text', 'none', 'bad-utf8', 'deep'),
        signature: fc.constantFrom('valid', 'valid', 'valid', 'wrong', 'missing', 'sha1=abc'),
        event: fc.constantFrom('push', 'installation', 'ping', 'pull_request', '', '__proto__'),
        delivery: fc.oneof(fc.uuid(), fc.constantFrom('', 'x'.repeat(200), 'same-delivery')),
      }),
      runs(300),
      300,
    );
    for (const d of deliveries) {
      const json = JSON.stringify(d.document) ?? 'null';
      const [type, body]: [string, string | Buffer] =
        d.encoding === 'form'
          ? ['application/x-www-form-urlencoded', new URLSearchParams({ payload: json }).toString()]
          : d.encoding === 'form-no-payload'
            ? ['application/x-www-form-urlencoded', 'zen=1']
            : d.encoding === 'text'
              ? ['text/plain', json]
              : d.encoding === 'none'
                ? ['', json]
                : d.encoding === 'bad-utf8'
                  ? ['application/json', Buffer.concat([Buffer.from(json.slice(0, -1)), Buffer.from([0xff]), Buffer.from('}')])]
                  : d.encoding === 'deep'
                    ? ['application/json', JSON.stringify(nested(2_000))]
                    : ['application/json', json];
      const headers: Record<string, string> = {
        ...(type ? { 'content-type': type } : {}),
        'x-github-event': d.event,
        'x-github-delivery': d.delivery,
      };
      if (d.signature === 'valid') headers['x-hub-signature-256'] = sign(body);
      else if (d.signature === 'wrong') headers['x-hub-signature-256'] = `sha256=${'0'.repeat(64)}`;
      else if (d.signature !== 'missing') headers['x-hub-signature-256'] = d.signature;
      await probe(platform, writes, tally('github'), 'github', { path: '/github/webhook', headers, body });
    }
    const setups = sample(
      openApiRequests((p) => p === '/github/setup', 0.1, {}),
      runs(40),
      301,
    );
    for (const r of setups) await probe(platform, writes, tally('github'), 'github', jsonRequest(r, undefined, null));
    expectNoViolations('github');
  }, 300_000);

  it('the registry notifications endpoint', async () => {
    const event = fc.record(
      {
        id: fc.oneof(fc.uuid(), fc.constantFrom('', 'dup')),
        action: fc.constantFrom('push', 'pull', 'delete'),
        target: fc.oneof(
          fc.record({
            mediaType: fc.constantFrom('application/vnd.oci.image.manifest.v1+json', 'application/octet-stream'),
            digest: fc.constantFrom(`sha256:${'b'.repeat(64)}`, `sha256:${'c'.repeat(64)}`, 'sha256:short', ''),
            repository: fc.constantFrom('team/app', 'Team/App', '', '../x'),
            tag: fc.constantFrom('1.0', 'latest', ''),
          }),
          anyJson,
        ),
        request: fc.oneof(fc.constant({ host: 'registry.internal' }), anyJson),
      },
      { requiredKeys: ['id', 'action', 'target'] },
    );
    const envelopes = fc.oneof(
      {
        weight: 6,
        arbitrary: fc
          .array(fc.oneof({ weight: 4, arbitrary: event }, { weight: 1, arbitrary: hostileAny }), { maxLength: 6 })
          .map((events) => ({ events })),
      },
      { weight: 1, arbitrary: fc.constantFrom({ events: 'x' }, { events: {} }, { events: null }, {}, [], 'x', 1) },
      { weight: 1, arbitrary: hostileAny.map((events) => ({ events })) },
    );
    const notifications = sample(
      fc.record({
        envelope: envelopes,
        token: mostly(REGISTRY_TOKEN, '', 'wrong', `${REGISTRY_TOKEN}x`),
        t: rarely(transport, 6),
        type: fc.constantFrom('application/vnd.docker.distribution.events.v1+json', 'application/json'),
      }),
      runs(300),
      400,
    );
    for (const n of notifications) {
      const [type, body] = n.t ?? [n.type, JSON.stringify(n.envelope)];
      await probe(platform, writes, tally('registry'), 'registry', {
        path: '/registry/notifications',
        headers: { ...(n.token ? { authorization: `Bearer ${n.token}` } : {}), ...(type ? { 'content-type': type } : {}) },
        body,
      });
    }
    expectNoViolations('registry');
  }, 300_000);

  it('the admin door: every route of docs/openapi.json', async () => {
    // Tenants of its own: the admin door may delete them, revoke their keys and change their quotas.
    const victims = await Promise.all([1, 2, 3].map((i) => platform.newTenant(`victim-${i}`)));
    const keyIds = (await Promise.all(victims.map((v) => platform.admin('GET', `/admin/tenants/${v.accountId}/credentials`)))).flatMap(
      (r) => (r.body.Credentials as { KeyId: string }[]).map((c) => c.KeyId),
    );
    const paramPools = {
      accountId: fc.constantFrom(...victims.map((v) => v.accountId), '000000000000', 'abc', '0'.repeat(13)),
      keyId: fc.constantFrom(...keyIds, 'AKIANOPE', ''),
      subnetId: fc.constantFrom('subnet-1', 'subnet-robust', 'subnet-', 'sub'),
      vpcId: fc.constantFrom('vpc-1', 'vpc-robust', 'vpc'),
      groupId: fc.constantFrom('sg-1', 'sg-robust', 'sg'),
    };
    const requests = sample(
      fc.record({
        r: openApiRequests((p) => p.startsWith('/admin/'), 0, paramPools),
        auth: mostly<string | undefined>(`Bearer ${platform.config.ADMIN_TOKEN}`, undefined, 'Bearer nope', `Bearer ${tenant.apiKey}`),
        t: rarely(transport, 8),
      }),
      runs(400),
      500,
    );
    for (const { r, auth, t } of requests) await probe(platform, writes, tally('admin'), 'admin', jsonRequest(r, auth, t));
    expectNoViolations('admin');
  }, 300_000);
});
