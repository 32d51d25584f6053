/**
 * The read budget under a busy event loop (read-budget.ts): only the time the
 * loop sat idle while a read's command was in flight is charged as Redis time.
 * Time the loop spends elsewhere (a CPU-heavy request, a GC pause, a busy
 * process) is not Redis being slow; redis-stalls.test.ts promises the same of
 * each command's timeout. 7fe517c charged the wall clock, and these reads gave
 * up on Redis although it answered every command at once:
 *
 * - a stall while a cold read's first round trip (the MGET of its entry and
 *   tag versions) is in flight: its next command (the version
 *   initialisation, or the lock take) was refused before it was sent
 *   (E_REDIS / E_LOCK, "the read's Redis time ran out"), the read loaded
 *   without the lock, so every process loaded: single-flight was lost exactly
 *   when load is high;
 * - event-loop lag while a waiter polls for the holder's entry: each look's
 *   lag was charged, the waiter gave up after a few looks and loaded itself.
 *
 * Healthy Redis (the machine's), two instances on one prefix standing for
 * two processes (each has its own flights; the lock is in Redis).
 */
import { beforeAll, expect, it } from "vitest";
import type { CachedPrisma } from "../helpers/clients.js";
import { describeWith } from "../helpers/describe-with.js";
import { blockEventLoop, started } from "../helpers/event-loop.js";
import { Harness, type Instance } from "../helpers/harness.js";
import { ReadGate } from "../helpers/read-gate.js";
import { postgresTarget } from "../helpers/targets.js";

const REDIS_TIMEOUT = "100ms";

describeWith(
  ["postgres", "redis"],
  "the read budget under a busy event loop (Redis healthy): a stall is not Redis time",
  () => {
    const env = new Harness(postgresTarget({ redis: true }));
    beforeAll(() => env.start());

    /** Two instances ("processes") on one prefix, with the lock on; the first with a gate. */
    async function pair(): Promise<{ a: Instance; b: Instance; gate: ReadGate }> {
      const prefix = env.newPrefix();
      const gate = new ReadGate();
      const options = { prefix, lock: { wait: "10s" }, redisTimeout: REDIS_TIMEOUT } as const;
      const a = await env.instance({ ...options, over: env.connect(), gate });
      const b = await env.instance({ ...options, over: env.connect() });
      return { a, b, gate };
    }

    const readOf = (id: number) => (p: CachedPrisma) =>
      p.user.findUnique({ where: { id }, select: { email: true }, cache: true });

    it("a 300 ms stall while two processes' cold lookups of one key are in flight: one database query, nothing reported", async () => {
      const w = await env.world("budget-stall");
      const { a, b } = await pair();
      const read = readOf(w.users.alice);
      const truth = await env.bare.user.findUnique({ where: { id: w.users.alice }, select: { email: true } });
      const before = a.database.queries + b.database.queries;

      // Both lookups are sent now and answered by Redis at once; their replies wait while the loop is blocked.
      const reads = [started(read(a.prisma)), started(read(b.prisma))];
      blockEventLoop(300);
      expect(await Promise.all(reads)).toEqual([truth, truth]);

      expect.soft([...a.log.codes(), ...b.log.codes()], "a stall is not Redis failing").toEqual([]);
      expect(a.database.queries + b.database.queries - before, "single-flight across processes").toBe(1);
    });

    it("event-loop lag (15 ms blocks) while a waiter polls for the holder's entry: the waiter does not give up on Redis and load itself", async () => {
      const w = await env.world("budget-lag");
      const { a, b, gate } = await pair();
      const read = readOf(w.users.bob);
      const before = a.database.queries + b.database.queries;

      const held = gate.arm((model, operation) => model === "User" && operation === "findUnique");
      const first = started(read(a.prisma));
      await held.arrived; // a holds the lock and is loading
      const second = started(read(b.prisma));
      // A busy process: the loop is blocked 15 ms out of every 20 while b waits (about 1.5 s).
      const lag = setInterval(() => blockEventLoop(15), 20);
      try {
        await new Promise((resolve) => setTimeout(resolve, 1_500));
      } finally {
        clearInterval(lag);
      }
      held.release();
      expect(await first).toEqual(await second);

      expect.soft(b.log.codes(), "lag is not Redis failing").toEqual([]);
      expect(a.database.queries + b.database.queries - before, "the waiter served the holder's entry").toBe(1);
    });
  },
);
