/**
 * A histogram with fixed log-scale buckets: bounded memory (one small typed
 * array), a record that is one `Math.log2` and one increment, and quantiles
 * computed only when read. Four buckets per doubling keep every quantile
 * within about 19% of the true value, which is what a latency or size
 * distribution needs (the tail's order of magnitude, not its third digit).
 */
import type { LatencySummary } from "./metrics-snapshot.js";

/** A histogram as read: quantiles, plus what exporters need (sum, and cumulative counts at fixed bounds). */
export interface HistogramSummary extends LatencySummary {
  /** Sum of the recorded values. */
  readonly sum: number;
  /**
   * Cumulative counts at fixed bounds (`le`, in the histogram's unit: ms or bytes), for exporters' bucketed
   * histograms. A value is counted at the first bound at or above its bucket's upper bound, so counts lean late by
   * at most one fine bucket (about 19%).
   */
  readonly buckets: readonly { readonly le: number; readonly count: number }[];
}

/** Export bounds of latency histograms (ms): 1 us to 10 s. */
export const LATENCY_BOUNDS_MS: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 10000,
];
/** Export bounds of size histograms (bytes): 64 B to 16 MiB, powers of 4. */
export const SIZE_BOUNDS_BYTES: readonly number[] = [
  64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216,
];

/** Buckets per doubling of the value. */
const PER_OCTAVE = 4;

/** A fixed log-scale histogram of non-negative values. */
export class LogHistogram {
  readonly #counts: Float64Array;
  readonly #min: number;
  readonly #bounds: readonly number[];
  /** Values recorded. */
  count = 0;
  /** Their sum (for exporters that report one, such as Prometheus `_sum`). */
  sum = 0;

  /**
   * @param min the upper bound of the first bucket (smaller values land in it)
   * @param octaves how many doublings above `min` are told apart (larger values land in the last bucket)
   */
  constructor(min: number, octaves: number, bounds: readonly number[]) {
    this.#min = min;
    this.#bounds = bounds;
    this.#counts = new Float64Array(octaves * PER_OCTAVE + 1);
  }

  /** Records one value. */
  record(value: number): void {
    const counts = this.#counts;
    let index = value <= this.#min ? 0 : Math.ceil(Math.log2(value / this.#min) * PER_OCTAVE);
    if (index >= counts.length) index = counts.length - 1;
    counts[index]!++;
    this.count++;
    this.sum += value;
  }

  /** The upper bound of bucket `index` (the value a quantile falling in it is reported as). */
  upperBound(index: number): number {
    return this.#min * 2 ** (index / PER_OCTAVE);
  }

  /** Number of buckets. */
  get buckets(): number {
    return this.#counts.length;
  }

  /** Values recorded in bucket `index`. */
  countAt(index: number): number {
    return this.#counts[index] ?? 0;
  }

  /** The value below which a fraction `q` of the recorded values lie (a bucket's upper bound; 0 when empty). */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = q * this.count;
    let seen = 0;
    const counts = this.#counts;
    for (let i = 0; i < counts.length; i++) {
      seen += counts[i]!;
      if (seen >= rank) return this.upperBound(i);
    }
    return this.upperBound(counts.length - 1);
  }

  /** Count, p50, p95, p99, sum and cumulative counts at the export bounds. */
  summary(): HistogramSummary {
    const buckets: { le: number; count: number }[] = [];
    let index = 0;
    let seen = 0;
    for (const le of this.#bounds) {
      // Tolerance: a fine bucket's bound computed as min·2^(i/4) may land a rounding error above an export bound.
      while (index < this.#counts.length && this.upperBound(index) <= le * (1 + 1e-9)) seen += this.countAt(index++);
      buckets.push({ le, count: seen });
    }
    return {
      count: this.count,
      p50: this.quantile(0.5),
      p95: this.quantile(0.95),
      p99: this.quantile(0.99),
      sum: this.sum,
      buckets,
    };
  }
}

/** A histogram of latencies in ms: 0.5 us up to about 2.3 minutes. */
export function latencyHistogram(): LogHistogram {
  return new LogHistogram(0.0005, 28, LATENCY_BOUNDS_MS);
}

/** A histogram of sizes in bytes: 16 bytes up to 1 GiB. */
export function sizeHistogram(): LogHistogram {
  return new LogHistogram(16, 26, SIZE_BOUNDS_BYTES);
}
