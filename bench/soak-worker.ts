/**
 * One application process of bench/soak.ts: a PrismaClient with the cache,
 * running a mixed load until told to stop, and reporting its memory every
 * `sampleMs`. Forked by the soak with an IPC channel; settings in env
 * `PQC_SOAK_WORKER` (JSON, {@link SoakWorkerSettings}). Needs `--expose-gc`:
 * the heap is sampled after a full collection, so what is measured is what
 * stays reachable, not what the collector has not reached yet.
 *
 * Reads (95 % by default) are cached and mostly distinct, so that what grows
 * with distinct queries would show: `findUnique` of a random row among all,
 * `findMany` with a random substring (a new query almost every time), and
 * `count` per random tenant. Writes bump `visits` of a random row and, once
 * resolved, record its committed value as `done:<id>` in Redis; a later
 * `findUnique` of that row returning less is a stale read (docs/consistency.md, item 1).
 */
import { randomBytes } from "node:crypto";
import { PrismaPg } from "@prisma/adapter-pg";
import { Redis } from "ioredis";
import { cacheExtension, type Duration } from "../src/index.js";
import { PrismaClient } from "../test/generated/postgres/client.ts";

/** What the soak passes to each worker. */
export interface SoakWorkerSettings {
  index: number;
  databaseUrl: string;
  redisUrl: string;
  prefix: string;
  /** Prefix of the `done:<id>` keys of the stale-read check. */
  donePrefix: string;
  userIds: number[];
  tenantIds: number[];
  writeShare: number;
  /** Concurrent operation loops. */
  loops: number;
  sampleMs: number;
  /** The in-process tier's `maxSize`, in bytes. */
  l1MaxBytes: number;
  /** Every entry's ttl: entries live that long, so the live population levels off after it. */
  ttl: string;
}

/** One memory reading of a worker. */
export interface SoakSample {
  type: "sample";
  index: number;
  atMs: number;
  heapUsed: number;
  rss: number;
  l1Bytes: number;
  l1Entries: number;
  reads: number;
  writes: number;
  stale: number;
  errors: number;
}

const settings = JSON.parse(process.env.PQC_SOAK_WORKER ?? "{}") as SoakWorkerSettings;
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("soak-worker needs --expose-gc");

const redis = new Redis(settings.redisUrl);
const checks = new Redis(settings.redisUrl);
let errors = 0;
const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: settings.databaseUrl }) }).$extends(
  cacheExtension({
    redis,
    prefix: settings.prefix,
    l1: { maxSize: settings.l1MaxBytes },
    // Empty results are cached too: most searches find nothing, and each is a distinct entry that must expire.
    defaults: { ttl: settings.ttl as Duration, negativeTtl: settings.ttl as Duration },
    onError: () => void errors++,
  }),
);
await prisma.$cache.ready();

let reads = 0;
let writes = 0;
let stale = 0;
let stopping = false;
const started = performance.now();
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

async function operate(): Promise<void> {
  if (Math.random() < settings.writeShare) {
    const id = pick(settings.userIds);
    const row = await prisma.user.update({
      where: { id },
      data: { visits: { increment: 1 } },
      select: { visits: true },
    });
    // Resolved: from now on no read may return less. A max, never lowered (another process may be ahead).
    await checks.eval(
      "if tonumber(redis.call('GET', KEYS[1]) or '0') < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end",
      1,
      `${settings.donePrefix}${id}`,
      String(row.visits),
    );
    writes++;
    return;
  }
  reads++;
  const kind = Math.random();
  if (kind < 0.5) {
    const id = pick(settings.userIds);
    const known = BigInt((await checks.get(`${settings.donePrefix}${id}`)) ?? "0");
    const row = await prisma.user.findUnique({ where: { id }, select: { id: true, visits: true }, cache: true });
    if (row !== null && row.visits < known) stale++;
  } else if (kind < 0.85) {
    await prisma.user.findMany({
      where: { name: { contains: randomBytes(3).toString("hex") } },
      take: 5,
      cache: true,
    });
  } else {
    await prisma.user.count({ where: { tenantId: pick(settings.tenantIds) }, cache: true });
  }
}

async function loop(): Promise<void> {
  while (!stopping) {
    try {
      await operate();
    } catch {
      errors++; // a failed operation is counted, never fatal: the soak goes on
    }
  }
}

function sample(): SoakSample {
  gc!();
  const memory = process.memoryUsage();
  const stats = prisma.$cache.stats();
  return {
    type: "sample",
    index: settings.index,
    atMs: Math.round(performance.now() - started),
    heapUsed: memory.heapUsed,
    rss: memory.rss,
    l1Bytes: stats.l1Bytes,
    l1Entries: stats.l1Entries,
    reads,
    writes,
    stale,
    errors,
  };
}

const sampler = setInterval(() => process.send?.(sample()), settings.sampleMs);
const running = Array.from({ length: settings.loops }, () => loop());
process.on("message", async (message: { type: string }) => {
  if (message.type !== "stop") return;
  stopping = true;
  clearInterval(sampler);
  await Promise.all(running);
  process.send?.(sample());
  await prisma.$cache.close();
  await prisma.$disconnect();
  redis.disconnect();
  checks.disconnect();
  process.exit(0);
});
process.send?.({ type: "ready", index: settings.index });
