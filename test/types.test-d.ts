/**
 * Type tests (checked by `tsc`, never run): the extension keeps Prisma's
 * types. Every read method of every model accepts `cache`; misspellings and
 * wrong types are compile errors; result types with select / include / omit
 * are exactly those of the client without the extension.
 */
import { PrismaPg } from "@prisma/adapter-pg";
import type { Cluster, Redis } from "ioredis";
import { describe, expectTypeOf, test } from "vitest";
import {
  cacheExtension,
  type CacheExtensionOptions,
  type AdvisorReport,
  type AdvisorRow,
  type CacheStats,
  type AnsweredBy,
  type CacheEvent,
  type GetOrSetOptions,
  type MetricsSnapshot,
  type QueryCacheOption,
  type ReadInfo,
  type RedisClientLike,
} from "../src/index.ts";
import { Prisma, PrismaClient } from "./generated/postgres/client.ts";

/**
 * The clients exactly as an application builds them. Never called (type tests
 * do not run): only its return type is used, hence the underscore.
 */
function _buildClients() {
  const base = new PrismaClient({ adapter: new PrismaPg({ connectionString: "postgresql://unused" }) });
  return { base, prisma: base.$extends(cacheExtension()) };
}
declare const clients: ReturnType<typeof _buildClients>;
declare const redis: Redis;
declare const cluster: Cluster;
const { base, prisma } = clients;

describe("`cache` on every read method of every model", () => {
  test('true / false / { ttl: 30 } / { ttl: "5m", negativeTtl: 0 } each compile, written literally', () => {
    prisma.user.findUnique({ where: { id: 1 }, cache: true });
    prisma.user.findUnique({ where: { id: 1 }, cache: false });
    prisma.user.findUnique({ where: { id: 1 }, cache: { ttl: 30 } });
    prisma.user.findUnique({ where: { id: 1 }, cache: { ttl: "5m", negativeTtl: 0 } });
    prisma.user.findMany({ cache: {} });
    prisma.user.findMany({ cache: { ttl: 0.5, negativeTtl: "30s" } });
    prisma.user.findMany({ cache: { ttl: "500ms" } });
    prisma.user.findMany({ cache: { ttl: "2h" } });
    prisma.user.findMany({ cache: { ttl: 30, swr: "5m", jitter: 0, earlyRefresh: 1 } });
    prisma.user.findUnique({ where: { id: 1 }, cache: { staleWhileRevalidate: 60, staleIfInvalidated: true } });
    prisma.user.findMany({ cache: { ttl: "1d" } });
  });

  test("a value of the exported QueryCacheOption type compiles", () => {
    const option = {} as QueryCacheOption;
    prisma.post.findMany({ cache: option });
  });

  // `cache` below takes each of the four forms in turn: the union of their literal types.
  const forms = [true, false, { ttl: 30 }, { ttl: "5m", negativeTtl: 0 }] as const;

  test("Tenant, User, Profile, Post", () => {
    for (const cache of forms) {
      prisma.tenant.findUnique({ where: { id: 1 }, cache });
      prisma.tenant.findUniqueOrThrow({ where: { slug: "a" }, cache });
      prisma.tenant.findFirst({ cache });
      prisma.tenant.findFirstOrThrow({ cache });
      prisma.tenant.findMany({ cache });
      prisma.tenant.count({ cache });
      prisma.tenant.aggregate({ _count: true, cache });
      prisma.tenant.groupBy({ by: ["slug"], cache });

      prisma.user.findUnique({ where: { tenantId_email: { tenantId: 1, email: "a" } }, cache });
      prisma.user.findUniqueOrThrow({ where: { id: 1 }, cache });
      prisma.user.findFirst({ where: { email: "a" }, cache });
      prisma.user.findFirstOrThrow({ cache });
      prisma.user.findMany({ take: 5, cache });
      prisma.user.count({ where: { role: "ADMIN" }, cache });
      prisma.user.aggregate({ _sum: { balance: true }, cache });
      prisma.user.groupBy({ by: ["role"], _count: { _all: true }, cache });

      prisma.profile.findUnique({ where: { userId: 1 }, cache });
      prisma.profile.findUniqueOrThrow({ where: { id: 1 }, cache });
      prisma.profile.findFirst({ cache });
      prisma.profile.findFirstOrThrow({ cache });
      prisma.profile.findMany({ cache });
      prisma.profile.count({ cache });
      prisma.profile.aggregate({ _max: { birthday: true }, cache });
      prisma.profile.groupBy({ by: ["userId"], cache });

      prisma.post.findUnique({ where: { tenantId_slug: { tenantId: 1, slug: "s" } }, cache });
      prisma.post.findUniqueOrThrow({ where: { id: 1 }, cache });
      prisma.post.findFirst({ orderBy: { views: "desc" }, cache });
      prisma.post.findFirstOrThrow({ cache });
      prisma.post.findMany({ include: { tags: true }, cache });
      prisma.post.count({ cache });
      prisma.post.aggregate({ _avg: { rating: true }, cache });
      prisma.post.groupBy({ by: ["published"], _sum: { views: true }, cache });
    }
  });

  test("Comment, Tag, Group, Membership", () => {
    for (const cache of forms) {
      prisma.comment.findUnique({ where: { id: 1 }, cache });
      prisma.comment.findUniqueOrThrow({ where: { id: 1 }, cache });
      prisma.comment.findFirst({ cache });
      prisma.comment.findFirstOrThrow({ cache });
      prisma.comment.findMany({ cache });
      prisma.comment.count({ cache });
      prisma.comment.aggregate({ _count: { _all: true }, cache });
      prisma.comment.groupBy({ by: ["postId", "authorId"], cache });

      prisma.tag.findUnique({ where: { name: "t" }, cache });
      prisma.tag.findUniqueOrThrow({ where: { id: 1 }, cache });
      prisma.tag.findFirst({ cache });
      prisma.tag.findFirstOrThrow({ cache });
      prisma.tag.findMany({ cache });
      prisma.tag.count({ cache });
      prisma.tag.aggregate({ _min: { name: true }, cache });
      prisma.tag.groupBy({ by: ["name"], cache });

      prisma.group.findUnique({ where: { name: "g" }, cache });
      prisma.group.findUniqueOrThrow({ where: { id: 1 }, cache });
      prisma.group.findFirst({ cache });
      prisma.group.findFirstOrThrow({ cache });
      prisma.group.findMany({ cache });
      prisma.group.count({ cache });
      prisma.group.aggregate({ _count: true, cache });
      prisma.group.groupBy({ by: ["id"], cache });

      prisma.membership.findUnique({ where: { userId_groupId: { userId: 1, groupId: 2 } }, cache });
      prisma.membership.findUniqueOrThrow({ where: { userId_groupId: { userId: 1, groupId: 2 } }, cache });
      prisma.membership.findFirst({ cache });
      prisma.membership.findFirstOrThrow({ cache });
      prisma.membership.findMany({ cache });
      prisma.membership.count({ cache });
      prisma.membership.aggregate({ _max: { joinedAt: true }, cache });
      prisma.membership.groupBy({ by: ["role"], cache });
    }
  });

  test("the read methods whose args are optional still compile without any", () => {
    prisma.user.findFirst();
    prisma.user.findFirstOrThrow();
    prisma.user.findMany();
    prisma.user.count();
  });
});

describe("mistakes are compile errors", () => {
  test("a misspelt key inside `cache`", () => {
    // @ts-expect-error `ttll` is not a cache setting
    prisma.user.findUnique({ where: { id: 1 }, cache: { ttll: 5 } });
    // @ts-expect-error `ttll` is not a cache setting, even next to a valid one
    prisma.user.findMany({ cache: { ttl: 5, ttll: 5 } });
    // @ts-expect-error `swrr` is not a cache setting
    prisma.post.count({ cache: { swrr: 10 } });
    // @ts-expect-error staleIfInvalidated is a boolean
    prisma.post.count({ cache: { staleIfInvalidated: "yes" } });
  });

  test("a value of the wrong type for `cache` or its settings", () => {
    // @ts-expect-error `cache` takes a boolean or settings, not a string
    prisma.user.findUnique({ where: { id: 1 }, cache: "yes" });
    // @ts-expect-error `cache` takes a boolean or settings, not a number
    prisma.user.findMany({ cache: 30 });
    // @ts-expect-error "soon" is not a duration
    prisma.user.findMany({ cache: { ttl: "soon" } });
    // @ts-expect-error "5 minutes" is not a duration ("5m" is)
    prisma.user.findMany({ cache: { ttl: "5 minutes" } });
    // @ts-expect-error a duration is not a boolean
    prisma.user.count({ cache: { negativeTtl: true } });
  });

  test("a misspelt top-level argument", () => {
    // @ts-expect-error `cahce` is not an argument of findUnique
    prisma.user.findUnique({ where: { id: 1 }, cahce: true });
    // @ts-expect-error `cahce` is not an argument of findMany
    prisma.user.findMany({ cahce: true });
    // @ts-expect-error `wher` is not an argument (Prisma's own checking still applies)
    prisma.user.findMany({ wher: { id: 1 }, cache: true });
  });

  test("Prisma's own argument checking is unchanged", () => {
    // @ts-expect-error findUnique needs a unique `where`
    prisma.user.findUnique({ where: { email: "a" }, cache: true });
    // @ts-expect-error `emial` is not a field
    prisma.user.findMany({ select: { emial: true }, cache: true });
    // @ts-expect-error findUnique requires its arguments
    prisma.user.findUnique();
  });
});

describe("result types are those of the client without the extension", () => {
  // The tests below await inside async test bodies: they are type-checked, never run.
  test("findUnique with select", async () => {
    const result = await prisma.user.findUnique({ where: { id: 1 }, select: { id: true, email: true }, cache: true });
    expectTypeOf(result).toEqualTypeOf<{ id: number; email: string } | null>();
    expectTypeOf(result).toEqualTypeOf(
      await base.user.findUnique({ where: { id: 1 }, select: { id: true, email: true } }),
    );
  });

  test("findUniqueOrThrow and findFirstOrThrow are not nullable", async () => {
    expectTypeOf(
      await prisma.user.findUniqueOrThrow({ where: { id: 1 }, select: { email: true }, cache: { ttl: 30 } }),
    ).toEqualTypeOf<{ email: string }>();
    expectTypeOf(
      await prisma.post.findFirstOrThrow({ select: { title: true, rating: true }, cache: true }),
    ).toEqualTypeOf<{ title: string; rating: number | null }>();
  });

  test("findMany with include gives the relation as an array", async () => {
    const result = await prisma.user.findMany({ include: { posts: true }, cache: true });
    expectTypeOf(result[0]!.posts).toEqualTypeOf<Prisma.PostModel[]>();
    expectTypeOf(result[0]!.email).toEqualTypeOf<string>();
    expectTypeOf(result).toEqualTypeOf(await base.user.findMany({ include: { posts: true } }));
  });

  test("nested include and select", async () => {
    const result = await prisma.post.findFirst({
      select: { id: true, author: { select: { name: true, profile: true } }, tags: { select: { name: true } } },
      cache: true,
    });
    expectTypeOf(result).toEqualTypeOf(
      await base.post.findFirst({
        select: { id: true, author: { select: { name: true, profile: true } }, tags: { select: { name: true } } },
      }),
    );
    expectTypeOf(result!.tags).toEqualTypeOf<{ name: string }[]>();
  });

  test("omit removes the field, as without the extension", async () => {
    const result = await prisma.user.findFirst({ omit: { avatar: true, settings: true }, cache: true });
    expectTypeOf(result!).not.toHaveProperty("avatar");
    expectTypeOf(result!).toHaveProperty("email");
    expectTypeOf(result).toEqualTypeOf(await base.user.findFirst({ omit: { avatar: true, settings: true } }));
  });

  test("scalar types: Decimal, BigInt, Date, Bytes, Json, enum", async () => {
    const user = await prisma.user.findUniqueOrThrow({ where: { id: 1 }, cache: true });
    expectTypeOf(user.balance).toEqualTypeOf<Prisma.Decimal>();
    expectTypeOf(user.visits).toEqualTypeOf<bigint>();
    expectTypeOf(user.createdAt).toEqualTypeOf<Date>();
    expectTypeOf(user.avatar).toEqualTypeOf<Uint8Array<ArrayBuffer> | null>();
    expectTypeOf(user.settings).toEqualTypeOf<Prisma.JsonValue | null>();
    expectTypeOf(user.role).toEqualTypeOf<"ADMIN" | "MEMBER" | "GUEST">();
    expectTypeOf(user).toEqualTypeOf(await base.user.findUniqueOrThrow({ where: { id: 1 } }));
  });

  test("count returns a number, or the per-field counts with select", async () => {
    expectTypeOf(await prisma.user.count({ where: { role: "ADMIN" }, cache: true })).toEqualTypeOf<number>();
    expectTypeOf(await prisma.user.count({ select: { _all: true, name: true }, cache: true })).toEqualTypeOf<{
      _all: number;
      name: number;
    }>();
  });

  test("aggregate and groupBy", async () => {
    const aggregate = await prisma.user.aggregate({ _sum: { balance: true }, _max: { createdAt: true }, cache: true });
    expectTypeOf(aggregate._sum.balance).toEqualTypeOf<Prisma.Decimal | null>();
    expectTypeOf(aggregate._max.createdAt).toEqualTypeOf<Date | null>();
    expectTypeOf(aggregate).toEqualTypeOf(
      await base.user.aggregate({ _sum: { balance: true }, _max: { createdAt: true } }),
    );

    const groups = await prisma.post.groupBy({ by: ["published"], _count: { _all: true }, cache: true });
    expectTypeOf(groups[0]!.published).toEqualTypeOf<boolean>();
    expectTypeOf(groups[0]!._count).toEqualTypeOf<{ _all: number }>();
  });

  test("a read method returns a PrismaPromise, so it can go into $transaction([...])", async () => {
    expectTypeOf(prisma.user.findMany({ cache: true })).toExtend<Prisma.PrismaPromise<unknown>>();
    const batch = await prisma.$transaction([
      prisma.user.count({ cache: true }),
      prisma.post.findFirst({ select: { id: true }, cache: true }),
    ]);
    expectTypeOf(batch).toEqualTypeOf<[number, { id: number } | null]>();
  });
});

describe("$cache", () => {
  test("stats(), clearLocal() and settled() are typed", () => {
    expectTypeOf(prisma.$cache.stats()).toEqualTypeOf<CacheStats>();
    expectTypeOf(prisma.$cache.stats().l1Hits).toEqualTypeOf<number>();
    expectTypeOf(prisma.$cache.clearLocal()).toEqualTypeOf<void>();
    expectTypeOf(prisma.$cache.settled()).toEqualTypeOf<Promise<void>>();
  });

  test("advisor() returns typed rows; the advisor option takes a boolean or its settings", () => {
    expectTypeOf(prisma.$cache.advisor()).toEqualTypeOf<AdvisorReport>();
    expectTypeOf(prisma.$cache.advisor().rows[0]).toEqualTypeOf<AdvisorRow | undefined>();
    expectTypeOf<AdvisorRow["advice"]>().toEqualTypeOf<"cache" | "maybe" | "skip" | "wait">();
    expectTypeOf<AdvisorRow["suggestedTtlMs"]>().toEqualTypeOf<number | undefined>();
    cacheExtension({ advisor: true });
    cacheExtension({ advisor: { sample: 0.1, maxShapes: 50, maxKeys: 1000 } });
    // @ts-expect-error `samples` is not an advisor setting
    cacheExtension({ advisor: { samples: 0.1 } });
    // @ts-expect-error `advisor` takes a boolean or settings
    cacheExtension({ advisor: "on" });
  });

  test("metrics() is a MetricsSnapshot; withInfo keeps the read's result type and adds its info", async () => {
    expectTypeOf(prisma.$cache.metrics()).toExtend<MetricsSnapshot>();
    expectTypeOf(prisma.$cache.metrics().shapes[0]!.reads.l1).toEqualTypeOf<number>();
    const { data, info } = await prisma.$cache.withInfo(
      prisma.user.findUnique({ where: { id: 1 }, select: { name: true }, cache: true }),
    );
    expectTypeOf(data).toEqualTypeOf<{ name: string | null } | null>();
    expectTypeOf(info).toEqualTypeOf<ReadInfo>();
    expectTypeOf(info.answeredBy).toEqualTypeOf<AnsweredBy>();
    const listed = await prisma.$cache.withInfo(prisma.post.findMany({ select: { id: true } }));
    expectTypeOf(listed.data).toEqualTypeOf<{ id: number }[]>();
    // @ts-expect-error withInfo takes the read (a promise), not a function
    void prisma.$cache.withInfo(() => prisma.user.count());
  });

  test("metrics, logger and logRawKeys options compile; misspellings and wrong types do not", () => {
    const logged: CacheEvent[] = [];
    const options: CacheExtensionOptions = {
      metrics: { maxShapes: 50, hotKeys: 20, window: "30s" },
      logger: { debug: (event) => logged.push(event) },
      logRawKeys: false,
    };
    cacheExtension(options);
    cacheExtension({ metrics: true, logger: console });
    // @ts-expect-error `shapes` is not a metrics setting (maxShapes is)
    cacheExtension({ metrics: { shapes: 5 } });
    // @ts-expect-error metrics is a boolean or settings
    cacheExtension({ metrics: "on" });
    // @ts-expect-error a logger method takes (event, message)
    cacheExtension({ logger: { info: (event: number) => event } });
  });

  test("getOrSet returns Promise<T> for fn: () => Promise<T> and for fn: () => T", () => {
    expectTypeOf(prisma.$cache.getOrSet("report:1", async () => ({ total: 1, at: new Date() }))).toEqualTypeOf<
      Promise<{ total: number; at: Date }>
    >();
    expectTypeOf(prisma.$cache.getOrSet("answer", () => 42n)).toEqualTypeOf<Promise<bigint>>();
    expectTypeOf(
      prisma.$cache.getOrSet("maybe", async (): Promise<string | null> => null, { negativeTtl: 5 }),
    ).toEqualTypeOf<Promise<string | null>>();
  });

  test("getOrSet options: expiry, dependencies and context compile; misspellings and wrong types do not", () => {
    const options: GetOrSetOptions = {
      ttl: "5m",
      negativeTtl: 0,
      tags: ["app:report"],
      models: ["User"],
      context: { locale: "fr" },
    };
    prisma.$cache.getOrSet("k", () => 1, options);
    prisma.$cache.getOrSet("k", () => 1, { context: false });
    // @ts-expect-error `tll` is not an option
    prisma.$cache.getOrSet("k", () => 1, { tll: 5 });
    // @ts-expect-error the key is a string
    prisma.$cache.getOrSet(1, () => 1);
    // @ts-expect-error a context dimension cannot be an object
    prisma.$cache.getOrSet("k", () => 1, { context: { tenant: { id: 1 } } });
  });

  test("scope() resolves with what its function returns, a lazy Prisma query included; scopeHits is counted", () => {
    expectTypeOf(prisma.$cache.scope(() => prisma.user.count())).toEqualTypeOf<Promise<number>>();
    expectTypeOf(
      prisma.$cache.scope(async () => (await prisma.post.findFirst({ select: { id: true } }))?.id),
    ).toEqualTypeOf<Promise<number | undefined>>();
    expectTypeOf(prisma.$cache.scope(() => "sync")).toEqualTypeOf<Promise<string>>();
    expectTypeOf(prisma.$cache.stats().scopeHits).toEqualTypeOf<number>();
  });

  test("middleware() fits Express's and Fastify's handler shapes", () => {
    // Their shapes, written out: neither framework is a dependency.
    type ExpressHandler = (req: { url?: string }, res: { statusCode: number }, next: (error?: unknown) => void) => void;
    type FastifyOnRequest = (request: { id: string }, reply: { sent: boolean }, done: (error?: Error) => void) => void;
    expectTypeOf(prisma.$cache.middleware()).toExtend<ExpressHandler>();
    expectTypeOf(prisma.$cache.middleware()).toExtend<FastifyOnRequest>();
  });

  test("the client without the extension has no $cache", () => {
    expectTypeOf(base).not.toHaveProperty("$cache");
  });
});

describe("cacheExtension options", () => {
  test("valid forms compile", () => {
    cacheExtension({
      defaults: { ttl: "5m", negativeTtl: 0 },
      models: { User: { ttl: 30, cacheByDefault: true }, Post: false },
      l1: { maxSize: "64mb" },
      prefix: "app:",
      redisTimeout: "250ms",
      context: () => ({ tenantId: 1, locale: "fr", admin: false, region: null }),
      onError: (error) => expectTypeOf(error.code).toBeString(),
      clock: { now: () => 0 },
    });
    cacheExtension({ l1: { maxEntries: 1_000 } });
    cacheExtension({ l1: { maxEntries: 1_000, maxSize: 1_048_576 } });
    cacheExtension({ l1: { maxSize: "512KB" } });
    // Without `redis` it would cache nothing: refused when $extends runs (a union type for it would cost every option
    // its plain interface).
    cacheExtension({ redis, l1: false });
    cacheExtension();
    cacheExtension({
      defaults: { ttl: 30, swr: "5m", jitter: 0.2, earlyRefresh: 1 },
      models: { User: { staleWhileRevalidate: 60 } },
      lock: { lease: "5s", wait: "1s" },
    });
    cacheExtension({ lock: false });
  });

  test("redis: an ioredis Redis or Cluster, and nothing that lacks a command the library sends", () => {
    expectTypeOf<Redis>().toExtend<RedisClientLike>();
    expectTypeOf<Cluster>().toExtend<RedisClientLike>();
    cacheExtension({ redis: cluster });
    const withoutMget = {} as Omit<RedisClientLike, "mget">;
    // @ts-expect-error `mget` is part of the surface the library calls
    cacheExtension({ redis: withoutMget });
    // @ts-expect-error the five commands RedisClientLike used to declare are not enough
    cacheExtension({ redis: {} as Pick<RedisClientLike, "status" | "get" | "set" | "isCluster" | "pipeline"> });
  });

  test("expiry-ramp mistakes are compile errors", () => {
    // @ts-expect-error staleIfInvalidated is a per-query option, not a default
    cacheExtension({ defaults: { staleIfInvalidated: true } });
    // @ts-expect-error jitter is a number
    cacheExtension({ defaults: { jitter: "10%" } });
    // @ts-expect-error lock takes { lease, wait } or false
    cacheExtension({ lock: true });
  });

  test("model names are a Record: a misspelt model name is only caught at $extends time", () => {
    // Not a compile error: `models` is Record<string, ...>; resolveOptions rejects it at runtime.
    expectTypeOf({ models: { user: { ttl: 5 } } }).toExtend<CacheExtensionOptions>();
  });

  test("l1 without any bound", () => {
    // @ts-expect-error L1Options requires maxSize or maxEntries
    cacheExtension({ l1: {} });
  });

  test("durations and sizes outside the documented forms", () => {
    // @ts-expect-error "5 minutes" is not a duration
    cacheExtension({ defaults: { ttl: "5 minutes" } });
    // @ts-expect-error "5 parsecs" is not a duration
    cacheExtension({ models: { User: { ttl: "5 parsecs" } } });
    // @ts-expect-error "lots" is not a size
    cacheExtension({ l1: { maxSize: "lots" } });
  });

  test("unknown options and wrong types", () => {
    // @ts-expect-error `ttl` belongs under `defaults`
    cacheExtension({ ttl: 60 });
    // @ts-expect-error `ttll` is not a model setting
    cacheExtension({ models: { User: { ttll: 5 } } });
    // @ts-expect-error `ttll` is not an expiry setting
    cacheExtension({ defaults: { ttll: 5 } });
    // @ts-expect-error `redis` takes an ioredis client, not a URL
    cacheExtension({ redis: "redis://127.0.0.1:6379" });
    // @ts-expect-error `context` is a function
    cacheExtension({ context: { tenantId: 1 } });
    // @ts-expect-error a context dimension cannot be an object
    cacheExtension({ context: () => ({ tenant: { id: 1 } }) });
    // @ts-expect-error an async context returns a Promise, which is no object of dimensions
    cacheExtension({ context: async () => ({ tenantId: 1 }) });
    // @ts-expect-error `clock` needs now()
    cacheExtension({ clock: {} });
  });
});
