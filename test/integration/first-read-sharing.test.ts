/**
 * With `admission: "auto"`, a key's first read keeps its entry in-process
 * and writes it to Redis only if a reader waits for it; the key's next read
 * (in any process) stores it, and later reads hit Redis (docs/expiry.md,
 * "Shared from a key's second read"). Without automatic admission every
 * first read is stored. Real Postgres and Redis, instances on one prefix.
 * The last five cases came from an adversarial review: a first read whose
 * result the in-process tier cannot hold is stored as before, and a waiter
 * on an instance with admission "all" still marks the lock wanted.
 */
import type { Redis } from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeWith } from "../helpers/describe-with.js";
import { Harness, type TestClient } from "../helpers/harness.js";
import { ReadGate } from "../helpers/read-gate.js";
import { postgresTarget } from "../helpers/targets.js";

describeWith(["postgres", "redis"], "first reads shared only when wanted: postgres + redis", () => {
  const env = new Harness(postgresTarget({ redis: true }));
  beforeAll(() => env.start());
  afterAll(() => env.stop());

  const AUTO = { admission: "auto" } as const;
  const TTL_S = 60;
  const SWR_S = 30;
  const defaults = { ttl: TTL_S, swr: SWR_S, negativeTtl: 60 };

  /** The Redis keys under `prefix` whose names end with `suffix`. */
  async function keysEnding(prefix: string, suffix: string): Promise<string[]> {
    const keys = await env.redis!.keys(`${prefix}*`);
    return keys.filter((key) => key.endsWith(suffix));
  }

  /** How many reads `client` sent to the database while `read` ran. */
  async function queriesOf(client: TestClient, read: () => PromiseLike<unknown>): Promise<number> {
    const before = client.database.queries;
    await read();
    return client.database.queries - before;
  }

  it("a first read stays in-process; the key's second read, in another instance, stores it; the third hits Redis", async () => {
    const w = await env.world("first-read-kept");
    const a = await env.client({ ...AUTO, defaults });
    const b = await env.client({ ...AUTO, defaults, prefix: a.prefix, clock: a.clock, l1: false });
    const read = (client: TestClient) => () =>
      client.prisma.user.findUnique({ where: { id: w.users.alice }, select: { name: true }, cache: true });

    expect(await queriesOf(a, read(a)), "the first read loads").toBe(1);
    await a.prisma.$cache.settled();
    expect(a.prisma.$cache.stats().firstReadsUnshared).toBe(1);
    expect(await keysEnding(a.prefix, ":lock"), "its lock is released").toEqual([]);
    expect(await queriesOf(a, read(a)), "a repeat in the same process hits in-process").toBe(0);

    // Nothing in Redis: another instance's read loads, and, the key having been read, stores its entry.
    expect(await queriesOf(b, read(b))).toBe(1);
    await b.prisma.$cache.settled();
    expect(b.prisma.$cache.stats().firstReadsUnshared).toBe(0);
    const l2Hits = b.prisma.$cache.stats().l2Hits;
    expect(await queriesOf(b, read(b)), "the third read hits Redis").toBe(0);
    expect(b.prisma.$cache.stats().l2Hits).toBe(l2Hits + 1);

    // The marker: one per key read, named like its entry (no argument value), living the entry's lifetime.
    const [seen, ...more] = await keysEnding(a.prefix, ":seen");
    expect(more).toEqual([]);
    expect(seen).not.toContain(String(w.users.alice));
    const pttl = await env.redis!.pttl(seen!);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual((TTL_S + SWR_S) * 1000);
  });

  it("readers of another process waiting on a first read's lock get its entry: one database query in all", async () => {
    const w = await env.world("first-read-wanted");
    const gate = new ReadGate();
    const a = await env.client({ ...AUTO, defaults, setup: { gate } });
    const b = await env.client({ ...AUTO, defaults, prefix: a.prefix, clock: a.clock });
    const read = (client: TestClient) =>
      client.prisma.post.findMany({ where: { tenantId: w.tenantId }, orderBy: { id: "asc" }, cache: true });

    const paused = gate.arm((model, operation) => model === "Post" && operation === "findMany");
    const first = read(a).then((rows) => rows);
    await paused.arrived; // a holds the lock, its result loaded but not stored
    const queriesB = b.database.queries;
    const waiting = read(b).then((rows) => rows);
    // b's take finds the lock held and marks it wanted; then a stores its entry for b.
    await new Promise((resolve) => setTimeout(resolve, 50));
    paused.release();
    const [rowsA, rowsB] = await Promise.all([first, waiting]);
    expect(rowsB).toEqual(rowsA);
    expect(b.database.queries - queriesB, "b was served a's entry").toBe(0);
    expect(b.prisma.$cache.stats().lockWaits).toBe(1);
    await a.prisma.$cache.settled();
    expect(a.prisma.$cache.stats().firstReadsUnshared, "stored, since b wanted it").toBe(0);
    expect(await keysEnding(a.prefix, ":lock"), "the lock is released").toEqual([]);
  });

  it("an entry stored late for a waiter is stored under the versions its load captured: a write that resolved meanwhile kills it (contract item 2)", async () => {
    const w = await env.world("first-read-wanted-write");
    const gate = new ReadGate();
    const a = await env.client({ ...AUTO, defaults, setup: { gate } });
    const b = await env.client({ ...AUTO, defaults, prefix: a.prefix, clock: a.clock });
    const c = await env.client({ ...AUTO, defaults, prefix: a.prefix, clock: a.clock, l1: false });
    const read = (client: TestClient) =>
      client.prisma.post.findMany({
        where: { tenantId: w.tenantId },
        select: { id: true, title: true },
        orderBy: { id: "asc" },
        cache: true,
      });
    const paused = gate.arm((model, operation) => model === "Post" && operation === "findMany");
    const first = read(a).then((rows) => rows);
    await paused.arrived; // a loaded the old rows and holds the lock
    const waiting = read(b).then((rows) => rows); // b marks the lock wanted and waits
    await new Promise((resolve) => setTimeout(resolve, 50));
    // A write resolves before a stores anything: every read that begins after it must see it.
    await c.prisma.post.update({ where: { id: w.posts.welcome }, data: { title: "retitled" }, select: { id: true } });
    paused.release();
    await Promise.all([first, waiting]); // both began before the write: the old rows are theirs to get
    await a.prisma.$cache.settled(); // a stored its entry for b, under the versions captured before the write
    expect(a.prisma.$cache.stats().firstReadsUnshared).toBe(0);
    for (const client of [a, b, c]) {
      const rows = await read(client);
      expect(rows.find((row) => row.id === w.posts.welcome)?.title, "a read begun after the write").toBe("retitled");
    }
  });

  it("a write after a first read that was kept in-process still invalidates it there", async () => {
    const w = await env.world("first-read-invalidated");
    const a = await env.client({ ...AUTO, defaults });
    const b = await env.client({ ...AUTO, defaults, prefix: a.prefix, clock: a.clock });
    const read = (client: TestClient) =>
      client.prisma.user.findUnique({ where: { id: w.users.bob }, select: { name: true }, cache: true });
    expect(await read(a)).toEqual({ name: null });
    await a.prisma.$cache.settled();
    expect(a.prisma.$cache.stats().firstReadsUnshared).toBe(1);
    await b.prisma.user.update({ where: { id: w.users.bob }, data: { name: "bob 2" }, select: { id: true } });
    expect(await read(a)).toEqual({ name: "bob 2" });
  });

  it('with admission "all" (the default) a first read is stored in Redis at once', async () => {
    const w = await env.world("first-read-all");
    const a = await env.client({ defaults });
    const b = await env.client({ defaults, prefix: a.prefix, clock: a.clock, l1: false });
    const read = (client: TestClient) => () =>
      client.prisma.user.findUnique({ where: { id: w.users.carol }, select: { name: true }, cache: true });
    expect(await queriesOf(a, read(a))).toBe(1);
    await a.prisma.$cache.settled();
    expect(await queriesOf(b, read(b)), "the other instance hits Redis").toBe(0);
    expect(a.prisma.$cache.stats().firstReadsUnshared).toBe(0);
    expect(await keysEnding(a.prefix, ":seen"), "no marker is written").toEqual([]);
  });

  /**
   * Holds this connection's next lock take (a script whose first key is a lock) until `release()`:
   * a take in flight on the network, sent after the lookup that missed.
   */
  function holdNextTake(redis: Redis): { arrived: Promise<void>; release(): void } {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let arrived!: () => void;
    const arrival = new Promise<void>((resolve) => (arrived = resolve));
    let armed = true;
    const original = redis.evalsha.bind(redis) as (...args: unknown[]) => Promise<unknown>;
    (redis as unknown as { evalsha: (...args: unknown[]) => Promise<unknown> }).evalsha = async (...args) => {
      const firstKey = String(args[2]);
      if (armed && firstKey.endsWith(":lock")) {
        armed = false;
        arrived();
        await released;
      }
      return original(...args);
    };
    return { arrived: arrival, release };
  }

  it.each(["all", "auto"] as const)(
    "admission %s: a reader of another process whose lookup missed while the holder loaded, its take landing after the release: one query in all (all), two (auto)",
    async (admission) => {
      const w = await env.world(`review-stampede-${admission}`);
      const gate = new ReadGate();
      const a = await env.client({ admission, defaults, setup: { gate }, redisTimeout: "5s" });
      const connB = await env.connectRedis();
      const held = holdNextTake(connB);
      const b = await env.client({
        admission,
        defaults,
        prefix: a.prefix,
        clock: a.clock,
        redis: connB,
        redisTimeout: "5s",
      });
      const read = (client: TestClient) =>
        client.prisma.post.findMany({ where: { tenantId: w.tenantId }, orderBy: { id: "asc" }, cache: true });

      const paused = gate.arm((model, operation) => model === "Post" && operation === "findMany");
      const first = read(a).then((rows) => rows);
      await paused.arrived; // a holds the lock and has loaded
      const queriesB = b.database.queries;
      const second = read(b).then((rows) => rows); // b's lookup misses (nothing stored yet); its take is on its way
      await held.arrived;
      paused.release();
      const rowsA = await first;
      await a.prisma.$cache.settled(); // a's fill (and release) done
      held.release(); // b's take reaches Redis
      const rowsB = await second;
      expect(rowsB).toEqual(rowsA);
      // With "auto", a's first read was kept in-process (nobody had marked its lock wanted): b's take, which reached
      // Redis after the release, loads once more (docs/expiry.md: at most two queries). With "all", a stored it.
      expect(b.database.queries - queriesB).toBe(admission === "all" ? 0 : 1);
      await b.prisma.$cache.settled();
    },
  );

  it.each(["all", "auto"] as const)(
    "admission %s, l1: false: a repeat of a read in the same process does not query the database again",
    async (admission) => {
      const w = await env.world(`review-nol1-${admission}`);
      const b = await env.client({ admission, defaults, l1: false });
      const read = () =>
        b.prisma.user.findUnique({ where: { id: w.users.alice }, select: { name: true }, cache: true });
      const before = b.database.queries;
      await read();
      await b.prisma.$cache.settled();
      await read();
      await b.prisma.$cache.settled();
      expect(b.database.queries - before, "the first read is cached somewhere").toBe(1);
    },
  );

  it.each(["all", "auto"] as const)(
    "admission %s: a result too large for the in-process tier is kept in Redis (as E_UNCACHEABLE says)",
    async (admission) => {
      const w = await env.world(`review-oversize-${admission}`);
      const b = await env.client({ admission, defaults, l1: { maxSize: 1024 } });
      const read = () =>
        b.prisma.user.findMany({
          where: { tenantId: w.tenantId },
          orderBy: { id: "asc" },
          include: { posts: { include: { comments: true, tags: true } }, profile: true },
          cache: true,
        });
      const before = b.database.queries;
      await read();
      await b.prisma.$cache.settled();
      await read();
      await b.prisma.$cache.settled();
      expect(b.log.codes(), "precondition: too large for the in-process tier").toContain("E_UNCACHEABLE");
      expect(b.database.queries - before, "the first read is cached somewhere").toBe(1);
    },
  );

  it('a waiter on an instance with admission "all" (a rolling deploy) waiting on an "auto" holder\'s first read gets its entry', async () => {
    const w = await env.world("review-mixed");
    const gate = new ReadGate();
    const a = await env.client({ admission: "auto", defaults, setup: { gate } });
    const b = await env.client({ defaults, prefix: a.prefix, clock: a.clock });
    const read = (client: TestClient) =>
      client.prisma.post.findMany({ where: { tenantId: w.tenantId }, orderBy: { id: "asc" }, cache: true });
    const paused = gate.arm((model, operation) => model === "Post" && operation === "findMany");
    const first = read(a).then((rows) => rows);
    await paused.arrived;
    const queriesB = b.database.queries;
    const waiting = read(b).then((rows) => rows);
    await new Promise((resolve) => setTimeout(resolve, 50)); // b found the lock taken and waits
    paused.release();
    const [rowsA, rowsB] = await Promise.all([first, waiting]);
    expect(rowsB).toEqual(rowsA);
    expect(b.database.queries - queriesB, "b was served a's entry").toBe(0);
  });
});
