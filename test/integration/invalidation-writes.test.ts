/**
 * Write invalidation on Postgres with the Redis tier: every mutation kind,
 * record-level against model-level tags, relations, transactions
 * (docs/invalidation.md; consistency contract items 1 and 3). Each scene has
 * a writing instance with both tiers and a peer on the same prefix that
 * reads Redis only, so every test checks both tiers.
 */
import { afterAll, beforeAll, describe } from "vitest";
import { describeFluentWrites } from "../helpers/invalidation/fluent-writes.js";
import { InvalidationEnv } from "../helpers/invalidation/harness.js";
import { describeRecordLevel } from "../helpers/invalidation/record-level.js";
import { describeRelationLinks } from "../helpers/invalidation/relation-links.js";
import { describeRelations } from "../helpers/invalidation/relations.js";
import { describeTransactions } from "../helpers/invalidation/transactions.js";
import { describeWrites } from "../helpers/invalidation/writes.js";
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

// Skipped only outside CI when a service is unreachable: skipWithoutService warns then; in CI it throws.
describe.skipIf(missingPostgres || missingRedis)("write invalidation: postgres + redis", () => {
  const env = new InvalidationEnv(postgresTarget({ redis: true }));
  beforeAll(() => env.start());
  afterAll(() => env.stop());

  describeWrites(env);
  describeFluentWrites(env);
  describeRecordLevel(env);
  describeRelations(env);
  describeRelationLinks(env);
  describeTransactions(env, { concurrentReaders: true });
});
