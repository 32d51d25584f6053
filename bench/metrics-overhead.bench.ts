/**
 * Metrics overhead benchmark: what labelled metrics (`metrics: true`) cost
 * the in-process hit, the hottest path, next to the same hit with metrics
 * off. A report, not a test: it exits 0 whatever the figures and prints FAIL
 * next to a missed target (issue 11: <= 1.10x with every metric and the
 * advisor on).
 *
 * Four clients over one database read the same rows (ids rotated) from
 * their in-process tier: metrics off (the default), metrics on, metrics
 * on with a subscriber on the `prisma-query-cache:read` diagnostics channel
 * (what an exporter reading latencies adds), and metrics and the advisor on. They run in interleaved slices
 * within each round, so all see the same machine; the median round is shown.
 * The library is imported from its build (bench/library.ts says why).
 *
 * Env: DATABASE_URL (recreated!). No Redis: an in-process hit never reaches it.
 * BENCH_BASELINE=<path to another build's dist/index.js> adds a fourth client built from it (metrics off), to
 * compare this build's hit with another's (the branch point, say) in the same rounds. BENCH_PATHS=off,baseline
 * runs only the paths named (off, on, on+ch, all, baseline). BENCH_REDIS=1 measures Redis hits instead (every client
 * with `l1: false` on REDIS_URL, keys under this run's prefix, deleted at the end).
 */
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { cpus, loadavg } from "node:os";
import { PrismaPg } from "@prisma/adapter-pg";
import type { Redis } from "ioredis";
import { DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL, resetPostgres } from "../scripts/lib/database.mjs";
import { connectRedis, deleteKeys } from "../examples/support/redis.ts";
import { PrismaClient } from "../test/generated/postgres/client.ts";
import { seed } from "../examples/support/seed.ts";
import { cacheExtension } from "./library.ts";
import { medianRound, summarise, timeBatches, type Summary } from "./measure.ts";

/** Redis hits instead of in-process hits (BENCH_REDIS=1). */
const REDIS = process.env.BENCH_REDIS === "1";
const ROUNDS = 11;
const SLICES = 10;
/** Calls per timed block: a hit costs a few microseconds, less than reading the clock per call would blur. */
const BATCH = REDIS ? 10 : 50;
const CALLS = REDIS ? 10_000 : 100_000;
const runPrefix = `pqc-bench-metrics:${process.pid}:`;
const USERS = 200;
const TARGET = 1.1;

const databaseUrl = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;

type Base = PrismaClient;

function client(
  base: Base,
  redis: Redis | undefined,
  metrics: boolean,
  extension: typeof cacheExtension = cacheExtension,
  advisor = false,
) {
  const prefix = `${runPrefix}${metrics}:${advisor}:${extension === cacheExtension ? "" : "baseline:"}`;
  return base.$extends(
    extension({
      defaults: { ttl: "1h" },
      metrics,
      ...(advisor ? { advisor } : {}),
      prefix,
      ...(redis === undefined ? {} : { redis, l1: false }),
    }),
  );
}

/** The other build's `cacheExtension` (BENCH_BASELINE), or undefined. */
async function baselineExtension(): Promise<typeof cacheExtension | undefined> {
  const path = process.env.BENCH_BASELINE;
  if (path === undefined) return undefined;
  const built = (await import(new URL(path, `file://${process.cwd()}/`).href)) as {
    cacheExtension: typeof cacheExtension;
  };
  // A build older than the `metrics` option refuses it: it is left out.
  return (options) => {
    const { metrics: _metrics, advisor: _advisor, ...rest } = options ?? {};
    return built.cacheExtension(rest);
  };
}

async function main(): Promise<void> {
  await resetPostgres(databaseUrl);
  const base = new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl }) });
  const redis = REDIS ? await connectRedis(process.env.REDIS_URL ?? DEFAULT_REDIS_URL) : undefined;
  try {
    const [tenant] = await seed(base, { tenants: [{ slug: "bench", users: USERS }], postsPerUser: 0 });
    const ids = tenant?.userIds ?? [];
    const off = client(base, redis, false);
    const on = client(base, redis, true);
    const subscribed = client(base, redis, true);
    const all = client(base, redis, true, cacheExtension, true);
    const baseline = await baselineExtension();
    const other = baseline && client(base, redis, false, baseline);
    for (const prisma of [off, on, subscribed, all, ...(other ? [other] : [])]) {
      for (const id of ids) await prisma.user.findUnique({ where: { id }, cache: true });
      await prisma.$cache.settled(); // the Redis writes are in the background
    }
    const hit = REDIS ? "Redis hit (l1: false)" : "in-process hit";

    const onRead = (): void => undefined;
    const paths = [
      { key: "off", label: `${hit}, metrics off (default)`, prisma: off, channel: false },
      { key: "on", label: `${hit}, metrics: true`, prisma: on, channel: false },
      {
        key: "on+ch",
        label: `${hit}, metrics: true + read channel subscriber`,
        prisma: subscribed,
        channel: true,
      },
      { key: "all", label: `${hit}, metrics: true + advisor: true`, prisma: all, channel: false },
      ...(other ? [{ key: "baseline", label: `${hit}, BENCH_BASELINE build`, prisma: other, channel: false }] : []),
    ];
    // BENCH_PATHS=off,baseline runs only those (the ratios printed need "off").
    const only = process.env.BENCH_PATHS?.split(",");
    if (only !== undefined) paths.splice(0, paths.length, ...paths.filter((path) => only.includes(path.key)));
    const rounds = new Map<string, Summary[]>(paths.map((path) => [path.key, []]));
    const perSlice = CALLS / SLICES;
    for (let round = -1; round < ROUNDS; round++) {
      const samples = new Map<string, Float64Array[]>(paths.map((path) => [path.key, []]));
      for (let slice = 0; slice < SLICES; slice++) {
        // Each slice starts with the next path: none always runs right after another's garbage.
        for (const path of paths.map((_, p) => paths[(p + slice) % paths.length] as (typeof paths)[number])) {
          if (path.channel) subscribe("prisma-query-cache:read", onRead);
          const first = slice * perSlice;
          samples
            .get(path.key)
            ?.push(
              await timeBatches(
                perSlice,
                (i) =>
                  path.prisma.user.findUnique({ where: { id: ids[(first + i) % ids.length] as number }, cache: true }),
                BATCH,
              ),
            );
          if (path.channel) unsubscribe("prisma-query-cache:read", onRead);
        }
      }
      if (round < 0) continue; // warm-up
      for (const path of paths) {
        const all = samples.get(path.key) ?? [];
        const merged = new Float64Array(all.reduce((n, part) => n + part.length, 0));
        let at = 0;
        for (const part of all) {
          merged.set(part, at);
          at += part.length;
        }
        rounds.get(path.key)?.push(summarise(merged));
      }
    }

    const cpu = cpus();
    console.log(
      `machine: Node ${process.version}, ${cpu[0]?.model.trim() ?? "unknown cpu"}, ${cpu.length} cores, load ${loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")}`,
    );
    console.log(
      `${USERS} users, ids rotated; ${ROUNDS} rounds of ${SLICES} interleaved slices of ${perSlice} calls (blocks of ${BATCH}), median round shown; us per call`,
    );
    const median = new Map(paths.map((path) => [path.key, medianRound(rounds.get(path.key) ?? [])]));
    for (const path of paths) {
      const s = median.get(path.key) as Summary;
      console.log(
        `  ${path.label.padEnd(62)} p50 ${s.p50.toFixed(2)}  p99 ${s.p99.toFixed(2)}  mean ${s.mean.toFixed(2)}`,
      );
    }
    const ratioOf = (key: string) => (median.get(key) as Summary).p50 / (median.get("off") as Summary).p50;
    for (const key of paths.map((path) => path.key).filter((key) => key !== "off"))
      console.log(`  ${key} / off p50: ${ratioOf(key).toFixed(3)}x`);
    // Round by round, the ratio of the same round (each round's paths ran interleaved).
    for (const key of paths.map((path) => path.key).filter((key) => key !== "off")) {
      const perRound = (rounds.get(key) ?? []).map((s, i) => s.p50 / (rounds.get("off")?.[i]?.p50 ?? NaN));
      console.log(`  ${key} / off p50 per round: ${perRound.map((r) => r.toFixed(3)).join(" ")}`);
    }
    // Issue 11's overhead target: the in-process hit with every metric and the advisor on, against both off.
    if (median.has("all")) {
      const overhead = ratioOf("all");
      console.log(
        `${hit}, metrics + advisor on / off: ${overhead.toFixed(3)} / target <= ${TARGET} ${overhead <= TARGET ? "PASS" : "FAIL"}`,
      );
    }
    const m = on.$cache.metrics();
    console.log(
      `check: metrics-on client ${m.totals.l1Hits} l1 / ${m.totals.l2Hits} l2 hits, ${m.latency.l1.count} / ${m.latency.l2.count} timed, p50 l1 ${(m.latency.l1.p50 * 1000).toFixed(2)} us, l2 ${(m.latency.l2.p50 * 1000).toFixed(1)} us (inside the extension); off client ${off.$cache.stats().l1Hits} l1 / ${off.$cache.stats().l2Hits} l2 hits`,
    );
  } finally {
    if (redis !== undefined) {
      await deleteKeys(redis, runPrefix);
      await redis.quit();
    }
    await base.$disconnect();
  }
}

await main();
