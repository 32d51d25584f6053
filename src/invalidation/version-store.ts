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
import { CacheError } from "../errors.js";
import type { ReadBudget } from "../redis/read-budget.js";
import { withTimeout } from "../redis/timeout.js";
import { BUS_MEMBERS_LUA } from "./bus-members.js";
import type { ScriptRunner } from "../redis/scripts.js";
import type { VersionMirror } from "./version-mirror.js";

/** Reads and bumps tag versions. */
export interface VersionStore {
  /**
   * Reads the current versions of `tags` (initialising missing ones) and,
   * when `entryName` is given, the shared entry stored under it, in one
   * round trip where the server allows. `budget`: the Redis time left to the
   * read this is part of, which bounds all its round trips (read-budget.ts).
   */
  read(
    tags: readonly string[],
    entryName?: string,
    budget?: ReadBudget,
  ): Promise<{ entry: string | null; versions: number[] }>;
  /**
   * Bumps every tag and returns the new versions. With `announce`, also
   * publishes the invalidation on the bus and returns the instances that
   * must acknowledge it, atomically with the bump.
   */
  bump(tags: readonly string[], announce?: Announcement): Promise<Bumped>;
}

/** What a bump returns. */
export interface Bumped {
  versions: number[];
  /** Bus members that must acknowledge the announcement (none without one). */
  members: string[];
  /** How long the longest of their leases can still run, in ms (server clock): the most a writer must wait for them. */
  leaseLeftMs: number;
  /**
   * Set when the member list was younger than the writer's lease (it was
   * just created, or re-created after it was lost: see bus-members.ts), so
   * instances holding a lease may be missing from `members`.
   */
  youngList?: YoungList;
}

/** What a writer knows when the member list may be incomplete; see {@link Bumped.youngList}. */
export interface YoungList {
  /**
   * How long until the list is one lease old (ms, server clock): by then, every instance missing from it has lost its
   * lease.
   */
  leftMs: number;
  /**
   * How many subscribers received the invalidation (`PUBSUB NUMSUB` of the channel, the
   * writer's own included), or undefined where Redis does not tell (a
   * Cluster node counts only its own subscribers).
   */
  receivers: number | undefined;
}

/** What a bump publishes on the bus, and where the bus keeps its members. */
export interface Announcement {
  readonly channel: string;
  readonly membersKey: string;
  readonly id: string;
  readonly from: string;
  /**
   * The writer's bus lease (ms): how long after its birth the member list may
   * still miss an instance that holds a lease. Instances sharing a prefix are
   * assumed to use the same one.
   */
  readonly leaseMs: number;
  /** The writer's Redis database, carried by the message: pub/sub channels are shared by every database of a server. */
  readonly database: number;
}

/**
 * What a version key may hold: decimal digits only, no more than the largest
 * integer a double (JavaScript's number) holds exactly. Anything else was
 * written by someone else (a foreign writer, a hand-typed `SET`, a wrong
 * type): `INCR` would refuse it (`1.5`), or two versions would read as one
 * number, so it is replaced (see VERSION_LUA).
 */
export function isVersion(text: unknown): text is string {
  return typeof text === "string" && /^\d{1,16}$/.test(text) && Number(text) <= Number.MAX_SAFE_INTEGER;
}

/**
 * Lua shared by the scripts that read or bump versions. `validVersion(key)`
 * returns the key's value when it is a version ({@link isVersion}), false
 * when the key is missing, and nil for anything else: a value no version
 * can be, or another type (GET raises WRONGTYPE, caught). `freshVersion(key,
 * ttl)` replaces whatever the key holds with the server time in
 * microseconds, larger than any version it can have held (as for a missing
 * one), so nothing stored under the foreign value can pass as current.
 */
const VERSION_LUA = `
local function validVersion(key)
  local v = redis.pcall("GET", key)
  if type(v) == "table" then return nil end
  if not v then return false end
  if #v > 16 or not string.match(v, "^%d+$") or tonumber(v) > 9007199254740991 then return nil end
  return v
end
local function freshVersion(key, ttl)
  local t = redis.call("TIME")
  local v = string.format("%.0f", tonumber(t[1]) * 1000000 + tonumber(t[2]))
  redis.call("DEL", key)
  redis.call("SET", key, v, "PX", ttl)
  return v
end`;

/**
 * Reads the entry (when ARGV[1] is "1", KEYS[1] is the entry) and every
 * version. A missing version is initialised from TIME in microseconds, with
 * a TTL of ARGV[2] ms so versions of tags nobody reads any more go away, or
 * ARGV[3] ms for a row's tag (a key starting with ARGV[4]): there is one per
 * row ever read, so they must not outlive the entries by much; a foreign
 * value is replaced the same way. The last element of the reply is how many
 * were replaced (reported by the caller).
 */
const READ_SCRIPT = `${VERSION_LUA}
local repaired = 0
local out = {}
local first = 1
if ARGV[1] == "1" then
  out[1] = redis.call("GET", KEYS[1]) or false
  first = 2
end
for i = first, #KEYS do
  local v = validVersion(KEYS[i])
  local ttl = ARGV[2]
  if string.sub(KEYS[i], 1, #ARGV[4]) == ARGV[4] then ttl = ARGV[3] end
  if v == false then
    v = freshVersion(KEYS[i], ttl)
  elseif v == nil then
    v = freshVersion(KEYS[i], ttl)
    repaired = repaired + 1
  end
  out[#out + 1] = v
end
out[#out + 1] = repaired
return out`;

/**
 * Bumps every version by one (KEYS[1..n], n = ARGV[1]). A missing version is
 * not created: no entry can hold a version that is not stored (the next read
 * initialises it from TIME, larger than any it had), so only a value for the
 * mirrors is returned; this keeps writes to rows nobody caches from creating
 * keys. When ARGV[2] (a channel) is set, it also drops expired bus members
 * from KEYS[n+1], returns the live ones, and publishes the new versions,
 * all atomically: every member returned was subscribed before the message
 * was sent, and any instance that joins later reads the new versions. It
 * also returns how long the member list stays younger than the writer's
 * lease (ARGV[5], ms) and how many subscribers received the message: the
 * writer's only ways to know whom a young list may be missing. Those are
 * counted with `PUBSUB NUMSUB`, not by `PUBLISH`'s own count, which includes
 * pattern subscribers (a GUI, a `PSUBSCRIBE *` while debugging) that never
 * acknowledge. The message carries the writer's database (ARGV[6]); the
 * tags are ARGV[7..6+n], and ARGV[7+n] is the lifetime of a version it
 * replaces because it held a foreign value (which INCR would refuse).
 */
const BUMP_SCRIPT = `${BUS_MEMBERS_LUA}${VERSION_LUA}
local n = tonumber(ARGV[1])
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local versions = {}
for i = 1, n do
  local v = validVersion(KEYS[i])
  if v then
    versions[i] = string.format("%.0f", redis.call("INCR", KEYS[i]))
  elseif v == nil then
    -- A foreign value: INCR would refuse it (every bump would fail, for good), or step it by less than a number tells.
    versions[i] = freshVersion(KEYS[i], ARGV[6 + n + 1])
  else
    versions[i] = string.format("%.0f", now)
  end
end
local members = {}
local leaseLeft, youngLeft, receivers = 0, 0, 0
if ARGV[2] ~= "" then
  members, leaseLeft, youngLeft = busMembers(KEYS[n + 1], math.floor(now / 1000), tonumber(ARGV[5]))
  local seq = busSeq(KEYS[n + 1])
  local tags = {}
  for i = 1, n do tags[i] = ARGV[6 + i] end
  receivers = redis.call("PUBSUB", "NUMSUB", ARGV[2])[2]
  redis.call("PUBLISH", ARGV[2], cjson.encode({ t = "inv", from = ARGV[4], id = ARGV[3], tags = tags, versions = versions, seq = seq, db = tonumber(ARGV[6]) }))
end
return { versions, members, string.format("%.0f", leaseLeft), string.format("%.0f", youngLeft), receivers }`;

/**
 * Cluster form of the announcement (the members key and the tags live in
 * different slots): publish a prepared message (ARGV[2]) on ARGV[1], numbered
 * here, with the writer's lease in ARGV[3]. Returns what BUMP_SCRIPT returns
 * about members, without the count of receivers: a Cluster node's PUBLISH
 * counts only its own subscribers, while the message reaches every node's.
 */
const ANNOUNCE_SCRIPT = `${BUS_MEMBERS_LUA}
local t = redis.call("TIME")
local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local members, leaseLeft, youngLeft = busMembers(KEYS[1], nowMs, tonumber(ARGV[3]))
local message = cjson.decode(ARGV[2])
message.seq = busSeq(KEYS[1])
redis.call("PUBLISH", ARGV[1], cjson.encode(message))
return { members, string.format("%.0f", leaseLeft), string.format("%.0f", youngLeft) }`;

/** Tag versions in Redis. */
export class RedisVersionStore implements VersionStore {
  readonly #scripts: ScriptRunner;
  readonly #prefix: string;
  readonly #mirror: VersionMirror;
  readonly #tagTtl: string;
  /** ARGV[2..4] of READ_SCRIPT: the version TTLs (tags, rows' tags) and the key prefix of rows' tags. */
  readonly #readTtls: [string, string, string];
  readonly #observeToken: () => number | undefined;
  readonly #report: ((error: CacheError) => void) | undefined;

  /**
   * @param observeToken the mirror generation while versions read now may be
   *   recorded (the bus hears every invalidation), else undefined: a read sent
   *   while it does not, or answered after a reset, would put versions in the
   *   mirror that a missed invalidation has already superseded.
   * @param report receives `E_CORRUPT_ENTRY` when version keys held foreign values and were replaced
   * @param ttls.tagMs lifetime of a version nobody bumps; longer than any entry's TTL, so that its expiry (which is
   *   safe: the next read re-creates it larger) rarely costs a miss
   * @param ttls.rowMs the same for a row's tag (`r:`): shorter, because there is one per row ever read
   */

  /** The Redis key holding the version of `tag`. */
  keyOf(tag: string): string {
    return this.#prefix + tag;
  }

  constructor(
    scripts: ScriptRunner,
    prefix: string,
    mirror: VersionMirror,
    ttls: { tagMs: number; rowMs: number },
    observeToken: () => number | undefined,
    report?: (error: CacheError) => void,
  ) {
    this.#observeToken = observeToken;
    this.#report = report;
    this.#scripts = scripts;
    this.#prefix = `${prefix}t:`;
    this.#mirror = mirror;
    this.#tagTtl = String(Math.round(ttls.tagMs));
    this.#readTtls = [this.#tagTtl, String(Math.round(ttls.rowMs)), `${this.#prefix}r:`];
  }

  async read(
    tags: readonly string[],
    entryName?: string,
    budget?: ReadBudget,
  ): Promise<{ entry: string | null; versions: number[] }> {
    const token = this.#observeToken();
    const withEntry = entryName !== undefined;
    const keys = tags.map((tag) => this.keyOf(tag));
    let reply: (string | null | false)[];
    let repaired = 0;
    const redis = this.#scripts.redis;
    if (redis.isCluster === true) {
      // Keys of one script must share a Cluster slot; tags rarely do, so each is read on its own, in parallel.
      const parts = await Promise.all([
        ...(withEntry ? [this.#read1([[entryName], ["1", ...this.#readTtls]], budget)] : []),
        ...keys.map((key) => this.#read1([[key], ["0", ...this.#readTtls]], budget)),
      ]);
      for (const part of parts) repaired += Number(part.pop());
      reply = parts.flat();
    } else {
      // A plain MGET is the common case (every version exists) and much cheaper than a script;
      // the script, which initialises missing versions, runs only when one is missing.
      const all = withEntry ? [entryName, ...keys] : keys;
      reply = await withTimeout(
        redis.mget(...all),
        this.#scripts.timeoutMs,
        "MGET of an entry and its tag versions",
        this.#scripts.outcome,
        budget,
      );
      // A missing version (MGET answers null for another type too) or a foreign value: the script sets them.
      if (reply.some((value, i) => (!withEntry || i > 0) && !isVersion(value))) {
        reply = (await this.#scripts.run(
          READ_SCRIPT,
          all,
          [withEntry ? "1" : "0", ...this.#readTtls],
          "reading tag versions",
          budget,
        )) as (string | null | false)[];
        repaired = Number(reply.pop());
      }
    }
    if (repaired > 0)
      this.#report?.(
        new CacheError(
          "E_CORRUPT_ENTRY",
          `${repaired} tag version key(s) under ${this.#prefix} held something that is not a version (written by another program?) and were replaced; what was stored under them is dead.`,
        ),
      );
    const offset = withEntry ? 1 : 0;
    const record = token !== undefined && token === this.#mirror.generation;
    const versions = tags.map((tag, i) => {
      const text = reply[i + offset];
      // Never observed or captured: an unexpected reply makes the read uncached, not wrong.
      if (!isVersion(text)) throw new CacheError("E_REDIS", `the version of tag ${tag} read back as ${typeof text}.`);
      const version = Number(text);
      if (record) this.#mirror.observe(tag, version);
      return version;
    });
    return { entry: withEntry ? reply[0] || null : null, versions };
  }

  async bump(tags: readonly string[], announce?: Announcement): Promise<Bumped> {
    const token = this.#observeToken();
    const keys = tags.map((tag) => this.keyOf(tag));
    let versions: string[];
    let members: string[] = [];
    let leaseLeft = "0";
    let youngLeft = "0";
    let receivers: number | undefined;
    if (this.#scripts.redis.isCluster === true) {
      versions = (
        await Promise.all(
          keys.map((key) =>
            this.#scripts.run(
              BUMP_SCRIPT,
              [key],
              ["1", "", "", "", "0", "0", "", this.#tagTtl],
              "bumping a tag version",
            ),
          ),
        )
      ).map((reply) => (reply as [string[], string[], string])[0][0] as string);
      if (announce !== undefined) {
        const message = JSON.stringify({
          t: "inv",
          from: announce.from,
          id: announce.id,
          tags,
          versions,
          db: announce.database,
        });
        const args = [announce.channel, message, String(announce.leaseMs)];
        [members, leaseLeft, youngLeft] = (await this.#scripts.run(
          ANNOUNCE_SCRIPT,
          [announce.membersKey],
          args,
          "announcing an invalidation",
        )) as [string[], string, string];
      }
    } else {
      const args = [
        String(tags.length),
        announce?.channel ?? "",
        announce?.id ?? "",
        announce?.from ?? "",
        String(announce?.leaseMs ?? 0),
        String(announce?.database ?? 0),
        ...tags,
        this.#tagTtl,
      ];
      const reply = (await this.#scripts.run(
        BUMP_SCRIPT,
        announce === undefined ? keys : [...keys, announce.membersKey],
        args,
        "bumping tag versions",
      )) as [string[], string[], string, string, number];
      [versions, members, leaseLeft, youngLeft, receivers] = reply;
    }
    const record = token !== undefined && token === this.#mirror.generation;
    // Counted even when not recorded: whoever holds results read before this bump must hear of it.
    this.#mirror.bumped(tags);
    return {
      versions: tags.map((tag, i) => {
        const version = Number(versions[i]);
        // Not recordable (the bus did not hear everything when it was sent, or the mirror was reset since): forget
        // the tag instead, so nothing this instance holds passes as current under the version this bump replaced.
        if (record) this.#mirror.observe(tag, version);
        else this.#mirror.forget(tag);
        return version;
      }),
      members,
      leaseLeftMs: Number(leaseLeft),
      ...(Number(youngLeft) > 0 ? { youngList: { leftMs: Number(youngLeft), receivers } } : {}),
    };
  }

  #read1([keys, args]: [string[], string[]], budget: ReadBudget | undefined): Promise<(string | null | false)[]> {
    return this.#scripts.run(READ_SCRIPT, keys, args, "reading a tag version", budget) as Promise<
      (string | null | false)[]
    >;
  }
}

/**
 * Tag versions of a single process without Redis: the mirror is the
 * authority. Shared by the instances on one prefix (see local-group.ts).
 */
export class LocalVersionStore implements VersionStore {
  readonly #mirror: VersionMirror;
  /**
   * The largest version ever issued here. Every new one is larger, so a tag
   * the mirror forgot (it overflowed and started over) can never be given a
   * version an entry or a load in flight captured before: the clock alone
   * (milliseconds, times 1000) can repeat within one millisecond.
   */
  #highest = 0;

  /**
   * @param mirror  the versions themselves
   * @param members the in-process tiers of the instances sharing this store (cleared when the mirror resets)
   */
  constructor(
    mirror: VersionMirror,
    readonly members = new Set<WeakRef<{ clear(): void }>>(),
  ) {
    this.#mirror = mirror;
  }

  /** The versions of every instance sharing this store. */
  get mirror(): VersionMirror {
    return this.#mirror;
  }

  async read(tags: readonly string[]): Promise<{ entry: string | null; versions: number[] }> {
    return { entry: null, versions: this.readNow(tags) };
  }

  /** Synchronous form of {@link read}, for the in-process-only read path. */
  readNow(tags: readonly string[]): number[] {
    return tags.map((tag) => {
      let version = this.#mirror.get(tag);
      if (version === undefined) {
        version = this.#issue(0);
        this.#mirror.observe(tag, version);
      }
      return version;
    });
  }

  async bump(tags: readonly string[]): Promise<Bumped> {
    const versions = tags.map((tag) => {
      const version = this.#issue((this.#mirror.get(tag) ?? 0) + 1);
      this.#mirror.invalidated(tag, version);
      return version;
    });
    return { versions, members: [], leaseLeftMs: 0 };
  }

  /** A new version, at least `atLeast`: from the clock in microseconds, and above every version issued before. */
  #issue(atLeast: number): number {
    this.#highest = Math.max(atLeast, Date.now() * 1000, this.#highest + 1);
    return this.#highest;
  }
}
