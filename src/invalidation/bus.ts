/**
 * The invalidation bus: Redis pub/sub between every instance sharing a
 * prefix, with a membership list, acknowledgements and leases, so that a
 * write resolves only when no instance can still serve what it invalidated
 * from its in-process tier (consistency contract, item 1).
 *
 * - Membership lives in Redis, in a sorted set scored by lease expiry. An
 *   instance joins only once its subscription is confirmed, and renews with
 *   every heartbeat (every `lease / 3`); a heartbeat is one script that
 *   renews the membership and publishes the heartbeat.
 * - Hearing its own heartbeat back proves the subscription delivers, and
 *   gives the instance a lease: it may serve in-process entries until
 *   `lease` after it *sent* that heartbeat, which is never later than the
 *   expiry its membership got, on the server's clock, a moment after. It
 *   fills in-process entries only while a lease holds.
 * - A write bumps the tag versions, reads the live members and publishes the
 *   new versions in one atomic script (invalidation/version-store.ts). Every
 *   member returned was subscribed before the message went out and will
 *   receive it; an instance that joins later reads the new versions. The
 *   write then waits for each member's acknowledgement, for at most `lease`:
 *   a member that does not answer in time has no lease left to serve with.
 * - The list can be lost (FLUSHDB, an eviction) and is then re-created
 *   without the members that have not heartbeated since (bus-members.ts).
 *   While it is younger than a lease, a write also waits until it heard
 *   from as many instances as Redis delivered the message to (PUBSUB
 *   NUMSUB of the channel, where Redis gives it), else until the list is a lease old, when
 *   every instance it missed has lost its lease.
 * - Messages on one channel arrive in order, so an instance that renews its
 *   lease has applied every invalidation published before that heartbeat.
 * - On a reconnect the mirror and the in-process tier are cleared: messages
 *   sent while the subscriber was away are lost. On close, an instance
 *   leaves the membership and says goodbye, so no write waits for it.
 */
import { randomUUID } from "node:crypto";
import { asCacheError, CacheError } from "../errors.js";
import { BUS_MEMBERS_LUA } from "./bus-members.js";
import type { BusRedis, BusSubscriber } from "../redis/client.js";
import type { ScriptRunner } from "../redis/scripts.js";
import { withTimeout } from "../redis/timeout.js";
import type { Announcement, Bumped } from "./version-store.js";
import type { VersionMirror } from "./version-mirror.js";

/**
 * What travels on the bus. `db` is the Redis database the sender's keys live
 * in: pub/sub ignores database numbers, so two deployments on one server and
 * one prefix but different databases share the channel, and each must ignore
 * the other's versions and sequence. Messages of releases before it have none.
 */
type Message =
  | { t: "hb"; from: string; beat: number; seq: number; db?: number }
  | { t: "inv"; from: string; id: string; tags: string[]; versions: string[]; seq: number; db?: number }
  | { t: "unb"; from: string; id: string; tags: string[]; db?: number }
  | { t: "ack"; from: string; id: string }
  | { t: "bye"; from: string };

/**
 * Renews the membership (score: server time + lease) and publishes the
 * heartbeat, atomically. Like every invalidation, it takes the next bus
 * sequence number, so a subscriber that missed a message notices at the next
 * one; and a list it (re-)creates records its birth (bus-members.ts).
 */
const HEARTBEAT_SCRIPT = `${BUS_MEMBERS_LUA}
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
busBirth(KEYS[1], now)
redis.call("ZADD", KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call("PEXPIRE", KEYS[1], tonumber(ARGV[2]) * 10)
local seq = busSeq(KEYS[1])
redis.call("PUBLISH", ARGV[3], cjson.encode({ t = "hb", from = ARGV[1], beat = tonumber(ARGV[4]), seq = seq, db = tonumber(ARGV[5]) }))
return 1`;

interface PendingWrite {
  /** Members that must still acknowledge; undefined until the bump returned them. */
  waiting: Set<string> | undefined;
  /** Acknowledgements (and goodbyes) that arrived before the member list did. */
  readonly early: Set<string>;
  /**
   * Instances that received the invalidation, as far as this one knows:
   * those that acknowledged it, and itself once its own message came back.
   * Goodbyes do not count: an instance may say goodbye without having been
   * among the receivers.
   */
  readonly heard: Set<string>;
  /** How many receivers must be heard from before the write may resolve (0: none; a young list raises it). */
  receivers: number;
  /** Resolves the write once every listed member and enough receivers were heard from (or their deadlines passed). */
  readonly check: () => void;
  readonly done: () => void;
}

/** One instance's end of the bus. */
export class InvalidationBus {
  readonly instanceId = randomUUID();
  readonly #redis: BusRedis;
  readonly #scripts: ScriptRunner;
  readonly #channel: string;
  readonly #membersKey: string;
  readonly #leaseMs: number;
  /** The Redis database of this instance's keys (0 on a Cluster): messages of other databases are not ours. */
  readonly #database: number;
  readonly #mirror: VersionMirror;
  readonly #report: (error: CacheError) => void;
  readonly #pending = new Map<string, PendingWrite>();
  readonly #heartbeatsSent = new Map<number, number>();
  #subscriber: BusSubscriber | undefined;
  #leaseUntil = 0;
  #heartbeatSeq = 0;
  #heartbeat: NodeJS.Timeout | undefined;
  #closed = false;
  #subscribed = false;
  /** Sequence number of the last heartbeat or invalidation heard; undefined after a (re)subscription. */
  #lastSeq: number | undefined;
  #subscribing = false;
  /** The last failure of the bus connection or of a heartbeat, for {@link notReadyReason}. */
  #lastFailure: string | undefined;
  /** Told the tags of each invalidation heard from another instance (metrics and events; see compose.ts). */
  heard: ((tags: readonly string[]) => void) | undefined;
  #markReady!: () => void;
  /** Resolves at the first lease: from then on in-process entries are used. */
  readonly ready = new Promise<void>((resolve) => (this.#markReady = resolve));

  constructor(
    redis: BusRedis,
    scripts: ScriptRunner,
    prefix: string,
    leaseMs: number,
    mirror: VersionMirror,
    report: (error: CacheError) => void,
  ) {
    this.#redis = redis;
    this.#scripts = scripts;
    this.#channel = `${prefix}bus`;
    this.#membersKey = `${prefix}bus:members`;
    this.#leaseMs = leaseMs;
    this.#mirror = mirror;
    this.#report = report;
    this.#database = databaseOf(redis);
  }

  /** Opens the subscriber connection; heartbeats (and so membership and the lease) start once it is subscribed. */
  start(): void {
    const subscriber = this.#redis.duplicate();
    this.#subscriber = subscriber;
    // Our connection must not keep the user's process alive.
    subscriber.on("connect", () => subscriber.stream?.unref?.());
    subscriber.on("ready", () => {
      this.#mirror.reset();
      this.#lastSeq = undefined;
      // ioredis re-subscribes what it had subscribed; a first SUBSCRIBE that failed is tried again here.
      if (!this.#subscribed && !this.#subscribing) this.#subscribe(subscriber);
    });
    subscriber.on("close", () => (this.#leaseUntil = 0));
    subscriber.on("error", (error) => {
      this.#lastFailure = error.message;
      this.#report(new CacheError("E_REDIS", `the invalidation bus connection failed: ${error.message}`, error));
    });
    subscriber.on("message", (channel, text) => this.#receive(channel, text));
    this.#subscribe(subscriber);
    // Heartbeats run from the start; each is sent only while the subscriber is ready.
    this.#heartbeat = setInterval(() => this.#sendHeartbeat(), Math.max(10, Math.floor(this.#leaseMs / 3)));
    this.#heartbeat.unref();
  }

  #subscribe(subscriber: BusSubscriber): void {
    this.#subscribing = true;
    subscriber.subscribe(this.#channel, this.#ackChannel(this.instanceId)).then(
      () => {
        this.#subscribing = false;
        this.#subscribed = true;
        this.#sendHeartbeat();
      },
      (error: unknown) => {
        this.#subscribing = false;
        this.#report(
          new CacheError(
            "E_REDIS",
            "could not subscribe to the invalidation bus; in-process entries will not be served until it works (retried on reconnect).",
            error,
          ),
        );
      },
    );
  }

  /**
   * True while this instance hears every invalidation (its lease is current):
   * only then may it serve in-process entries and trust its mirror.
   */
  hearsEveryInvalidation(): boolean {
    return performance.now() < this.#leaseUntil;
  }

  /**
   * Why this instance has no lease (so serves nothing in-process), for
   * `$cache.ready()` when it gives up waiting: the bus connection's state,
   * or that Redis does not answer its heartbeats, with the last failure seen.
   */
  notReadyReason(): string {
    const last = this.#lastFailure === undefined ? "" : ` (last failure: ${this.#lastFailure})`;
    if (this.#closed) return "the cache was closed";
    const status = this.#subscriber?.status;
    if (status !== "ready") return `the invalidation bus connection to Redis is ${status ?? "not started"}${last}`;
    if (!this.#subscribed) return `the invalidation bus has not subscribed yet${last}`;
    return `Redis has not answered a bus heartbeat (frozen, overloaded or unreachable?)${last}`;
  }

  /** What a bump must publish for this bus; pass it to `VersionStore.bump`, then what it returned to `wait`. */
  announcement(): Announcement & {
    wait(bumped: Pick<Bumped, "members" | "leaseLeftMs" | "youngList">): Promise<void>;
  } {
    const id = randomUUID();
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    // No timer until the bump answers: a write must never stop waiting before it knows whom to wait for.
    const timers: NodeJS.Timeout[] = [];
    const pending: PendingWrite = {
      waiting: undefined,
      early: new Set(),
      heard: new Set(),
      receivers: 0,
      check: () => {
        if (pending.waiting !== undefined && pending.waiting.size === 0 && pending.heard.size >= pending.receivers)
          pending.done();
      },
      done: () => {
        for (const timer of timers) clearTimeout(timer);
        this.#pending.delete(id);
        finish();
      },
    };
    this.#pending.set(id, pending);
    return {
      channel: this.#channel,
      membersKey: this.#membersKey,
      id,
      from: this.instanceId,
      leaseMs: this.#leaseMs,
      database: this.#database,
      wait: ({ members, leaseLeftMs, youngList }) => {
        // Closed, this instance hears no acknowledgement any more: the deadlines below end the wait. A write made
        // after close() still must not resolve while another instance can serve what it changed.
        // A member that never acknowledges stops serving when its lease ends; leases may differ between
        // instances, so the bound is the longest one left, as the server saw it (plus clock granularity).
        pending.waiting = new Set(members.filter((member) => member !== this.instanceId && !pending.early.has(member)));
        const listedDeadline = () => {
          pending.waiting?.clear();
          pending.check();
        };
        timers.push(setTimeout(listedDeadline, Math.max(1, leaseLeftMs + 2)));
        if (youngList !== undefined) {
          // The list may miss instances that still hold a lease. Every instance that received the message
          // acknowledges it (we hear our own message back), so hearing from as many as received it covers them
          // all; where Redis gives no count (a Cluster), or someone never answers (a foreign subscriber, a
          // crash), only the list's age does: whoever it missed renewed last before it was born.
          pending.receivers = youngList.receivers ?? Number.POSITIVE_INFINITY;
          const youngDeadline = () => {
            pending.receivers = 0;
            pending.check();
          };
          timers.push(setTimeout(youngDeadline, Math.max(1, youngList.leftMs + 2)));
        }
        pending.check();
        return finished;
      },
    };
  }

  /** Drops a pending announcement whose bump failed. */
  abandon(id: string): void {
    this.#pending.get(id)?.done();
  }

  /**
   * Tells every instance that Redis refused the bump of `tags` (it answers,
   * but will not write: `noeviction` and full, say). Its entries for them
   * still look current, so each instance stops serving the tags, from memory
   * and from Redis, until it hears a bump of them (the writer's retry, or any
   * later write); resolves once every instance that received the message
   * acknowledged it, or a lease after (by when one that did not has no lease
   * left to serve with). A plain PUBLISH, which a full Redis still accepts;
   * not sequenced (the sequence is a write). Rejects when it could not be
   * published: then nobody was told.
   */
  async announceUnbumped(tags: readonly string[]): Promise<void> {
    const announcement = this.announcement();
    const message: Message = {
      t: "unb",
      from: this.instanceId,
      id: announcement.id,
      tags: [...tags],
      db: this.#database,
    };
    let receivers: number;
    try {
      receivers = Number(
        await withTimeout(
          this.#redis.publish(this.#channel, JSON.stringify(message)),
          this.#scripts.timeoutMs,
          "announcing a refused bump",
        ),
      );
    } catch (error) {
      this.abandon(announcement.id);
      throw error;
    }
    // A Cluster counts the receivers of one node only: wait out the lease instead.
    const counted = this.#redis.isCluster === true ? Number.POSITIVE_INFINITY : receivers;
    await announcement.wait({
      members: [],
      leaseLeftMs: this.#leaseMs,
      youngList: { receivers: counted, leftMs: this.#leaseMs },
    });
  }

  /**
   * Leaves the membership and says goodbye (so no write waits for this
   * instance), stops heartbeats and closes the subscriber connection. Both
   * commands are sent at once, so a `quit()` of the client right after still
   * lets them through. Writes through this instance still announce their
   * invalidations afterwards, but hear no acknowledgement: they wait out the
   * other instances' leases (up to `busLease`), as do writes still waiting.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#heartbeat);
    this.#leaseUntil = 0;
    this.#subscriber?.disconnect();
    // Writes waiting for acknowledgements keep waiting (until their deadlines now): resolving them here would let
    // another instance serve what they changed after they resolved.
    if (clientEnding(this.#redis)) {
      // Writing now would fail with EPIPE, which ioredis prints as an unhandled error of the owner's client.
      this.#report(
        new CacheError(
          "E_REDIS",
          "close(): the Redis client had already ended (quit, disconnected, or given up reconnecting), so this instance could not leave the invalidation bus; other instances' writes may wait for it until its lease ends (busLease). Call prisma.$cache.close() before quitting the client.",
        ),
      );
      return;
    }
    const bye = JSON.stringify({ t: "bye", from: this.instanceId } satisfies Message);
    // Bounded: a frozen Redis never answers, and shutting down must not wait on the cache.
    await withTimeout(
      Promise.all([this.#redis.zrem(this.#membersKey, this.instanceId), this.#redis.publish(this.#channel, bye)]),
      this.#scripts.timeoutMs,
      "leaving the invalidation bus",
    ).catch((error: unknown) =>
      this.#report(
        new CacheError(
          "E_REDIS",
          `close(): could not leave the invalidation bus (${(error as Error)?.message ?? String(error)}); other instances' writes may wait for this one until its lease ends (busLease).`,
          error,
        ),
      ),
    );
  }

  #sendHeartbeat(): void {
    // Not on a client its owner is quitting: the app is shutting down, and a write could fail with EPIPE (see
    // clientEnding).
    if (this.#closed || !this.#subscribed || this.#subscriber?.status !== "ready" || clientEnding(this.#redis)) return;
    const beat = ++this.#heartbeatSeq;
    this.#heartbeatsSent.set(beat, performance.now());
    this.#scripts
      .run(
        HEARTBEAT_SCRIPT,
        [this.#membersKey],
        [this.instanceId, String(this.#leaseMs), this.#channel, String(beat), String(this.#database)],
        "a bus heartbeat",
      )
      .catch((error: unknown) => {
        this.#heartbeatsSent.delete(beat);
        this.#lastFailure = (error as Error)?.message ?? String(error);
        this.#report(asCacheError(error, "E_REDIS", "a bus heartbeat failed."));
      });
  }

  #receive(channel: string, text: string): void {
    // Messages the subscriber had already read when close() disconnected it: this instance serves nothing from
    // memory any more, and answering on a client its owner may be quitting would fail (see clientEnding).
    if (this.#closed) return;
    let message: Message;
    try {
      message = JSON.parse(text) as Message;
    } catch {
      return; // Not ours: another program publishing on our channel name.
    }
    // This runs in ioredis' socket handler: a malformed message must never throw from here.
    if (!isMessage(message)) return;
    if (message.t === "hb" || message.t === "inv" || message.t === "unb") {
      if (message.db !== undefined && message.db !== this.#database) {
        // Another database's bus: its versions and sequence are not ours. An invalidation is still acknowledged
        // (nothing here can serve what it changed), so its writer, counting receivers, does not wait for us.
        if (message.t !== "hb")
          this.#send(this.#ackChannel(message.from), { t: "ack", from: this.instanceId, id: message.id });
        return;
      }
      if (message.t !== "unb") this.#sequenced(message.seq);
    }
    switch (message.t) {
      case "hb":
        if (message.from === this.instanceId) this.#heartbeatEchoed(message.beat);
        return;
      case "inv":
      case "unb":
        if (message.from === this.instanceId) {
          // Our own subscriber is one of the receivers the bump counted.
          const pending = this.#pending.get(message.id);
          pending?.heard.add(this.instanceId);
          pending?.check();
          return;
        }
        if (message.t === "unb") this.#mirror.markUnbumped(message.tags);
        else {
          // A bump Redis took after a refused one: entries under the versions before it are dead, trust them again.
          this.#mirror.markBumped(message.tags);
          message.tags.forEach((tag, i) => this.#mirror.invalidated(tag, Number(message.versions[i])));
        }
        this.heard?.(message.tags);
        this.#send(this.#ackChannel(message.from), { t: "ack", from: this.instanceId, id: message.id });
        return;
      case "ack":
        if (channel === this.#ackChannel(this.instanceId)) this.#acknowledged(message.id, message.from, true);
        return;
      case "bye":
        for (const id of this.#pending.keys()) this.#acknowledged(id, message.from, false);
        return;
    }
  }

  /**
   * Heartbeats and invalidations are numbered by Redis, one sequence per bus.
   * A gap means this subscriber missed a message without a reconnect (ioredis'
   * Cluster subscriber moves between nodes silently): the mirror and the
   * in-process tier are cleared before anything else is served from them.
   */
  #sequenced(seq: number): void {
    if (this.#lastSeq !== undefined && seq !== this.#lastSeq + 1) this.#mirror.reset();
    this.#lastSeq = seq;
  }

  /** Our heartbeat came back: the lease runs from when it was sent. */
  #heartbeatEchoed(beat: number): void {
    const sentAt = this.#heartbeatsSent.get(beat);
    if (sentAt === undefined) return;
    for (const old of this.#heartbeatsSent.keys()) {
      if (old > beat) break;
      this.#heartbeatsSent.delete(old);
    }
    this.#leaseUntil = Math.max(this.#leaseUntil, sentAt + this.#leaseMs);
    this.#markReady();
  }

  /** `member` answered write `id`: with an acknowledgement (`received`), or with a goodbye. */
  #acknowledged(id: string, member: string, received: boolean): void {
    const pending = this.#pending.get(id);
    if (pending === undefined) return;
    if (received) pending.heard.add(member);
    if (pending.waiting === undefined) {
      pending.early.add(member);
      return;
    }
    pending.waiting.delete(member);
    pending.check();
  }

  #ackChannel(instanceId: string): string {
    return `${this.#channel}:ack:${instanceId}`;
  }

  #send(channel: string, message: Message): void {
    if (clientEnding(this.#redis)) return;
    this.#redis.publish(channel, JSON.stringify(message)).catch((error: unknown) => {
      this.#report(new CacheError("E_REDIS", `could not publish on the invalidation bus (${message.t}).`, error));
    });
  }
}

/**
 * True once the client has ended or its owner is quitting it. After `quit()`,
 * ioredis keeps the status "ready" until the server has closed the socket,
 * but marks the client `manuallyClosing` as it writes QUIT; a command
 * written in between fails with EPIPE, which ioredis prints as an unhandled
 * error event of the owner's client (we add no error listener to a client
 * that is not ours). `manuallyClosing` is private to ioredis (Redis and
 * Cluster alike): failure-reporting.test.ts fails if a release renames it.
 */
function clientEnding(redis: BusRedis): boolean {
  return redis.status === "end" || (redis as { manuallyClosing?: unknown }).manuallyClosing === true;
}

/** True for a message of this bus's shapes; anything else on the channel is ignored. */
function isMessage(value: unknown): value is Message {
  if (typeof value !== "object" || value === null) return false;
  const message = value as Record<string, unknown>;
  if (typeof message.from !== "string") return false;
  switch (message.t) {
    case "hb":
      return (
        typeof message.beat === "number" &&
        typeof message.seq === "number" &&
        (message.db === undefined || typeof message.db === "number")
      );
    case "inv":
      return (
        typeof message.id === "string" &&
        typeof message.seq === "number" &&
        (message.db === undefined || typeof message.db === "number") &&
        Array.isArray(message.tags) &&
        Array.isArray(message.versions) &&
        message.tags.length === message.versions.length
      );
    case "unb":
      return (
        typeof message.id === "string" &&
        (message.db === undefined || typeof message.db === "number") &&
        Array.isArray(message.tags) &&
        message.tags.every((tag) => typeof tag === "string")
      );
    case "ack":
      return typeof message.id === "string";
    case "bye":
      return true;
    default:
      return false;
  }
}

/** The database an ioredis client selected (its `db` option); 0 for a Cluster, which has only that one. */
function databaseOf(redis: unknown): number {
  const db = (redis as { options?: { db?: unknown } }).options?.db;
  return typeof db === "number" && Number.isInteger(db) ? db : 0;
}
