/**
 * Write invalidation without Redis: one process, the in-process tier only,
 * tag versions in memory. Writes invalidate it the same way, on Postgres and
 * on SQLite.
 */
import { afterAll, beforeAll, describe } from "vitest";
import { describeWith } from "../helpers/describe-with.js";
import { describeFillRace } from "../suites/invalidation/fill-race.js";
import { describeFluentWrites } from "../suites/invalidation/fluent-writes.js";
import { Harness } from "../helpers/harness.js";
import { describeLocalInstances } from "../suites/invalidation/local-instances.js";
import { describeRecordLevel } from "../suites/invalidation/record-level.js";
import { describeRelationLinks } from "../suites/invalidation/relation-links.js";
import { describeRelations } from "../suites/invalidation/relations.js";
import { describeTransactions } from "../suites/invalidation/transactions.js";
import { describeWrites } from "../suites/invalidation/writes.js";
import type { Target } from "../helpers/harness.js";
import { postgresTarget, sqliteTarget } from "../helpers/targets.js";

function localSuite(target: Target, concurrentReaders: boolean): void {
  const env = new Harness(target);
  beforeAll(() => env.start());
  afterAll(() => env.stop());

  describeWrites(env);
  describeFluentWrites(env);
  describeRecordLevel(env);
  describeRelations(env);
  describeRelationLinks(env);
  describeTransactions(env, { concurrentReaders });
  describeFillRace(env);
  describeLocalInstances(env);
}

describeWith(["postgres"], "write invalidation: postgres, in-process tier only", () => {
  localSuite(postgresTarget({ redis: false }), true);
});

describe("write invalidation: sqlite, in-process tier only", () => {
  localSuite(sqliteTarget({ redis: false }), false);
});
