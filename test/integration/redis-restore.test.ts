/**
 * Redis restarted from a snapshot (issue 12): the RDB brings back the tag
 * versions from before a write, with the entries filled under them. Issue 12
 * measured 737 stale reads, up to 13.7 s after the write, before every
 * connection learned to check the server's identity (`run_id`) before
 * reading entries from it (src/redis/server-identity.ts).
 *
 * A private `redis-server` with an RDB file in a temporary folder; two
 * instances (A writes, B reads, both tiers): the read is cached, the server
 * SAVEs, A writes, the server is killed and started again from the RDB.
 * Every read on both instances from then until the cache answers again (and
 * for a while after) is compared with the database.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { CachedPrisma } from "../helpers/clients.js";
import { describeWith } from "../helpers/describe-with.js";
import { entryKeysUnder } from "../helpers/services.js";
import { Harness, type Instance } from "../helpers/harness.js";
import { privateRedisServers, type RedisServerOptions } from "../helpers/redis-server.js";
import { postgresTarget } from "../helpers/targets.js";
import { staleUntilCachedAgain } from "../helpers/stale-reads.js";

/** This file's port (the range 6420-6449 is this test group's); the restart must come back on the same one. */
const PORT = 6421;

describeWith(["postgres", "redis-server"], "Redis restored from a snapshot: postgres + private redis-server", () => {
  const env = new Harness(postgresTarget({ redis: false }));
  const dir = mkdtempSync(join(tmpdir(), "pqc-restore-"));
  beforeAll(() => env.start());
  const startServer = privateRedisServers(() => env.stop());
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const serverOptions: RedisServerOptions = { port: PORT, dir, args: ["--dbfilename", "restore.rdb"] };

  /** An instance on the private server; its connection retries every 50 ms, so it is back soon after the restart. */
  async function instanceOn(url: string, prefix: string): Promise<Instance> {
    const redis = env.adopt(new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 50 }));
    redis.on("error", () => undefined);
    await redis.connect();
    return env.instance({ redis, prefix, redisTimeout: "100ms", busLease: "300ms" });
  }

  it("a write the snapshot does not hold: after the restart no instance serves the pre-write row", async () => {
    const w = await env.world("restore");
    const first = await startServer(serverOptions);
    const admin = await env.connectRedis(first.url);
    const prefix = env.newPrefix();
    const a = await instanceOn(first.url, prefix);
    const b = await instanceOn(first.url, prefix);
    const read = (p: CachedPrisma) =>
      p.user.findUnique({ where: { id: w.users.carol }, select: { name: true }, cache: true });
    for (const instance of [a, b]) {
      await read(instance.prisma);
      await instance.prisma.$cache.settled();
    }

    await admin.save();
    await a.prisma.user.update({ where: { id: w.users.carol }, data: { name: "After the snapshot" } });
    expect(await read(b.prisma), "before the restart, B reads the write").toEqual({ name: "After the snapshot" });

    await first.kill();
    const second = await startServer(serverOptions);
    const admin2 = await env.connectRedis(second.url);
    expect(
      (await entryKeysUnder(admin2, prefix)).length,
      "premise: the restored server holds the entry filled before the write",
    ).toBeGreaterThan(0);

    // Read on both instances until each has been answered by the cache again 20 times, counting reads that return
    // what the database no longer holds.
    const { stale, fewestCacheAnswers } = await staleUntilCachedAgain(
      [a, b],
      (instance) => read(instance.prisma),
      (row) => row?.name === "After the snapshot",
    );
    expect(fewestCacheAnswers, "the cache answers again after the restart").toBeGreaterThanOrEqual(20);
    expect(stale, "reads returning the pre-write row after the restart").toBe(0);
  });
});
