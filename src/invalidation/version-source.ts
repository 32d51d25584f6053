/**
 * Where one extension instance gets its tag versions, and whether it may
 * trust what it holds in-process: {@link LocalVersions} without Redis (one
 * process, the mirror is the authority), {@link RedisVersions} with it (the
 * versions live in Redis; a bus keeps the mirror current). The read path,
 * the request scope and write-through ask this object; none of them needs to
 * know which one it is.
 */
import type { ServerIdentity } from "../redis/server-identity.js";
import type { CircuitBreaker } from "../redis/breaker.js";
import type { InvalidationBus } from "./bus.js";
import type { VersionMirror } from "./version-mirror.js";
import type { LocalVersionStore, VersionStore } from "./version-store.js";

/** How tag versions are kept: in this process only, or in Redis with a mirror and a bus. */
export interface VersionSource {
  /** Reads and bumps the authoritative versions. */
  readonly store: VersionStore;
  /** This process's view of the versions, what in-process entries are checked against. */
  readonly mirror: VersionMirror;
  /** The invalidation bus, with Redis; writers wait for its acknowledgements. */
  readonly bus: InvalidationBus | undefined;
  /**
   * True while this instance hears every invalidation: always without Redis,
   * while its bus lease is current with it. Only then may in-process entries
   * (and request-scope entries) be served and the mirror's versions trusted.
   */
  hearsEveryInvalidation(): boolean;
  /** Resolves once in-process entries can be served (at once without Redis; after the bus subscribed with it). */
  ready(): Promise<void>;
  /**
   * The current versions of `tags` when this process is their authority (no
   * Redis): read synchronously, without a round trip. Undefined with Redis,
   * where they must be read from it (or from the mirror while it is trusted).
   */
  readLocal(tags: readonly string[]): number[] | undefined;
  /** Stops listening for invalidations (the bus, with Redis); retried bumps keep running. */
  close(): Promise<void>;
}

/** Versions of a single process without Redis: shared by the instances on one prefix (see local-group.ts). */
export class LocalVersions implements VersionSource {
  readonly bus = undefined;

  constructor(readonly store: LocalVersionStore) {}

  get mirror(): VersionMirror {
    return this.store.mirror;
  }

  hearsEveryInvalidation(): boolean {
    return true;
  }

  ready(): Promise<void> {
    return Promise.resolve();
  }

  readLocal(tags: readonly string[]): number[] {
    return this.store.readNow(tags);
  }

  async close(): Promise<void> {}
}

/**
 * Versions in Redis, mirrored in this process while the bus says it hears
 * every invalidation and the circuit breaker (when on) is closed: with Redis
 * failing, nothing held in-process is trusted.
 */
export class RedisVersions implements VersionSource {
  /** @param identity the server check of the connection (none on a Cluster): ready() waits for its first pass */
  constructor(
    readonly store: VersionStore,
    readonly mirror: VersionMirror,
    readonly bus: InvalidationBus,
    readonly breaker?: CircuitBreaker,
    readonly identity?: ServerIdentity,
  ) {}

  hearsEveryInvalidation(): boolean {
    return this.bus.hearsEveryInvalidation() && (this.breaker === undefined || this.breaker.closed);
  }

  ready(): Promise<void> {
    if (this.identity === undefined) return this.bus.ready;
    return Promise.all([this.bus.ready, this.identity.firstCheck()]).then(() => undefined);
  }

  readLocal(): undefined {
    return undefined;
  }

  close(): Promise<void> {
    this.identity?.stop();
    return this.bus.close();
  }
}
