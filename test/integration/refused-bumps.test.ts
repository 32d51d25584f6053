/**
 * A bump Redis refuses while it still serves reads (issue 12): under
 * `noeviction` with a full `maxmemory`, every write command is refused
 * (`OOM`), the version bump included, while GETs of entries go on. Issue 12
 * measured 6,049 stale reads in 30 s on the other instances. The writer now
 * publishes the refused bump on the bus (a PUBLISH is not refused) and
 * resolves once every instance acknowledged it; each stops serving the tags,
 * from memory and from Redis, until a bump of them lands.
 *
 * A private `redis-server`; A writes, B reads with both tiers, C reads Redis
 * only.
 */
import { Redis } from "ioredis";
import { beforeAll, expect, it } from "vitest";
import type { CachedPrisma } from "../helpers/clients.js";
import { describeWith } from "../helpers/describe-with.js";
import { entryKeysUnder } from "../helpers/services.js";
import { Harness, observe, type Instance } from "../helpers/harness.js";
import { privateRedisServers } from "../helpers/redis-server.js";
import { postgresTarget } from "../helpers/targets.js";
import { pollUntil } from "../helpers/poll.js";

/** This file's port (the range 6420-6449 is this test group's). */
const PORT = 6423;

describeWith(["postgres", "redis-server"], "a bump Redis refuses: postgres + private redis-server", () => {
  const env = new Harness(postgresTarget({ redis: false }));
  beforeAll(() => env.start());
  const startServer = privateRedisServers(() => env.stop());

  async function instanceOn(url: string, prefix: string, l1 = true): Promise<Instance> {
    const redis = env.adopt(new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 }));
    redis.on("error", () => undefined);
    await redis.connect();
    return env.instance({ redis, prefix, redisTimeout: "200ms", ...(l1 ? {} : { l1: false as const }) });
  }

  it("Redis full under noeviction: after the write resolved, no instance serves the pre-write row, and caching resumes once Redis takes the bump", async () => {
    const w = await env.world("refused");
    const server = await startServer({ port: PORT, args: ["--maxmemory-policy", "noeviction"] });
    const admin = await env.connectRedis(server.url);
    const prefix = env.newPrefix();
    const a = await instanceOn(server.url, prefix);
    const b = await instanceOn(server.url, prefix);
    const c = await instanceOn(server.url, prefix, false);
    const read = (p: CachedPrisma) =>
      p.user.findUnique({ where: { id: w.users.carol }, select: { name: true }, cache: true });
    for (const instance of [b, c]) {
      await read(instance.prisma);
      await instance.prisma.$cache.settled();
      expect((await observe(instance, read)).fromDatabase, "warmed").toBe(false);
    }

    await admin.config("SET", "maxmemory", "1");
    let stale = 0;
    try {
      await a.prisma.user.update({ where: { id: w.users.carol }, data: { name: "Written while full" } });
      expect(a.log.codes(), "premise: Redis refused the bump").toContain("E_INVALIDATION");
      const [entry] = await entryKeysUnder(admin, prefix);
      expect(await admin.get(entry as string), "premise: Redis still serves the pre-write entry").not.toBeNull();

      for (let i = 0; i < 20; i++)
        for (const instance of [b, c]) if ((await read(instance.prisma))?.name !== "Written while full") stale++;
    } finally {
      await admin.config("SET", "maxmemory", "0");
    }

    // Redis takes the retried bump; its announcement lets B and C trust the tags again.
    const cachedAgain = await pollUntil(
      async () => {
        let fromCache = 0;
        for (const instance of [b, c]) {
          const { value, fromDatabase } = await observe(instance, read);
          if (value?.name !== "Written while full") stale++;
          if (!fromDatabase) fromCache++;
        }
        return fromCache;
      },
      (fromCache) => fromCache === 2,
      10_000,
    );
    expect(cachedAgain, "B and C answer from the cache again once the bump landed").toBe(2);
    expect(stale, "reads returning the pre-write row after the write resolved").toBe(0);
  });
});
