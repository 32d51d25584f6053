/**
 * The cross-process single-flight lock: a lease in Redis that one process
 * takes before loading a key, so that processes missing the same key wait
 * for its entry instead of all querying the database (docs/expiry.md).
 *
 * Both operations are scripts: taking is `SET NX PX`, and releasing deletes
 * the lock only if it still holds this holder's token, so a holder whose
 * lease ran out (and was taken by another process) never releases the
 * other's lock.
 */
import { randomUUID } from "node:crypto";
import { CacheError } from "../errors.js";
import { isReplyError } from "../redis/breaker.js";
import type { ScriptRunner } from "../redis/scripts.js";
import type { ResolvedLock } from "../options/resolve.js";
import type { ReadBudget } from "../redis/read-budget.js";
import { budgetSpent, withTimeout } from "../redis/timeout.js";

/**
 * Takes the lock (KEYS[1]) if it is free. A lock without an expiry (set by
 * another program, or by hand: this library always sets one) would make
 * every miss of its key wait `lock.wait` forever: it is given the lease.
 */
const TAKE_LUA = `
local taken = 0
if redis.call("SET", KEYS[1], ARGV[1], "NX", "PX", ARGV[2]) then
  taken = 1
elseif redis.call("PTTL", KEYS[1]) == -1 then
  redis.call("PEXPIRE", KEYS[1], ARGV[2])
end`;

/**
 * TAKE_LUA, then marks a lock it could not take as wanted (KEYS[3], for the lease), so that a holder loading a
 * key's first read stores its entry for this waiter (docs/expiry.md, "Shared from a key's second read"); a new
 * holder starts unwanted. Every instance marks, whatever its `admission`: a rolling deploy may mix them.
 */
const TAKE_AND_WANT_LUA = `${TAKE_LUA}
if taken == 1 then
  redis.call("DEL", KEYS[3])
else
  redis.call("SET", KEYS[3], "1", "PX", ARGV[2])
end`;

/**
 * Takes the lock (TAKE_AND_WANT_LUA), and returns the entry (KEYS[2]) as
 * it is at that moment: a process whose lookup missed just before the
 * previous holder stored the entry and released the lock must find that
 * entry rather than load again.
 */
const TAKE_AND_READ_SCRIPT = `${TAKE_AND_WANT_LUA}
return { taken, redis.call("GET", KEYS[2]) or false }`;

/**
 * TAKE_AND_READ_SCRIPT for a lock that shares only repeated keys: also marks the key as read (KEYS[4], for ARGV[3]
 * ms) and returns whether it had been.
 */
const TAKE_READ_AND_MARK_SCRIPT = `${TAKE_AND_WANT_LUA}
local seen = redis.call("GET", KEYS[4]) and 1 or 0
redis.call("SET", KEYS[4], "1", "PX", ARGV[3])
return { taken, redis.call("GET", KEYS[2]) or false, seen }`;

/**
 * Releases the lock (KEYS[1]) if it is this holder's and nobody marked it wanted (KEYS[2]): 1 released, 0 wanted
 * (still held: store, then release), -1 no longer this holder's.
 */
const RELEASE_UNLESS_WANTED_SCRIPT = `
if redis.call("GET", KEYS[1]) ~= ARGV[1] then return -1 end
if redis.call("GET", KEYS[2]) then return 0 end
redis.call("DEL", KEYS[1])
return 1`;

/** Cluster form (the lock and the entry are in different slots): take only; the entry is read after. */
const TAKE_SCRIPT = `${TAKE_LUA}
return taken`;

/**
 * Stores the entry (KEYS[1]) and releases the lock (KEYS[2]) if still this holder's: one command for a holder's fill.
 */
const STORE_AND_RELEASE_SCRIPT = `
redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[2])
if redis.call("GET", KEYS[2]) == ARGV[3] then redis.call("DEL", KEYS[2]) end
return 1`;

const RELEASE_SCRIPT = `
if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end
return 0`;

/** First pause of a waiter before it looks for the holder's entry; doubled each time up to MAX_POLL_MS. */
const FIRST_POLL_MS = 2;
const MAX_POLL_MS = 50;

/** What {@link RedisLock.take} found. */
export interface Taken {
  /** The token to release the lock with; undefined when another process holds it. */
  token: string | undefined;
  /** Taken: the entry's text as Redis held it once the lock was taken (null if none). */
  entry: string | null;
  /**
   * Taken by a lock that shares only repeated keys, for a key no read had marked within its lifetime: the holder
   * stores its entry only if a waiter wants it ({@link RedisLock.releaseUnlessWanted}).
   */
  firstRead: boolean;
}

/** What {@link RedisLock.releaseUnlessWanted} did. */
export type UnlessWanted = "released" | "wanted" | "lost";

/** The lock of one extension instance. */
export class RedisLock {
  readonly #scripts: ScriptRunner;
  readonly #leaseMs: string;
  /** How long a waiter waits for the holder's entry before loading itself. */
  readonly waitMs: number;
  /** Whether a key's first read keeps its result out of Redis unless a waiter wants it (`admission: "auto"`). */
  readonly #sharesRepeatsOnly: boolean;
  readonly #owner = randomUUID();
  #taken = 0;

  /**
   * @param sharesRepeatsOnly mark keys as read when taking, and report a first read (docs/expiry.md, "Shared from a
   * key's second read"); ignored on a Cluster
   */
  constructor(scripts: ScriptRunner, settings: ResolvedLock, sharesRepeatsOnly = false) {
    this.#scripts = scripts;
    this.#leaseMs = String(settings.leaseMs);
    this.waitMs = settings.waitMs;
    this.#sharesRepeatsOnly = sharesRepeatsOnly;
  }

  /** The lock's key for the entry stored under `entryName`. */
  static nameFor(entryName: string): string {
    return `${entryName}:lock`;
  }

  /** The key marking the entry stored under `entryName` as read (a lock that shares repeated keys only). */
  static seenNameFor(entryName: string): string {
    return `${entryName}:seen`;
  }

  /** The key marking the lock of `entryName` as wanted by a waiter. */
  static wantedNameFor(entryName: string): string {
    return `${entryName}:lock:w`;
  }

  /**
   * Takes the lock of `entryName` if it is free. Resolves to `token` (taken:
   * release it with that token; undefined when another process holds it)
   * and, when taken, `entry`: the entry's text as Redis held it once the lock
   * was taken (null if none), which the taker checks before loading. With a
   * lock that shares repeated keys only, the key is marked as read for
   * `lifetimeMs` (the entry's ttl plus swr) and `firstRead` says whether it
   * was the first.
   * Rejects with an `E_LOCK` CacheError when Redis cannot answer, or when
   * `budget` (the read's Redis time, read-budget.ts) is spent, before sending anything.
   */
  async take(entryName: string, budget?: ReadBudget, lifetimeMs?: number): Promise<Taken> {
    if (budget?.spent === true)
      throw new CacheError(
        "E_LOCK",
        `not taking the single-flight lock of ${entryName}; loading directly.`,
        budgetSpent("taking it", budget),
      );
    const token = `${this.#owner}:${++this.#taken}`;
    const lockName = RedisLock.nameFor(entryName);
    try {
      if (this.#scripts.redis.isCluster === true) {
        const taken =
          Number(
            await this.#scripts.run(
              TAKE_SCRIPT,
              [lockName],
              [token, this.#leaseMs],
              "taking a single-flight lock",
              budget,
            ),
          ) === 1;
        if (!taken) return { token: undefined, entry: null, firstRead: false };
        // Taken: whatever happens to this read, the token must reach the caller (else the lock is held for its lease).
        const entry = await withTimeout(
          this.#scripts.redis.mget(entryName),
          this.#scripts.timeoutMs,
          `GET ${entryName}`,
          this.#scripts.outcome,
          budget,
        ).then(
          ([text]) => text ?? null,
          () => null,
        );
        return { token, entry, firstRead: false };
      }
      const marks = this.#sharesRepeatsOnly && lifetimeMs !== undefined;
      const [taken, entry, seen] = (await this.#scripts.run(
        marks ? TAKE_READ_AND_MARK_SCRIPT : TAKE_AND_READ_SCRIPT,
        marks
          ? [lockName, entryName, RedisLock.wantedNameFor(entryName), RedisLock.seenNameFor(entryName)]
          : [lockName, entryName, RedisLock.wantedNameFor(entryName)],
        marks ? [token, this.#leaseMs, String(Math.max(1, Math.round(lifetimeMs)))] : [token, this.#leaseMs],
        "taking a single-flight lock",
        budget,
      )) as [number, string | false | null, number | undefined];
      return Number(taken) === 1
        ? { token, entry: typeof entry === "string" ? entry : null, firstRead: marks && Number(seen) === 0 }
        : { token: undefined, entry: null, firstRead: false };
    } catch (error) {
      // Timed out, the take may still run when Redis answers again (a frozen server runs what it had queued), and
      // hold the lock for its whole lease with nobody to release it. Commands on a connection run in order: a release
      // of this token sent now runs right after it.
      if (!isReplyError(error)) this.release(entryName, token).catch(() => undefined);
      throw new CacheError(
        "E_LOCK",
        `the single-flight lock of ${entryName} could not be taken; loading directly.`,
        error,
      );
    }
  }

  /** True when a holder's fill and release can be one script (the entry and its lock in one slot: not on a Cluster). */
  get combinesStore(): boolean {
    return this.#scripts.redis.isCluster !== true;
  }

  /**
   * Stores `text` as the entry (TTL in ms) and releases the lock taken with
   * `token`, in one script (see {@link combinesStore}). Rejects with
   * `E_REDIS` when Redis cannot answer; the lock then expires with its lease.
   */
  async storeAndRelease(entryName: string, text: string, ttlMs: number, token: string): Promise<void> {
    try {
      await this.#scripts.run(
        STORE_AND_RELEASE_SCRIPT,
        [entryName, RedisLock.nameFor(entryName)],
        [text, String(Math.max(1, Math.round(ttlMs))), token],
        `storing ${entryName}`,
      );
    } catch (error) {
      throw new CacheError("E_REDIS", `SET ${entryName} (with the release of its single-flight lock) failed.`, error);
    }
  }

  /**
   * Releases a first read's lock taken with `token` unless a waiter marked it wanted: then it stays held, for
   * {@link storeAndRelease}. Rejects with `E_LOCK` when Redis cannot answer (the lease then runs out).
   */
  async releaseUnlessWanted(entryName: string, token: string): Promise<UnlessWanted> {
    try {
      const released = Number(
        await this.#scripts.run(
          RELEASE_UNLESS_WANTED_SCRIPT,
          [RedisLock.nameFor(entryName), RedisLock.wantedNameFor(entryName)],
          [token],
          "releasing a single-flight lock nobody waits for",
        ),
      );
      return released === 1 ? "released" : released === 0 ? "wanted" : "lost";
    } catch (error) {
      throw new CacheError(
        "E_LOCK",
        `the single-flight lock of ${entryName} could not be released; it expires with its lease.`,
        error,
      );
    }
  }

  /** Releases a lock taken with `token`. Rejects with `E_LOCK` when Redis cannot answer (the lease then runs out). */
  async release(entryName: string, token: string): Promise<void> {
    try {
      await this.#scripts.run(
        RELEASE_SCRIPT,
        [RedisLock.nameFor(entryName)],
        [token],
        "releasing a single-flight lock",
      );
    } catch (error) {
      throw new CacheError(
        "E_LOCK",
        `the single-flight lock of ${entryName} could not be released; it expires with its lease.`,
        error,
      );
    }
  }
}

/** The pauses of a waiter, in ms: 2, 4, 8, 16, 32, 50, 50, ... */
export function* pollDelays(): Generator<number, never> {
  for (let delay = FIRST_POLL_MS; ; delay = Math.min(delay * 2, MAX_POLL_MS)) yield delay;
}
