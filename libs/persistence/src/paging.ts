/**
 * Keyset pages: a list reads the rows after the last one its caller returned (App Runner's NextToken carries that
 * row's sort key) and, with `take`, one more than a page to tell whether another follows (@apprunner/core `page`).
 */
export interface Page<Cursor> {
  after?: Cursor;
  take?: number;
}

/** The sort key of lists in creation order. */
export interface CreatedCursor {
  createdAt: Date;
  id: string;
}

/** The sort key of revisioned resources: by name, then revision. */
export interface RevisionCursor {
  name: string;
  revision: number;
}

/** Rows after `after` in (createdAt, id) order. */
export function createdAfter(after: CreatedCursor | undefined) {
  if (!after) return {};
  return { OR: [{ createdAt: { gt: after.createdAt } }, { createdAt: after.createdAt, id: { gt: after.id } }] };
}

/** Rows after `after` in descending (createdAt, id) order (newest first). */
export function createdBefore(after: CreatedCursor | undefined) {
  if (!after) return {};
  return { OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }] };
}

export function revisionAfter(after: RevisionCursor | undefined) {
  if (!after) return {};
  return { OR: [{ name: { gt: after.name } }, { name: after.name, revision: { gt: after.revision } }] };
}

/** The query of a page of active revisions by (name, revision), of `name` only and among `revisions` only when given. */
export function activeRevisionsPage(tenantId: string, filter: { name?: string; revisions?: RevisionCursor[] }, page: Page<RevisionCursor>) {
  return {
    where: {
      tenantId,
      status: 'ACTIVE',
      ...(filter.name ? { name: filter.name } : {}),
      ...(filter.revisions ? { OR: filter.revisions } : {}),
      ...(page.after ? { AND: [revisionAfter(page.after)] } : {}),
    },
    orderBy: [{ name: 'asc' as const }, { revision: 'asc' as const }],
    take: page.take,
  };
}

/** The query of the latest active revision of each name (of `name` alone when given), as a groupBy. */
export function latestActiveRevisions(tenantId: string, name?: string) {
  return { by: ['name' as const], where: { tenantId, status: 'ACTIVE', ...(name ? { name } : {}) }, _max: { revision: true as const } };
}

/** A revision of a revisioned resource, as its ARN names it: the latest active one of a name when no revision. */
export interface RevisionLookup {
  name: string;
  revision?: number;
  /** The full ARN, when it carries the resource id (then the revision must be that very resource). */
  arn?: string;
  includeInactive: boolean;
}

export function revisionWhere(tenantId: string, lookup: RevisionLookup) {
  return {
    tenantId,
    name: lookup.name,
    ...(lookup.revision !== undefined ? { revision: lookup.revision } : { status: 'ACTIVE' }),
    ...(lookup.arn !== undefined ? { arn: lookup.arn } : {}),
    ...(lookup.includeInactive ? {} : { status: 'ACTIVE' }),
  };
}
