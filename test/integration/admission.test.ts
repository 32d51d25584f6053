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
import { postgresTarget } from "../helpers/targets.js";

describeWith(["postgres", "redis"], "automatic admission: postgres + redis", () => {
  const env = new Harness(postgresTarget({ redis: true }));
  beforeAll(() => env.start());
  afterAll(() => env.stop());

  const WINDOW = 20;

  it("a shape read once per key is taken out after one window; a shape read again and again stays cached", async () => {
    const w = await env.world("admission");
    const client = await env.client({ admission: { window: WINDOW, minHitRatio: 0.5, retryAfter: "30s" } });
    const { prisma, database } = client;
    // Shape 1: every read a new key (a different `skip`): no read ever hits.
    const once = (i: number) =>
      prisma.user.findMany({ where: { tenantId: w.tenantId }, select: { id: true }, skip: i, take: 1, cache: true });
    // Shape 2: the same key again and again: every read after the first hits.
    const again = () => prisma.user.findUnique({ where: { id: w.users.alice }, select: { name: true }, cache: true });

    for (let i = 0; i < WINDOW; i++) {
      await once(i);
      await again();
    }
    const report = prisma.$cache.admission();
    const onceShape = report.find((shape) => shape.shape.includes("findMany"));
    const againShape = report.find((shape) => shape.shape.includes("findUnique"));
    expect(onceShape).toMatchObject({ admitted: false, lastHitRatio: 0, failedWindows: 1 });
    expect(againShape).toMatchObject({ admitted: true, lastHitRatio: (WINDOW - 1) / WINDOW, failedWindows: 0 });
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
    // Every read a new key (another `take`), each returning rows: one window, no hit, taken out.
    const firstRows = (take: number) =>
      prisma.user.findMany({
        where: { tenantId: w.tenantId },
        select: { name: true },
        orderBy: { id: "asc" },
        take,
        cache: true,
      });
    for (let i = 1; i <= WINDOW; i++) await firstRows(i);
    expect(prisma.$cache.admission()[0]).toMatchObject({ admitted: false });

    // `take: 5` was read and stored during the window and its entry is live; taken out, the read is a plain query
    // and sees a change made behind the cache's back at once.
    await env.bare.user.update({ where: { id: w.users.alice }, data: { name: "Renamed" } });
    expect((await firstRows(5)).map((row) => row.name)).toContain("Renamed");

    clock.advance(30_001);
    const trial = prisma.$cache.admission()[0];
    expect(trial).toMatchObject({ admitted: true, windowReads: 0 });
    const notAdmitted = prisma.$cache.stats().notAdmitted;
    await firstRows(100);
    expect(prisma.$cache.stats().notAdmitted, "the trial reads go through the tiers").toBe(notAdmitted);
    expect(prisma.$cache.admission()[0]).toMatchObject({ admitted: true, windowReads: 1 });

    // It fails again: the next trial waits twice as long.
    for (let i = 1; i < WINDOW; i++) await firstRows(100 + i);
    const failed = prisma.$cache.admission()[0];
    expect(failed).toMatchObject({ admitted: false, failedWindows: 2 });
    expect(failed?.retryAt).toBe(clock.now() + 60_000);
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
