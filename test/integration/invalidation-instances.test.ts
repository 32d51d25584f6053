/**
 * Invalidation across instances (consistency contract, items 1 and 2 with
 * the shared tier): two application instances, each its own PrismaClient,
 * its own ioredis connection and its own in-process tier, sharing a Redis
 * prefix. When a write through one resolves, the other no longer serves
 * what it changed, not even from its in-process tier.
 */
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeWith } from "../helpers/describe-with.js";
import type { CachedPrisma } from "../helpers/clients.js";
import { describeFillRace } from "../suites/invalidation/fill-race.js";
import { Harness, observe, unique, type InstanceOptions, type Read } from "../helpers/harness.js";
import { holdableBus, readRightAfter, resolvesOnlyAfter, type HeldBus } from "../helpers/held-bus.js";
import { deleteKeysUnder } from "../helpers/services.js";
import { postgresTarget } from "../helpers/targets.js";

describeWith(["postgres", "redis"], "invalidation across instances: postgres + redis", () => {
  const env = new Harness(postgresTarget({ redis: true }));
  beforeAll(() => env.start());
  afterAll(() => env.stop());

  describeFillRace(env);

  /**
   * A and B on one prefix, each its own PrismaClient, connection and
   * holdable bus; B holds Carol's row in its in-process tier.
   */
  async function holdablePair(label: string, options: InstanceOptions = {}) {
    const w = await env.world(label);
    const prefix = env.newPrefix();
    const [aRedis, bRedis] = [await env.connectRedis(), await env.connectRedis()];
    const [aBus, bBus] = [holdableBus(aRedis), holdableBus(bRedis)];
    const a = await env.instance({ ...options, over: env.connect(), prefix, redis: aRedis });
    const b = await env.instance({ ...options, over: env.connect(), prefix, redis: bRedis });
    const read: Read<unknown> = (p: CachedPrisma) =>
      p.user.findUnique({ where: { id: w.users.carol }, select: { name: true }, cache: true });
    await read(b.prisma);
    expect(await observe(b, read), "precondition: an in-process hit on B").toEqual({
      value: { name: "Carol" },
      fromDatabase: false,
    });
    return { w, prefix, a, b, aBus, bBus, read };
  }

  describe("every instance (contract item 1)", () => {
    /** `count` instances on one prefix, each its own PrismaClient and Redis connection, created in that order. */
    async function instances(count: number, prefix = env.newPrefix()) {
      const created = [];
      for (let i = 0; i < count; i++) created.push(await env.instance({ over: env.connect(), prefix }));
      return created;
    }

    /** Reads `read` on `instance` until its in-process tier answers it; returns the value. */
    async function cacheInProcess<T>(
      instance: Awaited<ReturnType<typeof instances>>[number],
      read: Read<T>,
    ): Promise<T> {
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
      const read: Read<unknown> = (p: CachedPrisma) =>
        p.user.findUnique({ where: { id: w.users.carol }, select: { name: true }, cache: true });
      const list: Read<unknown> = (p: CachedPrisma) =>
        p.user.findMany({
          where: { tenantId: w.tenantId },
          select: { name: true },
          orderBy: { id: "asc" },
          cache: true,
        });
      expect(await cacheInProcess(b!, read)).toEqual({ name: "Carol" });
      await cacheInProcess(b!, list);

      await a!.prisma.user.update({ where: { id: w.users.carol }, data: { name: "Renamed" } });

      expect(await observe(b!, read)).toEqual({ value: { name: "Renamed" }, fromDatabase: true });
      expect(await observe(b!, list)).toEqual({
        value: [{ name: "Alice" }, { name: null }, { name: "Renamed" }],
        fromDatabase: true,
      });
    });

    it("with three instances, a write through one invalidates both others' in-process tiers", async () => {
      const w = await env.world("three");
      const [a, b, c] = await instances(3);
      const read: Read<unknown> = (p: CachedPrisma) =>
        p.post.findUnique({ where: { id: w.posts.welcome }, select: { views: true }, cache: true });
      for (const instance of [a!, b!, c!]) await cacheInProcess(instance, read);

      // A is the oldest instance: it heard B and C announce themselves when they started.
      await a!.prisma.post.update({ where: { id: w.posts.welcome }, data: { views: { increment: 1 } } });

      for (const instance of [b!, c!]) expect((await observe(instance, read)).value).toEqual({ views: 43 });
    });

    it("a write through A waits for a slow instance B to apply it: it resolves only after B's bus delivered it", async () => {
      const { w, a, b, aBus, bBus, read } = await holdablePair("slow-peer");

      const waited = await resolvesOnlyAfter(aBus, bBus, () =>
        a.prisma.user.update({ where: { id: w.users.carol }, data: { name: "Renamed" } }),
      );
      expect(waited, "the write resolved before B had applied it").toBe(true);

      expect(await observe(b, read)).toEqual({ value: { name: "Renamed" }, fromDatabase: true });
    });

    it("custom tags: a read tagged on B is invalidated by prisma.$cache.invalidate({ tags }) on A", async () => {
      const w = await env.world("instances-tags");
      const [a, b] = await instances(2);
      const tag = unique("front-page");
      const frontPage: Read<unknown> = (p: CachedPrisma) =>
        p.post.findMany({
          where: { tenantId: w.tenantId, published: true },
          select: { title: true },
          orderBy: { id: "asc" },
          cache: { tags: [tag] },
        });
      expect(await cacheInProcess(b!, frontPage)).toEqual([
        { title: "Welcome" },
        { title: "Bob's post" },
        { title: "Orphan" },
      ]);
      // Behind the cache's back, as another service would: only the explicit invalidation can tell B.
      await env.bare.post.update({ where: { id: w.posts.orphan }, data: { published: false } });

      await a!.prisma.$cache.invalidate({ tags: [tag] });

      expect(await observe(b!, frontPage)).toEqual({
        value: [{ title: "Welcome" }, { title: "Bob's post" }],
        fromDatabase: true,
      });
    });

    it("invalidateModels on A reaches B's in-process tier", async () => {
      const w = await env.world("instances-models");
      const [a, b] = await instances(2);
      const read: Read<unknown> = (p: CachedPrisma) =>
        p.comment.count({ where: { postId: w.posts.welcome }, cache: true });
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
      const read: Read<unknown> = (p: CachedPrisma) =>
        p.user.findUnique({ where: { id: w.users.carol }, select: { name: true }, cache: true });
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

  /**
   * The bus member list (`<prefix>bus:members`) can vanish: a FLUSHDB, or an
   * eviction (it has a TTL, so `volatile-*` policies may pick it). A writer
   * that then finds nobody listed must still not resolve before the other
   * instances heard it. A 30 s lease keeps every instance from heartbeating
   * (and so re-registering) during a test: the list stays as the loss left it.
   */
  describe("read-your-writes on every instance after the bus member list was lost (contract item 1)", () => {
    const busLease = "30s";

    /** {@link holdablePair} with the long lease, both instances listed. */
    async function pairWithCachedRow(label: string) {
      const { w, prefix, a, b, aBus, bBus, read } = await holdablePair(label, { busLease });
      await b.prisma.$cache.settled();
      const admin = await env.connectRedis();
      const membersKey = `${prefix}bus:members`;
      expect(
        await admin.zrangebyscore(membersKey, "(0", "+inf"),
        "precondition: both instances are listed",
      ).toHaveLength(2);
      return { w, prefix, a, b, aBus, bBus, read, admin, membersKey };
    }

    it.each([
      ["the members key alone is deleted (DEL)", (admin: Redis, prefix: string) => admin.del(`${prefix}bus:members`)],
      [
        "every key of the prefix is deleted, as by FLUSHDB (members, tag versions, entries)",
        (admin: Redis, prefix: string) => deleteKeysUnder(admin, prefix),
      ],
    ])(
      "read-your-writes on every instance (contract item 1) when %s: B's read right after A's write resolved returns the new row",
      async (_, lose) => {
        const { prefix, a, b, aBus, bBus, read, admin, membersKey, w } = await pairWithCachedRow("lost-members");
        await lose(admin, prefix);
        expect(await admin.exists(membersKey), "precondition: the member list is gone").toBe(0);

        const after = await readRightAfter(
          aBus,
          bBus,
          () => a.prisma.user.update({ where: { id: w.users.carol }, data: { name: "Renamed" } }),
          () => observe(b, read),
        );
        expect(after.value, "B's read right after the write resolved").toEqual({ name: "Renamed" });
      },
    );

    it("read-your-writes on every instance (contract item 1): members still listed that no longer listen (crashed) do not stand in for a live one the lost list forgot", async () => {
      const { a, b, aBus, bBus, read, admin, membersKey, w } = await pairWithCachedRow("ghost-members");
      await admin.del(membersKey);
      // After the loss, two instances re-registered and crashed at once; their entries outlive them by 500 ms.
      // Two listed, two subscribers (A and B): comparing head counts alone would let the write go when those
      // 500 ms ran out, B not heard from (B is released after 1 s).
      const [seconds, micros] = await admin.time();
      const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
      await admin.zadd(membersKey, now + 500, "crashed-1", now + 500, "crashed-2");

      const after = await readRightAfter(
        aBus,
        bBus,
        () => a.prisma.user.update({ where: { id: w.users.carol }, data: { name: "Renamed" } }),
        () => observe(b, read),
        1_000,
      );
      expect(after.value, "B's read right after the write resolved").toEqual({ name: "Renamed" });
    });

    it("a fresh prefix whose instances have all heartbeated: a write waits for their acknowledgements only, not out the young list's lease", async () => {
      const { a, b, read, admin, membersKey, w } = await pairWithCachedRow("fresh-prefix");
      expect(await admin.zscore(membersKey, "#born"), "precondition: the list records its birth").not.toBeNull();

      const started = performance.now();
      await a.prisma.user.update({ where: { id: w.users.carol }, data: { name: "Renamed" } });
      const took = performance.now() - started;

      // Waiting out the list's youth would take nearly the whole 30 s lease; acknowledgements take milliseconds.
      expect(took, "the write's duration, in ms").toBeLessThan(15_000);
      expect(await observe(b, read)).toEqual({ value: { name: "Renamed" }, fromDatabase: true });
    });
  });
  describe("closing an instance drops no invalidation (contract items 1 and 3)", () => {
    /** {@link holdablePair}, and a write through A renaming Carol. */
    async function pair(label: string) {
      const paired = await holdablePair(label);
      const rename = (name: string) =>
        paired.a.prisma.user.update({ where: { id: paired.w.users.carol }, data: { name } });
      return { ...paired, rename };
    }

    /** Runs `write` with B's bus held for `holdMs`, then reads on B the moment the write resolved. */
    async function readOnBRightAfter<T>(
      bBus: HeldBus,
      write: () => PromiseLike<unknown>,
      read: () => PromiseLike<T>,
      holdMs = 200,
    ): Promise<T> {
      bBus.hold();
      const reading = Promise.resolve(write()).then(read);
      setTimeout(() => bBus.release(), holdMs);
      return reading;
    }

    it("a transaction still open when its instance closes: its commit invalidates every instance", async () => {
      const { w, a, b, read } = await pair("close-in-transaction");
      await a.prisma.$transaction(async (tx) => {
        await tx.user.update({ where: { id: w.users.carol }, data: { name: "Committed" } });
        await a.prisma.$cache.close();
      });
      expect((await observe(b, read)).value).toEqual({ name: "Committed" });
    });

    it("a write still waiting for B when its instance closes resolves only once B applied it", async () => {
      const { a, b, aBus, bBus, read, rename } = await pair("close-during-write");
      bBus.hold();
      const reading = rename("Renamed").then(() => observe(b, read));
      await aBus.seen((message) => message.t === "inv");
      await a.prisma.$cache.close();
      setTimeout(() => bBus.release(), 200);
      expect((await reading).value, "B's read right after the write resolved").toEqual({ name: "Renamed" });
    });

    it("a write made after close() resolves only once B applied it (waiting out B's lease: acknowledgements are no longer heard)", async () => {
      const { a, b, bBus, read, rename } = await pair("write-after-close");
      await a.prisma.$cache.close();
      const after = await readOnBRightAfter(
        bBus,
        () => rename("After close"),
        () => observe(b, read),
      );
      expect(after.value, "B's read right after the write resolved").toEqual({ name: "After close" });
    });
  });
});
