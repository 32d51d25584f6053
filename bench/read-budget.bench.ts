/**
 * Redis time of a cold read when every round trip is slow but under
 * `redisTimeout` (issue 12, scope 2): before, each command had its own
 * timeout and a cold read made two or three in a row before the database
 * (lookup, version initialisation, lock take); now one `redisTimeout` bounds
 * them all.
 *
 *   npx tsup && npx tsx bench/read-budget.bench.ts
 *
 * One process; the shared Redis reached through a proxy that delays every
 * byte (test/helpers/delaying-proxy.ts); `redisTimeout` 150 ms; round trips
 * of 100 and 200 ms, plus 0 as the reference. Each read is cold: a user by
 * id never read before (its key and its tag versions new to Redis). The
 * same read on the plain client is the uncached reference. Only keys under
 * this run's prefix are written, and deleted at the end. A report, not a
 * test: it exits 0 whatever the figures. The library is its build (`dist/`).
 *
 * Env: DATABASE_URL, REDIS_URL (defaults: scripts/lib/database.mjs).
 */
import { cpus, loadavg } from "node:os";
import { PrismaPg } from "@prisma/adapter-pg";
import { Redis } from "ioredis";
import { DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL } from "../scripts/lib/database.mjs";
import { PrismaClient } from "../test/generated/postgres/client.ts";
import { startDelayingProxy } from "../test/helpers/delaying-proxy.ts";
import { connectRedis, deleteKeys } from "../examples/support/redis.ts";
import { seed } from "../examples/support/seed.ts";
import { cacheExtension } from "./library.ts";

const REDIS_TIMEOUT_MS = 150;
const ROUND_TRIPS_MS = [0, 100, 200];
const READS_PER_SETTING = 20;

const databaseUrl = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
const redisUrl = process.env.REDIS_URL ?? DEFAULT_REDIS_URL;
const run = `pqc-bench-budget-${process.pid}-${Date.now().toString(36)}`;

const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;

async function main(): Promise<void> {
  const bare = new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl }) });
  const admin = await connectRedis(redisUrl);
  const proxy = await startDelayingProxy(redisUrl);
  const redis = new Redis(proxy.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on("error", () => undefined);
  await redis.connect();
  const reports = new Map<string, number>();
  const cached = bare.$extends(
    cacheExtension({
      redis,
      prefix: `${run}:`,
      redisTimeout: `${REDIS_TIMEOUT_MS}ms`,
      breaker: false, // what one read costs, not what the breaker saves once reads keep failing
      onError: (error) => {
        const kind = /Redis time \(redisTimeout/.test(String(error.cause ?? error.message))
          ? "budget spent"
          : error.code;
        reports.set(kind, (reports.get(kind) ?? 0) + 1);
      },
    }),
  );
  let tenantId: number | undefined;
  try {
    const users = READS_PER_SETTING * ROUND_TRIPS_MS.length;
    const [tenant] = await seed(bare, { tenants: [{ slug: run, users }], postsPerUser: 0 });
    tenantId = tenant?.id;
    const ids = tenant?.userIds ?? [];
    await cached.$cache.ready();
    const loadAtStart = loadavg();
    console.log(
      `read-budget bench: Node ${process.version}, ${cpus().length} cpus, load ${loadAtStart.map((v) => v.toFixed(2)).join(" ")} at start`,
    );
    console.log(
      `cold user.findUnique by id, one at a time, ${READS_PER_SETTING} per setting; redisTimeout ${REDIS_TIMEOUT_MS} ms, breaker off`,
    );
    console.log(
      `${"round trip".padEnd(12)}${"uncached p50".padStart(14)}${"cold p50".padStart(10)}${"cold max".padStart(10)}`,
    );
    let next = 0;
    for (const roundTrip of ROUND_TRIPS_MS) {
      proxy.delayEachWay(roundTrip / 2);
      const cold: number[] = [];
      const uncached: number[] = [];
      for (let i = 0; i < READS_PER_SETTING; i++) {
        const id = ids[next++] as number;
        let start = performance.now();
        await bare.user.findUnique({ where: { id } });
        uncached.push(performance.now() - start);
        start = performance.now();
        await cached.user.findUnique({ where: { id }, cache: true });
        cold.push(performance.now() - start);
      }
      cold.sort((a, b) => a - b);
      uncached.sort((a, b) => a - b);
      console.log(
        `${`${roundTrip} ms`.padEnd(12)}${percentile(uncached, 0.5).toFixed(1).padStart(14)}${percentile(cold, 0.5).toFixed(1).padStart(10)}${(cold.at(-1) as number).toFixed(1).padStart(10)}`,
      );
    }
    console.log(
      `load ${loadavg()
        .map((v) => v.toFixed(2))
        .join(" ")} at end; onError: ${[...reports].map(([k, n]) => `${k} ${n}`).join(", ") || "none"}`,
    );
  } finally {
    proxy.delayEachWay(0);
    await cached.$cache.close();
    if (tenantId !== undefined) await bare.tenant.delete({ where: { id: tenantId } }).catch(() => undefined);
    await deleteKeys(admin, `${run}:`);
    await bare.$disconnect();
    redis.disconnect();
    admin.disconnect();
    await proxy.close();
  }
}

await main();
