/**
 * Failure modes that must be neither silent nor misleading: each one reaches
 * `onError` as a `CacheError` whose code and message name its true cause and
 * the fix, and the read is still answered (from the database when it cannot
 * be cached). Values the cache can hold after all (a Decimal NaN) are cached.
 *
 * Real Postgres and Redis through a real Prisma client; the eviction-policy
 * and shutdown cases run their own `redis-server` where they must change
 * its configuration.
 */
import { randomUUID } from "node:crypto";
import { Redis, type RedisOptions } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { describeWith } from "../helpers/describe-with.js";
import { CacheError, cacheExtension, type CacheExtensionOptions } from "../../src/index.js";
import { checkEvictionPolicy } from "../../src/invalidation/eviction-policy.js";
import { Prisma } from "../generated/postgres/client.ts";
import { expectCacheError } from "../helpers/cache-errors.js";
import { ErrorLog } from "../helpers/clients.js";
import { Harness, readThroughTiers } from "../helpers/harness.js";
import { pollUntil } from "../helpers/poll.js";
import { freePort, RedisServer } from "../helpers/redis-server.js";
import { entryKeysUnder } from "../helpers/services.js";
import { postgresTarget } from "../helpers/targets.js";

/** Every report is a CacheError with a code: never a raw error from inside the library. */
function expectOnlyCacheErrors(log: ErrorLog): void {
  for (const error of log.errors) {
    expect(error).toBeInstanceOf(CacheError);
    expect(typeof error.code).toBe("string");
  }
}

/** What `$extends(cacheExtension(options))` throws, for options the types would refuse. */
function extendError(h: Harness, options: Record<string, unknown>): unknown {
  try {
    h.bare.$extends(cacheExtension(options as CacheExtensionOptions));
  } catch (error) {
    return error;
  }
  return undefined;
}

describeWith(["postgres", "redis"], "failure reporting: postgres + redis", () => {
  const h = new Harness(postgresTarget({ redis: true }));
  beforeAll(() => h.start({ seed: "failure-reporting" }));
  afterAll(() => h.stop());

  /** A user of the fixture's tenant whose balance is set by raw SQL (Prisma would refuse to write NaN). */
  async function userWithBalance(balance: string): Promise<number> {
    const user = await h.bare.user.create({
      data: { tenantId: h.fixture.tenantId, email: `balance-${randomUUID()}@example.test` },
    });
    await h.bare.$executeRaw`UPDATE "User" SET balance = ${balance}::numeric WHERE id = ${user.id}`;
    return user.id;
  }

  describe("Decimal NaN and ±Infinity (Postgres numeric allows them) are cached through both tiers", () => {
    it("a row whose Decimal is NaN is served from the database, the in-process tier and Redis, as a Decimal NaN, unreported", async () => {
      const id = await userWithBalance("NaN");
      const answers = await readThroughTiers(h, (prisma) =>
        prisma.user.findUnique({ where: { id }, select: { id: true, balance: true }, cache: true }),
      );
      expect(answers.map((answer) => answer.tier)).toEqual(["database", "in-process tier", "redis"]);
      for (const { value } of answers) {
        expect(Prisma.Decimal.isDecimal(value?.balance)).toBe(true);
        expect(value?.balance.isNaN()).toBe(true);
      }
    });

    it("NaN, Infinity and -Infinity from a cached raw query come back from each tier with their values", async () => {
      const { prisma, log } = await h.client();
      const read = () =>
        prisma.$cache.queryRaw<Array<Record<string, Prisma.Decimal>>>(
          Prisma.sql`SELECT 'NaN'::numeric AS nan, 'Infinity'::numeric AS up, '-Infinity'::numeric AS down`,
          { tags: ["numeric-specials"] },
        );
      const texts = (rows: Array<Record<string, Prisma.Decimal>>) =>
        Object.values(rows[0] ?? {}).map((d) => `${Prisma.Decimal.isDecimal(d)}:${d.toString()}`);
      const expected = ["true:NaN", "true:Infinity", "true:-Infinity"];
      expect(texts(await read())).toEqual(expected);
      expect(texts(await read())).toEqual(expected);
      expect(prisma.$cache.stats()).toMatchObject({ misses: 1, l1Hits: 1 });
      await prisma.$cache.settled();
      prisma.$cache.clearLocal();
      expect(texts(await read())).toEqual(expected);
      expect(prisma.$cache.stats()).toMatchObject({ misses: 1, l1Hits: 1, l2Hits: 1 });
      expect(log.errors).toEqual([]);
    });
  });

  describe("circular values: a CacheError naming what is circular, and the read goes to the database", () => {
    it("a circular context dimension is reported as E_CONTEXT naming the dimension; the read is answered from the database", async () => {
      const circular: Record<string, unknown> = { id: 1 };
      circular.self = circular;
      const { prisma, database, log } = await h.client({
        context: () => ({ tenantId: h.fixture.tenantId, user: circular }) as never,
      });
      const id = h.fixture.users.alice;
      for (let i = 0; i < 2; i++)
        expect(await prisma.user.findUnique({ where: { id }, select: { email: true }, cache: true })).toEqual({
          email: "alice@example.test",
        });
      expect(database.queries).toBe(2);
      expectOnlyCacheErrors(log);
      expect(log.codes()).toEqual(["E_CONTEXT", "E_CONTEXT"]);
      expect(log.errors[0]?.message).toMatch(
        /context dimension `user` holds a circular \(or far too deeply nested\) value, which cannot be part of a key; User\.findUnique was served uncached/,
      );
    });

    it("circular query arguments are reported as E_INVALID_QUERY_OPTION naming the arguments; the query goes to Prisma, which answers as without the cache", async () => {
      const { prisma, log } = await h.client();
      const circularJson = (): Record<string, unknown> => {
        const value: Record<string, unknown> = { theme: "dark" };
        value.self = value;
        return value;
      };
      // Prisma cannot send a cycle either: the caller gets Prisma's own error, exactly as without the cache.
      const uncached = await h.bare.user
        .findMany({ where: { settings: { equals: circularJson() as Prisma.InputJsonValue } } })
        .catch((error: unknown) => error);
      const cached = await prisma.user
        .findMany({ where: { settings: { equals: circularJson() as Prisma.InputJsonValue } }, cache: true })
        .catch((error: unknown) => error);
      expect(cached).not.toBeInstanceOf(CacheError);
      expect((cached as Error).constructor).toBe((uncached as Error).constructor);
      expect((cached as Error).message).toBe((uncached as Error).message);
      expectOnlyCacheErrors(log);
      expect(log.codes()).toEqual(["E_INVALID_QUERY_OPTION"]);
      expect(log.errors[0]?.message).toMatch(
        /the query arguments of User\.findMany hold a circular \(or far too deeply nested\) value, which cannot be part of a key/,
      );
      expect(log.errors[0]?.cause).toBeInstanceOf(RangeError);
    });
  });

  describe("a context that returns no object of dimensions is reported as a context error, naming the fix", () => {
    const returns: Array<[string, () => unknown, RegExp]> = [
      [
        "a string",
        () => "tenant-1",
        /`context` returned a string, not an object of dimensions.*Make `context` return an object of dimensions/,
      ],
      [
        "a function",
        () => () => ({ tenantId: 1 }),
        /`context` returned a function, not an object of dimensions.*Make `context` return an object of dimensions/,
      ],
      [
        "a Symbol",
        () => Symbol("tenant"),
        /`context` returned a symbol, not an object of dimensions.*Make `context` return an object of dimensions/,
      ],
      [
        "undefined (a block body without return)",
        () => undefined,
        /`context` returned undefined, not an object of dimensions.*A block body needs `return`/,
      ],
      [
        "an instance of a class",
        () => new Map([["tenantId", 1]]),
        /`context` returned an instance of Map, which cannot be part of a key.*Make `context` return an object of dimensions/,
      ],
      [
        "a dimension holding a function",
        () => ({ tenantId: () => 1 }),
        /context dimension `tenantId` holds a function, which cannot be part of a key.*A dimension is a string, number, boolean or null/,
      ],
    ];
    for (const [what, context, message] of returns) {
      it(`${what}: E_CONTEXT, and the read is served from the database`, async () => {
        const { prisma, database, log } = await h.client({ context: context as never });
        const id = h.fixture.users.bob;
        for (let i = 0; i < 2; i++)
          expect(await prisma.user.findUnique({ where: { id }, select: { email: true }, cache: true })).toEqual({
            email: "bob@example.test",
          });
        expect(database.queries).toBe(2);
        expectOnlyCacheErrors(log);
        expect(log.codes()).toEqual(["E_CONTEXT", "E_CONTEXT"]);
        expect(log.errors[0]?.message).toMatch(message);
      });
    }

    it("a context returning a Promise is reported once as E_CONTEXT naming it and the fix; every read is served uncached; a rejected one ends nothing", async () => {
      const unhandled: unknown[] = [];
      const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
      process.on("unhandledRejection", onUnhandled);
      try {
        let call = 0;
        // A plain function returning a Promise: what a transpiled `async` context is. Every other one rejects.
        const context = () =>
          ++call % 2 === 0 ? Promise.reject(new Error("no tenant")) : Promise.resolve({ tenantId: 1 });
        const { prisma, database, log } = await h.client({ context: context as never });
        const id = h.fixture.users.carol;
        for (let i = 0; i < 4; i++)
          expect(await prisma.user.findUnique({ where: { id }, select: { email: true }, cache: true })).toEqual({
            email: "carol@example.test",
          });
        expect(database.queries).toBe(4);
        expect(prisma.$cache.stats()).toMatchObject({ l1Hits: 0, l2Hits: 0, l1Entries: 0 });
        expect(log.codes()).toEqual(["E_CONTEXT"]);
        expect(log.errors[0]?.message).toMatch(
          /`context` returned a Promise \(or another thenable\), which cannot be part of a key; User\.findUnique was served uncached .*\(reported once\)/,
        );
        expect(log.errors[0]?.message).toMatch(
          /return the dimensions themselves, read synchronously, e\.g\. from AsyncLocalStorage/,
        );
        await new Promise((resolve) => setTimeout(resolve, 20)); // unhandledRejection fires after a macrotask
        expect(unhandled).toEqual([]);
      } finally {
        process.off("unhandledRejection", onUnhandled);
      }
    });

    it("an async context is refused at $extends with E_INVALID_OPTION naming `context` and the fix", () => {
      const error = extendError(h, { context: async () => ({ tenantId: 1 }) });
      expect(error).toBeInstanceOf(CacheError);
      expect(error).toMatchObject({ code: "E_INVALID_OPTION" });
      expect((error as Error).message).toMatch(
        /option `context` is an async function\. .*return the dimensions themselves, read synchronously/,
      );
    });
  });

  describe("getOrSet with a value the shared tier cannot hold: both tiers agree (neither stores it), E_SERIALIZE reported", () => {
    /**
     * Values superjson would not throw for, but would drop or flatten: the in-process tier and Redis would disagree.
     */
    class Report {
      constructor(readonly total: number) {}
    }
    const cycle = (): Record<string, unknown> => {
      const value: Record<string, unknown> = { total: 3 };
      value.self = value;
      return value;
    };
    const values: Array<[string, () => unknown, RegExp]> = [
      ["a function inside", () => ({ total: 3, render: () => "<p>3</p>" }), /holds a function at `\.render`/],
      ["a symbol in a list", () => ({ rows: [1, Symbol("x")] }), /holds a symbol at `\.rows\[1\]`/],
      ["a class instance", () => ({ report: new Report(3) }), /holds an instance of Report at `\.report`/],
      ["a cycle", cycle, /holds a circular \(or far too deeply nested\) value/],
    ];
    for (const [what, make, message] of values) {
      it(`${what}: returned as computed on every call, stored in neither tier nor seen by another instance`, async () => {
        const prefix = h.newPrefix();
        const a = await h.client({ prefix });
        const b = await h.client({ prefix });
        let runs = 0;
        const fn = () => {
          runs++;
          return make();
        };
        expect(await a.prisma.$cache.getOrSet("report:3", fn)).toMatchObject({});
        await a.prisma.$cache.getOrSet("report:3", fn);
        await a.prisma.$cache.settled();
        await b.prisma.$cache.getOrSet("report:3", fn);
        expect(runs).toBe(3);
        expect(a.prisma.$cache.stats()).toMatchObject({ l1Entries: 0, l1Hits: 0, l2Hits: 0 });
        expect(await entryKeysUnder(h.redis as Redis, prefix)).toEqual([]);
        expectOnlyCacheErrors(a.log);
        expect(a.log.codes()).toEqual(["E_SERIALIZE", "E_SERIALIZE"]);
        expect(a.log.errors[0]?.message).toMatch(message);
        expect(a.log.errors[0]?.message).toMatch(
          /getOrSet\("report:3"\): .*which the shared tier \(Redis\) cannot hold; it was returned uncached, in neither tier/,
        );
      });
    }

    it("the function's value keeps its function: the caller gets what fn returned", async () => {
      const { prisma } = await h.client();
      const value = await prisma.$cache.getOrSet("report:render", () => ({ render: () => "ok" }));
      expect(value.render()).toBe("ok");
    });
  });

  describe("l1 settings that would cache nothing, or a result too large to cache", () => {
    it("l1: false without redis is refused at $extends with E_INVALID_OPTION naming `l1` and the fix", () => {
      const error = extendError(h, { l1: false });
      expect(error).toMatchObject({ code: "E_INVALID_OPTION" });
      expect((error as Error).message).toMatch(
        /option `l1` is false and no `redis` is given, so nothing would ever be cached\. Pass `redis` to use the shared tier only, or leave `l1` out/,
      );
    });

    const bigRead = (tenantId: number, not: string) =>
      ({ where: { tenantId, email: { not } }, include: { posts: true, memberships: true }, cache: true }) as const;

    it("in-process only: a result larger than l1.maxSize is reported once per query shape (E_UNCACHEABLE), never per value", async () => {
      const { prisma, database, log } = await h.client({ redis: undefined, l1: { maxSize: "1kb" } });
      const { tenantId } = h.fixture;
      await prisma.user.findMany(bigRead(tenantId, "a@example.test"));
      await prisma.user.findMany(bigRead(tenantId, "a@example.test"));
      await prisma.user.findMany(bigRead(tenantId, "b@example.test")); // the same shape, other values
      expect(database.queries).toBe(3);
      expect(prisma.$cache.stats()).toMatchObject({ l1Entries: 0, l1Hits: 0 });
      expectOnlyCacheErrors(log);
      expect(log.codes()).toEqual(["E_UNCACHEABLE"]);
      const [report] = log.errors;
      expect(report?.message).toMatch(
        /a result of User\|findMany\|\{"include":\{"posts":\?,"memberships":\?\},"where":\{"email":\{"not":\?\},"tenantId":\?\}\}\| is about \d+ bytes \(estimated\), more than l1\.maxSize \(1024 bytes\): the in-process tier cannot hold it, so it is never cached\. Raise l1\.maxSize, or narrow the query/,
      );
      expect(report?.message).not.toContain("a@example.test");

      await prisma.user.findMany({ ...bigRead(tenantId, "a@example.test"), take: 10 }); // another shape
      expect(log.codes()).toEqual(["E_UNCACHEABLE", "E_UNCACHEABLE"]);
    });

    it("with redis: the report says the result is kept in Redis only, and Redis serves it", async () => {
      const { prisma, database, log } = await h.client({ l1: { maxSize: "1kb" } });
      const read = () => prisma.user.findMany(bigRead(h.fixture.tenantId, "a@example.test"));
      const expected = await read();
      await prisma.$cache.settled();
      expect(await read()).toStrictEqual(expected);
      expect(database.queries).toBe(1);
      expect(prisma.$cache.stats()).toMatchObject({ l1Entries: 0, l2Hits: 1 });
      expect(log.codes()).toEqual(["E_UNCACHEABLE"]);
      expect(log.errors[0]?.message).toMatch(/so it is kept in Redis only, and every hit costs a round trip/);
    });
  });

  describe("$cache.invalidate and rawWrites given nothing to invalidate reject (they would resolve having done nothing)", () => {
    it("{}, a misspelt key, or invalidateModels() without models: E_INVALID_TAG naming the problem; explicit empty lists are accepted", async () => {
      const { prisma } = await h.client();
      await expectCacheError(
        prisma.$cache.invalidate({}),
        "E_INVALID_TAG",
        /invalidate\(\{\}\) names no tags and no models, so it would invalidate nothing\. Pass \{ tags: \["\.\.\."\] \} and\/or \{ models: \["User"\] \}; to drop this instance's in-process entries, call clearLocal\(\)/,
      );
      await expectCacheError(
        prisma.$cache.invalidate({ tag: ["front-page"] } as never),
        "E_INVALID_TAG",
        /invalidate: `tag` is not a key of the target, which takes \{ tags\?, models\? \}/,
      );
      await expectCacheError(
        prisma.$cache.invalidateModels(undefined as never),
        "E_INVALID_TAG",
        /names no tags and no models/,
      );
      let ran = false;
      await expectCacheError(
        prisma.$cache.rawWrites({}, async () => {
          ran = true;
        }),
        "E_INVALID_TAG",
        /rawWrites\(\{\}\) names no tags and no models/,
      );
      expect(ran).toBe(false);
      await expect(prisma.$cache.invalidate({ tags: [] })).resolves.toBeUndefined();
    });
  });

  describeWith(["redis-server"], "the eviction-policy check says the true cause", () => {
    const servers: RedisServer[] = [];
    const clients: Redis[] = [];
    afterEach(async () => {
      for (const client of clients.splice(0)) client.disconnect();
      for (const server of servers.splice(0)) await server.kill();
    });
    const privateServer = async (...args: string[]) => {
      const server = await RedisServer.start({ args });
      servers.push(server);
      return server;
    };
    const client = (url: string, options: RedisOptions) => {
      const redis = new Redis(url, options);
      redis.on("error", () => undefined); // This test's own client: its connection noise is not under test.
      clients.push(redis);
      return redis;
    };

    it("a client still connecting when $extends runs is waited for: its noeviction policy is reported, not 'CONFIG GET is not allowed'", async () => {
      const server = await privateServer("--maxmemory", "1mb", "--maxmemory-policy", "noeviction");
      // Without an offline queue, a command sent before the connection is up fails at once.
      const redis = client(server.url, { enableOfflineQueue: false });
      expect(redis.status).not.toBe("ready");
      const log = new ErrorLog();
      const prisma = h.bare.$extends(cacheExtension({ redis, prefix: h.newPrefix(), onError: log.onError }));
      try {
        const reports = await pollUntil(
          async () => log.errors.filter((error) => error.code === "E_REDIS_POLICY"),
          (found) => found.length > 0,
        );
        expect(reports.map((error) => error.message)).toEqual([
          expect.stringMatching(
            /Redis has maxmemory 1048576 with maxmemory-policy noeviction: once full it refuses every write/,
          ),
        ]);
      } finally {
        await prisma.$cache.close();
      }
    });

    it("a server that refuses CONFIG (an ACL without it): reported as not allowed, with Redis's reply", async () => {
      const server = await privateServer();
      const admin = client(server.url, {});
      await admin.call("ACL", "SETUSER", "no-config", "on", "nopass", "~*", "&*", "+@all", "-config");
      const redis = client(server.url, { username: "no-config" });
      const log = new ErrorLog();
      await checkEvictionPolicy(redis, log.onError);
      expect(log.codes()).toEqual(["E_REDIS_POLICY"]);
      expect(log.errors[0]?.message).toMatch(
        /could not read the Redis eviction policy: this Redis does not allow CONFIG GET \(NOPERM this user has no permissions to run the 'config\|get' command\); skipping the check/,
      );
    });

    it("a client that never connects: after the bounded wait, reported as not connected, naming its status", async () => {
      const redis = client(`redis://127.0.0.1:${await freePort()}`, { retryStrategy: () => 50 });
      const log = new ErrorLog();
      await checkEvictionPolicy(redis, log.onError, { readyMs: 300, commandMs: 100 });
      expect(log.codes()).toEqual(["E_REDIS_POLICY"]);
      expect(log.errors[0]?.message).toMatch(
        /could not read the Redis eviction policy: Redis was not connected after 300 ms \(status (connecting|reconnecting)\); skipping the check/,
      );
    });

    it("a client its owner quits before it connected: nothing to check, nothing reported", async () => {
      const redis = client(`redis://127.0.0.1:${await freePort()}`, { retryStrategy: () => 50 });
      const log = new ErrorLog();
      const check = checkEvictionPolicy(redis, log.onError, { readyMs: 5_000, commandMs: 100 });
      redis.disconnect();
      await check;
      expect(log.errors).toEqual([]);
    });
  });

  describe("quitting the Redis client before $cache.close()", () => {
    /**
     * What ioredis prints with console.error while `run` runs and for 250 ms
     * after (longer than a heartbeat interval at busLease 300ms, and than a
     * socket's close): an error event nobody listens to, as an application
     * would see it in its logs.
     */
    async function printedByIoredis(run: () => Promise<void>): Promise<unknown[][]> {
      const consoleError = vi.spyOn(console, "error");
      try {
        await run();
        await new Promise((resolve) => setTimeout(resolve, 250));
        return consoleError.mock.calls.filter((args) => String(args[0]).includes("Unhandled error event"));
      } finally {
        consoleError.mockRestore();
      }
    }

    for (const quit of ["quit()", "disconnect()"] as const) {
      it(`after ${quit}, close() writes nothing on the ended client (no unhandled EPIPE printed) and reports once, as E_REDIS, that it could not leave the bus`, async () => {
        // The application's client, as applications create it: no error listener.
        const redis = await h.connectRedis();
        const { prisma, log } = await h.client({ redis, busLease: "300ms" });
        const printed = await printedByIoredis(async () => {
          await prisma.user.findUnique({ where: { id: h.fixture.users.alice }, cache: true });
          await prisma.$cache.settled();
          if (quit === "quit()") await redis.quit();
          else redis.disconnect();
          await prisma.$cache.close();
        });
        expect(printed).toEqual([]);
        expectOnlyCacheErrors(log);
        expect(log.codes()).toEqual(["E_REDIS"]);
        expect(log.errors[0]?.message).toMatch(
          /close\(\): the Redis client had already ended \(quit, disconnected, or given up reconnecting\), so this instance could not leave the invalidation bus.*Call prisma\.\$cache\.close\(\) before quitting the client/,
        );
      });
    }

    it("in the documented order (close(), then quit()), nothing is printed and nothing reported", async () => {
      const redis = await h.connectRedis();
      const { prisma, log } = await h.client({ redis, busLease: "300ms" });
      const printed = await printedByIoredis(async () => {
        await prisma.user.findUnique({ where: { id: h.fixture.users.alice }, cache: true });
        await prisma.$cache.close();
        await redis.quit();
      });
      expect(printed).toEqual([]);
      expect(log.errors).toEqual([]);
    });

    it("in the documented order while another instance's invalidations keep arriving: nothing is answered on the quitting client", async () => {
      const redis = await h.connectRedis();
      const { prisma, prefix, log } = await h.client({ redis });
      const writer = await h.client({ prefix });
      const printed = await printedByIoredis(async () => {
        await prisma.user.findUnique({ where: { id: h.fixture.users.alice }, cache: true });
        // Invalidations in flight to this instance's subscriber while it closes and its owner quits the client.
        const burst = Promise.all(
          Array.from({ length: 40 }, (_, i) => writer.prisma.$cache.invalidate({ tags: [`burst-${i}`] })),
        );
        await new Promise((resolve) => setTimeout(resolve, 5));
        await prisma.$cache.close();
        await redis.quit();
        await burst;
      });
      expect(printed).toEqual([]);
      expect(log.errors).toEqual([]);
    });
  });
});
