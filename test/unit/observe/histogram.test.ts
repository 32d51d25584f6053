/**
 * The log-scale histogram: quantiles within one fine bucket (about 19%) of
 * the true value, cumulative export buckets, bounded range.
 */
import { describe, expect, it } from "vitest";
import { latencyHistogram, LATENCY_BOUNDS_MS, sizeHistogram } from "../../../src/observe/histogram.js";

describe("LogHistogram", () => {
  it("reports every quantile as 0 while empty", () => {
    expect(latencyHistogram().summary()).toMatchObject({ count: 0, p50: 0, p95: 0, p99: 0, sum: 0 });
  });

  it("reads quantiles within one fine bucket above the true value", () => {
    const histogram = latencyHistogram();
    // 1..1000 ms: true p50 = 500, p95 = 950, p99 = 990.
    for (let ms = 1; ms <= 1000; ms++) histogram.record(ms);
    const { count, p50, p95, p99, sum } = histogram.summary();
    expect(count).toBe(1000);
    expect(sum).toBe(500_500);
    for (const [read, truth] of [
      [p50, 500],
      [p95, 950],
      [p99, 990],
    ] as const) {
      expect(read).toBeGreaterThanOrEqual(truth);
      expect(read).toBeLessThanOrEqual(truth * 1.19);
    }
  });

  it("exports cumulative counts at its fixed bounds", () => {
    const histogram = latencyHistogram();
    for (const ms of [0.0001, 0.3, 0.3, 7, 40_000]) histogram.record(ms);
    const { buckets } = histogram.summary();
    expect(buckets.map((bucket) => bucket.le)).toEqual(LATENCY_BOUNDS_MS);
    const at = (le: number) => buckets.find((bucket) => bucket.le === le)?.count;
    expect(at(0.001)).toBe(1);
    expect(at(0.5)).toBe(3);
    expect(at(10)).toBe(4);
    expect(at(10_000), "a value past the last bound is only in +Inf (the count)").toBe(4);
    for (let i = 1; i < buckets.length; i++) expect(buckets[i]!.count).toBeGreaterThanOrEqual(buckets[i - 1]!.count);
  });

  it("clamps values past its range into its last bucket instead of growing", () => {
    const histogram = sizeHistogram();
    histogram.record(2 ** 40);
    histogram.record(0);
    expect(histogram.count).toBe(2);
    expect(histogram.quantile(1)).toBe(histogram.upperBound(histogram.buckets - 1));
    expect(histogram.quantile(0.5)).toBe(16);
  });
});
