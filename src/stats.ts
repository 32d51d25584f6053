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
  /** Cached reads that went to the database. */
  misses: number;
  /** Reads that carried no cache opt-in, ran inside a transaction, or hit a disabled model. */
  bypassed: number;
  /** Cache failures absorbed on the query path (reported through `onError`). */
  errors: number;
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
  speculativeLoads: number;
  /** Tag invalidations (one per tag per write, commit or API call). */
  invalidations: number;
  /** Entries in the in-process tier now. */
  l1Entries: number;
  /** Estimated bytes held by the in-process tier now. */
  l1Bytes: number;
}

/** The mutable counters behind {@link CacheStats}. */
export class Counters {
  l1Hits = 0;
  l2Hits = 0;
  misses = 0;
  bypassed = 0;
  errors = 0;
  scopeHits = 0;
  speculativeLoads = 0;
}
