/**
 * The tiers, nearest first: in-process (L1), then Redis, then the database.
 * Owns the error policy of the read path: a failing tier is reported and
 * skipped, never thrown at the caller, and the database answers instead.
 *
 * Every entry carries the versions of the tags it depends on, captured
 * before the database read that produced it, and is served only while they
 * are current (docs/invalidation.md). That is what makes a fill that races
 * an invalidation harmless: it is stored with versions that are already old.
 *
 * This file is the story of one read; each step lives in a module of its own:
 *   l1-hit.ts        the in-process hit (the hot path), and a load that landed while a miss waited
 *   shared-lookup.ts the Redis entry and the versions captured with it, in one round trip
 *   early-loads.ts   the database read started at once while Redis rarely hits
 *   lock-wait.ts     the cross-process single-flight lock and the wait for another process's entry
 *   loader.ts        the database read itself, handed to filler.ts to store
 *   refresh.ts       stale-while-revalidate: one background refresh per key
 * A miss travels through them as one {@link Miss}.
 */
import type { CacheError } from "../errors.js";
import type { VersionSource } from "../invalidation/version-source.js";
import type { QueryKey } from "../keys/query-key.js";
import type { ResolvedExpiry } from "../options/resolve.js";
import type { Clock } from "../options/types.js";
import { cloneResult } from "../serialize/clone.js";
import { estimateSize } from "../serialize/size-estimate.js";
import type { ReadObserver } from "../observe/read-observer.js";
import type { Counters } from "../stats.js";
import type { Entry } from "../tiers/entry.js";
import type { L1Tier } from "../tiers/l1-tier.js";
import type { RedisLock } from "../tiers/redis-lock.js";
import type { RedisTier } from "../tiers/redis-tier.js";
import { DETACH, LOAD, type ReadSource } from "./cached-query.js";
import { EarlyLoads } from "./early-loads.js";
import type { Filler } from "./filler.js";
import { Flights, sameVersions } from "./flights.js";
import { freshnessOf, type Freshness } from "./freshness.js";
import { HitRate } from "./hit-rate.js";
import { L1Hits } from "./l1-hit.js";
import { Loader } from "./loader.js";
import { LockWait } from "./lock-wait.js";
import { Miss } from "./miss.js";
import { QueryTags } from "./query-tags.js";
import { Refresher } from "./refresh.js";
import { SharedLookup } from "./shared-lookup.js";
import { ReadBudget } from "../redis/read-budget.js";

/** What a tier stack is built from (see compose.ts). */
export interface StackParts {
  readonly clock: Clock;
  readonly counters: Counters;
  /** The in-process tier, or undefined when `l1: false`. */
  readonly l1: L1Tier | undefined;
  /** The shared tier, with Redis. */
  readonly redis: RedisTier | undefined;
  readonly versions: VersionSource;
  /** The cross-process single-flight lock, when on (with Redis). */
  readonly lock: RedisLock | undefined;
  /** Stores loads in the tiers and tracks background work. */
  readonly filler: Filler;
  /** Reports an absorbed failure (see report.ts). */
  readonly report: (error: CacheError) => void;
  /** `redisTimeout` in ms, with Redis: how long reads whose lookups failed may still use a load that landed. */
  readonly redisTimeoutMs?: number;
  /** Told each read's outcome: labelled metrics, per-query info, log events, diagnostics channels. */
  readonly observer: ReadObserver;
}

/** The tier stack of one extension instance. */
export class CacheStack {
  /** The in-process tier, or undefined when `l1: false`. */
  readonly l1: L1Tier | undefined;
  /** Reports an absorbed failure (see report.ts). */
  readonly report: (error: CacheError) => void;
  readonly #clock: Clock;
  readonly #counters: Counters;
  readonly #observer: ReadObserver;
  readonly #versions: VersionSource;
  readonly #filler: Filler;
  readonly #tags = new QueryTags();
  /** Loads in progress, for single-flight in this process. */
  readonly #flights: Flights;
  /** How often Redis answered lately when the in-process tier did not (see early-loads.ts). */
  readonly #sharedHitRate = new HitRate();
  readonly #l1Hits: L1Hits | undefined;
  readonly #lookup: SharedLookup;
  readonly #loader: Loader;
  readonly #refresher: Refresher;
  readonly #earlyLoads: EarlyLoads;
  /** The cross-process lock wait, when the lock is on. */
  readonly #lockWait: LockWait | undefined;
  /** The shared tier, with Redis. */
  readonly #redis: RedisTier | undefined;
  /** `redisTimeout` in ms, with Redis: the Redis time of one read. */
  readonly #redisTimeoutMs: number | undefined;

  constructor(parts: StackParts) {
    const { clock, counters, l1, versions, lock, filler, report } = parts;
    this.l1 = l1;
    this.report = report;
    this.#clock = clock;
    this.#counters = counters;
    this.#observer = parts.observer;
    this.#versions = versions;
    this.#filler = filler;
    this.#redis = parts.redis;
    this.#redisTimeoutMs = parts.redis === undefined ? undefined : parts.redisTimeoutMs;
    // Failed lookups are told so in waves, one per check of the Redis timeout (a quarter of it apart): a load
    // without versions stays joinable long enough for every wave of its burst.
    this.#flights = new Flights(parts.redisTimeoutMs === undefined ? 0 : Math.ceil(parts.redisTimeoutMs * 1.5));
    this.#lookup = new SharedLookup(parts.redis, versions, clock, report);
    this.#loader = new Loader(filler, parts.observer);
    const refresher = new Refresher({
      ...parts,
      tags: this.#tags,
      flights: this.#flights,
      lookup: this.#lookup,
      loader: this.#loader,
    });
    this.#l1Hits = l1 && new L1Hits(l1, versions, clock, counters, refresher, parts.observer);
    this.#earlyLoads = new EarlyLoads(lock === undefined, this.#sharedHitRate, this.#flights, this.#loader);
    this.#lockWait =
      lock &&
      new LockWait({
        ...parts,
        lock,
        lookup: this.#lookup,
        loader: this.#loader,
        sharedHitRate: this.#sharedHitRate,
        serveShared: (miss, shared, freshness, l1) => this.#serveShared(miss, shared, freshness, l1),
      });
    this.#refresher = refresher;
  }

  /**
   * Reads `key` through the tiers, calling `source[LOAD]()` (the database) on
   * a miss, and fills the tiers with what it returned. The in-process hit is
   * answered synchronously (wrapped in a resolved promise) with a fresh copy.
   */
  read(key: QueryKey, expiry: ResolvedExpiry, source: ReadSource): Promise<unknown> {
    return this.readLocal(key, expiry, source) ?? this.readPastLocal(key, expiry, source);
  }

  /** The first half of {@link read}: the in-process hit (a fresh copy), or undefined. */
  readLocal(key: QueryKey, expiry: ResolvedExpiry, source: ReadSource): Promise<unknown> | undefined {
    return this.#l1Hits?.serve(key, expiry, source);
  }

  /** The second half of {@link read}, after an in-process miss: Redis, the lock, the database. */
  readPastLocal(key: QueryKey, expiry: ResolvedExpiry, source: ReadSource): Promise<unknown> {
    // A miss loads after awaiting Redis, by which time the caller may have changed its arguments: load a copy.
    return this.#readShared(key, expiry, source[DETACH]?.() ?? source);
  }

  /**
   * True while this instance hears every invalidation (always without Redis): its in-process tier is in use and
   * Redis answers. Otherwise reads miss for want of Redis, not for want of repeats (see read/admission.ts).
   */
  working(): boolean {
    return this.#versions.hearsEveryInvalidation();
  }

  /** Resolves once in-process entries can be served (at once without Redis; after the bus subscribed with it). */
  ready(): Promise<void> {
    return this.#versions.ready();
  }

  async #readShared(key: QueryKey, expiry: ResolvedExpiry, source: ReadSource): Promise<unknown> {
    // Which loads this read may join without captured versions: those begun after it (see flights.ts).
    const began = performance.now();
    // Decided before the capture: an in-process entry must not predate this instance hearing every invalidation,
    // and the mirror's versions are only trusted while it does.
    const hears = this.#versions.hearsEveryInvalidation();
    const l1 = hears ? this.l1 : undefined;
    const tags = this.#tags.of(key, source);
    if (this.#versions.mirror.anyUnbumped(tags)) {
      // Our own write's invalidation has not reached Redis: its entries there still look current.
      this.#counters.bypassed++;
      this.#observer.uncached(key, source, false);
      return source[LOAD]();
    }
    const local = this.#versions.readLocal(tags);
    if (local !== undefined) {
      // One process, no Redis: the versions are this process's, read synchronously.
      this.#counters.misses++;
      this.#observer.missed(key, source, tags);
      return this.#joinOrLoad(new Miss(key, tags, local, expiry, source, l1));
    }
    const mirrored = hears ? this.#versions.mirror.versionsOf(tags) : undefined;
    const mirroredMiss = mirrored && new Miss(key, tags, mirrored, expiry, source, l1);
    if (mirroredMiss !== undefined) {
      // A load under the versions this read would capture is already running: no Redis round trip either.
      const joined = this.#join(mirroredMiss);
      if (joined !== undefined) {
        this.#counters.misses++;
        this.#observer.missed(key, source, tags);
        return joined;
      }
      // Redis rarely holds what this instance misses: skip the lookup, and let taking the lock (which returns
      // the entry too) be the lookup. One round trip before the database instead of two.
      // (Only on a checked server: the lock's take may serve the entry it returns, see redis/server-identity.ts.)
      if (this.#lockWait !== undefined && this.#sharedHitRate.low() && this.#redis?.checked() === true)
        return this.#joinOrLoad(mirroredMiss, false, this.#budget());
    }
    // Every round trip from here to the first lock take shares one redisTimeout (read-budget.ts).
    const budget = this.#budget();
    const early = mirroredMiss && this.#earlyLoads.start(mirroredMiss);
    if (early !== undefined && !this.#sharedHitRate.probe()) {
      // Redis would only replace a fresh database result with an equally fresh entry: skip the round trip,
      // asking it on one miss in PROBE_EVERY only, to notice when it starts holding entries again.
      this.#counters.misses++;
      this.#observer.missed(key, source, tags);
      return early;
    }
    const { captured, shared } = await this.#lookup.lookup(key, tags, mirrored, early === undefined, budget);
    // Without versions captured before the load, a fill could outlive an invalidation: load unfilled. Join only a
    // load begun after this read did, so that it sees every write that resolved before; reads whose lookups failed
    // together share one load, whatever Redis does.
    if (captured === undefined) {
      this.#counters.misses++;
      this.#observer.missed(key, source, tags);
      this.#sharedHitRate.record(false);
      if (early !== undefined) return early;
      const joined = this.#flights.joinBegunSince(key.local, began);
      if (joined !== undefined) {
        this.#counters.coalesced++;
        this.#observer.joined(key, source);
        return joined;
      }
      return this.#flights.start(key.local, undefined, Promise.resolve(source[LOAD]()));
    }
    const miss = new Miss(key, tags, captured, expiry, source, l1);
    const freshness =
      shared === undefined
        ? "dead"
        : freshnessOf(shared, sameVersions(shared.versions, captured), this.#clock.now(), expiry);
    if (shared !== undefined && freshness !== "dead") {
      this.#sharedHitRate.record(true);
      if (early !== undefined) {
        this.#counters.earlyLoads++;
        early.catch(() => undefined); // Its result is not needed; neither is its error.
      }
      return this.#serveShared(miss, shared, freshness, l1, began);
    }
    this.#counters.misses++;
    this.#observer.missed(key, source, tags);
    this.#sharedHitRate.record(false);
    return early ?? this.#joinOrLoad(miss, true, budget);
  }

  /** A new read's Redis time (read-budget.ts), with Redis. */
  #budget(): ReadBudget | undefined {
    return this.#redisTimeoutMs === undefined ? undefined : new ReadBudget(this.#redisTimeoutMs);
  }

  /** Joins the flight of the miss's key started under its versions, if there is one (counted). */
  #join(miss: Miss): Promise<unknown> | undefined {
    const joined = this.#flights.join(miss.key.local, miss.captured);
    if (joined !== undefined) {
      this.#counters.coalesced++;
      this.#observer.joined(miss.key, miss.source);
    }
    return joined;
  }

  /**
   * Joins a load under `miss.captured` in progress, or starts one (under the
   * cross-process lock when it is on). `lookedUp`: false when Redis was not
   * asked for the entry yet (the lock's first take then reads it, and this
   * read is counted as a hit or a miss there).
   */
  #joinOrLoad(miss: Miss, lookedUp = true, budget?: ReadBudget): Promise<unknown> {
    const joined = this.#join(miss) ?? this.#l1Hits?.landed(miss);
    if (joined !== undefined) return joined;
    const load =
      this.#lockWait === undefined ? this.#loader.loadAndFill(miss) : this.#lockWait.load(miss, lookedUp, budget);
    return this.#flights.start(miss.key.local, miss.captured, load);
  }

  /**
   * Serves a live shared entry: it becomes the in-process copy (in `l1`, when
   * given), the caller gets its own, and a stale one is refreshed. `began`: when the read began
   * (`performance.now()`), to time the hit; unknown after a lock wait (its time is the wait's).
   */
  #serveShared(miss: Miss, shared: Entry, freshness: Freshness, l1: L1Tier | undefined, began?: number): unknown {
    this.#counters.l2Hits++;
    this.#observer.hit("l2", miss.key.local, shared, freshness === "stale", miss.source, began);
    if (freshness !== "fresh") this.#refresher.later(miss.key, miss.expiry, miss.source, freshness, shared);
    if (l1 === undefined) return shared.value;
    l1.set(miss.key.local, shared, estimateSize(shared.value));
    return cloneResult(shared.value);
  }

  /**
   * Stores a value known to be current under `versions` (write-through).
   * Same rules as a fill after a miss.
   */
  store(
    key: QueryKey,
    tags: readonly string[],
    versions: readonly number[],
    expiry: ResolvedExpiry,
    value: unknown,
  ): void {
    const l1 = this.#versions.hearsEveryInvalidation() ? this.l1 : undefined;
    this.#filler.fill({ key, tags, captured: versions, expiry, l1 }, value, 0);
  }

  /** Resolves when every background write, refresh and lock release started so far has finished. */
  settled(): Promise<void> {
    return this.#filler.settled();
  }
}
