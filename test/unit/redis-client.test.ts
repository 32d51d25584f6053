/**
 * The `redis` option is checked for the whole ioredis surface the library
 * calls (RedisClientLike) when `$extends` runs: a client lacking one method
 * is refused there, with `E_INVALID_OPTION` naming `redis`, the missing
 * methods and the fix, instead of failing later with a bare TypeError.
 * Real ioredis `Redis` and `Cluster` clients pass. No service is needed:
 * the clients are created with `lazyConnect` and never connect.
 */
import { Cluster, Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { cacheExtension, type CacheExtensionOptions } from "../../src/index.ts";
import { resolveOptions } from "../../src/options/resolve.ts";
import { REDIS_METHODS } from "../../src/redis/client.ts";
import { catchCacheError } from "./support/cache-error.ts";
import { MODEL_NAMES, useSqliteFixture } from "./support/sqlite-client.ts";

/** An object with every required method of RedisClientLike, each one a stub that is never called here. */
function wholeSurface(): Record<string, unknown> {
  const client: Record<string, unknown> = { status: "wait" };
  for (const method of Object.keys(REDIS_METHODS)) client[method] = () => Promise.resolve(null);
  return client;
}

/** `wholeSurface()` without `methods`. */
function without(...methods: string[]): Record<string, unknown> {
  const client = wholeSurface();
  for (const method of methods) delete client[method];
  return client;
}

const resolve = (redis: unknown) => resolveOptions({ redis } as CacheExtensionOptions, MODEL_NAMES);

describe("the redis option at $extends time", () => {
  const fixture = useSqliteFixture();

  const extend = (redis: unknown) =>
    fixture().prisma.$extends(cacheExtension({ redis } as unknown as CacheExtensionOptions));

  it("refuses a client without mget, naming redis, the missing method and the fix", () => {
    const error = catchCacheError(() => extend(without("mget")), "E_INVALID_OPTION");
    expect(error.message).toContain("option `redis` is not an ioredis client: it has no mget.");
    expect(error.message).toContain("Pass `new Redis(url)` or `new Redis.Cluster(nodes)`");
  });

  it("names every missing method, status included", () => {
    const client = without("evalsha", "publish", "config");
    delete client.status;
    const error = catchCacheError(() => extend(client), "E_INVALID_OPTION");
    expect(error.message).toContain("it has no status, evalsha, publish, config.");
  });

  it("refuses the five-method client the type used to declare", () => {
    const old = { status: "wait", get: async () => null, set: async () => "OK", pipeline: () => ({}) };
    const error = catchCacheError(() => extend(old), "E_INVALID_OPTION");
    expect(error.message).toContain("it has no mget, evalsha, eval, publish, zrem, duplicate, config, once, off.");
  });

  it("refuses what is no object at all", () => {
    for (const value of [null, "redis://127.0.0.1:6379", 6379]) {
      expect(catchCacheError(() => extend(value), "E_INVALID_OPTION").message).toContain(
        "option `redis` is not an ioredis client.",
      );
    }
  });
});

describe("real ioredis clients have the whole surface", () => {
  const redis = new Redis({ lazyConnect: true });
  const cluster = new Cluster([{ host: "127.0.0.1", port: 1 }], { lazyConnect: true });
  afterAll(() => {
    redis.disconnect();
    cluster.disconnect();
  });

  it.each([
    ["Redis", redis],
    ["Cluster", cluster],
  ] as const)("an ioredis %s passes the check and is used as given", (_kind, client) => {
    expect(resolve(client).redis).toBe(client);
  });

  it("an object with exactly the declared methods passes", () => {
    const client = wholeSurface();
    expect(resolve(client).redis).toBe(client);
  });
});
