/**
 * Counters of the read path. Plain integer increments: cheap enough to stay
 * on the hot path, and read on demand through `prisma.$cache.stats()`.
 */

/** What the read path has done since the extension was created. */
export interface CacheStats {
  /** Reads answered by the in-process tier. */
  l1Hits: number;
  /** Reads answered by the shared (Redis) tier. */
  l2Hits: number;
  /**
   * Cached reads that no tier answered: they went to the database, or joined a load of the same key (see `coalesced`).
   */
  misses: number;
  /** Reads that carried no cache opt-in, ran inside a transaction, or hit a disabled model. */
  bypassed: number;
  /** Cache failures absorbed on the query path (reported through `onError`). */
  errors: number;
  /**
   * Opted-in reads sent to the database because automatic admission took their query shape out of the cache
   * (`admission: "auto"`; see `$cache.admission()`). Counted nowhere else.
   */
  notAdmitted: number;
  /**
   * Reads answered by a request scope (`prisma.$cache.scope`, `middleware`):
   * served from it, or joined to an identical read already running in it.
   * They are counted nowhere else.
   */
  scopeHits: number;
  /**
   * Database reads started alongside a Redis lookup that then hit (wasted).
   * They happen only while Redis has rarely held what this instance missed.
   */
  earlyLoads: number;
  /**
   * Hits served past their ttl (or invalidated, with `staleIfInvalidated`) while a refresh ran. Counted in
   * l1Hits/l2Hits too.
   */
  staleHits: number;
  /** Background refreshes started (stale entries, early refresh). */
  refreshes: number;
  /** Background refreshes that failed (the stale entry stays until its hard expiry; reported as `E_REFRESH`). */
  refreshFailures: number;
  /** Reads that joined a load of the same key already running in this process instead of querying the database. */
  coalesced: number;
  /** Misses that found another process holding the key's single-flight lock and waited for its entry. */
  lockWaits: number;
  /**
   * Loads of a key read for the first time within its lifetime whose entry was kept in-process only, nobody having
   * waited for it (`admission: "auto"`; docs/expiry.md, "Shared from a key's second read").
   */
  firstReadsUnshared: number;
  /** Tag invalidations (one per tag per write, commit or API call). */
  invalidations: number;
  /** Notifications heard from the event source (`events`); 0 without one. */
  eventsHeard: number;
  /**
   * Times the event source connected and LISTENed, counted once the invalidation of every listened model that
   * follows each connection has finished; 0 without one.
   */
  eventConnects: number;
  /** Entries in the in-process tier now. */
  l1Entries: number;
  /** Estimated bytes held by the in-process tier now. */
  l1Bytes: number;
  /**
   * The circuit breaker now: `"closed"` (Redis in use), `"open"` (reads skip
   * Redis), `"half-open"` (one read probes Redis), or `"off"` (no Redis, or
   * `breaker: false`). See docs/operations.md.
   */
  breaker: "closed" | "open" | "half-open" | "off";
  /** Times the circuit breaker opened (a failed probe included): alert when it moves. */
  breakerOpens: number;
  /** Reads that skipped Redis because the circuit breaker was open (counted in `misses` too). */
  breakerSkips: number;
}

/** The mutable counters behind {@link CacheStats}. */
export class Counters {
  l1Hits = 0;
  l2Hits = 0;
  misses = 0;
  bypassed = 0;
  errors = 0;
  notAdmitted = 0;
  scopeHits = 0;
  earlyLoads = 0;
  staleHits = 0;
  refreshes = 0;
  refreshFailures = 0;
  coalesced = 0;
  lockWaits = 0;
  firstReadsUnshared = 0;
}
