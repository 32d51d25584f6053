/**
 * The shared (Redis) tier's side of a miss: the entry of a key and the tag
 * versions to judge it by, read in one round trip before the database read.
 * Those captured versions are what the miss's fill is stored under, which
 * is what makes a fill that races an invalidation harmless (docs/invalidation.md).
 */
import { asCacheError, CacheError } from "../errors.js";
import type { VersionSource } from "../invalidation/version-source.js";
import type { QueryKey } from "../keys/query-key.js";
import type { Clock } from "../options/types.js";
import { decodeEntry, type Entry } from "../tiers/entry.js";
import type { RedisTier } from "../tiers/redis-tier.js";
import type { ReadBudget } from "../redis/read-budget.js";
import { budgetSpent } from "../redis/timeout.js";

/** What one lookup found: the versions captured (undefined when Redis cannot answer), and the live entry if any. */
export interface Lookup {
  /** The versions to store a fill under and judge `shared` by; undefined when Redis could not answer. */
  captured: number[] | undefined;
  /** The live shared entry, decoded; undefined when there is none (or it is damaged or expired). */
  shared: Entry | undefined;
}

/** Reads shared entries and captures tag versions for one extension instance. */
export class SharedLookup {
  readonly #redis: RedisTier | undefined;
  readonly #versions: VersionSource;
  readonly #clock: Clock;
  readonly #report: (error: CacheError) => void;

  /** @param redis the shared tier, when there is one */
  constructor(
    redis: RedisTier | undefined,
    versions: VersionSource,
    clock: Clock,
    report: (error: CacheError) => void,
  ) {
    this.#redis = redis;
    this.#versions = versions;
    this.#clock = clock;
    this.#report = report;
  }

  /**
   * The shared entry of `key` and the versions to judge it by, in one round
   * trip (see {@link capture}). `mirrored`: the mirror's versions, when they
   * may be trusted. `reread`: whether an entry newer than them is worth a
   * second round trip (not while an early load, which used them, is already running).
   * `budget`: the read's Redis time, shared by all its round trips (read-budget.ts).
   */
  async lookup(
    key: QueryKey,
    tags: readonly string[],
    mirrored: number[] | undefined,
    reread = true,
    budget?: ReadBudget,
  ): Promise<Lookup> {
    let { captured, text } = await this.capture(key, tags, mirrored, budget);
    let shared = text === null || captured === undefined ? undefined : this.decode(key, text, tags);
    if (reread && shared !== undefined && mirrored !== undefined && anyNewer(shared.versions, mirrored)) {
      // The entry was stored under versions newer than the mirror's (a version key expired and was
      // re-created, say): read Redis's versions once, so the mirror learns them and the entry can hit.
      // An entry with older versions is simply dead: no extra round trip for it.
      ({ captured, text } = await this.capture(key, tags, undefined, budget));
      shared = text === null || captured === undefined ? undefined : this.decode(key, text, tags);
    }
    return { captured, shared };
  }

  /**
   * Captures the current versions of `tags` (before the database read) and,
   * with Redis, the shared entry, in one round trip. `captured` is undefined
   * when Redis cannot answer: the read then goes to the database unfilled.
   *
   * `mirrored` are the mirror's versions, given while this instance hears
   * every invalidation and the mirror knows every tag. They are what
   * in-process entries are checked against, with the same guarantee: never
   * ahead of Redis, and behind it only for a write that has not resolved yet
   * (the writer waits for this instance's acknowledgement). A shared entry is
   * then checked against them too, and the round trip reads only the entry.
   */
  async capture(
    key: QueryKey,
    tags: readonly string[],
    mirrored: number[] | undefined,
    budget?: ReadBudget,
  ): Promise<{ captured: number[] | undefined; text: string | null }> {
    const local = this.#versions.readLocal(tags);
    if (local !== undefined) return { captured: local, text: null };
    const redis = this.#redis as RedisTier;
    if (!redis.ready) {
      this.#report(
        new CacheError("E_REDIS", `Redis is not connected; ${key.shared().name} is read from the database, uncached.`),
      );
      return { captured: undefined, text: null };
    }
    // The circuit breaker is open: not reported again (it was when it opened), no timeout paid.
    if (!redis.allowsRead()) return { captured: undefined, text: null };
    // A server not checked since the connection opened may be a restored one: wait for its check (reported if it fails).
    const checked = redis.checked();
    if (checked !== true && !(await checked)) return { captured: undefined, text: null };
    try {
      if (budget?.spent === true) throw budgetSpent(`looking up ${key.shared().name}`, budget);
      if (mirrored !== undefined) return { captured: mirrored, text: await redis.get(key.shared().name, budget) };
      const { entry, versions } = await this.#versions.store.read(tags, key.shared().name, budget);
      return { captured: versions, text: entry };
    } catch (error) {
      this.#report(asCacheError(error, "E_REDIS", "reading an entry and its tag versions failed."));
      return { captured: undefined, text: null };
    }
  }

  /** The live entry encoded in `text`, or undefined (reported when damaged, unless the lookup before already did). */
  decode(key: QueryKey, text: string, tags: readonly string[], reportDamage = true): Entry | undefined {
    const { name, fingerprint } = key.shared();
    try {
      const decoded = decodeEntry(text, fingerprint, tags);
      if (typeof decoded === "string") {
        if (reportDamage)
          this.#report(
            new CacheError(
              "E_CORRUPT_ENTRY",
              `entry ${name} was ignored: ${decoded === "fingerprint" ? "its fingerprint does not match the query (a key collision or a foreign writer)" : "it is not in this library's format"}.`,
            ),
          );
        return undefined;
      }
      return decoded.expiresAt > this.#clock.now() ? decoded : undefined;
    } catch (error) {
      if (reportDamage)
        this.#report(new CacheError("E_CORRUPT_ENTRY", `entry ${name} could not be decoded and was ignored.`, error));
      return undefined;
    }
  }
}

/** True when one of `versions` is newer than its counterpart in `than`. */
export function anyNewer(versions: readonly number[], than: readonly number[]): boolean {
  for (let i = 0; i < versions.length; i++) if ((versions[i] as number) > (than[i] as number)) return true;
  return false;
}
