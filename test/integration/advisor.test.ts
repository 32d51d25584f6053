/**
 * The caching advisor (`advisor: true`): on reads that are NOT cached, it
 * reports per query shape the hit ratio and database time caching would
 * give, and a suggested ttl. Checked against workloads whose answer is known,
 * through a real Prisma client on Postgres with Redis (writes through another
 * instance reach it over the bus). The clock is the test's (FakeClock).
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { cacheExtension, type AdvisorRow, type CacheExtensionOptions } from "../../src/index.js";
import { describeWith } from "../helpers/describe-with.js";
import { Harness } from "../helpers/harness.js";
import { postgresTarget } from "../helpers/targets.js";
import { catchCacheError } from "../unit/support/cache-error.js";

/** The row of the shape whose operation is `operation` on `model`. */
function rowOf(rows: readonly AdvisorRow[], model: string, operation: string): AdvisorRow {
  const row = rows.find((r) => r.model === model && r.operation === operation);
  if (row === undefined) throw new Error(`no advisor row for ${model}.${operation}: ${JSON.stringify(rows)}`);
  return row;
}

describeWith(["postgres", "redis"], "caching advisor: postgres + redis", () => {
  const env = new Harness(postgresTarget({ redis: true }));
  beforeAll(() => env.start());
  afterAll(() => env.stop());

  it("a known workload: A read 10x per key with no write -> 90% would hit; B never repeats -> 0%; C repeats only after writes to its model -> 0%", async () => {
    const w = await env.world("advisor-known");
    const { prisma, clock, database } = await env.client({ advisor: true });

    // A: three keys, each read ten times, 2 s apart (clock), no write in between.
    const users = [w.users.alice, w.users.bob, w.users.carol];
    for (let round = 0; round < 10; round++) {
      for (const id of users) await prisma.user.findUnique({ where: { id }, select: { name: true } });
      clock.advance(2_000);
    }
    // B: a new key every read.
    for (let i = 0; i < 20; i++)
      await prisma.post.findMany({ where: { tenantId: w.tenantId }, select: { id: true }, skip: i, take: 1 });
    // C: the same list read again and again, each time after a write to what it lists.
    const comments = () => prisma.comment.findMany({ where: { postId: w.posts.welcome }, select: { body: true } });
    await comments();
    for (let i = 0; i < 20; i++) {
      await prisma.comment.create({ data: { postId: w.posts.welcome, authorId: w.users.alice, body: `c${i}` } });
      await comments();
    }

    const report = prisma.$cache.advisor();
    expect(report).toMatchObject({ enabled: true, sample: 1, untrackedReads: 0 });
    const a = rowOf(report.rows, "User", "findUnique");
    expect(a).toMatchObject({ reads: 30, wouldHit: 27, invalidated: 0, hitRatio: 0.9, advice: "cache" });
    // Repeats came 2..18 s after their key's first read: 90% of them within 30 s.
    expect(a.suggestedTtlMs).toBe(30_000);
    expect(a.dbMs).toBeGreaterThan(0);
    expect(a.savedMs).toBeCloseTo(27 * a.dbMs, 6);
    // With Redis a miss is taken to add 0.3 ms: the three first reads would have cost that each.
    expect(report.missOverheadMs).toBe(0.3);
    expect(a.netMs).toBeCloseTo(27 * a.dbMs - 3 * 0.3, 6);
    expect(a.breakEvenHitRatio).toBeCloseTo(0.3 / (a.dbMs + 0.3), 9);
    expect(a.bytes).toBeGreaterThan(0);
    const b = rowOf(report.rows, "Post", "findMany");
    expect(b).toMatchObject({ reads: 20, wouldHit: 0, invalidated: 0, hitRatio: 0, advice: "skip", savedMs: 0 });
    expect(b.suggestedTtlMs).toBeUndefined();
    const c = rowOf(report.rows, "Comment", "findMany");
    expect(c).toMatchObject({ reads: 21, wouldHit: 0, invalidated: 20, hitRatio: 0, advice: "skip" });
    // The most time saved first; shapes carry no argument values.
    expect(report.rows[0]).toBe(a);
    for (const row of report.rows) {
      expect(row.shape).not.toContain(String(w.tenantId));
      expect(row.shape).not.toContain(String(w.users.alice));
    }
    // Observing changes nothing: every read reached the database, and was counted as a bypass.
    expect(database.queries).toBe(30 + 20 + 21 + 20);
    expect(prisma.$cache.stats()).toMatchObject({ l1Hits: 0, l2Hits: 0, misses: 0, bypassed: 71 });
  });

  it("a write through another instance (heard on the bus) kills a would-be hit, as one through this instance does", async () => {
    const w = await env.world("advisor-bus");
    const observer = await env.instance({ advisor: true });
    const writer = await env.instance({ prefix: observer.prefix, over: env.connect() });
    await Promise.all([observer.prisma.$cache.ready(), writer.prisma.$cache.ready()]);
    const read = () => observer.prisma.user.findUnique({ where: { id: w.users.bob }, select: { name: true } });
    await read();
    await read(); // a would-be hit
    // The writer's update resolves once every instance on the prefix has heard its invalidation.
    await writer.prisma.user.update({ where: { id: w.users.bob }, data: { name: "Bob 2" }, select: { id: true } });
    await read(); // invalidated since its fill: a would-be miss
    await read(); // a would-be hit again
    expect(rowOf(observer.prisma.$cache.advisor().rows, "User", "findUnique")).toMatchObject({
      reads: 4,
      wouldHit: 2,
      invalidated: 1,
    });
  });

  it("without Redis, a write through another client on the same prefix (one in-process group) kills a would-be hit", async () => {
    const w = await env.world("advisor-local");
    const observer = await env.instance({ redis: false, advisor: true });
    const writer = await env.instance({ redis: false, prefix: observer.prefix, over: env.connect() });
    const read = () => observer.prisma.post.findUnique({ where: { id: w.posts.draft }, select: { title: true } });
    await read();
    await read(); // a would-be hit
    await writer.prisma.post.update({ where: { id: w.posts.draft }, data: { title: "Draft 2" }, select: { id: true } });
    await read(); // invalidated: a would-be miss
    expect(rowOf(observer.prisma.$cache.advisor().rows, "Post", "findUnique")).toMatchObject({
      reads: 3,
      wouldHit: 1,
      invalidated: 1,
    });
  });

  it("results are unchanged; reads in transactions and cached reads are not observed; a batch transaction still takes observed reads", async () => {
    const w = await env.world("advisor-neutral");
    const { prisma } = await env.client({ advisor: true });
    const where = { id: w.users.alice };
    const bare = await env.bare.user.findUnique({ where, include: { posts: { orderBy: { id: "asc" } } } });
    expect(await prisma.user.findUnique({ where, include: { posts: { orderBy: { id: "asc" } } } })).toEqual(bare);
    // The fluent API on an observed read runs the relation query.
    // (The types do not offer it on the extended client.)
    type Fluent = { posts(args: object): Promise<unknown> };
    const fluent = prisma.user.findUnique({ where }) as unknown as Fluent;
    expect(await fluent.posts({ orderBy: { id: "asc" } })).toEqual(bare?.posts);
    // Lazy, as Prisma's reads are: a batch transaction runs it inside the transaction, unobserved.
    const [inBatch] = await prisma.$transaction([prisma.user.findUnique({ where, select: { email: true } })]);
    expect(inBatch).toEqual({ email: bare?.email });
    await prisma.$transaction(async (tx) => tx.user.findUnique({ where, select: { role: true } }));
    await prisma.user.findUnique({ where, select: { balance: true }, cache: true });
    // Only the include read was observed (a fluent call runs the relation's query, uncached and unobserved).
    expect(prisma.$cache.advisor().rows).toMatchObject([{ operation: "findUnique", reads: 1 }]);
    // An error reaches the caller unchanged, and fills nothing: the next read of the key is no would-be hit.
    const missing = () => prisma.user.findUniqueOrThrow({ where: { id: -1 }, select: { id: true } });
    await expect(missing()).rejects.toMatchObject({ code: "P2025" });
    await expect(missing()).rejects.toMatchObject({ code: "P2025" });
    expect(rowOf(prisma.$cache.advisor().rows, "User", "findUniqueOrThrow")).toMatchObject({ reads: 2, wouldHit: 0 });
  });

  it("inside a request scope, reads the scope answers are not observed; those that reach the database are", async () => {
    const w = await env.world("advisor-scope");
    const { prisma, database } = await env.client({ advisor: true });
    const read = () => prisma.user.findUnique({ where: { id: w.users.carol }, select: { email: true } });
    await prisma.$cache.scope(async () => {
      await read();
      await read(); // answered by the scope: never reaches the database
    });
    await prisma.$cache.scope(() => read()); // a new scope: the database again, a would-be hit for a cache
    expect(database.queries).toBe(2);
    expect(rowOf(prisma.$cache.advisor().rows, "User", "findUnique")).toMatchObject({ reads: 2, wouldHit: 1 });
  });

  it("memory is bounded: shapes past maxShapes are not observed; keys past maxKeys are forgotten least recently read first", async () => {
    const w = await env.world("advisor-bounds");
    const { prisma } = await env.client({ advisor: { maxShapes: 1, maxKeys: 2 } });
    const byId = (id: number) => prisma.user.findUnique({ where: { id }, select: { name: true } });
    await byId(w.users.alice);
    await byId(w.users.bob);
    await byId(w.users.alice); // hit; alice is now the most recent
    await byId(w.users.carol); // forgets bob
    await byId(w.users.bob); // a first read again: a fill
    await prisma.post.findMany({ where: { tenantId: w.tenantId }, select: { id: true } }); // a second shape
    const report = prisma.$cache.advisor();
    expect(report).toMatchObject({ trackedKeys: 2, untrackedReads: 1 });
    expect(report.rows).toHaveLength(1);
    expect(report.rows[0]).toMatchObject({ reads: 5, wouldHit: 1 });
  });

  it("sample observes a stable fraction of keys (every read of an observed key), and scales the time saved", async () => {
    const w = await env.world("advisor-sample");
    const { prisma } = await env.client({ advisor: { sample: 0.5 } });
    for (let round = 0; round < 2; round++)
      for (let skip = 0; skip < 40; skip++)
        await prisma.post.findMany({ where: { tenantId: w.tenantId }, select: { id: true }, skip, take: 1 });
    const row = rowOf(prisma.$cache.advisor().rows, "Post", "findMany");
    // Each observed key is seen both times: half its reads are would-be hits whatever the sample.
    expect(row.reads % 2).toBe(0);
    expect(row.wouldHit).toBe(row.reads / 2);
    expect(row.reads).toBeGreaterThan(20); // 40 keys at 0.5: far from 0 or 80 (binomial, fixed by the key hash)
    expect(row.reads).toBeLessThan(140);
    expect(row.savedMs).toBeCloseTo((row.wouldHit * row.dbMs) / 0.5, 6);
  });

  it("without advisor the report is empty; a bad advisor option fails at $extends naming the option", async () => {
    const { prisma } = await env.client();
    await prisma.user.findMany({ take: 1 });
    expect(prisma.$cache.advisor()).toEqual({
      enabled: false,
      sample: 0,
      trackedKeys: 0,
      untrackedReads: 0,
      missOverheadMs: 0,
      rows: [],
    });
    for (const [advisor, option] of [
      [{ sample: 0 }, "advisor.sample"],
      [{ sample: 2 }, "advisor.sample"],
      [{ maxShapes: 0 }, "advisor.maxShapes"],
      [{ maxKeys: 1.5 }, "advisor.maxKeys"],
      [{ samples: 1 }, "advisor"],
      ["yes", "advisor"],
    ] as const) {
      const error = catchCacheError(
        () => env.bare.$extends(cacheExtension({ advisor: advisor as CacheExtensionOptions["advisor"] })),
        "E_INVALID_OPTION",
      );
      expect(error.message).toContain(`\`${option}`);
    }
  });
});
