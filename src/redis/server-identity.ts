/**
 * A Redis server restored from a snapshot (RDB, AOF `everysec`), or a
 * replica promoted by a failover, brings back tag versions from before
 * writes it lost, together with the entries filled under them: those
 * entries look current again (issue 12 measured 737 stale reads). Versions
 * cannot tell: a restored version is a real one.
 *
 * What does tell is the server's identity: `run_id` changes with every
 * start of a `redis-server` process, and a promoted replica has its own.
 * Every connection (the first and each reconnect) checks, before the tier
 * serves anything, the `run_id` recorded under `<prefix>bus:server` against the
 * server's own. When they differ (a new process: restarted empty, restored,
 * or another node after a failover), one script records the new identity
 * and deletes the version keys of every query tag (`q:0` to `q:255`). Every
 * entry depends on exactly one query tag (read/query-tags.ts), and a deleted
 * version comes back from the server clock, larger than any it had
 * (version-store.ts): every entry the server had, and every fill captured
 * before the check, is dead. The cost is one cold cache per server change;
 * a reconnect to the same process finds its own identity and deletes nothing.
 *
 * On a Cluster each master is its own process and the query tags are spread
 * over all of them: not covered (docs/consistency.md).
 */
import { CacheError } from "../errors.js";
import type { ScriptRunner } from "./scripts.js";

/**
 * KEYS[1]: the identity record; KEYS[2..]: the query tags' version keys. Returns the server's run_id after 0 when it
 * is the one recorded, 1 when none was (a first start, or an empty server), 2 when another was: the versions were
 * deleted in both cases (an empty server has none to delete, a partly evicted one might).
 */
const CHECK_SCRIPT = `
local id = string.match(redis.call("INFO", "server"), "run_id:(%x+)")
if id == nil then return redis.error_reply("no run_id in INFO server") end
local recorded = redis.call("GET", KEYS[1])
if recorded == id then return { 0, id } end
redis.call("SET", KEYS[1], id)
for i = 2, #KEYS do redis.call("DEL", KEYS[i]) end
if recorded then return { 2, id } end
return { 1, id }`;

/** A pause before checking again after a failed check, while the connection stays up. */
const RETRY_MS = 250;

/** The connection events the check follows (ioredis `Redis`). */
export interface ConnectionEvents {
  readonly status: string;
  on?(event: "ready" | "close", listener: () => void): unknown;
  off(event: "ready" | "close", listener: () => void): unknown;
}

/** Whether the server this instance talks to has been checked since its connection last (re)opened. */
export class ServerIdentity {
  readonly #scripts: ScriptRunner;
  readonly #keys: readonly string[];
  readonly #report: (error: CacheError) => void;
  #confirmed = false;
  /** Bumped by every close: a check's answer counts only for the connection it was sent on. */
  #connection = 0;
  #retry: NodeJS.Timeout | undefined;
  #stopped = false;
  /** The run_id of the server this instance was last checked on. */
  #lastId: string | undefined;
  readonly #onServerChange: () => void;
  readonly #firstCheck: Promise<void>;
  #settleFirst!: () => void;

  /**
   * @param identityKey `<prefix>bus:server`
   * @param queryTagKeys the version keys of every query tag
   * @param onServerChange called when this instance finds itself on another server than before, before it serves
   *   anything from it: forgets the mirror and the in-process tier
   */
  constructor(
    redis: ConnectionEvents,
    scripts: ScriptRunner,
    identityKey: string,
    queryTagKeys: readonly string[],
    report: (error: CacheError) => void,
    onServerChange: () => void,
  ) {
    this.#onServerChange = onServerChange;
    this.#scripts = scripts;
    this.#keys = [identityKey, ...queryTagKeys];
    this.#report = report;
    this.#firstCheck = new Promise<void>((resolve) => (this.#settleFirst = resolve));
    this.#unlisten = follow(redis, this);
    if (redis.status === "ready") this.#check();
  }

  /** The connection closed: what was checked on it no longer holds. */
  closed(): void {
    this.#connection++;
    this.#confirmed = false;
  }

  /** The connection is (again) ready: check the server it reached. */
  ready(): void {
    this.#check();
  }

  readonly #unlisten: () => void;

  /**
   * True once the connection open now was checked: only then may entries be read. While a check is in flight, a
   * promise of whether it passes; false when none is (the last one failed: a retry is scheduled).
   */
  checked(): boolean | Promise<boolean> {
    return this.#confirmed || (this.#inFlight ?? false);
  }

  /** Resolves once a check first succeeded (`$cache.ready()` waits for it with the bus). */
  firstCheck(): Promise<void> {
    return this.#firstCheck;
  }

  /** Stops checking (the instance closed). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#retry);
    this.#unlisten();
  }

  #check(): void {
    if (this.#stopped) return;
    clearTimeout(this.#retry);
    const connection = this.#connection;
    const check = this.#scripts.run(CHECK_SCRIPT, this.#keys, [], "checking the Redis server's identity").then(
      (reply) => {
        if (this.#inFlight === check) this.#inFlight = undefined;
        if (connection !== this.#connection) return false; // It closed meanwhile: the next ready checks again.
        const [changed, id] = reply as [number, string];
        // This instance was on another server before (a failover, a restart): what it learned there (versions in its
        // mirror, in-process entries) may be ahead of this server, which can lose bumps; a repeated version would then
        // make an old in-process entry look current. Forget it all before serving.
        if (this.#lastId !== undefined && id !== this.#lastId) this.#onServerChange();
        this.#lastId = id;
        if (Number(changed) === 2)
          this.#report(
            new CacheError(
              "E_REDIS",
              "connected to a Redis server this prefix had not seen (restarted, restored from a snapshot, or a failover): every entry stored before is dead.",
            ),
          );
        this.#confirmed = true;
        this.#settleFirst();
        return true;
      },
      (error: unknown) => {
        if (this.#inFlight === check) this.#inFlight = undefined;
        this.#report(
          new CacheError(
            "E_REDIS",
            "checking the Redis server's identity failed; Redis is skipped until it works.",
            error,
          ),
        );
        if (connection !== this.#connection || this.#stopped) return false;
        this.#retry = setTimeout(() => this.#check(), RETRY_MS);
        this.#retry.unref();
        return false;
      },
    );
    this.#inFlight = check;
  }

  /** The check sent on the open connection and not answered yet. */
  #inFlight: Promise<boolean> | undefined;
}

/** The checks following each client: one pair of listeners per client, however many instances share it. */
const followers = new WeakMap<ConnectionEvents, Set<ServerIdentity>>();

/**
 * Makes `identity` hear `redis`'s "close" and "ready". Many instances may share one client (one per tenant, say), and
 * a listener each would pass Node's limit of ten per event. Returns what stops it.
 */
function follow(redis: ConnectionEvents, identity: ServerIdentity): () => void {
  if (redis.on === undefined) return () => undefined;
  let set = followers.get(redis);
  const onClose = () => set?.forEach((follower) => follower.closed());
  const onReady = () => set?.forEach((follower) => follower.ready());
  if (set === undefined) {
    set = new Set();
    followers.set(redis, set);
    redis.on("close", onClose);
    redis.on("ready", onReady);
    listeners.set(redis, { onClose, onReady });
  }
  set.add(identity);
  const followed = set;
  return () => {
    followed.delete(identity);
    if (followed.size > 0 || followers.get(redis) !== followed) return;
    followers.delete(redis);
    const attached = listeners.get(redis);
    listeners.delete(redis);
    if (attached === undefined) return;
    redis.off("close", attached.onClose);
    redis.off("ready", attached.onReady);
  };
}

/** The listeners {@link follow} attached to each client, to detach them when its last follower stops. */
const listeners = new WeakMap<ConnectionEvents, { onClose: () => void; onReady: () => void }>();
