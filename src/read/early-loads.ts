/**
 * Early loads: when Redis has rarely held what this instance missed lately,
 * the database read starts at once instead of after a Redis lookup; Redis is
 * then asked alongside it on one miss in PROBE_EVERY only (hit-rate.ts), to
 * learn when it starts holding entries again. The miss costs about a
 * database read. It needs versions captured before the database read without
 * a round trip, so only when the mirror knows every tag and this instance
 * hears every invalidation: mirror versions are never ahead of Redis, so an
 * entry stored with them can only be born dead, never stale
 * (docs/invalidation.md). Counted in `stats().earlyLoads` when Redis then
 * answered first and the load was not needed.
 */
import type { Flights } from "./flights.js";
import type { HitRate } from "./hit-rate.js";
import type { Loader } from "./loader.js";
import type { Miss } from "./miss.js";

/** Starts early loads for one extension instance. */
export class EarlyLoads {
  readonly #enabled: boolean;
  readonly #sharedHitRate: HitRate;
  readonly #flights: Flights;
  readonly #loader: Loader;

  /**
   * @param enabled false with the cross-process lock on: a load must take it first, and early loads would query once
   * per process
   */
  constructor(enabled: boolean, sharedHitRate: HitRate, flights: Flights, loader: Loader) {
    this.#enabled = enabled;
    this.#sharedHitRate = sharedHitRate;
    this.#flights = flights;
    this.#loader = loader;
  }

  /**
   * Starts the database read of `miss` (its versions are the mirror's) as a
   * flight, when Redis hits rarely; undefined otherwise (look Redis up first).
   */
  start(miss: Miss): Promise<unknown> | undefined {
    if (!this.#enabled || !this.#sharedHitRate.low()) return undefined;
    // Filled even if Redis then answers first: the result is as current as that entry (born dead at worst).
    const value = this.#flights.start(miss.key.local, miss.captured, this.#loader.loadAndFill(miss));
    // Marks a failure as handled while the Redis lookup is still out: the await that follows still receives it.
    value.catch(() => undefined);
    return value;
  }
}
