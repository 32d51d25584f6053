/**
 * The real-app benchmark's databases, without the Prisma schema engine (docs/development.md): the Conduit client is
 * generated with a no-op engine, its published SQL migrations are applied through `pg`, the seeded dataset goes into
 * one template database, and every run starts on a fresh copy of it (`CREATE DATABASE ... TEMPLATE`), so the cached,
 * uncached and peer runs all see the same rows.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import bcrypt from "bcryptjs";
import pg from "pg";
import type { Dataset } from "./dataset.ts";

const here = dirname(fileURLToPath(import.meta.url));

/** Generates the Conduit Prisma client into bench/real-app/app/generated (gitignored). */
export function generateClient(): void {
  const noEngine = join(tmpdir(), "pqc-real-app-no-schema-engine.sh");
  writeFileSync(noEngine, "#!/bin/sh\nexit 0\n");
  chmodSync(noEngine, 0o755);
  execFileSync(
    process.execPath,
    [join(here, "..", "..", "node_modules", "prisma", "build", "index.js"), "generate", "--schema", schemaPath()],
    {
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: noEngine, PRISMA_HIDE_UPDATE_MESSAGE: "1" },
    },
  );
}

function schemaPath(): string {
  return join(here, "prisma", "schema.prisma");
}

/** The URL of database `name` on the server of `url`. */
export function databaseUrl(url: string, name: string): string {
  const target = new URL(url);
  target.pathname = `/${name}`;
  return target.toString();
}

/** The database name in `url`. */
export function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.slice(1));
}

async function onServer<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl(url, "postgres") });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Drops database `name` (closing its sessions) and creates it again, empty or as a copy of `template`. */
export async function recreateDatabase(url: string, name: string, template?: string): Promise<string> {
  await onServer(url, async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${quoted(name)} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${quoted(name)}${template ? ` TEMPLATE ${quoted(template)}` : ""}`);
  });
  return databaseUrl(url, name);
}

/** Drops database `name` if it exists. */
export async function dropDatabase(url: string, name: string): Promise<void> {
  await onServer(url, (client) => client.query(`DROP DATABASE IF EXISTS ${quoted(name)} WITH (FORCE)`));
}

/** Creates database `name` with the Conduit schema (its migrations, oldest first) and `data` in it. */
export async function createSeededDatabase(url: string, name: string, data: Dataset): Promise<void> {
  const client = new pg.Client({ connectionString: await recreateDatabase(url, name) });
  await client.connect();
  try {
    const folder = join(here, "prisma", "migrations");
    const migrations = readdirSync(folder, { withFileTypes: true }).filter((entry) => entry.isDirectory());
    for (const migration of migrations.map((entry) => entry.name).sort()) {
      await client.query(readFileSync(join(folder, migration, "migration.sql"), "utf8"));
    }
    // One hash for every seeded user: bcrypt at cost 10 takes ~0.1 s, and nobody logs in during the run.
    const password = bcrypt.hashSync("password", 10);
    const insert = (table: string, columns: string[], rows: unknown[][]) => insertRows(client, table, columns, rows);
    await insert(
      "User",
      ["id", "email", "username", "password", "bio", "demo"],
      data.users.map((user) => [user.id, user.email, user.username, password, user.bio, true]),
    );
    await insert(
      "Tag",
      ["id", "name"],
      data.tags.map((tag, i) => [i + 1, tag]),
    );
    await insert(
      "Article",
      ["id", "slug", "title", "description", "body", "createdAt", "updatedAt", "authorId"],
      data.articles.map((a) => [a.id, a.slug, a.title, a.description, a.body, a.createdAt, a.createdAt, a.authorId]),
    );
    const tagId = new Map(data.tags.map((tag, i) => [tag, i + 1]));
    await insert(
      "_ArticleToTag",
      ["A", "B"],
      data.articles.flatMap((article) => article.tags.map((tag) => [article.id, tagId.get(tag)])),
    );
    await insert(
      "Comment",
      ["id", "createdAt", "updatedAt", "body", "articleId", "authorId"],
      data.comments.map((c) => [c.id, c.createdAt, c.createdAt, c.body, c.articleId, c.authorId]),
    );
    await insert("_UserFavorites", ["A", "B"], data.favorites);
    await insert("_UserFollows", ["A", "B"], data.follows);
    // Explicit ids left the serial sequences at 1: move them past the seed so the app's inserts do not collide.
    for (const table of ["User", "Tag", "Article", "Comment"]) {
      await client.query(`SELECT setval(pg_get_serial_sequence('"${table}"', 'id'), (SELECT max(id) FROM "${table}"))`);
    }
    await client.query("ANALYZE");
  } finally {
    await client.end();
  }
}

/** Inserts `rows` into `table`, 500 rows a statement. */
async function insertRows(client: pg.Client, table: string, columns: string[], rows: unknown[][]): Promise<void> {
  const names = columns.map(quoted).join(", ");
  for (let first = 0; first < rows.length; first += 500) {
    const chunk = rows.slice(first, first + 500);
    const values = chunk.map((row, r) => `(${row.map((_, c) => `$${r * columns.length + c + 1}`).join(", ")})`);
    await client.query(`INSERT INTO ${quoted(table)} (${names}) VALUES ${values.join(", ")}`, chunk.flat());
  }
}
