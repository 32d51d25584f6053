/**
 * Write invalidation without Redis: one process, the in-process tier only,
 * tag versions in memory. Writes invalidate it the same way, on Postgres and
 * on SQLite.
 */
import { afterAll, beforeAll, describe } from "vitest";
import { describeFillRace } from "../helpers/invalidation/fill-race.js";
import { describeFluentWrites } from "../helpers/invalidation/fluent-writes.js";
import { InvalidationEnv } from "../helpers/invalidation/harness.js";
import { describeLocalInstances } from "../helpers/invalidation/local-instances.js";
import { describeRecordLevel } from "../helpers/invalidation/record-level.js";
import { describeRelationLinks } from "../helpers/invalidation/relation-links.js";
import { describeRelations } from "../helpers/invalidation/relations.js";
import { describeTransactions } from "../helpers/invalidation/transactions.js";
import { describeWrites } from "../helpers/invalidation/writes.js";
import type { CoreTarget } from "../helpers/core-suite/harness.js";
import { DATABASE_URL, postgresReachable, redactUrl, skipWithoutService } from "../helpers/services.js";
import { postgresTarget, sqliteTarget } from "../helpers/targets.js";

const missingPostgres = skipWithoutService(`Postgres at ${redactUrl(DATABASE_URL)}`, await postgresReachable());

function localSuite(target: CoreTarget, concurrentReaders: boolean): void {
  const env = new InvalidationEnv(target);
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

// Skipped only outside CI when a service is unreachable: skipWithoutService warns then; in CI it throws.
describe.skipIf(missingPostgres)("write invalidation: postgres, in-process tier only", () => {
  localSuite(postgresTarget({ redis: false }), true);
});

describe("write invalidation: sqlite, in-process tier only", () => {
  localSuite(sqliteTarget({ redis: false }), false);
});
