import { createHash, randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_MIGRATIONS_DIR,
  DEFAULT_SCHEMA_PATH,
  createMigration,
  deployMigrations,
  migrationStatus,
  pendingSchemaChanges,
} from '../../libs/persistence/src/migrate/migrator';

const connectionString = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';

describe('migrator (Prisma schema engine, WebAssembly)', () => {
  const schema = `mig_spec_${randomBytes(4).toString('hex')}`;
  const work = mkdtempSync(join(tmpdir(), 'migrator-'));
  const client = new pg.Client({ connectionString });

  beforeAll(async () => {
    await client.connect();
  });
  afterAll(async () => {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    const leftovers = await client.query(`SELECT nspname FROM pg_namespace WHERE nspname LIKE '_prisma_shadow_%'`);
    await client.end();
    rmSync(work, { recursive: true, force: true });
    expect(leftovers.rows).toEqual([]);
  });

  // Other test files create their own schemas concurrently; `public` (the search_path default) is the one to watch.
  const tablesOutside = async () =>
    (await client.query(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`)).rows.map(
      (r) => r.t,
    );

  it('applies the checked-in migrations into a schema and records them as prisma migrate deploy does', async () => {
    const before = await tablesOutside();
    const applied = await deployMigrations({ connectionString, schema, quiet: true });
    const dirs = readdirSync(DEFAULT_MIGRATIONS_DIR, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    expect(applied).toEqual(dirs);

    const rows = await client.query(
      `SELECT migration_name, checksum, finished_at, applied_steps_count FROM "${schema}"._prisma_migrations ORDER BY migration_name`,
    );
    expect(rows.rows.map((r) => r.migration_name)).toEqual(dirs);
    for (const row of rows.rows) {
      const sql = readFileSync(join(DEFAULT_MIGRATIONS_DIR, row.migration_name, 'migration.sql'));
      expect(row.checksum).toBe(createHash('sha256').update(sql).digest('hex'));
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.applied_steps_count).toBe(1);
    }
    const tables = await client.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1`, [schema]);
    expect(tables.rows.map((r) => r.table_name)).toEqual(expect.arrayContaining(['Tenant', 'Service', 'Operation', 'AuditRecord']));
    // nothing landed in public through a search_path that was not set
    expect(await tablesOutside()).toEqual(before);

    expect(await deployMigrations({ connectionString, schema, quiet: true })).toEqual([]);
    const status = await migrationStatus({ connectionString, schema });
    expect(status).toMatchObject({ applied: dirs, pending: [], failed: [], edited: [] });
  });

  it('finds no drift between schema.prisma and the checked-in migrations', async () => {
    expect(await pendingSchemaChanges({ connectionString })).toBe('');
  });

  it('creates a migration for a schema change, which then deploys, and reports edited and pending migrations', async () => {
    const migrationsDir = join(work, 'migrations');
    cpSync(DEFAULT_MIGRATIONS_DIR, migrationsDir, { recursive: true });
    const schemaPath = join(work, 'schema.prisma');
    writeFileSync(
      schemaPath,
      `${readFileSync(DEFAULT_SCHEMA_PATH, 'utf8')}\nmodel MigratorProbe {\n  id   Int    @id\n  note String @default("")\n}\n`,
    );

    const sql = await pendingSchemaChanges({ connectionString, migrationsDir, schemaPath });
    expect(sql).toContain('CREATE TABLE "MigratorProbe"');
    expect(sql).not.toContain('_prisma_shadow_');

    const name = await createMigration({
      connectionString,
      migrationsDir,
      schemaPath,
      name: 'Add probe!',
      now: new Date('2099-01-02T03:04:05Z'),
      quiet: true,
    });
    expect(name).toBe('20990102030405_add_probe');
    expect(readFileSync(join(migrationsDir, name!, 'migration.sql'), 'utf8')).toBe(sql);
    expect(await createMigration({ connectionString, migrationsDir, schemaPath, name: 'again', quiet: true })).toBeUndefined();

    expect((await migrationStatus({ connectionString, schema, migrationsDir, schemaPath })).pending).toEqual([name]);
    expect(await deployMigrations({ connectionString, schema, migrationsDir, schemaPath, quiet: true })).toEqual([name]);
    await client.query(`INSERT INTO "${schema}"."MigratorProbe" (id) VALUES (1)`);

    writeFileSync(join(migrationsDir, name!, 'migration.sql'), `${sql}\n-- edited after it was applied\n`);
    expect((await migrationStatus({ connectionString, schema, migrationsDir, schemaPath })).edited).toEqual([name]);
  });
});
