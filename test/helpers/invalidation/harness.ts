/**
 * What the invalidation tests run against: a target database (with or
 * without the shared Redis tier), cached instances built over it, seeded
 * worlds each test may change, and the few observations every test makes
 * ("did this read reach the database?", "is it still cached?").
 *
 * An instance stacks, below the cache extension's read side, a query
 * extension that counts every operation the cache did not answer (raw
 * queries included) and can pause a chosen read after the database answered
 * it and before the cache stores it ({@link ReadGate}). Prisma runs query
 * extensions in the order they were added, so for writes this counter runs
 * before the cache's write side: it counts a write the write side then
 * refuses, and tests check refused writes in the database itself.
 */
import { randomUUID } from "node:crypto";
import type { Cluster, Redis } from "ioredis";
import { expect } from "vitest";
import { cacheExtension, type CacheExtensionOptions } from "../../../src/index.js";
import { ErrorLog, type BareClient, type CachedPrisma, type DatabaseCounter } from "../clients.js";
import type { CoreTarget } from "../core-suite/harness.js";
import { removeFixture, seedFixture, type Fixture } from "../fixture.js";
import { connectRedis, deleteKeysUnder } from "../services.js";

/**
 * Pauses one chosen read below the cache, after the database answered it and
 * before the cache can store the answer: the window of the
 * fill-after-invalidate race (consistency contract, item 2).
 */
export class ReadGate {
  #armed:
    | { match: (model: string | undefined, operation: string) => boolean; arrived: () => void; released: Promise<void> }
    | undefined;

  /**
   * The next database read for which `match` holds pauses there.
   * `arrived` resolves once it is paused; `release()` lets it continue.
   */
  arm(match: (model: string | undefined, operation: string) => boolean): { arrived: Promise<void>; release(): void } {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let arrived!: () => void;
    const arrival = new Promise<void>((resolve) => (arrived = resolve));
    this.#armed = { match, arrived, released };
    return { arrived: arrival, release };
  }

  /** Called below the cache once the database has answered. */
  async pass(model: string | undefined, operation: string): Promise<void> {
    const armed = this.#armed;
    if (armed === undefined || !armed.match(model, operation)) return;
    this.#armed = undefined;
    armed.arrived();
    await armed.released;
  }
}

/** One application instance: a cached client and what observes it. */
export interface Instance {
  prisma: CachedPrisma;
  /** Operations the cache did not answer (reads that reached the database, every write, raw queries). */
  database: DatabaseCounter;
  log: ErrorLog;
  prefix: string;
}

/**
 * A cached client over `bare`, with the database counter and an optional gate below the cache;
 * `onDatabase` hears each database call start and finish (the read-mode tests trace them).
 */
export async function instrumentedClient(
  bare: BareClient,
  options: CacheExtensionOptions,
  gate?: ReadGate,
  onDatabase?: (phase: "db:start" | "db:done") => void,
): Promise<Omit<Instance, "log" | "prefix">> {
  const database: DatabaseCounter = { queries: 0 };
  const prisma: CachedPrisma = bare
    .$extends({
      name: "test-database-side",
      query: {
        async $allOperations({ model, operation, args, query }) {
          database.queries++;
          onDatabase?.("db:start");
          const result = await query(args);
          onDatabase?.("db:done");
          await gate?.pass(model, operation);
          return result;
        },
      },
    })
    .$extends(cacheExtension(options));
  await prisma.$cache.ready();
  return { prisma, database };
}

/** Options of {@link InvalidationEnv.instance}. */
export interface InstanceOptions extends Omit<CacheExtensionOptions, "redis"> {
  /** The bare client to build on; the environment's by default (a second PrismaClient: `env.connect()`). */
  over?: BareClient;
  /**
   * A Redis connection (or a Cluster client: test/helpers/redis-cluster.ts); by default a new connection to the
   * target's Redis, or none when it has none. `false`: in-process tier only.
   */
  redis?: Redis | Cluster | false;
  gate?: ReadGate;
}

/** A database, optionally a Redis, and everything the tests create on them, cleaned up by `stop()`. */
export class InvalidationEnv {
  bare!: BareClient;
  readonly runPrefix = `pqc-inv:${randomUUID().slice(0, 8)}:`;
  readonly #instances: Instance[] = [];
  readonly #bares: BareClient[] = [];
  readonly #connections: Redis[] = [];
  readonly #worlds: Fixture[] = [];
  #admin: Redis | undefined;
  #prefixes = 0;

  constructor(readonly target: CoreTarget) {}

  get hasRedis(): boolean {
    return this.target.redisUrl !== undefined;
  }

  async start(): Promise<void> {
    await this.target.prepare();
    this.bare = this.connect();
    if (this.target.redisUrl !== undefined) this.#admin = await this.connectRedis();
  }

  async stop(): Promise<void> {
    await Promise.all(this.#instances.map((instance) => instance.prisma.$cache.settled()));
    for (const instance of this.#instances) instance.prisma.$cache.close();
    for (const world of this.#worlds) await removeFixture(this.bare, world);
    if (this.#admin !== undefined) await deleteKeysUnder(this.#admin, this.runPrefix);
    for (const redis of this.#connections) redis.disconnect();
    for (const bare of this.#bares) await bare.$disconnect();
    await this.target.dispose();
  }

  /** Another PrismaClient over the same database: another application instance's client. */
  connect(): BareClient {
    const bare = this.target.connect();
    this.#bares.push(bare);
    return bare;
  }

  /** A new ioredis connection (to `url`, the target's Redis by default), closed by `stop()`. */
  async connectRedis(url = this.target.redisUrl): Promise<Redis> {
    const redis = await connectRedis(url);
    // A test that kills connections sees the failures through onError; ioredis must not throw them.
    redis.on("error", () => undefined);
    this.#connections.push(redis);
    return redis;
  }

  /** Adopts a connection made elsewhere, so that `stop()` closes it. */
  adopt(redis: Redis): Redis {
    this.#connections.push(redis);
    return redis;
  }

  /** A new key prefix under this run's prefix: instances given the same one share the Redis tier and the bus. */
  newPrefix(): string {
    return `${this.runPrefix}${++this.#prefixes}:`;
  }

  /**
   * A new cached instance: by default its own Redis connection and prefix,
   * entries for 60 s, and empty results (`null`, `[]`) cached too, so that a
   * write must also invalidate "nothing found".
   */
  async instance(options: InstanceOptions = {}): Promise<Instance> {
    const { over = this.bare, redis: redisOption, gate, ...extension } = options;
    const redis =
      redisOption === false ? undefined : (redisOption ?? (this.hasRedis ? await this.connectRedis() : undefined));
    const log = new ErrorLog();
    const prefix = extension.prefix ?? this.newPrefix();
    const built = await instrumentedClient(
      over,
      { defaults: { ttl: 60, negativeTtl: 60 }, onError: log.onError, ...extension, redis, prefix },
      gate,
    );
    const instance = { ...built, log, prefix };
    this.#instances.push(instance);
    return instance;
  }

  /**
   * The instances a write must reach: `main`, which writes and caches in
   * both tiers, and with Redis a `peer` on the same prefix without an
   * in-process tier, which reads Redis entries only.
   */
  async scene(options: InstanceOptions = {}): Promise<Scene> {
    const main = await this.instance(options);
    const peers =
      this.hasRedis && options.redis !== false
        ? [await this.instance({ ...options, prefix: main.prefix, l1: false })]
        : [];
    return { main, peers, all: [main, ...peers] };
  }

  /** Seeds a world (a tenant with users, posts, tags, comments, groups) that the calling test may change. */
  async world(label: string): Promise<Fixture> {
    const world = await seedFixture(this.bare, label, this.target.aliceBalance);
    this.#worlds.push(world);
    return world;
  }
}

/** See {@link InvalidationEnv.scene}. */
export interface Scene {
  main: Instance;
  peers: Instance[];
  all: Instance[];
}

/** A read through a cached client. */
export type Read<T> = (prisma: CachedPrisma) => PromiseLike<T>;

/** Runs `read` on `instance` and tells whether it reached the database. */
export async function observe<T>(instance: Instance, read: Read<T>): Promise<{ value: T; fromDatabase: boolean }> {
  const before = instance.database.queries;
  const value = await read(instance.prisma);
  return { value, fromDatabase: instance.database.queries > before };
}

/**
 * Caches `read` in every tier of the scene and checks that each tier now
 * answers it without the database. Returns the cached value.
 */
export async function warm<T>(scene: Scene, read: Read<T>): Promise<T> {
  const { value } = await observe(scene.main, read);
  expect(await observe(scene.main, read), "the repeat is answered by the in-process tier").toEqual({
    value,
    fromDatabase: false,
  });
  if (scene.peers.length > 0) {
    await scene.main.prisma.$cache.settled();
    for (const peer of scene.peers)
      expect(await observe(peer, read), "a peer is answered by Redis").toEqual({ value, fromDatabase: false });
  }
  return value;
}

/**
 * After a write: the writing instance's next read returns `expected` from the
 * database (its cached entry is dead), and so does every peer's (from the
 * database, or from the entry the first re-read stored: either way new).
 */
export async function expectFresh<T>(scene: Scene, read: Read<T>, expected: T): Promise<void> {
  expect(await observe(scene.main, read), "the writer's next read comes from the database").toEqual({
    value: expected,
    fromDatabase: true,
  });
  for (const peer of scene.peers)
    expect((await observe(peer, read)).value, "a peer's next read is new").toEqual(expected);
}

/** Every instance of the scene still answers `read` from the cache, with `expected`. */
export async function expectStillCached<T>(scene: Scene, read: Read<T>, expected: T): Promise<void> {
  for (const instance of scene.all)
    expect(await observe(instance, read), "still a cache hit").toEqual({ value: expected, fromDatabase: false });
}

/** A unique string for names, tags and e-mails. */
export function unique(label: string): string {
  return `${label}-${randomUUID().slice(0, 8)}`;
}

/**
 * An Int id far above the sequences, for rows a test creates with an explicit id (no later insert collides with it).
 */
export function unusedId(): number {
  return 2_000_000_000 - Math.floor(Math.random() * 100_000_000);
}
