import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { Agent, request } from 'node:http';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The body as JSON, or undefined when it is not JSON. */
  json: any;
  ms: number;
}

export interface RawRequest {
  method?: string;
  /** Sent exactly as given (no normalisation of `//`, `..` or encodings). */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

const agent = new Agent({ keepAlive: true, maxSockets: 4 });

function toBuffer(data: ArrayBuffer | ArrayBufferView): Buffer {
  return ArrayBuffer.isView(data) ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(data);
}

/** SHA-256 (or its HMAC) for the signer from node:crypto: the pure-JS one costs ~100 ms per signed megabyte. */
class NodeSha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    if (this.secret === undefined) return createHash('sha256');
    return createHmac('sha256', typeof this.secret === 'string' ? this.secret : toBuffer(this.secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(typeof data === 'string' ? data : toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.hash.digest();
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

/** One HTTP request with nothing normalised or refused on the client side, for hostile inputs. */
export function rawRequest(baseUrl: string, req: RawRequest): Promise<RawResponse> {
  const url = new URL(baseUrl);
  const started = performance.now();
  const body = req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body, 'utf8');
  return new Promise((resolve, reject) => {
    const r = request(
      {
        host: url.hostname,
        port: url.port,
        method: req.method ?? 'POST',
        path: req.path,
        agent,
        headers: { ...(body ? { 'content-length': String(body.length) } : {}), ...req.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json, ms: performance.now() - started });
        });
      },
    );
    // The server may answer (413, 431, 401) and close before the whole body is written: that answer is the result.
    r.on('error', reject);
    if (body) r.end(body);
    else r.end();
  });
}

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** SigV4-signs a request for the AWS door as the SDK does (service apprunner, us-east-1), over the exact body bytes. */
export async function signAws(baseUrl: string, credentials: AwsCredentials, req: RawRequest): Promise<RawRequest> {
  const url = new URL(baseUrl);
  const [path, query] = req.path.split('?');
  const signer = new SignatureV4({ service: 'apprunner', region: 'us-east-1', credentials, sha256: NodeSha256, uriEscapePath: true });
  const signed = await signer.sign(
    new HttpRequest({
      method: req.method ?? 'POST',
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path,
      query: query ? Object.fromEntries(new URLSearchParams(query)) : undefined,
      headers: { host: url.host, ...req.headers },
      body: req.body,
    }),
  );
  return { ...req, headers: signed.headers };
}

/** An AWS JSON 1.0 call of `AppRunner.<action>`, signed. */
export async function awsCall(
  baseUrl: string,
  credentials: AwsCredentials,
  action: string,
  body: string | Buffer = '{}',
  headers: Record<string, string> = {},
) {
  return rawRequest(
    baseUrl,
    await signAws(baseUrl, credentials, {
      path: '/',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `AppRunner.${action}`, ...headers },
      body,
    }),
  );
}
