/**
 * The circuit breaker on a private `redis-server` the test freezes
 * (SIGSTOP) and kills, through a real Prisma client on Postgres:
 *
 * - after `failures` timeouts in a row it opens: reads answer from the
 *   database without asking Redis (no further read timeouts), nothing is
 *   served from the in-process tier (it was cleared), and once Redis answers
 *   again a probe closes it and reads are cached again;
 * - a write while it is open still bumps its tags in Redis, so another
 *   instance never serves what it changed;
 * - a killed server opens it too, and a server started again on the port
 *   closes it.
 */
import { beforeAll, expect, it } from "vitest";
import type { Duration } from "../../src/options/duration.js";
import type { CacheExtensionOptions } from "../../src/index.js";
import type { CachedPrisma } from "../helpers/clients.js";
import { describeWith } from "../helpers/describe-with.js";
import { Harness, observe, type Instance } from "../helpers/harness.js";
import { pollUntil } from "../helpers/poll.js";
import { privateRedisServers, type RedisServer } from "../helpers/redis-server.js";
import { postgresTarget } from "../helpers/targets.js";

/** Read timeouts reported (not the bus's heartbeats, which keep trying whatever the breaker says). */
function readTimeouts(instance: Instance): number {
  return instance.log.errors.filter((e) => /GET|reading/.test(e.message) && /redisTimeout/.test(e.message)).length;
}

describeWith(["postgres", "redis-server"], "circuit breaker: postgres + private redis-server", () => {
  const env = new Harness(postgresTarget({ redis: false }));
  beforeAll(() => env.start());
  const startServer = privateRedisServers(() => env.stop());

  /** A new private server, and an instance on it (100 ms redisTimeout) whose breaker opens after 3 failures. */
  async function breakerOnPrivateRedis(
    openFor: Duration,
    more: Pick<CacheExtensionOptions, "busLease"> = {},
  ): Promise<{ server: RedisServer; instance: Instance }> {
    const server = await startServer();
    const instance = await env.instance({
      redis: await env.connectRedis(server.url),
      redisTimeout: "100ms",
      breaker: { failures: 3, openFor },
      ...more,
    });
    await instance.prisma.$cache.ready();
    return { server, instance };
  }

  it("Redis frozen: opens after 3 timeouts, then reads skip Redis and the in-process tier; after SIGCONT a probe closes it", async () => {
    const w = await env.world("breaker-frozen");
    const { server, instance } = await breakerOnPrivateRedis("2s");
    const alice = () =>
      instance.prisma.user.findUnique({ where: { id: w.users.alice }, select: { email: true }, cache: true });
    /** A query no tier holds: its lookup must reach Redis. */
    const cold = (i: number) =>
      instance.prisma.post.count({ where: { tenantId: w.tenantId, views: { gte: 1000 + i } }, cache: true });
    await alice();
    expect((await observe(instance, alice)).fromDatabase, "cached in-process before the freeze").toBe(false);
    expect(instance.prisma.$cache.stats().breaker).toBe("closed");

    server.pause();
    try {
      let i = 0;
      const opened = await pollUntil(
        async () => {
          expect(await cold(i++)).toBe(0);
          return instance.prisma.$cache.stats().breaker;
        },
        (state) => state === "open",
      );
      expect(opened).toBe("open");
      const stats = instance.prisma.$cache.stats();
      expect(stats.breakerOpens).toBe(1);
      expect(stats.l1Entries, "the in-process tier is cleared as the breaker opens").toBe(0);
      expect(instance.log.errors.some((e) => e.code === "E_REDIS" && /circuit breaker opened/.test(e.message))).toBe(
        true,
      );

      // Open: every read is answered by the database, none by the in-process tier, none pays a Redis timeout.
      const timeouts = readTimeouts(instance);
      const { l1Hits, l2Hits, breakerSkips } = instance.prisma.$cache.stats();
      const queries = instance.database.queries;
      for (let n = 0; n < 20; n++) {
        expect(await alice()).toEqual({ email: "alice@example.test" });
        expect(await cold(n)).toBe(0);
      }
      const after = instance.prisma.$cache.stats();
      expect(instance.database.queries - queries).toBe(40);
      expect(after.l1Hits - l1Hits).toBe(0);
      expect(after.l2Hits - l2Hits).toBe(0);
      expect(after.breakerSkips - breakerSkips).toBe(40);
      expect(readTimeouts(instance)).toBe(timeouts);
      expect(after.breaker).toBe("open");
    } finally {
      server.resume();
    }

    // Redis answers again: after openFor a probe (a read, or a bus heartbeat) closes the breaker.
    const closed = await pollUntil(
      async () => {
        await alice();
        return instance.prisma.$cache.stats().breaker;
      },
      (state) => state === "closed",
    );
    expect(closed).toBe("closed");
    await instance.prisma.$cache.ready();
    await alice();
    await instance.prisma.$cache.settled();
    expect((await observe(instance, alice)).fromDatabase, "cached again once closed").toBe(false);
  });

  /**
   * Every command that got no reply within its own limit counts for the
   * breaker, one cut short by the read's budget included. 7fe517c told the
   * breaker only when the limit was the whole redisTimeout; a read's first
   * command had a budget a few microseconds short of it, so no read timeout
   * reached the breaker: on a frozen Redis only the bus's heartbeats (every
   * busLease / 3) and fills opened it. With heartbeats 10 s apart, six reads
   * that each waited redisTimeout on a frozen Redis left it closed.
   */
  it("Redis frozen, heartbeats rare (busLease 30 s): read timeouts alone open the breaker", async () => {
    const w = await env.world("breaker-reads");
    const { server, instance } = await breakerOnPrivateRedis("2s", { busLease: "30s" });
    const cold = (i: number) =>
      instance.prisma.post.count({ where: { tenantId: w.tenantId, views: { gte: 2000 + i } }, cache: true });
    server.pause();
    try {
      for (let i = 0; i < 6; i++) expect(await cold(i)).toBe(0);
      expect(instance.log.codes().length, "premise: the reads timed out on Redis").toBeGreaterThanOrEqual(3);
      expect(instance.prisma.$cache.stats().breaker, "after six read timeouts in a row (failures: 3)").toBe("open");
    } finally {
      server.resume();
    }
  });

  it("a write while the breaker is open still bumps its tags in Redis: another instance does not serve the old row", async () => {
    const w = await env.world("breaker-write");
    const { server, instance: writer } = await breakerOnPrivateRedis("60s");
    // The reader has no breaker, so that the freeze leaves it as it was: caching in both tiers.
    const reader = await env.instance({
      redis: await env.connectRedis(server.url),
      prefix: writer.prefix,
      breaker: false,
    });
    await reader.prisma.$cache.ready();
    const carol = (prisma: CachedPrisma) =>
      prisma.user.findUnique({ where: { id: w.users.carol }, select: { name: true }, cache: true });
    expect(await carol(reader.prisma)).toEqual({ name: "Carol" });
    await reader.prisma.$cache.settled();
    expect((await observe(reader, carol)).fromDatabase).toBe(false);

    server.pause();
    try {
      let i = 0;
      await pollUntil(
        () => writer.prisma.post.count({ where: { tenantId: w.tenantId, views: { gte: 1000 + i++ } }, cache: true }),
        () => writer.prisma.$cache.stats().breaker === "open",
      );
      expect(writer.prisma.$cache.stats().breaker).toBe("open");
    } finally {
      server.resume();
    }
    // Redis answers again, but the writer's breaker stays open for a minute.
    await reader.prisma.$cache.ready();
    const errorsBefore = writer.log.errors.length;
    await writer.prisma.user.update({ where: { id: w.users.carol }, data: { name: "Caroline" } });
    expect(writer.prisma.$cache.stats().breaker).toBe("open");
    expect(
      writer.log.errors.slice(errorsBefore).map((e) => e.code),
      "the bump reached Redis (no E_INVALIDATION)",
    ).not.toContain("E_INVALIDATION");
    expect(await carol(reader.prisma)).toEqual({ name: "Caroline" });
    expect(await carol(writer.prisma)).toEqual({ name: "Caroline" });
  });

  it("Redis killed: reads answer from the database at once (nothing is sent while disconnected, so the breaker stays closed); restarted, cached again", async () => {
    const w = await env.world("breaker-killed");
    const { server: first, instance } = await breakerOnPrivateRedis("300ms");
    const bob = () =>
      instance.prisma.user.findUnique({ where: { id: w.users.bob }, select: { email: true }, cache: true });
    await bob();
    await instance.prisma.$cache.settled();

    await first.kill();
    // The in-process tier stops serving once the bus connection's close is seen (a moment after the kill).
    await pollUntil(
      () => observe(instance, bob),
      (read) => read.fromDatabase,
    );
    const queries = instance.database.queries;
    for (let n = 0; n < 10; n++) expect(await bob()).toEqual({ email: "bob@example.test" });
    expect(instance.database.queries - queries).toBe(10);
    expect(readTimeouts(instance), "no read waited for a dead server").toBe(0);
    expect(instance.prisma.$cache.stats()).toMatchObject({ breaker: "closed", breakerOpens: 0 });

    await startServer({ port: first.port });
    await pollUntil(
      () => observe(instance, bob),
      (read) => !read.fromDatabase,
      10_000,
    );
    expect((await observe(instance, bob)).fromDatabase, "cached again on the new server").toBe(false);
    expect(instance.prisma.$cache.stats().breaker).toBe("closed");
  });
});
