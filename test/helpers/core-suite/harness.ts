/**
 * What the core suite runs against: a target (a database, with or without a
 * Redis tier) and a harness that seeds it once and hands each test fresh
 * cached clients. Every cached client gets its own in-process tier, its own
 * Redis prefix (under one prefix per suite run) and its own fake clock, so
 * tests never see each other's entries unless they share them on purpose.
 */
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { expect } from "vitest";
import type { CacheExtensionOptions } from "../../../src/index.js";
import {
  cachedClient,
  ErrorLog,
  FakeClock,
  type BareClient,
  type CachedClientSetup,
  type CachedPrisma,
} from "../clients.js";
import { removeFixture, seedFixture, type Fixture } from "../fixture.js";
import { connectRedis, deleteKeysUnder } from "../services.js";

/** A database (and optionally a Redis) the core suite runs against. */
export interface CoreTarget {
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

/** One cached client of a test, with what it needs to observe it. */
export interface TestClient {
  prisma: CachedPrisma;
  /** Queries that reached the database through this client. */
  database: { queries: number };
  /** What this client reported through `onError`. */
  log: ErrorLog;
  /** This client's time; advance it to expire entries. */
  clock: FakeClock;
  /** This client's Redis prefix. */
  prefix: string;
}

/** Options of {@link CoreHarness.client}: the extension's options, plus the test-side setup. */
export interface TestClientOptions extends Omit<CacheExtensionOptions, "clock"> {
  /** Share another client's clock; a new one by default. */
  clock?: FakeClock;
  /** The bare client to extend; the harness's first client by default. */
  over?: BareClient;
  setup?: CachedClientSetup;
}

export class CoreHarness {
  /** The bare client: seeds, writes behind the cache's back, and is the oracle for uncached results. */
  bare!: BareClient;
  fixture!: Fixture;
  /** The shared tier's connection, when the target has one. */
  redis: Redis | undefined;
  readonly #runPrefix = `pqc-it:${randomUUID().slice(0, 8)}:`;
  readonly #bares: BareClient[] = [];
  readonly #redisConnections: Redis[] = [];
  readonly #clients: TestClient[] = [];
  #prefixes = 0;

  constructor(readonly target: CoreTarget) {}

  get hasRedis(): boolean {
    return this.target.redisUrl !== undefined;
  }

  async start(): Promise<void> {
    await this.target.prepare();
    this.bare = this.connect();
    if (this.target.redisUrl !== undefined) this.redis = await this.connectRedis();
    this.fixture = await seedFixture(this.bare, "core", this.target.aliceBalance);
  }

  async stop(): Promise<void> {
    if (this.fixture !== undefined) await removeFixture(this.bare, this.fixture);
    // Background writes still in flight would land after the clean-up.
    await Promise.all(this.#clients.map((client) => client.prisma.$cache.settled()));
    for (const client of this.#clients) await client.prisma.$cache.close();
    if (this.redis !== undefined) await deleteKeysUnder(this.redis, this.#runPrefix);
    for (const redis of this.#redisConnections) redis.disconnect();
    for (const bare of this.#bares) await bare.$disconnect();
    await this.target.dispose();
  }

  /** Another bare client over the same database: a second application instance. */
  connect(): BareClient {
    const bare = this.target.connect();
    this.#bares.push(bare);
    return bare;
  }

  /** Another connection to the shared tier, for a second application instance. */
  async connectRedis(): Promise<Redis> {
    const redis = await connectRedis(this.target.redisUrl);
    this.#redisConnections.push(redis);
    return redis;
  }

  /** A new prefix under this run's prefix, for clients that share it on purpose. */
  newPrefix(): string {
    return `${this.#runPrefix}${++this.#prefixes}:`;
  }

  /**
   * A new cached client: its own in-process tier, Redis prefix, clock and
   * error log, unless `options` passes them.
   */
  async client(options: TestClientOptions = {}): Promise<TestClient> {
    const { over = this.bare, setup, ...extension } = options;
    const log = new ErrorLog();
    const clock = extension.clock ?? new FakeClock();
    const prefix = extension.prefix ?? this.newPrefix();
    // The suite asserts exact ttl boundaries on its clock: no jitter unless a test asks for it.
    const defaults = { jitter: 0, ...extension.defaults };
    const { prisma, database } = await cachedClient(
      over,
      { redis: this.redis, onError: log.onError, ...extension, defaults, clock, prefix },
      setup,
    );
    const client = { prisma, database, log, clock, prefix };
    this.#clients.push(client);
    return client;
  }
}

/** Where a read was answered from, for the assertions of {@link readThroughTiers}. */
export type Tier = "database" | "in-process tier" | "redis";

/**
 * Runs `read` through a new client of `h` until it has been answered by every
 * tier the target has: the database (a miss), the in-process tier, and Redis
 * (after `settled()` and `clearLocal()`). Asserts each answer came from the
 * tier it is labelled with, by the counters and by the database query count.
 */
export async function readThroughTiers<T>(
  h: CoreHarness,
  read: (prisma: CachedPrisma) => PromiseLike<T>,
): Promise<Array<{ tier: Tier; value: T }>> {
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

/** Runs `read` on `client` and tells whether it reached the database. */
export async function reachedDatabase<T>(
  client: TestClient,
  read: (prisma: CachedPrisma) => PromiseLike<T>,
): Promise<{ value: T; fromDatabase: boolean }> {
  const before = client.database.queries;
  const value = await read(client.prisma);
  return { value, fromDatabase: client.database.queries > before };
}
