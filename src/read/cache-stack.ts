/**
 * The tiers, nearest first: in-process LRU, then Redis, then the database.
 * Owns the error policy of the read path: a failing tier is reported and
 * skipped, never thrown at the caller, and the database answers instead.
 *
 * Every entry carries the versions of the tags it depends on, captured
 * before the database read that produced it, and is served only while they
 * are current (docs/invalidation.md). That is what makes a fill that races
 * an invalidation harmless: it is stored with versions that are already old.
 */
import { CacheError } from "../errors.js";
import type { InvalidationBus } from "../invalidation/bus.js";
import type { VersionMirror } from "../invalidation/version-mirror.js";
import type { LocalVersionStore, VersionStore } from "../invalidation/version-store.js";
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
import { LOAD, TAGS, type ReadSource } from "./cached-query.js";

/** How tag versions are kept: in Redis (with a mirror and a bus), or in this process only. */
export type VersionSource = { kind: "redis"; store: VersionStore; bus: InvalidationBus } | { kind: "local"; store: LocalVersionStore };

/** While Redis rarely hits, one miss in this many still asks it (to learn when that changes). */
const PROBE_EVERY = 8;

/** Bound on remembered tag lists (one per query text); past it they are derived again. */
const MAX_CACHED_TAG_LISTS = 10_000;

/** The tag of one query's entries, for `$cache.invalidateQuery`. */
export function queryTag(key: QueryKey): string {
  return `q:${key.shared().id}`;
}

/** The tier stack of one extension instance. */
export class CacheStack {
  /** The in-process tier, or undefined when `l1: false`. */
  readonly memory: MemoryTier | undefined;
  readonly #redis: RedisTier | undefined;
  readonly #options: ResolvedOptions;
  readonly #counters: Counters;
  readonly #mirror: VersionMirror;
  readonly #versions: VersionSource;
  readonly #pendingWrites = new Set<Promise<void>>();
  readonly #tagCache = new Map<string, string[]>();
  /** How often Redis answered lately when the in-process tier did not (see #earlyLoad). */
  readonly #sharedHitRate = new HitRate();
  /** Reports an absorbed failure (see report.ts). */
  readonly report: (error: CacheError) => void;

  readonly #unbumped: ReadonlySet<string>;

  /** @param unbumped tags whose invalidation Redis has not taken yet (their reads go to the database) */
  constructor(options: ResolvedOptions, counters: Counters, memory: MemoryTier | undefined, mirror: VersionMirror, versions: VersionSource, report: (error: CacheError) => void, unbumped: ReadonlySet<string>) {
    this.#unbumped = unbumped;
    this.#options = options;
    this.#counters = counters;
    this.memory = memory;
    this.#mirror = mirror;
    this.#versions = versions;
    this.report = report;
    this.#redis = options.redis && new RedisTier(options.redis, options.redisTimeoutMs);
  }

  /**
   * Reads `key` through the tiers, calling `source[LOAD]()` (the database) on
   * a miss, and fills the tiers with what it returned. The in-process hit is
   * answered synchronously (wrapped in a resolved promise) with a fresh copy.
   */
  read(key: QueryKey, expiry: ResolvedExpiry, source: ReadSource): Promise<unknown> {
    const entry = this.memory?.get(key.local, this.#options.clock.now());
    if (entry !== undefined && this.#memoryUsable() && this.#current(entry)) {
      this.#counters.l1Hits++;
      return Promise.resolve((entry.clone ?? cloneResult)(entry.value));
    }
    return this.#readShared(key, expiry, source);
  }

  /**
   * The tags of a read: its query tag and what the data model says it
   * depends on. Derived once per query text (walking the arguments and
   * hashing record keys costs more than the rest of a Redis hit's CPU).
   */
  #tagsOf(key: QueryKey, source: ReadSource): string[] {
    let tags = this.#tagCache.get(key.local);
    if (tags === undefined) {
      tags = [queryTag(key), ...source[TAGS]()];
      if (this.#tagCache.size >= MAX_CACHED_TAG_LISTS) this.#tagCache.clear();
      this.#tagCache.set(key.local, tags);
    }
    return tags;
  }

  /** True when every tag version stored with `entry` is the mirror's; checked once per mirror epoch. */
  #current(entry: Entry): boolean {
    const epoch = this.#mirror.epoch;
    if (entry.checkedEpoch === epoch) return true;
    if (!this.#mirror.matches(entry.tags, entry.versions)) return false;
    entry.checkedEpoch = epoch;
    return true;
  }

  /** In-process entries are served only while this instance hears every invalidation. */
  #memoryUsable(): boolean {
    return this.#versions.kind === "local" || this.#versions.bus.healthy();
  }

  /** Resolves once in-process entries can be served (at once without Redis; after the bus subscribed with it). */
  ready(): Promise<void> {
    return this.#versions.kind === "local" ? Promise.resolve() : this.#versions.bus.ready;
  }

  async #readShared(key: QueryKey, expiry: ResolvedExpiry, source: ReadSource): Promise<unknown> {
    // Decided before the capture: an in-process entry must not predate this instance hearing every invalidation,
    // and the mirror's versions are only trusted while it does.
    const hearing = this.#memoryUsable();
    const memory = hearing ? this.memory : undefined;
    const tags = this.#tagsOf(key, source);
    if (this.#unbumped.size > 0 && tags.some((tag) => this.#unbumped.has(tag))) {
      // Our own write's invalidation has not reached Redis: its entries there still look current.
      this.#counters.bypassed++;
      return source[LOAD]();
    }
    const early = hearing ? this.#earlyLoad(tags, source) : undefined;
    if (early !== undefined && !this.#sharedHitRate.probe()) {
      // Redis would only replace a fresh database result with an equally fresh entry: skip the round trip,
      // asking it on one miss in PROBE_EVERY only, to notice when it starts holding entries again.
      this.#counters.misses++;
      const value = await early.value;
      this.#fill(memory, key, tags, early.versions, expiry, value);
      return value;
    }
    const mirrored = early?.versions ?? (hearing ? this.#mirror.versionsOf(tags) : undefined);
    let { captured, text } = await this.#capture(key, tags, mirrored);
    let shared = text === null || captured === undefined ? undefined : this.#decode(key, text, tags);
    if (shared !== undefined && mirrored !== undefined && early === undefined && anyNewer(shared.versions, mirrored)) {
      // The entry was stored under versions newer than the mirror's (a version key expired and was
      // re-created, say): read Redis's versions once, so the mirror learns them and the entry can hit.
      // An entry with older versions is simply dead: no extra round trip for it.
      ({ captured, text } = await this.#capture(key, tags, undefined));
      shared = text === null || captured === undefined ? undefined : this.#decode(key, text, tags);
    }
    if (shared !== undefined && captured !== undefined) {
      if (sameVersions(shared.versions, captured)) {
        this.#counters.l2Hits++;
        this.#sharedHitRate.record(true);
        if (early !== undefined) {
          this.#counters.speculativeLoads++;
          early.value.catch(() => undefined); // Its result is not needed; neither is its error.
        }
        if (memory === undefined) return shared.value;
        // The decoded entry becomes the in-process copy; the caller gets its own.
        memory.set(key.local, shared, estimateSize(shared.value));
        return cloneResult(shared.value);
      }
    }
    this.#counters.misses++;
    this.#sharedHitRate.record(false);
    if (early !== undefined) {
      const value = await early.value;
      this.#fill(memory, key, tags, early.versions, expiry, value);
      return value;
    }
    const value = await source[LOAD]();
    // Without versions captured before the load, a fill could outlive an invalidation: skip it.
    if (captured !== undefined) this.#fill(memory, key, tags, captured, expiry, value);
    return value;
  }

  /**
   * When Redis has rarely held what this instance missed lately, the
   * database read starts at once instead of after a Redis lookup; Redis is
   * then asked alongside it on one miss in PROBE_EVERY only, to learn when it
   * starts holding entries again. The miss costs about a database read. It needs versions captured before the database read without
   * a round trip, so only when the mirror knows every tag and the bus is
   * healthy: mirror versions are never ahead of Redis, so an entry stored
   * with them can only be born dead, never stale (docs/invalidation.md).
   */
  #earlyLoad(tags: readonly string[], source: ReadSource): { versions: number[]; value: Promise<unknown> } | undefined {
    if (this.#versions.kind !== "redis" || !this.#sharedHitRate.low()) return undefined;
    const versions = this.#mirror.versionsOf(tags);
    if (versions === undefined) return undefined;
    // then(): Prisma queries are lazy; this dispatches it now. The no-op catch marks a failure as
    // handled while the Redis lookup is still out: the await that follows still receives it.
    const value = Promise.resolve(source[LOAD]()).then((row) => row);
    value.catch(() => undefined);
    return { versions, value };
  }

  /**
   * Captures the current versions of `tags` (before the database read) and,
   * with Redis, the shared entry, in one round trip. `captured` is undefined
   * when Redis cannot answer: the read then goes to the database unfilled.
   *
   * `mirrored` are the mirror's versions, given while the bus is healthy and
   * the mirror knows every tag. They are what in-process entries are checked
   * against, with the same guarantee: never ahead of Redis, and behind it
   * only for a write that has not resolved yet (the writer waits for this
   * instance's acknowledgement). A shared entry is then checked against them
   * too, and the round trip reads only the entry.
   */
  async #capture(key: QueryKey, tags: string[], mirrored: number[] | undefined): Promise<{ captured: number[] | undefined; text: string | null }> {
    if (this.#versions.kind === "local") return { captured: this.#versions.store.readNow(tags), text: null };
    const redis = this.#redis as RedisTier;
    if (!redis.ready) {
      this.report(new CacheError("E_REDIS", `Redis is not connected; ${key.shared().name} is read from the database, uncached.`));
      return { captured: undefined, text: null };
    }
    try {
      if (mirrored !== undefined) return { captured: mirrored, text: await redis.get(key.shared().name) };
      const { entry, versions } = await this.#versions.store.read(tags, key.shared().name);
      return { captured: versions, text: entry };
    } catch (error) {
      this.report(error instanceof CacheError ? error : new CacheError("E_REDIS", "reading an entry and its tag versions failed.", error));
      return { captured: undefined, text: null };
    }
  }

  /** The live entry encoded in `text`, or undefined (reported when damaged). */
  #decode(key: QueryKey, text: string, tags: readonly string[]): Entry | undefined {
    const { name, fingerprint } = key.shared();
    try {
      const decoded = decodeEntry(text, fingerprint, tags);
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
   * Stores a value known to be current under `versions` (write-through).
   * Same rules as a fill after a miss.
   */
  store(key: QueryKey, tags: readonly string[], versions: readonly number[], expiry: ResolvedExpiry, value: unknown): void {
    this.#fill(this.#memoryUsable() ? this.memory : undefined, key, tags, versions, expiry, value);
  }

  /**
   * Stores a freshly loaded value. The copy for the in-process tier is taken
   * now, before the caller can mutate `value`; serialising and writing to
   * Redis happen after the caller has its result, off its latency path.
   */
  #fill(memory: MemoryTier | undefined, key: QueryKey, tags: readonly string[], versions: readonly number[], expiry: ResolvedExpiry, value: unknown): void {
    const ttlMs = isNegativeResult(value) ? expiry.negativeTtlMs : expiry.ttlMs;
    if (ttlMs <= 0) return;
    const storedAt = this.#options.clock.now();
    const entry: Entry = { value: cloneResult(value), storedAt, expiresAt: storedAt + ttlMs, tags, versions };
    memory?.set(key.local, entry, estimateSize(entry.value));
    if (this.#redis !== undefined) this.#track(this.#writeShared(key, entry, ttlMs));
  }

  async #writeShared(key: QueryKey, entry: Entry, ttlMs: number): Promise<void> {
    const { name, fingerprint } = key.shared();
    const encode = (): string | undefined => {
      try {
        return encodeEntry(fingerprint, entry, serialize(entry.value));
      } catch (error) {
        this.report(new CacheError("E_SERIALIZE", `the result for ${name} could not be serialised for Redis; it stays in-process only.`, error));
        return undefined;
      }
    };
    try {
      await (this.#redis as RedisTier).setSoon(name, encode, ttlMs);
    } catch (error) {
      this.report(error instanceof CacheError ? error : new CacheError("E_REDIS", `SET ${name} failed.`, error));
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
}

function anyNewer(versions: readonly number[], than: readonly number[]): boolean {
  for (let i = 0; i < versions.length; i++) if ((versions[i] as number) > (than[i] as number)) return true;
  return false;
}

function sameVersions(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * An exponentially weighted hit rate (the last ~20 outcomes weigh most).
 * Starts high, so a fresh instance asks Redis first until it learns otherwise.
 */
class HitRate {
  #rate = 1;
  #sinceProbe = 0;

  /** While the rate is low: true on one call in PROBE_EVERY (ask Redis), false otherwise. */
  probe(): boolean {
    return ++this.#sinceProbe % PROBE_EVERY === 0;
  }

  record(hit: boolean): void {
    this.#rate = 0.9 * this.#rate + (hit ? 0.1 : 0);
  }

  /** Below one hit in five. */
  low(): boolean {
    return this.#rate < 0.2;
  }
}
