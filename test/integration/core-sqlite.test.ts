/** The core suite on SQLite (`@prisma/adapter-libsql`), in-process tier only and with Redis. */
import { describe } from "vitest";
import { describeWith } from "../helpers/describe-with.js";
import { coreSuite } from "../suites/core/index.js";
import { sqliteTarget } from "../helpers/targets.js";

describe("core suite: sqlite, in-process tier only", () => {
  coreSuite(sqliteTarget({ redis: false }));
});

describeWith(["redis"], "core suite: sqlite + redis", () => {
  coreSuite(sqliteTarget({ redis: true }));
});
