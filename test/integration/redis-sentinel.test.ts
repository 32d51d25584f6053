/**
 * Redis Sentinel (issue 12): a real set-up started by the test (one master,
 * one replica, one sentinel: test/helpers/redis-sentinel.ts), two instances
 * on ioredis clients that find the master through the sentinel, and a
 * `SENTINEL FAILOVER` during a mixed load. Every read must be answered, and
 * none begun after a write resolved may return data from before it: the
 * replica may not have received the last bumps (replication is
 * asynchronous), which is what the server identity check
 * (src/redis/server-identity.ts) covers: the promoted replica is another
 * `redis-server` process, so every entry is dead once an instance checked it.
 */
import { Redis } from "ioredis";
import { keysUnder } from "../helpers/services.js";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { CachedPrisma } from "../helpers/clients.js";
import { describeWith } from "../helpers/describe-with.js";
import { Harness, type Instance } from "../helpers/harness.js";
import { SENTINEL_MASTER_NAME, startSentinelSetup, type SentinelSetup } from "../helpers/redis-sentinel.js";
import { postgresTarget } from "../helpers/targets.js";
import { pollUntil } from "../helpers/poll.js";
import { staleUntilCachedAgain } from "../helpers/stale-reads.js";

/** This file's ports (the range 6420-6449 is this test group's). */
const PORTS = { master: 6430, replica: 6431, sentinel: 6432 };
/** How far behind the replica is made to lag before the first failover: longer than the failover takes. */
const REPLICATION_LAG_MS = 3_000;

describeWith(["postgres", "redis-server"], "Redis Sentinel failover: postgres + a private sentinel set-up", () => {
  const env = new Harness(postgresTarget({ redis: false }));
  let setup: SentinelSetup | undefined;
  beforeAll(async () => {
    await env.start();
    setup = await startSentinelSetup(PORTS);
  }, 60_000);
  afterAll(async () => {
    await env.stop();
    await setup?.stop();
  });

  /** An instance whose client finds the master through the sentinel. */
  async function sentinelInstance(prefix: string): Promise<Instance> {
    const redis = env.adopt(
      new Redis({
        sentinels: [{ host: "127.0.0.1", port: PORTS.sentinel }],
        name: SENTINEL_MASTER_NAME,
        // Without it a connection stays on the old master until Sentinel demotes it, which can take seconds: writes
        // bumped there meanwhile are lost (docs/operations.md, "Sentinel").
        failoverDetector: true,
        lazyConnect: true,
        maxRetriesPerRequest: 1,
      }),
    );
    redis.on("error", () => undefined);
    await redis.connect();
    return env.instance({ redis, prefix, redisTimeout: "200ms", busLease: "500ms" });
  }

  it("a failover that loses the last bump (the replica lagged): no instance serves the pre-write row from the promoted replica", async () => {
    const w = await env.world("sentinel-loss");
    const prefix = env.newPrefix();
    const a = await sentinelInstance(prefix);
    const b = await sentinelInstance(prefix);
    const id = w.users.carol;
    const read = (p: CachedPrisma) => p.user.findUnique({ where: { id }, select: { name: true }, cache: true });
    const masterPort = await setup!.masterPort();
    const master = await env.connectRedis(`redis://127.0.0.1:${masterPort}`);
    for (const instance of [a, b]) {
      await read(instance.prisma);
      await instance.prisma.$cache.settled();
    }
    const replica = await env.connectRedis(
      `redis://127.0.0.1:${masterPort === PORTS.master ? PORTS.replica : PORTS.master}`,
    );
    // The entry and its versions reached the replica before it starts lagging.
    const versionsOn = async (redis: Redis) => {
      const keys = (await keysUnder(redis, `${prefix}t:`)).sort();
      return keys.length === 0 ? [] : await redis.mget(...keys);
    };
    await pollUntil(
      async () => JSON.stringify(await versionsOn(replica)) === JSON.stringify(await versionsOn(master)),
      Boolean,
    );

    setup!.delayReplication(REPLICATION_LAG_MS);
    await a.prisma.user.update({ where: { id }, data: { name: "Lost in the failover" } });
    const bumped = await versionsOn(master);
    await setup!.failover();
    expect(await versionsOn(replica), "premise: the promoted replica never got the write's bump").not.toEqual(bumped);

    // A and B heard the bump on the bus before the failover, and may keep hearing (a replica relays pub/sub), so
    // their mirrors are ahead of the promoted replica; C, started now, knows only what the promoted replica says.
    const c = await sentinelInstance(prefix);
    const { stale, fewestCacheAnswers } = await staleUntilCachedAgain(
      [a, b, c],
      (instance) => read(instance.prisma),
      (row) => row?.name === "Lost in the failover",
      { ms: 15_000 },
    );
    expect(fewestCacheAnswers, "the cache answers again on the new master").toBeGreaterThanOrEqual(20);
    expect(stale, "reads returning the pre-write row after the failover").toBe(0);

    // The next write's bump on the promoted replica takes the version the lost bump had: an instance whose mirror
    // kept that version from before the failover would see its in-process entry (filled after the first write) as
    // current.
    await a.prisma.user.update({ where: { id }, data: { name: "After the failover" } });
    let behind = 0;
    for (const instance of [a, b, c])
      for (let i = 0; i < 5; i++) if ((await read(instance.prisma))?.name !== "After the failover") behind++;
    expect(behind, "reads returning the first write's row after the second write resolved").toBe(0);
  }, 60_000);

  it("a failover during reads and writes on two instances: every read answered, none older than a write that resolved before it began", async () => {
    const w = await env.world("sentinel");
    const prefix = env.newPrefix();
    const a = await sentinelInstance(prefix);
    const b = await sentinelInstance(prefix);
    const id = w.users.carol;
    await env.bare.user.update({ where: { id }, data: { name: "v0" } });
    const read = (p: CachedPrisma) => p.user.findUnique({ where: { id }, select: { name: true }, cache: true });

    let resolved = 0;
    let stopped = false;
    let failedOver = false;
    const tally = { reads: 0, unanswered: 0, stale: 0 };
    const cachedAfterFailover = new Map<Instance, number>([
      [a, 0],
      [b, 0],
    ]);

    const writer = async () => {
      for (let n = 1; !stopped; n++) {
        await a.prisma.user.update({ where: { id }, data: { name: `v${n}` } });
        resolved = n;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    const reader = async (instance: Instance) => {
      while (!stopped) {
        const floor = resolved;
        const queries = instance.database.queries;
        try {
          const row = await read(instance.prisma);
          tally.reads++;
          if (Number(row?.name?.slice(1)) < floor) tally.stale++;
          if (failedOver && instance.database.queries === queries)
            cachedAfterFailover.set(instance, (cachedAfterFailover.get(instance) ?? 0) + 1);
        } catch {
          tally.unanswered++;
        }
      }
    };
    const load = Promise.all([writer(), reader(a), reader(b)]);

    const deadline = Date.now() + 30_000;
    try {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const before = await setup!.masterPort();
      const after = await setup!.failover();
      expect(after, "the replica was promoted").not.toBe(before);
      failedOver = true;
      // Until both instances are answered by the cache again on the new master (or the deadline).
      while (Math.min(...cachedAfterFailover.values()) < 20 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      stopped = true;
      await load;
    }

    expect(tally.reads, "reads made").toBeGreaterThan(100);
    expect(tally.unanswered, "reads not answered").toBe(0);
    expect(
      Math.min(...cachedAfterFailover.values()),
      "the cache answers again after the failover",
    ).toBeGreaterThanOrEqual(20);
    expect(tally.stale, "reads older than a write that resolved before they began").toBe(0);
  }, 60_000);
});
