import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { AuthenticationError } from '@apprunner/core';

/**
 * Verification of AWS Signature Version 4 (header auth, and presigned query auth) for incoming requests,
 * reproducing the canonicalisation of AWS's own signers for non-S3 services (@smithy/signature-v4, botocore).
 * Neither the secret nor any signature ever appears in an error message.
 */

export interface SigV4Request {
  method: string;
  /** Raw path as received on the wire (still percent-encoded), without the query string. */
  path: string;
  /** Parsed query (decoded keys and values; arrays for repeated keys). */
  query: Record<string, string | string[] | undefined>;
  /** Request headers (Node lower-cases them; other casings are accepted). */
  headers: Record<string, string | string[] | undefined>;
  /** The body, or how to read it: called only once the headers authenticate (scope, date and a known key). */
  body: Buffer | (() => Promise<Buffer>);
}

export interface SigV4Options {
  region: string;
  service: string;
  now: Date;
  /** Allowed clock skew between X-Amz-Date and now; 15 minutes unless given. */
  maxSkewMs?: number;
  lookupSecret(accessKeyId: string): Promise<string | undefined>;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
const TERMINATOR = 'aws4_request';
const DEFAULT_MAX_SKEW_MS = 15 * 60_000;
const MAX_PRESIGNED_TTL_SECONDS = 7 * 24 * 60 * 60;
const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. ' +
  'Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';
const INVALID_TOKEN = 'The security token included in the request is invalid.';

interface Credentials {
  accessKeyId: string;
  /** Credential scope: date, region, service and terminator. */
  shortDate: string;
  region: string;
  service: string;
  terminator: string;
}

interface AuthParams {
  presigned: boolean;
  credential: string;
  signedHeaders: string;
  signature: string;
  /** Signing time as yyyymmddThhmmssZ, and its Date. */
  longDate: string;
  time: Date;
  /** The header that carried the date (header auth only). */
  dateHeader?: 'x-amz-date' | 'date';
  /** X-Amz-Expires of a presigned request, in seconds. */
  expiresSeconds?: number;
}

function incomplete(message: string): AuthenticationError {
  return new AuthenticationError('IncompleteSignatureException', message);
}

function invalid(message: string): AuthenticationError {
  return new AuthenticationError('InvalidSignatureException', message);
}

/** Verifies the SigV4 signature of a request; resolves to the access key id and signed headers, or throws AuthenticationError. */
export async function verifySigV4(req: SigV4Request, opts: SigV4Options): Promise<{ accessKeyId: string; signedHeaders: string[] }> {
  const headers = normalizeHeaders(req.headers);
  const params = readAuthParams(req, headers);
  const maxSkewMs = opts.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;

  const credentials = parseCredential(params.credential);
  if (credentials.terminator !== TERMINATOR) throw invalid(`Credential should be scoped with a valid terminator: '${TERMINATOR}'.`);
  if (credentials.region !== opts.region) throw invalid('Credential should be scoped to a valid region.');
  if (credentials.service !== opts.service) throw invalid(`Credential should be scoped to correct service: '${opts.service}'.`);
  if (credentials.shortDate !== params.longDate.slice(0, 8)) {
    throw invalid(
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: expected '${params.longDate.slice(0, 8)}', from '${params.longDate}'.`,
    );
  }

  const signedHeaders = params.signedHeaders.split(';').map((name) => name.trim().toLowerCase());
  if (signedHeaders.some((name) => name === '')) throw incomplete("'SignedHeaders' must be a ';'-separated list of header names.");
  if (!signedHeaders.includes('host')) throw invalid("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  if (params.dateHeader === 'x-amz-date' && !signedHeaders.includes('x-amz-date')) {
    throw invalid("'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.");
  }
  if (params.dateHeader === 'date' && !signedHeaders.includes('date'))
    throw invalid("'Date' must be a 'SignedHeader' in the AWS Authorization.");

  checkTime(params, opts.now, maxSkewMs);

  const secret = /^[A-Za-z0-9_-]{1,128}$/.test(credentials.accessKeyId) ? await opts.lookupSecret(credentials.accessKeyId) : undefined;
  if (secret === undefined) throw new AuthenticationError('UnrecognizedClientException', INVALID_TOKEN);

  // The payload hash is always the hash of the body actually received: a declared x-amz-content-sha256 must
  // agree with it, otherwise a valid signature over the declared hash would authenticate a different body.
  const body = typeof req.body === 'function' ? await req.body() : req.body;
  const payloadHash = createHash('sha256').update(body).digest('hex');
  const declared = headers.get('x-amz-content-sha256');
  if (declared !== undefined && declared !== UNSIGNED_PAYLOAD && declared.trim().toLowerCase() !== payloadHash) {
    throw invalid("The provided 'x-amz-content-sha256' header does not match what was computed.");
  }

  const canonicalRequest = [
    req.method,
    canonicalPath(req.path),
    canonicalQuery(req.query),
    ...signedHeaders.map((name) => `${name}:${canonicalHeaderValue(headers.get(name))}`),
    '',
    signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
  const scope = `${credentials.shortDate}/${credentials.region}/${credentials.service}/${credentials.terminator}`;
  const stringToSign = [ALGORITHM, params.longDate, scope, sha256Hex(canonicalRequest)].join('\n');

  let key = hmac(`AWS4${secret}`, credentials.shortDate);
  for (const part of [credentials.region, credentials.service, credentials.terminator]) key = hmac(key, part);
  const expected = Buffer.from(hmac(key, stringToSign).toString('hex'), 'utf8');
  const provided = Buffer.from(params.signature, 'utf8');
  if (expected.length !== provided.length || !timingSafeEqual(expected, provided)) throw invalid(SIGNATURE_MISMATCH);

  return { accessKeyId: credentials.accessKeyId, signedHeaders };
}

/** Lower-cased header names; repeated headers (arrays, or several casings) joined with ','. */
function normalizeHeaders(raw: SigV4Request['headers']): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, value] of Object.entries(raw ?? {})) {
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(',') : String(value);
    const key = name.toLowerCase();
    const previous = out.get(key);
    out.set(key, previous === undefined ? text : `${previous},${text}`);
  }
  return out;
}

/** The authentication parameters, from the Authorization header or from a presigned URL's query. */
function readAuthParams(req: SigV4Request, headers: Map<string, string>): AuthParams {
  const authorization = headers.get('authorization')?.trim();
  const queryAlgorithm = req.query?.['X-Amz-Algorithm'];
  if (authorization) {
    if (queryAlgorithm !== undefined) {
      throw incomplete("Only one authentication mechanism is allowed: the Authorization header or the 'X-Amz-Algorithm' query parameter.");
    }
    return readHeaderAuth(authorization, headers);
  }
  if (queryAlgorithm !== undefined) return readQueryAuth(req.query);
  throw new AuthenticationError('MissingAuthenticationTokenException', 'Missing Authentication Token');
}

function readHeaderAuth(authorization: string, headers: Map<string, string>): AuthParams {
  const space = authorization.indexOf(' ');
  const algorithm = space < 0 ? authorization : authorization.slice(0, space);
  const fields = new Map<string, string>();
  const duplicates = new Set<string>();
  for (const part of (space < 0 ? '' : authorization.slice(space + 1)).split(/[\s,]+/)) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq);
    if (fields.has(name)) duplicates.add(name);
    fields.set(name, part.slice(eq + 1));
  }

  const problems: string[] = [];
  for (const name of ['Credential', 'Signature', 'SignedHeaders']) {
    if (!fields.get(name)) problems.push(`Authorization header requires '${name}' parameter.`);
    else if (duplicates.has(name)) problems.push(`Authorization header has more than one '${name}' parameter.`);
  }
  const amzDate = headers.get('x-amz-date');
  const date = headers.get('date');
  if (amzDate === undefined && date === undefined) {
    problems.push("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  }
  if (problems.length > 0) throw incomplete(problems.join(' '));
  if (algorithm !== ALGORITHM) throw incomplete(`Unsupported authorization algorithm: only '${ALGORITHM}' is supported.`);

  let time: Date | undefined;
  if (amzDate !== undefined) time = parseBasicDate(amzDate);
  else if (date !== undefined) time = parseBasicDate(date) ?? parseHttpDate(date);
  if (!time) throw incomplete("Date must be in ISO-8601 'basic format' (yyyyMMdd'T'HHmmss'Z'). See http://en.wikipedia.org/wiki/ISO_8601");

  return {
    presigned: false,
    credential: fields.get('Credential') as string,
    signedHeaders: fields.get('SignedHeaders') as string,
    signature: fields.get('Signature') as string,
    longDate: formatBasicDate(time),
    time,
    dateHeader: amzDate !== undefined ? 'x-amz-date' : 'date',
  };
}

function readQueryAuth(query: SigV4Request['query']): AuthParams {
  const single = (name: string): string | undefined => {
    const value = query[name];
    if (Array.isArray(value)) throw incomplete(`Query parameter '${name}' must be given only once.`);
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  const algorithm = single('X-Amz-Algorithm');
  const problems: string[] = [];
  const values: Record<string, string | undefined> = {};
  for (const name of ['X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-SignedHeaders', 'X-Amz-Date', 'X-Amz-Expires']) {
    values[name] = single(name);
    if (values[name] === undefined) problems.push(`AWS query-string parameters must include '${name}'.`);
  }
  if (problems.length > 0) throw incomplete(problems.join(' '));
  if (algorithm !== ALGORITHM) throw incomplete(`Unsupported 'X-Amz-Algorithm': only '${ALGORITHM}' is supported.`);

  const time = parseBasicDate(values['X-Amz-Date'] as string);
  if (!time)
    throw incomplete("X-Amz-Date must be in ISO-8601 'basic format' (yyyyMMdd'T'HHmmss'Z'). See http://en.wikipedia.org/wiki/ISO_8601");
  const expires = values['X-Amz-Expires'] as string;
  const expiresSeconds = /^\d{1,7}$/.test(expires) ? Number(expires) : NaN;
  if (!(expiresSeconds >= 1 && expiresSeconds <= MAX_PRESIGNED_TTL_SECONDS)) {
    throw incomplete(`X-Amz-Expires must be a number of seconds from 1 to ${MAX_PRESIGNED_TTL_SECONDS}.`);
  }
  return {
    presigned: true,
    credential: values['X-Amz-Credential'] as string,
    signedHeaders: values['X-Amz-SignedHeaders'] as string,
    signature: values['X-Amz-Signature'] as string,
    longDate: formatBasicDate(time),
    time,
    expiresSeconds,
  };
}

function parseCredential(credential: string): Credentials {
  const parts = credential.split('/');
  if (parts.length !== 5) {
    throw incomplete('Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term.');
  }
  const [accessKeyId, shortDate, region, service, terminator] = parts;
  return { accessKeyId, shortDate, region, service, terminator };
}

function checkTime(params: AuthParams, now: Date, maxSkewMs: number): void {
  const nowMs = now.getTime();
  const signedMs = params.time.getTime();
  const minutes = `${Number((maxSkewMs / 60_000).toFixed(2))} min.`;
  if (signedMs > nowMs + maxSkewMs) {
    throw invalid(
      `Signature not yet current: ${params.longDate} is still later than ${formatBasicDate(new Date(nowMs + maxSkewMs))} (${formatBasicDate(now)} + ${minutes})`,
    );
  }
  if (params.presigned) {
    const ttlMs = (params.expiresSeconds ?? 0) * 1000;
    if (signedMs < nowMs - ttlMs) {
      throw invalid(
        `Signature expired: ${params.longDate} is now earlier than ${formatBasicDate(new Date(nowMs - ttlMs))} (${formatBasicDate(now)} - ${params.expiresSeconds} sec.)`,
      );
    }
  } else if (signedMs < nowMs - maxSkewMs) {
    throw invalid(
      `Signature expired: ${params.longDate} is now earlier than ${formatBasicDate(new Date(nowMs - maxSkewMs))} (${formatBasicDate(now)} - ${minutes})`,
    );
  }
}

const BASIC_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

function parseBasicDate(value: string): Date | undefined {
  const m = BASIC_DATE.exec(value.trim());
  if (!m) return undefined;
  const time = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
  return formatBasicDate(time) === value.trim() ? time : undefined;
}

/** An RFC 7231 HTTP-date, e.g. "Tue, 27 Mar 2007 19:36:42 GMT". */
function parseHttpDate(value: string): Date | undefined {
  if (!/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} (GMT|UTC|[+-]0000)$/.test(value.trim())) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

function formatBasicDate(time: Date): string {
  return time
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
}

/**
 * RFC 3986 encoding as AWS's signers do it: every byte outside the unreserved set
 * [A-Za-z0-9-._~] becomes %XX (upper-case hex).
 */
function uriEncode(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const unreserved =
      (byte >= 0x41 && byte <= 0x5a) ||
      (byte >= 0x61 && byte <= 0x7a) ||
      (byte >= 0x30 && byte <= 0x39) ||
      byte === 0x2d ||
      byte === 0x2e ||
      byte === 0x5f ||
      byte === 0x7e;
    out += unreserved ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * The canonical URI of a non-S3 service, from the path as it arrived on the wire (already percent-encoded once):
 * empty and '.' segments dropped, '..' resolved, then every segment encoded again (so '%20' becomes '%2520'),
 * exactly as @smithy/signature-v4 (uriEscapePath) and botocore do with the path they send.
 */
export function canonicalPath(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  if (segments.length === 0) return '/';
  const trailing = path.endsWith('/') ? '/' : '';
  return `${path.startsWith('/') ? '/' : ''}${segments.map(uriEncode).join('/')}${trailing}`;
}

/** Sorted by encoded name, then by encoded value; X-Amz-Signature left out. */
export function canonicalQuery(query: SigV4Request['query']): string {
  const pairs: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(query ?? {})) {
    if (name.toLowerCase() === 'x-amz-signature') continue;
    const values =
      typeof value === 'string' ? [value] : Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
    const encodedName = uriEncode(name);
    for (const v of values) pairs.push([encodedName, uriEncode(v)]);
  }
  pairs.sort(([an, av], [bn, bv]) => (an < bn ? -1 : an > bn ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([n, v]) => `${n}=${v}`).join('&');
}

function canonicalHeaderValue(value: string | undefined): string {
  return (value ?? '')
    .replace(/[\r\n]/g, ' ')
    .replace(/[ \t]+/g, ' ')
    .replace(/^ | $/g, '');
}

function sha256Hex(data: string): string {
  return createHash('sha256').update(data, 'utf8').digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}
