/**
 * How often Redis has answered this instance's lookups lately: while it
 * rarely does, a miss need not wait for Redis before the database (see
 * early-loads.ts, and the lock-first lookup in cache-stack.ts).
 */

/** While Redis rarely hits, one miss in this many still asks it (to learn when that changes). */
const PROBE_EVERY = 8;

/**
 * An exponentially weighted hit rate (the last ~20 outcomes weigh most).
 * Starts high, so a fresh instance asks Redis first until it learns otherwise.
 */
export class HitRate {
  #rate = 1;
  #sinceProbe = 0;

  /** While the rate is low: true on one call in PROBE_EVERY (ask Redis), false otherwise. */
  probe(): boolean {
    return ++this.#sinceProbe % PROBE_EVERY === 0;
  }

  /** Records one lookup's outcome. */
  record(hit: boolean): void {
    this.#rate = 0.9 * this.#rate + (hit ? 0.1 : 0);
  }

  /** Below one hit in five. */
  low(): boolean {
    return this.#rate < 0.2;
  }
}
