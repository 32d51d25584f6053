/**
 * Ages of would-be hits (the time since the entry would have been filled),
 * counted in round-duration buckets: enough to suggest a `ttl` that keeps
 * most of the hits, in constant memory per query shape.
 */

/** Bucket upper bounds (ms): the `ttl`s the advisor may suggest. The last one also takes every longer age. */
export const TTL_STEPS_MS: readonly number[] = [
  1_000, 5_000, 10_000, 30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000, 3_600_000, 21_600_000, 86_400_000,
];

/** Counts of ages per {@link TTL_STEPS_MS} bucket. */
export class AgeHistogram {
  readonly #counts = new Array<number>(TTL_STEPS_MS.length).fill(0);
  #total = 0;

  /** Counts one age (ms). */
  record(ageMs: number): void {
    let i = 0;
    while (i < TTL_STEPS_MS.length - 1 && ageMs > (TTL_STEPS_MS[i] as number)) i++;
    this.#counts[i] = (this.#counts[i] as number) + 1;
    this.#total++;
  }

  /**
   * The shortest step that at least `fraction` of the ages recorded fit
   * under (a ttl that keeps that share of the hits), or undefined when none
   * was recorded.
   */
  coverage(fraction: number): number | undefined {
    if (this.#total === 0) return undefined;
    let seen = 0;
    for (let i = 0; i < TTL_STEPS_MS.length; i++) {
      seen += this.#counts[i] as number;
      if (seen >= fraction * this.#total) return TTL_STEPS_MS[i];
    }
    return TTL_STEPS_MS[TTL_STEPS_MS.length - 1];
  }
}
