/**
 * The tiers, nearest first: in-process LRU, then Redis, then the database.
 * Owns the error policy of the read path: a failing tier is reported and
 * skipped, never thrown at the caller, and the database answers instead.
 */
import { CacheError } from "../errors.js";
import type { QueryKey } from "../keys/query-key.js";
import type { ResolvedExpiry, ResolvedOptions } from "../options/resolve.js";
import { cloneResult } from "../serialize/clone.js";
import { serialize } from "../serialize/serializer.js";
import { estimateSize } from "../serialize/size-estimate.js";
import type { Counters } from "../stats.js";
import { decodeEntry, encodeEntry, type Entry } from "../tiers/entry.js";
import { MemoryTier } from "../tiers/memory-tier.js";
import { RedisTier } from "../tiers/redis-tier.js";
import { isNegativeResult } from "./read-operations.js";

/** The tier stack of one extension instance. */
export class CacheStack {
  /** The in-process tier, or undefined when `l1: false`. */
  readonly memory: MemoryTier | undefined;
  readonly #redis: RedisTier | undefined;
  readonly #options: ResolvedOptions;
  readonly #counters: Counters;
  readonly #pendingWrites = new Set<Promise<void>>();

  constructor(options: ResolvedOptions, counters: Counters) {
    this.#options = options;
    this.#counters = counters;
    this.memory = options.l1 && new MemoryTier(options.l1);
    this.#redis = options.redis && new RedisTier(options.redis, options.redisTimeoutMs);
  }

  /**
   * Reads `key` through the tiers, calling `source.load()` (the database) on a miss,
   * and fills the tiers with what it returned. The in-process hit is answered
   * synchronously (wrapped in a resolved promise) with a fresh copy.
   */
  read(key: QueryKey, expiry: ResolvedExpiry, source: { load(): PromiseLike<unknown> }): Promise<unknown> {
    const entry = this.memory?.get(key.local, this.#options.clock.now());
    if (entry !== undefined) {
      this.#counters.l1Hits++;
      return Promise.resolve(cloneResult(entry.value));
    }
    return this.#readShared(key, expiry, source);
  }

  async #readShared(key: QueryKey, expiry: ResolvedExpiry, source: { load(): PromiseLike<unknown> }): Promise<unknown> {
    const shared = this.#redis && (await this.#getShared(key));
    if (shared !== undefined) {
      this.#counters.l2Hits++;
      if (this.memory === undefined) return shared.value;
      // The decoded entry becomes the in-process copy; the caller gets its own.
      this.memory.set(key.local, shared, estimateSize(shared.value));
      return cloneResult(shared.value);
    }
    this.#counters.misses++;
    // Errors from the database propagate untouched and are never cached.
    const value = await source.load();
    this.#fill(key, expiry, value);
    return value;
  }

  /** The live shared entry of `key`, or undefined on a miss or any failure (reported). */
  async #getShared(key: QueryKey): Promise<Entry | undefined> {
    const { name, fingerprint } = key.shared();
    let text: string | null;
    try {
      text = await (this.#redis as RedisTier).get(name);
    } catch (error) {
      this.report(error as CacheError);
      return undefined;
    }
    if (text === null) return undefined;
    try {
      const decoded = decodeEntry(text, fingerprint);
      if (typeof decoded === "string") {
        this.report(new CacheError("E_CORRUPT_ENTRY", `entry ${name} was ignored: ${decoded === "fingerprint" ? "its fingerprint does not match the query (a key collision or a foreign writer)" : "it is not in this library's format"}.`));
        return undefined;
      }
      return decoded.expiresAt > this.#options.clock.now() ? decoded : undefined;
    } catch (error) {
      this.report(new CacheError("E_CORRUPT_ENTRY", `entry ${name} could not be decoded and was ignored.`, error));
      return undefined;
    }
  }

  /**
   * Stores a freshly loaded value. The copy for the in-process tier is taken
   * now, before the caller can mutate `value`; serialising and writing to
   * Redis happen after the caller has its result, off its latency path.
   */
  #fill(key: QueryKey, expiry: ResolvedExpiry, value: unknown): void {
    const ttlMs = isNegativeResult(value) ? expiry.negativeTtlMs : expiry.ttlMs;
    if (ttlMs <= 0) return;
    const storedAt = this.#options.clock.now();
    const entry: Entry = { value: cloneResult(value), storedAt, expiresAt: storedAt + ttlMs };
    this.memory?.set(key.local, entry, estimateSize(entry.value));
    if (this.#redis !== undefined) this.#track(this.#writeShared(key, entry, ttlMs));
  }

  async #writeShared(key: QueryKey, entry: Entry, ttlMs: number): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    const { name, fingerprint } = key.shared();
    let text: string;
    try {
      text = encodeEntry(fingerprint, entry, serialize(entry.value));
    } catch (error) {
      this.report(new CacheError("E_SERIALIZE", `the result for ${name} could not be serialised for Redis; it stays in-process only.`, error));
      return;
    }
    try {
      await (this.#redis as RedisTier).set(name, text, ttlMs);
    } catch (error) {
      this.report(error as CacheError);
    }
  }

  #track(write: Promise<void>): void {
    this.#pendingWrites.add(write);
    void write.finally(() => this.#pendingWrites.delete(write));
  }

  /** Resolves when every background write started so far has finished. */
  async settled(): Promise<void> {
    while (this.#pendingWrites.size > 0) await Promise.allSettled([...this.#pendingWrites]);
  }

  /** Counts and forwards an absorbed failure. A throwing reporter must not break the read. */
  report(error: CacheError): void {
    this.#counters.errors++;
    try {
      this.#options.onError(error);
    } catch {
      // The reporter is the user's code; its failure is theirs to see, not the query's.
    }
  }
}
