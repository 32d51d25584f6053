/**
 * The shared tier over an ioredis client. It stores strings; the core owns
 * the envelope, and reads entries together with their tag versions
 * (invalidation/version-store.ts). Every call is bounded by a timeout, and a client
 * that is not connected is skipped rather than waited on: ioredis would
 * otherwise queue the command until it reconnects, and a cache must never
 * make a read slower than the database.
 */
import { CacheError } from "../errors.js";
import type { RedisClientLike } from "../options/types.js";
import { withTimeout } from "./timeout.js";

/** The shared tier. Failures are thrown as `CacheError` (E_REDIS) for the caller to absorb. */
export class RedisTier {
  readonly #redis: RedisClientLike;
  readonly #timeoutMs: number;

  /** @param redis the caller's client (never closed here); @param timeoutMs bound of each read */
  constructor(redis: RedisClientLike, timeoutMs: number) {
    this.#redis = redis;
    this.#timeoutMs = timeoutMs;
  }

  /** True when commands can be sent now. */
  get ready(): boolean {
    return this.#redis.status === "ready";
  }

  /** GET, bounded by the timeout. */
  get(name: string): Promise<string | null> {
    return withTimeout(this.#redis.get(name), this.#timeoutMs, `GET ${name}`);
  }

  /** SET with a TTL in milliseconds. */
  async set(name: string, value: string, ttlMs: number): Promise<void> {
    if (!this.ready) throw new CacheError("E_REDIS", `Redis is ${this.#redis.status}; not storing ${name}.`);
    await withTimeout(this.#redis.set(name, value, "PX", ttlMs), this.#timeoutMs, `SET ${name}`);
  }
}
