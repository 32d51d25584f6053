/**
 * Start-up check of the Redis eviction policy. Correctness does not depend
 * on it: a lost tag version is re-initialised from the server clock, larger
 * than any it had, so eviction of versions costs misses, never stale reads
 * (docs/invalidation.md). What the policy does decide is whether fills keep
 * working when Redis is full: under `noeviction` with a `maxmemory`, Redis
 * refuses every write once full, and the shared tier stops filling.
 */
import { CacheError } from "../errors.js";

/** The ioredis surface the check needs. */
interface ConfigRedis {
  config(subcommand: "GET", parameter: string): Promise<unknown>;
}

/** Reports `E_REDIS_POLICY` when the policy will stop the cache from filling; says so when it cannot tell. */
export async function checkEvictionPolicy(redis: unknown, report: (error: CacheError) => void): Promise<void> {
  const client = redis as Partial<ConfigRedis>;
  if (typeof client.config !== "function") return;
  try {
    const policy = pairValue(await client.config("GET", "maxmemory-policy"));
    const maxmemory = Number(pairValue(await client.config("GET", "maxmemory")) ?? 0);
    if (policy === "noeviction" && maxmemory > 0) {
      report(
        new CacheError(
          "E_REDIS_POLICY",
          `Redis has maxmemory ${maxmemory} with maxmemory-policy noeviction: once full it refuses every write, and the shared tier stops filling. Use volatile-lru or allkeys-lru (entries and tag versions both carry TTLs; evicting either is safe).`,
        ),
      );
    }
  } catch (error) {
    // Managed services often disable CONFIG; the check is advisory.
    report(new CacheError("E_REDIS_POLICY", "could not read the Redis eviction policy (CONFIG GET is not allowed); skipping the check. volatile-lru or allkeys-lru is recommended.", error));
  }
}

/** CONFIG GET replies [name, value] (or, in RESP3, a map). */
function pairValue(reply: unknown): string | undefined {
  if (Array.isArray(reply)) return reply[1] === undefined ? undefined : String(reply[1]);
  if (typeof reply === "object" && reply !== null) return String(Object.values(reply)[0]);
  return undefined;
}
