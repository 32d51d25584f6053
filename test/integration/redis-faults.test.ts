/**
 * Redis faults, on private `redis-server` processes: a frozen server, a dead
 * server, corrupt entries. The cache must degrade to the database: correct
 * data, no error thrown at the caller, the failure reported through onError.
 * The database is SQLite, so this file needs no other service.
 */
import { once } from "node:events";
import { performance } from "node:perf_hooks";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeWith } from "../helpers/describe-with.js";
import {
  cachedClient,
  createSqliteDatabase,
  ErrorLog,
  sqliteClient,
  type BareClient,
  type CachedPrisma,
} from "../helpers/clients.js";
import { seedFixture, type Fixture } from "../helpers/fixture.js";
import { RedisServer } from "../helpers/redis-server.js";

describeWith(["redis-server"], "Redis faults: the cache degrades to the database", () => {
  const servers: RedisServer[] = [];
  const connections: Redis[] = [];
  let database: Awaited<ReturnType<typeof createSqliteDatabase>>;
  let bare: BareClient;
  let fixture: Fixture;

  beforeAll(async () => {
    database = await createSqliteDatabase("redis-faults");
    bare = sqliteClient(database.file);
    fixture = await seedFixture(bare, "faults", "1234567.125");
  });

  afterAll(async () => {
    for (const redis of connections) redis.disconnect();
    for (const server of servers) await server.kill();
    await bare?.$disconnect();
    database?.remove();
  });

  /**
   * A cached client over a new private Redis, without the in-process tier so
   * that every read goes to Redis, with a short redisTimeout.
   */
  async function clientOverPrivateRedis() {
    const server = await RedisServer.start();
    servers.push(server);
    const redis = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    // After a kill ioredis keeps reconnecting and emits errors; the test observes them through onError.
    redis.on("error", () => undefined);
    connections.push(redis);
    await redis.connect();
    const log = new ErrorLog();
    const prefix = "pqc-faults:";
    const { prisma, database } = await cachedClient(bare, {
      redis,
      l1: false,
      redisTimeout: "100ms",
      prefix,
      onError: log.onError,
    });
    return { server, redis, prisma, database, log, prefix };
  }

  const readUser = (prisma: CachedPrisma, id = fixture.users.alice) =>
    prisma.user.findUnique({ where: { id }, include: { posts: { orderBy: { id: "asc" } } }, cache: true });
  const uncachedUser = (id = fixture.users.alice) =>
    bare.user.findUnique({ where: { id }, include: { posts: { orderBy: { id: "asc" } } } });

  it("a frozen Redis (SIGSTOP): reads return the database's answer after about redisTimeout, E_REDIS reported", async () => {
    const { server, prisma, database, log } = await clientOverPrivateRedis();
    const expected = await uncachedUser();
    await readUser(prisma);
    await prisma.$cache.settled();
    expect(await readUser(prisma)).toStrictEqual(expected);
    expect(prisma.$cache.stats()).toMatchObject({ misses: 1, l2Hits: 1 });

    server.pause();
    try {
      const started = performance.now();
      const answers = await Promise.all([readUser(prisma), readUser(prisma), readUser(prisma)]);
      // Coarse bound: redisTimeout is 100 ms; without it a read would wait for Redis forever.
      expect(performance.now() - started).toBeLessThan(2_000);
      for (const answer of answers) expect(answer).toStrictEqual(expected);
      // Their lookups timed out together: the three reads share one load (begun after all three began).
      expect(database.queries).toBe(2);
      // The background writes to the frozen server time out as well; settled() still resolves.
      await prisma.$cache.settled();
      expect(log.codes().length).toBeGreaterThanOrEqual(3);
      expect(new Set(log.codes())).toEqual(new Set(["E_REDIS"]));
      expect(prisma.$cache.stats().errors).toBe(log.errors.length);
    } finally {
      server.resume();
    }

    // Thawed, the same connection serves hits again.
    expect(await readUser(prisma)).toStrictEqual(expected);
    expect(prisma.$cache.stats()).toMatchObject({ l2Hits: 2 });
  });

  it("a dead Redis (SIGKILL): reads return the database's answer, E_REDIS reported", async () => {
    const { server, redis, prisma, database, log } = await clientOverPrivateRedis();
    const expected = await uncachedUser();
    await readUser(prisma);
    await prisma.$cache.settled();

    const closed = once(redis, "close");
    await server.kill();
    await closed;

    for (let i = 0; i < 3; i++) expect(await readUser(prisma)).toStrictEqual(expected);
    await prisma.$cache.settled();
    expect(database.queries).toBe(4);
    expect(prisma.$cache.stats()).toMatchObject({ l2Hits: 0, misses: 4 });
    expect(log.codes().length).toBeGreaterThanOrEqual(3);
    expect(new Set(log.codes())).toEqual(new Set(["E_REDIS"]));
  });

  describe("a corrupt entry is a miss, reported as E_CORRUPT_ENTRY, and is replaced", () => {
    /** Fills the entry of `read` and returns its key name (found with KEYS, on this private server only). */
    async function fillAndFindKey(
      redis: Redis,
      prisma: CachedPrisma,
      prefix: string,
      read: (prisma: CachedPrisma) => PromiseLike<unknown>,
    ): Promise<string> {
      // Entries only: tag versions live under `${prefix}t:`.
      const entries = async () =>
        (await redis.keys(`${prefix}*`)).filter(
          (key) => !key.startsWith(`${prefix}t:`) && !key.startsWith(`${prefix}bus:`),
        );
      const before = new Set(await entries());
      await read(prisma);
      await prisma.$cache.settled();
      const added = (await entries()).filter((key) => !before.has(key));
      expect(added).toHaveLength(1);
      return added[0] as string;
    }

    const corruptions: Array<[string, (stored: string, otherQueryStored: string) => string]> = [
      ["a value that is not an entry", () => "garbage"],
      ["a truncated entry", (stored) => stored.slice(0, stored.length - 7)],
      // What a key collision or a foreign writer would leave: a valid entry of another query.
      ["another query's entry", (_stored, otherQueryStored) => otherQueryStored],
    ];

    for (const [name, corrupt] of corruptions) {
      it(name, async () => {
        const { redis, prisma, database, log, prefix } = await clientOverPrivateRedis();
        const expected = await uncachedUser(fixture.users.alice);
        const key = await fillAndFindKey(redis, prisma, prefix, (p) => readUser(p, fixture.users.alice));
        const otherKey = await fillAndFindKey(redis, prisma, prefix, (p) => readUser(p, fixture.users.bob));
        const [stored, otherStored] = await redis.mget(key, otherKey);
        await redis.set(key, corrupt(stored as string, otherStored as string), "PX", 60_000);

        expect(await readUser(prisma)).toStrictEqual(expected);
        expect(log.codes()).toEqual(["E_CORRUPT_ENTRY"]);
        expect(prisma.$cache.stats()).toMatchObject({ misses: 3, l2Hits: 0, errors: 1 });
        expect(database.queries).toBe(3);

        // The miss wrote a good entry back: the next read is a Redis hit.
        await prisma.$cache.settled();
        expect(await readUser(prisma)).toStrictEqual(expected);
        expect(prisma.$cache.stats()).toMatchObject({ misses: 3, l2Hits: 1 });
        expect(database.queries).toBe(3);
      });
    }
  });
});
