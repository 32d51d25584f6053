/**
 * Write invalidation on Postgres with the Redis tier: every mutation kind,
 * record-level against model-level tags, relations, transactions
 * (docs/invalidation.md; consistency contract items 1 and 3). Each scene has
 * a writing instance with both tiers and a peer on the same prefix that
 * reads Redis only, so every test checks both tiers.
 */
import { afterAll, beforeAll } from "vitest";
import { describeWith } from "../helpers/describe-with.js";
import { describeFluentWrites } from "../suites/invalidation/fluent-writes.js";
import { Harness } from "../helpers/harness.js";
import { describeRecordLevel } from "../suites/invalidation/record-level.js";
import { describeRelationLinks } from "../suites/invalidation/relation-links.js";
import { describeRelations } from "../suites/invalidation/relations.js";
import { describeTransactions } from "../suites/invalidation/transactions.js";
import { describeWrites } from "../suites/invalidation/writes.js";
import { postgresTarget } from "../helpers/targets.js";

describeWith(["postgres", "redis"], "write invalidation: postgres + redis", () => {
  const env = new Harness(postgresTarget({ redis: true }));
  beforeAll(() => env.start());
  afterAll(() => env.stop());

  describeWrites(env);
  describeFluentWrites(env);
  describeRecordLevel(env);
  describeRelations(env);
  describeRelationLinks(env);
  describeTransactions(env, { concurrentReaders: true });
});
