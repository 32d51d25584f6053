/**
 * Bounds Redis operations: a cache must never make a read slower than the
 * database. One timer per pending operation (with `Promise.race`) costs more
 * than the rest of a Redis hit's CPU, so pending operations are checked by a
 * single interval per bound, running only while any is pending. A deadline
 * can therefore pass by up to a quarter of the bound before it fires.
 *
 * A timeout fires only when Redis did not answer. Timers run before the
 * event loop reads its sockets, so after the loop was blocked (a CPU-heavy
 * request, a long GC pause) a deadline can pass while the reply already waits
 * in the socket: failing it then would count the application's own stall as a
 * Redis failure and send the read to the database. An expired operation is
 * therefore failed from `setImmediate`, which runs after the loop has read
 * its sockets; one whose reply was there has settled by then.
 */
import { asCacheError, CacheError } from "../errors.js";
import type { OperationOutcome } from "./breaker.js";
import { loopIdleMs, type ReadBudget } from "./read-budget.js";

interface Pending {
  readonly deadline: number;
  readonly fail: () => void;
}

/** All pending operations of one bound (one `redisTimeout`). */
class DeadlineWatch {
  readonly #pending = new Set<Pending>();
  readonly #timeoutMs: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  /** Watches an operation that fails after `limitMs` (the bound by default; never longer). */
  add(fail: () => void, limitMs = this.#timeoutMs): Pending {
    const pending = { deadline: performance.now() + Math.min(limitMs, this.#timeoutMs), fail };
    this.#pending.add(pending);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#check(), Math.max(1, Math.floor(this.#timeoutMs / 4)));
      this.#timer.unref();
    }
    return pending;
  }

  /** Stops watching `pending`; false when it was no longer watched (its deadline had fired). */
  delete(pending: Pending): boolean {
    return this.#pending.delete(pending);
  }

  #check(): void {
    const now = performance.now();
    const expired: Pending[] = [];
    for (const pending of this.#pending) if (pending.deadline <= now) expired.push(pending);
    if (expired.length > 0) setImmediate(() => this.#fail(expired));
    else if (this.#pending.size === 0) this.#stop();
  }

  /** Fails the expired operations that are still pending once the loop has read the replies that had arrived. */
  #fail(expired: readonly Pending[]): void {
    for (const pending of expired) {
      if (!this.#pending.delete(pending)) continue; // Its reply was waiting: it settled in the poll phase.
      pending.fail();
    }
    if (this.#pending.size === 0) this.#stop();
  }

  #stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

const watches = new Map<number, DeadlineWatch>();

/** The failures made by a deadline (not by Redis answering with an error), for the metrics' timeout count. */
const timeouts = new WeakSet<object>();

/** True when `error` (or its cause) is a Redis operation that passed `redisTimeout`. */
export function isRedisTimeout(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  return timeouts.has(error) || isRedisTimeout((error as { cause?: unknown }).cause);
}

/**
 * Resolves or rejects like `operation`, or rejects with `E_REDIS` once
 * `timeoutMs` has passed. Any failure is normalised to a `CacheError` naming `what`.
 * `outcome` (the instance's circuit breaker) hears whether Redis answered.
 * With `budget` (the read the operation is part of), it fails sooner when
 * the read has less Redis time left, and charges the read the Redis time it
 * took (read-budget.ts). A command that got no reply within its own limit,
 * the timeout or what the budget left it, is a failure the breaker hears of
 * either way: its reply had not arrived when the loop last read its sockets.
 */
export function withTimeout<T>(
  operation: Promise<T>,
  timeoutMs: number,
  what: string,
  outcome?: OperationOutcome,
  budget?: ReadBudget,
): Promise<T> {
  let watch = watches.get(timeoutMs);
  if (watch === undefined) {
    watch = new DeadlineWatch(timeoutMs);
    watches.set(timeoutMs, watch);
  }
  const bound = watch;
  const limitMs = budget === undefined ? timeoutMs : Math.min(timeoutMs, budget.leftMs());
  if (limitMs <= 0) {
    operation.catch(() => undefined); // Sent already; its answer is not waited for.
    return Promise.reject(budgetSpent(what, budget as ReadBudget));
  }
  const idleAtSend = budget === undefined ? 0 : loopIdleMs();
  return new Promise<T>((resolve, reject) => {
    const pending = bound.add(() => {
      budget?.charge(idleAtSend);
      const error =
        limitMs < timeoutMs
          ? budgetSpent(what, budget as ReadBudget)
          : new CacheError("E_REDIS", `${what} took longer than redisTimeout (${timeoutMs} ms).`);
      timeouts.add(error);
      outcome?.failed(error);
      reject(error);
    }, limitMs);
    operation.then(
      (value) => {
        // Settled after its deadline fired: already counted as a failure (and charged).
        if (bound.delete(pending)) {
          budget?.charge(idleAtSend);
          outcome?.answered();
        }
        resolve(value);
      },
      (error: unknown) => {
        if (bound.delete(pending)) {
          budget?.charge(idleAtSend);
          outcome?.failed(error);
        }
        reject(asCacheError(error, "E_REDIS", `${what} failed: ${(error as Error)?.message ?? String(error)}`));
      },
    );
  });
}

/** The failure of an operation cut short because its read spent its Redis time (redisTimeout, for all its round trips). */
export function budgetSpent(what: string, budget: ReadBudget): CacheError {
  return new CacheError(
    "E_REDIS",
    `${what}: the read's Redis time (redisTimeout, ${budget.totalMs} ms for all its round trips) ran out; the database answers it.`,
  );
}
