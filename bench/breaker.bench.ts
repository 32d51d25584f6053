/**
 * Circuit-breaker benchmark: read latency while Redis is frozen, once the
 * breaker is open, against the same read uncached.
 *
 *   npx tsup && npx tsx bench/breaker.bench.ts
 *
 * One process, a `redis-server` of this run's own on a free loopback port
 * (the shared Redis is never stopped), one query:
 * `user.findUnique({ where: { id }, select: { id, email, name } })`, read one
 * call at a time. ROUNDS interleaved rounds of:
 *
 * 1. the cached instance (defaults: `redisTimeout` 250 ms, breaker 5 failures
 *    / 1 s, in-process tier on) reads the key until it is cached, then the
 *    server is frozen (SIGSTOP) and the instance reads until its breaker is
 *    open (those reads are shown apart: the ones that paid a timeout are the
 *    cost of learning that Redis is gone);
 * 2. OPEN_CALLS reads with the breaker open (a probe after every `openFor`
 *    included), still frozen, each followed by the same read on the plain
 *    client (the uncached reference), so both see the same machine load;
 * 3. the server is thawed (SIGCONT) and the time until the breaker closes is
 *    measured (reads keep going, one every ms).
 *
 * Then, once, NO_BREAKER_CALLS reads by an instance with `breaker: false` on
 * the frozen server: what every read costs without the breaker.
 *
 * Target (issue 12): read p99 with the breaker open <= uncached p99 + 10 ms.
 * A report, not a test: it exits 0 whatever the figures. Rows live in a
 * tenant of their own, removed at the end. The library is its build (`dist/`).
 *
 * Env: DATABASE_URL (default: scripts/lib/database.mjs).
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer, type AddressInfo } from "node:net";
import { cpus, loadavg } from "node:os";
import { PrismaPg } from "@prisma/adapter-pg";
import { Redis } from "ioredis";
import { DEFAULT_DATABASE_URL } from "../scripts/lib/database.mjs";
import { PrismaClient } from "../test/generated/postgres/client.ts";
import { cacheExtension } from "./library.ts";
import { summarise, type Summary } from "./measure.ts";
import { seed } from "../examples/support/seed.ts";

const ROUNDS = 3;
const OPEN_CALLS = 1_000;
const NO_BREAKER_CALLS = 12;
const TARGET_EXTRA_MS = 10;

const databaseUrl = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
const run = `pqc-bench-breaker-${process.pid}-${Date.now().toString(36)}`;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Starts a private redis-server (nothing on disk); resolves with it once it answers PING. */
async function privateRedis() {
  const probe = createServer().listen(0, "127.0.0.1");
  await once(probe, "listening");
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  const server = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", ""], {
    stdio: "ignore",
  });
  const client = new Redis(port, "127.0.0.1", { maxRetriesPerRequest: 1, retryStrategy: () => 50 });
  client.on("error", () => undefined);
  await client.ping();
  return { server, client };
}

/** Latencies of `calls` sequential reads, in microseconds (summarise's unit). */
async function timed(calls: number, read: () => PromiseLike<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < calls; i++) {
    const start = performance.now();
    await read();
    samples.push((performance.now() - start) * 1000);
  }
  return samples;
}

const ms = (us: number) => (us / 1000).toFixed(2);
const line = (label: string, s: Summary, max: number) =>
  `${label.padEnd(34)}${String(s.calls).padStart(7)}${ms(s.p50).padStart(9)}${ms(s.p99).padStart(9)}${ms(max).padStart(10)}`;

async function main(): Promise<void> {
  const bare = new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl }) });
  const { server, client: redis } = await privateRedis();
  const errors = new Map<string, number>();
  const onError = (error: { code: string }) => errors.set(error.code, (errors.get(error.code) ?? 0) + 1);
  const cached = bare.$extends(cacheExtension({ redis, prefix: `${run}:`, onError }));
  const unbroken = bare.$extends(cacheExtension({ redis, prefix: `${run}-off:`, onError, breaker: false }));
  let tenantId: number | undefined;
  try {
    const [tenant] = await seed(bare, { tenants: [{ slug: run, users: 1 }], postsPerUser: 0 });
    tenantId = tenant?.id;
    const id = tenant?.userIds[0] as number;
    const select = { id: true, email: true, name: true } as const;
    const uncachedRead = () => bare.user.findUnique({ where: { id }, select });
    const cachedRead = () => cached.user.findUnique({ where: { id }, select, cache: true });
    await timed(100, uncachedRead); // warm-up
    await cached.$cache.ready();
    const loadAtStart = loadavg();

    const reference: number[] = [];
    const open: number[] = [];
    const beforeOpen: { reads: number; ms: number; slowest: number }[] = [];
    const toClose: number[] = [];
    let noBreaker: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      await timed(5, cachedRead);
      await cached.$cache.settled();

      server.kill("SIGSTOP");
      const frozenAt = performance.now();
      const learning: number[] = [];
      while (cached.$cache.stats().breaker !== "open") learning.push(...(await timed(1, cachedRead)));
      beforeOpen.push({ reads: learning.length, ms: performance.now() - frozenAt, slowest: Math.max(...learning) });
      // Alternating with the uncached reads, so that both see the same load on a shared machine.
      for (let i = 0; i < OPEN_CALLS; i++) {
        reference.push(...(await timed(1, uncachedRead)));
        open.push(...(await timed(1, cachedRead)));
      }
      if (round === ROUNDS - 1)
        noBreaker = await timed(NO_BREAKER_CALLS, () =>
          unbroken.user.findUnique({ where: { id }, select, cache: true }),
        );
      server.kill("SIGCONT");
      const thawedAt = performance.now();
      while (cached.$cache.stats().breaker !== "closed") {
        await cachedRead();
        await sleep(1);
      }
      toClose.push(performance.now() - thawedAt);
    }
    const loadAtEnd = loadavg();
    const stats = cached.$cache.stats();

    const format = (load: number[]) => load.map((value) => value.toFixed(2)).join(" ");
    console.log(
      `breaker bench: Node ${process.version}, ${cpus().length} cpus, load ${format(loadAtStart)} at start, ${format(loadAtEnd)} at end`,
    );
    console.log(
      `user.findUnique by id (3 fields), one call at a time; private redis-server frozen with SIGSTOP; redisTimeout 250 ms, breaker { failures: 5, openFor: "1s" }; ${ROUNDS} interleaved rounds`,
    );
    console.log("");
    console.log(
      `${"latency, ms".padEnd(34)}${"reads".padStart(7)}${"p50".padStart(9)}${"p99".padStart(9)}${"max".padStart(10)}`,
    );
    const ref = summarise(Float64Array.from(reference));
    const opened = summarise(Float64Array.from(open));
    console.log(line("uncached (plain client)", ref, Math.max(...reference)));
    console.log(line("frozen, breaker open", opened, Math.max(...open)));
    console.log(line("frozen, breaker: false", summarise(Float64Array.from(noBreaker)), Math.max(...noBreaker)));
    console.log("");
    const slow = open.filter((us) => us > TARGET_EXTRA_MS * 1000).length;
    console.log(
      `breaker open: ${slow} of ${open.length} reads slower than ${TARGET_EXTRA_MS} ms (the probes, one per openFor, pay redisTimeout)`,
    );
    for (const [i, phase] of beforeOpen.entries())
      console.log(
        `round ${i + 1}: breaker open ${phase.ms.toFixed(0)} ms after the freeze, after ${phase.reads} reads (slowest ${ms(phase.slowest)} ms); closed ${toClose[i]?.toFixed(0)} ms after the thaw`,
      );
    console.log(
      `stats: breakerOpens ${stats.breakerOpens}, breakerSkips ${stats.breakerSkips}, l1Hits ${stats.l1Hits}, l2Hits ${stats.l2Hits}, misses ${stats.misses}; onError: ${[...errors].map(([code, n]) => `${code} ${n}`).join(", ")}`,
    );
    const met = opened.p99 <= ref.p99 + TARGET_EXTRA_MS * 1000;
    console.log(
      `target: p99 with the breaker open ${ms(opened.p99)} ms <= uncached p99 ${ms(ref.p99)} ms + ${TARGET_EXTRA_MS} ms: ${met ? "PASS" : "FAIL"}`,
    );
  } finally {
    server.kill("SIGCONT");
    await cached.$cache.close();
    await unbroken.$cache.close();
    if (tenantId !== undefined)
      await bare.tenant
        .delete({ where: { id: tenantId } })
        .catch((error: unknown) => console.error("could not remove the bench tenant:", error));
    await bare.$disconnect();
    redis.disconnect();
    server.kill("SIGKILL");
  }
}

await main();
