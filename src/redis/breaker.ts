/**
 * The circuit breaker in front of Redis: after `failures` Redis operations
 * in a row failed or timed out, reads stop asking Redis for `openFor` and go
 * straight to the database, so a frozen or overloaded Redis costs a read
 * nothing instead of `redisTimeout` each. Then one operation is let through
 * as a probe (half-open); its success closes the breaker, its failure opens
 * it for another `openFor`.
 *
 * What it gates, and what it does not (docs/operations.md):
 * - Reads: a read checks the breaker once, before its first Redis command
 *   (RedisTier.ready); open, it is served by the database, unfilled.
 *   Fills and lock commands only follow a lookup that was let through.
 * - Writes are never short-circuited: a tag bump is always sent, because
 *   skipping it would let other instances serve what the write changed
 *   (consistency contract, item 1). Its outcome is recorded like any other.
 * - Bus heartbeats are not gated either: they are how the bus proves it
 *   delivers, and a heartbeat answered in the half-open state closes the
 *   breaker without waiting for a read to probe.
 * - While the breaker is not closed this instance serves nothing from its
 *   in-process tier, and on opening it forgets its mirror and in-process
 *   entries (`onOpen`): Redis failing is no time to trust what it holds
 *   without confirmation.
 *
 * Only failures to answer count: a timeout or a connection error. A reply
 * error (`ReplyError`: OOM, WRONGTYPE, a script error) is Redis answering,
 * and counts as a success of the round trip.
 */

/** The breaker's state as `$cache.stats()` shows it (`"off"` without Redis or with `breaker: false`). */
export type BreakerState = "closed" | "open" | "half-open";

/** The breaker's settings, resolved (options/resolve.ts). */
export interface ResolvedBreaker {
  /** Consecutive failed Redis operations that open it. */
  readonly failures: number;
  /** How long it stays open before a probe is let through, in ms. */
  readonly openForMs: number;
}

/** What every bounded Redis operation tells the breaker (redis/timeout.ts). */
export interface OperationOutcome {
  /** Redis answered (a reply error included). */
  answered(): void;
  /** Redis did not answer in time, or the connection failed. */
  failed(error: unknown): void;
}

/** One instance's breaker. */
export class CircuitBreaker implements OperationOutcome {
  readonly #settings: ResolvedBreaker;
  /** How long a probe may stay unanswered before another is let through (a probe always settles by its timeout). */
  readonly #probeSlotMs: number;
  readonly #now: () => number;
  readonly #onOpen: (failures: number) => void;
  #state: "closed" | "open" = "closed";
  #failuresInRow = 0;
  #openedAt = 0;
  /** When the probe of the half-open state was let through (undefined: none yet). */
  #probeAt: number | undefined;
  /** Times the breaker opened (a failed probe included), for stats. */
  opened = 0;
  /** Reads that skipped Redis because the breaker was open, for stats. */
  skipped = 0;

  /**
   * @param settings     when to open and for how long
   * @param redisTimeoutMs the bound of one operation: a probe unanswered for twice that is taken as lost
   * @param onOpen       called each time it opens from closed (not when a probe fails): forget unconfirmed state there
   * @param now          monotonic milliseconds; injectable for tests
   */
  constructor(
    settings: ResolvedBreaker,
    redisTimeoutMs: number,
    onOpen: (failures: number) => void,
    now: () => number = () => performance.now(),
  ) {
    this.#settings = settings;
    this.#probeSlotMs = 2 * redisTimeoutMs;
    this.#onOpen = onOpen;
    this.#now = now;
  }

  /** The state now: open turns half-open once `openFor` has passed. */
  get state(): BreakerState {
    if (this.#state === "closed") return "closed";
    return this.#now() - this.#openedAt >= this.#settings.openForMs ? "half-open" : "open";
  }

  /**
   * Whether a read may send its Redis commands now. Closed: yes. Open: no
   * (counted as skipped). Half-open: yes for one read, the probe, then no
   * until it is answered (or lost: a probe slot lasts twice the timeout).
   */
  allowsRead(): boolean {
    const state = this.state;
    if (state === "closed") return true;
    if (state === "half-open") {
      const now = this.#now();
      if (this.#probeAt === undefined || now - this.#probeAt >= this.#probeSlotMs) {
        this.#probeAt = now;
        return true;
      }
    }
    this.skipped++;
    return false;
  }

  /** True while in-process entries may be served: only while closed (see the file's header). */
  get closed(): boolean {
    return this.#state === "closed";
  }

  answered(): void {
    // While open (before openFor has passed), late successes prove little: a slow Redis answers some.
    if (this.state === "open") return;
    this.#state = "closed";
    this.#failuresInRow = 0;
    this.#probeAt = undefined;
  }

  failed(error: unknown): void {
    if (isReplyError(error)) return this.answered();
    const state = this.state;
    if (state === "open") return;
    if (state === "half-open") {
      // The probe (or anything else sent meanwhile) failed: another openFor before the next.
      this.#open();
      return;
    }
    const failures = ++this.#failuresInRow;
    if (failures >= this.#settings.failures) {
      this.#open();
      this.#onOpen(failures);
    }
  }

  #open(): void {
    this.#state = "open";
    this.#openedAt = this.#now();
    this.#probeAt = undefined;
    this.#failuresInRow = 0;
    this.opened++;
  }
}

/** True for an error Redis itself replied with (ioredis `ReplyError`), possibly wrapped in a CacheError's cause. */
export function isReplyError(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    if (e.name === "ReplyError") return true;
  }
  return false;
}
