/**
 * Invalidation benchmark: does a write cost more when more entries are cached?
 *
 *   npx tsup && npx tsx bench/invalidation.bench.ts
 *
 * Invalidation bumps tag versions (one Lua script call and one bus message
 * per write, docs/invalidation.md), whatever the number of entries, so the
 * latency of `prisma.user.update({ where: { id }, data: { name } })` through
 * the cached client should be the same with (a) 1,000 and (b) 100,000
 * entries cached (target: b/a <= 1.2). The uncached client's update is timed
 * in the same rounds, as the reference and as a gauge of machine noise; so
 * is a cached read right after a write (a miss: the write invalidated it)
 * and the read after that (an in-process hit). A second instance then listens
 * on (a)'s prefix, and a write's p50 is set against the uncached one's in
 * the same rounds (target: at most 1.25x: the acknowledgement it waits for).
 *
 * Each cache size has an extension instance (and Redis prefix) of its own:
 * S holds 1,000 entries, B 100,000. S is measured alone first ("(a) alone",
 * before B exists), then S and B side by side, in interleaved rounds with
 * the uncached client: on a shared 2-core machine the load swings between
 * phases, so the target ratio is taken from the interleaved rounds, where
 * both sizes see the same machine (and the same process heap: the cost of
 * B's entries to the garbage collector shows up in every column of those
 * rounds, the uncached one included, not in the ratio).
 *
 * Half the entries are `findUnique` by primary key (tags r:User:<id> and
 * rs:User: a write to another row leaves them live), half are `findMany`
 * pages (tag m:User: every write to User invalidates all of them); 10 query
 * shapes per row. The written rows are among the cached ones, so every write
 * bumps tags that entries depend on.
 *
 * A report, not a test: it exits 0 whatever the figures and prints FAIL next
 * to a missed target. Rows live in a tenant of their own, removed at the end;
 * Redis keys are under this run's prefix, deleted at the end. The library is
 * its build (`dist/`): tsx compiles src/ with esbuild's keepNames, whose
 * `__name()` wrappers distort timings.
 *
 * Env: DATABASE_URL, REDIS_URL (defaults: scripts/lib/database.mjs).
 */
import { cpus, loadavg } from "node:os";
import { PrismaPg } from "@prisma/adapter-pg";
import { Redis } from "ioredis";
import { DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL } from "../scripts/lib/database.mjs";
import { PrismaClient } from "../test/generated/postgres/client.ts";
import { deleteKeys, keysUnder } from "../examples/support/redis.ts";
import { cacheExtension } from "./library.ts";

type BareClient = PrismaClient;

const DATABASE_URL = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
const REDIS_URL = process.env.REDIS_URL ?? DEFAULT_REDIS_URL;
const SMALL = 1_000;
const LARGE = 100_000;
/** Query shapes per row: 5 findUnique selections, 5 findMany page sizes (see cachedRead). */
const SHAPES = 10;
/**
 * Rows; few, so that the clean-up's cascade stays quick (User.managerId has
 * no index: deleting each row scans the table for its reports).
 */
const USERS = LARGE / SHAPES;
const FILL_CONCURRENCY = 24;
const ROUNDS = 5;
const WRITES_PER_ROUND = 200;
const READS_AFTER_WRITE = 200;
const TARGET_RATIO = 1.2;
/** A cached write's p50 against the plain write's, with a second instance listening on the bus (issue target). */
const TARGET_WRITE_COST = 1.25;

const run = `pqc-bench-inv-${process.pid}-${Date.now().toString(36)}:`;
const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
const bare = new PrismaClient({ adapter: new PrismaPg({ connectionString: DATABASE_URL }) });

/** A cached client over `bare` with a prefix of its own. */
function cachedClient(prefix: string) {
  return bare.$extends(
    cacheExtension({
      redis,
      prefix,
      defaults: { ttl: "1h" },
      l1: { maxEntries: 2 * LARGE, maxSize: "2gb" },
      onError: (error) => console.error(`[cache] ${error.code}: ${error.message}`),
    }),
  );
}
type CachedClient = ReturnType<typeof cachedClient>;

interface Summary {
  n: number;
  p50: number;
  p99: number;
  mean: number;
}

/** Microseconds, from performance.now() differences in ms. */
function summarise(samplesMs: number[]): Summary {
  const us = samplesMs.map((ms) => ms * 1000).sort((a, b) => a - b);
  const at = (q: number) => us[Math.min(us.length - 1, Math.floor(q * us.length))] as number;
  return { n: us.length, p50: at(0.5), p99: at(0.99), mean: us.reduce((sum, x) => sum + x, 0) / us.length };
}

async function timed(call: () => Promise<unknown>, into: number[]): Promise<void> {
  const started = performance.now();
  await call();
  into.push(performance.now() - started);
}

let tenantId = 0;
let ids: number[] = [];
let writeCounter = 0;

async function seed(): Promise<void> {
  const tenant = await bare.tenant.create({ data: { slug: run, name: "invalidation bench" } });
  tenantId = tenant.id;
  for (let i = 0; i < USERS; i += 5_000) {
    const count = Math.min(5_000, USERS - i);
    await bare.user.createMany({
      data: Array.from({ length: count }, (_, j) => ({
        tenantId,
        email: `u${i + j}@bench.test`,
        name: `user ${i + j}`,
      })),
    });
  }
  ids = (await bare.user.findMany({ where: { tenantId }, select: { id: true }, orderBy: { id: "asc" } })).map(
    (user) => user.id,
  );
}

const SELECTIONS = [
  undefined,
  { id: true, name: true },
  { id: true, email: true },
  { id: true, name: true, email: true },
  { id: true, role: true },
] as const;

/**
 * Entry number k, on row floor(k / SHAPES): a findUnique by primary key with one of 5 selections, or a findMany page of
 * 1 to 5 rows.
 */
function cachedRead(prisma: CachedClient, k: number): Promise<unknown> {
  const id = ids[Math.floor(k / SHAPES)] as number;
  const shape = k % SHAPES;
  return shape < SELECTIONS.length
    ? prisma.user.findUnique({ where: { id }, select: SELECTIONS[shape], cache: true })
    : prisma.user.findMany({
        where: { tenantId, id: { gte: id } },
        orderBy: { id: "asc" },
        take: shape - SELECTIONS.length + 1,
        select: { id: true, name: true },
        cache: true,
      });
}

/** Reads entries [0, total) through the cache, concurrently; every one is a miss that fills both tiers. */
async function fill(prisma: CachedClient, total: number): Promise<number> {
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < total) await cachedRead(prisma, next++);
  };
  await Promise.all(Array.from({ length: FILL_CONCURRENCY }, worker));
  await prisma.$cache.settled();
  return (performance.now() - started) / 1000;
}

/** The rows written: the first 100 rows, cached in every phase, in turn (each write bumps r:User:<id> and m:User). */
const writeTarget = () => ids[writeCounter++ % 100] as number;

/** A cached read of a row just written (a miss), then again (an in-process hit), next to the uncached read. */
async function measureReadsAfterWrite(
  prisma: CachedClient,
): Promise<{ miss: Summary; hit: Summary; bareRead: Summary }> {
  const miss: number[] = [];
  const hit: number[] = [];
  const bareRead: number[] = [];
  for (let i = 0; i < READS_AFTER_WRITE; i++) {
    const id = writeTarget();
    await prisma.user.update({ where: { id }, data: { name: `read-after-write ${writeCounter}` } });
    await timed(() => prisma.user.findUnique({ where: { id }, cache: true }), miss);
    await timed(() => prisma.user.findUnique({ where: { id }, cache: true }), hit);
    await timed(() => bare.user.findUnique({ where: { id } }), bareRead);
  }
  await prisma.$cache.settled();
  return { miss: summarise(miss), hit: summarise(hit), bareRead: summarise(bareRead) };
}

const open: CachedClient[] = [];

/** A fresh instance under `label`, warmed up and filled with `entries` entries. */
async function instance(label: string, entries: number) {
  const prefix = `${run}${label}:`;
  const prisma = cachedClient(prefix);
  open.push(prisma);
  await prisma.$cache.ready();
  // Warm-up of this instance: its Lua scripts, its bus, the JIT.
  await fill(prisma, 200);
  for (let i = 0; i < 300; i++) await prisma.user.update({ where: { id: writeTarget() }, data: { name: "warm" } });
  const fillS = await fill(prisma, entries);
  const description =
    `${label}: ${entries} entries filled in ${fillS.toFixed(1)} s (${FILL_CONCURRENCY} concurrent cached reads, all misses);` +
    ` ${prisma.$cache.stats().l1Entries} in-process entries, ${(await keysUnder(redis, prefix)).length} Redis keys under its prefix (entries + tag versions)`;
  return { prisma, description };
}

/** Rounds of WRITES_PER_ROUND writes through each client in turn, the order rotating every round. */
async function measureWrites(clients: Record<string, BareClient | CachedClient>): Promise<Record<string, Summary>> {
  const names = Object.keys(clients);
  const samples: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(round + k) % names.length] as string;
      const client = clients[name] as BareClient;
      for (let i = 0; i < WRITES_PER_ROUND; i++) {
        const id = writeTarget();
        await timed(
          () => client.user.update({ where: { id }, data: { name: `${name} ${writeCounter}` } }),
          samples[name] as number[],
        );
      }
    }
  }
  return Object.fromEntries(names.map((name) => [name, summarise(samples[name] as number[])]));
}

const fmt = (us: number) => us.toFixed(0).padStart(8);
function row(label: string, s: Summary): string {
  return `${label.padEnd(56)}${fmt(s.p50)}${fmt(s.p99)}${fmt(s.mean)}${String(s.n).padStart(7)}`;
}

async function main(): Promise<void> {
  const started = performance.now();
  console.log(
    `invalidation bench: Node ${process.version}, ${cpus().length} cpus, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  await seed();
  for (let i = 0; i < 500; i++) await bare.user.update({ where: { id: writeTarget() }, data: { name: "warm" } });

  const small = await instance("S", SMALL);
  const loadAlone = loadavg()[0] as number;
  const alone = await measureWrites({ bare, small: small.prisma });
  // A second instance on S's prefix: every write through S now waits for its acknowledgement on the bus.
  const listener = cachedClient(`${run}S:`);
  open.push(listener);
  await listener.$cache.ready();
  const listened = await measureWrites({ bare, small: small.prisma });
  const big = await instance("B", LARGE);
  const loadTogether = loadavg()[0] as number;
  const together = await measureWrites({ bare, small: small.prisma, big: big.prisma });
  const reads = await measureReadsAfterWrite(big.prisma);
  const a = together.small as Summary;
  const b = together.big as Summary;

  console.log(small.description);
  console.log(big.description);
  console.log(
    `load average (1 min) when measuring: ${loadAlone.toFixed(2)} (a) alone, ${loadTogether.toFixed(2)} interleaved`,
  );
  console.log("");
  console.log(
    `${"latency, microseconds".padEnd(56)}${"p50".padStart(8)}${"p99".padStart(8)}${"mean".padStart(8)}${"n".padStart(7)}`,
  );
  console.log(row("user.update, uncached client, with (a) alone", alone.bare as Summary));
  console.log(row(`user.update, cached, (a) ${SMALL} entries, alone`, alone.small as Summary));
  console.log(row("user.update, uncached client, with (a) and a listener", listened.bare as Summary));
  console.log(row(`user.update, cached, (a), a second instance listening`, listened.small as Summary));
  console.log(row("user.update, uncached client, interleaved", together.bare as Summary));
  console.log(row(`user.update, cached, (a) ${SMALL} entries, interleaved`, a));
  console.log(row(`user.update, cached, (b) ${LARGE} entries, interleaved`, b));
  console.log(row("findUnique, uncached client", reads.bareRead));
  console.log(row("cached findUnique right after its row's write (miss), (b)", reads.miss));
  console.log(row("cached findUnique again (in-process hit), (b)", reads.hit));
  console.log("");
  for (const key of ["p50", "mean", "p99"] as const) {
    const ratio = b[key] / a[key];
    console.log(
      `write latency ratio b/a (interleaved), ${key.padEnd(4)}: ${ratio.toFixed(2)} (target <= ${TARGET_RATIO}) ${ratio <= TARGET_RATIO ? "PASS" : "FAIL"}` +
        `   [b / (a) alone: ${(b[key] / (alone.small as Summary)[key]).toFixed(2)}; uncached client, interleaved / alone: ${((together.bare as Summary)[key] / (alone.bare as Summary)[key]).toFixed(2)}]`,
    );
  }
  const writeCost = (listened.small as Summary).p50 / (listened.bare as Summary).p50;
  console.log(
    `write p50 with two instances listening / plain write p50: ${writeCost.toFixed(2)} / target <= ${TARGET_WRITE_COST} ${writeCost <= TARGET_WRITE_COST ? "PASS" : "FAIL"}`,
  );
  const overhead = (cached: Summary, uncached: Summary) => `${(cached.p50 - uncached.p50).toFixed(0)} us`;
  console.log(
    `cache overhead of a write (cached - uncached p50): (a) alone ${overhead(alone.small as Summary, alone.bare as Summary)}, (a) interleaved ${overhead(a, together.bare as Summary)}, (b) interleaved ${overhead(b, together.bare as Summary)}`,
  );
  console.log(`total ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

try {
  await main();
} finally {
  const cleanup = performance.now();
  for (const prisma of open) prisma.$cache.close();
  await deleteKeys(redis, run);
  if (tenantId !== 0)
    await bare.tenant
      .delete({ where: { id: tenantId } })
      .catch((error: unknown) => console.error("could not remove the bench tenant:", error));
  await bare.$disconnect();
  redis.disconnect();
  console.log(`clean-up ${((performance.now() - cleanup) / 1000).toFixed(1)} s`);
}
