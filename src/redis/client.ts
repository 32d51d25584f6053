/**
 * The ioredis client types, in one place: the client a caller passes in
 * (`RedisClientLike`) and the views of it each part of the library uses.
 */

/**
 * The subset of an ioredis client (`Redis` or `Cluster`) the library uses.
 * Typed structurally so that `ioredis` stays an optional peer dependency.
 * A client you pass in is never closed by the library.
 */
export interface RedisClientLike {
  /** ioredis connection state; the tier is skipped (not waited on) unless it is `"ready"`. */
  readonly status: string;
  get(key: string): Promise<string | null>;
  set(key: string, value: string, mode: "PX", ttlMs: number): Promise<unknown>;
  /** Set on an ioredis `Cluster`. */
  readonly isCluster?: boolean;
  /** ioredis pipelines: fills are sent in batches when available. */
  pipeline?(): {
    set(key: string, value: string, mode: "PX", ttlMs: number): unknown;
    exec(): Promise<Array<[Error | null, unknown]> | null>;
  };
}

/** The ioredis surface the scripts need (a `Redis` or `Cluster`). */
export interface ScriptingRedis {
  readonly isCluster?: boolean;
  mget(...keys: string[]): Promise<(string | null)[]>;
  evalsha(sha: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
}

/** The ioredis surface the invalidation bus needs, besides scripts (invalidation/bus.ts). */
export interface BusRedis {
  readonly status?: string;
  publish(channel: string, message: string): Promise<unknown>;
  zrem(key: string, member: string): Promise<unknown>;
  duplicate(): BusSubscriber;
}

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

/** The ioredis surface the eviction-policy check needs (invalidation/eviction-policy.ts). */
export interface ConfigRedis {
  readonly status: string;
  config(subcommand: "GET", parameter: string): Promise<unknown>;
  once(event: "ready" | "end", listener: () => void): unknown;
  off(event: "ready" | "end", listener: () => void): unknown;
}
