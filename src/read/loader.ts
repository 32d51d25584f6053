/**
 * Runs a miss's database read and hands the value to the filler: the one
 * place a load is timed (XFetch weighs early refreshes by it) and a lock
 * holder's lock is released when its load fails.
 */
import type { ReadObserver } from "../observe/read-observer.js";
import { LOAD } from "./cached-query.js";
import type { Filler } from "./filler.js";
import type { Miss } from "./miss.js";

/** Loads misses from the database and fills the tiers with what they return. */
export class Loader {
  readonly #filler: Filler;
  readonly #observer: ReadObserver;

  constructor(filler: Filler, observer: ReadObserver) {
    this.#filler = filler;
    this.#observer = observer;
  }

  /** Loads from the database and fills the tiers under `miss.captured` (captured before this call). */
  async loadAndFill(miss: Miss): Promise<unknown> {
    const started = performance.now();
    const value = await miss.source[LOAD]();
    const ms = performance.now() - started;
    this.#observer.loaded(miss.key, ms);
    this.#filler.fill(miss, value, ms);
    return value;
  }

  /**
   * Loads and fills while holding the lock `token`; releases it once the entry is in Redis (or the load failed).
   * `firstRead`: the key's first read, whose entry goes to Redis only if a waiter wants it (see Filler.fill).
   */
  async loadHolding(miss: Miss, token: string, firstRead = false): Promise<unknown> {
    let value: unknown;
    const started = performance.now();
    try {
      value = await miss.source[LOAD]();
    } catch (error) {
      this.#filler.release(miss.key.shared().name, token);
      throw error;
    }
    const ms = performance.now() - started;
    this.#observer.loaded(miss.key, ms);
    this.#filler.fill(miss, value, ms, token, firstRead);
    return value;
  }
}
