/**
 * One read's Redis time: `redisTimeout` bounds all the round trips a read
 * makes before the database (the lookup, a version initialisation, the
 * lock's take, the looks while it waits), not each of them. A cold read
 * makes up to three in a row, so a per-command bound let a Redis just under
 * the timeout cost three times it, unreported (issue 12).
 *
 * The pauses of a lock wait are not Redis time (the read waits for another
 * process's database read, bounded by `lock.wait`): the wait excuses them.
 */

/** The Redis time one read has left. Allocated once per read that gets past the in-process tier. */
export class ReadBudget {
  /** When the read's Redis time runs out (`performance.now()` scale), moved on by excused pauses. */
  #endsAt: number;
  /** The whole budget, for messages. */
  readonly totalMs: number;

  /** @param totalMs the read's Redis time in all: `redisTimeout` */
  constructor(totalMs: number) {
    this.totalMs = totalMs;
    this.#endsAt = performance.now() + totalMs;
  }

  /** Milliseconds left; zero or less when spent. */
  leftMs(): number {
    return this.#endsAt - performance.now();
  }

  /** True when no Redis time is left: the read must not send another command. */
  get spent(): boolean {
    return this.leftMs() <= 0;
  }

  /** Does not count `ms` of waiting that was not spent on Redis (a lock wait's pause). */
  excuse(ms: number): void {
    this.#endsAt += ms;
  }
}
