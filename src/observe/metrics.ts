/**
 * The metrics of one extension instance, as `prisma.$cache.metrics()` reads
 * them. Two parts:
 *
 * - always on (nothing on the read path: counted where an eviction, an
 *   invalidation or an absorbed failure already costs far more): in-process
 *   evictions by reason, invalidations by cause, the recent invalidations,
 *   failures by code;
 * - labelled, with `metrics: true` (or settings): counters per (model,
 *   operation, shape group), latency and size histograms, hot keys and shapes.
 *   Each read then pays a few increments (an in-process hit: its entry
 *   remembers its record, so no lookup) and two clock reads.
 */
import type { CacheError, CacheErrorCode } from "../errors.js";
import { isRedisTimeout } from "../redis/timeout.js";
import type { CacheStats } from "../stats.js";
import { latencyHistogram, LATENCY_BOUNDS_MS, type HistogramSummary, type LogHistogram } from "./histogram.js";
import { HotKeys } from "./hot-keys.js";
import type { HotEntry, InvalidationRecord, MetricsSnapshot, ShapeMetrics } from "./metrics-snapshot.js";
import { ShapeTable } from "./shape-table.js";

/** Why tags were invalidated. */
export type InvalidationCause = InvalidationRecord["cause"];

/** The tiers whose latency is measured: hits per tier, and the database (a miss's load). */
export type LatencyTier = "scope" | "l1" | "l2" | "db";

/** Labelled metrics, resolved (see `metrics` in docs/observability.md). */
export interface ResolvedMetrics {
  /** Bound on query-shape groups counted on their own (more: `other`). */
  readonly maxShapes: number;
  /** Counters of the hot-key sketch. */
  readonly hotKeys: number;
  /** The sliding window of hot keys and shapes, in ms. */
  readonly windowMs: number;
}

/** Where an absorbed failure came from. */
export type ErrorTier = "l1" | "l2" | "db" | "other";

/** The tier of each error code that belongs to one (the rest are `other`). */
const ERROR_TIERS: Partial<Record<CacheErrorCode, ErrorTier>> = {
  E_REDIS: "l2",
  E_CORRUPT_ENTRY: "l2",
  E_LOCK: "l2",
  E_INVALIDATION: "l2",
  E_REDIS_POLICY: "l2",
  E_UNCACHEABLE: "l1",
  E_REFRESH: "db",
};

/** Invalidations kept for `recentInvalidations`. */
const RECENT_INVALIDATIONS = 50;
/** Tags kept per recent invalidation. */
const RECENT_TAGS = 10;
/** Entries in each `hot` list. */
const HOT_ENTRIES = 10;

/** What {@link Metrics.snapshot} returns: the pinned snapshot, plus counters that came with the implementation. */
export interface FullMetricsSnapshot extends MetricsSnapshot {
  /** Whether labelled metrics are on (`metrics` option): without them `shapes`, `latency` and `hot` stay empty. */
  readonly labelled: boolean;
  /** Hit latency per tier and the database's (ms), with sums and export buckets. */
  readonly latency: Readonly<Record<LatencyTier, HistogramSummary>>;
  /** Per (model, operation, shape group), with single-flight and refresh counters. */
  readonly shapes: readonly (ShapeMetrics & {
    readonly missMs: HistogramSummary;
    readonly entryBytes: HistogramSummary;
    readonly coalesced: number;
    readonly lockWaits: number;
    readonly refreshes: number;
    readonly refreshFailures: number;
  })[];
  /** Tag invalidations by cause (each tag counts once; `bus`/`event`: heard from another instance / the database). */
  readonly invalidations: Readonly<Record<InvalidationCause, number>>;
  /** Absorbed failures by error code (`E_REDIS`, `E_LOCK`, ...). */
  readonly errors: Readonly<Record<string, number>>;
  /**
   * Absorbed failures by the tier they came from: `l2` (Redis: commands, corrupt entries, the lock, invalidation
   * bumps), `l1` (a result too large for the in-process tier), `db` (a background refresh's database read), `other`
   * (context, serialisation, the event source...).
   */
  readonly errorsByTier: Readonly<Record<ErrorTier, number>>;
  /** Absorbed failures that were Redis operations passing `redisTimeout` (all `l2`; counted in `errors` too). */
  readonly timeouts: number;
}

/** The metrics of one extension instance. */
export class Metrics {
  /** Labelled metrics, or undefined when off. */
  readonly table: ShapeTable | undefined;
  readonly latency: Readonly<Record<LatencyTier, LogHistogram>> | undefined;
  readonly hotKeys: HotKeys | undefined;
  readonly evictions: Record<string, number> = { evict: 0, expire: 0, set: 0, delete: 0 };
  readonly invalidations: Record<InvalidationCause, number> = { write: 0, api: 0, bus: 0, event: 0 };
  readonly errors: Record<string, number> = {};
  readonly errorsByTier: Record<ErrorTier, number> = { l1: 0, l2: 0, db: 0, other: 0 };
  timeouts = 0;
  readonly #recent: InvalidationRecord[] = [];
  readonly #windowMs: number;
  #windowStart: number;
  #previousWindowStart: number;

  /**
   * @param settings labelled metrics, or undefined for the always-on part only
   * @param now the clock's time now
   */
  constructor(settings: ResolvedMetrics | undefined, now: number) {
    this.#windowMs = settings?.windowMs ?? 60_000;
    this.#windowStart = now;
    this.#previousWindowStart = now;
    if (settings === undefined) return;
    this.table = new ShapeTable(settings.maxShapes);
    this.latency = {
      scope: latencyHistogram(),
      l1: latencyHistogram(),
      l2: latencyHistogram(),
      db: latencyHistogram(),
    };
    this.hotKeys = new HotKeys(settings.hotKeys, settings.windowMs, now);
  }

  /** Counts one in-process eviction (lru-cache's dispose reason). */
  evicted(reason: string): void {
    this.evictions[reason] = (this.evictions[reason] ?? 0) + 1;
  }

  /** Counts and remembers one invalidation. */
  invalidated(cause: InvalidationCause, tags: readonly string[], at: number): void {
    this.invalidations[cause] += tags.length;
    this.#recent.unshift({ at, cause, tags: tags.slice(0, RECENT_TAGS) });
    if (this.#recent.length > RECENT_INVALIDATIONS) this.#recent.pop();
  }

  /** Counts one absorbed failure. */
  failed(error: CacheError): void {
    this.errors[error.code] = (this.errors[error.code] ?? 0) + 1;
    this.errorsByTier[ERROR_TIERS[error.code] ?? "other"]++;
    if (isRedisTimeout(error)) this.timeouts++;
  }

  /** A reading of every metric. */
  snapshot(totals: CacheStats, now: number): FullMetricsSnapshot {
    const table = this.table;
    const latency = this.latency;
    this.#turnWindow(now);
    const records = table === undefined ? [] : [...table.records()];
    return {
      at: now,
      labelled: table !== undefined,
      totals,
      shapes: records.map((record) => record.snapshot()),
      latency: {
        scope: summary(latency?.scope),
        l1: summary(latency?.l1),
        l2: summary(latency?.l2),
        db: summary(latency?.db),
      },
      evictions: { ...this.evictions },
      hot: { shapes: this.#hotShapes(now), keys: this.hotKeys?.top(HOT_ENTRIES, now) ?? [] },
      recentInvalidations: this.#recent.map((record) => ({ ...record, tags: [...record.tags] })),
      invalidations: { ...this.invalidations },
      errors: { ...this.errors },
      errorsByTier: { ...this.errorsByTier },
      timeouts: this.timeouts,
    };
  }

  /** Shapes by read rate since the previous window began (the last one to two windows). */
  #hotShapes(now: number): HotEntry[] {
    if (this.table === undefined) return [];
    const seconds = Math.max(0.001, (now - this.#previousWindowStart) / 1000);
    return [...this.table.records()]
      .map((record) => ({
        model: record.model,
        operation: record.operation,
        shape: record.shape,
        rate: (record.reads - record.previousMark) / seconds,
      }))
      .filter((entry) => entry.rate > 0)
      .sort((a, b) => b.rate - a.rate)
      .slice(0, HOT_ENTRIES);
  }

  /** Starts a new hot-shape window when the current one is over (read lazily: no timer). */
  #turnWindow(now: number): void {
    if (this.table === undefined || now - this.#windowStart < this.#windowMs) return;
    for (const record of this.table.records()) {
      record.previousMark = record.mark;
      record.mark = record.reads;
    }
    this.#previousWindowStart = this.#windowStart;
    this.#windowStart = now;
  }
}

const EMPTY_LATENCY: HistogramSummary = {
  count: 0,
  p50: 0,
  p95: 0,
  p99: 0,
  sum: 0,
  buckets: LATENCY_BOUNDS_MS.map((le) => ({ le, count: 0 })),
};

function summary(histogram: LogHistogram | undefined): HistogramSummary {
  return histogram?.summary() ?? EMPTY_LATENCY;
}
