/**
 * Invalidation across instances (consistency contract, items 1 and 2 with
 * the shared tier): two application instances, each its own PrismaClient,
 * its own ioredis connection and its own in-process tier, sharing a Redis
 * prefix. When a write through one resolves, the other no longer serves
 * what it changed, not even from its in-process tier.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CachedPrisma } from "../helpers/clients.js";
import { describeFillRace } from "../helpers/invalidation/fill-race.js";
import { InvalidationEnv, observe, unique, type Read } from "../helpers/invalidation/harness.js";
import { holdableBus, resolvesOnlyAfter } from "../helpers/invalidation/held-bus.js";
import { DATABASE_URL, postgresReachable, redactUrl, REDIS_URL, redisReachable, skipWithoutService } from "../helpers/services.js";
import { postgresTarget } from "../helpers/targets.js";

const missingPostgres = skipWithoutService(`Postgres at ${redactUrl(DATABASE_URL)}`, await postgresReachable());
const missingRedis = skipWithoutService(`Redis at ${redactUrl(REDIS_URL)}`, await redisReachable());

// Skips only outside CI, when a service is down (skipWithoutService throws in CI).
// Skipped only outside CI when a service is unreachable: skipWithoutService warns then; in CI it throws.
describe.skipIf(missingPostgres || missingRedis)("invalidation across instances: postgres + redis", () => {
  const env = new InvalidationEnv(postgresTarget({ redis: true }));
  beforeAll(() => env.start());
  afterAll(() => env.stop());

  describeFillRace(env);

  describe("every instance (contract item 1)", () => {
    /** `count` instances on one prefix, each its own PrismaClient and Redis connection, created in that order. */
    async function instances(count: number, prefix = env.newPrefix()) {
      const created = [];
      for (let i = 0; i < count; i++) created.push(await env.instance({ over: env.connect(), prefix }));
      return created;
    }

    /** Reads `read` on `instance` until its in-process tier answers it; returns the value. */
    async function cacheInProcess<T>(instance: Awaited<ReturnType<typeof instances>>[number], read: Read<T>): Promise<T> {
      await read(instance.prisma);
      const hits = instance.prisma.$cache.stats().l1Hits;
      const { value, fromDatabase } = await observe(instance, read);
      expect(fromDatabase).toBe(false);
      expect(instance.prisma.$cache.stats().l1Hits, "the repeat was an in-process hit").toBe(hits + 1);
      return value;
    }

    it("a write through A resolves only when B's in-process tier no longer serves the old row: B's next read is new, from the database", async () => {
      const w = await env.world("instances");
      const [a, b] = await instances(2);
      const read: Read<unknown> = (p: CachedPrisma) => p.user.findUnique({ where: { id: w.users.carol }, select: { name: true }, cache: true });
      const list: Read<unknown> = (p: CachedPrisma) => p.user.findMany({ where: { tenantId: w.tenantId }, select: { name: true }, orderBy: { id: "asc" }, cache: true });
      expect(await cacheInProcess(b!, read)).toEqual({ name: "Carol" });
      await cacheInProcess(b!, list);

      await a!.prisma.user.update({ where: { id: w.users.carol }, data: { name: "Renamed" } });

      expect(await observe(b!, read)).toEqual({ value: { name: "Renamed" }, fromDatabase: true });
      expect(await observe(b!, list)).toEqual({ value: [{ name: "Alice" }, { name: null }, { name: "Renamed" }], fromDatabase: true });
    });

    it("with three instances, a write through one invalidates both others' in-process tiers", async () => {
      const w = await env.world("three");
      const [a, b, c] = await instances(3);
      const read: Read<unknown> = (p: CachedPrisma) => p.post.findUnique({ where: { id: w.posts.welcome }, select: { views: true }, cache: true });
      for (const instance of [a!, b!, c!]) await cacheInProcess(instance, read);

      // A is the oldest instance: it heard B and C announce themselves when they started.
      await a!.prisma.post.update({ where: { id: w.posts.welcome }, data: { views: { increment: 1 } } });

      for (const instance of [b!, c!]) expect((await observe(instance, read)).value).toEqual({ views: 43 });
    });

    it("a write through A waits for a slow instance B to apply it: it resolves only after B's bus delivered it", async () => {
      const w = await env.world("slow-peer");
      const prefix = env.newPrefix();
      const [aRedis, bRedis] = [await env.connectRedis(), await env.connectRedis()];
      const [aBus, bBus] = [holdableBus(aRedis), holdableBus(bRedis)];
      const a = await env.instance({ over: env.connect(), prefix, redis: aRedis });
      const b = await env.instance({ over: env.connect(), prefix, redis: bRedis });
      const read: Read<unknown> = (p: CachedPrisma) => p.user.findUnique({ where: { id: w.users.carol }, select: { name: true }, cache: true });
      await cacheInProcess(b, read);

      const waited = await resolvesOnlyAfter(aBus, bBus, () => a.prisma.user.update({ where: { id: w.users.carol }, data: { name: "Renamed" } }));
      expect(waited, "the write resolved before B had applied it").toBe(true);

      expect(await observe(b, read)).toEqual({ value: { name: "Renamed" }, fromDatabase: true });
    });

    it("custom tags: a read tagged on B is invalidated by prisma.$cache.invalidate({ tags }) on A", async () => {
      const w = await env.world("instances-tags");
      const [a, b] = await instances(2);
      const tag = unique("front-page");
      const frontPage: Read<unknown> = (p: CachedPrisma) => p.post.findMany({ where: { tenantId: w.tenantId, published: true }, select: { title: true }, orderBy: { id: "asc" }, cache: { tags: [tag] } });
      expect(await cacheInProcess(b!, frontPage)).toEqual([{ title: "Welcome" }, { title: "Bob's post" }, { title: "Orphan" }]);
      // Behind the cache's back, as another service would: only the explicit invalidation can tell B.
      await env.bare.post.update({ where: { id: w.posts.orphan }, data: { published: false } });

      await a!.prisma.$cache.invalidate({ tags: [tag] });

      expect(await observe(b!, frontPage)).toEqual({ value: [{ title: "Welcome" }, { title: "Bob's post" }], fromDatabase: true });
    });

    it("invalidateModels on A reaches B's in-process tier", async () => {
      const w = await env.world("instances-models");
      const [a, b] = await instances(2);
      const read: Read<unknown> = (p: CachedPrisma) => p.comment.count({ where: { postId: w.posts.welcome }, cache: true });
      expect(await cacheInProcess(b!, read)).toBe(2);
      await env.bare.comment.deleteMany({ where: { postId: w.posts.welcome } });

      await a!.prisma.$cache.invalidateModels(["Comment"]);

      expect(await observe(b!, read)).toEqual({ value: 0, fromDatabase: true });
    });

    it("a writer that joined after the reader's last heartbeat: B's in-process tier does not serve the old row once A's write resolved", async () => {
      const w = await env.world("late-writer");
      const prefix = env.newPrefix();
      // A long lease: the next heartbeat comes seconds later, after the write.
      const busLease = "5s";
      const redis = await env.connectRedis();
      const bus = holdableBus(redis);
      const b = await env.instance({ over: env.connect(), prefix, redis, busLease });
      const read: Read<unknown> = (p: CachedPrisma) => p.user.findUnique({ where: { id: w.users.carol }, select: { name: true }, cache: true });
      await cacheInProcess(b, read);
      const a = await env.instance({ over: env.connect(), prefix, busLease });

      bus.hold();
      try {
        await a.prisma.user.update({ where: { id: w.users.carol }, data: { name: "Renamed" } });
        expect((await observe(b, read)).value).toEqual({ name: "Renamed" });
      } finally {
        bus.release();
      }
    });
  });
});
