/* Command line for migrations: deploy | create <name> | status | check. See README, "Migrations". */
import { createMigration, deployMigrations, migrationStatus, pendingSchemaChanges } from './migrator';

const USAGE = 'usage: migrate deploy | create <name> | status | check   (DATABASE_URL, DATABASE_SCHEMA from the environment)';

async function main(argv: string[]): Promise<number> {
  const args = argv.filter((a) => a !== '--');
  const [command, ...rest] = args;
  const connectionString = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
  const schema = process.env.DATABASE_SCHEMA ?? 'public';
  switch (command) {
    case 'deploy':
      await deployMigrations({ connectionString, schema });
      return 0;
    case 'create': {
      const name = rest[0];
      if (!name) {
        console.error(USAGE);
        return 2;
      }
      await createMigration({ connectionString, name });
      return 0;
    }
    case 'status': {
      const status = await migrationStatus({ connectionString, schema });
      console.log(JSON.stringify(status, null, 2));
      return status.pending.length || status.failed.length || status.edited.length ? 1 : 0;
    }
    case 'check': {
      const sql = await pendingSchemaChanges({ connectionString });
      if (sql) {
        console.error(
          'prisma/schema.prisma has changes that no migration captures. Run `npm run db:migrate:create -- <name>`. Missing SQL:\n',
        );
        console.error(sql);
        return 1;
      }
      console.log('[migrate] prisma/schema.prisma and prisma/migrations agree');
      return 0;
    }
    default:
      console.error(USAGE);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
