import { getShape, SHAPE_NAMES } from '@apprunner/api-model';
import type { TestPlatform } from '../support/platform';
import { rawRequest, type RawRequest, type RawResponse } from '../support/raw-http';

/** Every error name a door may answer with: App Runner's modeled errors, plus the AWS-wide protocol and auth errors. */
export const KNOWN_ERRORS: ReadonlySet<string> = new Set([
  ...SHAPE_NAMES.filter((name) => {
    const shape = getShape(name);
    return shape.type === 'structure' && shape.exception === true;
  }),
  'UnknownOperationException',
  'MissingAuthenticationTokenException',
  'IncompleteSignatureException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'AccessDeniedException',
]);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const MAX_ANSWER_MS = 2_000;

/**
 * Counts committed row changes in the test schema with a row trigger on every table, except AuditRecord: refused
 * mutating calls are audited on purpose (as CloudTrail records failed calls). The counter is updated inside the
 * writing transaction, so a rolled-back attempt leaves it unchanged.
 */
export async function installWriteCounter(platform: TestPlatform): Promise<WriteCounter> {
  const schema = platform.config.DATABASE_SCHEMA;
  const q = (sql: string) => platform.prisma.$executeRawUnsafe(sql);
  await q(`CREATE TABLE "${schema}"."_robustness_writes" (id bigserial PRIMARY KEY, tbl text NOT NULL, op text NOT NULL)`);
  await q(
    `CREATE FUNCTION "${schema}"."_robustness_note"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO "${schema}"."_robustness_writes" (tbl, op) VALUES (TG_TABLE_NAME, TG_OP); RETURN NULL; END $$`,
  );
  const tables = await platform.prisma.$queryRawUnsafe<{ table_name: string }[]>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE'`,
    schema,
  );
  const counted = tables.map((t) => t.table_name).filter((t) => !['AuditRecord', '_prisma_migrations', '_robustness_writes'].includes(t));
  for (const table of counted) {
    await q(
      `CREATE TRIGGER "_robustness_${table}" AFTER INSERT OR UPDATE OR DELETE ON "${schema}"."${table}" FOR EACH ROW EXECUTE FUNCTION "${schema}"."_robustness_note"()`,
    );
  }
  return {
    mark: async () =>
      Number(
        (await platform.prisma.$queryRawUnsafe<{ n: bigint | null }[]>(`SELECT max(id) AS n FROM "${schema}"."_robustness_writes"`))[0].n ??
          0,
      ),
    since: async (mark) =>
      (
        await platform.prisma.$queryRawUnsafe<{ tbl: string; op: string }[]>(
          `SELECT tbl, op FROM "${schema}"."_robustness_writes" WHERE id > $1 ORDER BY id`,
          mark,
        )
      ).map((r) => `${r.op} ${r.tbl}`),
  };
}

/** Committed row changes: `mark()` is a position, `since(mark)` the changes after it (as "INSERT Service"). */
export interface WriteCounter {
  mark(): Promise<number>;
  since(mark: number): Promise<string[]>;
}

export type Door = 'aws' | 'rest' | 'admin' | 'github' | 'registry';

export interface Tally {
  requests: number;
  byStatus: Record<string, number>;
  /** Error answers by App Runner error name: how deep the requests reached (validation, lookup, state, quota). */
  byError: Record<string, number>;
  violations: string[];
  slowestMs: number;
}

export function newTally(): Tally {
  return { requests: 0, byStatus: {}, byError: {}, violations: [], slowestMs: 0 };
}

/** An AWS-door request (as the API tells them apart): X-Amz-Target present, or POST to `/`. Its errors are AWS JSON. */
function awsShaped(req: RawRequest): boolean {
  const headers = Object.keys(req.headers ?? {}).map((h) => h.toLowerCase());
  return headers.includes('x-amz-target') || ((req.method ?? 'POST') === 'POST' && req.path.split('?')[0] === '/');
}

/** What an answer must be, whatever was asked. Returns the broken invariants (empty: none). */
export function checkAnswer(req: RawRequest, res: RawResponse, wrote: string[]): string[] {
  const broken: string[] = [];
  const aws = awsShaped(req);
  if (res.status >= 500) broken.push(`status ${res.status}`);
  if (res.ms > MAX_ANSWER_MS) broken.push(`answered in ${Math.round(res.ms)} ms`);
  const requestId = res.headers['x-amzn-requestid'];
  if (typeof requestId !== 'string' || !UUID.test(requestId)) broken.push('no x-amzn-RequestId');
  // Node's parser refuses over-long headers before the door is known: that answer carries both shapes' members.
  const parserAnswer = res.status === 431;
  if (!aws && !parserAnswer && res.headers['x-request-id'] !== requestId) broken.push('no x-request-id');
  if (res.status >= 400) {
    if (wrote.length > 0) broken.push(`an error answer, but rows changed: ${wrote.join(', ')}`);
    if (req.method === 'HEAD') return broken;
    const body = res.json as Record<string, unknown> | undefined;
    const type = aws || parserAnswer ? body?.__type : body?.code;
    if (typeof type !== 'string' || !KNOWN_ERRORS.has(type)) broken.push(`error type ${JSON.stringify(type)} is not an App Runner error`);
    const message = aws || parserAnswer ? body?.Message : body?.message;
    if (typeof message !== 'string' || message.length === 0) broken.push('error without a message');
    if ((aws || parserAnswer) && res.headers['x-amzn-errortype'] !== type)
      broken.push(`x-amzn-ErrorType ${String(res.headers['x-amzn-errortype'])} ≠ __type ${String(type)}`);
    if (!aws && !parserAnswer && body?.requestId !== requestId) broken.push('REST error body without its requestId');
  } else if (res.status >= 200 && res.status < 300 && res.status !== 204 && req.method !== 'HEAD') {
    const type = String(res.headers['content-type'] ?? '');
    if (type.includes('json') && (res.json === undefined || typeof res.json !== 'object'))
      broken.push('2xx JSON answer that is not a JSON document');
  }
  return broken;
}

/** Sends one request and checks it: counts, statuses and violations go into `tally`. Resolves to the status (0: none). */
export async function probe(platform: TestPlatform, writes: WriteCounter, tally: Tally, door: Door, req: RawRequest): Promise<number> {
  const before = await writes.mark();
  let res: RawResponse;
  try {
    res = await rawRequest(platform.url, req);
  } catch (e) {
    tally.requests++;
    tally.violations.push(`${door} ${describe(req)}: no answer (${(e as Error).message})`);
    return 0;
  }
  const wrote = res.status >= 400 ? await writes.since(before) : [];
  tally.requests++;
  tally.byStatus[res.status] = (tally.byStatus[res.status] ?? 0) + 1;
  tally.slowestMs = Math.max(tally.slowestMs, res.ms);
  const error =
    (res.json as { __type?: unknown; code?: unknown } | undefined)?.__type ?? (res.json as { code?: unknown } | undefined)?.code;
  if (res.status >= 400 && typeof error === 'string') tally.byError[error] = (tally.byError[error] ?? 0) + 1;
  const broken = checkAnswer(req, res, wrote);
  if (broken.length > 0) tally.violations.push(`${door} ${describe(req)} → ${res.status} ${res.text.slice(0, 200)}: ${broken.join('; ')}`);
  return res.status;
}

function describe(req: RawRequest): string {
  const body = req.body === undefined ? '' : Buffer.isBuffer(req.body) ? req.body.toString('utf8') : req.body;
  const headers = Object.entries(req.headers ?? {})
    .filter(([k]) => !['authorization', 'x-amz-date', 'x-amz-content-sha256', 'host', 'x-hub-signature-256'].includes(k.toLowerCase()))
    .map(([k, v]) => `${k}: ${String(v).slice(0, 60)}`)
    .join(', ');
  return `${req.method ?? 'POST'} ${req.path.slice(0, 200)} [${headers}] ${body.length > 300 ? `${body.slice(0, 300)}… (${body.length} chars)` : body}`;
}
