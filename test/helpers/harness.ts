/**
 * What the integration tests run against: a target (a database, with or
 * without the shared Redis tier), cached clients built over it, seeded rows,
 * and the few observations every test makes ("did this read reach the
 * database?", "is it still cached?"). One harness serves the core suite (one
 * read-only fixture, clients on a fake clock sharing one Redis connection)
 * and the invalidation tests (application instances with their own
 * connections, worlds each test may change).
 *
 * Every client gets its own in-process tier and its own Redis prefix under
 * one prefix per run, so tests never see each other's entries unless they
 * share them on purpose; `stop()` removes the rows and keys it created.
 */
import { randomUUID } from "node:crypto";
import type { Cluster, Redis } from "ioredis";
import { expect } from "vitest";
import type { CacheExtensionOptions } from "../../src/index.js";
import {
  cachedClient,
  ErrorLog,
  FakeClock,
  type BareClient,
  type CachedClientSetup,
  type CachedPrisma,
  type DatabaseCounter,
} from "./clients.js";
import { removeFixture, seedFixture, type Fixture } from "./fixture.js";
import type { ReadGate } from "./read-gate.js";
import { connectRedis, deleteKeysUnder } from "./services.js";

/** A database (and optionally a Redis) the tests run against (see targets.ts). */
export interface Target {
  /** Shown in the suite's name, such as "postgres + redis". */
  name: string;
  /** Prepares the database; called once before the suite. */
  prepare(): Promise<void>;
  /** A new bare client over the target's database. */
  connect(): BareClient;
  /** Removes what `prepare` created; called once after the suite. */
  dispose(): Promise<void>;
  /** URL of the shared tier, or undefined to run with the in-process tier only. */
  redisUrl: string | undefined;
  /** Decimal text the database keeps exactly (see fixture.ts). */
  aliceBalance: string;
}

/** One application instance: a cached client and what observes it. */
export interface Instance {
  prisma: CachedPrisma;
  /** Operations the cache did not answer (reads that reached the database, every write, raw queries). */
  database: DatabaseCounter;
  log: ErrorLog;
  prefix: string;
}

/** A client of the core suite: an {@link Instance} on its own fake clock. */
export interface TestClient extends Instance {
  /** This client's time; advance it to expire entries. */
  clock: FakeClock;
}

/** Options of {@link Harness.client}: the extension's options, plus the test-side setup. */
export interface TestClientOptions extends Omit<CacheExtensionOptions, "clock"> {
  /** Share another client's clock; a new one by default. */
  clock?: FakeClock;
  /** The bare client to extend; the harness's first client by default. */
  over?: BareClient;
  setup?: CachedClientSetup;
}

/** Options of {@link Harness.instance}. */
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
export class Harness {
  /** The bare client: seeds, writes behind the cache's back, and is the oracle for uncached results. */
  bare!: BareClient;
  /** The read-only rows seeded by `start({ seed })`; tests that change rows seed a {@link world} of their own. */
  fixture!: Fixture;
  /** A connection to the target's Redis, when it has one: the clients of {@link client} share it. */
  redis: Redis | undefined;
  readonly runPrefix = `pqc-test:${randomUUID().slice(0, 8)}:`;
  readonly #instances: Instance[] = [];
  readonly #bares: BareClient[] = [];
  readonly #connections: Redis[] = [];
  readonly #worlds: Fixture[] = [];
  #prefixes = 0;

  constructor(readonly target: Target) {}

  get hasRedis(): boolean {
    return this.target.redisUrl !== undefined;
  }

  /** Prepares the target and connects; with `seed`, also seeds the read-only {@link fixture} under that label. */
  async start(options: { seed?: string } = {}): Promise<void> {
    await this.target.prepare();
    this.bare = this.connect();
    if (this.target.redisUrl !== undefined) this.redis = await this.connectRedis();
    if (options.seed !== undefined) this.fixture = await this.world(options.seed);
  }

  async stop(): Promise<void> {
    // Background writes still in flight would land after the clean-up.
    await Promise.all(this.#instances.map((instance) => instance.prisma.$cache.settled()));
    for (const instance of this.#instances) await instance.prisma.$cache.close();
    for (const world of this.#worlds) await removeFixture(this.bare, world);
    if (this.redis !== undefined) await deleteKeysUnder(this.redis, this.runPrefix);
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
    const built = await cachedClient(
      over,
      { defaults: { ttl: 60, negativeTtl: 60 }, onError: log.onError, ...extension, redis, prefix },
      { gate },
    );
    const instance = { ...built, log, prefix };
    this.#instances.push(instance);
    return instance;
  }

  /**
   * A new client for the core suite: on the harness's shared Redis
   * connection, with its own in-process tier, prefix, fake clock and error
   * log unless `options` passes them, and no jitter (the suite asserts exact
   * ttl boundaries on its clock) unless a test asks for it.
   */
  async client(options: TestClientOptions = {}): Promise<TestClient> {
    const { over = this.bare, setup, ...extension } = options;
    const log = new ErrorLog();
    const clock = extension.clock ?? new FakeClock();
    const prefix = extension.prefix ?? this.newPrefix();
    const defaults = { jitter: 0, ...extension.defaults };
    const { prisma, database } = await cachedClient(
      over,
      { redis: this.redis, onError: log.onError, ...extension, defaults, clock, prefix },
      setup,
    );
    const client = { prisma, database, log, clock, prefix };
    this.#instances.push(client);
    return client;
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

/** See {@link Harness.scene}. */
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

/** Where a read was answered from, for the assertions of {@link readThroughTiers}. */
export type Tier = "database" | "in-process tier" | "redis";

/**
 * Runs `read` through a new client of `h` until it has been answered by every
 * tier the target has: the database (a miss), the in-process tier, and Redis
 * (after `settled()` and `clearLocal()`). Asserts each answer came from the
 * tier it is labelled with, by the counters and by the database query count.
 */
export async function readThroughTiers<T>(h: Harness, read: Read<T>): Promise<Array<{ tier: Tier; value: T }>> {
  const { prisma, database, log } = await h.client();
  const answers: Array<{ tier: Tier; value: T }> = [];
  answers.push({ tier: "database", value: await read(prisma) });
  expect(prisma.$cache.stats()).toMatchObject({ misses: 1, l1Hits: 0, l2Hits: 0 });
  answers.push({ tier: "in-process tier", value: await read(prisma) });
  expect(prisma.$cache.stats()).toMatchObject({ misses: 1, l1Hits: 1, l2Hits: 0 });
  if (h.hasRedis) {
    await prisma.$cache.settled();
    prisma.$cache.clearLocal();
    answers.push({ tier: "redis", value: await read(prisma) });
    expect(log.errors).toEqual([]);
    expect(prisma.$cache.stats()).toMatchObject({ misses: 1, l1Hits: 1, l2Hits: 1 });
  }
  expect(database.queries).toBe(1);
  expect(log.errors).toEqual([]);
  return answers;
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
