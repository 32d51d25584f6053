#!/usr/bin/env node
/**
 * Generates the Prisma clients used by the tests, the demo and the benchmark
 * (one for Postgres, one for SQLite, from the same schema) and, unless
 * `--sqlite-only` is given, recreates the Postgres test database.
 *
 *   node scripts/db-setup.mjs               generate both clients, reset Postgres
 *   node scripts/db-setup.mjs --sqlite-only generate both clients only (the demo, the examples, typecheck)
 *   ... --quiet                              print nothing unless something fails
 *
 * The Prisma CLI's own lines ("Prisma schema loaded from ...") are kept back
 * and printed only when `prisma generate` fails.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { resetPostgres, DEFAULT_DATABASE_URL } from "./lib/database.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const sqliteOnly = process.argv.includes("--sqlite-only");
const quiet = process.argv.includes("--quiet");

// `prisma generate` never runs the schema engine, but the CLI insists on
// finding one; any executable satisfies it (see docs/development.md).
const fakeEngine = join(tmpdir(), "pqc-no-schema-engine.sh");
writeFileSync(fakeEngine, "#!/bin/sh\nexit 0\n");
chmodSync(fakeEngine, 0o755);

function generate(schemaPath) {
  const run = spawnSync(
    process.execPath,
    [join(root, "node_modules", "prisma", "build", "index.js"), "generate", "--schema", schemaPath],
    {
      cwd: root,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: fakeEngine, PRISMA_HIDE_UPDATE_MESSAGE: "1" },
    },
  );
  if (run.status !== 0) {
    process.stderr.write(`${run.stdout ?? ""}${run.stderr ?? ""}`);
    throw new Error(`db-setup: prisma generate --schema ${schemaPath} failed (exit ${run.status ?? run.signal})`);
  }
}

const schema = readFileSync(join(root, "prisma", "schema.prisma"), "utf8");
generate(join(root, "prisma", "schema.prisma"));

// The SQLite client comes from the same models; only the provider and the
// output folder differ. The derived schema is a build artefact (gitignored).
const sqliteDir = join(root, "prisma", "sqlite");
mkdirSync(sqliteDir, { recursive: true });
const sqliteSchema = schema
  .replace('provider = "postgresql"', 'provider = "sqlite"')
  .replace('output       = "../test/generated/postgres"', 'output       = "../../test/generated/sqlite"');
if (sqliteSchema === schema) throw new Error("db-setup: could not derive the SQLite schema from prisma/schema.prisma");
writeFileSync(join(sqliteDir, "schema.prisma"), sqliteSchema);
generate(join(sqliteDir, "schema.prisma"));
if (!quiet) console.log("db-setup: generated Prisma clients in test/generated/{postgres,sqlite}");

if (!sqliteOnly) {
  const url = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  await resetPostgres(url);
  if (!quiet) console.log(`db-setup: recreated the schema of ${url.replace(/\/\/[^@]*@/, "//")}`);
}
