/**
 * Single-flight: concurrent cold reads of one key share one load.
 *
 * - in one process (with and without the Redis tier): one database query for
 *   concurrent misses, each caller its own copy, a failure shared and never
 *   cached, no joining a load that started before a write the reader must
 *   see, one table of flights per extension instance;
 * - across instances sharing Redis: the lease lock (one query for many
 *   instances), its wait bound, its lease, `lock: false`, and a write
 *   resolved while others wait.
 *
 * Database reads are counted below the cache (the instances' counters), and
 * loads are held with a gate where a test needs the window open.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import type { CachedPrisma } from "../helpers/clients.js";
import { describeWith } from "../helpers/describe-with.js";
import { faultyDatabase } from "../helpers/faulty-database.js";
import { createScratchUser } from "../helpers/fixture.js";
import { Harness, observe, type Instance, type InstanceOptions } from "../helpers/harness.js";
import { pollUntil } from "../helpers/poll.js";
import { ReadGate } from "../helpers/read-gate.js";
import { driveHitRateLow, tracedLab } from "../helpers/traced.js";
import { postgresTarget } from "../helpers/targets.js";

/** A user of a new world of `env`, named `name`, that the calling test may change. */
async function userNamed(env: Harness, label: string, name: string): Promise<number> {
  const world = await env.world(label);
  return (await createScratchUser(env.bare, world, label, { name })).id;
}

const nameOf = (id: number) => (p: CachedPrisma) =>
  p.user.findUnique({ where: { id }, select: { name: true }, cache: true });

const targets = [
  { name: "postgres, in-process tier only", redis: false },
  { name: "postgres + redis", redis: true },
] as const;

for (const { name, redis } of targets)
  describeWith(redis ? ["postgres", "redis"] : ["postgres"], `single-flight in one process: ${name}`, () => {
    const env = new Harness(postgresTarget({ redis }));
    beforeAll(() => env.start());
    afterAll(() => env.stop());

    it("50 concurrent misses of one key cause one database query; each caller gets its own copy", async () => {
      const a = await env.instance();
      const id = await userNamed(env, "flight", "v1");
      const before = a.database.queries;
      const results = await Promise.all(Array.from({ length: 50 }, () => nameOf(id)(a.prisma)));
      expect(a.database.queries - before).toBe(1);
      expect(new Set(results).size, "50 distinct objects").toBe(50);
      for (const result of results) expect(result).toEqual({ name: "v1" });
      (results[0] as { name: string }).name = "mutated";
      expect(results[1]).toEqual({ name: "v1" });
      expect(await nameOf(id)(a.prisma)).toEqual({ name: "v1" });
      expect(a.prisma.$cache.stats().coalesced).toBe(49);
    });

    it("concurrent misses share one failure; the error is not cached", async () => {
      const { client, failing, attempts } = faultyDatabase(env.connect());
      const a = await env.instance({ over: client });
      const id = await userNamed(env, "flight-error", "v1");
      failing.on = true;
      const before = attempts.n;
      const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => nameOf(id)(a.prisma)));
      expect(outcomes.every((o) => o.status === "rejected" && String(o.reason).includes("injected"))).toBe(true);
      expect(attempts.n - before, "one attempt for ten callers").toBe(1);
      failing.on = false;
      expect(await observe(a, nameOf(id))).toEqual({ value: { name: "v1" }, fromDatabase: true });
    });

    it("a read that starts after a write resolved never joins a load that started before it (contract item 1)", async () => {
      const gate = new ReadGate();
      const a = await env.instance({ gate });
      const id = await userNamed(env, "flight-write", "v1");
      const read = nameOf(id);
      const held = gate.arm((model, operation) => model === "User" && operation === "findUnique");
      const first = Promise.resolve(read(a.prisma));
      await held.arrived; // its database read returned v1; it is held before it lands
      await a.prisma.user.update({ where: { id }, data: { name: "v2" } });
      const before = a.database.queries;
      const second = await read(a.prisma);
      expect(second, "the read after the write sees it").toEqual({ name: "v2" });
      expect(a.database.queries, "by its own database read").toBe(before + 1);
      held.release();
      expect(await first, "the earlier read may return the old row: it started before the write").toEqual({
        name: "v1",
      });
      await a.prisma.$cache.settled();
      expect(await read(a.prisma), "and the old row was not stored as current").toEqual({ name: "v2" });
    });

    it("flights belong to one extension instance: two clients in one process each load", async () => {
      const prefix = env.newPrefix();
      const gate = new ReadGate();
      const a = await env.instance({ prefix, lock: false, gate });
      const b = await env.instance({ prefix, lock: false, over: env.connect() });
      const id = await userNamed(env, "flight-instances", "v1");
      const held = gate.arm((model, operation) => model === "User" && operation === "findUnique");
      const first = Promise.resolve(nameOf(id)(a.prisma));
      await held.arrived;
      expect(await observe(b, nameOf(id)), "b did not join a's load").toEqual({
        value: { name: "v1" },
        fromDatabase: true,
      });
      held.release();
      expect(await first).toEqual({ name: "v1" });
    });
  });

describeWith(["postgres", "redis"], "single-flight across instances sharing Redis (the lease lock)", () => {
  const { env, lab } = tracedLab();

  /** `count` instances, each its own PrismaClient and Redis connection, sharing one prefix; the first with a gate. */
  async function fleet(
    count: number,
    options: Omit<InstanceOptions, "redis"> = {},
  ): Promise<{ instances: Instance[]; gate: ReadGate }> {
    const prefix = env.newPrefix();
    const gate = new ReadGate();
    const instances: Instance[] = [];
    for (let i = 0; i < count; i++)
      instances.push(await env.instance({ ...options, prefix, over: env.connect(), ...(i === 0 ? { gate } : {}) }));
    return { instances, gate };
  }

  const read = (id: number) => (p: CachedPrisma) =>
    p.user.findUnique({ where: { id }, select: { name: true }, cache: true });

  /** Starts `holder`'s read of `id` and resolves once its database read is held at `gate` (it holds the lock). */
  async function holdLoad(
    gate: ReadGate,
    holder: Instance,
    id: number,
  ): Promise<{ first: Promise<unknown>; release(): void }> {
    const held = gate.arm((model, operation) => model === "User" && operation === "findUnique");
    const first = read(id)(holder.prisma).then((value) => value);
    await held.arrived;
    return { first, release: held.release };
  }
  const total = (instances: Instance[]) => instances.reduce((sum, i) => sum + i.database.queries, 0);

  it("4 instances x 25 concurrent cold reads: 1 database query in total; the others wait for its entry", async () => {
    const { instances, gate } = await fleet(4, { lock: { wait: "10s" } });
    const id = await userNamed(env, "lock", "v1");
    const before = total(instances);
    const held = gate.arm((model, operation) => model === "User" && operation === "findUnique");
    const [holder, ...others] = instances as [Instance, ...Instance[]];
    const first = Promise.all(Array.from({ length: 25 }, () => read(id)(holder.prisma)));
    await held.arrived; // the holder has the lock and is loading
    const rest = others.map((instance) => Promise.all(Array.from({ length: 25 }, () => read(id)(instance.prisma))));
    await pollUntil(
      async () => others.map((i) => i.prisma.$cache.stats().lockWaits),
      (waits) => waits.every((w) => w === 1),
    );
    held.release();
    const results = [...(await first), ...(await Promise.all(rest)).flat()];
    expect(results).toHaveLength(100);
    for (const result of results) expect(result).toEqual({ name: "v1" });
    expect(total(instances) - before, "one database query for 100 reads over 4 instances").toBe(1);
    for (const other of others)
      expect(other.prisma.$cache.stats()).toMatchObject({ lockWaits: 1, coalesced: 24, misses: 25 });
  });

  it("a waiter stops waiting after lock.wait and loads itself", async () => {
    const { instances, gate } = await fleet(2, { lock: { wait: "30ms", lease: "10s" } });
    const [holder, waiter] = instances as [Instance, Instance];
    const id = await userNamed(env, "lock-wait", "v1");
    const held = await holdLoad(gate, holder, id);
    expect(await observe(waiter, read(id)), "loaded itself once the wait ran out").toEqual({
      value: { name: "v1" },
      fromDatabase: true,
    });
    expect(waiter.prisma.$cache.stats().lockWaits).toBe(1);
    held.release();
    expect(await held.first).toEqual({ name: "v1" });
  });

  it("a lock whose holder never releases it (a crashed process) expires with its lease; a waiter then takes it and loads", async () => {
    const { instances, gate } = await fleet(2, { lock: { wait: "10s", lease: "100ms" } });
    const [holder, waiter] = instances as [Instance, Instance];
    const id = await userNamed(env, "lock-lease", "v1");
    const held = await holdLoad(gate, holder, id);
    expect(await observe(waiter, read(id))).toEqual({ value: { name: "v1" }, fromDatabase: true });
    held.release();
    expect(await held.first).toEqual({ name: "v1" });
  });

  it("lock: false turns the cross-process lock off: each instance loads", async () => {
    const { instances, gate } = await fleet(2, { lock: false });
    const [a, b] = instances as [Instance, Instance];
    const id = await userNamed(env, "lock-off", "v1");
    const held = await holdLoad(gate, a, id);
    expect(await observe(b, read(id))).toEqual({ value: { name: "v1" }, fromDatabase: true });
    expect(b.prisma.$cache.stats().lockWaits).toBe(0);
    held.release();
    expect(await held.first).toEqual({ name: "v1" });
  });

  it("a write resolved while others wait: a waiter never returns the holder's pre-write entry", async () => {
    const { instances, gate } = await fleet(2, { lock: { wait: "10s" } });
    const [holder, waiter] = instances as [Instance, Instance];
    const id = await userNamed(env, "lock-write", "v1");
    const held = gate.arm((model, operation) => model === "User" && operation === "findUnique");
    const first = Promise.resolve(read(id)(holder.prisma));
    await held.arrived; // the holder read v1
    await holder.prisma.user.update({ where: { id }, data: { name: "v2" } });
    // The waiter starts after the write resolved: it must see v2, whatever the holder stores.
    const second = Promise.resolve(read(id)(waiter.prisma));
    await pollUntil(
      async () => waiter.prisma.$cache.stats().lockWaits,
      (w) => w === 1,
    );
    held.release();
    expect(await first).toEqual({ name: "v1" });
    expect(await second).toEqual({ name: "v2" });
  });

  it("a miss whose lookup was answered before the holder's fill, and handled after its release, takes the free lock and finds the entry: no second query", async () => {
    const prefix = env.newPrefix();
    const holder = await lab.instance({ prefix, lock: { wait: "10s" } });
    const late = await lab.instance({ prefix, lock: { wait: "10s" } });
    const id = await userNamed(env, "lock-late-reply", "v1");
    late.faults.replyDelayMs = 150; // its lookup runs now (no entry yet), its reply is handled 150 ms later
    const lateRead = read(id)(late.prisma).then((value) => value); // then() now: Promise.resolve would start it a tick later
    late.faults.replyDelayMs = 0;
    expect(await read(id)(holder.prisma)).toEqual({ name: "v1" });
    await holder.prisma.$cache.settled(); // the entry is stored and the lock released
    expect(await lateRead).toEqual({ name: "v1" });
    expect(late.database.queries, "the late reader took the free lock and found the holder's entry").toBe(0);
    expect(holder.database.queries).toBe(1);
  });

  it("in one process, a miss handled after the same key's load landed uses what it stored (lock off): one query", async () => {
    const prefix = env.newPrefix();
    const a = await lab.instance({ prefix, lock: false });
    const id = await userNamed(env, "landed", "v1");
    a.faults.replyDelayMs = 150;
    const lateRead = read(id)(a.prisma).then((value) => value); // then() now: Promise.resolve would start it a tick later
    a.faults.replyDelayMs = 0;
    expect(await read(id)(a.prisma)).toEqual({ name: "v1" });
    expect(await lateRead).toEqual({ name: "v1" });
    expect(a.database.queries, "the late read joined the landed load").toBe(1);
  });

  it("with the lock on, instances that rarely hit Redis still share one load across processes (no early loads)", async () => {
    const prefix = env.newPrefix();
    const gate = new ReadGate();
    const a = await lab.instance({ prefix, lock: { wait: "10s" }, gate });
    const b = await lab.instance({ prefix, lock: { wait: "10s" } });
    await driveHitRateLow(a);
    await driveHitRateLow(b);
    const id = await userNamed(env, "no-early", "v1");
    await read(id)(a.prisma); // both mirrors learn the tags
    await read(id)(b.prisma);
    await a.prisma.user.update({ where: { id }, data: { name: "v2" } });
    const before = a.database.queries + b.database.queries;
    const held = gate.arm((model, operation) => model === "User" && operation === "findUnique");
    const first = read(id)(a.prisma).then((value) => value);
    await held.arrived; // a holds the lock and is loading
    const second = read(id)(b.prisma).then((value) => value);
    await pollUntil(
      async () => b.prisma.$cache.stats().lockWaits,
      (waits) => waits === 1,
    );
    held.release();
    expect(await first).toEqual({ name: "v2" });
    expect(await second).toEqual({ name: "v2" });
    expect(a.database.queries + b.database.queries - before, "one load for both").toBe(1);
  });
});
