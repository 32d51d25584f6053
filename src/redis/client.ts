/**
 * The ioredis client types, in one place: the client a caller passes in
 * (`RedisClientLike`, every command the library sends) and the views of it
 * each part of the library uses. options/resolve.ts checks the same surface
 * when `$extends` runs, from {@link REDIS_METHODS}.
 */

/**
 * The ioredis client surface (`Redis` or `Cluster`) the library uses: every
 * command it sends on the client you pass in. Typed structurally so that
 * `ioredis` stays an optional peer dependency; a client missing one of these
 * methods is refused when `$extends` runs. A client you pass in is never
 * closed by the library.
 */
export interface RedisClientLike {
  /** ioredis connection state; the tier is skipped (not waited on) unless it is `"ready"`. */
  readonly status: string;
  /** Set on an ioredis `Cluster`: scripts then touch one slot each, and fills are not pipelined. */
  readonly isCluster?: boolean;
  /** Reads an entry. */
  get(key: string): Promise<string | null>;
  /** Stores an entry with its TTL in milliseconds. */
  set(key: string, value: string, mode: "PX", ttlMs: number): Promise<unknown>;
  /** Reads an entry together with its tag versions, and a lock holder's entry. */
  mget(...keys: string[]): Promise<(string | null)[]>;
  /** Runs a Lua script Redis has cached (tag versions, the bus, the lock). */
  evalsha(sha: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  /** Runs a Lua script a node has not cached yet (first use, a restart, a failover). */
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  /** Announces an invalidation or an acknowledgement on the bus. */
  publish(channel: string, message: string): Promise<unknown>;
  /** Leaves the bus membership on close. */
  zrem(key: string, member: string): Promise<unknown>;
  /** A dedicated connection for the bus subscription (ioredis `duplicate()`); closed by the library. */
  duplicate(): BusSubscriber;
  /** Reads `maxmemory-policy` once at start-up (invalidation/eviction-policy.ts). */
  config(subcommand: "GET", parameter: string): Promise<unknown>;
  /** Waits for the client to connect before the start-up check. */
  once(event: "ready" | "end", listener: () => void): unknown;
  /** Stops waiting for the client to connect, or following its connection (redis/server-identity.ts). */
  off(event: "ready" | "end" | "close", listener: () => void): unknown;
  /**
   * Follows the connection (ioredis' EventEmitter): every (re)connect checks the server's identity before the tier
   * is used (redis/server-identity.ts). Without it, the check runs only if the client is ready when `$extends` runs.
   */
  on?(event: "ready" | "close", listener: () => void): unknown;
  /** ioredis pipelines: fills are sent in batches when available. */
  pipeline?(): {
    set(key: string, value: string, mode: "PX", ttlMs: number): unknown;
    exec(): Promise<Array<[Error | null, unknown]> | null>;
  };
}

/** The names of the methods every client must have: those {@link RedisClientLike} does not mark optional. */
export type RequiredRedisMethod = {
  [K in keyof RedisClientLike]-?: undefined extends RedisClientLike[K]
    ? never
    : RedisClientLike[K] extends (...args: never[]) => unknown
      ? K
      : never;
}[keyof RedisClientLike];

/**
 * Every required method of {@link RedisClientLike}, as a value, so that
 * `$extends` can check a client before any command is sent. A `Record` over
 * the type's keys: a method added to the type and not here does not compile.
 */
export const REDIS_METHODS: Readonly<Record<RequiredRedisMethod, true>> = {
  get: true,
  set: true,
  mget: true,
  evalsha: true,
  eval: true,
  publish: true,
  zrem: true,
  duplicate: true,
  config: true,
  once: true,
  off: true,
};

/** The surface the Lua script runner needs (redis/scripts.ts). */
export type ScriptingRedis = Pick<RedisClientLike, "isCluster" | "mget" | "evalsha" | "eval">;

/** The surface the invalidation bus needs, besides scripts (invalidation/bus.ts). */
export type BusRedis = Pick<RedisClientLike, "status" | "isCluster" | "publish" | "zrem" | "duplicate">;

/** A dedicated subscriber connection (ioredis `duplicate()`). */
export interface BusSubscriber {
  readonly status: string;
  subscribe(...channels: string[]): Promise<unknown>;
  on(event: "message", listener: (channel: string, message: string) => void): unknown;
  on(event: "ready" | "close" | "end" | "connect", listener: () => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
  disconnect(): void;
  readonly stream?: { unref?: () => void };
}

/** The surface the eviction-policy check needs (invalidation/eviction-policy.ts). */
export type ConfigRedis = Pick<RedisClientLike, "status" | "config" | "once" | "off">;
