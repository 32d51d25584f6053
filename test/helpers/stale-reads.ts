/** Counting stale reads after a fault, against the value the database is known to hold. */
import type { Instance } from "./harness.js";
import { pollUntil } from "./poll.js";

/**
 * Reads `read` on every instance, round after round, until each has been answered by the cache (no database query)
 * `answers` times, or `ms` passed. Returns how many reads returned something other than `expected` (by
 * `isExpected`), and the fewest cache answers an instance got (so the caller can check the cache was back in use).
 */
export async function staleUntilCachedAgain<T>(
  instances: readonly Instance[],
  read: (instance: Instance) => PromiseLike<T>,
  isExpected: (value: T) => boolean,
  { answers = 20, ms = 10_000 }: { answers?: number; ms?: number } = {},
): Promise<{ stale: number; fewestCacheAnswers: number }> {
  let stale = 0;
  const cacheAnswers = new Map<Instance, number>(instances.map((instance) => [instance, 0]));
  const fewest = () => Math.min(...cacheAnswers.values());
  await pollUntil(
    async () => {
      for (const instance of instances) {
        const queries = instance.database.queries;
        if (!isExpected(await read(instance))) stale++;
        if (instance.database.queries === queries) cacheAnswers.set(instance, (cacheAnswers.get(instance) ?? 0) + 1);
      }
      return fewest();
    },
    (fewestSoFar) => fewestSoFar >= answers,
    ms,
  );
  return { stale, fewestCacheAnswers: fewest() };
}
