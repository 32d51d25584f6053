/**
 * The one place absorbed failures go: counted, then handed to `onError`.
 * Failures on the query path are reported, never thrown at the caller.
 */
import type { CacheError } from "./errors.js";
import type { ReadObserver } from "./observe/read-observer.js";
import type { Counters } from "./stats.js";

/** Counts and forwards absorbed failures. */
export class Reporter {
  readonly #onError: (error: CacheError) => void;
  readonly #counters: Counters;
  readonly #observer: ReadObserver | undefined;

  /** @param observer told each failure (metrics by code, log events) */
  constructor(onError: (error: CacheError) => void, counters: Counters, observer?: ReadObserver) {
    this.#onError = onError;
    this.#counters = counters;
    this.#observer = observer;
  }

  /** Reports one failure. A throwing `onError` must not break the read or write that reported. */
  readonly report = (error: CacheError): void => {
    this.#counters.errors++;
    this.#observer?.failed(error);
    try {
      this.#onError(error);
    } catch {
      // The reporter is the user's code; its failure is theirs to see, not the query's.
    }
  };
}
