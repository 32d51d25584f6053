/**
 * Runs before each test file: points `DATABASE_URL` / `REDIS_URL` at the
 * services the global set-up chose (containers, given URLs or local
 * defaults), so test files, helpers and the worker processes they spawn all
 * use the same ones.
 */
import { inject } from "vitest";

process.env.DATABASE_URL = inject("databaseUrl");
process.env.REDIS_URL = inject("redisUrl");
