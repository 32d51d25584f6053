/**
 * Expiry benchmark: the latency of a hot key across its expiry, with and
 * without stale-while-revalidate.
 *
 *   npx tsup && npx tsx bench/expiry.bench.ts
 *
 * One process, one hot key, read by 8 concurrent loops (each awaits its
 * read, then yields for THINK_MS) for ROUND_MS of real time, with a 500 ms
 * ttl, so the key expires every half second. Three extension instances
 * (Redis and the in-process tier, a prefix each), one per configuration,
 * measured in interleaved rounds:
 *
 * - ttl: `cache: { ttl: "500ms", jitter: 0 }`: at each expiry the readers
 *   wait for one load (single-flight);
 * - ttl + swr: `cache: { ttl: "500ms", swr: "5s", jitter: 0 }`: past the ttl
 *   the entry is served stale while one background refresh replaces it;
 * - ttl + earlyRefresh: `cache: { ttl: "500ms", earlyRefresh: 1, jitter: 0 }`:
 *   XFetch refreshes the entry in the background shortly before its ttl ends.
 *
 * The query is `user.findUnique({ where: { id }, include: { posts: true } })`
 * of a user with POSTS posts (two SQL statements, a few hundred microseconds
 * more than a plain findUnique); its uncached latency is measured first, as
 * the reference. Printed per configuration: p50, p99, p99.9 and max of every
 * read, the reads slower than SLOW_MS, the database queries (a query
 * extension below the cache counts them) and the cache's counters.
 *
 * A report, not a test: it exits 0 whatever the figures. Rows live in a
 * tenant of their own, removed at the end; Redis keys are under this run's
 * prefix, deleted at the end. The library is its build (`dist/`).
 *
 * Env: DATABASE_URL, REDIS_URL (defaults: scripts/lib/database.mjs).
 */
import { cpus, loadavg } from "node:os";
import { PrismaPg } from "@prisma/adapter-pg";
import { DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL } from "../scripts/lib/database.mjs";
import { PrismaClient } from "../test/generated/postgres/client.ts";
import { cacheExtension } from "./library.ts";
import { connectRedis, deleteKeys } from "../examples/support/redis.ts";
import { seed } from "../examples/support/seed.ts";

const LOOPS = 8;
/** Pause of each loop between two reads (a timer: the event loop runs I/O and refreshes in between). */
const THINK_MS = 1;
const ROUNDS = 3;
const ROUND_MS = 4_000;
const POSTS = 20;
const REFERENCE_CALLS = 500;
/** A read slower than this waited for something (a hit takes tens of microseconds). */
const SLOW_MS = 1;

const CONFIGS = [
  { key: "ttl", label: "ttl 500ms", cache: { ttl: "500ms", jitter: 0 } },
  { key: "swr", label: "ttl 500ms + swr 5s", cache: { ttl: "500ms", swr: "5s", jitter: 0 } },
  { key: "xfetch", label: "ttl 500ms + earlyRefresh 1", cache: { ttl: "500ms", earlyRefresh: 1, jitter: 0 } },
] as const;
/** The counters printed, summed over the timed part of each round. */
const COUNTERS = [
  "l1Hits",
  "l2Hits",
  "misses",
  "staleHits",
  "refreshes",
  "refreshFailures",
  "coalesced",
  "lockWaits",
  "earlyLoads",
  "errors",
] as const;
type Counters = Record<(typeof COUNTERS)[number], number>;

const databaseUrl = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
const redisUrl = process.env.REDIS_URL ?? DEFAULT_REDIS_URL;
const run = `pqc-bench-expiry-${process.pid}-${Date.now().toString(36)}:`;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Nearest-rank percentile of ascending samples. */
function percentile(sorted: Float64Array, fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))] ?? Number.NaN;
}

async function main(): Promise<void> {
  const started = performance.now();
  const bare = new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl }) });
  const redis = await connectRedis(redisUrl);
  const database = { queries: 0 };
  const counted = bare.$extends({
    query: { $allModels: { $allOperations: ({ args, query }) => (database.queries++, query(args)) } },
  });
  const errors: string[] = [];
  const clients = CONFIGS.map((config) => ({
    ...config,
    prisma: counted.$extends(
      cacheExtension({
        redis,
        prefix: `${run}${config.key}:`,
        onError: (error) => errors.push(`${config.key}: ${error.code} ${error.message}`),
      }),
    ),
    samples: [] as number[],
    queries: 0,
    readMs: 0,
    counters: Object.fromEntries(COUNTERS.map((name) => [name, 0])) as Counters,
  }));
  let tenantId: number | undefined;
  try {
    const [tenant] = await seed(bare, { tenants: [{ slug: run.slice(0, -1), users: 1 }], postsPerUser: POSTS });
    tenantId = tenant?.id;
    const id = tenant?.userIds[0] as number;

    const reference: number[] = [];
    for (let i = 0; i < REFERENCE_CALLS; i++) {
      const start = performance.now();
      await counted.user.findUnique({ where: { id }, include: { posts: true } });
      if (i >= REFERENCE_CALLS / 5) reference.push(performance.now() - start); // the first fifth is warm-up
    }
    for (const client of clients) await client.prisma.$cache.ready();
    const loadAtStart = loadavg();

    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < clients.length; k++) {
        const client = clients[(round + k) % clients.length] as (typeof clients)[number];
        // Untimed: the key has been idle for longer than ttl + swr while the other configurations ran; load it first.
        await client.prisma.user.findUnique({ where: { id }, include: { posts: true }, cache: client.cache });
        await client.prisma.$cache.settled();
        const before = database.queries;
        const countersBefore = client.prisma.$cache.stats();
        const roundStart = performance.now();
        const end = roundStart + ROUND_MS;
        const loop = async () => {
          while (performance.now() < end) {
            const start = performance.now();
            const user = await client.prisma.user.findUnique({
              where: { id },
              include: { posts: true },
              cache: client.cache,
            });
            client.samples.push(performance.now() - start);
            if (user?.posts.length !== POSTS)
              throw new Error(`${client.key}: read ${user?.posts.length} posts, expected ${POSTS}`);
            await sleep(THINK_MS);
          }
        };
        await Promise.all(Array.from({ length: LOOPS }, loop));
        client.readMs += performance.now() - roundStart;
        await client.prisma.$cache.settled();
        client.queries += database.queries - before;
        const countersAfter = client.prisma.$cache.stats();
        for (const name of COUNTERS) client.counters[name] += countersAfter[name] - countersBefore[name];
      }
    }
    const loadAtEnd = loadavg();

    const format = (load: number[]) => load.map((value) => value.toFixed(2)).join(" ");
    console.log(
      `expiry bench: Node ${process.version}, ${cpus().length} cpus, load ${format(loadAtStart)} at start, ${format(loadAtEnd)} at end`,
    );
    console.log(
      `one hot key, user.findUnique({ where: { id }, include: { posts: true } }) (${POSTS} posts), read by ${LOOPS} loops (${THINK_MS} ms timer between reads); ` +
        `${ROUNDS} interleaved rounds of ${ROUND_MS / 1000} s per configuration; Redis + in-process tier`,
    );
    const ref = Float64Array.from(reference).sort();
    console.log(
      `uncached reference, one call at a time: p50 ${percentile(ref, 0.5).toFixed(2)} ms, p99 ${percentile(ref, 0.99).toFixed(2)} ms (${ref.length} calls)`,
    );
    console.log("");
    const head = ["reads", "p50", "p99", "p99.9", "max", `>${SLOW_MS}ms`, "db queries"];
    console.log(`${"latency, ms".padEnd(30)}${head.map((text, i) => text.padStart(i === 6 ? 12 : 9)).join("")}`);
    for (const client of clients) {
      const sorted = Float64Array.from(client.samples).sort();
      const slow = client.samples.filter((sample) => sample > SLOW_MS).length;
      const cells = [
        percentile(sorted, 0.5),
        percentile(sorted, 0.99),
        percentile(sorted, 0.999),
        sorted[sorted.length - 1] ?? Number.NaN,
      ].map((value) => value.toFixed(3).padStart(9));
      console.log(
        `${client.label.padEnd(30)}${String(sorted.length).padStart(9)}${cells.join("")}${String(slow).padStart(9)}${String(client.queries).padStart(12)}`,
      );
    }
    console.log("");
    console.log("cache counters over the timed reads");
    for (const client of clients)
      console.log(
        `  ${client.label.padEnd(28)}${COUNTERS.map((name) => `${name} ${client.counters[name]}`).join(", ")}`,
      );
    if (errors.length > 0) console.log(`onError: ${errors.length} reports, first: ${errors[0]}`);
    const periods = clients.map((client) => `${(client.readMs / 500).toFixed(1)}`).join(" / ");
    console.log(
      `timed reading per configuration: ${periods} ttl periods of 500 ms; each round starts with an untimed load, so a ${ROUND_MS / 1000} s round holds ${ROUND_MS / 500 - 1} to ${ROUND_MS / 500} expiries (loads)`,
    );
    console.log(`total ${((performance.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    for (const client of clients) await client.prisma.$cache.close();
    await deleteKeys(redis, run);
    if (tenantId !== undefined)
      await bare.tenant
        .delete({ where: { id: tenantId } })
        .catch((error: unknown) => console.error("could not remove the bench tenant:", error));
    await bare.$disconnect();
    await redis.quit();
  }
}

await main();
