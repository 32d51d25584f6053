/**
 * `prisma.$cache.metrics()`: labelled counters that move with real traffic
 * and add up to the global ones, histograms, hot keys, evictions and
 * invalidations by cause; and per-query info (`withInfo`). Real Postgres and
 * Redis through a real Prisma client; the clock is the test's (FakeClock).
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import type { FullMetricsSnapshot } from "../../src/index.js";
import { describeWith } from "../helpers/describe-with.js";
import { Harness } from "../helpers/harness.js";
import { privateRedisServers } from "../helpers/redis-server.js";
import { postgresTarget } from "../helpers/targets.js";

/** The labelled reads of one (model, operation) summed over its shape groups. */
function readsOf(snapshot: FullMetricsSnapshot, model: string, operation: string) {
  const sum = { scope: 0, l1: 0, l2: 0, db: 0, bypass: 0 };
  for (const shape of snapshot.shapes)
    if (shape.model === model && shape.operation === operation)
      for (const tier of Object.keys(sum) as (keyof typeof sum)[]) sum[tier] += shape.reads[tier];
  return sum;
}

describeWith(["postgres", "redis"], "metrics: postgres + redis", () => {
  const env = new Harness(postgresTarget({ redis: true }));
  beforeAll(() => env.start());
  afterAll(() => env.stop());

  it("labelled counters move with each read, per tier, and add up to the global counters", async () => {
    const w = await env.world("metrics-labels");
    const { prisma } = await env.client({ metrics: true });
    const byId = (id: number) => prisma.user.findUnique({ where: { id }, select: { name: true }, cache: true });

    await byId(w.users.alice); // miss
    await byId(w.users.alice); // l1
    await byId(w.users.alice); // l1
    await byId(w.users.bob); // miss: same shape, other key
    await prisma.$cache.settled();
    prisma.$cache.clearLocal();
    await byId(w.users.bob); // l2 (Redis holds it; the in-process tier was cleared)
    await prisma.user.findMany({ where: { tenantId: w.tenantId }, select: { id: true } }); // not cached
    await prisma.user.findFirst({ where: { name: "metrics-secret-name" }, cache: true }); // a miss (null, cached)
    await prisma.$transaction([byId(w.users.alice)]); // inside a batch transaction: a bypass

    const snapshot = prisma.$cache.metrics();
    expect(snapshot.labelled).toBe(true);
    expect(readsOf(snapshot, "User", "findUnique")).toEqual({ scope: 0, l1: 2, l2: 1, db: 2, bypass: 1 });
    const byIdShapes = snapshot.shapes.filter(
      (shape) => shape.operation === "findUnique" && shape.shape !== "uncached",
    );
    expect(byIdShapes, "both ids are one shape group").toHaveLength(1);
    const shape = byIdShapes[0]!;
    expect(shape.shape).toMatch(/^[\w-]{10}$/);
    expect(JSON.stringify(snapshot), "no argument value in any label").not.toContain("metrics-secret-name");
    expect(shape.missMs.count).toBe(2);
    expect(shape.missMs.p50).toBeGreaterThan(0);
    expect(shape.entryBytes.count).toBe(2);
    expect(shape.entryBytes.p99).toBeGreaterThanOrEqual(shape.entryBytes.p50);
    expect(readsOf(snapshot, "User", "findMany").bypass, "a read without opt-in counts as bypass").toBe(1);
    expect(snapshot.shapes.find((s) => s.operation === "findUnique" && s.shape === "uncached")?.reads.bypass).toBe(1);

    // Every labelled counter adds up to its global counter.
    const sum = (tier: "l1" | "l2" | "db" | "bypass") =>
      snapshot.shapes.reduce((total, entry) => total + entry.reads[tier], 0);
    expect(sum("l1")).toBe(snapshot.totals.l1Hits);
    expect(sum("l2")).toBe(snapshot.totals.l2Hits);
    expect(sum("db")).toBe(snapshot.totals.misses);
    expect(sum("bypass")).toBe(snapshot.totals.bypassed);
    expect(snapshot.latency.l2.count, "every Redis hit is timed").toBe(1);
    expect(snapshot.latency.db.count, "every database read of a miss is timed").toBe(3);
    // In-process hits are timed on a sample (about 1 in 16): some of 320, never more than were made.
    for (let i = 0; i < 320; i++) await byId(w.users.alice);
    const { latency } = prisma.$cache.metrics();
    expect(latency.l1.count).toBeGreaterThan(0);
    expect(latency.l1.count).toBeLessThan(100);
    expect(latency.l1.p99).toBeLessThan(latency.db.p99);
  });

  it("without `metrics`, the snapshot still has the totals, evictions and invalidations by cause, and no labels", async () => {
    const w = await env.world("metrics-off");
    const { prisma } = await env.client({ l1: { maxEntries: 2 } });
    for (const id of [w.users.alice, w.users.bob, w.users.carol])
      await prisma.user.findUnique({ where: { id }, select: { name: true }, cache: true });
    await prisma.user.update({ where: { id: w.users.alice }, data: { name: "alice 2" }, select: { id: true } });
    await prisma.$cache.invalidate({ tags: ["reports"] });

    const snapshot = prisma.$cache.metrics();
    expect(snapshot.labelled).toBe(false);
    expect(snapshot.shapes).toEqual([]);
    expect(snapshot.latency.l1.count).toBe(0);
    expect(snapshot.totals.misses).toBe(3);
    expect(snapshot.evictions.evict, "a third entry in a tier of two evicts one").toBe(1);
    expect(snapshot.invalidations.write).toBeGreaterThan(0);
    expect(snapshot.invalidations.api).toBe(1);
    expect(snapshot.recentInvalidations[0]).toMatchObject({ cause: "api", tags: ["reports"] });
    expect(snapshot.recentInvalidations[1]?.cause).toBe("write");
  });

  it("an invalidation heard from another instance counts as `bus`", async () => {
    const w = await env.world("metrics-bus");
    const writer = await env.instance();
    const reader = await env.instance({ prefix: writer.prefix });
    await reader.prisma.$cache.ready();
    await writer.prisma.$cache.ready();
    await writer.prisma.user.update({ where: { id: w.users.bob }, data: { name: "bob 2" }, select: { id: true } });
    expect(reader.prisma.$cache.metrics().invalidations.bus).toBeGreaterThan(0);
    expect(writer.prisma.$cache.metrics().invalidations.bus).toBe(0);
  });

  it("hot keys: the key read most is first, hashed; hot shapes rank by rate", async () => {
    const w = await env.world("metrics-hot");
    const { prisma, clock } = await env.client({ metrics: { hotKeys: 8, window: "10s" } });
    const byId = (id: number) => prisma.user.findUnique({ where: { id }, select: { name: true }, cache: true });
    for (let i = 0; i < 400; i++) await byId(w.users.alice);
    for (let i = 0; i < 20; i++) await byId(w.users.bob);
    for (let i = 0; i < 20; i++) await prisma.post.findMany({ where: { authorId: w.users.bob }, cache: true });
    clock.advance(1_000);
    const { hot } = prisma.$cache.metrics();
    expect(hot.keys[0]).toMatchObject({ model: "User", operation: "findUnique" });
    expect(hot.keys[0]!.key).toMatch(/^[\w-]{16}$/);
    // In-process hits are sampled (about 1 in 16): 400 reads over 1 s, within a wide margin.
    expect(hot.keys[0]!.rate).toBeGreaterThan(200);
    expect(hot.keys[0]!.rate).toBeLessThan(700);
    expect(hot.shapes[0]).toMatchObject({ model: "User", operation: "findUnique" });
    expect(hot.shapes[1]).toMatchObject({ model: "Post", operation: "findMany" });
    // Two windows later with no reads, the sketch has decayed.
    clock.advance(40_000);
    expect(prisma.$cache.metrics().hot.keys.every((entry) => entry.rate < 30)).toBe(true);
  });

  it("withInfo says which tier answered, whether stale, the entry's age, its shape and tags", async () => {
    const w = await env.world("metrics-info");
    const { prisma, clock } = await env.client({ metrics: true, defaults: { ttl: 10, swr: 60 } });
    const read = () => prisma.user.findUnique({ where: { id: w.users.carol }, select: { name: true }, cache: true });

    const first = await prisma.$cache.withInfo(read());
    expect(first.data).toEqual({ name: expect.any(String) });
    expect(first.info).toMatchObject({ answeredBy: "db", stale: false, ageMs: 0 });
    expect(first.info.tags[0]).toMatch(/^q:/);
    clock.advance(3_000);
    const second = await prisma.$cache.withInfo(read());
    expect(second.data).toEqual(first.data);
    expect(second.info).toMatchObject({ answeredBy: "l1", stale: false, ageMs: 3_000, shape: first.info.shape });
    expect(second.info.shape).toBe(prisma.$cache.metrics().shapes.find((s) => s.operation === "findUnique")?.shape);
    clock.advance(10_000);
    expect((await prisma.$cache.withInfo(read())).info).toMatchObject({ answeredBy: "l1", stale: true });
    await prisma.$cache.settled();
    prisma.$cache.clearLocal();
    expect((await prisma.$cache.withInfo(read())).info.answeredBy).toBe("l2");

    const uncached = await prisma.$cache.withInfo(prisma.user.findUnique({ where: { id: w.users.carol } }));
    expect(uncached.info).toMatchObject({ answeredBy: "bypass", shape: undefined, tags: [] });
    expect(uncached.data?.id).toBe(w.users.carol);
    const scoped = await prisma.$cache.scope(async () => {
      await read();
      return prisma.$cache.withInfo(read());
    });
    expect(scoped.info.answeredBy).toBe("scope");
  });
});

describeWith(["postgres", "redis-server"], "metrics under a frozen Redis: postgres + private redis-server", () => {
  const env = new Harness(postgresTarget({ redis: false }));
  beforeAll(() => env.start());
  const startServer = privateRedisServers(() => env.stop());

  it("a Redis that stops answering shows as timeouts and l2 errors, by code, while reads still answer", async () => {
    const w = await env.world("metrics-frozen");
    const server = await startServer();
    const redis = await env.connectRedis(server.url);
    const { prisma } = await env.instance({ redis, l1: false, redisTimeout: "100ms", breaker: false });
    await prisma.$cache.ready();
    server.pause();
    try {
      const user = await prisma.user.findUnique({ where: { id: w.users.alice }, select: { id: true }, cache: true });
      expect(user).toEqual({ id: w.users.alice });
    } finally {
      server.resume();
    }
    const snapshot = prisma.$cache.metrics();
    expect(snapshot.timeouts).toBeGreaterThan(0);
    expect(snapshot.errors.E_REDIS).toBeGreaterThanOrEqual(snapshot.timeouts);
    expect(snapshot.errorsByTier.l2).toBe(snapshot.totals.errors - snapshot.errorsByTier.other);
    expect(snapshot.errorsByTier.l1 + snapshot.errorsByTier.db).toBe(0);
  });
});
