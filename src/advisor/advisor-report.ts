/**
 * What `prisma.$cache.advisor()` returns: per query shape of the reads that
 * are not cached, what caching them would give. Shapes carry no argument
 * values, so the report can be shown (the inspector page, the CLI) without
 * leaking data.
 */

/** What the advisor suggests for one shape. */
export type Advice =
  /** Would hit at least half the time: worth caching (`cache: true`, or `cacheByDefault` on its model). */
  | "cache"
  /** Would hit between 15% and 50% of the time: worth it when its database time is large next to a miss's cost. */
  | "maybe"
  /** Would hit less than 15% of the time: every read would pay the miss path for little; leave it uncached. */
  | "skip"
  /** Fewer than {@link MIN_READS_FOR_ADVICE} reads observed: too early to say. */
  | "wait";

/** Reads of a shape below which the advisor says `"wait"`. */
export const MIN_READS_FOR_ADVICE = 20;
/** Would-be hit ratio from which a shape is worth caching (the real-app benchmark with Redis broke even near 0.5). */
export const CACHE_FROM_HIT_RATIO = 0.5;
/** Would-be hit ratio under which caching a shape costs more than it saves (admission's break-even, about 0.15). */
export const SKIP_UNDER_HIT_RATIO = 0.15;

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
  /** One row per shape, the most database time saved first. */
  readonly rows: readonly AdvisorRow[];
}

/** The report of an extension without `advisor`. */
export const ADVISOR_OFF: AdvisorReport = { enabled: false, sample: 0, trackedKeys: 0, untrackedReads: 0, rows: [] };

/** The advice for a shape read `reads` times with a would-be hit ratio of `hitRatio`. */
export function adviceFor(reads: number, hitRatio: number): Advice {
  if (reads < MIN_READS_FOR_ADVICE) return "wait";
  if (hitRatio >= CACHE_FROM_HIT_RATIO) return "cache";
  return hitRatio >= SKIP_UNDER_HIT_RATIO ? "maybe" : "skip";
}
