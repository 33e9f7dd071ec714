import { InvalidRequestException } from './errors';

/**
 * NextToken is an opaque keyset cursor: the sort key of the last item returned, base64url-encoded.
 * It carries no tenant information; every list query is already scoped to the caller's tenant.
 */
export function encodeNextToken(key: (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeNextToken(token: string | undefined, arity: number): (string | number)[] | undefined {
  if (token === undefined) return undefined;
  try {
    const key: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (Array.isArray(key) && key.length === arity && key.every((k) => typeof k === 'string' || typeof k === 'number')) {
      return key as (string | number)[];
    }
  } catch {
    // fall through: a malformed token is the caller's error
  }
  throw new InvalidRequestException('The specified NextToken is not valid.');
}

/** Fetch one more than asked to learn whether a next page exists. */
export function page<T>(rows: T[], maxResults: number, keyOf: (row: T) => (string | number)[]): { items: T[]; nextToken?: string } {
  if (rows.length <= maxResults) return { items: rows };
  const items = rows.slice(0, maxResults);
  return { items, nextToken: encodeNextToken(keyOf(items[items.length - 1])) };
}
