/**
 * The options a user writes. `resolve.ts` turns them into `ResolvedOptions`,
 * applying every default in one place.
 */
import type { CacheError } from "../errors.js";
import type { EventSource } from "../events/event-source.js";
import type { CacheLogger } from "../observe/log-events.js";
import type { RedisClientLike } from "../redis/client.js";
import type { MetricsOptions } from "./observe-options.js";
import type { Duration } from "./duration.js";
import type { ByteSize } from "./size.js";

/** A value a context dimension may take. `undefined` means "missing" and is an error. */
export type ContextValue = string | number | boolean | null;

/** Time source, injectable so that tests never sleep. */
export interface Clock {
  /** Wall-clock milliseconds: entries carry expiry times to other instances through Redis. */
  now(): number;
}

/** Bounds of the in-process tier. At least one bound is required. */
export type L1Options =
  | {
      /** Total size of the tier, estimated from each entry's serialised length. `"64mb"` or bytes. */
      maxSize: ByteSize;
      /** Upper bound on the number of entries. */
      maxEntries?: number;
    }
  | {
      /** Total size of the tier, estimated from each entry's serialised length. `"64mb"` or bytes. */
      maxSize?: ByteSize;
      /** Upper bound on the number of entries. */
      maxEntries: number;
    };

/** The cross-process single-flight lock. */
export interface LockOptions {
  /**
   * How long a lock holds if its holder never releases it (a crashed
   * process). Longer than your slowest cached query.
   * @default "5s"
   */
  lease?: Duration;
  /**
   * How long a process waits for the holder's entry before it queries the
   * database itself.
   * @default "1s"
   */
  wait?: Duration;
}

/** Settings of automatic admission (`admission`). */
export interface AdmissionOptions {
  /**
   * A query shape whose reads hit less often than this, over a window, stops
   * being cached for `retryAfter`: below it, a miss's extra cost outweighs what
   * the hits save (the real-app benchmark broke even near 0.15).
   * @default 0.1
   */
  minHitRatio?: number;
  /**
   * How many reads of a shape make one measurement (reads that count: not
   * the first read of a key that missed; a shape whose keys never come back
   * is judged after 4 windows of all its reads).
   * @default 50
   */
  window?: number;
  /**
   * How long a shape is read from the database before it is measured again;
   * doubled after each failed measurement in a row, up to 16 times.
   * @default "1m"
   */
  retryAfter?: Duration;
}

/** Settings of the caching advisor (`advisor`). */
export interface AdvisorOptions {
  /**
   * Fraction of query keys observed, chosen by a hash of the key (so every
   * read of an observed key is seen, and its repeats can be counted). Lower
   * it to bound the advisor's cost on a busy instance; the report scales its
   * time estimates back up.
   * @default 1
   */
  sample?: number;
  /** Most query shapes reported; reads of further shapes are not observed (counted as `untrackedReads`). @default 200 */
  maxShapes?: number;
  /**
   * Most keys remembered at once; past it the least recently read is
   * forgotten (its next read then counts as a first read, a would-be miss).
   * @default 10000
   */
  maxKeys?: number;
}

/** The circuit breaker in front of Redis (see docs/operations.md). */
export interface BreakerOptions {
  /**
   * How many Redis operations in a row must fail (time out, or lose the
   * connection) before reads stop asking Redis. A whole number, at least 1.
   * @default 5
   */
  failures?: number;
  /**
   * How long reads skip Redis once the breaker opened, before one read is
   * let through as a probe (its success closes the breaker, its failure
   * opens it again for as long).
   * @default "1s"
   */
  openFor?: Duration;
}

/** Expiry settings shared by the global defaults, a model, and a single query. */
export interface ExpiryOptions {
  /**
   * How long an entry is served after it was stored. Seconds, or a string with
   * a unit (`"500ms"`, `"5m"`).
   * @default 60
   */
  ttl?: Duration;
  /**
   * How long a `null` result (or an empty list) is cached. `0` means such
   * results are not cached at all, so a row created later is seen at once
   * even before write invalidation exists.
   * @default 0
   */
  negativeTtl?: Duration | 0;
  /**
   * Stale-while-revalidate: how long after `ttl` an entry may still be
   * served, at once, while one background refresh replaces it. Past
   * `ttl + swr` a read waits for a fresh load. Applies to invalidated
   * entries only with the query's `staleIfInvalidated`. Given without `ttl`,
   * it extends the `ttl` inherited from the model or the defaults.
   * See docs/expiry.md.
   * @default 0
   */
  swr?: Duration | 0;
  /** Same as `swr` (give one or the other, not both). */
  staleWhileRevalidate?: Duration | 0;
  /**
   * Each stored entry's `ttl` is shortened by a random fraction in
   * `[0, jitter)`, so entries filled together do not expire together.
   * Never lengthens a `ttl`. `0` turns it off; at most `1`.
   * @default 0.1
   */
  jitter?: number;
  /**
   * Probabilistic early refresh (XFetch's beta): a fresh entry is refreshed
   * in the background before its `ttl` ends, with a probability that rises
   * as the end nears and with how long its load took, so a hot key is
   * usually replaced before it goes stale. `0` turns it off; `1` is the
   * usual choice, larger values refresh earlier.
   * @default 0
   */
  earlyRefresh?: number;
}

/** Settings for one model, under `models: { ModelName: ... }`. `false` turns caching off for the model. */
export interface ModelCacheOptions extends ExpiryOptions {
  /**
   * Cache every read of this model, even those that do not pass `cache`.
   * A query can still opt out with `cache: false`.
   * @default false
   */
  cacheByDefault?: boolean;
  /**
   * After an `update` by primary key that returns the full row (no `select`,
   * `include` or `omit`), store that row as the cached
   * `findUnique({ where: { <primary key> } })` instead of leaving the next
   * read to miss. Skipped whenever another write may have raced it. Costs
   * the update two Redis round trips. See docs/invalidation.md.
   * @default false
   */
  writeThrough?: boolean;
}

/** The per-query `cache` option: `true`, `false`, or settings for this query. */
export type QueryCacheOption = boolean | QueryCacheSettings;

/** Settings for one query, `cache: { ttl: 30 }`. Overrides the model and global defaults. */
export interface QueryCacheSettings extends ExpiryOptions {
  /**
   * Custom tags this result depends on, in addition to the ones derived from
   * the data model. `prisma.$cache.invalidate({ tags })` or a write with
   * `cache: { invalidates }` naming one of them invalidates this entry.
   * Non-empty strings without whitespace; `m:`, `r:`, `rs:`, `j:` and `q:` are reserved.
   */
  tags?: readonly string[];
  /**
   * Serve an entry that a write has *invalidated* (until its hard expiry,
   * `ttl + swr`) while one background refresh replaces it. This gives up
   * read-your-writes for this query; use it only where a result one load
   * behind is acceptable (a counter, a ranking). See docs/expiry.md.
   * @default false
   */
  staleIfInvalidated?: boolean;
}

/** The `cache` option of a write: extra tags to invalidate when it commits. */
export interface WriteCacheSettings {
  /** Custom tags to invalidate, in addition to those derived from the data model. */
  invalidates?: readonly string[];
}

/** Options of {@link cacheExtension}. */
export interface CacheExtensionOptions {
  /**
   * The shared tier: an ioredis `Redis` or `Cluster` client (single node,
   * Sentinel or Cluster). Without it, only the in-process tier is used.
   * The client is yours: the library never closes it.
   */
  redis?: RedisClientLike;
  /**
   * The in-process LRU tier (`lru-cache`), bounded by bytes and/or entries;
   * `false` disables it.
   * @default { maxSize: "64mb" }
   */
  l1?: L1Options | false;
  /** Expiry defaults for every cached read. */
  defaults?: ExpiryOptions;
  /**
   * Per-model settings, keyed by model name as written in the schema
   * (`User`, not `user`). `false` means the model is never cached, even when a
   * query asks for it. An unknown model name is an error.
   */
  models?: Record<string, ModelCacheOptions | false>;
  /**
   * The caller's context: every dimension that shapes a result (tenant,
   * locale, permissions). Called for each cached read; every key it returns
   * becomes part of the cache key, so results never cross a context boundary.
   * A dimension whose value is `undefined` is treated as missing: the read is
   * served from the database, uncached, and an `E_CONTEXT` error is reported.
   * It must return synchronously: an `async` function is rejected at
   * `$extends`; a returned Promise is reported once and the reads go uncached.
   */
  context?: () => Record<string, ContextValue | undefined>;
  /**
   * Prefix of every Redis key. Use a distinct one per application sharing a Redis.
   * @default "pqc:"
   */
  prefix?: string;
  /**
   * How long a Redis read may take before the tier is skipped for that read
   * and the database is asked instead. Only Redis's own delay counts: a reply
   * that arrived while the event loop was blocked is taken, not timed out.
   * @default "250ms"
   */
  redisTimeout?: Duration;
  /**
   * Receives every cache failure that was absorbed on the query path (Redis
   * down or slow, a corrupt entry, a context error). Queries never throw
   * these; they fall back to the database.
   * @default a `console.warn`, at most once a minute per error code
   */
  onError?: (error: CacheError) => void;
  /**
   * How long an instance may keep serving in-process entries after it last
   * confirmed that its invalidation bus delivers, and the longest a write
   * waits for the other instances to acknowledge its invalidation (only when
   * one of them has stopped answering). Only used with `redis`. Give every
   * instance sharing a prefix the same value: after the bus member list was
   * lost, a writer bounds its wait for instances missing from it by its own
   * lease (docs/invalidation.md).
   * @default "1500ms"
   */
  busLease?: Duration;
  /**
   * The cross-process single-flight lock (with `redis`): a miss about to
   * load takes a short lease in Redis, and other processes missing the same
   * key wait for its entry instead of querying the database too. `false`
   * turns it off (each process then loads on its own; still one load per
   * key per process). See docs/expiry.md.
   * @default { lease: "5s", wait: "1s" }
   */
  lock?: LockOptions | false;
  /**
   * Which opted-in reads are cached. `"all"`: every one. `"auto"` (or
   * settings): each query shape (a query with its values blanked, such as
   * `findUnique` by `id`) is measured, and a shape whose reads rarely hit is
   * read from the database instead, then measured again later; a read sent
   * to the database is a plain query, so this never changes a result.
   * `prisma.$cache.admission()` lists the decisions. See docs/expiry.md.
   * @default "all"
   */
  admission?: "all" | "auto" | AdmissionOptions;
  /**
   * The caching advisor: observes the reads that are not cached (no opt-in,
   * `cache: false`, a model configured `false`; never reads inside a
   * transaction) and reports, per query shape, the hit ratio and database
   * time caching would give them and a suggested `ttl`:
   * `prisma.$cache.advisor()`. Off, it costs uncached reads nothing. See
   * docs/advisor.md.
   * @default false
   */
  advisor?: boolean | AdvisorOptions;
  /**
   * The circuit breaker (with `redis`): after `failures` Redis operations in
   * a row failed or timed out, reads go straight to the database for
   * `openFor` instead of paying `redisTimeout` each, and this instance serves
   * nothing from its in-process tier until Redis answers again. Writes still
   * always send their invalidation. `false` turns it off (every read then
   * tries Redis, bounded by `redisTimeout`). See docs/operations.md.
   * @default { failures: 5, openFor: "1s" }
   */
  breaker?: BreakerOptions | false;
  /**
   * Time source for expiry, shared by every instance through the entries they
   * store, so it must be wall-clock milliseconds. Injectable for tests.
   * @default Date
   */
  clock?: Clock;
  /**
   * A source of change events for writes that bypass the client (other
   * services, SQL consoles, migrations): `postgresEvents({ connectionString })`
   * from `prisma-query-cache/events`, with the event triggers installed
   * (`prisma-query-cache events-sql`). Without it such writes are bounded by
   * `ttl`. See docs/events.md.
   */
  events?: EventSource;
  /**
   * Labelled metrics (`prisma.$cache.metrics()`, the exporters): counters per
   * model, operation and query-shape group, latency and size histograms, hot
   * keys and shapes. Off by default: an in-process hit then costs nothing
   * more (the global counters of `stats()`, evictions and invalidations by
   * cause are always kept). `true` turns them on with the defaults. See
   * docs/observability.md.
   * @default false
   */
  metrics?: boolean | MetricsOptions;
  /**
   * Receives events for logs: hits, stale hits, misses and refreshes (`debug`),
   * invalidations (`info`), failed refreshes and absorbed failures (`warn`),
   * each as `(event, message)` (pino's order; `console` works too). A level
   * whose method is missing costs nothing. Keys are hashed; see `logRawKeys`.
   */
  logger?: CacheLogger;
  /**
   * Log key texts as they are, argument values included (user ids, e-mail
   * addresses...), instead of a hash. For debugging only.
   * @default false
   */
  logRawKeys?: boolean;
}
