/**
 * The shared tier over an ioredis client. It stores strings; the core owns
 * the envelope, and reads entries together with their tag versions
 * (invalidation/version-store.ts). Every call is bounded by a timeout, and a client
 * that is not connected is skipped rather than waited on: ioredis would
 * otherwise queue the command until it reconnects, and a cache must never
 * make a read slower than the database.
 */
import { CacheError } from "../errors.js";
import type { CircuitBreaker } from "../redis/breaker.js";
import type { RedisClientLike } from "../redis/client.js";
import type { ReadBudget } from "../redis/read-budget.js";
import type { ServerIdentity } from "../redis/server-identity.js";
import { withTimeout } from "../redis/timeout.js";

/** How long queued fills wait for company before they are sent. */
const BATCH_WINDOW_MS = 2;
/** A batch this large is sent at once. */
const MAX_BATCH = 128;

interface QueuedWrite {
  /** The entry's key name; `encode` gives its text. */
  readonly name: string;
  readonly encode: () => string | undefined;
  readonly ttlMs: number;
  resolve(): void;
  reject(error: unknown): void;
}

/** The shared tier. Failures are thrown as `CacheError` (E_REDIS) for the caller to absorb. */
export class RedisTier {
  readonly #redis: RedisClientLike;
  readonly #timeoutMs: number;
  readonly #breaker: CircuitBreaker | undefined;
  readonly #queue: QueuedWrite[] = [];
  #flushTimer: NodeJS.Timeout | undefined;

  /**
   * @param redis the caller's client (never closed here)
   * @param timeoutMs bound of each read
   * @param breaker the instance's circuit breaker, told every outcome; while it is open reads skip this tier
   * @param identity the server check of the connection; entries are not read until it passed (none on a Cluster)
   */
  constructor(redis: RedisClientLike, timeoutMs: number, breaker?: CircuitBreaker, identity?: ServerIdentity) {
    this.#redis = redis;
    this.#timeoutMs = timeoutMs;
    this.#breaker = breaker;
    this.#identity = identity;
  }

  readonly #identity: ServerIdentity | undefined;

  /** True when commands can be sent now. */
  get ready(): boolean {
    return this.#redis.status === "ready";
  }

  /**
   * True when the server of the open connection has been checked (redis/server-identity.ts): only then may an entry
   * read from it be served, or a lookup be sent (a restored server's entries are dead once checked). While a check is
   * in flight, a promise of its outcome (it is bounded by the Redis timeout); false when the last one failed.
   */
  checked(): boolean | Promise<boolean> {
    return this.#identity === undefined || this.#identity.checked();
  }

  /**
   * Whether a read may send its commands now (asked once per read, after
   * {@link ready}): false while the circuit breaker is open, so the read
   * goes to the database without paying the timeout. Counted in stats.
   */
  allowsRead(): boolean {
    return this.#breaker === undefined || this.#breaker.allowsRead();
  }

  /** GET, bounded by the timeout and by what is left of the read's Redis time (`budget`). */
  get(name: string, budget?: ReadBudget): Promise<string | null> {
    return withTimeout(this.#redis.get(name), this.#timeoutMs, `GET ${name}`, this.#breaker, budget);
  }

  /**
   * Queues a SET (TTL in milliseconds) to be sent with the others queued in
   * the next few milliseconds, in one pipeline: a socket write costs more than
   * the command, so fills after a run of misses share one. `encode` runs at
   * flush time (off the caller's path) and may return undefined to skip.
   * Resolves when the write is done; rejects with a CacheError if it failed.
   */
  setSoon(name: string, encode: () => string | undefined, ttlMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ name, encode, ttlMs, resolve, reject });
      if (this.#queue.length >= MAX_BATCH) this.#flush();
      else if (this.#flushTimer === undefined) {
        this.#flushTimer = setTimeout(() => this.#flush(), BATCH_WINDOW_MS);
        this.#flushTimer.unref();
      }
    });
  }

  #flush(): void {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    const batch = this.#queue.splice(0);
    const writes = batch.flatMap((item) => {
      const text = item.encode();
      if (text === undefined) {
        item.resolve();
        return [];
      }
      return [{ ...item, text }];
    });
    if (writes.length === 0) return;
    if (this.#breaker?.state === "open") {
      // Not storing is always safe; queued fills would only add timeouts to a Redis that is not answering.
      for (const write of writes) write.resolve();
      return;
    }
    if (!this.ready) {
      for (const write of writes)
        write.reject(new CacheError("E_REDIS", `Redis is ${this.#redis.status}; not storing ${write.name}.`));
      return;
    }
    const pipeline = this.#redis.isCluster === true ? undefined : this.#redis.pipeline?.();
    if (pipeline === undefined) {
      // A Cluster pipeline must stay within one slot: write one by one.
      for (const write of writes)
        withTimeout(
          this.#redis.set(write.name, write.text, "PX", write.ttlMs),
          this.#timeoutMs,
          `SET ${write.name}`,
          this.#breaker,
        ).then(() => write.resolve(), write.reject);
      return;
    }
    for (const write of writes) pipeline.set(write.name, write.text, "PX", write.ttlMs);
    withTimeout(pipeline.exec(), this.#timeoutMs, `a pipeline of ${writes.length} writes`, this.#breaker).then(
      (results) =>
        writes.forEach((write, i) => {
          const error = results?.[i]?.[0];
          const what = `SET ${write.name}`;
          if (error) write.reject(new CacheError("E_REDIS", `${what} failed: ${error.message}`, error));
          else write.resolve();
        }),
      (error: unknown) => writes.forEach((write) => write.reject(error)),
    );
  }
}
