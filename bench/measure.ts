/** Timing and summary statistics for the benchmark. All times are microseconds. */

/** One measured series. */
export interface Summary {
  calls: number;
  mean: number;
  p50: number;
  p99: number;
}

/**
 * Awaits `call(i)` for i = 0 .. iterations-1, one at a time, and returns the
 * latency of each call. Sequential on purpose: it is per-call latency that is
 * measured, not throughput under concurrency.
 */
export async function timeCalls(iterations: number, call: (i: number) => PromiseLike<unknown>): Promise<Float64Array> {
  const samples = new Float64Array(iterations);
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    await call(i);
    samples[i] = (performance.now() - start) * 1000;
  }
  return samples;
}

/**
 * Like {@link timeCalls}, for paths of a few microseconds, where reading the
 * clock around every call (and storing the sample) is itself a sizeable part
 * of what is measured: times blocks of `batch` consecutive calls and returns
 * one sample per block, the mean latency of its calls.
 */
export async function timeBatches(
  iterations: number,
  call: (i: number) => PromiseLike<unknown>,
  batch: number,
): Promise<Float64Array> {
  const samples = new Float64Array(Math.ceil(iterations / batch));
  for (let block = 0; block < samples.length; block++) {
    const first = block * batch;
    const last = Math.min(iterations, first + batch);
    const start = performance.now();
    for (let i = first; i < last; i++) await call(i);
    samples[block] = ((performance.now() - start) * 1000) / (last - first);
  }
  return samples;
}

export function summarise(samples: Float64Array): Summary {
  const sorted = Float64Array.from(samples).sort();
  let total = 0;
  for (const sample of sorted) total += sample;
  return {
    calls: sorted.length,
    mean: total / sorted.length,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
  };
}

/** The round whose p50 is the median of the rounds' p50s: one whole round, so mean, p50 and p99 stay consistent. */
export function medianRound(rounds: readonly Summary[]): Summary {
  const byP50 = [...rounds].sort((a, b) => a.p50 - b.p50);
  return byP50[Math.floor((byP50.length - 1) / 2)] as Summary;
}

/** Nearest-rank percentile of sorted samples. */
function percentile(sorted: Float64Array, fraction: number): number {
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[rank] as number;
}
