/** The core suite on SQLite (`@prisma/adapter-libsql`), in-process tier only and with Redis. */
import { describe } from "vitest";
import { coreSuite } from "../helpers/core-suite/index.js";
import { redactUrl, REDIS_URL, redisReachable, skipWithoutService } from "../helpers/services.js";
import { sqliteTarget } from "../helpers/targets.js";

describe("core suite: sqlite, in-process tier only", () => {
  coreSuite(sqliteTarget({ redis: false }));
});

const missingRedis = skipWithoutService(`Redis at ${redactUrl(REDIS_URL)}`, await redisReachable());

// Skipped only outside CI when a service is unreachable: skipWithoutService warns then; in CI it throws.
describe.skipIf(missingRedis)("core suite: sqlite + redis", () => {
  coreSuite(sqliteTarget({ redis: true }));
});
