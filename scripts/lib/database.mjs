/**
 * Database set-up without the Prisma schema engine.
 *
 * The Prisma CLI downloads a schema-engine binary for `migrate`/`db push`, and
 * that download cannot happen on our machines. `prisma generate` does not run
 * the engine, so we point PRISMA_SCHEMA_ENGINE_BINARY at a no-op executable
 * for it, and apply the SQL migrations (kept in Prisma's own
 * `migrations/<name>/migration.sql` layout, so `prisma migrate deploy` still
 * works where the engine is available) directly through `pg` / `@libsql/client`.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, realpathSync, existsSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/**
 * The default test database's name, one per checkout (`pqc_test_` and a hash
 * of the checkout's path): two checkouts running their tests at once on one
 * Postgres never reset each other's schema. `DATABASE_URL` overrides it.
 */
export const DEFAULT_DATABASE_NAME = `pqc_test_${createHash("sha256").update(realpathSync(root)).digest("hex").slice(0, 8)}`;
/** Default Postgres URL: a dedicated database so `test` and `postgres` are never wiped. */
export const DEFAULT_DATABASE_URL = `postgresql://postgres@127.0.0.1:5432/${DEFAULT_DATABASE_NAME}`;
/** Default Redis URL: the machine's local Redis. */
export const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";

/** Reads every migration.sql of one migrations folder, oldest first. */
export function readMigrations(provider) {
  const dir = join(root, "prisma", provider === "sqlite" ? "migrations-sqlite" : "migrations");
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .map((name) => readFileSync(join(dir, name, "migration.sql"), "utf8"));
}

/**
 * Recreates the `public` schema of the database at `url` and applies every
 * migration. Creates the database first when it does not exist.
 */
export async function resetPostgres(url = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL) {
  const { default: pg } = await import("pg");
  await ensureDatabase(pg, url);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;");
    for (const sql of readMigrations("postgresql")) await client.query(sql);
  } finally {
    await client.end();
  }
}

async function ensureDatabase(pg, url) {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = "/postgres";
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const found = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
  } finally {
    await client.end();
  }
}

/** Creates (or recreates) a SQLite file and applies every migration to it. */
export async function resetSqlite(file) {
  const { createClient } = await import("@libsql/client");
  const { rmSync } = await import("node:fs");
  for (const suffix of ["", "-wal", "-shm", "-journal"]) rmSync(file + suffix, { force: true });
  const db = createClient({ url: `file:${file}` });
  try {
    for (const sql of readMigrations("sqlite")) await db.executeMultiple(sql);
  } finally {
    db.close();
  }
}

/** True when both generated clients exist. */
export function clientsGenerated() {
  return ["postgres", "sqlite"].every((name) => existsSync(join(root, "test", "generated", name, "client.ts")));
}
