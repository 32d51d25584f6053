/** Which tier answered a read, told from the counters it moved: what the examples print next to each read. */
import type { CacheStats } from "prisma-query-cache";

/** What {@link traced} needs of a cached client. */
export interface StatsSource {
  $cache: { stats(): CacheStats };
}

/** A read's result, its latency, and which tier answered it. */
export interface Traced<T> {
  result: T;
  micros: number;
  /** "in-process hit", "Redis hit", "miss -> database" or "bypassed the cache". */
  source: string;
}

/** Runs `read` once on `client` and says which tier answered it. */
export async function traced<T>(client: StatsSource, read: () => PromiseLike<T>): Promise<Traced<T>> {
  const before = client.$cache.stats();
  const start = performance.now();
  const result = await read();
  const micros = (performance.now() - start) * 1000;
  const after = client.$cache.stats();
  const source =
    after.l1Hits > before.l1Hits
      ? "in-process hit"
      : after.l2Hits > before.l2Hits
        ? "Redis hit"
        : after.misses > before.misses
          ? "miss -> database"
          : "bypassed the cache";
  return { result, micros, source };
}
