/**
 * Prisma clients for the integration tests: bare clients over the real
 * databases, and cached clients with a database-query counter stacked below
 * the cache extension.
 */
import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PrismaLibSql } from "@prisma/adapter-libsql";
import { PrismaPg } from "@prisma/adapter-pg";
import { cacheExtension, type CacheError, type CacheExtensionOptions } from "../../src/index.js";
import { PrismaClient as PostgresPrismaClient } from "../generated/postgres/client.ts";
import { PrismaClient as SqlitePrismaClient } from "../generated/sqlite/client.ts";
import type { ReadGate } from "./read-gate.js";
import { databaseScripts, DATABASE_URL } from "./services.js";

/**
 * A bare Prisma client. Both generated clients come from the same models; the
 * SQLite one is typed as the Postgres one, and the tests use only what both
 * providers support (no `mode: "insensitive"`, no Postgres-only filters).
 */
export type BareClient = PostgresPrismaClient;

/** A bare client over Postgres (`@prisma/adapter-pg`). */
export function postgresClient(url = DATABASE_URL): BareClient {
  return new PostgresPrismaClient({ adapter: new PrismaPg({ connectionString: url }) });
}

/** A fresh SQLite database file with the project's migrations applied; `remove()` deletes it. */
export async function createSqliteDatabase(label: string): Promise<{ file: string; remove(): void }> {
  const file = join(tmpdir(), `pqc-${label}-${process.pid}-${randomUUID().slice(0, 8)}.db`);
  await databaseScripts.resetSqlite(file);
  return {
    file,
    remove: () => {
      for (const suffix of ["", "-wal", "-shm", "-journal"]) rmSync(file + suffix, { force: true });
    },
  };
}

/**
 * A bare client over a SQLite file (`@prisma/adapter-libsql`). `intMode: "bigint"`: libSQL's default refuses integers
 * above 2^53, and the `BigInt` columns hold some.
 */
export function sqliteClient(file: string): BareClient {
  return new SqlitePrismaClient({
    adapter: new PrismaLibSql({ url: `file:${file}`, intMode: "bigint" }),
  }) as unknown as BareClient;
}

/** Counts the queries that reach the database, i.e. that the cache did not answer. */
export interface DatabaseCounter {
  queries: number;
}

/** Options of {@link cachedClient} beyond the extension's own. */
export interface CachedClientSetup {
  /**
   * Scopes every `User` read to the tenant this returns, as row-level
   * security or a tenant-scoping extension would: the same arguments then
   * return different rows per tenant, which is what `context` exists for.
   */
  scopeUsersToTenant?: () => number;
  /** Pauses a chosen read after the database answered it and before the cache stores it. */
  gate?: ReadGate;
  /** Hears each database call start and finish (the read-mode tests trace them). */
  onDatabase?: (phase: "db:start" | "db:done") => void;
  /** Extra database time (ms) of each call, by model and operation: a slow query, as the cache sees it. */
  slowReads?: (model: string | undefined, operation: string) => number;
}

/**
 * `bare` extended with a query counter and, above it, the cache extension
 * (which must be last: its misses call the client below it).
 *
 * The counter counts every operation the cache did not answer (raw queries
 * included). Prisma runs query extensions in the order they were added, so
 * for writes it runs before the cache's write side: it counts a write the
 * write side then refuses, and tests check refused writes in the database itself.
 */
export async function cachedClient(bare: BareClient, options: CacheExtensionOptions, setup: CachedClientSetup = {}) {
  const database: DatabaseCounter = { queries: 0 };
  const { scopeUsersToTenant, gate, onDatabase, slowReads } = setup;
  const prisma = bare
    .$extends({
      name: "test-database-side",
      query: {
        async $allOperations({ model, operation, args, query }) {
          database.queries++;
          if (scopeUsersToTenant !== undefined && model === "User") {
            const scoped = args as { where?: object };
            scoped.where = { ...scoped.where, tenantId: scopeUsersToTenant() };
          }
          onDatabase?.("db:start");
          const result = await query(args);
          const extraMs = slowReads?.(model, operation) ?? 0;
          if (extraMs > 0) await new Promise((resolve) => setTimeout(resolve, extraMs));
          onDatabase?.("db:done");
          await gate?.pass(model, operation);
          return result;
        },
      },
    })
    .$extends(cacheExtension(options));
  // Tests count in-process hits from the first read on: wait until the tier is in use.
  await prisma.$cache.ready();
  return { prisma, database };
}

/** A cached client: a bare client, the query counter, the cache. */
export type CachedPrisma = Awaited<ReturnType<typeof cachedClient>>["prisma"];

/** A clock the test moves by hand, starting at the real time (entries carry wall-clock times). */
export class FakeClock {
  #now = Date.now();

  now(): number {
    return this.#now;
  }

  /** Moves time forward by `ms` milliseconds. */
  advance(ms: number): void {
    this.#now += ms;
  }
}

/** Collects what the extension reports through `onError`. */
export class ErrorLog {
  readonly errors: CacheError[] = [];
  readonly onError = (error: CacheError): void => {
    this.errors.push(error);
  };

  /** The codes reported so far, in order. */
  codes(): string[] {
    return this.errors.map((error) => error.code);
  }
}
