/**
 * A Postgres database of its own for the event tests, with the project's
 * schema and the event triggers applied the way a user would apply them (the
 * generated SQL, run as a migration). Its own database, because the triggers
 * would otherwise fire (and notify) under every other test file.
 */
import { readFileSync } from "node:fs";
import pg from "pg";
import { postgresEventTriggersSql } from "../../src/events/index.js";
import { databaseScripts, DATABASE_URL } from "./services.js";

/** The test schema's text, as the generator's users pass it. */
export const TEST_SCHEMA = readFileSync(new URL("../../prisma/schema.prisma", import.meta.url), "utf8");

/** `DATABASE_URL` with `suffix` appended to its database name. */
export function siblingDatabaseUrl(suffix: string, url = DATABASE_URL): string {
  const sibling = new URL(url);
  sibling.pathname = `${sibling.pathname}${suffix}`;
  return sibling.toString();
}

/** Recreates the database at `url` with the project's migrations and, unless `triggers` is false, the event triggers. */
export async function resetEventsDatabase(url: string, { triggers = true } = {}): Promise<void> {
  await databaseScripts.resetPostgres(url);
  if (triggers) await runSql(url, postgresEventTriggersSql({ schema: TEST_SCHEMA }));
}

/** Runs `sql` on a connection of its own (a plain `pg` client: a write the cache does not see). */
export async function runSql(url: string, sql: string, values: readonly unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(sql, [...values]);
  } finally {
    await client.end();
  }
}

/** Collects the notifications on `channel` of the database at `url`, as the listener receives them. */
export async function listen(url: string, channel = "prisma_query_cache") {
  const client = new pg.Client({ connectionString: url });
  const payloads: string[] = [];
  client.on("notification", (message) => payloads.push(message.payload ?? ""));
  await client.connect();
  await client.query(`LISTEN ${channel}`);
  return { payloads, close: () => client.end() };
}
