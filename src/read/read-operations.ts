/** The read operations that can be cached, and how each treats an empty result. */

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

/**
 * True for a "nothing found" result: `null` from `findUnique`/`findFirst`, an
 * empty list from `findMany`/`groupBy`. Such results use `negativeTtl`
 * (0 by default: not cached), so a row created later is seen at once.
 * `*OrThrow` not-found outcomes are errors, and errors are never cached.
 */
export function isNegativeResult(value: unknown): boolean {
  return value === null || (Array.isArray(value) && value.length === 0);
}
