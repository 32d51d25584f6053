/**
 * The invalidation bus: Redis pub/sub between every instance sharing a
 * prefix, with acknowledgements and leases so that a write resolves only
 * when no instance can still serve what it invalidated from its in-process
 * tier (consistency contract, item 1).
 *
 * - Every instance publishes a heartbeat every `lease / 3`. Hearing its own
 *   heartbeat back proves its subscription delivers, and grants it a lease:
 *   it may serve in-process entries until `lease` after that echo. The first
 *   lease starts when the subscription is confirmed; in-process entries are
 *   only filled while a lease holds, so none predates the subscription. Messages
 *   on one channel arrive in order, so an instance that renews its lease has
 *   already applied every invalidation published before the renewing heartbeat.
 * - A write publishes the new tag versions, waits for its own message to come
 *   back (by then it has heard every member that announced itself earlier),
 *   and then for an acknowledgement from every member heard within `lease`;
 *   at most `lease` in all. A member that does not acknowledge in time has no
 *   valid lease left, so it is no longer serving in-process entries.
 * - On a reconnect, the mirror and the in-process tier are cleared: messages
 *   sent while the subscriber was away are lost.
 */
import { randomUUID } from "node:crypto";
import { CacheError } from "../errors.js";
import type { VersionMirror } from "./version-mirror.js";

/** The ioredis surface the bus needs. */
export interface BusRedis {
  publish(channel: string, message: string): Promise<unknown>;
  duplicate(): BusSubscriber;
}

/** A dedicated subscriber connection (ioredis `duplicate()`). */
export interface BusSubscriber {
  subscribe(...channels: string[]): Promise<unknown>;
  on(event: "message", listener: (channel: string, message: string) => void): unknown;
  on(event: "ready" | "close" | "end" | "connect", listener: () => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
  disconnect(): void;
  readonly stream?: { unref?: () => void };
}

type Message = { t: "hb"; from: string } | { t: "inv"; from: string; id: string; tags: string[]; versions: number[] } | { t: "ack"; from: string; id: string };

interface PendingWrite {
  readonly publishedAt: number;
  waiting: Set<string> | undefined;
  readonly done: () => void;
}

/** One instance's end of the bus. */
export class InvalidationBus {
  readonly instanceId = randomUUID();
  readonly #redis: BusRedis;
  readonly #channel: string;
  readonly #leaseMs: number;
  readonly #mirror: VersionMirror;
  readonly #report: (error: CacheError) => void;
  readonly #members = new Map<string, number>();
  readonly #pending = new Map<string, PendingWrite>();
  #subscriber: BusSubscriber | undefined;
  #leaseUntil = 0;
  #heartbeat: NodeJS.Timeout | undefined;
  #closed = false;
  #markSubscribed!: () => void;
  /** Resolves once the subscription is confirmed: from then on, every invalidation reaches this instance. */
  readonly subscribed = new Promise<void>((resolve) => (this.#markSubscribed = resolve));

  constructor(redis: BusRedis, prefix: string, leaseMs: number, mirror: VersionMirror, report: (error: CacheError) => void) {
    this.#redis = redis;
    this.#channel = `${prefix}bus`;
    this.#leaseMs = leaseMs;
    this.#mirror = mirror;
    this.#report = report;
  }

  /** Opens the subscriber connection and starts heartbeats. */
  start(): void {
    const subscriber = this.#redis.duplicate();
    this.#subscriber = subscriber;
    // Our connection must not keep the user's process alive.
    subscriber.on("connect", () => subscriber.stream?.unref?.());
    subscriber.on("ready", () => this.#mirror.reset());
    subscriber.on("close", () => (this.#leaseUntil = 0));
    subscriber.on("error", (error) => this.#report(new CacheError("E_REDIS", `the invalidation bus connection failed: ${error.message}`, error)));
    subscriber.on("message", (channel, text) => this.#receive(channel, text));
    subscriber.subscribe(this.#channel, this.#ackChannel(this.instanceId)).then(
      () => {
        // Every message published from now on will be delivered: the first lease starts here.
        this.#leaseUntil = performance.now() + this.#leaseMs;
        this.#markSubscribed();
      },
      (error: unknown) => {
        this.#report(new CacheError("E_REDIS", "could not subscribe to the invalidation bus; in-process entries will not be served until it works.", error));
      },
    );
    this.#heartbeat = setInterval(() => this.#send(this.#channel, { t: "hb", from: this.instanceId }), Math.max(10, Math.floor(this.#leaseMs / 3)));
    this.#heartbeat.unref();
    this.#send(this.#channel, { t: "hb", from: this.instanceId });
  }

  /** True while this instance may serve in-process entries. */
  healthy(): boolean {
    return performance.now() < this.#leaseUntil;
  }

  /**
   * Tells every instance the new versions of `tags`, and resolves once every
   * live instance has applied them or can no longer serve in-process entries.
   */
  publish(tags: readonly string[], versions: readonly number[]): Promise<void> {
    if (this.#closed) return Promise.resolve();
    const id = randomUUID();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => finish(), this.#leaseMs);
      const finish = () => {
        clearTimeout(timer);
        this.#pending.delete(id);
        resolve();
      };
      this.#pending.set(id, { publishedAt: performance.now(), waiting: undefined, done: finish });
      this.#send(this.#channel, { t: "inv", from: this.instanceId, id, tags: [...tags], versions: [...versions] }, finish);
    });
  }

  /** Stops heartbeats and closes the subscriber connection. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#heartbeat);
    this.#leaseUntil = 0;
    this.#subscriber?.disconnect();
    for (const pending of [...this.#pending.values()]) pending.done();
  }

  #receive(channel: string, text: string): void {
    let message: Message;
    try {
      message = JSON.parse(text) as Message;
    } catch {
      return; // Not ours: another program publishing on our channel name.
    }
    const now = performance.now();
    if (message.from !== this.instanceId) this.#members.set(message.from, now);
    if (channel !== this.#channel) return this.#acknowledged(message);
    if (message.t === "hb") {
      if (message.from === this.instanceId) this.#leaseUntil = now + this.#leaseMs;
    } else if (message.t === "inv") {
      if (message.from === this.instanceId) this.#echoed(message.id, now);
      else {
        message.tags.forEach((tag, i) => this.#mirror.observe(tag, message.versions[i] as number));
        this.#send(this.#ackChannel(message.from), { t: "ack", from: this.instanceId, id: message.id });
      }
    }
  }

  /** Our own invalidation came back: everyone who announced itself before it is now known. */
  #echoed(id: string, now: number): void {
    const pending = this.#pending.get(id);
    if (pending === undefined) return;
    pending.waiting = new Set();
    for (const [member, heardAt] of this.#members) {
      if (now - heardAt < this.#leaseMs) pending.waiting.add(member);
      else this.#members.delete(member);
    }
    if (pending.waiting.size === 0) pending.done();
  }

  #acknowledged(message: Message): void {
    if (message.t !== "ack") return;
    const pending = this.#pending.get(message.id);
    if (pending?.waiting === undefined) return;
    pending.waiting.delete(message.from);
    if (pending.waiting.size === 0) pending.done();
  }

  #ackChannel(instanceId: string): string {
    return `${this.#channel}:ack:${instanceId}`;
  }

  #send(channel: string, message: Message, onFailure?: () => void): void {
    this.#redis.publish(channel, JSON.stringify(message)).catch((error: unknown) => {
      this.#report(new CacheError("E_REDIS", `could not publish on the invalidation bus (${message.t}).`, error));
      onFailure?.();
    });
  }
}
