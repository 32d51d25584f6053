/**
 * A miss about to load, with the cross-process single-flight lock on: the
 * process that takes the lock loads; the others look for its entry, with
 * growing pauses, until it is there, the lock is free again (they take it
 * and load), or `lock.wait` has passed or Redis fails (they load without
 * it). A waiter only ever returns what an ordinary read would: each look is one.
 */
import { asCacheError, type CacheError } from "../errors.js";
import type { VersionSource } from "../invalidation/version-source.js";
import type { Clock } from "../options/types.js";
import type { ReadObserver } from "../observe/read-observer.js";
import type { ReadBudget } from "../redis/read-budget.js";
import type { Counters } from "../stats.js";
import type { Entry } from "../tiers/entry.js";
import type { L1Tier } from "../tiers/l1-tier.js";
import { pollDelays, type RedisLock, type Taken } from "../tiers/redis-lock.js";
import type { Filler } from "./filler.js";
import { sameVersions } from "./flights.js";
import { freshnessOf, type Freshness } from "./freshness.js";
import type { HitRate } from "./hit-rate.js";
import type { Loader } from "./loader.js";
import type { Miss } from "./miss.js";
import { anyNewer, type SharedLookup } from "./shared-lookup.js";

/** Serves a live shared entry to a miss (see CacheStack), copying it into `l1` when given. */
export type ServeShared = (miss: Miss, shared: Entry, freshness: Freshness, l1: L1Tier | undefined) => unknown;

/** What a lock wait shares with the rest of the read path. */
export interface LockWaitParts {
  readonly lock: RedisLock;
  readonly clock: Clock;
  readonly counters: Counters;
  readonly observer: ReadObserver;
  readonly l1: L1Tier | undefined;
  readonly versions: VersionSource;
  readonly lookup: SharedLookup;
  readonly loader: Loader;
  readonly filler: Filler;
  /** How often Redis answered this instance's lookups lately. */
  readonly sharedHitRate: HitRate;
  readonly serveShared: ServeShared;
  readonly report: (error: CacheError) => void;
}

/** The cross-process lock wait of one extension instance. */
export class LockWait {
  readonly #parts: LockWaitParts;

  constructor(parts: LockWaitParts) {
    this.#parts = parts;
  }

  /**
   * Loads `miss` under the lock, or serves the entry another process stored
   * while this one waited. `lookedUp`: false when Redis was not asked for
   * the entry before (the first take then reads it, and this read is counted
   * as a hit or a miss there). A later look may move the versions it loads
   * under forward. `budget`: the read's Redis time (read-budget.ts), which
   * bounds the first take only: a waiter's later takes and looks are bounded
   * one by one by `redisTimeout` and together by `lock.wait`, so a long load
   * by the holder does not run a waiter out of Redis time on a healthy Redis.
   */
  async load(miss: Miss, lookedUp: boolean, budget?: ReadBudget): Promise<unknown> {
    const { lock, clock, counters, observer, lookup, loader, filler, sharedHitRate, serveShared, versions, report } =
      this.#parts;
    const { key, tags, expiry } = miss;
    const name = key.shared().name;
    const deadline = performance.now() + lock.waitMs;
    let waited = false;
    let counted = lookedUp;
    /** Without a lookup before, the first take is this read's look at Redis: count it once, as a hit or a miss. */
    const count = (hit: boolean): void => {
      if (counted) return;
      counted = true;
      sharedHitRate.record(hit);
      if (hit) return;
      counters.misses++;
      observer.missed(key, miss.source, tags);
    };
    for (const delay of pollDelays()) {
      let taken: Taken;
      try {
        taken = await lock.take(name, waited ? undefined : budget, expiry.ttlMs + expiry.swrMs);
      } catch (error) {
        report(asCacheError(error, "E_LOCK", `taking the lock of ${name} failed.`));
        count(false);
        break;
      }
      if (taken.token !== undefined) {
        // The previous holder may have stored the entry and released the lock since our lookup: use it.
        const stored = taken.entry === null ? undefined : lookup.decode(key, taken.entry, tags, !counted);
        const freshness =
          stored === undefined
            ? "dead"
            : freshnessOf(stored, sameVersions(stored.versions, miss.captured), clock.now(), expiry);
        count(stored !== undefined && freshness !== "dead");
        if (stored === undefined || freshness === "dead") return loader.loadHolding(miss, taken.token, taken.firstRead);
        filler.release(name, taken.token);
        return serveShared(miss, stored, freshness, miss.l1);
      }
      count(false);
      if (!waited) {
        counters.lockWaits++;
        observer.lockWaited(key);
      }
      waited = true;
      if (performance.now() + delay > deadline) break;
      await sleep(delay);
      const hears = versions.hearsEveryInvalidation();
      const look = await lookup.lookup(key, tags, hears ? versions.mirror.versionsOf(tags) : undefined);
      if (look.captured === undefined) break;
      // Versions older than this flight's (a mirror that has not heard a bump yet) must not judge what it returns:
      // readers that joined it may have started after that bump.
      if (anyNewer(miss.captured, look.captured)) continue;
      miss = miss.withCaptured(look.captured);
      if (look.shared !== undefined) {
        const current = sameVersions(look.shared.versions, look.captured);
        const freshness = freshnessOf(look.shared, current, clock.now(), expiry);
        // Whether this instance hears every invalidation is asked again: it may have changed while this read waited.
        if (freshness !== "dead") return serveShared(miss, look.shared, freshness, hears ? this.#parts.l1 : undefined);
      }
    }
    return loader.loadAndFill(miss);
  }
}

/** Resolves after `ms` real milliseconds (lock waits are real time: the injected clock may stand still in tests). */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
