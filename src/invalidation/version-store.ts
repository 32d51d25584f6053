/**
 * Where tag versions live. With Redis, the authoritative versions are Redis
 * keys (`<prefix>t:<tag>`), read and bumped by Lua scripts; without Redis
 * (one process), they live in the mirror itself.
 *
 * Versions never repeat, even if a version key is lost (eviction, FLUSHDB,
 * failover): a missing version is initialised from the Redis server clock in
 * microseconds, larger than any version it can have had, and a bump adds 1.
 * See docs/invalidation.md.
 */
import { withTimeout } from "../tiers/timeout.js";
import type { VersionMirror } from "./version-mirror.js";

/** Reads and bumps tag versions. */
export interface VersionStore {
  /**
   * Reads the current versions of `tags` (initialising missing ones) and,
   * when `entryName` is given, the shared entry stored under it, in one
   * round trip where the server allows.
   */
  read(tags: readonly string[], entryName?: string): Promise<{ entry: string | null; versions: number[] }>;
  /** Bumps every tag; returns the new versions. */
  bump(tags: readonly string[]): Promise<number[]>;
}

/**
 * Reads the entry (when ARGV[1] is "1", KEYS[1] is the entry) and every
 * version. A missing version is initialised from TIME in microseconds, with
 * a TTL of ARGV[2] ms so versions of tags nobody reads any more go away.
 */
const READ_SCRIPT = `
local out = {}
local first = 1
if ARGV[1] == "1" then
  out[1] = redis.call("GET", KEYS[1]) or false
  first = 2
end
for i = first, #KEYS do
  local v = redis.call("GET", KEYS[i])
  if not v then
    local t = redis.call("TIME")
    v = string.format("%.0f", tonumber(t[1]) * 1000000 + tonumber(t[2]))
    if not redis.call("SET", KEYS[i], v, "NX", "PX", ARGV[2]) then v = redis.call("GET", KEYS[i]) end
  end
  out[#out + 1] = v
end
return out`;

/**
 * Bumps every version by one. A missing version is not created: no entry can
 * hold a version that is not stored (the next read initialises it from TIME,
 * larger than any it had), so only a value for the mirrors is returned. This
 * keeps writes to rows nobody caches from creating keys.
 */
const BUMP_SCRIPT = `
local out = {}
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
for i = 1, #KEYS do
  if redis.call("EXISTS", KEYS[i]) == 1 then
    out[i] = string.format("%.0f", redis.call("INCR", KEYS[i]))
  else
    out[i] = string.format("%.0f", now)
  end
end
return out`;

/** The ioredis surface the store needs (a `Redis` or `Cluster`). */
export interface ScriptingRedis {
  readonly isCluster?: boolean;
  mget(...keys: string[]): Promise<(string | null)[]>;
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  evalsha(sha: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  script(subcommand: "LOAD", script: string): Promise<unknown>;
}

/** Tag versions in Redis. */
export class RedisVersionStore implements VersionStore {
  readonly #redis: ScriptingRedis;
  readonly #prefix: string;
  readonly #mirror: VersionMirror;
  readonly #timeoutMs: number;
  readonly #tagTtl: string;
  readonly #scripts = new Map<string, string>();

  /**
   * @param tagTtlMs lifetime of a version nobody bumps; longer than any entry's TTL, so
   *                 that its expiry (which is safe) rarely costs a miss
   */
  constructor(redis: ScriptingRedis, prefix: string, mirror: VersionMirror, timeoutMs: number, tagTtlMs: number) {
    this.#redis = redis;
    this.#prefix = `${prefix}t:`;
    this.#mirror = mirror;
    this.#timeoutMs = timeoutMs;
    this.#tagTtl = String(Math.round(tagTtlMs));
  }

  async read(tags: readonly string[], entryName?: string): Promise<{ entry: string | null; versions: number[] }> {
    const withEntry = entryName !== undefined;
    const keys = tags.map((tag) => this.#prefix + tag);
    let reply: (string | null | false)[];
    if (this.#redis.isCluster === true) {
      // Keys of one script must share a Cluster slot; tags rarely do, so each is read on its own, in parallel.
      const parts = await Promise.all([
        ...(withEntry ? [this.#run(READ_SCRIPT, [entryName], "1", this.#tagTtl)] : []),
        ...keys.map((key) => this.#run(READ_SCRIPT, [key], "0", this.#tagTtl)),
      ]);
      reply = parts.flat();
    } else {
      // A plain MGET is the common case (every version exists) and much cheaper than a script;
      // the script, which initialises missing versions, runs only when one is missing.
      const all = withEntry ? [entryName, ...keys] : keys;
      reply = await withTimeout(this.#redis.mget(...all), this.#timeoutMs, "MGET of an entry and its tag versions");
      if (reply.some((value, i) => value === null && (!withEntry || i > 0))) {
        reply = await this.#run(READ_SCRIPT, all, withEntry ? "1" : "0", this.#tagTtl);
      }
    }
    const offset = withEntry ? 1 : 0;
    const versions = tags.map((tag, i) => {
      const version = Number(reply[i + offset]);
      this.#mirror.observe(tag, version);
      return version;
    });
    return { entry: withEntry ? (reply[0] || null) : null, versions };
  }

  async bump(tags: readonly string[]): Promise<number[]> {
    const keys = tags.map((tag) => this.#prefix + tag);
    const reply =
      this.#redis.isCluster === true ? (await Promise.all(keys.map((key) => this.#run(BUMP_SCRIPT, [key])))).flat() : await this.#run(BUMP_SCRIPT, keys);
    return tags.map((tag, i) => {
      const version = Number(reply[i]);
      this.#mirror.observe(tag, version);
      return version;
    });
  }

  /** EVALSHA with a fallback to EVAL on NOSCRIPT, bounded by the Redis timeout. */
  async #run(script: string, keys: readonly string[], ...args: string[]): Promise<(string | null | false)[]> {
    const sha = this.#scripts.get(script);
    const call = async (): Promise<unknown> => {
      if (sha !== undefined) {
        try {
          return await this.#redis.evalsha(sha, keys.length, ...keys, ...args);
        } catch (error) {
          if (!String((error as Error)?.message).includes("NOSCRIPT")) throw error;
        }
      }
      const loaded = String(await this.#redis.script("LOAD", script));
      this.#scripts.set(script, loaded);
      return this.#redis.evalsha(loaded, keys.length, ...keys, ...args);
    };
    return (await withTimeout(call(), this.#timeoutMs, "a tag-version script")) as (string | null | false)[];
  }
}

/** Tag versions of a single process without Redis: the mirror is the authority. */
export class LocalVersionStore implements VersionStore {
  readonly #mirror: VersionMirror;
  /** Versions start from the clock in microseconds, so a mirror reset can never bring an old version back. */
  readonly #origin = () => Date.now() * 1000;

  constructor(mirror: VersionMirror) {
    this.#mirror = mirror;
  }

  async read(tags: readonly string[]): Promise<{ entry: string | null; versions: number[] }> {
    return { entry: null, versions: this.readNow(tags) };
  }

  /** Synchronous form of {@link read}, for the in-process-only read path. */
  readNow(tags: readonly string[]): number[] {
    return tags.map((tag) => {
      let version = this.#mirror.get(tag);
      if (version === undefined) {
        version = this.#origin();
        this.#mirror.observe(tag, version);
      }
      return version;
    });
  }

  async bump(tags: readonly string[]): Promise<number[]> {
    return tags.map((tag) => {
      const version = Math.max((this.#mirror.get(tag) ?? 0) + 1, this.#origin());
      this.#mirror.observe(tag, version);
      return version;
    });
  }
}
