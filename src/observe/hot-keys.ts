/**
 * Hot keys over a sliding window, in bounded memory: a Space-Saving sketch
 * (Metwally, Agrawal, El Abbadi, "Efficient Computation of Frequent and
 * Top-k Elements in Data Streams", 2005) of `capacity` counters, halved at
 * the end of every window so that it follows the recent rate rather than
 * the all-time count. A steady rate r read by it settles at a count of
 * 2·r·window, which is how the rate is read back.
 *
 * The caller may sample reads (in-process hits are: one in about 16), each
 * sample then weighing as many reads: a key read less than a few times per
 * window is noise either way.
 *
 * A key not watched while every counter is taken replaces the smallest only
 * with probability weight / (smallest + weight) (the randomised admission of
 * Ben Basat et al., "Randomized Admission Policy for Efficient Top-k and
 * Frequency Estimation", 2017). Plain Space-Saving admits every one, and a
 * workload of more distinct keys than counters then scans every counter on
 * nearly every sample (0.75 us at 100 counters: most of what labelled
 * metrics cost an in-process hit); admitted at random, a light key rarely
 * enters, while a heavy one enters soon and stays. Counts are then estimates
 * rather than upper bounds, which is all a ranking of hot keys needs.
 */
import { keyHash } from "./log-events.js";
import type { HotEntry } from "./metrics-snapshot.js";
import type { ShapeRecord } from "./shape-table.js";

interface Counter {
  count: number;
  readonly record: ShapeRecord;
}

/** The hot-key sketch of one extension instance. */
export class HotKeys {
  readonly #capacity: number;
  readonly #windowMs: number;
  readonly #counters = new Map<string, Counter>();
  /** At most the smallest count: the last scan's smallest (counts only grow, but for halving, which halves it too). */
  #floor = 0;
  #windowEnds: number;
  /** When the sketch was first written (the rate of a sketch younger than a window is read over its age). */
  readonly #startedAt: number;

  /**
   * @param capacity counters kept (the sketch finds every key read more than 1/capacity of all reads)
   * @param windowMs the window the rate is measured over
   * @param now the clock's time now
   */
  constructor(capacity: number, windowMs: number, now: number) {
    this.#capacity = capacity;
    this.#windowMs = windowMs;
    this.#windowEnds = now + windowMs;
    this.#startedAt = now;
  }

  /** Records `weight` reads of `local` (a sample standing for that many). */
  sample(local: string, record: ShapeRecord, now: number, weight: number): void {
    this.#turn(now);
    const counters = this.#counters;
    const counter = counters.get(local);
    if (counter !== undefined) {
      counter.count += weight;
      return;
    }
    if (counters.size < this.#capacity) {
      counters.set(local, { count: weight, record });
      return;
    }
    if (Math.random() * (this.#floor + weight) >= weight) return; // Not admitted (see the module's comment).
    // Space-Saving: the new key takes the smallest counter's place and inherits its count.
    let smallestKey: string | undefined;
    let smallest = Infinity;
    for (const [key, { count }] of counters) {
      if (count < smallest) {
        smallest = count;
        smallestKey = key;
      }
    }
    this.#floor = smallest;
    counters.delete(smallestKey as string);
    counters.set(local, { count: smallest + weight, record });
  }

  /** The top `n` keys by estimated rate (reads per second), keys hashed. */
  top(n: number, now: number): HotEntry[] {
    this.#turn(now);
    const seconds = this.#seconds(now);
    return [...this.#counters]
      .sort((a, b) => b[1].count - a[1].count)
      .slice(0, n)
      .map(([local, { count, record }]) => ({
        model: record.model,
        operation: record.operation,
        shape: record.shape,
        key: keyHash(local),
        rate: count / seconds,
      }));
  }

  /** The seconds a count stands for: twice the window once the sketch is older than that (halving per window). */
  #seconds(now: number): number {
    return Math.max(0.001, Math.min(now - this.#startedAt, 2 * this.#windowMs)) / 1000;
  }

  /** Halves every counter for each window that ended (dropping those that reach 0). */
  #turn(now: number): void {
    while (now >= this.#windowEnds) {
      this.#windowEnds += this.#windowMs;
      for (const [key, counter] of this.#counters) {
        counter.count = Math.floor(counter.count / 2);
        if (counter.count === 0) this.#counters.delete(key);
      }
      this.#floor = Math.floor(this.#floor / 2);
      // A long idle period: one window left of the gap is enough to empty or settle the sketch.
      if (now - this.#windowEnds > 64 * this.#windowMs) this.#windowEnds = now + this.#windowMs;
    }
  }
}
