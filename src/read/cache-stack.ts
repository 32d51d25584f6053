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
import { asCacheError, CacheError } from "../errors.js";
import type { InvalidationBus } from "../invalidation/bus.js";
import type { VersionMirror } from "../invalidation/version-mirror.js";
import type { LocalVersionStore, VersionStore } from "../invalidation/version-store.js";
import type { QueryKey } from "../keys/query-key.js";
import type { ResolvedExpiry, ResolvedOptions } from "../options/resolve.js";
import { cloneResult } from "../serialize/clone.js";
import { estimateSize } from "../serialize/size-estimate.js";
import type { Counters } from "../stats.js";
import { decodeEntry, type Entry } from "../tiers/entry.js";
import { MemoryTier } from "../tiers/memory-tier.js";
import { RedisTier } from "../tiers/redis-tier.js";
import { pollDelays, type RedisLock } from "../tiers/redis-lock.js";
import { DETACH, LOAD, TAGS, type ReadSource } from "./cached-query.js";
import { Filler } from "./filler.js";
import { Flights, sameVersions } from "./flights.js";
import { HitRate } from "./hit-rate.js";
import { freshnessOf, type Freshness } from "./freshness.js";

/** How tag versions are kept: in Redis (with a mirror and a bus), or in this process only. */
export type VersionSource =
  { kind: "redis"; store: VersionStore; bus: InvalidationBus } | { kind: "local"; store: LocalVersionStore };

/** Bound on remembered tag lists (one per query text); past it they are derived again. */
const MAX_CACHED_TAG_LISTS = 10_000;

/** After a failed background refresh, the key is not refreshed again for this long (clock ms). */
const REFRESH_RETRY_MS = 1_000;
/** After finding another process loading the key, this process does not try to refresh it for this long (clock ms). */
const REFRESH_LOCKED_RETRY_MS = 250;

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
  readonly #tagCache = new Map<string, string[]>();
  /** How often Redis answered lately when the in-process tier did not (see #earlyLoad). */
  readonly #sharedHitRate = new HitRate();
  /** Reports an absorbed failure (see report.ts). */
  readonly report: (error: CacheError) => void;

  readonly #unbumped: ReadonlySet<string>;
  /** Loads in progress, for single-flight in this process. */
  readonly #flights = new Flights();
  /** The cross-process single-flight lock, when on. */
  readonly #lock: RedisLock | undefined;
  /** Stores loads in the tiers and tracks background work. */
  readonly #filler: Filler;
  /** Keys whose background refresh is being set up (before its flight exists). */
  readonly #refreshing = new Set<string>();
  /**
   * Keys not to refresh again before a time (clock ms): their last refresh failed, or another process was loading them.
   */
  readonly #refreshPaused = new Map<string, number>();

  /**
   * @param unbumped tags whose invalidation Redis has not taken yet (their reads go to the database)
   * @param lock the cross-process single-flight lock, when on (with Redis)
   */
  constructor(
    options: ResolvedOptions,
    counters: Counters,
    memory: MemoryTier | undefined,
    mirror: VersionMirror,
    versions: VersionSource,
    report: (error: CacheError) => void,
    unbumped: ReadonlySet<string>,
    lock?: RedisLock,
  ) {
    this.#unbumped = unbumped;
    this.#lock = lock;
    this.#options = options;
    this.#counters = counters;
    this.memory = memory;
    this.#mirror = mirror;
    this.#versions = versions;
    this.report = report;
    this.#redis = options.redis && new RedisTier(options.redis, options.redisTimeoutMs);
    this.#filler = new Filler(options.clock, this.#redis, lock, report);
  }

  /**
   * Reads `key` through the tiers, calling `source[LOAD]()` (the database) on
   * a miss, and fills the tiers with what it returned. The in-process hit is
   * answered synchronously (wrapped in a resolved promise) with a fresh copy.
   */
  read(key: QueryKey, expiry: ResolvedExpiry, source: ReadSource): Promise<unknown> {
    const now = this.#options.clock.now();
    const entry = this.memory?.get(key.local, now);
    if (entry !== undefined && this.#memoryUsable()) {
      const freshness = freshnessOf(entry, this.#current(entry), now, expiry);
      if (freshness !== "dead") {
        this.#counters.l1Hits++;
        if (freshness !== "fresh") this.#refreshLater(key, expiry, source, freshness, entry);
        return Promise.resolve((entry.clone ?? cloneResult)(entry.value));
      }
    }
    // A miss loads after awaiting Redis, by which time the caller may have changed its arguments: load a copy.
    return this.#readShared(key, expiry, source[DETACH]?.() ?? source);
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
    if (this.#bypasses(tags)) {
      // Our own write's invalidation has not reached Redis: its entries there still look current.
      this.#counters.bypassed++;
      return source[LOAD]();
    }
    if (this.#versions.kind === "local") {
      // One process, no Redis: the versions are this process's, read synchronously.
      this.#counters.misses++;
      return this.#joinOrLoad(key, tags, this.#versions.store.readNow(tags), expiry, source, memory);
    }
    const mirrored = hearing ? this.#mirror.versionsOf(tags) : undefined;
    if (mirrored !== undefined) {
      // A load under the versions this read would capture is already running: no Redis round trip either.
      const joined = this.#join(key, mirrored);
      if (joined !== undefined) {
        this.#counters.misses++;
        return joined;
      }
    }
    if (mirrored !== undefined && this.#lock !== undefined && this.#sharedHitRate.low()) {
      // Redis rarely holds what this instance misses: skip the lookup, and let taking the lock (which returns
      // the entry too) be the lookup. One round trip before the database instead of two.
      return this.#joinOrLoad(key, tags, mirrored, expiry, source, memory, false);
    }
    const early = mirrored === undefined ? undefined : this.#earlyLoad(key, tags, mirrored, expiry, source, memory);
    if (early !== undefined && !this.#sharedHitRate.probe()) {
      // Redis would only replace a fresh database result with an equally fresh entry: skip the round trip,
      // asking it on one miss in PROBE_EVERY only, to notice when it starts holding entries again.
      this.#counters.misses++;
      return early;
    }
    const { captured, shared } = await this.#lookup(key, tags, mirrored, early === undefined);
    const freshness =
      shared === undefined || captured === undefined
        ? "dead"
        : freshnessOf(shared, sameVersions(shared.versions, captured), this.#options.clock.now(), expiry);
    if (shared !== undefined && freshness !== "dead") {
      this.#sharedHitRate.record(true);
      if (early !== undefined) {
        this.#counters.speculativeLoads++;
        early.catch(() => undefined); // Its result is not needed; neither is its error.
      }
      return this.#serveShared(key, shared, freshness, expiry, source, memory);
    }
    this.#counters.misses++;
    this.#sharedHitRate.record(false);
    if (early !== undefined) return early;
    // Without versions captured before the load, a fill could outlive an invalidation, and a join could return
    // a load that started before a write this read must see: go to the database alone, unfilled.
    if (captured === undefined) return source[LOAD]();
    return this.#joinOrLoad(key, tags, captured, expiry, source, memory);
  }

  /** True when a read of `tags` must go to the database: our own invalidation of one of them has not reached Redis. */
  #bypasses(tags: readonly string[]): boolean {
    return this.#unbumped.size > 0 && tags.some((tag) => this.#unbumped.has(tag));
  }

  /** Joins the flight of `key` started under `versions`, if there is one (counted). */
  #join(key: QueryKey, versions: readonly number[]): Promise<unknown> | undefined {
    const joined = this.#flights.join(key.local, versions);
    if (joined !== undefined) this.#counters.coalesced++;
    return joined;
  }

  /**
   * Joins a load under `captured` in progress, or starts one (under the
   * cross-process lock when it is on). `lookedUp`: false when Redis was not
   * asked for the entry yet (the lock's first take then reads it, and this
   * read is counted as a hit or a miss there).
   */
  #joinOrLoad(
    key: QueryKey,
    tags: readonly string[],
    captured: readonly number[],
    expiry: ResolvedExpiry,
    source: ReadSource,
    memory: MemoryTier | undefined,
    lookedUp = true,
  ): Promise<unknown> {
    const joined = this.#join(key, captured);
    if (joined !== undefined) return joined;
    // A load of this key may have landed while this read waited for its lookup: its entry, if current, answers it.
    const landed = memory?.get(key.local, this.#options.clock.now());
    if (landed !== undefined && sameVersions(landed.versions, captured)) {
      const freshness = freshnessOf(landed, true, this.#options.clock.now(), expiry);
      if (freshness !== "dead") {
        this.#counters.coalesced++; // It joined a load, one that had just landed.
        if (freshness !== "fresh") this.#refreshLater(key, expiry, source, freshness, landed);
        return Promise.resolve((landed.clone ?? cloneResult)(landed.value));
      }
    }
    const load =
      this.#lock === undefined
        ? this.#loadAndFill(key, tags, captured, expiry, source, memory)
        : this.#loadUnderLock(key, tags, captured, expiry, source, memory, lookedUp);
    return this.#flights.start(key.local, captured, load);
  }

  /**
   * The shared entry of `key` and the versions to judge it by, in one round
   * trip (see #capture). `captured` is undefined when Redis cannot answer.
   * `mirrored`: the mirror's versions, when they may be trusted. `reread`:
   * whether an entry newer than them is worth a second round trip (not
   * while an early load, which used them, is already running).
   */
  async #lookup(
    key: QueryKey,
    tags: readonly string[],
    mirrored: number[] | undefined,
    reread = true,
  ): Promise<{ captured: number[] | undefined; shared: Entry | undefined }> {
    let { captured, text } = await this.#capture(key, tags, mirrored);
    let shared = text === null || captured === undefined ? undefined : this.#decode(key, text, tags);
    if (reread && shared !== undefined && mirrored !== undefined && anyNewer(shared.versions, mirrored)) {
      // The entry was stored under versions newer than the mirror's (a version key expired and was
      // re-created, say): read Redis's versions once, so the mirror learns them and the entry can hit.
      // An entry with older versions is simply dead: no extra round trip for it.
      ({ captured, text } = await this.#capture(key, tags, undefined));
      shared = text === null || captured === undefined ? undefined : this.#decode(key, text, tags);
    }
    return { captured, shared };
  }

  /**
   * Serves a live shared entry: it becomes the in-process copy, the caller gets its own, and a stale one is refreshed.
   */
  #serveShared(
    key: QueryKey,
    shared: Entry,
    freshness: Freshness,
    expiry: ResolvedExpiry,
    source: ReadSource,
    memory: MemoryTier | undefined,
  ): unknown {
    this.#counters.l2Hits++;
    if (freshness !== "fresh") this.#refreshLater(key, expiry, source, freshness, shared);
    if (memory === undefined) return shared.value;
    memory.set(key.local, shared, estimateSize(shared.value));
    return cloneResult(shared.value);
  }

  /** Loads from the database and fills the tiers under `versions` (captured before this call). */
  async #loadAndFill(
    key: QueryKey,
    tags: readonly string[],
    versions: readonly number[],
    expiry: ResolvedExpiry,
    source: ReadSource,
    memory: MemoryTier | undefined,
  ): Promise<unknown> {
    const started = performance.now();
    const value = await source[LOAD]();
    this.#filler.fill(memory, key, tags, versions, expiry, value, performance.now() - started);
    return value;
  }

  /**
   * A miss about to load, with the cross-process lock on: the process that
   * takes the lock loads; the others look for its entry, with growing pauses,
   * until it is there, the lock is free again (they take it and load), or
   * `lock.wait` has passed or Redis fails (they load without it). A waiter
   * only ever returns what an ordinary read would: each look is one.
   */
  async #loadUnderLock(
    key: QueryKey,
    tags: readonly string[],
    captured: readonly number[],
    expiry: ResolvedExpiry,
    source: ReadSource,
    memory: MemoryTier | undefined,
    lookedUp: boolean,
  ): Promise<unknown> {
    const lock = this.#lock as RedisLock;
    const name = key.shared().name;
    let versions = captured;
    const deadline = performance.now() + lock.waitMs;
    let waited = false;
    let counted = lookedUp;
    /** Without a lookup before, the first take is this read's look at Redis: count it once, as a hit or a miss. */
    const count = (hit: boolean): void => {
      if (counted) return;
      counted = true;
      this.#sharedHitRate.record(hit);
      if (!hit) this.#counters.misses++;
    };
    for (const delay of pollDelays()) {
      let taken: { token: string | undefined; entry: string | null };
      try {
        taken = await lock.take(name);
      } catch (error) {
        this.report(asCacheError(error, "E_LOCK", `taking the lock of ${name} failed.`));
        count(false);
        break;
      }
      if (taken.token !== undefined) {
        // The previous holder may have stored the entry and released the lock since our lookup: use it.
        const stored = taken.entry === null ? undefined : this.#decode(key, taken.entry, tags, !counted);
        const freshness =
          stored === undefined
            ? "dead"
            : freshnessOf(stored, sameVersions(stored.versions, versions), this.#options.clock.now(), expiry);
        count(stored !== undefined && freshness !== "dead");
        if (stored === undefined || freshness === "dead")
          return this.#loadHolding(key, tags, versions, expiry, source, memory, taken.token);
        this.#filler.release(name, taken.token);
        return this.#serveShared(key, stored, freshness, expiry, source, memory);
      }
      count(false);
      if (!waited) this.#counters.lockWaits++;
      waited = true;
      if (performance.now() + delay > deadline) break;
      await sleep(delay);
      const hearing = this.#memoryUsable();
      const look = await this.#lookup(key, tags, hearing ? this.#mirror.versionsOf(tags) : undefined);
      if (look.captured === undefined) break;
      // Versions older than this flight's (a mirror that has not heard a bump yet) must not judge what it returns:
      // readers that joined it may have started after that bump.
      if (anyNewer(versions, look.captured)) continue;
      versions = look.captured;
      if (look.shared !== undefined) {
        const freshness = freshnessOf(
          look.shared,
          sameVersions(look.shared.versions, look.captured),
          this.#options.clock.now(),
          expiry,
        );
        if (freshness !== "dead")
          return this.#serveShared(key, look.shared, freshness, expiry, source, hearing ? this.memory : undefined);
      }
    }
    return this.#loadAndFill(key, tags, versions, expiry, source, memory);
  }

  /** Loads and fills while holding the lock `token`; releases it once the entry is in Redis (or the load failed). */
  async #loadHolding(
    key: QueryKey,
    tags: readonly string[],
    versions: readonly number[],
    expiry: ResolvedExpiry,
    source: ReadSource,
    memory: MemoryTier | undefined,
    token: string,
  ): Promise<unknown> {
    let value: unknown;
    const started = performance.now();
    try {
      value = await source[LOAD]();
    } catch (error) {
      this.#filler.release(key.shared().name, token);
      throw error;
    }
    this.#filler.fill(memory, key, tags, versions, expiry, value, performance.now() - started, token);
    return value;
  }

  /**
   * Starts one background refresh of `key` (an entry was served stale or
   * chosen for early refresh), unless one is running here, the last one
   * failed less than REFRESH_RETRY_MS ago, or (with the lock) another
   * process holds the key's lock. Never throws; failures are reported.
   */
  #refreshLater(key: QueryKey, expiry: ResolvedExpiry, source: ReadSource, freshness: Freshness, served: Entry): void {
    if (freshness === "stale") this.#counters.staleHits++;
    const local = key.local;
    if (this.#flights.has(local) || this.#refreshing.has(local)) return;
    const pausedUntil = this.#refreshPaused.get(local);
    if (pausedUntil !== undefined) {
      if (pausedUntil > this.#options.clock.now()) return;
      this.#refreshPaused.delete(local);
    }
    this.#refreshing.add(local);
    // Detached now: the refresh loads after the caller has its result, and the caller may reuse its arguments object.
    const refresh = (async () => this.#refresh(key, expiry, source[DETACH]?.() ?? source, served.storedAt))();
    this.#filler.track(
      refresh.then(
        () => void this.#refreshing.delete(local),
        (error: unknown) => {
          this.#refreshing.delete(local);
          this.report(new CacheError("E_REFRESH", `refreshing ${key.shared().name} failed before its load.`, error));
        },
      ),
    );
  }

  /** Pauses refreshes of `key` for `ms` (clock ms). */
  #pauseRefresh(key: QueryKey, ms: number): void {
    if (this.#refreshPaused.size >= MAX_CACHED_TAG_LISTS) this.#refreshPaused.clear();
    this.#refreshPaused.set(key.local, this.#options.clock.now() + ms);
  }

  /** @param servedStoredAt when the entry that was served (and prompted this refresh) was stored */
  async #refresh(key: QueryKey, expiry: ResolvedExpiry, source: ReadSource, servedStoredAt: number): Promise<void> {
    const hearing = this.#memoryUsable();
    const tags = this.#tagsOf(key, source);
    if (this.#bypasses(tags)) return;
    // Versions captured before the load, as for any fill: a refresh racing a write stores a dead entry.
    let captured: readonly number[] | undefined;
    if (this.#versions.kind === "local") captured = this.#versions.store.readNow(tags);
    else
      captured =
        (hearing ? this.#mirror.versionsOf(tags) : undefined) ?? (await this.#capture(key, tags, undefined)).captured;
    if (captured === undefined) return;
    let token: string | undefined;
    if (this.#lock !== undefined) {
      try {
        const taken = await this.#lock.take(key.shared().name);
        token = taken.token;
        if (token === undefined) {
          // Another process is loading this key; its entry will replace the stale one.
          this.#pauseRefresh(key, REFRESH_LOCKED_RETRY_MS);
          return;
        }
        const stored = taken.entry === null ? undefined : this.#decode(key, taken.entry, tags, false);
        if (stored !== undefined && stored.storedAt > servedStoredAt && sameVersions(stored.versions, captured)) {
          // Another process refreshed it since this one served it: nothing to do.
          this.#filler.release(key.shared().name, token);
          return;
        }
      } catch (error) {
        this.report(asCacheError(error, "E_LOCK", `taking the lock of ${key.shared().name} for a refresh failed.`));
        this.#pauseRefresh(key, REFRESH_RETRY_MS);
        return;
      }
    }
    this.#counters.refreshes++;
    const memory = hearing ? this.memory : undefined;
    const load =
      token === undefined
        ? this.#loadAndFill(key, tags, captured, expiry, source, memory)
        : this.#loadHolding(key, tags, captured, expiry, source, memory, token);
    try {
      await this.#flights.start(key.local, captured, load);
    } catch (error) {
      this.#counters.refreshFailures++;
      this.#pauseRefresh(key, REFRESH_RETRY_MS);
      this.report(
        new CacheError(
          "E_REFRESH",
          `refreshing ${key.shared().name} failed; its stale entry is served until it expires.`,
          error,
        ),
      );
    }
  }

  /**
   * When Redis has rarely held what this instance missed lately, the
   * database read starts at once instead of after a Redis lookup; Redis is
   * then asked alongside it on one miss in PROBE_EVERY only, to learn when it
   * starts holding entries again. The miss costs about a database read. It needs versions captured before the database
   * read without
   * a round trip, so only when the mirror knows every tag and the bus is
   * healthy: mirror versions are never ahead of Redis, so an entry stored
   * with them can only be born dead, never stale (docs/invalidation.md).
   */
  #earlyLoad(
    key: QueryKey,
    tags: readonly string[],
    versions: number[],
    expiry: ResolvedExpiry,
    source: ReadSource,
    memory: MemoryTier | undefined,
  ): Promise<unknown> | undefined {
    // With the cross-process lock on, a load must take it first: early loads would query once per process.
    if (this.#lock !== undefined || !this.#sharedHitRate.low()) return undefined;
    // Filled even if Redis then answers first: the result is as current as that entry (born dead at worst).
    const value = this.#flights.start(
      key.local,
      versions,
      this.#loadAndFill(key, tags, versions, expiry, source, memory),
    );
    // Marks a failure as handled while the Redis lookup is still out: the await that follows still receives it.
    value.catch(() => undefined);
    return value;
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
  async #capture(
    key: QueryKey,
    tags: readonly string[],
    mirrored: number[] | undefined,
  ): Promise<{ captured: number[] | undefined; text: string | null }> {
    if (this.#versions.kind === "local") return { captured: this.#versions.store.readNow(tags), text: null };
    const redis = this.#redis as RedisTier;
    if (!redis.ready) {
      this.report(
        new CacheError("E_REDIS", `Redis is not connected; ${key.shared().name} is read from the database, uncached.`),
      );
      return { captured: undefined, text: null };
    }
    try {
      if (mirrored !== undefined) return { captured: mirrored, text: await redis.get(key.shared().name) };
      const { entry, versions } = await this.#versions.store.read(tags, key.shared().name);
      return { captured: versions, text: entry };
    } catch (error) {
      this.report(asCacheError(error, "E_REDIS", "reading an entry and its tag versions failed."));
      return { captured: undefined, text: null };
    }
  }

  /** The live entry encoded in `text`, or undefined (reported when damaged, unless the lookup before already did). */
  #decode(key: QueryKey, text: string, tags: readonly string[], reportDamage = true): Entry | undefined {
    const { name, fingerprint } = key.shared();
    try {
      const decoded = decodeEntry(text, fingerprint, tags);
      if (typeof decoded === "string") {
        if (reportDamage)
          this.report(
            new CacheError(
              "E_CORRUPT_ENTRY",
              `entry ${name} was ignored: ${decoded === "fingerprint" ? "its fingerprint does not match the query (a key collision or a foreign writer)" : "it is not in this library's format"}.`,
            ),
          );
        return undefined;
      }
      return decoded.expiresAt > this.#options.clock.now() ? decoded : undefined;
    } catch (error) {
      if (reportDamage)
        this.report(new CacheError("E_CORRUPT_ENTRY", `entry ${name} could not be decoded and was ignored.`, error));
      return undefined;
    }
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
    this.#filler.fill(this.#memoryUsable() ? this.memory : undefined, key, tags, versions, expiry, value, 0);
  }

  /** Resolves when every background write, refresh and lock release started so far has finished. */
  settled(): Promise<void> {
    return this.#filler.settled();
  }
}

function anyNewer(versions: readonly number[], than: readonly number[]): boolean {
  for (let i = 0; i < versions.length; i++) if ((versions[i] as number) > (than[i] as number)) return true;
  return false;
}

/** Resolves after `ms` real milliseconds (lock waits are real time: the injected clock may stand still in tests). */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
