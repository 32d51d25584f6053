/**
 * The one place absorbed failures go: counted, then handed to `onError`.
 * Failures on the query path are reported, never thrown at the caller.
 */
import type { CacheError } from "./errors.js";
import type { Counters } from "./stats.js";

/** Counts and forwards absorbed failures. */
export class Reporter {
  readonly #onError: (error: CacheError) => void;
  readonly #counters: Counters;

  constructor(onError: (error: CacheError) => void, counters: Counters) {
    this.#onError = onError;
    this.#counters = counters;
  }

  /** Reports one failure. A throwing `onError` must not break the read or write that reported. */
  readonly report = (error: CacheError): void => {
    this.#counters.errors++;
    try {
      this.#onError(error);
    } catch {
      // The reporter is the user's code; its failure is theirs to see, not the query's.
    }
  };
}
