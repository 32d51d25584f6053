/**
 * Write-through benchmark: the gain on an update-then-read workload.
 *
 *   npx tsup && npx tsx bench/write-through.bench.ts
 *
 * Each step updates one row through the cached client and then reads it
 * back with `findUnique({ where: { id }, cache: true })`. Without
 * write-through the update invalidates the cached lookup and the read is a
 * miss (a database query); with `models: { User: { writeThrough: true } }`
 * the update stores its returned row and the read is an in-process hit, at
 * the price of two more Redis round trips in the update. Both clients are
 * measured in interleaved rounds on the same rows; the figures are the
 * update, the read, and the pair, in microseconds, and the database queries
 * per pair (counted by a query extension below the cache).
 *
 * A report, not a test. Rows live in a tenant of their own, removed at the
 * end; Redis keys are under this run's prefix, deleted at the end. The
 * library is its build (`dist/`).
 *
 * Env: DATABASE_URL, REDIS_URL (defaults: scripts/lib/database.mjs).
 */
import { cpus, loadavg } from "node:os";
import { PrismaPg } from "@prisma/adapter-pg";
import { Redis } from "ioredis";
import { DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL } from "../scripts/lib/database.mjs";
import { PrismaClient } from "../test/generated/postgres/client.ts";
import { summarise, type Summary } from "./measure.ts";
import { deleteKeys } from "../examples/support/redis.ts";
import { cacheExtension } from "./library.ts";

const ROWS = 200;
const ROUNDS = 5;
const STEPS_PER_ROUND = 300;

const run = `pqc-bench-wt-${process.pid}-${Date.now().toString(36)}:`;
const redis = new Redis(process.env.REDIS_URL ?? DEFAULT_REDIS_URL, { maxRetriesPerRequest: 1 });
const bare = new PrismaClient({
  adapter: new PrismaPg({ connectionString: process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL }),
});

/** A cached client with a database-query counter below the cache. */
function client(label: string, writeThrough: boolean) {
  const database = { queries: 0 };
  const prisma = bare
    .$extends({ query: { $allModels: { $allOperations: ({ args, query }) => (database.queries++, query(args)) } } })
    .$extends(
      cacheExtension({ redis, prefix: `${run}${label}:`, defaults: { ttl: "1h" }, models: { User: { writeThrough } } }),
    );
  return {
    label,
    prisma,
    database,
    update: [] as number[],
    read: [] as number[],
    pair: [] as number[],
    queries: 0,
    steps: 0,
  };
}
type Client = ReturnType<typeof client>;

async function step(c: Client, id: number, n: number): Promise<void> {
  const before = c.database.queries;
  const start = performance.now();
  await c.prisma.user.update({ where: { id }, data: { name: `step ${n}` } });
  const updated = performance.now();
  const row = await c.prisma.user.findUnique({ where: { id }, cache: true });
  const read = performance.now();
  if (row?.name !== `step ${n}`) throw new Error(`${c.label}: read ${row?.name}, expected step ${n}`);
  c.update.push((updated - start) * 1000);
  c.read.push((read - updated) * 1000);
  c.pair.push((read - start) * 1000);
  c.queries += c.database.queries - before;
  c.steps++;
}

const line = (label: string, s: Summary) =>
  `${label.padEnd(44)}${s.p50.toFixed(0).padStart(8)}${s.p99.toFixed(0).padStart(8)}${s.mean.toFixed(0).padStart(8)}`;

async function main(): Promise<void> {
  const tenant = await bare.tenant.create({ data: { slug: `${run}tenant`, name: "write-through bench" } });
  try {
    await bare.user.createMany({
      data: Array.from({ length: ROWS }, (_, i) => ({
        tenantId: tenant.id,
        email: `wt-${i}@bench.example`,
        name: `row ${i}`,
      })),
    });
    const ids = (await bare.user.findMany({ where: { tenantId: tenant.id }, select: { id: true } })).map((u) => u.id);
    const clients = [client("off", false), client("on", true)];
    for (const c of clients) {
      await c.prisma.$cache.ready();
      for (const id of ids) await c.prisma.user.findUnique({ where: { id }, cache: true });
    }
    let n = 0;
    for (let round = 0; round < ROUNDS; round++) {
      for (const c of clients)
        for (let i = 0; i < STEPS_PER_ROUND; i++) await step(c, ids[(n + i) % ids.length] as number, n + i);
      n += STEPS_PER_ROUND;
    }
    console.log(
      `write-through bench: Node ${process.version}, ${cpus().length} cpus, load ${loadavg()[0]?.toFixed(2)}; ${ROUNDS} rounds of ${STEPS_PER_ROUND} update-then-read steps per client, interleaved`,
    );
    console.log(`\n${"latency, microseconds".padEnd(44)}${"p50".padStart(8)}${"p99".padStart(8)}${"mean".padStart(8)}`);
    for (const c of clients) {
      console.log(line(`writeThrough ${c.label}: update`, summarise(Float64Array.from(c.update))));
      console.log(line(`writeThrough ${c.label}: read after it`, summarise(Float64Array.from(c.read))));
      console.log(line(`writeThrough ${c.label}: update + read`, summarise(Float64Array.from(c.pair))));
    }
    console.log("");
    for (const c of clients)
      console.log(
        `writeThrough ${c.label}: ${(c.queries / c.steps).toFixed(2)} database queries per update + read; stats ${JSON.stringify(c.prisma.$cache.stats())}`,
      );
    const [off, on] = clients.map((c) => summarise(Float64Array.from(c.pair))) as [Summary, Summary];
    console.log(
      `\npair p50, on / off: ${(on.p50 / off.p50).toFixed(3)}  (below 1: write-through is faster on this workload)`,
    );
    for (const c of clients) await c.prisma.$cache.close();
  } finally {
    await bare.tenant.delete({ where: { id: tenant.id } });
    await deleteKeys(redis, run);
    redis.disconnect();
    await bare.$disconnect();
  }
}

await main();
