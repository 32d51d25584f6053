/**
 * The fill side of the tier stack: what a load stores, and the background
 * work that follows a read. The in-process copy is taken at once, before the
 * caller can mutate its result; serialising and writing to Redis happen
 * after the caller has it, off its latency path. A lock holder's fill also
 * releases the lock, once the entry is where waiters look for it.
 */
import { asCacheError, CacheError } from "../errors.js";
import { keyShape, type QueryKey } from "../keys/query-key.js";
import type { ReadObserver } from "../observe/read-observer.js";
import type { Counters } from "../stats.js";
import type { Clock } from "../options/types.js";
import { cloneResult } from "../serialize/clone.js";
import { serialize } from "../serialize/serializer.js";
import { estimateSize } from "../serialize/size-estimate.js";
import { encodeEntry, type Entry } from "../tiers/entry.js";
import type { RedisLock } from "../tiers/redis-lock.js";
import type { RedisTier } from "../tiers/redis-tier.js";
import { lifetimeOf } from "./freshness.js";
import type { FillTarget } from "./miss.js";

/**
 * A loaded value handed back to its callers but stored in no tier: a
 * computation's value that the shared tier cannot hold (see computation.ts).
 * Both tiers must then agree, so the in-process tier does not keep it either.
 */
export class Uncacheable {
  constructor(readonly value: unknown) {}
}

/** Bound on remembered oversize query shapes (see #reportOversize). */
const MAX_REPORTED_SHAPES = 1_000;

/** Stores loaded values in the tiers, and tracks the background work of one extension instance. */
export class Filler {
  readonly #clock: Clock;
  readonly #redis: RedisTier | undefined;
  readonly #lock: RedisLock | undefined;
  readonly #report: (error: CacheError) => void;
  readonly #counters: Counters;
  readonly #observer: ReadObserver | undefined;
  readonly #pending = new Set<Promise<void>>();
  /** Query shapes whose results were reported too large for the in-process tier. */
  readonly #oversizeShapes = new Set<string>();

  /**
   * @param redis the shared tier, when there is one
   * @param lock the cross-process single-flight lock, when on
   * @param counters counts first reads kept out of Redis
   * @param observer told each stored entry's size (labelled metrics)
   */
  constructor(
    clock: Clock,
    redis: RedisTier | undefined,
    lock: RedisLock | undefined,
    report: (error: CacheError) => void,
    counters: Counters,
    observer?: ReadObserver,
  ) {
    this.#clock = clock;
    this.#redis = redis;
    this.#lock = lock;
    this.#report = report;
    this.#counters = counters;
    this.#observer = observer;
  }

  /**
   * Stores a freshly loaded value under `target.captured` (captured before
   * its load): in `target.l1` now, in Redis soon. `holding`: the lock token
   * of a holder, released once the entry is stored (or at once if it is not).
   * `firstRead`: the holder's key had not been read within its lifetime; its
   * entry goes to Redis only if a waiter wants it (docs/expiry.md, "Shared
   * from a key's second read").
   */
  fill(target: FillTarget, value: unknown, loadMs: number, holding?: string, firstRead = false): void {
    const { key } = target;
    const stored = this.#entryOf(target, value, loadMs);
    const entry = stored?.entry;
    if (this.#redis === undefined) return;
    if (entry === undefined) {
      if (holding !== undefined) this.release(key.shared().name, holding);
      return;
    }
    const ttlMs = entry.expiresAt - entry.storedAt;
    const lock = this.#lock;
    if (holding !== undefined && lock !== undefined && lock.combinesStore) {
      this.track(
        // Kept out of Redis only when the in-process tier holds it: otherwise it would be cached nowhere.
        firstRead && stored?.inL1 === true
          ? this.#writeIfWanted(key, entry, ttlMs, holding, lock)
          : this.#writeHolding(key, entry, ttlMs, holding, lock),
      );
      return;
    }
    const written = this.#writeShared(key, entry, ttlMs, this.#redis);
    this.track(written);
    // Released once the entry is in Redis, so that waiters find it.
    if (holding !== undefined) void written.then(() => this.release(key.shared().name, holding));
  }

  /** Releases a lock this instance holds, off the caller's path (a failure is reported; the lease then runs out). */
  release(name: string, token: string): void {
    this.track(
      (this.#lock as RedisLock)
        .release(name, token)
        .catch((error: unknown) =>
          this.#report(asCacheError(error, "E_LOCK", `releasing the lock of ${name} failed.`)),
        ),
    );
  }

  /** Tracks background work for settled(). Its failures must be handled by the caller; this only observes the end. */
  track(work: Promise<void>): void {
    this.#pending.add(work);
    const done = (): void => void this.#pending.delete(work);
    work.then(done, done);
  }

  /** Resolves when every piece of background work started so far has finished. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  /**
   * The entry a loaded value is stored as, and whether the in-process tier
   * (`target.l1`) took it, or undefined when it is not stored: `undefined` results, an
   * {@link Uncacheable} value, a ttl of 0, or a value that cannot be copied (reported).
   */
  #entryOf(target: FillTarget, value: unknown, loadMs: number): { entry: Entry; inL1: boolean } | undefined {
    const { key, l1, expiry } = target;
    // `undefined` is no query result; a computation returning it is not cached (return null to cache "nothing").
    if (value === undefined || value instanceof Uncacheable) return undefined;
    const storedAt = this.#clock.now();
    const lifetime = lifetimeOf(expiry, isNegativeResult(value), storedAt);
    if (lifetime === undefined) return undefined;
    try {
      const entry: Entry = {
        value: cloneResult(value),
        storedAt,
        ...lifetime,
        loadMs: Math.round(loadMs),
        tags: target.tags,
        versions: target.captured,
      };
      const observer = this.#observer;
      const sizing = observer?.sizing === true;
      let inL1 = false;
      if (l1 !== undefined || sizing) {
        const bytes = estimateSize(entry.value);
        if (sizing) observer?.stored(key, bytes);
        inL1 = l1 !== undefined && l1.set(key.local, entry, bytes);
        if (l1 !== undefined && !inL1) this.#reportOversize(key, bytes, l1.maxSize);
      }
      return { entry, inL1 };
    } catch (error) {
      // A value that cannot be copied (a cycle, say) is returned, not stored; the message carries the cause's.
      this.#report(
        new CacheError(
          "E_SERIALIZE",
          `the result for ${key.shared().name} could not be copied for the cache (${error instanceof Error ? error.message : String(error)}); it was returned uncached.`,
          error,
        ),
      );
      return undefined;
    }
  }

  /**
   * A result larger than the in-process tier's bound, which lru-cache drops
   * without a word: reported once per query shape (keys/query-key.ts
   * `keyShape`), since every read of that shape would repeat it.
   */
  #reportOversize(key: QueryKey, bytes: number, maxSize: number): void {
    const shape = keyShape(key.local);
    if (this.#oversizeShapes.has(shape)) return;
    // Bounded: past the bound, shapes are forgotten and may be reported again.
    if (this.#oversizeShapes.size >= MAX_REPORTED_SHAPES) this.#oversizeShapes.clear();
    this.#oversizeShapes.add(shape);
    const where =
      this.#redis === undefined
        ? "so it is never cached"
        : "so it is kept in Redis only, and every hit costs a round trip";
    this.#report(
      new CacheError(
        "E_UNCACHEABLE",
        `a result of ${shape} is about ${bytes} bytes (estimated), more than l1.maxSize (${maxSize} bytes): the in-process tier cannot hold it, ${where}. Raise l1.maxSize, or narrow the query (select, take). Reported once per query shape.`,
      ),
    );
  }

  /** A lock holder's fill: the entry and the release in one script, after the caller has its result. */
  async #writeHolding(key: QueryKey, entry: Entry, ttlMs: number, token: string, lock: RedisLock): Promise<void> {
    await Promise.resolve(); // Serialising happens after the caller's continuation, off its latency.
    const text = this.#encode(key, entry);
    if (text === undefined) {
      this.release(key.shared().name, token);
      return;
    }
    try {
      await lock.storeAndRelease(key.shared().name, text, ttlMs, token);
    } catch (error) {
      this.#report(asCacheError(error, "E_REDIS", `storing ${key.shared().name} and releasing its lock failed.`));
    }
  }

  /**
   * A first read's fill (the entry is in-process already): released at once unless a waiter wants the entry, then
   * stored for it with the release. Reads after it mark the key as read, so the next one to load stores its entry.
   */
  async #writeIfWanted(key: QueryKey, entry: Entry, ttlMs: number, token: string, lock: RedisLock): Promise<void> {
    const { name } = key.shared();
    let outcome;
    try {
      outcome = await lock.releaseUnlessWanted(name, token);
    } catch (error) {
      this.#report(asCacheError(error, "E_LOCK", `releasing the lock of ${name} failed.`));
      return;
    }
    if (outcome === "released") this.#counters.firstReadsUnshared++;
    else if (outcome === "wanted") await this.#writeHolding(key, entry, ttlMs, token, lock);
  }

  /**
   * The shared-tier text of `entry`, or undefined when its value cannot be serialised (reported: it stays in-process).
   */
  #encode(key: QueryKey, entry: Entry): string | undefined {
    const { name, fingerprint } = key.shared();
    try {
      return encodeEntry(fingerprint, entry, serialize(entry.value));
    } catch (error) {
      this.#report(
        new CacheError(
          "E_SERIALIZE",
          `the result for ${name} could not be serialised for Redis; it stays in-process only.`,
          error,
        ),
      );
      return undefined;
    }
  }

  async #writeShared(key: QueryKey, entry: Entry, ttlMs: number, redis: RedisTier): Promise<void> {
    const { name } = key.shared();
    try {
      await redis.setSoon(name, () => this.#encode(key, entry), ttlMs);
    } catch (error) {
      this.#report(asCacheError(error, "E_REDIS", `SET ${name} failed.`));
    }
  }
}

/**
 * True for a "nothing found" result: `null` from `findUnique`/`findFirst`, an
 * empty list from `findMany`/`groupBy`. Such results use `negativeTtl`
 * (0 by default: not cached), so a row created later is seen at once.
 * `*OrThrow` not-found outcomes are errors, and errors are never cached.
 */
function isNegativeResult(value: unknown): boolean {
  return value === null || (Array.isArray(value) && value.length === 0);
}
