/**
 * The library's Redis Cluster code paths against a real Cluster: three
 * masters started for this file (test/helpers/redis-cluster.ts), real
 * Postgres, and instances that each have their own PrismaClient and their
 * own ioredis `Cluster` client, sharing a prefix.
 *
 * What differs on a Cluster, and is exercised here:
 * - tag versions are read and bumped one key per script (tags rarely share a
 *   slot), and the bus announcement is a separate script on the members key
 *   (src/invalidation/version-store.ts);
 * - fills are SET one by one, not pipelined (src/tiers/redis-tier.ts);
 * - the lock is taken by a script on its own key and the entry read after,
 *   and a holder stores then releases instead of one script
 *   (src/tiers/redis-lock.ts);
 * - the bus subscriber is a duplicated Cluster client connected to one node,
 *   while scripts publish from the node of the members key
 *   (src/invalidation/bus.ts);
 * - the eviction-policy check reads CONFIG from one node
 *   (src/invalidation/eviction-policy.ts).
 *
 * Every test checks that nothing was reported through `onError`: a Cluster
 * path that fails is absorbed (the database answers), so a silent fallback
 * would otherwise pass.
 */
import type { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeWith } from "../helpers/describe-with.js";
import { FakeClock, type CachedPrisma } from "../helpers/clients.js";
import { createScratchUser } from "../helpers/fixture.js";
import { Harness, observe, unique, type Instance, type InstanceOptions, type Read } from "../helpers/harness.js";
import { ReadGate } from "../helpers/read-gate.js";
import { holdableBus, readRightAfter, resolvesOnlyAfter, type HeldBus } from "../helpers/held-bus.js";
import { pollUntil } from "../helpers/poll.js";
import { keySlot, RedisCluster } from "../helpers/redis-cluster.js";
import { postgresTarget } from "../helpers/targets.js";

const TTL = 10_000;
const SWR = 20_000;

describeWith(["postgres", "redis-cluster"], "Redis Cluster: postgres + a private three-master cluster", () => {
  // No shared Redis in the target: every instance is given a Cluster client explicitly.
  const env = new Harness(postgresTarget({ redis: false }));
  let cluster: RedisCluster | undefined;
  let admin: Cluster;
  beforeAll(async () => {
    await env.start();
    cluster = await RedisCluster.start();
    admin = await cluster.client();
  });
  afterAll(async () => {
    await env.stop();
    await cluster?.stop();
  });

  /** The running cluster (beforeAll has started it). */
  const nodes = (): RedisCluster => cluster!;

  /**
   * `count` instances on one prefix (a new one unless `options.prefix`), each
   * its own PrismaClient and its own Cluster client, created in that order;
   * `first` adds options to the first one only (a gate).
   */
  async function instances(
    count: number,
    options: InstanceOptions = {},
    first: InstanceOptions = {},
  ): Promise<Instance[]> {
    const prefix = options.prefix ?? env.newPrefix();
    const made: Instance[] = [];
    for (let i = 0; i < count; i++) {
      made.push(
        await env.instance({
          over: env.connect(),
          redis: await nodes().client(),
          ...options,
          ...(i === 0 ? first : {}),
          prefix,
        }),
      );
    }
    return made;
  }

  /** An instance on `prefix` whose bus messages the test can watch and hold (its Cluster client is returned too). */
  async function watched(
    prefix: string,
    options: InstanceOptions = {},
  ): Promise<{ instance: Instance; bus: HeldBus; redis: Cluster }> {
    const redis = await nodes().client();
    const bus = holdableBus(redis);
    return { instance: await env.instance({ over: env.connect(), ...options, prefix, redis }), bus, redis };
  }

  /**
   * A new prefix under which the version keys of `tags` are served by as many
   * different masters, so that a test touching them crosses nodes for certain
   * rather than by the luck of the prefix's hash.
   */
  function prefixSpreading(tags: readonly string[]): string {
    // Some sets are rarely spread (CRC16 is linear: names of equal length keep a fixed slot distance), hence many
    // tries.
    for (let attempt = 0; attempt < 100_000; attempt++) {
      const prefix = env.newPrefix();
      if (new Set(tags.map((tag) => nodes().portOf(`${prefix}t:${tag}`))).size === tags.length) return prefix;
    }
    throw new Error(`no prefix spreads ${tags.join(", ")} over ${tags.length} masters`);
  }

  /** Reads `read` on `instance` twice: the repeat must be answered by its in-process tier. Returns the value. */
  async function cacheInProcess<T>(instance: Instance, read: Read<T>): Promise<T> {
    await read(instance.prisma);
    const before = instance.prisma.$cache.stats().l1Hits;
    const again = await observe(instance, read);
    expect(again.fromDatabase, `the repeat reached the database; reported: ${reports([instance]).join(" | ")}`).toBe(
      false,
    );
    expect(instance.prisma.$cache.stats().l1Hits - before, "the repeat was an in-process hit").toBe(1);
    return again.value;
  }

  /** What `instances` reported through onError, as text: the likely cause when a read is not what a test expects. */
  function reports(instances: readonly Instance[]): string[] {
    // The cause carries Redis' own words (NOSCRIPT, CROSSSLOT, MOVED...), which say which Cluster path failed.
    const causeOf = (error: Error) => (error.cause instanceof Error ? ` <- ${error.cause.message}` : "");
    return instances.flatMap((instance) =>
      instance.log.errors.map((error) => `${error.code}: ${error.message}${causeOf(error)}`),
    );
  }

  /** Nothing was absorbed and reported on any of `instances` (a failed Cluster path falls back silently otherwise). */
  function expectNoReports(instances: readonly Instance[]): void {
    expect(reports(instances), "reported through onError").toEqual([]);
  }

  /** No single-flight lock is left under `prefix`, on any master. */
  async function expectNoLocks(prefix: string, instances: readonly Instance[]): Promise<void> {
    expect(
      await nodes().keysMatching(`${prefix}*:lock`),
      `a lock outlived its holder's fill; reported: ${reports(instances).join(" | ")}`,
    ).toEqual([]);
  }

  /** A new user named `name`, in a world of its own (removed by `env.stop()`). */
  async function scratchUser(label: string, name: string): Promise<number> {
    const world = await env.world(label);
    return (await createScratchUser(env.bare, world, label, { name })).id;
  }

  const nameOf =
    (id: number): Read<unknown> =>
    (p: CachedPrisma) =>
      p.user.findUnique({ where: { id }, select: { name: true }, cache: true });
  /** Calls that reached the database on any of `fleet` (reads the cache did not answer, and writes). */
  const databaseCalls = (fleet: readonly Instance[]) =>
    fleet.reduce((sum, instance) => sum + instance.database.queries, 0);

  it("the fixture is a Cluster of three masters, and the library's keys spread over them", async () => {
    const [a] = await instances(1);
    // Six rows: their entries and record versions are a dozen keys, so that they land on one node by chance at odds
    // of 3^-11, not the 1 in 80 of one row's five keys.
    for (let i = 0; i < 6; i++) await nameOf(await scratchUser(`spread-${i}`, "v1"))(a!.prisma);
    await a!.prisma.$cache.settled();
    expect(admin.isCluster).toBe(true);
    expect(admin.nodes("master")).toHaveLength(3);
    const keys = await nodes().keysMatching(`${a!.prefix}*`);
    // The entry, its tags' versions and the bus members: keys the single-node paths would put in one script.
    expect(keys.some((key) => key.startsWith(`${a!.prefix}t:`))).toBe(true);
    expect(keys).toContain(`${a!.prefix}bus:members`);
    const ports = new Set(keys.map((key) => nodes().portOf(key)));
    expect(ports.size, `keys ${keys.join(", ")} all on one node`).toBeGreaterThan(1);
    // The fixture's own slot computation, which the tests use to place keys, agrees with the server's.
    for (const key of [...keys, "{user1000}.following", "foo{}{bar}", "{}x"])
      expect(keySlot(key), key).toBe(Number(await admin.cluster("KEYSLOT", key)));
    expectNoReports([a!]);
  });

  describe("read-through", () => {
    it("a miss, then an in-process hit, then a second instance's Redis hit: one database query", async () => {
      const [a, b] = await instances(2);
      const id = await scratchUser("read-through", "v1");
      const read = nameOf(id);

      expect(await observe(a!, read)).toEqual({ value: { name: "v1" }, fromDatabase: true });
      expect(await observe(a!, read)).toEqual({ value: { name: "v1" }, fromDatabase: false });
      expect(a!.prisma.$cache.stats()).toMatchObject({ misses: 1, l1Hits: 1, l2Hits: 0 });
      await a!.prisma.$cache.settled();
      const isEntry = (key: string) =>
        !key.startsWith(`${a!.prefix}t:`) && !key.startsWith(`${a!.prefix}bus:`) && !key.endsWith(":lock");
      expect(
        (await nodes().keysMatching(`${a!.prefix}*`)).filter(isEntry),
        "one shared entry, SET on its own node",
      ).toHaveLength(1);
      await expectNoLocks(a!.prefix, [a!]);

      expect(await observe(b!, read), "B: from Redis").toEqual({ value: { name: "v1" }, fromDatabase: false });
      expect(b!.prisma.$cache.stats()).toMatchObject({ misses: 0, l1Hits: 0, l2Hits: 1 });
      expect(await observe(b!, read), "B: then from its own in-process tier").toEqual({
        value: { name: "v1" },
        fromDatabase: false,
      });
      expect(b!.prisma.$cache.stats()).toMatchObject({ misses: 0, l1Hits: 1, l2Hits: 1 });
      expectNoReports([a!, b!]);
    });
  });

  describe("invalidation across instances (contract item 1)", () => {
    it("B updates a row through its client; once that resolves, A's next findUnique by id and findMany are new", async () => {
      const w = await env.world("cluster-instances");
      const [a, b] = await instances(2);
      const read: Read<unknown> = (p) =>
        p.user.findUnique({ where: { id: w.users.carol }, select: { name: true }, cache: true });
      const list: Read<unknown> = (p) =>
        p.user.findMany({
          where: { tenantId: w.tenantId },
          select: { name: true },
          orderBy: { id: "asc" },
          cache: true,
        });
      expect(await cacheInProcess(a!, read)).toEqual({ name: "Carol" });
      expect(await cacheInProcess(a!, list)).toEqual([{ name: "Alice" }, { name: null }, { name: "Carol" }]);

      await b!.prisma.user.update({ where: { id: w.users.carol }, data: { name: "Renamed" } });

      expect(await observe(a!, read), `A's findUnique; reported: ${reports([a!, b!]).join(" | ")}`).toEqual({
        value: { name: "Renamed" },
        fromDatabase: true,
      });
      expect(await observe(a!, list), `A's findMany; reported: ${reports([a!, b!]).join(" | ")}`).toEqual({
        value: [{ name: "Alice" }, { name: null }, { name: "Renamed" }],
        fromDatabase: true,
      });
      expectNoReports([a!, b!]);
    });

    it("$cache.invalidate({ tags }) on B, with custom tags served by different masters, reaches A's in-process tier", async () => {
      const w = await env.world("cluster-tags");
      const tags = [unique("front-page"), unique("published-count")];
      const [a, b] = await instances(2, { prefix: prefixSpreading(tags) });
      const frontPage: Read<unknown> = (p) =>
        p.post.findMany({
          where: { tenantId: w.tenantId, published: true },
          select: { title: true },
          orderBy: { id: "asc" },
          cache: { tags: [tags[0]!] },
        });
      const published: Read<unknown> = (p) =>
        p.post.count({ where: { tenantId: w.tenantId, published: true }, cache: { tags: [tags[1]!] } });
      expect(await cacheInProcess(a!, frontPage)).toEqual([
        { title: "Welcome" },
        { title: "Bob's post" },
        { title: "Orphan" },
      ]);
      expect(await cacheInProcess(a!, published)).toBe(3);
      // Behind the cache's back, as another service would: only the explicit invalidation can tell A.
      await env.bare.post.update({ where: { id: w.posts.orphan }, data: { published: false } });

      await b!.prisma.$cache.invalidate({ tags });

      expect(await observe(a!, frontPage), `reported: ${reports([a!, b!]).join(" | ")}`).toEqual({
        value: [{ title: "Welcome" }, { title: "Bob's post" }],
        fromDatabase: true,
      });
      expect(await observe(a!, published), `reported: ${reports([a!, b!]).join(" | ")}`).toEqual({
        value: 2,
        fromDatabase: true,
      });
      expectNoReports([a!, b!]);
    });

    it("a nested write whose tags live on three masters invalidates every read it can have changed", async () => {
      const w = await env.world("cluster-nested");
      const prefix = prefixSpreading(["m:User", "m:Post", "m:Profile"]);
      const [a, b] = await instances(2, { prefix });
      const id = (
        await env.bare.user.create({
          data: {
            tenantId: w.tenantId,
            email: `${unique("nested")}@scratch.test`,
            name: "v1",
            profile: { create: { bio: "old" } },
          },
        })
      ).id;
      const reads: Record<string, Read<unknown>> = {
        "user by id": (p) => p.user.findUnique({ where: { id }, select: { name: true }, cache: true }),
        "user list": (p) => p.user.findMany({ where: { id }, select: { name: true }, cache: true }),
        "posts by author": (p) => p.post.findMany({ where: { authorId: id }, select: { title: true }, cache: true }),
        "profile by user": (p) => p.profile.findUnique({ where: { userId: id }, select: { bio: true }, cache: true }),
        "user with relations": (p) =>
          p.user.findUnique({
            where: { id },
            select: { name: true, posts: { select: { title: true } }, profile: { select: { bio: true } } },
            cache: true,
          }),
      };
      for (const read of Object.values(reads)) {
        await cacheInProcess(a!, read);
        await cacheInProcess(b!, read);
      }
      const versionKeys = ["m:User", "m:Post", "m:Profile"].map((tag) => `${prefix}t:${tag}`);
      const before = await Promise.all(versionKeys.map((key) => admin.get(key)));
      expect(
        before.every((version) => version !== null),
        "the reads initialised every version",
      ).toBe(true);

      await b!.prisma.user.update({
        where: { id },
        data: {
          name: "v2",
          posts: { create: { tenantId: w.tenantId, slug: "nested", title: "Nested" } },
          profile: { update: { bio: "new" } },
        },
      });

      const after = await Promise.all(versionKeys.map((key) => admin.get(key)));
      after.forEach((version, i) =>
        expect(
          Number(version),
          `${versionKeys[i]} was bumped on its node; reported: ${reports([a!, b!]).join(" | ")}`,
        ).toBeGreaterThan(Number(before[i])),
      );
      const expected: Record<string, unknown> = {
        "user by id": { name: "v2" },
        "user list": [{ name: "v2" }],
        "posts by author": [{ title: "Nested" }],
        "profile by user": { bio: "new" },
        "user with relations": { name: "v2", posts: [{ title: "Nested" }], profile: { bio: "new" } },
      };
      for (const [name, read] of Object.entries(reads)) {
        expect(await observe(a!, read), `A: ${name}; reported: ${reports([a!, b!]).join(" | ")}`).toEqual({
          value: expected[name],
          fromDatabase: true,
        });
        expect((await observe(b!, read)).value, `B: ${name}`).toEqual(expected[name]);
      }
      expectNoReports([a!, b!]);
    });

    it("after every master forgot the scripts (a restart, a failover), writes still invalidate and nothing is reported", async () => {
      const prefix = prefixSpreading(["m:User", "m:Post", "m:Profile"]);
      const [a, b] = await instances(2, { prefix });
      const w = await env.world("cluster-noscript");
      const id = (
        await env.bare.user.create({
          data: {
            tenantId: w.tenantId,
            email: `${unique("noscript")}@scratch.test`,
            name: "v0",
            profile: { create: { bio: "b0" } },
          },
        })
      ).id;
      const read: Read<unknown> = (p) =>
        p.user.findUnique({
          where: { id },
          select: { name: true, posts: { select: { title: true } }, profile: { select: { bio: true } } },
          cache: true,
        });
      // Several rounds: each reloads the scripts, and a round must not pass because a reload happened to hit the right
      // node.
      for (let round = 1; round <= 5; round++) {
        await cacheInProcess(a!, read);
        await nodes().flushScripts();
        await b!.prisma.user.update({
          where: { id },
          data: {
            name: `v${round}`,
            posts: { create: { tenantId: w.tenantId, slug: `r${round}`, title: `R${round}` } },
            profile: { update: { bio: `b${round}` } },
          },
        });
        const value = (await observe(a!, read)).value as { name: string; posts: unknown[]; profile: { bio: string } };
        expect(
          { name: value.name, posts: value.posts.length, bio: value.profile.bio },
          `round ${round}: A's read after B's write; reported: ${reports([a!, b!]).join(" | ")}`,
        ).toEqual({ name: `v${round}`, posts: round, bio: `b${round}` });
      }
      expectNoReports([a!, b!]);
    });
  });

  describe("the bus on a Cluster", () => {
    it("both instances are live members; a write through A resolves only after B's subscriber delivered it", async () => {
      const w = await env.world("cluster-bus");
      const prefix = env.newPrefix();
      const [{ instance: a, bus: aBus }, { instance: b, bus: bBus }] = [await watched(prefix), await watched(prefix)];
      // Positive scores are leases of members that heartbeat; the bus sequence is kept there with a negative score.
      expect(await admin.zrangebyscore(`${prefix}bus:members`, "(0", "+inf"), "two members with a lease").toHaveLength(
        2,
      );
      expect(
        Number(await admin.zscore(`${prefix}bus:members`, "#seq")),
        "heartbeats took sequence numbers",
      ).toBeLessThan(0);
      const read = nameOf(w.users.carol);
      await cacheInProcess(b, read);

      const waited = await resolvesOnlyAfter(aBus, bBus, () =>
        a.prisma.user.update({ where: { id: w.users.carol }, data: { name: "Renamed" } }),
      );
      expect(waited, `the write resolved before B had applied it; reported: ${reports([a, b]).join(" | ")}`).toBe(true);

      expect(await observe(b, read)).toEqual({ value: { name: "Renamed" }, fromDatabase: true });
      expectNoReports([a, b]);
    });

    it("a gap in the bus sequence (a message the subscriber missed, as when ioredis moves it to another node) clears A's in-process tier", async () => {
      const w = await env.world("cluster-seq");
      const prefix = env.newPrefix();
      const { instance: a, bus: aBus, redis: aRedis } = await watched(prefix);
      expect(aBus.subscriber?.isCluster, "the bus subscribes through a Cluster client of its own").toBe(true);
      expect(aBus.subscriber).not.toBe(aRedis);
      const read = nameOf(w.users.carol);
      await cacheInProcess(a, read);
      await a.prisma.$cache.settled(); // the entry is in Redis too

      // Far ahead of the sequence, so that no heartbeat sent meanwhile can make it the next number.
      const seq = -Number(await admin.zscore(`${prefix}bus:members`, "#seq")) + 1_000;
      const arrived = aBus.seen((message) => message.from === "sequence-gap-test");
      await admin.publish(`${prefix}bus`, JSON.stringify({ t: "hb", from: "sequence-gap-test", beat: 1, seq }));
      await arrived;

      const before = a.prisma.$cache.stats();
      expect(await observe(a, read), "answered, without the database").toEqual({
        value: { name: "Carol" },
        fromDatabase: false,
      });
      expect(a.prisma.$cache.stats().l1Hits - before.l1Hits, "not by the in-process tier, which was cleared").toBe(0);
      expect(a.prisma.$cache.stats().l2Hits - before.l2Hits, "by Redis").toBe(1);
      expectNoReports([a]);
    });

    it("read-your-writes on every instance (contract item 1) after the member list was deleted: B's read right after A's write resolved returns the new row", async () => {
      const w = await env.world("cluster-lost-members");
      const prefix = env.newPrefix();
      // A 3 s lease: heartbeats (which list B again) come a second apart, not within the few ms between the loss and
      // the write.
      const options = { busLease: "3s" } as const;
      const [{ instance: a, bus: aBus }, { instance: b, bus: bBus }] = [
        await watched(prefix, options),
        await watched(prefix, options),
      ];
      const read = nameOf(w.users.carol);
      await cacheInProcess(b, read);
      await b.prisma.$cache.settled();
      await admin.del(`${prefix}bus:members`);

      // A Cluster node's PUBLISH counts only its own subscribers, so the writer cannot tell who heard it: it waits
      // until the re-created list is a lease old.
      const after = await readRightAfter(
        aBus,
        bBus,
        () => a.prisma.user.update({ where: { id: w.users.carol }, data: { name: "Renamed" } }),
        () => observe(b, read),
      );
      expect(after.value, `B's read right after the write resolved; reported: ${reports([a, b]).join(" | ")}`).toEqual({
        name: "Renamed",
      });
      expectNoReports([a, b]);
    });

    it("close(): B leaves the membership and says goodbye; A's writes then reach only A", async () => {
      const w = await env.world("cluster-close");
      const prefix = env.newPrefix();
      const { instance: a, bus: aBus } = await watched(prefix);
      const [b] = await instances(1, { prefix });
      expect(await admin.zrangebyscore(`${prefix}bus:members`, "(0", "+inf")).toHaveLength(2);
      const read = nameOf(w.users.carol);
      await cacheInProcess(a, read);

      const goodbye = aBus.seen((message) => message.t === "bye");
      await b!.prisma.$cache.close();
      await goodbye;
      expect(await admin.zrangebyscore(`${prefix}bus:members`, "(0", "+inf"), "only A is left").toHaveLength(1);

      await a.prisma.user.update({ where: { id: w.users.carol }, data: { name: "After close" } });
      expect(await observe(a, read)).toEqual({ value: { name: "After close" }, fromDatabase: true });
      expectNoReports([a, b!]);
    });
  });

  describe("single-flight across instances (the lock on a Cluster)", () => {
    it("4 instances x 25 concurrent cold reads: 1 database query; the lock is released; after a write, the next cold reads load once", async () => {
      const gate = new ReadGate();
      const fleet = await instances(4, { lock: { wait: "10s" } }, { gate });
      const [holder, ...others] = fleet as [Instance, ...Instance[]];
      const id = await scratchUser("cluster-lock", "v1");
      const read = nameOf(id);
      const before = databaseCalls(fleet);
      const held = gate.arm((model, operation) => model === "User" && operation === "findUnique");
      const first = Promise.all(Array.from({ length: 25 }, () => read(holder.prisma)));
      await held.arrived; // the holder has the lock and is loading
      const rest = others.map((instance) => Promise.all(Array.from({ length: 25 }, () => read(instance.prisma))));
      await pollUntil(
        async () => others.map((instance) => instance.prisma.$cache.stats().lockWaits),
        (waits) => waits.every((count) => count === 1),
      );
      held.release();
      const results = [...(await first), ...(await Promise.all(rest)).flat()];
      expect(results).toHaveLength(100);
      for (const result of results) expect(result).toEqual({ name: "v1" });
      expect(
        databaseCalls(fleet) - before,
        `one database query for 100 reads over 4 instances; reported: ${reports(fleet).join(" | ")}`,
      ).toBe(1);
      for (const other of others)
        expect(other.prisma.$cache.stats()).toMatchObject({ lockWaits: 1, coalesced: 24, misses: 25 });
      await Promise.all(fleet.map((instance) => instance.prisma.$cache.settled()));
      await expectNoLocks(holder.prefix, fleet);

      await others[0]!.prisma.user.update({ where: { id }, data: { name: "v2" } });
      const afterWrite = databaseCalls(fleet);
      const again = (
        await Promise.all(fleet.map((instance) => Promise.all(Array.from({ length: 25 }, () => read(instance.prisma)))))
      ).flat();
      for (const result of again) expect(result).toEqual({ name: "v2" });
      expect(databaseCalls(fleet) - afterWrite, "the lock was free again: one load after the write").toBe(1);
      await Promise.all(fleet.map((instance) => instance.prisma.$cache.settled()));
      await expectNoLocks(holder.prefix, fleet);
      expectNoReports(fleet);
    });
  });

  describe("stale-while-revalidate on a Cluster (injected clock)", () => {
    /** Two instances on one prefix and one fake clock: fresh for 10 s, then served stale for 20 s. */
    async function rampPair(): Promise<{ a: Instance; b: Instance; clock: FakeClock }> {
      const clock = new FakeClock();
      const [a, b] = await instances(2, { clock, defaults: { ttl: TTL / 1000, swr: SWR / 1000, jitter: 0 } });
      return { a: a!, b: b!, clock };
    }

    it("A serves its in-process entry stale, refreshes it once in the background, and B reads the refreshed entry from Redis", async () => {
      const { a, b, clock } = await rampPair();
      const id = await scratchUser("cluster-swr", "v1");
      const read = nameOf(id);
      expect(await observe(a, read)).toEqual({ value: { name: "v1" }, fromDatabase: true });
      await a.prisma.$cache.settled();
      await env.bare.user.update({ where: { id }, data: { name: "v2" } }); // behind the cache

      clock.advance(TTL + 1);
      const before = a.database.queries;
      expect(await read(a.prisma), "stale: the old value, at once").toEqual({ name: "v1" });
      await a.prisma.$cache.settled();
      expect(a.database.queries, `one background refresh; reported: ${reports([a, b]).join(" | ")}`).toBe(before + 1);
      expect(a.prisma.$cache.stats()).toMatchObject({ staleHits: 1, refreshes: 1, refreshFailures: 0 });
      expect(await observe(a, read), "the refreshed entry").toEqual({ value: { name: "v2" }, fromDatabase: false });
      expect(await observe(b, read), "B: the refreshed entry, from Redis").toEqual({
        value: { name: "v2" },
        fromDatabase: false,
      });
      expect(b.prisma.$cache.stats()).toMatchObject({ l2Hits: 1, staleHits: 0, misses: 0 });
      await expectNoLocks(a.prefix, [a, b]);
      expectNoReports([a, b]);
    });

    it("B finds the entry stale in Redis: served at once, refreshed once under the lock, then fresh for both", async () => {
      const { a, b, clock } = await rampPair();
      const id = await scratchUser("cluster-swr-shared", "v1");
      const read = nameOf(id);
      await read(a.prisma);
      await a.prisma.$cache.settled();
      await env.bare.user.update({ where: { id }, data: { name: "v2" } });

      clock.advance(TTL + 1);
      expect(await observe(b, read), "B: stale, from Redis").toEqual({ value: { name: "v1" }, fromDatabase: false });
      await b.prisma.$cache.settled();
      expect(b.database.queries, `B refreshed once; reported: ${reports([a, b]).join(" | ")}`).toBe(1);
      expect(b.prisma.$cache.stats()).toMatchObject({ l2Hits: 1, staleHits: 1, refreshes: 1, refreshFailures: 0 });
      expect(await observe(b, read)).toEqual({ value: { name: "v2" }, fromDatabase: false });
      await expectNoLocks(b.prefix, [a, b]);
      expectNoReports([a, b]);
    });
  });

  describe("the eviction-policy check on a Cluster", () => {
    it("reports E_REDIS_POLICY when the masters have a maxmemory and noeviction, and nothing with the defaults", async () => {
      const [quiet] = await instances(1);
      const masters = admin.nodes("master");
      const setting = async (node: (typeof masters)[number], name: string) =>
        String(((await node.config("GET", name)) as string[])[1]);
      const saved = await Promise.all(
        masters.map(
          async (node) => [await setting(node, "maxmemory"), await setting(node, "maxmemory-policy")] as const,
        ),
      );
      try {
        await Promise.all(
          masters.map((node) =>
            node.config("SET", "maxmemory", "512mb").then(() => node.config("SET", "maxmemory-policy", "noeviction")),
          ),
        );
        const [full] = await instances(1);
        await pollUntil(
          async () => full!.log.codes(),
          (codes) => codes.includes("E_REDIS_POLICY"),
        );
        expect(full!.log.codes()).toEqual(["E_REDIS_POLICY"]);
      } finally {
        await Promise.all(
          masters.map((node, i) =>
            node
              .config("SET", "maxmemory", saved[i]![0])
              .then(() => node.config("SET", "maxmemory-policy", saved[i]![1])),
          ),
        );
      }
      expectNoReports([quiet!]);
    });
  });
});
