/**
 * Advisor benchmark (`npx tsx bench/advisor.bench.ts`): what `advisor: true`
 * costs the reads it observes, and a demonstration of its table. A report,
 * not a test: it exits 0 whatever the figures.
 *
 * 1. Uncached `user.findUnique` by id, advisor off / on / on with
 *    `sample: 0.1`, against Postgres: the cost next to a real query.
 * 2. The same over a stub database (a `query` extension below the cache that
 *    answers without SQL, ~40 us of Prisma's pipeline): the advisor's own CPU
 *    cost made visible.
 * 3. In-process hits (`cache: true`) with the advisor off, on, and on with
 *    labelled metrics (`metrics: true`, issue 11's overhead target: <= 1.10x):
 *    the hit path does not go through the advisor.
 * Paths are interleaved in slices within each round; the median round is printed.
 * Then a mixed workload (lookups that repeat, lists invalidated by writes,
 * one-off pages) and the advisor's table of it.
 *
 * Env: DATABASE_URL (recreated!).
 */
import { cpus, loadavg } from "node:os";
import { PrismaPg } from "@prisma/adapter-pg";
import { DEFAULT_DATABASE_URL, resetPostgres } from "../scripts/lib/database.mjs";
import { PrismaClient } from "../test/generated/postgres/client.ts";
import { formatAdvisorTable } from "../src/advisor/advisor-table.ts";
import { seed } from "../examples/support/seed.ts";
import { cacheExtension } from "./library.ts";
import { medianRound, summarise, timeBatches, timeCalls, type Summary } from "./measure.ts";

const ROUNDS = 5;
const SLICES = 10;
const USERS = 500;
const DB_CALLS = 400;
const STUB_CALLS = 2_000;
const HIT_CALLS = 20_000;
const BATCH = 50;

const databaseUrl = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;

type Base = PrismaClient;
type Advisor = false | true | { sample: number };

function cached(base: Base, advisor: Advisor, metrics = false) {
  return base.$extends(
    cacheExtension({
      advisor,
      metrics,
      defaults: { ttl: "1h" },
      prefix: `bench-advisor-${JSON.stringify(advisor).replace(/\W/g, "")}-${metrics}:`,
    }),
  );
}

/** A client whose `user.findUnique` never reaches SQL: the cache sits on a query extension answering `row`. */
function stubbed(base: Base, advisor: Advisor, row: unknown) {
  return cached(
    base.$extends({ query: { user: { findUnique: () => Promise.resolve(row) } } }) as unknown as Base,
    advisor,
  );
}

interface Path {
  label: string;
  calls: number;
  run(calls: number, first: number): Promise<Float64Array>;
}

async function main(): Promise<void> {
  await resetPostgres(databaseUrl);
  const base = new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl }) });
  const [tenant] = await seed(base, { tenants: [{ slug: "advisor", users: USERS }], postsPerUser: 2 });
  const ids = tenant?.userIds ?? [];
  const id = (i: number) => ids[i % ids.length] as number;
  const row = await base.user.findUnique({ where: { id: id(0) } });

  const settings: readonly [string, Advisor][] = [
    ["off", false],
    ["on", true],
    ["on, sample 0.1", { sample: 0.1 }],
  ];
  const paths: Path[] = [];
  for (const [label, advisor] of settings) {
    const db = cached(base, advisor);
    paths.push({
      label: `uncached findUnique, Postgres, advisor ${label}`,
      calls: DB_CALLS,
      run: (calls, first) => timeCalls(calls, (i) => db.user.findUnique({ where: { id: id(first + i) } })),
    });
  }
  for (const [label, advisor] of settings) {
    const stub = stubbed(base, advisor, row);
    paths.push({
      label: `uncached findUnique, stub database, advisor ${label}`,
      calls: STUB_CALLS,
      run: (calls, first) => timeCalls(calls, (i) => stub.user.findUnique({ where: { id: id(first + i) } })),
    });
  }
  const hitSettings: readonly [string, Advisor, boolean][] = [
    ["advisor off", false, false],
    ["advisor on", true, false],
    ["metrics + advisor on", true, true],
  ];
  for (const [label, advisor, metrics] of hitSettings) {
    const hits = cached(base, advisor, metrics);
    for (const userId of ids) await hits.user.findUnique({ where: { id: userId }, cache: true });
    paths.push({
      label: `in-process hit, ${label}`,
      calls: HIT_CALLS,
      run: (calls, first) =>
        timeBatches(calls, (i) => hits.user.findUnique({ where: { id: id(first + i) }, cache: true }), BATCH),
    });
  }

  // Warm-up, then rounds of interleaved slices.
  for (const path of paths) await path.run(Math.min(path.calls, 200), 0);
  const rounds = paths.map(() => [] as Summary[]);
  for (let round = 0; round < ROUNDS; round++) {
    const samples = paths.map(() => [] as number[]);
    for (let slice = 0; slice < SLICES; slice++)
      for (const [p, path] of paths.entries()) {
        const per = path.calls / SLICES;
        (samples[p] as number[]).push(...(await path.run(per, slice * per)));
      }
    for (const [p] of paths.entries()) (rounds[p] as Summary[]).push(summarise(Float64Array.from(samples[p] ?? [])));
  }
  const medians = rounds.map((r) => medianRound(r));
  console.log(
    `advisor benchmark: load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")} on ${cpus().length} cores`,
  );
  console.log(`${"path (microseconds per call)".padEnd(56)} ${"p50".padStart(9)} ${"p99".padStart(9)}`);
  for (const [p, path] of paths.entries()) {
    const m = medians[p] as Summary;
    console.log(`${path.label.padEnd(56)} ${m.p50.toFixed(1).padStart(9)} ${m.p99.toFixed(1).padStart(9)}`);
  }
  const ratio = (a: number, b: number) => ((medians[a] as Summary).p50 / (medians[b] as Summary).p50).toFixed(3);
  console.log(`ratios (p50, same run): Postgres on/off ${ratio(1, 0)}, sample 0.1/off ${ratio(2, 0)}`);
  console.log(
    `                        stub on/off ${ratio(4, 3)}, sample 0.1/off ${ratio(5, 3)}; hit advisor on/off ${ratio(7, 6)}, metrics + advisor on/off ${ratio(8, 6)}`,
  );
  // Issue 11's overhead target is measured by bench/metrics-overhead.bench.ts: its rounds are long enough and
  // rotate the order of the paths, where these short ones, between Postgres reads, move by +-0.06.
  console.log(
    "issue 11's overhead target (every metric and the advisor on / off): see bench/metrics-overhead.bench.ts",
  );

  await demonstrate(base, ids);
  await base.$disconnect();
}

/** A mixed workload with a known answer, and the advisor's table of it. */
async function demonstrate(base: Base, ids: readonly number[]): Promise<void> {
  const prisma = cached(base, true);
  const lookups = ids.slice(0, 20);
  for (let round = 0; round < 25; round++) {
    // Profiles looked up again and again: would hit.
    for (const id of lookups) await prisma.user.findUnique({ where: { id }, select: { name: true, email: true } });
    // A feed invalidated by a write before every read: would miss.
    await prisma.post.update({ where: { id: round + 1 }, data: { views: { increment: 1 } } });
    await prisma.post.findMany({ where: { published: true }, orderBy: { id: "desc" }, take: 20 });
    // One-off pages: never repeat.
    await prisma.user.findMany({ orderBy: { id: "asc" }, skip: round * 10, take: 10 });
  }
  console.log(
    "\nadvisor table of a mixed workload (prisma.$cache.advisor(), as `prisma-query-cache advise` prints it):",
  );
  console.log(formatAdvisorTable(prisma.$cache.advisor()));
}

await main();
