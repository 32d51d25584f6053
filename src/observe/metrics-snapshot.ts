/**
 * What `prisma.$cache.metrics()` returns: one point-in-time reading of the
 * cache's metrics, the shape the exporters, the inspector page and tests
 * read. Labels are bounded: a model, an operation and a query-shape group,
 * never a raw key or argument value (cardinality stays bounded and nothing
 * personal leaks).
 */
import type { CacheStats } from "../stats.js";

/** Which tier answered a read (`bypass`: the read was not cached at all). */
export type AnsweredBy = "scope" | "l1" | "l2" | "db" | "bypass";

/** Counters of one (model, operation, shape group). */
export interface ShapeMetrics {
  /** The model as in the schema (`User`), or a pseudo-model (`$raw`, `$computation`). */
  readonly model: string;
  /** The operation (`findUnique`, ...). */
  readonly operation: string;
  /** A short, stable id of the query's shape (argument structure without values); bounded in number. */
  readonly shape: string;
  /** Reads answered per tier (`db`: went to the database as a cached read's miss; `bypass`: not cached). */
  readonly reads: Readonly<Record<AnsweredBy, number>>;
  /** Hits served stale while a refresh ran (counted in their tier's reads too). */
  readonly stale: number;
  /** Reads sent to the database because automatic admission took this shape out. */
  readonly notAdmitted: number;
  /** Miss latency (database time, ms): count, p50, p95, p99. */
  readonly missMs: LatencySummary;
  /** Stored entry sizes (bytes, estimated): count, p50, p95, p99. */
  readonly entryBytes: LatencySummary;
}

/** Quantiles of a histogram. Every field is 0 when `count` is 0. */
export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
}

/** One hot query shape or key over the sliding window. Keys are hashed, never shown raw. */
export interface HotEntry {
  readonly model: string;
  readonly operation: string;
  readonly shape: string;
  /** The key's hash (absent for a shape). */
  readonly key?: string;
  /** Estimated reads per second over the window. */
  readonly rate: number;
}

/** One invalidation, for the "recent invalidations" list. */
export interface InvalidationRecord {
  /** When (ms since the epoch). */
  readonly at: number;
  /** Why: a write through the client, the tag API, a bus message from another instance, or a database event. */
  readonly cause: "write" | "api" | "bus" | "event";
  /** The tags bumped (truncated to a bounded number). */
  readonly tags: readonly string[];
}

/** A reading of every metric. */
export interface MetricsSnapshot {
  /** When it was read (ms since the epoch). */
  readonly at: number;
  /** The global counters (`$cache.stats()`). */
  readonly totals: CacheStats;
  /** Per (model, operation, shape group). */
  readonly shapes: readonly ShapeMetrics[];
  /** Hit latency per tier (ms), and the database's (misses). */
  readonly latency: Readonly<Record<"scope" | "l1" | "l2" | "db", LatencySummary>>;
  /** In-process evictions by reason (lru-cache's dispose reasons: `evict`, `expire`, `set`, `delete`). */
  readonly evictions: Readonly<Record<string, number>>;
  /** Top shapes and keys by request rate over the sliding window. */
  readonly hot: { readonly shapes: readonly HotEntry[]; readonly keys: readonly HotEntry[] };
  /** The most recent invalidations, newest first (bounded). */
  readonly recentInvalidations: readonly InvalidationRecord[];
}
