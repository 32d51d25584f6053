/**
 * Stale-while-revalidate: the one background refresh of an entry that was
 * served stale (or chosen by XFetch for an early refresh). At most one per
 * key runs in this process; with the cross-process lock, at most one in all
 * of them. A refresh captures versions before its load like any fill, so a
 * refresh racing a write stores an entry that is born dead.
 */
import { asCacheError, CacheError } from "../errors.js";
import type { VersionSource } from "../invalidation/version-source.js";
import type { QueryKey } from "../keys/query-key.js";
import type { ResolvedExpiry } from "../options/resolve.js";
import type { Clock } from "../options/types.js";
import type { ReadObserver } from "../observe/read-observer.js";
import type { Counters } from "../stats.js";
import type { Entry } from "../tiers/entry.js";
import type { L1Tier } from "../tiers/l1-tier.js";
import type { RedisLock } from "../tiers/redis-lock.js";
import { DETACH, type ReadSource } from "./cached-query.js";
import type { Filler } from "./filler.js";
import { sameVersions, type Flights } from "./flights.js";
import type { Freshness } from "./freshness.js";
import type { Loader } from "./loader.js";
import { Miss } from "./miss.js";
import type { QueryTags } from "./query-tags.js";
import type { SharedLookup } from "./shared-lookup.js";

/** Bound on remembered paused keys; past it they are forgotten (and may be refreshed again sooner). */
const MAX_PAUSED_KEYS = 10_000;
/** After a failed background refresh, the key is not refreshed again for this long (clock ms). */
const REFRESH_RETRY_MS = 1_000;
/** After finding another process loading the key, this process does not try to refresh it for this long (clock ms). */
const REFRESH_LOCKED_RETRY_MS = 250;

/** What a refresh shares with the rest of the read path. */
export interface RefreshParts {
  readonly clock: Clock;
  readonly counters: Counters;
  readonly observer: ReadObserver;
  readonly l1: L1Tier | undefined;
  readonly versions: VersionSource;
  readonly tags: QueryTags;
  readonly flights: Flights;
  readonly lookup: SharedLookup;
  readonly loader: Loader;
  readonly filler: Filler;
  /** The cross-process single-flight lock, when on. */
  readonly lock: RedisLock | undefined;
  readonly report: (error: CacheError) => void;
}

/** The background refreshes of one extension instance. */
export class Refresher {
  readonly #parts: RefreshParts;
  /** Keys whose background refresh is being set up (before its flight exists). */
  readonly #refreshing = new Set<string>();
  /**
   * Keys not to refresh again before a time (clock ms): their last refresh failed, or another process was loading them.
   */
  readonly #paused = new Map<string, number>();

  constructor(parts: RefreshParts) {
    this.#parts = parts;
  }

  /**
   * Starts one background refresh of `key` (an entry was served stale or
   * chosen for early refresh), unless one is running here, the last one
   * failed less than REFRESH_RETRY_MS ago, or (with the lock) another
   * process holds the key's lock. Never throws; failures are reported.
   */
  later(key: QueryKey, expiry: ResolvedExpiry, source: ReadSource, freshness: Freshness, served: Entry): void {
    const { counters, flights, clock, filler, report } = this.#parts;
    if (freshness === "stale") {
      counters.staleHits++;
      this.#parts.observer.staleServed(key);
    }
    const local = key.local;
    if (flights.has(local) || this.#refreshing.has(local)) return;
    const pausedUntil = this.#paused.get(local);
    if (pausedUntil !== undefined) {
      if (pausedUntil > clock.now()) return;
      this.#paused.delete(local);
    }
    this.#refreshing.add(local);
    // Detached now: the refresh loads after the caller has its result, and the caller may reuse its arguments object.
    const refresh = (async () => this.#refresh(key, expiry, source[DETACH]?.() ?? source, served.storedAt))();
    filler.track(
      refresh.then(
        () => void this.#refreshing.delete(local),
        (error: unknown) => {
          this.#refreshing.delete(local);
          report(new CacheError("E_REFRESH", `refreshing ${key.shared().name} failed before its load.`, error));
        },
      ),
    );
  }

  /** Pauses refreshes of `key` for `ms` (clock ms). */
  #pause(key: QueryKey, ms: number): void {
    if (this.#paused.size >= MAX_PAUSED_KEYS) this.#paused.clear();
    this.#paused.set(key.local, this.#parts.clock.now() + ms);
  }

  /** @param servedStoredAt when the entry that was served (and prompted this refresh) was stored */
  async #refresh(key: QueryKey, expiry: ResolvedExpiry, source: ReadSource, servedStoredAt: number): Promise<void> {
    const { versions, lookup, lock, filler, counters, flights, loader, report } = this.#parts;
    const hears = versions.hearsEveryInvalidation();
    const tags = this.#parts.tags.of(key, source);
    if (versions.mirror.anyUnbumped(tags)) return;
    // Versions captured before the load, as for any fill: a refresh racing a write stores a dead entry.
    const captured =
      versions.readLocal(tags) ??
      (hears ? versions.mirror.versionsOf(tags) : undefined) ??
      (await lookup.capture(key, tags, undefined)).captured;
    if (captured === undefined) return;
    let token: string | undefined;
    if (lock !== undefined) {
      try {
        const taken = await lock.take(key.shared().name);
        token = taken.token;
        if (token === undefined) {
          // Another process is loading this key; its entry will replace the stale one.
          this.#pause(key, REFRESH_LOCKED_RETRY_MS);
          return;
        }
        const stored = taken.entry === null ? undefined : lookup.decode(key, taken.entry, tags, false);
        if (stored !== undefined && stored.storedAt > servedStoredAt && sameVersions(stored.versions, captured)) {
          // Another process refreshed it since this one served it: nothing to do.
          filler.release(key.shared().name, token);
          return;
        }
      } catch (error) {
        report(asCacheError(error, "E_LOCK", `taking the lock of ${key.shared().name} for a refresh failed.`));
        this.#pause(key, REFRESH_RETRY_MS);
        return;
      }
    }
    counters.refreshes++;
    this.#parts.observer.refreshed(key, false);
    const miss = new Miss(key, tags, captured, expiry, source, hears ? this.#parts.l1 : undefined);
    const load = token === undefined ? loader.loadAndFill(miss) : loader.loadHolding(miss, token);
    try {
      await flights.start(key.local, captured, load);
    } catch (error) {
      counters.refreshFailures++;
      this.#parts.observer.refreshed(key, true);
      this.#pause(key, REFRESH_RETRY_MS);
      report(
        new CacheError(
          "E_REFRESH",
          `refreshing ${key.shared().name} failed; its stale entry is served until it expires.`,
          error,
        ),
      );
    }
  }
}
