/**
 * Instances whose read path can be watched from outside, for the tests of
 * the read modes of src/read/cache-stack.ts (and shared-lookup.ts, early-loads.ts):
 *
 * - "redis-versions": the shared entry and its tag versions are read from
 *   Redis in one MGET (or the script that initialises missing versions);
 * - "mirror-checked": the bus is healthy and the mirror knows every tag, so
 *   only the entry is read (a plain GET) and checked against the mirror;
 * - "early": like "mirror-checked", but the database read is dispatched
 *   alongside the GET instead of after it (Redis has rarely answered lately).
 *
 * A trace records, in order, when the instance's Redis connection sent and
 * got the reply of a GET or MGET, and when a query started and finished
 * below the cache (a query extension registered before `cacheExtension`,
 * which Prisma runs below the cache's reads). Background fills (SET), bus
 * heartbeats and bumps (EVALSHA) are not traced.
 */
import type { Redis } from "ioredis";
import { afterAll, beforeAll, expect } from "vitest";
import type { CacheExtensionOptions } from "../../src/index.js";
import { cachedClient, ErrorLog, type BareClient, type CachedPrisma } from "./clients.js";
import { Harness, unusedId, type Instance } from "./harness.js";
import type { ReadGate } from "./read-gate.js";
import { postgresTarget } from "./targets.js";

export type TraceEvent = "db:start" | "db:done" | "get:sent" | "get:reply" | "mget:sent" | "mget:reply";

/**
 * How the cache answered one read, as seen from its Redis connection and the
 * database. "database-only": no Redis lookup at all (an early load that did
 * not ask Redis, or a read that bypassed the cache).
 */
export type ReadMode = "in-process" | "database-only" | "redis-versions" | "mirror-checked" | "early";

/**
 * True for the modes in which the database read did not wait for Redis (an early load, asking Redis alongside or not at
 * all).
 */
export function startedEarly(mode: ReadMode): boolean {
  return mode === "early" || mode === "database-only";
}

/** Faults a test can switch on in an instance's Redis connection at any time. */
export interface RedisFaults {
  /** Each GET is sent this many milliseconds late: Redis slower than the database. */
  getDelayMs: number;
  /**
   * Each GET or MGET reply (entry lookups) reaches the extension this many
   * milliseconds after Redis sent it: the command ran at once, its answer
   * is handled late (a busy event loop). Read when the command is sent.
   */
  replyDelayMs?: number;
}

/** The events of an instance's reads since the last `clear()`. */
export class Trace {
  events: TraceEvent[] = [];

  clear(): void {
    this.events = [];
  }

  record(event: TraceEvent): void {
    this.events.push(event);
  }

  /**
   * The mode of the one read traced since `clear()`. "early" when the
   * database read started before the GET of the entry had been answered: a
   * read that waits for Redis first can only start its database read once
   * the reply was handled.
   */
  mode(): ReadMode {
    const { events } = this;
    if (events.includes("mget:sent")) return "redis-versions";
    const reply = events.indexOf("get:reply");
    if (events.includes("get:sent")) {
      const start = events.indexOf("db:start");
      return start !== -1 && (reply === -1 || start < reply) ? "early" : "mirror-checked";
    }
    return events.includes("db:start") ? "database-only" : "in-process";
  }
}

/**
 * Makes `redis` record its GETs and MGETs (sent, answered) in `trace`, and
 * obey `faults`. Call before the extension uses it (its bus connection, a
 * `duplicate()`, is not affected).
 */
export function traceRedis(redis: Redis, trace: Trace, faults: RedisFaults): void {
  const get = redis.get.bind(redis) as (key: string) => Promise<string | null>;
  const mget = redis.mget.bind(redis) as (...keys: string[]) => Promise<(string | null)[]>;
  const late = (ms: number) => (ms > 0 ? new Promise<void>((resolve) => setTimeout(resolve, ms)) : Promise.resolve());
  const traced = <T>(kind: "get" | "mget", call: () => Promise<T>): Promise<T> => {
    trace.record(`${kind}:sent`);
    const replyDelay = faults.replyDelayMs ?? 0;
    return call().then(async (reply) => {
      await late(replyDelay);
      trace.record(`${kind}:reply`);
      return reply;
    });
  };
  (redis as unknown as { get: (key: string) => Promise<string | null> }).get = (key) =>
    traced("get", () => late(faults.getDelayMs).then(() => get(key)));
  (redis as unknown as { mget: (...keys: string[]) => Promise<(string | null)[]> }).mget = (...keys) =>
    traced("mget", () => mget(...keys));
}

/** One traced instance: what the invalidation harness's instances have, plus the trace and its Redis connection. */
export interface TracedInstance extends Instance {
  trace: Trace;
  redis: Redis;
  /** Off at first. */
  faults: RedisFaults;
}

/** Options of {@link TracedInstances.instance}. */
export interface TracedOptions extends Omit<CacheExtensionOptions, "redis" | "prefix"> {
  prefix: string;
  /** The Redis connection to trace; a new one to the environment's Redis by default. */
  redis?: Redis;
  /** Pauses a chosen read below the cache, after the database answered (see ReadGate). */
  gate?: ReadGate;
}

/**
 * Builds traced instances over an {@link Harness} (which owns the
 * bare clients, the Redis connections and the key clean-up) and closes them.
 * Each instance gets its own PrismaClient: another application instance.
 */
export class TracedInstances {
  readonly #created: TracedInstance[] = [];

  constructor(readonly env: Harness) {}

  async instance(options: TracedOptions): Promise<TracedInstance> {
    const { redis: given, gate, ...extension } = options;
    const redis = given ?? (await this.env.connectRedis());
    const trace = new Trace();
    const faults: RedisFaults = { getDelayMs: 0 };
    traceRedis(redis, trace, faults);
    const bare: BareClient = this.env.connect();
    const log = new ErrorLog();
    const { prisma, database } = await cachedClient(
      bare,
      // Early loads only happen without the cross-process lock (with it, a load must take the lock first).
      { defaults: { ttl: 60, negativeTtl: 60 }, lock: false, onError: log.onError, ...extension, redis },
      { gate, onDatabase: (phase) => trace.record(phase) },
    );
    const instance: TracedInstance = { prisma, database, log, prefix: extension.prefix, trace, redis, faults };
    this.#created.push(instance);
    return instance;
  }

  /** Waits for background fills and closes every instance (before the environment stops). */
  async close(): Promise<void> {
    await Promise.all(this.#created.map((instance) => instance.prisma.$cache.settled()));
    for (const instance of this.#created) await instance.prisma.$cache.close();
  }
}

/** Runs `read` on `instance` with a fresh trace; returns its value and the mode it was answered in. */
export async function traced<T>(
  instance: TracedInstance,
  read: (prisma: CachedPrisma) => PromiseLike<T>,
): Promise<{ value: T; mode: ReadMode }> {
  instance.trace.clear();
  const value = await read(instance.prisma);
  return { value, mode: instance.trace.mode() };
}

/**
 * Runs `run` and returns the promise rejections nobody handled meanwhile
 * (Node's "unhandledRejection": by default it crashes the process). The test
 * runner's own listeners are set aside meanwhile, so that what is caught is
 * reported by the test that expects it rather than as an error of the run.
 */
export async function unhandledRejectionsDuring(run: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const runners = process.listeners("unhandledRejection");
  const listener = (reason: unknown) => void seen.push(reason);
  process.removeAllListeners("unhandledRejection");
  process.on("unhandledRejection", listener);
  try {
    await run();
    // Node reports a rejection once the microtasks after it have run: let a late one show.
    await new Promise((resolve) => setTimeout(resolve, 20));
  } finally {
    process.off("unhandledRejection", listener);
    for (const runner of runners) process.on("unhandledRejection", runner);
  }
  return seen;
}

/**
 * Drives the instance's shared-tier hit rate (exponentially weighted,
 * starting at 1) below one in five: `count` cached reads of distinct absent
 * users, each missing Redis. 30 misses bring it to 0.9^30 = 0.04; one later
 * hit then lifts it to about 0.14, two to 0.23 (no longer low).
 */
export async function driveHitRateLow(instance: TracedInstance, count = 30): Promise<void> {
  const before = instance.prisma.$cache.stats();
  const base = unusedId();
  for (let i = 0; i < count; i++) {
    expect(
      await instance.prisma.user.findUnique({ where: { id: base - i }, select: { name: true }, cache: true }),
    ).toBeNull();
  }
  const after = instance.prisma.$cache.stats();
  expect(after.misses - before.misses, "every warm-down read missed Redis").toBe(count);
  expect(after.l2Hits, "no warm-down read hit Redis").toBe(before.l2Hits);
  await instance.prisma.$cache.settled();
}

/**
 * A Postgres + Redis invalidation environment and a lab of traced instances
 * on it, started before the calling describe block's tests and closed after.
 */
export function tracedLab(): { env: Harness; lab: TracedInstances } {
  const env = new Harness(postgresTarget({ redis: true }));
  const lab = new TracedInstances(env);
  beforeAll(() => env.start());
  afterAll(async () => {
    await lab.close();
    await env.stop();
  });
  return { env, lab };
}
