/**
 * The read modes of the shared tier (src/read/cache-stack.ts and its steps), against real
 * Postgres and Redis through real Prisma clients, each instance its own
 * PrismaClient and Redis connection:
 *
 * (A) early loads: when Redis has rarely answered this instance lately, the
 *     database read is dispatched at once, with tag versions taken from the
 *     mirror before it, and Redis is asked alongside (on some of these
 *     misses only: the others skip it); a live Redis entry still wins (the
 *     database read is wasted and counted), else the database result is
 *     used and filled with the mirror's versions;
 * (B) mirror-checked shared reads: while the bus is healthy and the mirror
 *     knows every tag, the entry is read with a plain GET and checked
 *     against the mirror's versions instead of Redis's.
 *
 * Both lean on the mirror being current for every write that has resolved
 * (docs/invalidation.md); these tests hold them to the consistency contract,
 * items 1 (read-after-write, every instance) and 2 (the fill race), and
 * check that an instance whose bus is down does not take either shortcut.
 *
 * Every test first checks that the read it is about was answered in the
 * mode under test (traced on the instance's Redis connection and below the
 * cache: see test/helpers/traced.ts), so that a change of when
 * the modes apply shows up as a failed precondition, not as a test that
 * quietly stopped testing them.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeWith } from "../helpers/describe-with.js";
import type { Duration } from "../../src/index.js";
import type { CachedPrisma } from "../helpers/clients.js";
import { createScratchUser } from "../helpers/fixture.js";
import { Harness, unique, unusedId, type Read } from "../helpers/harness.js";
import { ReadGate } from "../helpers/read-gate.js";
import { holdableBus } from "../helpers/held-bus.js";
import {
  driveHitRateLow,
  startedEarly,
  traced,
  tracedLab,
  TracedInstances,
  unhandledRejectionsDuring,
  type TracedInstance,
} from "../helpers/traced.js";
import { RedisServer } from "../helpers/redis-server.js";
import { postgresTarget } from "../helpers/targets.js";
import { pollUntil } from "../helpers/poll.js";

/** A user's name by primary key: tags `q:<query>`, `r:User:<id>`, `rs:User`. */
const nameOf =
  (id: number): Read<{ name: string | null } | null> =>
  (p: CachedPrisma) =>
    p.user.findUnique({ where: { id }, select: { name: true }, cache: true });

describeWith(["postgres", "redis"], "read modes of the shared tier: postgres + redis", () => {
  const { env, lab } = tracedLab();

  /** A user of a fresh world, named `name`, created behind the cache. */
  async function scratchUser(label: string, name: string): Promise<number> {
    const w = await env.world(label);
    return (await createScratchUser(env.bare, w, label, { name })).id;
  }

  describe("(A) early loads", () => {
    /** More reads than any sane "ask Redis on one early miss in N" needs to ask it once. */
    const PROBE_ATTEMPTS = 64;

    it("an instance that rarely hits Redis starts the database read without waiting for Redis: a miss returns the database row (nothing wasted); a live entry filled by another instance wins, and the database read is counted as wasted", async () => {
      const id = await scratchUser("early", "Original");
      const prefix = env.newPrefix();
      const b = await lab.instance({ prefix, l1: false });
      const writer = await lab.instance({ prefix });
      const filler = await lab.instance({ prefix, l1: false });
      const read = nameOf(id);

      await driveHitRateLow(b);
      // The mirror learns every tag (read from Redis with the entry: the mirror does not know them yet).
      expect(await traced(b, read)).toEqual({ value: { name: "Original" }, mode: "redis-versions" });

      // A write through another instance; B's mirror hears the new versions on the bus. Redis holds no live entry.
      await writer.prisma.user.update({ where: { id }, data: { name: "First" } });
      const before = b.prisma.$cache.stats();
      const queries = b.database.queries;
      const miss = await traced(b, read);
      expect(miss.value, "a miss: the database row").toEqual({ name: "First" });
      expect(
        startedEarly(miss.mode),
        `precondition: the database read did not wait for Redis (it was ${miss.mode})`,
      ).toBe(true);
      expect(b.database.queries).toBe(queries + 1);
      expect(b.prisma.$cache.stats()).toMatchObject({
        misses: before.misses + 1,
        l2Hits: before.l2Hits,
        earlyLoads: 0,
      });

      // An early load may skip Redis (then it returns the database row and fills Redis with it); so each
      // attempt starts over, until one asks Redis alongside the database read.
      let probed = false;
      for (let attempt = 0; attempt < PROBE_ATTEMPTS && !probed; attempt++) {
        const name = `Filled ${attempt}`;
        await writer.prisma.user.update({ where: { id }, data: { name } });
        // Another instance reads and fills Redis with the current row...
        expect((await traced(filler, read)).value).toEqual({ name });
        await filler.prisma.$cache.settled();
        // ...which then changes behind the cache (as another service would): from now on only the entry says `name`.
        await env.bare.user.update({ where: { id }, data: { name: "Behind" } });

        const stats = b.prisma.$cache.stats();
        const wasted = b.database.queries;
        const { value, mode } = await traced(b, read);
        expect(startedEarly(mode), `attempt ${attempt}: precondition: still early (it was ${mode})`).toBe(true);
        expect(b.database.queries, "the database is read either way").toBe(wasted + 1);
        if (mode === "database-only") {
          expect(value, "without asking Redis: the database row").toEqual({ name: "Behind" });
          expect(b.prisma.$cache.stats()).toMatchObject({
            misses: stats.misses + 1,
            l2Hits: stats.l2Hits,
            earlyLoads: 0,
          });
        } else {
          probed = true;
          expect(value, "Redis asked alongside: its live entry wins over the database read").toEqual({ name });
          expect(b.prisma.$cache.stats()).toMatchObject({
            l2Hits: stats.l2Hits + 1,
            misses: stats.misses,
            earlyLoads: 1,
          });
        }
        await b.prisma.$cache.settled();
      }
      expect(probed, `an early load asked Redis within ${PROBE_ATTEMPTS} reads`).toBe(true);
      expect(b.log.codes()).toEqual([]);
    });

    /**
     * Contract item 2 in early mode. The early read's versions must be the
     * mirror's from before the database read: taken after it (say, when the
     * result is filled), they would be the versions the write produced, and
     * the old row would be stored as current in both tiers.
     */
    it("the fill race: an early read paused between its database read and its fill while another instance writes does not store its old row as fresh (its in-process tier; Redis, for an instance checking it against its mirror and for one reading Redis's versions)", async () => {
      const id = await scratchUser("early-race", "Original");
      const prefix = env.newPrefix();
      const gate = new ReadGate();
      const reader = await lab.instance({ prefix, gate });
      const writer = await lab.instance({ prefix });
      const checker = await lab.instance({ prefix, l1: false });
      const read = nameOf(id);

      await driveHitRateLow(reader);
      expect(await traced(reader, read)).toEqual({ value: { name: "Original" }, mode: "redis-versions" });
      expect((await traced(checker, read)).value).toEqual({ name: "Original" });
      await writer.prisma.user.update({ where: { id }, data: { name: "First" } });
      await reader.prisma.$cache.settled();

      const paused = gate.arm((model, operation) => model === "User" && operation === "findUnique");
      reader.trace.clear();
      // Cached reads are lazy, like Prisma's: Promise.resolve() starts this one.
      const reading = Promise.resolve(read(reader.prisma));
      await paused.arrived;
      await writer.prisma.user.update({ where: { id }, data: { name: "Second" } });
      paused.release();
      // It started before the write resolved: returning the row it read is fine.
      expect(await reading).toEqual({ name: "First" });
      expect(
        startedEarly(reader.trace.mode()),
        `precondition: the paused read was an early load (it was ${reader.trace.mode()})`,
      ).toBe(true);
      await reader.prisma.$cache.settled();
      expect(
        reader.prisma.$cache.stats().l1Entries,
        "precondition: the late fill was stored in-process",
      ).toBeGreaterThan(0);

      const next = await traced(reader, read);
      expect(next.value, "the reader's next read (its in-process entry is dead)").toEqual({ name: "Second" });
      expect(next.mode).not.toBe("in-process");
      expect((await traced(writer, read)).value, "the writer's next read").toEqual({ name: "Second" });
      expect(await traced(checker, read), "an instance checking Redis entries against its mirror").toEqual({
        value: { name: "Second" },
        mode: "mirror-checked",
      });
      const fresh = await lab.instance({ prefix, l1: false });
      expect(await traced(fresh, read), "an instance reading Redis's versions").toEqual({
        value: { name: "Second" },
        mode: "redis-versions",
      });
    });

    it("the fill race, with the late fill reaching Redis only (no in-process tier): no other instance takes it as live", async () => {
      const id = await scratchUser("early-race-l2", "Original");
      const prefix = env.newPrefix();
      const gate = new ReadGate();
      const reader = await lab.instance({ prefix, gate, l1: false });
      const writer = await lab.instance({ prefix });
      const checker = await lab.instance({ prefix, l1: false });
      const read = nameOf(id);

      await driveHitRateLow(reader);
      expect(await traced(reader, read)).toMatchObject({ value: { name: "Original" }, mode: "redis-versions" });
      expect((await traced(checker, read)).value).toEqual({ name: "Original" });
      await writer.prisma.user.update({ where: { id }, data: { name: "First" } });

      const paused = gate.arm((model, operation) => model === "User" && operation === "findUnique");
      reader.trace.clear();
      const reading = Promise.resolve(read(reader.prisma));
      await paused.arrived;
      await writer.prisma.user.update({ where: { id }, data: { name: "Second" } });
      paused.release();
      expect(await reading).toEqual({ name: "First" });
      expect(
        startedEarly(reader.trace.mode()),
        `precondition: the paused read was an early load (it was ${reader.trace.mode()})`,
      ).toBe(true);
      await reader.prisma.$cache.settled();

      expect(await traced(checker, read), "an instance checking Redis entries against its mirror").toEqual({
        value: { name: "Second" },
        mode: "mirror-checked",
      });
      const fresh = await lab.instance({ prefix, l1: false });
      expect(await traced(fresh, read), "an instance reading Redis's versions").toEqual({
        value: { name: "Second" },
        mode: "redis-versions",
      });
      expect((await traced(reader, read)).value).toEqual({ name: "Second" });
    });

    /**
     * The early database read runs while the Redis lookup is awaited. When
     * the database fails first (a `findUniqueOrThrow` that finds nothing:
     * P2025, in about a millisecond) and Redis is slower, its rejection must
     * already be handled: an unhandled rejection crashes the application's
     * process under Node's default --unhandled-rejections=throw, although the
     * caller then gets the error normally. (A regression test: the early
     * load (EarlyLoads.start) used to attach no handler, and the read none
     * until the shared lookup (SharedLookup.capture) had returned.)
     */
    it("a database error in an early load that lands before Redis answers is not an unhandled rejection (it reaches the caller only)", async () => {
      const prefix = env.newPrefix();
      const b = await lab.instance({ prefix, l1: false });
      const absent = unusedId();
      const read = (p: CachedPrisma) =>
        p.user.findUniqueOrThrow({ where: { id: absent }, select: { name: true }, cache: true });
      await driveHitRateLow(b);
      // Errors are never cached; the read still teaches the mirror its tags.
      await expect(traced(b, read)).rejects.toMatchObject({ code: "P2025" });

      b.faults.getDelayMs = 150;
      let probed = false;
      const unhandled = await unhandledRejectionsDuring(async () => {
        for (let attempt = 0; attempt < PROBE_ATTEMPTS && !probed; attempt++) {
          b.trace.clear();
          await expect(Promise.resolve(read(b.prisma)), "the caller gets the database's error").rejects.toMatchObject({
            code: "P2025",
          });
          expect(startedEarly(b.trace.mode()), `precondition: an early load (it was ${b.trace.mode()})`).toBe(true);
          probed = b.trace.mode() === "early";
        }
      });
      b.faults.getDelayMs = 0;
      expect(probed, "precondition: an early load asked Redis alongside").toBe(true);
      expect(unhandled.map((reason) => (reason as { code?: string }).code)).toEqual([]);
    });
  });

  describe("read-after-write across instances (contract item 1)", () => {
    /** Users of a fresh world, created behind the cache, with their current names. */
    async function rows(label: string, count: number): Promise<Map<number, string>> {
      const w = await env.world(label);
      const names = new Map<number, string>();
      for (let i = 0; i < count; i++) {
        const name = unique(label);
        names.set((await createScratchUser(env.bare, w, label, { name })).id, name);
      }
      return names;
    }

    const pick = (ids: readonly number[]): number => ids[Math.floor(Math.random() * ids.length)] as number;
    const ROUNDS = 300;

    /**
     * Mode B. B checks Redis entries against its mirror; A's write resolves
     * only once B's bus has applied its new versions, so B's next read,
     * started the moment the write resolved, must find the entry dead.
     * B1 has no in-process tier; B2 has one and clears it before each read,
     * so that both read the shared entry.
     */
    it(`mode B: B's read right after A's write resolves is new, never the Redis entry from before it (${ROUNDS} rounds, random rows)`, async () => {
      const names = await rows("mirror-raw", 12);
      const ids = [...names.keys()];
      const prefix = env.newPrefix();
      const a = await lab.instance({ prefix });
      const b1 = await lab.instance({ prefix, l1: false });
      const b2 = await lab.instance({ prefix });
      const readers = [b1, b2];
      const readShared = (b: TracedInstance, id: number) => {
        b.prisma.$cache.clearLocal();
        return traced(b, nameOf(id));
      };
      // The mirrors learn every tag (from Redis, with the entries), and Redis holds an entry for every row.
      for (const id of ids)
        for (const b of readers) expect((await readShared(b, id)).value).toEqual({ name: names.get(id) });

      for (let round = 0; round < ROUNDS; round++) {
        const id = pick(ids);
        for (const b of readers) await b.prisma.$cache.settled();
        for (const b of readers) {
          const hits = b.prisma.$cache.stats().l2Hits;
          expect(
            await readShared(b, id),
            `round ${round}: precondition: B answers the row from a Redis entry checked against its mirror`,
          ).toEqual({ value: { name: names.get(id) }, mode: "mirror-checked" });
          expect(b.prisma.$cache.stats().l2Hits).toBe(hits + 1);
        }

        const name = unique("renamed");
        await a.prisma.user.update({ where: { id }, data: { name } });
        names.set(id, name);
        // No await in between: the contract holds from the moment the write resolved.
        const [first, second] = [readShared(b1, id), readShared(b2, id)];
        expect(await first, `round ${round}: B1's read after A's write`).toEqual({
          value: { name },
          mode: "mirror-checked",
        });
        expect(await second, `round ${round}: B2's read after A's write`).toEqual({
          value: { name },
          mode: "mirror-checked",
        });
      }
      for (const b of readers) expect(b.prisma.$cache.stats().earlyLoads).toBe(0);
      for (const b of [a, ...readers]) expect(b.log.codes()).toEqual([]);
    });

    /**
     * Mode A. B misses every time (it reads only right after writes), so it
     * stays in early mode; another instance keeps a pre-write entry in Redis
     * for B to wrongly take.
     */
    it(`mode A: B's early read right after A's write resolves is new, never the Redis entry another instance filled before it (${ROUNDS} rounds, random rows)`, async () => {
      const names = await rows("early-raw", 12);
      const ids = [...names.keys()];
      const prefix = env.newPrefix();
      const a = await lab.instance({ prefix });
      const b = await lab.instance({ prefix, l1: false });
      const filler = await lab.instance({ prefix, l1: false });
      await driveHitRateLow(b);
      // B's mirror learns every tag; these are misses too (nothing is in Redis under this prefix yet).
      for (const id of ids)
        expect(await traced(b, nameOf(id))).toEqual({ value: { name: names.get(id) }, mode: "redis-versions" });
      expect(b.prisma.$cache.stats().l2Hits).toBe(0);

      let asked = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const id = pick(ids);
        await b.prisma.$cache.settled();
        expect((await traced(filler, nameOf(id))).value, `round ${round}: the filler reads the current row`).toEqual({
          name: names.get(id),
        });
        await filler.prisma.$cache.settled();

        const name = unique("renamed");
        await a.prisma.user.update({ where: { id }, data: { name } });
        names.set(id, name);
        const { value, mode } = await traced(b, nameOf(id));
        expect(value, `round ${round}: B's read after A's write`).toEqual({ name });
        expect(startedEarly(mode), `round ${round}: precondition: B's read was an early load (it was ${mode})`).toBe(
          true,
        );
        if (mode === "early") asked++;
      }
      // An early load may skip Redis; those that asked it are the rounds that test something here.
      expect(asked, "precondition: early loads asked Redis alongside in some rounds").toBeGreaterThan(0);
      expect(b.prisma.$cache.stats()).toMatchObject({ l2Hits: 0, earlyLoads: 0 });
      for (const instance of [a, b, filler]) expect(instance.log.codes()).toEqual([]);
    });

    /**
     * Mode B with a reader that stops hearing the bus (its subscriber's
     * messages held: a stalled connection) without losing it. A's write
     * waits for B's acknowledgement for at most its lease, then resolves; by
     * then B's own lease, which runs from its last heartbeat, must have run
     * out too, so that B reads Redis's versions instead of its stale mirror.
     */
    async function stalledReader(leases: { a: Duration; b: Duration }) {
      const id = await scratchUser("stalled", "Original");
      const prefix = env.newPrefix();
      const bRedis = await env.connectRedis();
      const bBus = holdableBus(bRedis);
      const b = await lab.instance({ prefix, redis: bRedis, l1: false, busLease: leases.b });
      const a = await lab.instance({ prefix, busLease: leases.a });
      const read = nameOf(id);
      expect((await traced(b, read)).value).toEqual({ name: "Original" });
      await b.prisma.$cache.settled();
      expect(await traced(b, read), "precondition").toEqual({ value: { name: "Original" }, mode: "mirror-checked" });

      bBus.hold();
      try {
        const started = performance.now();
        await a.prisma.user.update({ where: { id }, data: { name: "Renamed" } });
        expect(
          performance.now() - started,
          "precondition: the write waited for B's acknowledgement until it gave up",
        ).toBeGreaterThanOrEqual(250);
        return { b, read, after: await traced(b, read) };
      } finally {
        bBus.release();
      }
    }

    it("mode B: a write through A resolves while B's bus is stalled (B never acknowledges): B's next read is new, from Redis's versions", async () => {
      const { after } = await stalledReader({ a: "300ms", b: "300ms" });
      expect(after).toEqual({ value: { name: "Renamed" }, mode: "redis-versions" });
    });

    /**
     * Leases may differ between instances (configured apart, or during a
     * rolling deploy that changes `busLease`): a write waits as long as the
     * longest lease among the members, as the bump script reports it, not
     * its own. This read-after-write must hold with a reader whose lease is
     * much longer than the writer's and whose bus is stalled.
     */
    it("mode B: the same with a reader whose busLease is longer than the writer's", async () => {
      const { after } = await stalledReader({ a: "300ms", b: "5s" });
      expect(after.value).toEqual({ name: "Renamed" });
    });
  });
});

describeWith(["postgres", "redis-server"], "read modes when the bus is down: postgres + private redis-server", () => {
  // Every test brings its own server: it kills connections on it.
  const env = new Harness(postgresTarget({ redis: false }));
  const lab = new TracedInstances(env);
  const servers: RedisServer[] = [];
  beforeAll(() => env.start());
  afterAll(async () => {
    await lab.close();
    await env.stop();
    for (const server of servers) await server.kill();
  });

  /** Short leases and timeouts, so that a write waiting for an absent instance resolves within the test. */
  const fast = { redisTimeout: "100ms", busLease: "300ms" } as const;

  /**
   * A private server, a writer A and a reader B on one prefix (their own
   * PrismaClients and connections). B has no in-process tier, so that every
   * read of B is a shared read; its connections carry a name and wait a
   * second before reconnecting, so that a write made right after its bus
   * connection drops lands while it is away.
   */
  async function privateScene(label: string) {
    const server = await RedisServer.start();
    servers.push(server);
    const admin = await env.connectRedis(server.url);
    const prefix = env.newPrefix();
    const w = await env.world(label);
    const id = (await createScratchUser(env.bare, w, label, { name: "Original" })).id;
    const a = await lab.instance({ ...fast, prefix, redis: await env.connectRedis(server.url) });
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
    const b = await lab.instance({ ...fast, prefix, redis: bRedis, l1: false });
    /** True while B's bus subscriber is connected to the server. */
    const bSubscribed = async () =>
      String(await admin.call("CLIENT", "LIST", "TYPE", "pubsub")).includes(`name=${bName}`);
    /** Drops every pub/sub connection (B's bus among them) and waits until B has noticed. */
    const dropBus = async () => {
      await admin.call("CLIENT", "KILL", "TYPE", "pubsub");
      expect(
        await pollUntil(
          async () => bBus.subscriber?.status,
          (status) => status !== "ready",
        ),
        "B noticed its bus connection closed",
      ).not.toBe("ready");
    };
    return { server, w, id, a, b, bSubscribed, dropBus, read: nameOf(id) };
  }

  it("mode B: while B's bus is down, a write through A is seen by B's next read (B does not check Redis entries against its mirror)", async () => {
    const { id, a, b, bSubscribed, dropBus, read } = await privateScene("bus-down-b");
    expect(await traced(b, read)).toEqual({ value: { name: "Original" }, mode: "redis-versions" });
    await b.prisma.$cache.settled();
    expect(await traced(b, read), "precondition: with a healthy bus, B checks the entry against its mirror").toEqual({
      value: { name: "Original" },
      mode: "mirror-checked",
    });

    await dropBus();
    await a.prisma.user.update({ where: { id }, data: { name: "Renamed" } });
    expect(await bSubscribed(), "precondition: the write was made while B's bus was away").toBe(false);

    const after = await traced(b, read);
    expect(after.value, "B's first read after the write").toEqual({ name: "Renamed" });
    expect(after.mode, "B read the versions from Redis").toBe("redis-versions");
    await b.prisma.$cache.settled();
    expect((await traced(b, read)).value, "and the next one").toEqual({ name: "Renamed" });
    expect(await bSubscribed(), "precondition: B's bus was still away").toBe(false);
  });

  it("mode A: while B's bus is down, B in early mode does not start a read with its mirror's versions; a write through A is seen by B's next read", async () => {
    const { id, a, b, bSubscribed, dropBus, read } = await privateScene("bus-down-a");
    await driveHitRateLow(b);
    // A miss: the entry is filled with the versions from before the write, and B's mirror learns them.
    expect(await traced(b, read)).toEqual({ value: { name: "Original" }, mode: "redis-versions" });
    await b.prisma.$cache.settled();

    await dropBus();
    await a.prisma.user.update({ where: { id }, data: { name: "Renamed" } });
    expect(await bSubscribed(), "precondition: the write was made while B's bus was away").toBe(false);

    const after = await traced(b, read);
    expect(after.value, "B's first read after the write").toEqual({ name: "Renamed" });
    expect(after.mode, "B read the versions from Redis, after which it read the database").toBe("redis-versions");
    expect(b.prisma.$cache.stats().earlyLoads).toBe(0);
    expect(await bSubscribed(), "precondition: B's bus was still away").toBe(false);
  });

  it("when B's bus is back, B does not check Redis entries against versions it knew before it was away", async () => {
    const { w, id, a, b, bSubscribed, dropBus, read } = await privateScene("bus-back");
    expect((await traced(b, read)).mode).toBe("redis-versions");
    await b.prisma.$cache.settled();
    expect(await traced(b, read), "precondition").toEqual({ value: { name: "Original" }, mode: "mirror-checked" });

    await dropBus();
    await a.prisma.user.update({ where: { id }, data: { name: "Renamed" } });
    expect(await bSubscribed(), "precondition: the write was made while B's bus was away").toBe(false);

    // Not reading the row meanwhile (a read through Redis versions would teach B the new ones):
    // wait until B checks entries against its mirror again, on an unrelated read.
    const control: Read<unknown> = (p: CachedPrisma) =>
      p.group.findUnique({ where: { id: w.groups.admins }, select: { name: true }, cache: true });
    expect(
      await pollUntil(
        async () => (await traced(b, control)).mode,
        (mode) => mode === "mirror-checked",
      ),
      "B's bus came back",
    ).toBe("mirror-checked");
    expect(await bSubscribed()).toBe(true);

    expect((await traced(b, read)).value).toEqual({ name: "Renamed" });
  });
});
