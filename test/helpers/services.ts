/**
 * The real services the integration tests run against, and the rule for when
 * one is missing: in CI (`CI=true`) a missing service fails the test file
 * loudly; on a developer machine the file skips with a warning naming it.
 */
import { spawnSync } from "node:child_process";
import { Redis } from "ioredis";
import { deleteKeys, keysUnder as keysUnderPrefix } from "../../examples/support/redis.js";
import pg from "pg";
import { checkPostgres, checkRedis } from "../../scripts/lib/services.mjs";

/** The project's database script (plain ESM JavaScript, no declarations), typed here. */
interface DatabaseScripts {
  DEFAULT_DATABASE_URL: string;
  DEFAULT_REDIS_URL: string;
  resetPostgres(url: string): Promise<void>;
  resetSqlite(file: string): Promise<void>;
}

// Imported by URL so that TypeScript does not look for declarations of the .mjs file.
const databaseScriptsUrl = new URL("../../scripts/lib/database.mjs", import.meta.url).href;
export const databaseScripts = (await import(/* @vite-ignore */ databaseScriptsUrl)) as DatabaseScripts;

/** Postgres URL: env `DATABASE_URL`, else the project's dedicated test database. */
export const DATABASE_URL = process.env.DATABASE_URL ?? databaseScripts.DEFAULT_DATABASE_URL;
/** Redis URL: env `REDIS_URL`, else the machine's local Redis. */
export const REDIS_URL = process.env.REDIS_URL ?? databaseScripts.DEFAULT_REDIS_URL;

/** True when Postgres at `url` accepts a connection (its database may not exist yet: ensurePostgresSchema makes it). */
export function postgresReachable(url = DATABASE_URL): Promise<boolean> {
  return checkPostgres(url).then(
    () => true,
    () => false,
  );
}

/** True when Redis at `url` answers PING. */
export function redisReachable(url = REDIS_URL): Promise<boolean> {
  return checkRedis(url).then(
    () => true,
    () => false,
  );
}

/** True when the `redis-server` binary can be run. */
export function redisServerInstalled(): boolean {
  return spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;
}

/** `url` without its password, for messages. */
export { redactUrl } from "../../scripts/lib/services.mjs";

/**
 * Returns true when the caller should skip because `service` (a name and
 * where it was looked for) is missing. In CI it throws instead, so the test
 * file fails rather than passing with nothing run.
 */
export function skipWithoutService(service: string, available: boolean): boolean {
  if (available) return false;
  if (process.env.CI === "true") {
    throw new Error(
      `${service} is required in CI but is not available. Start it (docs/development.md, "Set-up") or set DATABASE_URL / REDIS_URL.`,
    );
  }
  console.warn(`[integration] ${service} is not available: skipping the tests that need it (in CI they would fail).`);
  return true;
}

/**
 * Makes sure the Postgres database has the project's tables, applying the
 * migrations when it is empty. An existing schema is left alone: other test
 * files and other runs may be using its rows.
 */
export async function ensurePostgresSchema(url = DATABASE_URL): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  let present = false;
  try {
    await client.connect();
    const result = await client.query<{ present: boolean }>(
      `SELECT to_regclass('public."Membership"') IS NOT NULL AS present`,
    );
    present = result.rows[0]?.present === true;
  } catch {
    // The database itself may not exist yet; resetPostgres creates it.
  } finally {
    await client.end().catch(() => undefined);
  }
  if (!present) await databaseScripts.resetPostgres(url);
}

/** Connects an ioredis client for use as the shared tier, resolving once it is ready. */
export async function connectRedis(url = REDIS_URL): Promise<Redis> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  return redis;
}

/**
 * Names of the keys under `prefix`, found with SCAN (never KEYS on a shared Redis); shared with the demo and
 * benchmarks.
 */
export { keysUnder } from "../../examples/support/redis.js";

/**
 * Names of the cache entries under `prefix`: not the tag versions (`<prefix>t:`) nor the bus membership
 * (`<prefix>bus:`).
 */
export async function entryKeysUnder(redis: Redis, prefix: string): Promise<string[]> {
  return (await keysUnderPrefix(redis, prefix)).filter(
    (key) => !key.startsWith(`${prefix}t:`) && !key.startsWith(`${prefix}bus:`),
  );
}

/** Deletes every key under `prefix` (never FLUSHDB on a shared Redis). */
export const deleteKeysUnder = deleteKeys;
