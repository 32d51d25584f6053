/**
 * A histogram with fixed log-scale buckets: bounded memory (one small typed
 * array), a record that is one `Math.log2` and one increment, and quantiles
 * computed only when read. Four buckets per doubling keep every quantile
 * within about 19% of the true value, which is what a latency or size
 * distribution needs (the tail's order of magnitude, not its third digit).
 */
import type { LatencySummary } from "./metrics-snapshot.js";

/** Buckets per doubling of the value. */
const PER_OCTAVE = 4;

/** A fixed log-scale histogram of non-negative values. */
export class LogHistogram {
  readonly #counts: Float64Array;
  readonly #min: number;
  /** Values recorded. */
  count = 0;
  /** Their sum (for exporters that report one, such as Prometheus `_sum`). */
  sum = 0;

  /**
   * @param min the upper bound of the first bucket (smaller values land in it)
   * @param octaves how many doublings above `min` are told apart (larger values land in the last bucket)
   */
  constructor(min: number, octaves: number) {
    this.#min = min;
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

  /** Count, p50, p95 and p99. */
  summary(): LatencySummary {
    return { count: this.count, p50: this.quantile(0.5), p95: this.quantile(0.95), p99: this.quantile(0.99) };
  }
}

/** A histogram of latencies in ms: 0.5 us up to about 2.3 minutes. */
export function latencyHistogram(): LogHistogram {
  return new LogHistogram(0.0005, 28);
}

/** A histogram of sizes in bytes: 16 bytes up to 1 GiB. */
export function sizeHistogram(): LogHistogram {
  return new LogHistogram(16, 26);
}
