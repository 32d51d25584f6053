/**
 * The protections under load: a busy event loop is not a slow Redis, and
 * single-flight does not depend on Redis answering.
 *
 * - A Redis timeout fires only when Redis did not answer: replies that arrived
 *   while the event loop was blocked are taken, not reported as E_REDIS and
 *   re-read from the database.
 * - Concurrent reads of one key in one process cause one database query even
 *   when Redis is frozen (their lookups time out together), and a read never
 *   receives the result of a load that began before it did (so it still sees
 *   every write that resolved before it began).
 *
 * Postgres and a private `redis-server` per test.
 */
import { beforeAll, expect, it } from "vitest";
import { ReadGate } from "../helpers/read-gate.js";
import { describeWith } from "../helpers/describe-with.js";
import { blockEventLoop, started } from "../helpers/event-loop.js";
import { Harness, type Instance } from "../helpers/harness.js";
import { privateRedisServers, type RedisServer } from "../helpers/redis-server.js";
import { postgresTarget } from "../helpers/targets.js";

describeWith(["postgres", "redis-server"], "Redis stalls: postgres + private redis-server", () => {
  const env = new Harness(postgresTarget({ redis: false }));
  beforeAll(() => env.start());
  const startServer = privateRedisServers(() => env.stop());

  /** An instance on a private server, reading Redis only (no in-process tier), with a short redisTimeout. */
  async function instanceOnPrivateRedis(gate?: ReadGate): Promise<{ server: RedisServer; instance: Instance }> {
    const server = await startServer();
    const redis = await env.connectRedis(server.url);
    const instance = await env.instance({ redis, l1: false, redisTimeout: "100ms", ...(gate ? { gate } : {}) });
    return { server, instance };
  }

  it("a 300 ms synchronous block with 20 lookups in flight: their replies are taken, no E_REDIS, no extra query", async () => {
    const w = await env.world("stall");
    const { instance } = await instanceOnPrivateRedis();
    const reads = Array.from(
      { length: 20 },
      (_, i) => () =>
        instance.prisma.post.findMany({
          where: { tenantId: w.tenantId, views: { gte: i } },
          select: { slug: true },
          orderBy: { slug: "asc" },
          cache: true,
        }),
    );
    const expected = await Promise.all(reads.map((read) => read()));
    await instance.prisma.$cache.settled();
    const queries = instance.database.queries;

    // The lookups are sent at once; their replies arrive while the loop is blocked.
    const inFlight = reads.map((read) => started(read()));
    blockEventLoop(300);
    expect(await Promise.all(inFlight)).toEqual(expected);

    expect(instance.log.codes()).toEqual([]);
    expect(instance.database.queries - queries, "no read went to the database").toBe(0);
  });

  it("Redis frozen: 50 concurrent cold reads of one key make one database query, and each reader gets its own copy", async () => {
    const w = await env.world("frozen-flight");
    const { server, instance } = await instanceOnPrivateRedis();
    const read = () =>
      instance.prisma.user.findUnique({ where: { id: w.users.alice }, select: { email: true }, cache: true });
    const queries = instance.database.queries;
    server.pause();
    try {
      const answers = await Promise.all(Array.from({ length: 50 }, read));
      for (const answer of answers) expect(answer).toEqual({ email: "alice@example.test" });
      expect(new Set(answers).size, "50 distinct objects").toBe(50);
      expect(instance.database.queries - queries).toBe(1);
      expect(new Set(instance.log.codes())).toEqual(new Set(["E_REDIS"]));
    } finally {
      server.resume();
    }
  });

  it("Redis frozen: a read that begins after a write resolved does not receive a load that began before the write", async () => {
    const w = await env.world("frozen-write");
    const gate = new ReadGate();
    const { server, instance } = await instanceOnPrivateRedis(gate);
    const read = () =>
      instance.prisma.user.findUnique({ where: { id: w.users.carol }, select: { name: true }, cache: true });
    server.pause();
    try {
      // The first read's database answer (the old name) is held below the cache until released.
      const held = gate.arm((model, operation) => model === "User" && operation === "findUnique");
      const first = started(read());
      await held.arrived;
      // The write goes to the database directly: with Redis frozen the cache could not invalidate anyway.
      await env.bare.user.update({ where: { id: w.users.carol }, data: { name: "Caroline" } });
      // The second read must load on its own: it answers while the first load is still held.
      const second = started(read());
      const waited = new Promise((resolve) => setTimeout(() => resolve("still waiting for the first load"), 5_000));
      expect(await Promise.race([second, waited]), "the second read began after the write resolved").toEqual({
        name: "Caroline",
      });
      held.release();
      expect(await first).toEqual({ name: "Carol" });
    } finally {
      server.resume();
    }
  });
});
