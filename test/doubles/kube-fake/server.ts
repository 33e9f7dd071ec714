/**
 * The HTTP front end: kube-apiserver's URL layout (`/api/v1/...`, `/apis/<group>/<version>/...`, namespaced and
 * cluster-scoped resources, `/status` and `/scale`), discovery, query parameters (`dryRun`, `fieldManager`,
 * `force`, selectors, `limit`/`continue`, `propagationPolicy`), `Status` error bodies (no watches), and a
 * record of every call.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { parsePodLogQuery, podLogText, type PodLogSource } from './jobs';
import type { DeleteOptions, ListQuery, Operations, Target } from './operations';
import type { ResourceRegistry, ResourceType } from './resources';
import type { FakeStore, PropagationPolicy } from './store';
import { ApiError, apiVersionOf, asRecord, type CallRecord, errors, isRecord, type JsonObject, type Verb } from './types';

interface ResourceRequest {
  group: string;
  version: string;
  resource: string;
  namespace?: string;
  name?: string;
  subresource?: string;
}

/** Splits a resource path; undefined for paths that are not resource paths. */
export function parseResourcePath(parts: string[]): ResourceRequest | undefined {
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) [group, version, rest] = ['', parts[1], parts.slice(2)];
  else if (parts[0] === 'apis' && parts.length >= 4) [group, version, rest] = [parts[1], parts[2], parts.slice(3)];
  else return undefined;
  let namespace: string | undefined;
  const namespaceSubresource = group === '' && rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize');
  if (rest[0] === 'namespaces' && rest.length >= 3 && !namespaceSubresource) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  if (rest.length === 0 || rest.length > 3) return undefined;
  return { group, version, resource: rest[0], namespace, name: rest[1], subresource: rest[2] };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseBody(raw: string, contentType: string): unknown {
  if (raw.trim() === '') return undefined;
  try {
    return contentType.includes('yaml') ? parseYaml(raw) : JSON.parse(raw);
  } catch (e) {
    throw errors.badRequest(`error decoding request body: ${(e as Error).message}`);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export class KubeHttpServer {
  private readonly server: Server;
  url = '';
  /** Container output for `pods/{name}/log` (the simulator's Job pods); other pods' logs are empty. */
  logSource: PodLogSource | undefined;

  constructor(
    private readonly registry: ResourceRegistry,
    private readonly store: FakeStore,
    private readonly ops: Operations,
    private readonly now: () => Date,
    private readonly calls: CallRecord[],
  ) {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    return this.url;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private record(call: Omit<CallRecord, 'at'>): void {
    this.calls.push({ ...call, at: this.now().getTime() });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = (req.method ?? 'GET').toUpperCase();
    const auth = req.headers.authorization ?? '';
    const user = auth.startsWith('Bearer ') ? auth.slice('Bearer '.length) : 'system:anonymous';
    let parts: string[];
    try {
      parts = url.pathname
        .split('/')
        .filter((p) => p !== '')
        .map(decodeURIComponent);
    } catch {
      parts = [];
    }
    const isDiscovery =
      (parts[0] === 'api' && parts.length <= 2) ||
      (parts[0] === 'apis' && parts.length <= 3) ||
      ['healthz', 'readyz', 'livez', 'version'].includes(parts[0] ?? '');
    if (isDiscovery) {
      const discovery = this.discovery(parts, url.host);
      const body =
        discovery ??
        (parts[0] === 'version' ? { major: '1', minor: '33', gitVersion: 'v1.33.0-kube-fake', platform: 'linux/amd64' } : undefined);
      const status = method === 'GET' && (body !== undefined || parts.length === 1) ? 200 : method === 'GET' ? 404 : 405;
      const apiVersion = parts[0] === 'api' ? (parts[1] ?? '') : parts[0] === 'apis' ? parts.slice(1, 3).join('/') : '';
      this.record({
        verb: 'get',
        method,
        path: url.pathname,
        apiVersion,
        group: parts[0] === 'apis' ? (parts[1] ?? '') : '',
        resource: '',
        kind: '',
        user,
        discovery: true,
        status,
      });
      if (status !== 200) return sendJson(res, status, (status === 404 ? errors.notFoundPath() : errors.methodNotAllowed()).toStatus());
      if (body === undefined) {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        return void res.end('ok');
      }
      return sendJson(res, 200, body);
    }

    const parsed = parseResourcePath(parts);
    const rt = parsed && this.registry.byResource(parsed.group, parsed.version, parsed.resource);
    const q = url.searchParams;
    const watch = q.get('watch') === 'true' || q.get('watch') === '1';
    const verb = this.verbOf(method, parsed?.name, false);
    const contentType = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    const call: Omit<CallRecord, 'at'> = {
      verb: verb ?? 'get',
      method,
      path: url.pathname,
      apiVersion: parsed ? apiVersionOf(parsed.group, parsed.version) : '',
      group: parsed?.group ?? '',
      resource: parsed?.resource ?? '',
      kind: rt?.kind ?? '',
      user,
      ...(parsed?.namespace !== undefined ? { namespace: parsed.namespace } : {}),
      ...(parsed?.name !== undefined ? { name: parsed.name } : {}),
      ...(parsed?.subresource !== undefined ? { subresource: parsed.subresource } : {}),
      ...(method === 'PATCH' ? { patchType: contentType } : {}),
      ...(q.has('fieldManager') ? { fieldManager: q.get('fieldManager') ?? '' } : {}),
      ...(q.has('dryRun') ? { dryRun: q.get('dryRun') === 'All' } : {}),
      status: 200,
    };
    if (
      parsed?.group === '' &&
      parsed.resource === 'pods' &&
      parsed.subresource === 'log' &&
      parsed.name !== undefined &&
      parsed.namespace !== undefined &&
      verb === 'get'
    ) {
      return this.servePodLog(res, parsed.namespace, parsed.name, q, call);
    }
    try {
      if (!parsed || !rt || !verb) throw parsed && rt ? errors.methodNotAllowed() : errors.notFoundPath();
      // nothing that runs against the fake watches any more; watches are the real cluster's
      if (watch) throw errors.methodNotAllowed('kube-fake serves no watches');
      const target = this.target(rt, parsed, verb, q, req);
      const { status, body } = await this.dispatch(verb, target, q, req, contentType);
      call.status = status;
      this.record(call);
      sendJson(res, status, body);
    } catch (e) {
      const error =
        e instanceof ApiError
          ? e
          : new ApiError(500, 'InternalError', `Internal error occurred: ${e instanceof Error ? e.message : String(e)}`);
      call.status = error.code;
      this.record(call);
      if (!res.headersSent) sendJson(res, error.code, error.toStatus());
      else res.end();
    }
  }

  /** `GET .../pods/{name}/log`: plain text (see `podLogText`), or a `Status` error. */
  private servePodLog(res: ServerResponse, namespace: string, name: string, q: URLSearchParams, call: Omit<CallRecord, 'at'>): void {
    try {
      const text = podLogText(this.store, this.logSource, namespace, name, parsePodLogQuery(q), this.now().getTime());
      this.record(call);
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
    } catch (e) {
      const error =
        e instanceof ApiError
          ? e
          : new ApiError(500, 'InternalError', `Internal error occurred: ${e instanceof Error ? e.message : String(e)}`);
      this.record({ ...call, status: error.code });
      sendJson(res, error.code, error.toStatus());
    }
  }

  private discovery(parts: string[], host: string): JsonObject | undefined {
    if (parts.length === 1 && parts[0] === 'api') return this.registry.coreVersions(host);
    if (parts.length === 2 && parts[0] === 'api') return this.registry.resourceList('', parts[1]);
    if (parts.length === 1 && parts[0] === 'apis') return this.registry.groupList();
    if (parts.length === 2 && parts[0] === 'apis') return this.registry.group(parts[1]);
    if (parts.length === 3 && parts[0] === 'apis') return this.registry.resourceList(parts[1], parts[2]);
    return undefined;
  }

  private verbOf(method: string, name: string | undefined, watch: boolean): Verb | undefined {
    switch (method) {
      case 'GET':
        return watch ? 'watch' : name ? 'get' : 'list';
      case 'POST':
        return name ? undefined : 'create';
      case 'PUT':
        return name ? 'update' : undefined;
      case 'PATCH':
        return name ? 'patch' : undefined;
      case 'DELETE':
        return name ? 'delete' : 'deletecollection';
      default:
        return undefined;
    }
  }

  private target(rt: ResourceType, p: ResourceRequest, verb: Verb, q: URLSearchParams, req: IncomingMessage): Target {
    // cluster-scoped resources have no namespace; namespaced ones need one except to list/watch across namespaces
    if (!rt.namespaced && p.namespace !== undefined) throw errors.notFoundPath();
    if (rt.namespaced && p.namespace === undefined && verb !== 'list' && !(verb === 'watch' && p.name === undefined))
      throw errors.notFoundPath();
    if (verb === 'watch' && p.subresource !== undefined) throw errors.methodNotAllowed();
    if (p.subresource !== undefined && !((p.subresource === 'status' && rt.status) || (p.subresource === 'scale' && rt.scale)))
      throw errors.notFoundPath();
    const dryRun = q.get('dryRun');
    if (dryRun !== null && dryRun !== 'All') throw errors.badRequest(`Invalid dry run value: ${dryRun}; valid values are: "All"`);
    // without ?fieldManager= kube-apiserver names the manager after the User-Agent's product token
    const explicit = q.get('fieldManager');
    const fieldManager = explicit ?? String(req.headers['user-agent'] ?? 'unknown').split('/')[0];
    if (fieldManager.length > 128) throw errors.badRequest('fieldManager: Too long: may not be longer than 128');
    return {
      rt,
      namespace: p.namespace,
      name: p.name,
      subresource: p.subresource as Target['subresource'],
      dryRun: dryRun === 'All',
      fieldManager,
      fieldManagerGiven: explicit !== null && explicit !== '',
      force: q.get('force') === 'true',
    };
  }

  private listQuery(q: URLSearchParams): ListQuery {
    const limit = q.get('limit');
    return {
      labelSelector: q.get('labelSelector') ?? undefined,
      fieldSelector: q.get('fieldSelector') ?? undefined,
      limit: limit ? Number(limit) : undefined,
      continue: q.get('continue') ?? undefined,
    };
  }

  private deleteOptions(q: URLSearchParams, body: unknown): DeleteOptions {
    const b = asRecord(body);
    const policy =
      q.get('propagationPolicy') ??
      (typeof b.propagationPolicy === 'string' ? b.propagationPolicy : undefined) ??
      (b.orphanDependents === true || q.get('orphanDependents') === 'true' ? 'Orphan' : undefined);
    if (policy !== undefined && !['Background', 'Foreground', 'Orphan'].includes(policy))
      throw errors.badRequest(`propagationPolicy: Unsupported value: "${policy}"`);
    return {
      propagationPolicy: policy as PropagationPolicy | undefined,
      preconditions: isRecord(b.preconditions) ? (b.preconditions as DeleteOptions['preconditions']) : undefined,
    };
  }

  private async dispatch(
    verb: Verb,
    t: Target,
    q: URLSearchParams,
    req: IncomingMessage,
    contentType: string,
  ): Promise<{ status: number; body: unknown }> {
    const raw = ['POST', 'PUT', 'PATCH', 'DELETE'].includes(req.method ?? '') ? await readBody(req) : '';
    switch (verb) {
      case 'get':
        return { status: 200, body: await this.ops.get(t) };
      case 'list':
        return { status: 200, body: this.ops.list(t, this.listQuery(q)) };
      case 'create': {
        const r = await this.ops.create(t, parseBody(raw, contentType));
        return { status: r.created ? 201 : 200, body: r.object };
      }
      case 'update': {
        const r = await this.ops.update(t, parseBody(raw, contentType));
        return { status: 200, body: r.object };
      }
      case 'patch': {
        const r = await this.ops.patch(t, contentType, raw);
        return { status: r.created ? 201 : 200, body: r.object };
      }
      case 'delete': {
        const body = parseBody(raw, contentType);
        if (asRecord(body).dryRun !== undefined)
          t.dryRun = Array.isArray(asRecord(body).dryRun) && (asRecord(body).dryRun as unknown[]).includes('All');
        return { status: 200, body: await this.ops.delete(t, this.deleteOptions(q, body)) };
      }
      case 'deletecollection':
        return {
          status: 200,
          body: await this.ops.deleteCollection(t, this.listQuery(q), this.deleteOptions(q, parseBody(raw, contentType))),
        };
      case 'watch':
        throw errors.methodNotAllowed();
    }
  }
}
