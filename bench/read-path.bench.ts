/**
 * Read-path benchmark (`npm run bench`): the per-call latency of a cached
 * read on each path, next to Prisma's uncached query and the floor each path
 * can be held to. A report, not a test: it exits 0 whatever the figures and
 * prints FAIL next to a missed target.
 *
 * Every path reads the same rows (one tenant's users, ids rotated), in rounds
 * that interleave the paths; the median round of each path is printed. The
 * library is imported from its build (bench/library.ts says why).
 *
 * Env: DATABASE_URL (recreated!), REDIS_URL (only keys under this run's
 * prefix are written and deleted); BENCH_PATHS=c,d runs only those paths, for
 * profiling (see bench/profile-summary.ts); BENCH_ADMISSION=auto turns automatic admission on in every cached client.
 */
import { cpus, loadavg } from "node:os";
import { PrismaPg } from "@prisma/adapter-pg";
import type { Redis } from "ioredis";
import { DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL, resetPostgres } from "../scripts/lib/database.mjs";
import { PrismaClient } from "../test/generated/postgres/client.ts";
import { cacheExtension } from "./library.ts";
import { connectRedis, deleteKeys, keysUnder } from "../examples/support/redis.ts";
import { seed } from "../examples/support/seed.ts";
import { medianRound, summarise, timeBatches, timeCalls, type Summary } from "./measure.ts";

const ROUNDS = 5;
/**
 * Each round runs every path in SLICES interleaved slices, so that a path and
 * the floor it is compared with see the same machine: on a shared 2-core box
 * a loopback round trip swings between ~25 and ~90 us as other work comes and goes.
 */
const SLICES = 10;
/**
 * Calls per timed block on the microsecond paths (b, c): reading the clock and
 * storing a sample per call costs a tenth of an in-process hit, so those are
 * timed in blocks; their "calls" column counts calls, their samples are block means.
 */
const BATCH = 50;
const USERS = 500;
/** Longer than the whole run, so that no entry expires while it is measured. */
const TTL = "1h";

/** One measured path: `run(calls, first)` times `calls` reads of the rows first, first + 1, ... (rotating). */
interface BenchPath {
  key: string;
  label: string;
  /** Calls per round; a multiple of SLICES. */
  calls: number;
  run(calls: number, first: number): Promise<Float64Array>;
}

interface Target {
  label: string;
  numerator: string;
  denominator: string;
  max: number;
}

const TARGETS: readonly Target[] = [
  { label: "in-process hit p50 / no-op query extension p50", numerator: "c", denominator: "b", max: 0.15 },
  { label: "Redis hit p50 / raw GET + JSON.parse p50", numerator: "d", denominator: "e", max: 1.25 },
  { label: "miss p50 / uncached p50", numerator: "f", denominator: "a", max: 1.1 },
];

const databaseUrl = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
const redisUrl = process.env.REDIS_URL ?? DEFAULT_REDIS_URL;
/** Every Redis key this run writes starts with this; they are deleted at the end. */
const runPrefix = `pqc-bench:${process.pid}:`;
const hitPrefix = `${runPrefix}hit:`;
const missPrefix = `${runPrefix}miss:`;

type Base = Awaited<ReturnType<typeof connect>>["base"];

async function connect() {
  await resetPostgres(databaseUrl);
  const base = new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl }) });
  return { base, redis: await connectRedis(redisUrl) };
}

/** A client with the cache on top of `base`; each prefix is a separate, empty cache. */
function cachedClient(base: Base, redis: Redis, prefix: string, l1 = true) {
  return base.$extends(
    cacheExtension({
      redis,
      prefix,
      defaults: { ttl: TTL },
      ...(l1 ? {} : { l1: false }),
      ...(process.env.BENCH_LOCK === "off" ? { lock: false as const } : {}),
      // BENCH_ADMISSION=auto: what automatic admission adds to each path (its in-process hit above all).
      ...(process.env.BENCH_ADMISSION === "auto" ? { admission: "auto" as const } : {}),
    }),
  );
}

/** The floor of any cache built on Prisma's `query` component: it answers without running the query. */
function noOpQueryExtension(base: Base, constant: unknown) {
  return base.$extends({ query: { $allModels: { findUnique: () => Promise.resolve(constant) } } });
}

/** The payload of a stored entry: what follows `fingerprint|storedAt|staleAt|expiresAt|loadMs|versions|`. */
function payloadOf(entry: string): string {
  let at = -1;
  for (let field = 0; field < 6; field++) at = entry.indexOf("|", at + 1);
  return entry.slice(at + 1);
}

async function buildPaths(base: Base, redis: Redis, ids: readonly number[]) {
  const id = (i: number) => ids[i % ids.length] as number;
  const rotate = (read: (id: number) => PromiseLike<unknown>) => (calls: number, first: number) =>
    timeCalls(calls, (i) => read(id(first + i)));
  // The two microsecond paths, b and c, are timed in blocks (see timeBatches): their samples are block means.
  const rotateBatched = (read: (id: number) => PromiseLike<unknown>) => (calls: number, first: number) =>
    timeBatches(calls, (i) => read(id(first + i)), BATCH);

  const memoryHits = cachedClient(base, redis, hitPrefix);
  const sharedHits = cachedClient(base, redis, hitPrefix, false);
  // Warm: one miss per row fills both tiers (the Redis write is in the background).
  for (const userId of ids) await memoryHits.user.findUnique({ where: { id: userId }, cache: true });
  await memoryHits.$cache.settled();
  const noOp = noOpQueryExtension(base, await base.user.findUnique({ where: { id: id(0) } }));
  // Entries only: tag versions live under `<prefix>t:`, the bus membership under `<prefix>bus:`.
  const storedKeys = (await keysUnder(redis, hitPrefix)).filter(
    (name) => !name.startsWith(`${hitPrefix}t:`) && !name.startsWith(`${hitPrefix}bus:`),
  );

  // One client for the misses: fresh clients per pass would make Prisma's and the extension's call
  // sites megamorphic and slow every other path (the in-process hit by ~50%).
  const missCache = cachedClient(base, redis, missPrefix);
  async function emptyMissCache(): Promise<void> {
    await missCache.$cache.settled();
    missCache.$cache.clearLocal();
    // Entries only: tag versions and the bus's keys stay, as they do in a running deployment.
    const entries = (await keysUnder(redis, missPrefix)).filter(
      (name) => !name.startsWith(`${missPrefix}t:`) && !name.startsWith(`${missPrefix}bus:`),
    );
    for (let at = 0; at < entries.length; at += 1000) await redis.unlink(...entries.slice(at, at + 1000));
  }
  /** Every call a distinct key: both tiers are emptied before each pass over the ids. */
  async function misses(calls: number, first: number): Promise<Float64Array> {
    const samples = new Float64Array(calls);
    for (let offset = 0; offset < calls; offset += ids.length) {
      await emptyMissCache();
      const pass = await timeCalls(Math.min(ids.length, calls - offset), (i) =>
        missCache.user.findUnique({ where: { id: id(first + offset + i) }, cache: true }),
      );
      samples.set(pass, offset);
    }
    return samples;
  }

  const paths: BenchPath[] = [
    {
      key: "a",
      label: "uncached findUnique, base client (Postgres)",
      calls: 3000,
      run: rotate((userId) => base.user.findUnique({ where: { id: userId } })),
    },
    {
      key: "a'",
      label: "same through the extension, no opt-in",
      calls: 3000,
      run: rotate((userId) => memoryHits.user.findUnique({ where: { id: userId } })),
    },
    {
      key: "b",
      label: `no-op query extension (floor), x${BATCH}`,
      calls: 30_000,
      run: rotateBatched((userId) => noOp.user.findUnique({ where: { id: userId } })),
    },
    {
      key: "c",
      label: `in-process (L1) hit, x${BATCH}`,
      calls: 200_000,
      run: rotateBatched((userId) => memoryHits.user.findUnique({ where: { id: userId }, cache: true })),
    },
    {
      key: "d",
      label: "Redis (L2) hit, l1: false",
      calls: 15_000,
      run: rotate((userId) => sharedHits.user.findUnique({ where: { id: userId }, cache: true })),
    },
    {
      key: "e",
      label: "raw ioredis GET + JSON.parse of the entry's payload",
      calls: 15_000,
      run: (calls, first) =>
        timeCalls(calls, async (i) =>
          // The payload is tagged JSON (`!` and JSON): its floor is JSON.parse, whatever the codec adds.
          JSON.parse(
            payloadOf((await redis.get(storedKeys[(first + i) % storedKeys.length] as string)) as string).slice(1),
          ),
        ),
    },
    { key: "f", label: "miss (Redis miss, then Postgres)", calls: 3000, run: misses },
    {
      key: "f'",
      label: "raw floor of f: ioredis GET (nil), then a",
      calls: 3000,
      run: rotate(
        async (userId) => (await redis.get(`${runPrefix}absent`)) ?? base.user.findUnique({ where: { id: userId } }),
      ),
    },
  ];
  return { paths, memoryHits, sharedHits, missCache, storedKeys };
}

/** Runs a warm-up pass, then ROUNDS rounds of interleaved slices; returns each path's median round. */
async function measure(paths: readonly BenchPath[]): Promise<Map<string, Summary>> {
  for (const path of paths) await path.run(path.calls / 4, 0);
  const rounds = new Map<string, Summary[]>(paths.map((path) => [path.key, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const slices = new Map<string, Float64Array[]>(paths.map((path) => [path.key, []]));
    for (let slice = 0; slice < SLICES; slice++) {
      for (const path of paths) {
        const size = path.calls / SLICES;
        slices.get(path.key)?.push(await path.run(size, slice * size));
      }
    }
    for (const path of paths)
      rounds.get(path.key)?.push({ ...summarise(concat(slices.get(path.key) ?? [])), calls: path.calls });
  }
  return new Map([...rounds].map(([key, summaries]) => [key, medianRound(summaries)]));
}

function concat(parts: readonly Float64Array[]): Float64Array {
  const all = new Float64Array(parts.reduce((total, part) => total + part.length, 0));
  let at = 0;
  for (const part of parts) {
    all.set(part, at);
    at += part.length;
  }
  return all;
}

function printTable(paths: readonly BenchPath[], results: Map<string, Summary>): void {
  console.log(
    `\n${"path".padEnd(50)}${"calls".padStart(8)}${"mean us".padStart(10)}${"p50 us".padStart(10)}${"p99 us".padStart(10)}`,
  );
  for (const path of paths) {
    const result = results.get(path.key) as Summary;
    const row = [
      result.calls.toString().padStart(8),
      ...[result.mean, result.p50, result.p99].map((value) => value.toFixed(1).padStart(10)),
    ];
    console.log(`${`${path.key.padEnd(3)}${path.label}`.padEnd(50)}${row.join("")}`);
  }
}

function printTargets(results: Map<string, Summary>): void {
  console.log("\ntargets (median round, p50 ratios)");
  for (const target of TARGETS) {
    const numerator = results.get(target.numerator);
    const denominator = results.get(target.denominator);
    if (numerator === undefined || denominator === undefined) continue;
    const ratio = numerator.p50 / denominator.p50;
    const verdict = ratio <= target.max ? "PASS" : "FAIL  <-- target missed";
    console.log(`  ${target.label.padEnd(50)}${ratio.toFixed(4).padStart(8)}  <= ${target.max.toFixed(2)}  ${verdict}`);
  }
  // Not a target: how far any read-through miss (one Redis round trip before the database) must exceed (a).
  const [miss, floor, uncached] = [results.get("f"), results.get("f'"), results.get("a")];
  if (miss && floor && uncached) {
    console.log(
      `  (info) raw floor f' p50 / uncached p50 ${(floor.p50 / uncached.p50).toFixed(3)}; miss p50 / raw floor p50 ${(miss.p50 / floor.p50).toFixed(3)}`,
    );
  }
}

async function printEnvironment(base: Base, redis: Redis): Promise<void> {
  const [{ server_version: postgres }] = await base.$queryRaw<[{ server_version: string }]>`SHOW server_version`;
  const redisVersion = /redis_version:(\S+)/.exec(await redis.info("server"))?.[1] ?? "?";
  const cpu = cpus();
  console.log(
    `machine: Node ${process.version}, ${cpu[0]?.model.trim() ?? "unknown cpu"}, ${cpu.length} cores, load ${loadavg()[0]?.toFixed(2)}; Postgres ${postgres}, Redis ${redisVersion} (loopback)`,
  );
  console.log(
    `data: 1 tenant, ${USERS} users (Decimal, BigInt, Date, Json), ids rotated on every path; ${ROUNDS} rounds of ${SLICES} interleaved slices after a warm-up, median round shown`,
  );
}

async function main(): Promise<void> {
  const startedAt = performance.now();
  const { base, redis } = await connect();
  try {
    const [tenant] = await seed(base, { tenants: [{ slug: "bench", users: USERS }], postsPerUser: 0 });
    const { paths, memoryHits, sharedHits, missCache, storedKeys } = await buildPaths(
      base,
      redis,
      tenant?.userIds ?? [],
    );
    const only = process.env.BENCH_PATHS?.split(",");
    const selected = paths.filter((path) => only === undefined || only.includes(path.key));
    await printEnvironment(base, redis);

    const results = await measure(selected);
    printTable(selected, results);
    printTargets(results);

    const memory = memoryHits.$cache.stats();
    const entryText = await redis.get(storedKeys[0] as string);
    console.log(
      `\nmemory: in-process tier holds ${memory.l1Entries} entries, ~${(memory.l1Bytes / 1024).toFixed(0)} KiB estimated (${(memory.l1Bytes / memory.l1Entries).toFixed(0)} B/entry); one Redis entry is ${entryText?.length ?? 0} B`,
    );
    const shared = sharedHits.$cache.stats();
    const missed = missCache.$cache.stats();
    console.log(
      `check: L1 client ${memory.l1Hits} L1 hits, ${memory.misses} misses (the warm-up), ${memory.errors} errors; L2 client ${shared.l2Hits} L2 hits, ${shared.misses} misses, ${shared.errors} errors; ` +
        `miss client ${missed.misses} misses, ${missed.l1Hits + missed.l2Hits} hits, ${missed.errors} errors`,
    );
    console.log(`total time ${((performance.now() - startedAt) / 1000).toFixed(0)} s`);
  } finally {
    await deleteKeys(redis, runPrefix);
    await base.$disconnect();
    await redis.quit();
  }
}

await main();
