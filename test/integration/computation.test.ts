/**
 * Computation caching, `prisma.$cache.getOrSet(key, fn, options)`
 * (docs/expiry.md, "Computation caching"): `fn` runs on a miss only; the
 * entry expires by `ttl` (injected clock, never a sleep), is keyed by the
 * context unless told otherwise, dies with its declared tags and models, and
 * follows the read path's rules for errors, `null`, copies and Redis.
 *
 * The rules that do not depend on the tiers run twice: in-process only, and
 * with Redis. What only Redis can show (two instances, superjson types) runs
 * with Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeWith } from "../helpers/describe-with.js";
import { CacheError } from "../../src/index.js";
import { Prisma } from "../generated/postgres/client.ts";
import { FakeClock, type BareClient } from "../helpers/clients.js";
import { Harness, type InstanceOptions } from "../helpers/harness.js";
import { postgresTarget } from "../helpers/targets.js";
import { expectCacheError } from "../helpers/cache-errors.js";

/** A computation that counts its runs and returns what `value(run)` gives for each. */
function counted<T>(value: (run: number) => T) {
  const fn = Object.assign(
    async () => {
      fn.calls++;
      return value(fn.calls);
    },
    { calls: 0 },
  );
  return fn;
}

/** Shared by the two variants: the harness (database, Redis, clean-up) and the test's tenant. */
class Env {
  readonly h: Harness;

  constructor(redis: boolean) {
    this.h = new Harness(postgresTarget({ redis }));
  }

  get bare(): BareClient {
    return this.h.bare;
  }

  get tenantId(): number {
    return this.h.fixture.tenantId;
  }

  start(): Promise<void> {
    return this.h.start({ seed: "computation" });
  }

  stop(): Promise<void> {
    return this.h.stop();
  }

  /**
   * A cached client (with its own Redis connection when the target has Redis)
   * with the extension's defaults, a fake clock, an error log and a mutable
   * `tenant` context dimension; on `prefix` to share another client's entries.
   */
  async client(options: Omit<InstanceOptions, "redis" | "prefix"> = {}, prefix?: string) {
    const clock = new FakeClock();
    const scope = { tenant: 1 as number | undefined };
    const instance = await this.h.instance({
      defaults: {},
      clock,
      context: () => ({ tenant: scope.tenant }),
      ...(prefix === undefined ? {} : { prefix }),
      ...options,
    });
    return { ...instance, clock, scope };
  }

  /** A user of the test's tenant, created behind the cache. */
  async user(name: string): Promise<number> {
    return (
      await this.bare.user.create({
        data: { tenantId: this.tenantId, email: `${name}-${Math.random()}@computation.test`, name },
      })
    ).id;
  }
}

/** The tests every tier set-up must pass. */
function describeComputations(env: Env): void {
  const client = (options?: Omit<InstanceOptions, "redis" | "prefix">) => env.client(options);

  describe("runs fn on a miss only", () => {
    it("fn runs once; the next calls are served from the cache", async () => {
      const { prisma } = await client();
      const fn = counted((run) => ({ run, items: ["a", "b"] }));
      expect(await prisma.$cache.getOrSet("once", fn)).toEqual({ run: 1, items: ["a", "b"] });
      expect(await prisma.$cache.getOrSet("once", fn)).toEqual({ run: 1, items: ["a", "b"] });
      expect(await prisma.$cache.getOrSet("once", fn)).toEqual({ run: 1, items: ["a", "b"] });
      expect(fn.calls).toBe(1);
      expect(prisma.$cache.stats()).toMatchObject({ misses: 1, l1Hits: 2 });
    });

    it("a synchronous fn works as well, and other keys are other entries", async () => {
      const { prisma } = await client();
      let calls = 0;
      const fn = (): string => `value-${++calls}`;
      expect(await prisma.$cache.getOrSet("sync-a", fn)).toBe("value-1");
      expect(await prisma.$cache.getOrSet("sync-b", fn)).toBe("value-2");
      expect(await prisma.$cache.getOrSet("sync-a", fn)).toBe("value-1");
      expect(calls).toBe(2);
    });

    it("single-flight: 10 concurrent calls of one key run fn once (needs the single-flight work)", async () => {
      const { prisma } = await client();
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      const fn = counted(async (run) => {
        await released;
        return { run };
      });
      const calls = Array.from({ length: 10 }, () => prisma.$cache.getOrSet("flight", fn));
      // Hold the first run until every call has looked the key up (a Redis round trip each) and could join it.
      setTimeout(release, 50);
      const values = await Promise.all(calls);
      expect(values).toEqual(Array.from({ length: 10 }, () => ({ run: 1 })));
      // Each caller has its own copy.
      expect(new Set(values).size).toBe(10);
      expect(fn.calls).toBe(1);
    });
  });

  describe("expiry", () => {
    it("ttl: served until it passes (injected clock), then fn runs again", async () => {
      const { prisma, clock } = await client();
      const fn = counted((run) => run);
      expect(await prisma.$cache.getOrSet("ttl", fn, { ttl: 10 })).toBe(1);
      // Jitter may only shorten a ttl, by less than 10 % by default: 8 s is within it either way.
      clock.advance(8_000);
      expect(await prisma.$cache.getOrSet("ttl", fn, { ttl: 10 })).toBe(1);
      clock.advance(2_001);
      expect(await prisma.$cache.getOrSet("ttl", fn, { ttl: 10 })).toBe(2);
      expect(fn.calls).toBe(2);
    });

    it("swr: past its ttl the value is served at once while fn runs once in the background; past ttl + swr the caller waits", async () => {
      const { prisma, clock } = await client();
      const fn = counted((run) => run);
      const options = { ttl: 10, swr: 20, jitter: 0 };
      expect(await prisma.$cache.getOrSet("swr", fn, options)).toBe(1);
      await prisma.$cache.settled();
      clock.advance(10_000);
      expect(await prisma.$cache.getOrSet("swr", fn, options), "stale, served at once").toBe(1);
      await prisma.$cache.settled();
      expect(fn.calls, "one background run").toBe(2);
      expect(await prisma.$cache.getOrSet("swr", fn, options), "the refreshed value").toBe(2);
      clock.advance(30_000);
      expect(await prisma.$cache.getOrSet("swr", fn, options), "expired: the caller waits for fn").toBe(3);
      expect(prisma.$cache.stats()).toMatchObject({ refreshes: 1 });
    });

    it("without ttl, the extension's defaults.ttl applies", async () => {
      const { prisma, clock } = await client({ defaults: { ttl: "2m" } });
      const fn = counted((run) => run);
      await prisma.$cache.getOrSet("default-ttl", fn);
      clock.advance(100_000);
      expect(await prisma.$cache.getOrSet("default-ttl", fn)).toBe(1);
      clock.advance(20_001);
      expect(await prisma.$cache.getOrSet("default-ttl", fn)).toBe(2);
    });

    it("null is cached for negativeTtl > 0, and not at all with the default negativeTtl 0; so is []", async () => {
      const { prisma, clock } = await client();
      const nothing = counted(() => null);
      expect(await prisma.$cache.getOrSet("null-cached", nothing, { negativeTtl: 5 })).toBeNull();
      expect(await prisma.$cache.getOrSet("null-cached", nothing, { negativeTtl: 5 })).toBeNull();
      expect(nothing.calls).toBe(1);
      clock.advance(5_001);
      await prisma.$cache.getOrSet("null-cached", nothing, { negativeTtl: 5 });
      expect(nothing.calls).toBe(2);

      const uncached = counted(() => null);
      await prisma.$cache.getOrSet("null-uncached", uncached);
      await prisma.$cache.getOrSet("null-uncached", uncached, { negativeTtl: 0 });
      expect(uncached.calls).toBe(2);

      // An empty array is a negative result too, as an empty findMany is.
      const empty = counted((): string[] => []);
      await prisma.$cache.getOrSet("empty-list", empty);
      await prisma.$cache.getOrSet("empty-list", empty);
      expect(empty.calls).toBe(2);
    });
  });

  describe("context", () => {
    it("two tenants: fn runs once per tenant; context: false shares one entry", async () => {
      const { prisma, scope } = await client();
      const perTenant = counted((run) => `tenant-${String(scope.tenant)}-${run}`);
      scope.tenant = 1;
      expect(await prisma.$cache.getOrSet("per-tenant", perTenant)).toBe("tenant-1-1");
      scope.tenant = 2;
      expect(await prisma.$cache.getOrSet("per-tenant", perTenant)).toBe("tenant-2-2");
      scope.tenant = 1;
      expect(await prisma.$cache.getOrSet("per-tenant", perTenant)).toBe("tenant-1-1");
      expect(perTenant.calls).toBe(2);

      const shared = counted((run) => `shared-${run}`);
      scope.tenant = 1;
      expect(await prisma.$cache.getOrSet("shared", shared, { context: false })).toBe("shared-1");
      scope.tenant = 2;
      expect(await prisma.$cache.getOrSet("shared", shared, { context: false })).toBe("shared-1");
      expect(shared.calls).toBe(1);
    });

    it("a missing context dimension runs fn uncached and reports E_CONTEXT; context: false needs none", async () => {
      const { prisma, scope, log } = await client();
      scope.tenant = undefined;
      const fn = counted((run) => run);
      expect(await prisma.$cache.getOrSet("no-tenant", fn)).toBe(1);
      expect(await prisma.$cache.getOrSet("no-tenant", fn)).toBe(2);
      expect(log.codes()).toEqual(["E_CONTEXT", "E_CONTEXT"]);
      expect(await prisma.$cache.getOrSet("no-tenant", fn, { context: false })).toBe(3);
      expect(await prisma.$cache.getOrSet("no-tenant", fn, { context: false })).toBe(3);
      expect(log.codes()).toEqual(["E_CONTEXT", "E_CONTEXT"]);
    });

    it("context: { ... } adds dimensions to the extension's, without replacing them; an undefined one is missing", async () => {
      const { prisma, scope, log } = await client();
      const fn = counted((run) => run);
      scope.tenant = 1;
      expect(await prisma.$cache.getOrSet("localised", fn, { context: { locale: "fr" } })).toBe(1);
      expect(await prisma.$cache.getOrSet("localised", fn, { context: { locale: "en" } })).toBe(2);
      expect(await prisma.$cache.getOrSet("localised", fn, { context: { locale: "fr" } })).toBe(1);
      scope.tenant = 2;
      expect(await prisma.$cache.getOrSet("localised", fn, { context: { locale: "fr" } })).toBe(3);
      // An extra `tenant` is keyed apart from the extension's: it cannot reach tenant 1's entry.
      expect(await prisma.$cache.getOrSet("localised", fn, { context: { tenant: 1, locale: "fr" } })).toBe(4);
      // No extra dimension is the plain context.
      expect(await prisma.$cache.getOrSet("localised", fn, { context: {} })).toBe(5);
      expect(await prisma.$cache.getOrSet("localised", fn)).toBe(5);
      expect(log.codes()).toEqual([]);

      expect(await prisma.$cache.getOrSet("localised", fn, { context: { locale: undefined } })).toBe(6);
      expect(await prisma.$cache.getOrSet("localised", fn, { context: { locale: undefined } })).toBe(7);
      expect(log.codes()).toEqual(["E_CONTEXT", "E_CONTEXT"]);
      expect(log.errors[0]?.message).toMatch(/`locale` is undefined/);
    });
  });

  describe("dependencies", () => {
    it("$cache.invalidate({ tags }) kills an entry declaring the tag; other tags' entries survive", async () => {
      const { prisma } = await client();
      const fn = counted((run) => run);
      await prisma.$cache.getOrSet("tagged", fn, { tags: ["app:x"] });
      await prisma.$cache.getOrSet("other-tag", fn, { tags: ["app:y"] });
      expect(fn.calls).toBe(2);
      await prisma.$cache.invalidate({ tags: ["app:x"] });
      expect(await prisma.$cache.getOrSet("tagged", fn, { tags: ["app:x"] })).toBe(3);
      expect(await prisma.$cache.getOrSet("other-tag", fn, { tags: ["app:y"] })).toBe(2);
      // A write naming the tag does the same.
      await prisma.tenant.update({
        where: { id: env.tenantId },
        data: { name: "computation" },
        cache: { invalidates: ["app:x"] },
      });
      expect(await prisma.$cache.getOrSet("tagged", fn, { tags: ["app:x"] })).toBe(4);
    });

    it("the declared dependencies are part of the key: the same key with other tags is another entry", async () => {
      const { prisma } = await client();
      const fn = counted((run) => run);
      expect(await prisma.$cache.getOrSet("deps", fn, { tags: ["app:a"] })).toBe(1);
      expect(await prisma.$cache.getOrSet("deps", fn, { tags: ["app:b"] })).toBe(2);
      expect(await prisma.$cache.getOrSet("deps", fn, { models: ["User"] })).toBe(3);
      expect(await prisma.$cache.getOrSet("deps", fn, { tags: ["app:a"] })).toBe(1);
    });

    it("models: a write to User through the client kills an entry declaring User; writes to other models do not", async () => {
      const { prisma } = await client();
      const id = await env.user("before");
      const name = (p: typeof prisma) =>
        p.$cache.getOrSet(
          "user-name",
          async () => ({ name: (await env.bare.user.findUnique({ where: { id } }))?.name }),
          { models: ["User"] },
        );
      expect(await name(prisma)).toEqual({ name: "before" });

      await prisma.tenant.update({ where: { id: env.tenantId }, data: { name: "computation" } });
      await prisma.post.deleteMany({ where: { id: -1 } });
      await env.bare.user.update({ where: { id }, data: { name: "behind the cache" } });
      expect(await name(prisma)).toEqual({ name: "before" });

      await prisma.user.update({ where: { id }, data: { name: "after" } });
      expect(await name(prisma)).toEqual({ name: "after" });
      // Also a write to another user row: the entry depends on the whole model.
      await env.bare.user.update({ where: { id }, data: { name: "behind again" } });
      const other = await env.user("other");
      await prisma.user.update({ where: { id: other }, data: { name: "other, updated" } });
      expect(await name(prisma)).toEqual({ name: "behind again" });
      // And $cache.invalidate({ models }).
      await env.bare.user.update({ where: { id }, data: { name: "third" } });
      await prisma.$cache.invalidate({ models: ["User"] });
      expect(await name(prisma)).toEqual({ name: "third" });
    });
  });

  describe("values", () => {
    it("every call gets a private copy: mutating one changes neither the cache nor the next call's value", async () => {
      const { prisma } = await client();
      const make = () => ({ list: [1, 2], nested: { a: 1 }, at: new Date(0), bytes: new Uint8Array([1, 2]) });
      const first = await prisma.$cache.getOrSet("copies", make);
      first.list.push(3);
      first.nested.a = 2;
      first.at.setTime(1);
      first.bytes[0] = 9;
      const second = await prisma.$cache.getOrSet("copies", make);
      expect(second).toEqual(make());
      second.list.push(4);
      expect(await prisma.$cache.getOrSet("copies", make)).toEqual(make());
    });

    it("an error thrown by fn reaches the caller unchanged and is not cached", async () => {
      const { prisma } = await client();
      const boom = new Error("boom");
      await expect(
        prisma.$cache.getOrSet("fails-once", () => {
          throw boom;
        }),
      ).rejects.toBe(boom);
      await expect(prisma.$cache.getOrSet("fails-once", () => Promise.reject(boom))).rejects.toBe(boom);
      const fn = counted(() => "ok");
      expect(await prisma.$cache.getOrSet("fails-once", fn)).toBe("ok");
      expect(await prisma.$cache.getOrSet("fails-once", fn)).toBe("ok");
      expect(fn.calls).toBe(1);
    });

    it("undefined is returned, never cached, and reported as E_UNCACHEABLE (return null to cache nothing)", async () => {
      const { prisma, log } = await client();
      const fn = counted((): string | undefined => undefined);
      expect(await prisma.$cache.getOrSet("undefined", fn)).toBeUndefined();
      expect(await prisma.$cache.getOrSet("undefined", fn)).toBeUndefined();
      expect(fn.calls).toBe(2);
      expect(log.codes()).toEqual(["E_UNCACHEABLE", "E_UNCACHEABLE"]);
      expect(log.errors[0]).toBeInstanceOf(CacheError);
      expect(log.errors[0]?.message).toMatch(/getOrSet\("undefined"\).*Return null/);
      // A defined value under the same key is then cached as usual.
      expect(await prisma.$cache.getOrSet("undefined", () => "defined")).toBe("defined");
      expect(await prisma.$cache.getOrSet("undefined", fn)).toBe("defined");
      expect(fn.calls).toBe(2);
    });
  });

  describe("invalid calls reject (fn never runs)", () => {
    it("a bad key, fn, option, duration, tag, model or context", async () => {
      const { prisma } = await client();
      const fn = counted(() => 1);
      const cases: Array<[Promise<unknown>, string, RegExp]> = [
        [prisma.$cache.getOrSet("", fn), "E_INVALID_KEY", /key is an empty string.*non-empty string/],
        [prisma.$cache.getOrSet(42 as unknown as string, fn), "E_INVALID_KEY", /key is number/],
        [prisma.$cache.getOrSet(undefined as unknown as string, fn), "E_INVALID_KEY", /key is undefined/],
        [
          prisma.$cache.getOrSet("k", "not a function" as unknown as () => number),
          "E_INVALID_OPTION",
          /fn is string.*Pass the function/,
        ],
        [
          prisma.$cache.getOrSet("k", fn, { tll: 5 } as never),
          "E_INVALID_OPTION",
          /`getOrSet\.tll` is not an option\. Known: ttl, negativeTtl, swr, staleWhileRevalidate, jitter, earlyRefresh, tags, models, context/,
        ],
        [prisma.$cache.getOrSet("k", fn, { ttl: -1 }), "E_INVALID_OPTION", /`getOrSet\.ttl` is -1/],
        [
          prisma.$cache.getOrSet("k", fn, { negativeTtl: "soon" as never }),
          "E_INVALID_OPTION",
          /`getOrSet\.negativeTtl`/,
        ],
        [prisma.$cache.getOrSet("k", fn, "fast" as never), "E_INVALID_OPTION", /options is string/],
        [prisma.$cache.getOrSet("k", fn, { tags: ["has space"] }), "E_INVALID_TAG", /getOrSet\.tags\[0\]/],
        [prisma.$cache.getOrSet("k", fn, { tags: ["m:User"] }), "E_INVALID_TAG", /reserved/],
        [prisma.$cache.getOrSet("k", fn, { models: ["Nope"] }), "E_INVALID_OPTION", /`Nope`.*Known models/],
        [
          prisma.$cache.getOrSet("k", fn, { context: ["fr"] as never }),
          "E_INVALID_OPTION",
          /`getOrSet\.context` is an array/,
        ],
        [
          prisma.$cache.getOrSet("k", fn, { context: { locale: { code: "fr" } } as never }),
          "E_INVALID_OPTION",
          /`getOrSet\.context\.locale` is object/,
        ],
      ];
      for (const [promise, code, message] of cases) await expectCacheError(promise, code, message);
      expect(fn.calls).toBe(0);
    });
  });
}

describeWith(["postgres"], "getOrSet: postgres, in-process tier only", () => {
  const env = new Env(false);
  beforeAll(() => env.start());
  afterAll(() => env.stop());
  describeComputations(env);
});

describeWith(["postgres", "redis"], "getOrSet: postgres + redis", () => {
  const env = new Env(true);
  beforeAll(() => env.start());
  afterAll(() => env.stop());
  describeComputations(env);

  describe("shared through Redis", () => {
    it("two instances sharing Redis: B gets A's value without running fn", async () => {
      const a = await env.client();
      const b = await env.client({}, a.prefix);
      const fn = counted((run) => ({ run }));
      expect(await a.prisma.$cache.getOrSet("shared-redis", fn)).toEqual({ run: 1 });
      await a.prisma.$cache.settled();
      expect(await b.prisma.$cache.getOrSet("shared-redis", fn)).toEqual({ run: 1 });
      expect(fn.calls).toBe(1);
      expect(b.prisma.$cache.stats()).toMatchObject({ l2Hits: 1, misses: 0 });
    });

    it("a write to a declared model on one instance kills the entry on the other", async () => {
      const a = await env.client();
      const b = await env.client({}, a.prefix);
      const id = await env.user("shared-before");
      const name = async () => (await env.bare.user.findUnique({ where: { id } }))?.name;
      expect(await a.prisma.$cache.getOrSet("shared-model", name, { models: ["User"] })).toBe("shared-before");
      await a.prisma.$cache.settled();
      expect(await b.prisma.$cache.getOrSet("shared-model", name, { models: ["User"] })).toBe("shared-before");
      await b.prisma.user.update({ where: { id }, data: { name: "shared-after" } });
      expect(await a.prisma.$cache.getOrSet("shared-model", name, { models: ["User"] })).toBe("shared-after");
    });

    it("Date, BigInt, Decimal and bytes come back from Redis with their types and values", async () => {
      const a = await env.client();
      const b = await env.client({}, a.prefix);
      const value = {
        at: new Date("2024-02-29T12:34:56.789Z"),
        big: 9_007_199_254_740_993_123n,
        price: new Prisma.Decimal("12345678901234567890.123456789"),
        bytes: new Uint8Array([0, 255]),
        nested: [{ when: new Date(0) }],
      };
      await a.prisma.$cache.getOrSet("typed", () => value);
      await a.prisma.$cache.settled();
      const fn = counted(() => value);
      const shared = await b.prisma.$cache.getOrSet("typed", fn);
      expect(fn.calls).toBe(0);
      expect(shared.at).toBeInstanceOf(Date);
      expect(shared.at.toISOString()).toBe("2024-02-29T12:34:56.789Z");
      expect(typeof shared.big).toBe("bigint");
      expect(shared.big).toBe(9_007_199_254_740_993_123n);
      expect(Prisma.Decimal.isDecimal(shared.price)).toBe(true);
      expect(shared.price.toString()).toBe("12345678901234567890.123456789");
      expect(shared.bytes).toBeInstanceOf(Uint8Array);
      expect([...shared.bytes]).toEqual([0, 255]);
      expect(shared.nested[0]?.when).toBeInstanceOf(Date);
    });

    it("with context: false, instances in different contexts share the entry; with the default, they do not", async () => {
      const a = await env.client();
      const b = await env.client({}, a.prefix);
      b.scope.tenant = 2;
      const fn = counted((run) => run);
      await a.prisma.$cache.getOrSet("cross", fn, { context: false });
      await a.prisma.$cache.getOrSet("per-context", fn);
      await a.prisma.$cache.settled();
      expect(await b.prisma.$cache.getOrSet("cross", fn, { context: false })).toBe(1);
      expect(await b.prisma.$cache.getOrSet("per-context", fn)).toBe(3);
    });
  });
});
