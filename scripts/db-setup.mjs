#!/usr/bin/env node
/**
 * Generates the Prisma clients used by the tests, the demo and the benchmark
 * (one for Postgres, one for SQLite, from the same schema) and, unless
 * `--sqlite-only` is given, recreates the Postgres test database.
 *
 *   node scripts/db-setup.mjs               generate both clients, reset Postgres
 *   node scripts/db-setup.mjs --sqlite-only generate both clients only (the demo, the examples, typecheck)
 *   node scripts/db-setup.mjs --tests       as the tests choose (`pretest`): with no DATABASE_URL and a
 *                                           container runtime, leave Postgres to the tests' container
 *   ... --quiet                              print nothing unless something fails
 *
 * The Prisma CLI's own lines ("Prisma schema loaded from ...") are kept back
 * and printed only when `prisma generate` fails.
 *
 * The Postgres is `DATABASE_URL`, else this checkout's default database
 * (scripts/lib/database.mjs). It is checked before anything else: when it
 * does not answer, the script says which service, the URL tried and the
 * fix, and exits with status 1.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { resetPostgres, DEFAULT_DATABASE_URL } from "./lib/database.mjs";
import { checkPostgres, planForEnvironment, redactUrl, ServiceUnreachableError } from "./lib/services.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const quiet = process.argv.includes("--quiet");
const forTests = process.argv.includes("--tests");
const url = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
// The tests start their own Postgres when they have no URL and a container runtime answers.
const inContainer = forTests && (await planForEnvironment()).postgres.source === "container";
const resetDatabase = !process.argv.includes("--sqlite-only") && !inContainer;

/** Exits with the reason when `error` says a service is unreachable; rethrows anything else. */
function exitIfUnreachable(error) {
  if (!(error instanceof ServiceUnreachableError)) throw error;
  console.error(`db-setup: ${error.message}`);
  process.exit(1);
}

// Before the clients are generated: an unreachable database is reported at once.
if (resetDatabase) await checkPostgres(url).catch(exitIfUnreachable);

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

if (resetDatabase) {
  await resetPostgres(url);
  if (!quiet) console.log(`db-setup: recreated the schema of ${redactUrl(url)}`);
} else if (inContainer && !quiet) {
  console.log("db-setup: no DATABASE_URL and a container runtime: the tests start Postgres in a container");
}
