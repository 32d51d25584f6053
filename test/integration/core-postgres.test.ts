/** The core suite on Postgres (`@prisma/adapter-pg`) with the Redis tier. */
import { describe } from "vitest";
import { coreSuite } from "../helpers/core-suite/index.js";
import {
  DATABASE_URL,
  postgresReachable,
  redactUrl,
  REDIS_URL,
  redisReachable,
  skipWithoutService,
} from "../helpers/services.js";
import { postgresTarget } from "../helpers/targets.js";

const missingPostgres = skipWithoutService(`Postgres at ${redactUrl(DATABASE_URL)}`, await postgresReachable());
const missingRedis = skipWithoutService(`Redis at ${redactUrl(REDIS_URL)}`, await redisReachable());

// Skips only outside CI, when a service is down (skipWithoutService throws in CI):
// a developer without Postgres or Redis can still run the other files.
// Skipped only outside CI when a service is unreachable: skipWithoutService warns then; in CI it throws.
describe.skipIf(missingPostgres || missingRedis)("core suite: postgres + redis", () => {
  coreSuite(postgresTarget({ redis: true }));
});
