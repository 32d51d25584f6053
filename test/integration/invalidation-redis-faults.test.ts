/**
 * Invalidation when Redis fails, on private `redis-server` processes:
 * - the bus connection of an instance drops: while it is away it must not
 *   serve in-process entries, and when it is back it must have forgotten the
 *   ones it may have missed invalidations for;
 * - Redis is frozen or refuses the bump during a write: the write still
 *   succeeds, E_INVALIDATION is reported, the writer does not serve the old
 *   row, and the bump is retried until Redis takes it.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { beforeAll, describe, expect, it } from "vitest";
import { describeWith } from "../helpers/describe-with.js";
import type { CachedPrisma } from "../helpers/clients.js";
import { Harness, observe, type Instance, type InstanceOptions, type Read } from "../helpers/harness.js";
import { holdableBus, readRightAfter } from "../helpers/held-bus.js";
import { privateRedisServers } from "../helpers/redis-server.js";
import { postgresTarget } from "../helpers/targets.js";
import { pollUntil } from "../helpers/poll.js";

describeWith(["postgres", "redis-server"], "invalidation when Redis fails: postgres + private redis-server", () => {
  // The environment's own Redis is the machine's; every test here brings a private server instead.
  const env = new Harness(postgresTarget({ redis: false }));
  beforeAll(() => env.start());
  const startServer = privateRedisServers(() => env.stop());

  /** Fast settings, so that leases and Redis timeouts expire within the test. */
  const fast = { redisTimeout: "100ms", busLease: "300ms" } as const;

  /**
   * A private server and two instances on it (their own PrismaClients and
   * connections, one prefix): A writes, B reads. B's connections carry a
   * name, and wait a second before reconnecting, so that a write made right
   * after its bus connection drops lands while it is away. Both buses can be
   * held or watched (`aBus`, `bBus`); `busLease` replaces the fast one.
   */
  async function twoInstancesOnPrivateRedis(options: { bL1?: false; busLease?: InstanceOptions["busLease"] } = {}) {
    const server = await startServer();
    const admin = await env.connectRedis(server.url);
    const prefix = env.newPrefix();
    const settings = { ...fast, ...(options.busLease === undefined ? {} : { busLease: options.busLease }) };
    const aRedis = await env.connectRedis(server.url);
    const aBus = holdableBus(aRedis);
    const a = await env.instance({ ...settings, over: env.connect(), prefix, redis: aRedis });
    const bName = `b-${randomUUID().slice(0, 8)}`;
    const bRedis = env.adopt(
      new Redis(server.url, {
        lazyConnect: true,
        maxRetriesPerRequest: 1,
        connectionName: bName,
        retryStrategy: () => 1_000,
      }),
    );
    bRedis.on("error", () => undefined);
    await bRedis.connect();
    const bBus = holdableBus(bRedis);
    const b = await env.instance({
      ...settings,
      over: env.connect(),
      prefix,
      redis: bRedis,
      ...(options.bL1 === false ? { l1: false as const } : {}),
    });
    /** True while B's bus subscriber is connected to the server. */
    const bSubscribed = async () =>
      String(await admin.call("CLIENT", "LIST", "TYPE", "pubsub")).includes(`name=${bName}`);
    return { server, admin, prefix, a, b, aBus, bBus, bSubscribed };
  }

  /** Reads `read` on `instance` until its in-process tier answers it. */
  async function cacheInProcess(instance: Instance, read: Read<unknown>): Promise<void> {
    await read(instance.prisma);
    expect(await observe(instance, read)).toMatchObject({ fromDatabase: false });
  }

  /**
   * True once `instance` serves in-process hits again: a read of an unrelated model, twice, the second an in-process
   * hit.
   */
  async function servesInProcess(instance: Instance, groupId: number): Promise<boolean> {
    const control: Read<unknown> = (p: CachedPrisma) =>
      p.group.findUnique({ where: { id: groupId }, select: { name: true }, cache: true });
    await control(instance.prisma);
    const hits = instance.prisma.$cache.stats().l1Hits;
    await control(instance.prisma);
    return instance.prisma.$cache.stats().l1Hits > hits;
  }

  describe("bus disconnect", () => {
    it("while B's bus connection is down, B's reads do not use its in-process tier (they read Redis)", async () => {
      const w = await env.world("bus-down");
      const { admin, b, bBus } = await twoInstancesOnPrivateRedis();
      const read: Read<unknown> = (p: CachedPrisma) =>
        p.user.findUnique({ where: { id: w.users.carol }, select: { name: true }, cache: true });
      await cacheInProcess(b, read);
      await b.prisma.$cache.settled();

      await admin.call("CLIENT", "KILL", "TYPE", "pubsub");
      expect(
        await pollUntil(
          async () => bBus.subscriber?.status,
          (status) => status !== "ready",
        ),
        "B noticed its bus connection closed",
      ).not.toBe("ready");

      const before = b.prisma.$cache.stats();
      expect(await observe(b, read)).toEqual({ value: { name: "Carol" }, fromDatabase: false });
      expect(b.prisma.$cache.stats()).toMatchObject({ l1Hits: before.l1Hits, l2Hits: before.l2Hits + 1 });
    });

    it("a write made while B's bus connection is away: B's first read after the write resolved is new", async () => {
      const w = await env.world("bus-gap");
      const { admin, a, b, bSubscribed } = await twoInstancesOnPrivateRedis();
      const read: Read<unknown> = (p: CachedPrisma) =>
        p.user.findUnique({ where: { id: w.users.carol }, select: { name: true }, cache: true });
      await cacheInProcess(b, read);

      await admin.client("KILL", "TYPE", "pubsub");
      await a.prisma.user.update({ where: { id: w.users.carol }, data: { name: "Renamed" } });
      expect(await bSubscribed(), "precondition: the write was made while B's bus was away").toBe(false);

      expect((await observe(b, read)).value).toEqual({ name: "Renamed" });
    });

    it("when B's bus is back, B has forgotten the in-process entries it may have missed invalidations for", async () => {
      const w = await env.world("bus-back");
      const { admin, a, b, bSubscribed } = await twoInstancesOnPrivateRedis();
      const read: Read<unknown> = (p: CachedPrisma) =>
        p.user.findUnique({ where: { id: w.users.carol }, select: { name: true }, cache: true });
      await cacheInProcess(b, read);

      await admin.client("KILL", "TYPE", "pubsub");
      await a.prisma.user.update({ where: { id: w.users.carol }, data: { name: "Renamed" } });
      expect(await bSubscribed(), "precondition: the write was made while B's bus was away").toBe(false);

      // Not reading the row meanwhile (a read through Redis would teach B the new versions): wait until B serves
      // in-process hits again.
      expect(await pollUntil(() => servesInProcess(b, w.groups.admins), Boolean), "B's bus came back").toBe(true);
      expect(await bSubscribed()).toBe(true);
      expect((await observe(b, read)).value).toEqual({ name: "Renamed" });
    });
  });

  describe("the bus member list evicted", () => {
    it("read-your-writes on every instance (contract item 1) after a real eviction of the member list (volatile-ttl): B's read right after A's write resolved returns the new row", async () => {
      const w = await env.world("evicted-members");
      // A 30 s lease: no heartbeat (which would list B again) falls within the test.
      const { admin, prefix, a, b, aBus, bBus } = await twoInstancesOnPrivateRedis({ busLease: "30s" });
      const read: Read<unknown> = (p: CachedPrisma) =>
        p.user.findUnique({ where: { id: w.users.carol }, select: { name: true }, cache: true });
      await cacheInProcess(b, read);
      await b.prisma.$cache.settled();
      const membersKey = `${prefix}bus:members`;
      expect(
        await admin.zrangebyscore(membersKey, "(0", "+inf"),
        "precondition: both instances are listed",
      ).toHaveLength(2);

      // Out of memory under a volatile-* policy: Redis evicts keys that have a TTL, the member list among them.
      await admin.config("SET", "maxmemory-policy", "volatile-ttl");
      await admin.config("SET", "maxmemory", "1");
      try {
        expect(
          await pollUntil(
            () => admin.exists(membersKey),
            (exists) => exists === 0,
          ),
          "the member list was evicted",
        ).toBe(0);
        expect(Number(/evicted_keys:(\d+)/.exec(await admin.info("stats"))?.[1]), "by eviction").toBeGreaterThan(0);
      } finally {
        await admin.config("SET", "maxmemory", "0");
      }

      const after = await readRightAfter(
        aBus,
        bBus,
        () => a.prisma.user.update({ where: { id: w.users.carol }, data: { name: "Renamed" } }),
        () => observe(b, read),
      );
      expect(after.value, "B's read right after the write resolved").toEqual({ name: "Renamed" });
    });
  });

  describe("other clients of the same Redis server", () => {
    it("a pattern subscriber (PSUBSCRIBE *, as a GUI opens) does not make writes in a young member list wait out the lease", async () => {
      const w = await env.world("pattern-subscriber");
      const { server, admin, prefix, a } = await twoInstancesOnPrivateRedis({ busLease: "30s" });
      const watcher = await env.connectRedis(server.url);
      await watcher.psubscribe("*");
      await admin.del(`${prefix}bus:members`);

      const started = performance.now();
      await a.prisma.user.update({ where: { id: w.users.carol }, data: { name: "Renamed" } });
      // Both instances acknowledge within milliseconds; counting the pattern subscriber would wait for the 30 s
      // lease.
      expect(performance.now() - started, "the write's duration, in ms").toBeLessThan(15_000);
      await watcher.punsubscribe("*");
    });

    it("another deployment on the same server and prefix but another database: its versions never pass for ours, and our writes are read by us at once (contract item 1)", async () => {
      const w = await env.world("other-database");
      const server = await startServer();
      const prefix = env.newPrefix();
      const [prodRedis, prodRedis2, stagingRedis] = [
        await env.connectRedis(`${server.url}/0`),
        await env.connectRedis(`${server.url}/0`),
        await env.connectRedis(`${server.url}/1`),
      ];
      const prod = await env.instance({ over: env.connect(), prefix, redis: prodRedis });
      const prod2 = await env.instance({ over: env.connect(), prefix, redis: prodRedis2 });
      const staging = await env.instance({ over: env.connect(), prefix, redis: stagingRedis });
      const read: Read<unknown> = (p: CachedPrisma) =>
        p.user.findUnique({ where: { id: w.users.alice }, select: { name: true }, cache: true });

      for (let round = 1; round <= 3; round++) {
        await cacheInProcess(prod, read);
        // Staging writes the same id: its versions come from database 1 and are larger than prod's.
        await staging.prisma.user.update({ where: { id: w.users.alice }, data: { name: "Alice" } });
        await new Promise((resolve) => setTimeout(resolve, 20));
        await read(prod.prisma);
        await read(prod.prisma);
        const writer = round === 2 ? prod2 : prod;
        await writer.prisma.user.update({ where: { id: w.users.alice }, data: { name: `prod-${round}` } });
        expect((await observe(prod, read)).value, `round ${round}: prod reads prod's own write`).toEqual({
          name: `prod-${round}`,
        });
      }

      // Nor do staging's heartbeats, numbered in database 1, pass for gaps in prod's sequence (each would clear
      // prod's in-process tier).
      await cacheInProcess(prod, read);
      await new Promise((resolve) => setTimeout(resolve, 1_200)); // several heartbeats of each deployment (every busLease / 3)
      const hits = prod.prisma.$cache.stats().l1Hits;
      await read(prod.prisma);
      expect(
        prod.prisma.$cache.stats().l1Hits,
        "prod's in-process entry survived the other database's heartbeats",
      ).toBe(hits + 1);
    });
  });

  describe("Redis down during a write", () => {
    it("a frozen Redis (SIGSTOP): the write succeeds, E_INVALIDATION is reported, the writer reads the new row; after SIGCONT another instance sees it via Redis", async () => {
      const w = await env.world("frozen-write");
      const { server, a, b } = await twoInstancesOnPrivateRedis({ bL1: false });
      const read: Read<unknown> = (p: CachedPrisma) =>
        p.user.findUnique({ where: { id: w.users.carol }, select: { name: true }, cache: true });
      await cacheInProcess(a, read);
      await a.prisma.$cache.settled();
      expect(await observe(b, read), "B reads A's entry from Redis").toEqual({
        value: { name: "Carol" },
        fromDatabase: false,
      });

      server.pause();
      try {
        const written = await a.prisma.user.update({ where: { id: w.users.carol }, data: { name: "Renamed" } });
        expect(written.name).toBe("Renamed");
        expect((await env.bare.user.findUniqueOrThrow({ where: { id: w.users.carol } })).name).toBe("Renamed");
        expect(a.log.codes()).toContain("E_INVALIDATION");
        expect(await observe(a, read), "the writer does not serve the old row").toEqual({
          value: { name: "Renamed" },
          fromDatabase: true,
        });
      } finally {
        server.resume();
      }

      expect(
        await pollUntil(
          async () => (await observe(b, read)).value,
          (value) => (value as { name: string }).name === "Renamed",
        ),
      ).toEqual({ name: "Renamed" });
      expect((await observe(a, read)).value).toEqual({ name: "Renamed" });
    });

    /**
     * Redis is full: `maxmemory` reached under `noeviction` (the policy the
     * docs require) rejects commands that may grow memory, so the bump script's
     * INCR fails with OOM, while reads (GET) and the bus (PUBLISH) still work.
     */
    async function fullRedisWrite(label: string) {
      const w = await env.world(label);
      const setup = await twoInstancesOnPrivateRedis({ bL1: false });
      const { admin, a, b } = setup;
      const read: Read<unknown> = (p: CachedPrisma) =>
        p.user.findUnique({ where: { id: w.users.carol }, select: { name: true }, cache: true });
      await cacheInProcess(a, read);
      await a.prisma.$cache.settled();
      expect(await observe(b, read)).toEqual({ value: { name: "Carol" }, fromDatabase: false });

      await admin.config("SET", "maxmemory", "1");
      const written = await a.prisma.user.update({ where: { id: w.users.carol }, data: { name: "Renamed" } });
      expect(written.name).toBe("Renamed");
      expect(a.log.codes()).toContain("E_INVALIDATION");
      return { ...setup, read };
    }

    /** B's reads until one is answered by the cache (Redis), which it is only once the retried bump landed. */
    function untilCachedAgain(b: Instance, read: Read<unknown>) {
      return pollUntil(
        () => observe(b, read),
        ({ fromDatabase }) => !fromDatabase,
      );
    }

    it("a bump Redis refused (full, noeviction) is retried in the background until Redis takes it; another instance then serves the new row via Redis", async () => {
      const { admin, b, read } = await fullRedisWrite("full-retry");
      try {
        // Told of the refused bump on the bus, B reads the written tags from the database until the bump lands.
        expect(await observe(b, read), "while the bump has not landed").toEqual({
          value: { name: "Renamed" },
          fromDatabase: true,
        });
      } finally {
        await admin.config("SET", "maxmemory", "0");
      }
      // Nothing is written any more: only the background retry can bump the versions (and tell B) now.
      expect(await untilCachedAgain(b, read)).toEqual({ value: { name: "Renamed" }, fromDatabase: false });
    });

    it("a bump Redis refused is still retried after the writer's $cache.close(): another instance serves the new row once Redis takes it", async () => {
      const { admin, a, b, read } = await fullRedisWrite("full-retry-after-close");
      try {
        expect(await observe(b, read), "while the bump has not landed").toEqual({
          value: { name: "Renamed" },
          fromDatabase: true,
        });
        await a.prisma.$cache.close();
      } finally {
        await admin.config("SET", "maxmemory", "0");
      }
      expect(await untilCachedAgain(b, read)).toEqual({ value: { name: "Renamed" }, fromDatabase: false });
    });

    it("a bump Redis refused (full, noeviction): the writer does not serve the old row from either tier", async () => {
      const { admin, a, read } = await fullRedisWrite("full-writer");
      try {
        expect((await observe(a, read)).value, "the writer's first read after its write").toEqual({
          name: "Renamed",
        });
        expect((await observe(a, read)).value, "and the next one").toEqual({ name: "Renamed" });
      } finally {
        await admin.config("SET", "maxmemory", "0");
      }
    });

    it("a dead Redis (SIGKILL): the write succeeds, E_INVALIDATION is reported, the writer reads the new row", async () => {
      const w = await env.world("dead-write");
      const { server, a } = await twoInstancesOnPrivateRedis();
      const read: Read<unknown> = (p: CachedPrisma) =>
        p.user.findUnique({ where: { id: w.users.carol }, select: { name: true }, cache: true });
      await cacheInProcess(a, read);
      await a.prisma.$cache.settled();

      await server.kill();
      await a.prisma.user.update({ where: { id: w.users.carol }, data: { name: "Renamed" } });

      expect((await env.bare.user.findUniqueOrThrow({ where: { id: w.users.carol } })).name).toBe("Renamed");
      expect(a.log.codes()).toContain("E_INVALIDATION");
      expect(await observe(a, read)).toEqual({ value: { name: "Renamed" }, fromDatabase: true });
      expect(await observe(a, read)).toEqual({ value: { name: "Renamed" }, fromDatabase: true });
    });
  });
});
