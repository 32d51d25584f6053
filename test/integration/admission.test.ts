/**
 * Automatic admission (`admission: "auto"` / settings): a query shape whose
 * reads rarely hit is read from the database instead of through the tiers,
 * measured again after `retryAfter`; a shape that hits stays cached; a read
 * taken out of the cache is a plain query (it sees every write at once).
 * Real Postgres and Redis; the clock is the test's (FakeClock).
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { cacheExtension, type CacheExtensionOptions } from "../../src/index.js";
import { catchCacheError } from "../unit/support/cache-error.js";
import { describeWith } from "../helpers/describe-with.js";
import { Harness } from "../helpers/harness.js";
import { pollUntil } from "../helpers/poll.js";
import { privateRedisServers } from "../helpers/redis-server.js";
import { postgresTarget } from "../helpers/targets.js";

describeWith(["postgres", "redis"], "automatic admission: postgres + redis", () => {
  const env = new Harness(postgresTarget({ redis: true }));
  beforeAll(() => env.start());
  afterAll(() => env.stop());

  const WINDOW = 20;

  it("a shape whose keys never come back is taken out after 4 windows of reads; a shape read again and again stays cached, its first read not counted", async () => {
    const w = await env.world("admission");
    const client = await env.client({ admission: { window: WINDOW, minHitRatio: 0.5, retryAfter: "30s" } });
    const { prisma, database } = client;
    // Shape 1: every read a new key (a different `skip`): no read ever hits.
    const once = (i: number) =>
      prisma.user.findMany({ where: { tenantId: w.tenantId }, select: { id: true }, skip: i, take: 1, cache: true });
    // Shape 2: the same key again and again: every read after the first hits.
    const again = () => prisma.user.findUnique({ where: { id: w.users.alice }, select: { name: true }, cache: true });

    // First reads that miss are not counted (a cold start would otherwise take out every shape)...
    for (let i = 0; i < WINDOW; i++) await once(i);
    expect(prisma.$cache.admission()[0]).toMatchObject({ admitted: true, windowReads: 0, lastHitRatio: undefined });
    // ...until the shape has had 4 windows of reads: its keys do not come back, it is judged on all of them.
    for (let i = WINDOW; i < 4 * WINDOW; i++) await once(i);
    for (let i = 0; i <= WINDOW; i++) await again();
    const report = prisma.$cache.admission();
    const onceShape = report.find((shape) => shape.shape.includes("findMany"));
    const againShape = report.find((shape) => shape.shape.includes("findUnique"));
    expect(onceShape).toMatchObject({ admitted: false, lastHitRatio: 0, failedWindows: 1 });
    // Its first read (a miss) is not counted, the next WINDOW are hits.
    expect(againShape).toMatchObject({ admitted: true, lastHitRatio: 1, failedWindows: 0 });
    expect(onceShape?.shape, "a shape carries no argument values").not.toContain(String(w.tenantId));

    // Taken out: its reads go to the database without touching the tiers, and are counted as not admitted.
    const before = { ...prisma.$cache.stats() };
    const queriesBefore = database.queries;
    await once(0); // read (and filled) during the window: still a plain query now
    await once(1);
    const after = prisma.$cache.stats();
    expect(after.notAdmitted - before.notAdmitted).toBe(2);
    expect(database.queries - queriesBefore).toBe(2);
    expect(after.l1Hits + after.l2Hits + after.misses).toBe(before.l1Hits + before.l2Hits + before.misses);
    // The shape that hits is still served from the in-process tier.
    await again();
    expect(prisma.$cache.stats().l1Hits).toBe(after.l1Hits + 1);
  });

  it("a shape taken out sees a write behind the cache's back at once (a plain query), and is measured again after retryAfter", async () => {
    const w = await env.world("admission-retry");
    const client = await env.client({ admission: { window: WINDOW, minHitRatio: 0.5, retryAfter: "30s" } });
    const { prisma, clock } = client;
    // One list read again and again, each time after a write through the client that invalidates it (as every
    // favourite invalidates an app's article lists): every read a repeat, every repeat a miss. Taken out.
    const list = () =>
      prisma.user.findMany({
        where: { tenantId: w.tenantId },
        select: { name: true },
        orderBy: { id: "asc" },
        cache: true,
      });
    const invalidatingWrite = (i: number) =>
      prisma.user.update({ where: { id: w.users.bob }, data: { name: `bob ${i}` }, select: { id: true } });
    await list(); // its first read: not counted
    for (let i = 0; i < WINDOW; i++) {
      await invalidatingWrite(i);
      await list();
    }
    expect(prisma.$cache.admission()[0]).toMatchObject({ admitted: false, lastHitRatio: 0, failedWindows: 1 });

    // The last read stored the list and its entry is live; taken out, the read is a plain query and sees a change
    // made behind the cache's back at once.
    await env.bare.user.update({ where: { id: w.users.alice }, data: { name: "Renamed" } });
    expect((await list()).map((row) => row.name)).toContain("Renamed");

    clock.advance(30_001);
    const trial = prisma.$cache.admission()[0];
    expect(trial).toMatchObject({ admitted: true, windowReads: 0 });
    const notAdmitted = prisma.$cache.stats().notAdmitted;
    await invalidatingWrite(100);
    await list();
    expect(prisma.$cache.stats().notAdmitted, "the trial reads go through the tiers").toBe(notAdmitted);
    // Read while the shape was out, the list was never cached since: in the trial its first read is a first read.
    expect(prisma.$cache.admission()[0]).toMatchObject({ admitted: true, windowReads: 0 });

    // It fails again: the next trial waits twice as long.
    for (let i = 1; i <= WINDOW; i++) {
      await invalidatingWrite(100 + i);
      await list();
    }
    const failed = prisma.$cache.admission()[0];
    expect(failed).toMatchObject({ admitted: false, failedWindows: 2 });
    expect(failed?.retryAt).toBe(clock.now() + 60_000);
  });

  it("measures each shape's break-even hit ratio on its reads that loaded: a slow query's is far lower than a quick one's", async () => {
    const w = await env.world("admission-break-even");
    const client = await env.client({
      admission: { window: WINDOW, minHitRatio: 0.01, retryAfter: "30s" },
      // Posts take 60 ms more in the database; users are as quick as the database makes them.
      setup: { slowReads: (model) => (model === "Post" ? 60 : 0) },
    });
    const { prisma } = client;
    const quick = () => prisma.user.findUnique({ where: { id: w.users.alice }, select: { name: true }, cache: true });
    const slow = () => prisma.post.findUnique({ where: { id: w.posts.welcome }, select: { title: true }, cache: true });
    // Every counted read a repeat that loads (its entry invalidated before it), then one that hits: half hit.
    for (let i = 0; i < WINDOW; i++) {
      for (const read of [quick, slow]) {
        await prisma.$cache.invalidateModels(["User", "Post"]);
        await read();
        await read();
      }
    }
    const report = prisma.$cache.admission();
    const quickShape = report.find((shape) => shape.shape.startsWith("User|findUnique"));
    const slowShape = report.find((shape) => shape.shape.startsWith("Post|findUnique"));
    expect(quickShape?.lastHitRatio).toBeCloseTo(0.5, 1);
    expect(slowShape?.lastHitRatio).toBeCloseTo(0.5, 1);
    // What a miss adds over the 60 ms it loads for: a few percent (the quick shape's is larger).
    const seen = JSON.stringify([quickShape, slowShape]);
    expect(slowShape?.breakEvenHitRatio, seen).toBeGreaterThan(0);
    expect(slowShape?.breakEvenHitRatio, seen).toBeLessThan(0.25);
    expect(quickShape?.breakEvenHitRatio, seen).toBeGreaterThan(slowShape?.breakEvenHitRatio ?? 1);
    expect(quickShape?.breakEvenHitRatio, seen).toBeLessThan(1);
  });

  it('admission "all" (the default) measures nothing and takes nothing out', async () => {
    const w = await env.world("admission-all");
    const { prisma } = await env.client();
    for (let i = 0; i < 150; i++)
      await prisma.user.findMany({ where: { tenantId: w.tenantId }, skip: i, take: 1, cache: true });
    expect(prisma.$cache.admission()).toEqual([]);
    expect(prisma.$cache.stats()).toMatchObject({ notAdmitted: 0, misses: 150 });
  });

  it("bad admission settings are refused at $extends, naming the option and the fix", async () => {
    for (const [admission, message] of [
      ["sometimes", /admission.*"sometimes".*Pass "all".*"auto"/],
      [{ minHitRatio: 2 }, /admission\.minHitRatio.*between 0 and 1/],
      [{ window: 0 }, /admission\.window.*whole number/],
      [{ retryAfter: "soon" }, /admission\.retryAfter/],
      [{ minHitRate: 0.1 }, /minHitRate/],
    ] as const) {
      const error = catchCacheError(() => env.bare.$extends(cacheExtensionFor(admission)), "E_INVALID_OPTION");
      expect(error.message).toMatch(message);
    }
  });
});

function cacheExtensionFor(admission: unknown) {
  return cacheExtension({ admission } as CacheExtensionOptions);
}

describeWith(
  ["postgres", "redis-server"],
  "automatic admission while Redis is frozen: postgres + private redis-server",
  () => {
    const env = new Harness(postgresTarget({ redis: false }));
    beforeAll(() => env.start());
    const startServer = privateRedisServers(() => env.stop());

    it("reads that miss because Redis is frozen are not measured: no shape is taken out by an outage", async () => {
      const w = await env.world("admission-frozen");
      const server = await startServer();
      const instance = await env.instance({
        redis: await env.connectRedis(server.url),
        redisTimeout: "50ms",
        breaker: { failures: 3, openFor: "30s" },
        admission: { window: 5, minHitRatio: 0.5 },
      });
      await instance.prisma.$cache.ready();
      // One key read again and again: a hit every time while the cache works.
      const alice = () =>
        instance.prisma.user.findUnique({ where: { id: w.users.alice }, select: { email: true }, cache: true });
      await alice();
      server.pause();
      try {
        // Until the breaker opens, each read pays a Redis timeout; once open, every read goes to the database.
        await pollUntil(
          async () => {
            await instance.prisma.post.count({ where: { tenantId: w.tenantId }, cache: true });
            return instance.prisma.$cache.stats().breaker;
          },
          (state) => state === "open",
        );
        const queries = instance.database.queries;
        for (let i = 0; i < 20; i++) expect(await alice()).toEqual({ email: "alice@example.test" });
        expect(instance.database.queries - queries, "the outage makes every read a miss").toBe(20);
        // Four windows' worth of misses of a repeated key: measured, they would have taken the shape out.
        const shape = instance.prisma.$cache.admission().find((s) => s.shape.startsWith("User|findUnique"));
        expect(shape).toMatchObject({ admitted: true, failedWindows: 0 });
        expect(instance.prisma.$cache.stats().notAdmitted).toBe(0);
      } finally {
        server.resume();
      }
    });
  },
);
