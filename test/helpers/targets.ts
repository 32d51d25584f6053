/** The databases and tiers the core suite runs against. */
import { createSqliteDatabase, postgresClient, sqliteClient } from "./clients.js";
import type { Target } from "./harness.js";
import { ensurePostgresSchema, REDIS_URL } from "./services.js";

/** Postgres, with the Redis tier when `redis` is true. */
export function postgresTarget({ redis }: { redis: boolean }): Target {
  return {
    name: redis ? "postgres + redis" : "postgres",
    prepare: () => ensurePostgresSchema(),
    connect: () => postgresClient(),
    dispose: async () => undefined,
    redisUrl: redis ? REDIS_URL : undefined,
    aliceBalance: "12345678901234567890.123456789",
  };
}

/** A fresh SQLite file, with the Redis tier when `redis` is true. */
export function sqliteTarget({ redis }: { redis: boolean }): Target {
  let database: Awaited<ReturnType<typeof createSqliteDatabase>> | undefined;
  return {
    name: redis ? "sqlite + redis" : "sqlite, in-process tier only",
    prepare: async () => {
      database = await createSqliteDatabase(redis ? "core-redis" : "core");
    },
    connect: () => {
      if (database === undefined) throw new Error("sqliteTarget: connect() before prepare()");
      return sqliteClient(database.file);
    },
    dispose: async () => database?.remove(),
    redisUrl: redis ? REDIS_URL : undefined,
    // SQLite stores DECIMAL as a double: a value a double holds exactly.
    aliceBalance: "1234567.125",
  };
}
