import { Client } from 'pg';

const TERMINAL = ['SUCCEEDED', 'FAILED', 'ROLLBACK_SUCCEEDED', 'ROLLBACK_FAILED'];

/**
 * A record of every write that ends an operation, kept by PostgreSQL itself (a trigger in the test's schema), whoever
 * wrote it: an operation ended twice shows as two rows, however the writers interleaved or died afterwards.
 */
export interface OperationLedger {
  /** How many times each operation was ended (a write setting a terminal status). */
  ends(): Promise<Map<string, number>>;
  close(): Promise<void>;
}

/** One connection per use: the ledger outlives PostgreSQL restarts (the fault suite restarts its own). */
async function withClient<T>(connectionString: string, use: (pg: Client) => Promise<T>): Promise<T> {
  const pg = new Client({ connectionString });
  pg.on('error', () => undefined);
  await pg.connect();
  try {
    return await use(pg);
  } finally {
    await pg.end().catch(() => undefined);
  }
}

export async function operationLedger(connectionString: string, schema: string): Promise<OperationLedger> {
  const s = `"${schema}"`;
  await withClient(connectionString, (pg) =>
    pg.query(`
    CREATE TABLE IF NOT EXISTS ${s}.test_operation_ends (operation_id uuid NOT NULL, from_status text, to_status text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());
    CREATE OR REPLACE FUNCTION ${s}.test_record_operation_end() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO ${s}.test_operation_ends (operation_id, from_status, to_status) VALUES (NEW.id, OLD.status, NEW.status);
      RETURN NEW;
    END $$;
    DROP TRIGGER IF EXISTS test_operation_end ON ${s}."Operation";
    CREATE TRIGGER test_operation_end AFTER UPDATE ON ${s}."Operation" FOR EACH ROW
      WHEN (NEW.status IN (${TERMINAL.map((t) => `'${t}'`).join(', ')}))
      EXECUTE FUNCTION ${s}.test_record_operation_end();
  `),
  );
  return {
    ends: () =>
      withClient(connectionString, async (pg) => {
        const r = await pg.query(`SELECT operation_id::text AS id, count(*)::int AS n FROM ${s}.test_operation_ends GROUP BY 1`);
        return new Map(r.rows.map((row: { id: string; n: number }) => [row.id, row.n]));
      }),
    close: async () => undefined,
  };
}
