/**
 * What `prisma.$cache.advisor()` returns: per query shape of the reads that
 * are not cached, what caching them would give. Shapes carry no argument
 * values, so the report can be shown (the inspector page, the CLI) without
 * leaking data.
 */

/** What the advisor suggests for one shape. */
export type Advice =
  /** Would hit clearly above its break-even ratio (by {@link CACHE_MARGIN} or more): worth caching. */
  | "cache"
  /** Would hit at or just above its break-even ratio: a small gain at best; cache it if its misses are cheap here. */
  | "maybe"
  /** Would hit below its break-even ratio: caching would cost more time than it saves; leave it uncached. */
  | "skip"
  /** Fewer than {@link MIN_READS_FOR_ADVICE} reads observed: too early to say. */
  | "wait";

/** Reads of a shape below which the advisor says `"wait"`. */
export const MIN_READS_FOR_ADVICE = 20;
/** How far above its break-even ratio a shape's would-be hit ratio must be for `"cache"`. */
export const CACHE_MARGIN = 0.1;
/**
 * What a miss adds to a database read (ms), estimated: with Redis, its round
 * trips and the lock (about 0.3 ms on loopback, as automatic admission
 * measures it: a 0.4 ms lookup must hit about 43 % of the time); in-process
 * only, building the key and copying the result (tens of microseconds).
 */
export const MISS_OVERHEAD_MS = { redis: 0.3, inProcess: 0.02 } as const;

/** One query shape in the advisor's table. */
export interface AdvisorRow {
  /** The model as in the schema (`User`). */
  readonly model: string;
  /** The operation (`findUnique`, ...). */
  readonly operation: string;
  /** The query shape: model, operation and argument structure, every value replaced by `?`. */
  readonly shape: string;
  /** Reads observed (of sampled keys). */
  readonly reads: number;
  /** Reads a cache would have answered: the key read before, and no write invalidated it since. */
  readonly wouldHit: number;
  /** Repeats of a key that a write (to what the read depends on) would have invalidated first: misses. */
  readonly invalidated: number;
  /** `wouldHit / reads`: the hit ratio caching this shape would give (first reads count as misses). */
  readonly hitRatio: number;
  /** Mean database time of one read (ms). */
  readonly dbMs: number;
  /** Database time the would-be hits would have saved (ms), scaled to every read when sampling keys. */
  readonly savedMs: number;
  /**
   * `savedMs` less what the would-be misses would have added (`missOverheadMs` each), scaled likewise: the time
   * caching this shape would have saved overall. Negative: it would have cost time.
   */
  readonly netMs: number;
  /**
   * The hit ratio at which caching this shape breaks even, `O / (dbMs + O)` with `O` the report's
   * `missOverheadMs`: a cheap lookup must hit often, a slow list rarely.
   */
  readonly breakEvenHitRatio: number;
  /** Mean estimated size of one entry (bytes): what each cached key would hold in the in-process tier. */
  readonly bytes: number;
  /**
   * A `ttl` (ms) under which 90% of the would-be hits came (from the time
   * between a key's fill and its repeats), or undefined before any would-be
   * hit. Writes through the client invalidate whatever the ttl; it bounds
   * writes made behind the client's back.
   */
  readonly suggestedTtlMs: number | undefined;
  /** What to do with this shape. */
  readonly advice: Advice;
}

/** `prisma.$cache.advisor()`. */
export interface AdvisorReport {
  /** False when the extension runs without `advisor` (then everything else is empty). */
  readonly enabled: boolean;
  /** The fraction of keys observed (`advisor.sample`). */
  readonly sample: number;
  /** Keys remembered now (at most `advisor.maxKeys`). */
  readonly trackedKeys: number;
  /** Reads of shapes past `advisor.maxShapes`, not observed. */
  readonly untrackedReads: number;
  /** The estimated time a miss adds to its database read (ms) that `netMs` and the break-even use ({@link MISS_OVERHEAD_MS}). */
  readonly missOverheadMs: number;
  /** One row per shape, the most time saved overall (`netMs`) first. */
  readonly rows: readonly AdvisorRow[];
}

/** The report of an extension without `advisor`. */
export const ADVISOR_OFF: AdvisorReport = {
  enabled: false,
  sample: 0,
  trackedKeys: 0,
  untrackedReads: 0,
  missOverheadMs: 0,
  rows: [],
};

/** The advice for a shape read `reads` times with a would-be hit ratio of `hitRatio` and a break-even of `breakEven`. */
export function adviceFor(reads: number, hitRatio: number, breakEven: number): Advice {
  if (reads < MIN_READS_FOR_ADVICE) return "wait";
  if (hitRatio < breakEven) return "skip";
  return hitRatio >= breakEven + CACHE_MARGIN ? "cache" : "maybe";
}
