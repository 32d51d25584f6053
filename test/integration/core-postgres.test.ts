/** The core suite on Postgres (`@prisma/adapter-pg`) with the Redis tier. */
import {} from "vitest";
import { describeWith } from "../helpers/describe-with.js";
import { coreSuite } from "../suites/core/index.js";
import { postgresTarget } from "../helpers/targets.js";

describeWith(["postgres", "redis"], "core suite: postgres + redis", () => {
  coreSuite(postgresTarget({ redis: true }));
});
