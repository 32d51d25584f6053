/**
 * Foreign values in the keys the library keeps besides entries, through a
 * real Prisma client on Postgres and a real Redis:
 *
 * - a tag version key holding something no version can be (`1.5`, which
 *   `Number()` accepts and `INCR` refuses; text; an integer past 2^53; a
 *   list) is replaced, reported once (`E_CORRUPT_ENTRY`), and a write still
 *   invalidates every instance: before, every bump failed and other
 *   instances kept serving the old row until ttl;
 * - a single-flight lock without an expiry is given the lease, so it cannot
 *   make every miss of its key wait `lock.wait` forever;
 * - a lock take that timed out during a freeze is released right after it,
 *   when Redis runs it at SIGCONT (private `redis-server`).
 */
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScriptRunner } from "../../src/redis/scripts.js";
import { RedisLock } from "../../src/tiers/redis-lock.js";
import { describeWith } from "../helpers/describe-with.js";
import { Harness, observe, type Instance } from "../helpers/harness.js";
import { pollUntil } from "../helpers/poll.js";
import { privateRedisServers } from "../helpers/redis-server.js";
import { connectRedis, entryKeysUnder, keysUnder } from "../helpers/services.js";
import { postgresTarget } from "../helpers/targets.js";

/** Foreign values a version key may be found holding, and how to write each. */
const FOREIGN_VERSIONS: ReadonlyArray<readonly [string, (redis: Redis, key: string) => Promise<unknown>]> = [
  ["1.5 (INCR refuses it)", (redis, key) => redis.set(key, "1.5")],
  ["text", (redis, key) => redis.set(key, "not-a-version")],
  ["an integer past 2^53", (redis, key) => redis.set(key, "99999999999999999999")],
  ["a list (another type)", async (redis, key) => (await redis.del(key), redis.rpush(key, "1"))],
];

describeWith(["postgres", "redis"], "foreign values: postgres + redis", () => {
  const env = new Harness(postgresTarget({ redis: true }));
  beforeAll(() => env.start());
  afterAll(() => env.stop());

  const shared = (): Redis => {
    if (env.redis === undefined) throw new Error("the target has Redis");
    return env.redis;
  };

  describe.each(["read", "written"] as const)("a version key holding a foreign value, first %s", (first) => {
    it.each(FOREIGN_VERSIONS)(
      "%s: replaced, reported, and a write still reaches the other instance",
      async (_, write) => {
        const w = await env.world(`foreign-version-${first}`);
        // Redis-only instances: what they serve is what Redis says is current.
        const writer = await env.instance({ l1: false });
        const reader = await env.instance({ l1: false, prefix: writer.prefix });
        const carol = (instance: Instance) => () =>
          instance.prisma.user.findUnique({ where: { id: w.users.carol }, select: { name: true }, cache: true });
        expect(await carol(reader)()).toEqual({ name: "Carol" });
        await reader.prisma.$cache.settled();

        const versionKeys = await keysUnder(shared(), `${writer.prefix}t:`);
        expect(versionKeys.length).toBeGreaterThan(0);
        for (const key of versionKeys) await write(shared(), key);

        if (first === "read") {
          // A new instance knows no version yet: it reads them from Redis, where the foreign values are found.
          const fresh = await env.instance({ l1: false, prefix: writer.prefix });
          expect(await carol(fresh)()).toEqual({ name: "Carol" });
          expect(fresh.log.codes(), "the repair is reported once").toEqual(["E_CORRUPT_ENTRY"]);
          await fresh.prisma.$cache.settled();
          expect((await observe(fresh, carol(fresh))).fromDatabase, "cached again under repaired versions").toBe(false);
        }
        await writer.prisma.user.update({ where: { id: w.users.carol }, data: { name: "Caroline" } });
        expect(writer.log.codes(), "the bump reached Redis").not.toContain("E_INVALIDATION");
        expect(await carol(reader)()).toEqual({ name: "Caroline" });
        expect(await carol(writer)()).toEqual({ name: "Caroline" });
      },
    );
  });

  it("a single-flight lock without an expiry gets the lease: it cannot hold its key's misses for ever", async () => {
    const w = await env.world("foreign-lock");
    const instance = await env.instance({ l1: false, lock: { lease: "2s", wait: "200ms" } });
    const bob = () =>
      instance.prisma.user.findUnique({ where: { id: w.users.bob }, select: { email: true }, cache: true });
    await bob();
    await instance.prisma.$cache.settled();
    const [entry] = await entryKeysUnder(shared(), instance.prefix);
    if (entry === undefined) throw new Error("the read was not stored");
    const lock = RedisLock.nameFor(entry);
    await shared().del(entry);
    await shared().set(lock, "held by another program, no expiry");

    expect(await bob()).toEqual({ email: "bob@example.test" });
    const ttl = await shared().pttl(lock);
    expect(ttl, "the lock now expires within the lease").toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(2_000);
  });
});

describeWith(["redis-server"], "a lock take timed out during a freeze: private redis-server", () => {
  const startServer = privateRedisServers();

  it("is released right after it runs, when the server is thawed", async () => {
    const server = await startServer();
    const redis = await connectRedis(server.url);
    redis.on("error", () => undefined);
    try {
      const lock = new RedisLock(new ScriptRunner(redis, 100), { leaseMs: 60_000, waitMs: 1_000 });
      const entry = "pqc-foreign:frozen-take";
      server.pause();
      try {
        await expect(lock.take(entry)).rejects.toMatchObject({ code: "E_LOCK" });
      } finally {
        server.resume();
      }
      // The take ran at SIGCONT, and the release queued behind it; without it the lock would hold for 60 s.
      const held = await pollUntil(
        () => redis.exists(RedisLock.nameFor(entry)),
        (exists) => exists === 0,
      );
      expect(held).toBe(0);
      // And the lock is free for the next taker.
      expect((await lock.take(entry)).token).toBeDefined();
    } finally {
      redis.disconnect();
    }
  });
});
