import { defineConfig } from 'prisma/config';

// The CLI only needs the schema path to generate the client; migrations run through
// libs/persistence/src/migrate (Prisma's schema engine compiled to WebAssembly).
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test' },
});
