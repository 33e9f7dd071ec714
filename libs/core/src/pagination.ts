import { InvalidRequestException } from './errors';

/**
 * NextToken is an opaque keyset cursor: the sort key of the last item returned, base64url-encoded.
 * It carries no tenant information; every list query is already scoped to the caller's tenant.
 */
export function encodeNextToken(key: (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** What each position of a NextToken's key holds; a token whose key does not fit is the caller's error, never a query. */
export type TokenKeyPart = 'string' | 'revision' | 'timestamp' | 'uuid';
const TOKEN_PARTS: Record<TokenKeyPart, (k: unknown) => boolean> = {
  string: (k) => typeof k === 'string' && k.length <= 1024,
  revision: (k) => typeof k === 'number' && Number.isSafeInteger(k) && k >= 0,
  timestamp: (k) => typeof k === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(k) && !Number.isNaN(Date.parse(k)),
  uuid: (k) => typeof k === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(k),
};

export function decodeNextToken(token: string | undefined, parts: readonly TokenKeyPart[]): (string | number)[] | undefined {
  if (token === undefined) return undefined;
  try {
    const key: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (Array.isArray(key) && key.length === parts.length && key.every((k, i) => TOKEN_PARTS[parts[i]](k))) {
      return key as (string | number)[];
    }
  } catch {
    // fall through: a malformed token is the caller's error
  }
  throw new InvalidRequestException('The specified NextToken is not valid.');
}

/**
 * Rows to fetch for a page: one more than asked, to learn whether a next page exists. Without MaxResults App Runner
 * "retrieves all available results in a single response" (every List action's documentation), so: no limit.
 */
export function pageTake(maxResults: number | undefined): number | undefined {
  return maxResults === undefined ? undefined : maxResults + 1;
}

/** The page of `rows` (fetched with pageTake) and the NextToken when more remain. */
export function page<T>(
  rows: T[],
  maxResults: number | undefined,
  keyOf: (row: T) => (string | number)[],
): { items: T[]; nextToken?: string } {
  if (maxResults === undefined || rows.length <= maxResults) return { items: rows };
  const items = rows.slice(0, maxResults);
  return { items, nextToken: encodeNextToken(keyOf(items[items.length - 1])) };
}
