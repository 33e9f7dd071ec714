import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import type { SchemaEngine } from '@prisma/schema-engine-wasm';

/**
 * Prisma's schema engine, compiled to WebAssembly (`@prisma/schema-engine-wasm`), talking to PostgreSQL
 * through `@prisma/adapter-pg`. This is the engine `prisma migrate` uses, minus the native binary that
 * cannot be downloaded on our build machines: the SQL it generates, the `_prisma_migrations` rows it
 * writes and the checksums it records are Prisma's own.
 */
type EngineModule = typeof import('@prisma/schema-engine-wasm');

type WasmExports = Record<string, unknown>;
/** Node's WebAssembly global (its types live in lib.dom, which this project does not load). */
const wasmRuntime = (
  globalThis as unknown as {
    WebAssembly: { instantiate(bytes: Buffer, imports: Record<string, object>): Promise<{ instance: { exports: WasmExports } }> };
  }
).WebAssembly;

let loaded: Promise<EngineModule> | undefined;

function loadEngineModule(): Promise<EngineModule> {
  loaded ??= (async () => {
    // The package's entry imports the .wasm file as an ES module, which Node 20 cannot do without a flag;
    // instantiate it by hand with the same glue code.
    const glue = (await import('@prisma/schema-engine-wasm/schema_engine_bg')) as EngineModule & {
      __wbg_set_wasm(exports: WasmExports): void;
    };
    const wasmPath = join(dirname(require.resolve('@prisma/schema-engine-wasm')), 'schema_engine_bg.wasm');
    const { instance } = await wasmRuntime.instantiate(readFileSync(wasmPath), { './schema_engine_bg.js': glue });
    glue.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return glue;
  })();
  return loaded;
}

const PG_CHAR_OID = 18;
const PG_TEXT_OID = 25;

/** The engine introspects catalog columns of PostgreSQL's one-byte `"char"` type, which adapter-pg does not map; read them as text. */
function charAsText<T>(result: T): T {
  for (const r of Array.isArray(result) ? result : [result]) {
    for (const field of (r as { fields?: { dataTypeID: number }[] } | undefined)?.fields ?? []) {
      if (field.dataTypeID === PG_CHAR_OID) field.dataTypeID = PG_TEXT_OID;
    }
  }
  return result;
}

class IntrospectionClient extends pg.Client {
  // pg's query() has many overloads; this wrapper only rewrites result metadata and passes everything through.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override query(config: any, values?: any, callback?: any): any {
    if (typeof values === 'function') {
      callback = values;
      values = undefined;
    }
    if (typeof callback === 'function') {
      return super.query(config, values, (err: Error, res: unknown) => callback(err, err ? res : charAsText(res)));
    }
    const out = super.query(config, values) as unknown;
    return out instanceof Promise ? out.then(charAsText) : out;
  }
}

export const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export interface EngineSession {
  engine: SchemaEngine;
  /** Runs SQL on the session's connection (search_path = the session's schema). */
  execute(sql: string): Promise<void>;
  close(): Promise<void>;
}

/** Opens an engine bound to one PostgreSQL schema (created if missing); `datamodel` is the Prisma schema text. */
export async function openEngine(opts: {
  connectionString: string;
  schema: string;
  datamodel: string;
  log?: (line: string) => void;
}): Promise<EngineSession> {
  if (!SCHEMA_NAME.test(opts.schema)) throw new Error(`Invalid PostgreSQL schema name: ${opts.schema}`);
  const mod = await loadEngineModule();
  const pool = new pg.Pool({
    connectionString: opts.connectionString,
    options: `-c search_path=${opts.schema}`,
    max: 2,
    Client: IntrospectionClient,
  });
  const quoted = `"${opts.schema}"`;
  await pool.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
  const factory = bindMigrationAwareSqlAdapterFactory(new PrismaPg(pool, { schema: opts.schema }));
  const log = opts.log ?? (() => undefined);
  const engine = await mod.SchemaEngine.new({ datamodels: [['schema.prisma', opts.datamodel]] }, (line: string) => log(line), factory);
  return {
    engine,
    execute: async (sql) => {
      await pool.query(sql);
    },
    close: async () => {
      engine.free();
      await pool.end();
    },
  };
}
