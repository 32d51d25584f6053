/**
 * `$cache.ready()`: waits until the in-process tier is in use, but never
 * longer than a bound. With Redis down or frozen the invalidation bus never
 * gets its first lease; an application that awaits `ready()` at start-up
 * must still start (the cache is an optimisation, never a dependency), so
 * the wait ends at the bound with the reason, and the cache goes on
 * degraded: reads use the database (and Redis when it answers), and the
 * in-process tier starts by itself once the bus hears its first heartbeat.
 */
import { CacheError } from "../errors.js";
import type { VersionSource } from "../invalidation/version-source.js";

/** What `$cache.ready()` resolves with. */
export type CacheReadiness =
  /** No `redis` option: the in-process tier is in use from the start. */
  | { redis: "none" }
  /** The invalidation bus delivers: in-process entries are served. */
  | { redis: "connected" }
  /**
   * The bound passed before the bus heard its first heartbeat: reads go to
   * Redis and the database only, until it does. `reason` says what was seen
   * (the connection's state, or that Redis does not answer); it was also
   * reported through `onError` (`E_REDIS`).
   */
  | { redis: "unavailable"; reason: string };

/** How long `ready()` waits by default, in ms: a healthy Redis gives the first lease within a few round trips. */
export const DEFAULT_READY_TIMEOUT_MS = 2_000;

/**
 * Resolves when `versions` is ready, or after `timeoutMs` with the reason it
 * is not (reported). Never rejects.
 */
export async function waitReady(
  versions: VersionSource,
  timeoutMs: number,
  report: (error: CacheError) => void,
): Promise<CacheReadiness> {
  const bus = versions.bus;
  if (bus === undefined) return { redis: "none" };
  let timer: NodeJS.Timeout | undefined;
  // Not unref'd: an application awaiting ready() with nothing else to do must still get its answer.
  const gaveUp = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
  const ready = await Promise.race([versions.ready().then(() => true), gaveUp]);
  clearTimeout(timer);
  if (ready) return { redis: "connected" };
  const reason = bus.notReadyReason();
  report(
    new CacheError(
      "E_REDIS",
      `ready(): the cache is not using its in-process tier after ${timeoutMs} ms: ${reason}. Reads go to Redis (when it answers) and the database meanwhile; the in-process tier starts by itself once Redis answers.`,
    ),
  );
  return { redis: "unavailable", reason };
}
