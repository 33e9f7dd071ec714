import type { Request } from 'express';
import getRawBody from 'raw-body';
import { InvalidRequestException, parseJsonText } from '@apprunner/core';

/**
 * Body limits per door. No global body parser runs: each door authenticates on headers first, then reads at most
 * `maxBytes` (413 past it, before anything is parsed) and parses JSON no deeper than `maxDepth`.
 * - aws, rest: App Runner's inputs (at most 6 levels deep; 1 MiB holds far more environment variables than a service needs)
 * - admin: tenants, quotas, networks: small flat documents
 * - registry: notification envelopes of many events
 * - github: GitHub caps webhook payloads at 25 MB, and a push's payload nests a few levels more than App Runner's
 */
export const DOOR_LIMITS = {
  aws: { maxBytes: 1024 * 1024, maxDepth: 16 },
  rest: { maxBytes: 1024 * 1024, maxDepth: 16 },
  admin: { maxBytes: 64 * 1024, maxDepth: 8 },
  registry: { maxBytes: 4 * 1024 * 1024, maxDepth: 16 },
  github: { maxBytes: 25 * 1024 * 1024, maxDepth: 32 },
} as const;
export type Door = keyof typeof DOOR_LIMITS;

/** The media types each door parses as JSON; a body of any other type is refused with 415. */
export const JSON_MEDIA_TYPES: Readonly<Record<Door, readonly string[]>> = {
  aws: ['application/x-amz-json-1.0', 'application/x-amz-json-1.1', 'application/json'],
  rest: ['application/json'],
  admin: ['application/json'],
  registry: ['application/vnd.docker.distribution.events.v1+json', 'application/json'],
  github: ['application/json'],
};

/** The media type of a request, lower case without parameters ('' when absent). */
export function mediaType(req: Request): string {
  return (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
}

/** The request's bytes, at most `maxBytes` (read once; later calls get the same buffer). */
export async function readRawBody(req: Request, maxBytes: number): Promise<Buffer> {
  if (req.rawBody) return req.rawBody;
  const encoding = (req.headers['content-encoding'] ?? 'identity').toString().trim().toLowerCase();
  if (encoding !== 'identity' && encoding !== '') {
    throw new InvalidRequestException(`Content-Encoding ${encoding} is not supported.`, { transportStatus: 415 });
  }
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) throw tooLarge(maxBytes);
  try {
    req.rawBody = await getRawBody(req, { limit: maxBytes, length: declared });
  } catch (e) {
    const type = (e as { type?: string }).type;
    if (type === 'entity.too.large') throw tooLarge(maxBytes);
    throw new InvalidRequestException(
      type === 'request.size.invalid'
        ? 'The request body is shorter or longer than its Content-Length.'
        : 'The request body could not be read.',
    );
  }
  return req.rawBody;
}

/** UTF-8 text of a body, refusing invalid byte sequences (a replacement character would change what was signed). */
export function decodeUtf8(raw: Buffer, what = 'The request body'): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw new InvalidRequestException(`${what} is not valid UTF-8.`);
  }
}

/**
 * A JSON body of one of `types` (default: the door's), within the door's limits; undefined when the body is empty.
 * Call it only after the caller is authenticated.
 */
export async function readJsonBody(req: Request, door: Door, types: readonly string[] = JSON_MEDIA_TYPES[door]): Promise<unknown> {
  const { maxBytes, maxDepth } = DOOR_LIMITS[door];
  const raw = await readRawBody(req, maxBytes);
  if (raw.length === 0) return undefined;
  checkMediaType(req, types);
  return parseJsonText(decodeUtf8(raw), maxDepth);
}

export function checkMediaType(req: Request, types: readonly string[]): void {
  const type = mediaType(req);
  if (!types.includes(type)) {
    throw new InvalidRequestException(`Content-Type ${type || '(none)'} is not supported here; send ${types.join(' or ')}.`, {
      transportStatus: 415,
    });
  }
}

function tooLarge(maxBytes: number): InvalidRequestException {
  return new InvalidRequestException(`The request body is larger than ${maxBytes} bytes.`, { transportStatus: 413 });
}
