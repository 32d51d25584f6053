/**
 * Option validation: every bad configuration is rejected with
 * `E_INVALID_OPTION` when `$extends` runs, naming the option; every valid
 * form is accepted and resolved to milliseconds / bytes; and expiry layers
 * query over model over defaults.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cacheExtension, type CacheExtensionOptions } from "../../src/index.ts";
import { layerExpiry, resolveOptions, type ResolvedOptions } from "../../src/options/resolve.ts";
import { planRead } from "../../src/read/query-plan.ts";
import { catchCacheError } from "./support/cache-error.ts";
import { createSqliteFixture, MODEL_NAMES, type SqliteFixture } from "./support/sqlite-client.ts";

/** Options as a caller could write them without the compiler's help (JavaScript, `any`, config files). */
type Untyped = Record<string, unknown>;

const resolve = (options: Untyped | undefined): ResolvedOptions =>
  resolveOptions(options as CacheExtensionOptions, MODEL_NAMES);

/** A real ioredis client that never connects (`lazyConnect`, and no command is sent): option checks only. */
const lazyRedis = new Redis({ lazyConnect: true });
afterAll(() => lazyRedis.disconnect());

/** [what is wrong, the options, text the message must contain (the option's name)] */
const INVALID: ReadonlyArray<readonly [string, Untyped, string]> = [
  ["a negative ttl", { defaults: { ttl: -5 } }, "`defaults.ttl`"],
  ["a ttl of 0", { defaults: { ttl: 0 } }, "`defaults.ttl`"],
  ["a NaN ttl", { defaults: { ttl: Number.NaN } }, "`defaults.ttl`"],
  ["an infinite ttl", { defaults: { ttl: Number.POSITIVE_INFINITY } }, "`defaults.ttl`"],
  ["a ttl in an unknown unit", { defaults: { ttl: "5 parsecs" } }, "`defaults.ttl`"],
  ["a negative ttl string", { defaults: { ttl: "-5s" } }, "`defaults.ttl`"],
  [
    "a duration unit in capitals, which the Duration type does not allow",
    { defaults: { ttl: "5M" } },
    "`defaults.ttl`",
  ],
  [
    "a size unit spelt in mixed case, which the ByteSize type does not allow",
    { l1: { maxSize: "64Mb" } },
    "`l1.maxSize`",
  ],
  ["a ttl of the wrong type", { defaults: { ttl: true } }, "`defaults.ttl`"],
  ["a negative negativeTtl", { defaults: { negativeTtl: -1 } }, "`defaults.negativeTtl`"],
  ["a bad model ttl", { models: { User: { ttl: "soon" } } }, "`models.User.ttl`"],
  ["a bad redisTimeout", { redisTimeout: "1 week" }, "`redisTimeout`"],
  ["defaults that are not an object", { defaults: 60 }, "`defaults`"],
  ["an unknown top-level option", { ttl: 60 }, "ttl"],
  ["a misspelt top-level option", { defualts: { ttl: 60 } }, "defualts"],
  ["an unknown model", { models: { Invoice: { ttl: 5 } } }, "`models.Invoice`"],
  ["a model name in the client's casing", { models: { user: { ttl: 5 } } }, "`models.user`"],
  ["an unknown key in a model's settings", { models: { User: { ttll: 5 } } }, "models.User.ttll"],
  [
    "a model's cacheByDefault that is not a boolean",
    { models: { User: { cacheByDefault: "yes" } } },
    "`models.User.cacheByDefault`",
  ],
  ["a model's settings that are neither false nor an object", { models: { User: true } }, "`models.User`"],
  ["models that are not an object", { models: "User" }, "`models`"],
  ["an l1 without a bound", { l1: {} }, "`l1`"],
  ["an l1 that is not an object", { l1: true }, "`l1`"],
  ["an unknown key in l1", { l1: { maxEntries: 10, ttl: 5 } }, "l1.ttl"],
  ["l1.maxEntries 0", { l1: { maxEntries: 0 } }, "`l1.maxEntries`"],
  ["a fractional l1.maxEntries", { l1: { maxEntries: 1.5 } }, "`l1.maxEntries`"],
  ["an l1.maxSize that is not a size", { l1: { maxSize: "lots" } }, "`l1.maxSize`"],
  ["an l1.maxSize below 1 KiB", { l1: { maxSize: 10 } }, "`l1.maxSize`"],
  ["redis: {}", { redis: {} }, "`redis`"],
  ["a Redis URL instead of a client", { redis: "redis://127.0.0.1:6379" }, "`redis`"],
  ["a context that is not a function", { context: { tenantId: 1 } }, "`context`"],
  [
    "an async context (a Promise cannot be part of a key)",
    { context: async () => ({ tenantId: 1 }) },
    "`context` is an async function",
  ],
  ["an async generator as context", { context: async function* () {} }, "`context` is an async function"],
  ["l1: false without redis (nothing would ever be cached)", { l1: false }, "`l1` is false and no `redis` is given"],
  ["an empty prefix", { prefix: "" }, "`prefix`"],
  ["a prefix with spaces", { prefix: "my app:" }, "`prefix`"],
  ["a prefix that is not a string", { prefix: 42 }, "`prefix`"],
  ["an onError that is not a function", { onError: "log" }, "`onError`"],
  ["a clock without now()", { clock: {} }, "`clock`"],
  ["a clock whose now is not a function", { clock: { now: 1 } }, "`clock`"],
  ["a negative swr", { defaults: { swr: -1 } }, "`defaults.swr`"],
  [
    "an infinite staleWhileRevalidate",
    { models: { User: { staleWhileRevalidate: Number.POSITIVE_INFINITY } } },
    "`models.User.staleWhileRevalidate`",
  ],
  ["swr and its alias together", { defaults: { swr: 5, staleWhileRevalidate: 5 } }, "`defaults.staleWhileRevalidate`"],
  ["a jitter above 1", { defaults: { jitter: 1.5 } }, "`defaults.jitter`"],
  ["a negative jitter", { models: { User: { jitter: -0.1 } } }, "`models.User.jitter`"],
  ["a jitter given as a string", { defaults: { jitter: "10%" } }, "`defaults.jitter`"],
  ["a NaN earlyRefresh", { defaults: { earlyRefresh: Number.NaN } }, "is NaN"],
  ["a negative earlyRefresh", { defaults: { earlyRefresh: -1 } }, "`defaults.earlyRefresh`"],
  [
    "staleIfInvalidated as a model default (it is per query only)",
    { models: { User: { staleIfInvalidated: true } } },
    "models.User.staleIfInvalidated",
  ],
  ["staleIfInvalidated in defaults", { defaults: { staleIfInvalidated: true } }, "per-query option only"],
  ["a null swr", { defaults: { swr: null } }, "`defaults.swr`"],
  ["a lock given as a list", { lock: [] }, "`lock`"],
  ["an earlyRefresh above 100", { defaults: { earlyRefresh: 200 } }, "up to 100"],
  ["a lock that is neither false nor an object", { lock: true }, "`lock`"],
  ["an unknown key in lock", { lock: { timeout: 5 } }, "lock.timeout"],
  ["a lock lease of 0", { lock: { lease: 0 } }, "`lock.lease`"],
  ["a negative lock wait", { lock: { wait: "-1s" } }, "`lock.wait`"],
  ["a breaker that is neither false nor an object", { breaker: true }, "`breaker`"],
  ["a breaker given as a list", { breaker: [] }, "`breaker`"],
  ["an unknown key in breaker", { breaker: { threshold: 3 } }, "breaker.threshold"],
  ["a breaker opening after 0 failures", { breaker: { failures: 0 } }, "`breaker.failures`"],
  ["a fractional breaker failure count", { breaker: { failures: 2.5 } }, "`breaker.failures`"],
  ["a breaker failure count given as text", { breaker: { failures: "5" } }, "`breaker.failures`"],
  ["a breaker open for 0", { breaker: { openFor: 0 } }, "`breaker.openFor`"],
  ["a breaker open for a bad duration", { breaker: { openFor: "soon" } }, "`breaker.openFor`"],
  ["metrics given as text", { metrics: "on" }, "`metrics`"],
  ["metrics given as a list", { metrics: [] }, "`metrics`"],
  ["an unknown key in metrics", { metrics: { shapes: 10 } }, "`metrics.shapes`"],
  ["a metrics shape bound of 0", { metrics: { maxShapes: 0 } }, "`metrics.maxShapes`"],
  ["a fractional hot-key count", { metrics: { hotKeys: 2.5 } }, "`metrics.hotKeys`"],
  ["a metrics window that is no duration", { metrics: { window: "soon" } }, "`metrics.window`"],
  ["a logger that is a function", { logger: () => undefined }, "`logger`"],
  ["a logger with none of the four methods", { logger: { log: () => undefined } }, "`logger`"],
  ["a logger method that is no function", { logger: { debug: "yes" } }, "`logger.debug`"],
  ["logRawKeys given as text", { logRawKeys: "yes" }, "`logRawKeys`"],
];

/** [the options, what they resolve to (a subset)] */
const DURATIONS: ReadonlyArray<readonly [number | string, number]> = [
  [60, 60_000],
  [0.5, 500],
  ["500ms", 500],
  ["30s", 30_000],
  ["1e3s", 1_000_000],
  [".5m", 30_000],
  ["5m", 300_000],
  ["2h", 7_200_000],
  ["1d", 86_400_000],
];

const SIZES: ReadonlyArray<readonly [number | string, number]> = [
  ["64mb", 64 * 1024 * 1024],
  ["512KB", 512 * 1024],
  [1_048_576, 1_048_576],
];

describe("resolveOptions", () => {
  it.each(INVALID)("rejects %s, naming the option", (_problem, options, named) => {
    const error = catchCacheError(() => resolve(options), "E_INVALID_OPTION");
    expect(error.message).toContain(named);
  });

  it("suggests the schema's spelling of a model name written in the client's casing", () => {
    const error = catchCacheError(() => resolve({ models: { user: { ttl: 5 } } }), "E_INVALID_OPTION");
    expect(error.message).toContain("Did you mean `User`?");
  });

  it("lists the known models when a name matches none", () => {
    const error = catchCacheError(() => resolve({ models: { Invoice: {} } }), "E_INVALID_OPTION");
    expect(error.message).toContain(MODEL_NAMES.join(", "));
  });

  it("applies the documented defaults when given no options", () => {
    const resolved = resolve(undefined);
    expect(resolved.defaults).toEqual({
      ttlMs: 60_000,
      negativeTtlMs: 0,
      swrMs: 0,
      jitter: 0.1,
      earlyRefresh: 0,
      staleIfInvalidated: false,
      enabled: true,
      cacheByDefault: false,
      writeThrough: false,
    });
    expect(resolved.lock).toBeUndefined(); // No Redis, no cross-process lock.
    expect(resolve({ redis: lazyRedis }).lock).toEqual({
      leaseMs: 5_000,
      waitMs: 1_000,
    });
    expect(resolved.breaker).toBeUndefined(); // No Redis, no breaker.
    expect(resolve({ redis: lazyRedis }).breaker).toEqual({ failures: 5, openForMs: 1_000 });
    expect(resolve({ redis: lazyRedis, breaker: { failures: 2, openFor: "250ms" } }).breaker).toEqual({
      failures: 2,
      openForMs: 250,
    });
    expect(resolve({ redis: lazyRedis, breaker: false }).breaker).toBeUndefined();
    expect(resolved.l1).toEqual({ maxSize: 64 * 1024 * 1024, maxEntries: undefined });
    expect(resolved.redis).toBeUndefined();
    expect(resolved.prefix).toBe("pqc:");
    expect(resolved.redisTimeoutMs).toBe(250);
    expect(resolved.models.size).toBe(0);
  });

  it("resolves metrics: off by default, true for the defaults, settings layered on them", () => {
    expect(resolve(undefined).metrics).toBeUndefined();
    expect(resolve({ metrics: false }).metrics).toBeUndefined();
    expect(resolve({ metrics: true }).metrics).toEqual({ maxShapes: 200, hotKeys: 100, windowMs: 60_000 });
    expect(resolve({ metrics: { maxShapes: 5, window: "10s" } }).metrics).toEqual({
      maxShapes: 5,
      hotKeys: 100,
      windowMs: 10_000,
    });
  });

  it("resolves a logger with any of its methods, keys hashed unless logRawKeys", () => {
    const logger = { warn: () => undefined };
    expect(resolve({ logger }).logger).toEqual({ logger, rawKeys: false });
    expect(resolve({ logger, logRawKeys: true }).logger).toEqual({ logger, rawKeys: true });
    expect(resolve({ logger: console }).logger?.logger).toBe(console);
    expect(resolve(undefined).logger).toBeUndefined();
  });

  it.each(DURATIONS)("accepts the duration %j as %i ms", (ttl, ms) => {
    expect(resolve({ defaults: { ttl } }).defaults.ttlMs).toBe(ms);
    expect(resolve({ models: { User: { ttl } } }).models.get("User")?.ttlMs).toBe(ms);
    expect(resolve({ redisTimeout: ttl }).redisTimeoutMs).toBe(ms);
  });

  it("accepts negativeTtl 0 (do not cache empty results) as well as positive durations", () => {
    expect(resolve({ defaults: { negativeTtl: 0 } }).defaults.negativeTtlMs).toBe(0);
    expect(resolve({ defaults: { negativeTtl: "0s" } }).defaults.negativeTtlMs).toBe(0);
    expect(resolve({ defaults: { negativeTtl: "5s" } }).defaults.negativeTtlMs).toBe(5_000);
  });

  it.each(SIZES)("accepts the size %j as %i bytes", (maxSize, bytes) => {
    expect(resolve({ l1: { maxSize } }).l1).toEqual({ maxSize: bytes, maxEntries: undefined });
  });

  it("accepts an entry bound alone, or both bounds, or l1: false with redis", () => {
    expect(resolve({ l1: { maxEntries: 1 } }).l1).toEqual({ maxSize: Number.MAX_SAFE_INTEGER, maxEntries: 1 });
    expect(resolve({ l1: { maxEntries: 500, maxSize: "1mb" } }).l1).toEqual({ maxSize: 1024 * 1024, maxEntries: 500 });
    expect(resolve({ l1: false, redis: lazyRedis }).l1).toBeUndefined();
  });

  it("names the fixes for l1: false without redis and for an async context", () => {
    expect(catchCacheError(() => resolve({ l1: false }), "E_INVALID_OPTION").message).toMatch(
      /Pass `redis` to use the shared tier only, or leave `l1` out/,
    );
    expect(
      catchCacheError(() => resolve({ context: async () => ({ tenantId: 1 }) }), "E_INVALID_OPTION").message,
    ).toMatch(/return the dimensions themselves, read synchronously, e\.g\. from AsyncLocalStorage/);
  });

  it("accepts an ioredis-shaped client, a context function, a prefix, an onError and a clock as given", () => {
    const redis = lazyRedis;
    const context = () => ({ tenantId: 1 });
    const onError = () => undefined;
    const clock = { now: () => 42 };
    const resolved = resolve({ redis, context, prefix: "app:", onError, clock });
    expect(resolved.redis).toBe(redis);
    expect(resolved.context).toBe(context);
    expect(resolved.prefix).toBe("app:");
    expect(resolved.onError).toBe(onError);
    expect(resolved.clock).toBe(clock);
  });

  it("turns a model off with false, and keeps cacheByDefault per model", () => {
    const resolved = resolve({ models: { Post: false, Tag: { cacheByDefault: true } } });
    expect(resolved.models.get("Post")?.enabled).toBe(false);
    expect(resolved.models.get("Tag")).toMatchObject({ enabled: true, cacheByDefault: true });
  });

  it("rejects an unknown key inside defaults", () => {
    const error = catchCacheError(() => resolve({ defaults: { ttll: 5 } }), "E_INVALID_OPTION");
    expect(error.message).toContain("defaults.ttll");
  });
});

describe("cacheExtension options at $extends time (real generated client)", () => {
  let fixture: SqliteFixture;
  beforeAll(async () => {
    fixture = await createSqliteFixture();
  });
  afterAll(async () => {
    await fixture?.dispose();
  });

  const extend = (options: Untyped) => fixture.prisma.$extends(cacheExtension(options as CacheExtensionOptions));

  it("does not validate before $extends: building the extension never throws", () => {
    expect(() => cacheExtension({ defaults: { ttl: -1 } })).not.toThrow();
  });

  it.each(INVALID)("throws E_INVALID_OPTION for %s, naming the option", (_problem, options, named) => {
    const error = catchCacheError(() => extend(options), "E_INVALID_OPTION");
    expect(error.message).toContain(named);
  });

  it("validates model names against the client's own data model, with a hint", () => {
    const error = catchCacheError(() => extend({ models: { user: { ttl: 5 } } }), "E_INVALID_OPTION");
    expect(error.message).toContain("Did you mean `User`?");
  });

  it.each(DURATIONS)("accepts the duration %j wherever a duration goes", (duration) => {
    expect(() =>
      extend({
        defaults: { ttl: duration, negativeTtl: duration },
        models: { User: { ttl: duration } },
        redisTimeout: duration,
      }),
    ).not.toThrow();
  });

  it.each(SIZES)("accepts the size %j", (maxSize) => {
    expect(() => extend({ l1: { maxSize } })).not.toThrow();
  });

  it("accepts negativeTtl 0, at every level", () => {
    expect(() => extend({ defaults: { negativeTtl: 0 }, models: { User: { negativeTtl: 0 } } })).not.toThrow();
  });

  it("accepts every valid form, and the extended client serves a cached read", async () => {
    const prisma = extend({
      defaults: { ttl: "5m", negativeTtl: 0 },
      models: { User: { ttl: 30, cacheByDefault: true }, Post: false, Tag: { negativeTtl: "500ms" } },
      l1: { maxSize: "512KB", maxEntries: 100 },
      prefix: "unit:",
      redisTimeout: "100ms",
      context: () => ({ tenantId: 1 }),
      onError: () => undefined,
      clock: { now: () => 1_000 },
    });
    expect(await prisma.user.count()).toBe(0);
    expect(await prisma.user.count()).toBe(0);
    expect(prisma.$cache.stats()).toMatchObject({ misses: 1, l1Hits: 1, errors: 0 });
  });
});

describe("expiry layering: query over model over defaults", () => {
  const options = resolve({
    defaults: { ttl: 60, negativeTtl: 1 },
    models: { User: { ttl: 300 }, Profile: { negativeTtl: 7 }, Post: false, Tag: { cacheByDefault: true, ttl: 10 } },
  });

  it("layerExpiry keeps what a layer leaves out and replaces what it sets", () => {
    const base = { ttlMs: 60_000, negativeTtlMs: 0, swrMs: 0, jitter: 0.1, earlyRefresh: 0, staleIfInvalidated: false };
    expect(layerExpiry(base, undefined, "x")).toBe(base);
    expect(layerExpiry(base, {}, "x")).toEqual(base);
    expect(layerExpiry(base, { ttl: "5s" }, "x")).toEqual({ ...base, ttlMs: 5_000 });
    expect(layerExpiry(base, { negativeTtl: 2 }, "x")).toEqual({ ...base, negativeTtlMs: 2_000 });
    expect(layerExpiry(base, { swr: 30, jitter: 0, earlyRefresh: 1 }, "x")).toEqual({
      ...base,
      swrMs: 30_000,
      jitter: 0,
      earlyRefresh: 1,
    });
    expect(layerExpiry(base, { staleWhileRevalidate: "2m" }, "x")).toEqual({ ...base, swrMs: 120_000 });
  });

  it("layerExpiry names the layer's path in its errors", () => {
    const error = catchCacheError(
      () =>
        layerExpiry(
          { ttlMs: 1, negativeTtlMs: 0, swrMs: 0, jitter: 0, earlyRefresh: 0, staleIfInvalidated: false },
          { ttl: 0 },
          "models.Post",
        ),
      "E_INVALID_OPTION",
    );
    expect(error.message).toContain("`models.Post.ttl`");
  });

  it("a model without settings uses the defaults", () => {
    expect(planRead(options, "Comment", true)?.expiry).toMatchObject({ ttlMs: 60_000, negativeTtlMs: 1_000 });
  });

  it("a model's settings override the defaults field by field", () => {
    expect(planRead(options, "User", true)?.expiry).toMatchObject({ ttlMs: 300_000, negativeTtlMs: 1_000 });
    expect(planRead(options, "Profile", true)?.expiry).toMatchObject({ ttlMs: 60_000, negativeTtlMs: 7_000 });
  });

  it("a query's settings override the model's field by field", () => {
    expect(planRead(options, "User", { ttl: 30 })?.expiry).toMatchObject({
      ttlMs: 30_000,
      negativeTtlMs: 1_000,
      swrMs: 0,
    });
    expect(planRead(options, "User", { negativeTtl: 0 })?.expiry).toMatchObject({ ttlMs: 300_000, negativeTtlMs: 0 });
    expect(planRead(options, "Comment", { ttl: "5m", negativeTtl: "2s" })?.expiry).toMatchObject({
      ttlMs: 300_000,
      negativeTtlMs: 2_000,
    });
    // `swr` alone extends the inherited ttl; `staleIfInvalidated` is the query's own.
    expect(planRead(options, "User", { swr: 30 })?.expiry).toMatchObject({
      ttlMs: 300_000,
      swrMs: 30_000,
      staleIfInvalidated: false,
    });
    expect(planRead(options, "User", { staleWhileRevalidate: "1m", staleIfInvalidated: true })?.expiry).toMatchObject({
      ttlMs: 300_000,
      swrMs: 60_000,
      staleIfInvalidated: true,
    });
  });

  it("a read without `cache` is cached only for a cacheByDefault model; `cache: false` always opts out", () => {
    expect(planRead(options, "User", undefined)?.expiry).toBeUndefined();
    expect(planRead(options, "Tag", undefined)?.expiry).toMatchObject({ ttlMs: 10_000 });
    expect(planRead(options, "Tag", false)?.expiry).toBeUndefined();
    expect(planRead(options, "User", false)?.expiry).toBeUndefined();
  });

  it("a disabled model is never cached, even when the query asks", () => {
    expect(planRead(options, "Post", true)).toBeUndefined();
    expect(planRead(options, "Post", { ttl: 30 })).toBeUndefined();
  });

  it.each<[string, unknown, string]>([
    ["a misspelt key", { ttll: 5 }, "cache.ttll"],
    ["a string", "yes", "`cache`"],
    ["an array", [30], "`cache`"],
    ["null", null, "`cache`"],
    ["a ttl of 0", { ttl: 0 }, "`cache.ttl`"],
    ["a ttl in an unknown unit", { ttl: "soon" }, "`cache.ttl`"],
  ])("rejects a query's cache option that is %s with E_INVALID_QUERY_OPTION", (_problem, cache, named) => {
    const error = catchCacheError(() => planRead(options, "User", cache), "E_INVALID_QUERY_OPTION");
    expect(error.message).toContain(named);
  });
});
