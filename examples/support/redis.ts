/** Redis helpers shared by the demo, the examples, the benchmark and the tests. */
import { once } from "node:events";
import { Redis } from "ioredis";

/** A connected client: the cache skips a Redis that is not ready yet, so callers wait for it. */
export async function connectRedis(url: string): Promise<Redis> {
  const redis = new Redis(url);
  if (redis.status !== "ready") await once(redis, "ready");
  return redis;
}

export async function keysUnder(redis: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const batch of redis.scanStream({ match: `${prefix}*`, count: 1000 }) as AsyncIterable<string[]>)
    keys.push(...batch);
  return keys;
}

/** Deletes every key under `prefix` (a run's own prefix: nothing else is touched). */
export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  const keys = await keysUnder(redis, prefix);
  for (let at = 0; at < keys.length; at += 1000) await redis.unlink(...keys.slice(at, at + 1000));
}
