/**
 * The model operations of a Prisma client, by what the cache does with them:
 * the reads it can cache, the writes it invalidates after, and both together
 * (what a `query` hook can name for every model).
 */

/** Every Prisma read operation the extension overrides. */
export const READ_OPERATIONS = [
  "findUnique",
  "findUniqueOrThrow",
  "findFirst",
  "findFirstOrThrow",
  "findMany",
  "count",
  "aggregate",
  "groupBy",
] as const;

/** One of {@link READ_OPERATIONS}. */
export type ReadOperation = (typeof READ_OPERATIONS)[number];

/** Every mutation the write side observes. */
export const WRITE_OPERATIONS = [
  "create",
  "createMany",
  "createManyAndReturn",
  "update",
  "updateMany",
  "updateManyAndReturn",
  "upsert",
  "delete",
  "deleteMany",
] as const;

/** One of {@link WRITE_OPERATIONS}. */
export type WriteOperation = (typeof WRITE_OPERATIONS)[number];

/** Every model operation: a `query` hook under one of these names at the top level runs for every model. */
export const MODEL_OPERATIONS: readonly string[] = [...READ_OPERATIONS, ...WRITE_OPERATIONS];
