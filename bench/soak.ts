/**
 * Memory soak (issue 12, scope 10; `npm run bench:soak`, not part of `npm test`): two application processes
 * (bench/soak-worker.ts) run a mixed load of mostly distinct cached reads and 5 % writes for `SOAK_SECONDS`
 * (default 600) against one Postgres database and a private `redis-server` this script starts, so that its key count
 * is the cache's alone. Every `SOAK_SAMPLE_SECONDS` (default 30) it prints each process's heap (after a full
 * collection), RSS and in-process bytes, the Redis key count and memory, and the stale reads seen so far; then a
 * verdict: heap and RSS flat (the last third against the second: growth under 10 %), in-process bytes within
 * `maxSize`, Redis keys bounded (the last third against the second: growth under 10 %), zero stale reads.
 *
 * Env: DATABASE_URL (default: the test database's server, database `pqc_soak`, recreated), SOAK_SECONDS,
 * SOAK_SAMPLE_SECONDS, SOAK_LOOPS (concurrent loops per process, default 8), SOAK_L1 (bytes, default 4 MB), SOAK_TTL
 * (every entry's ttl, default "1m": the live population levels off after it, so a bounded store stops growing).
 */
import { fork, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createRequire } from "node:module";
import { loadavg } from "node:os";
import { fileURLToPath, pathToFileURL } from "node:url";
import { PrismaPg } from "@prisma/adapter-pg";
import { Redis } from "ioredis";
import { DEFAULT_DATABASE_URL, resetPostgres } from "../scripts/lib/database.mjs";
import { PrismaClient } from "../test/generated/postgres/client.ts";
import { RedisServer } from "../test/helpers/redis-server.ts";
import type { SoakSample, SoakWorkerSettings } from "./soak-worker.ts";

const seconds = Number(process.env.SOAK_SECONDS ?? 600);
const sampleSeconds = Number(process.env.SOAK_SAMPLE_SECONDS ?? 30);
const loops = Number(process.env.SOAK_LOOPS ?? 8);
const l1MaxBytes = Number(process.env.SOAK_L1 ?? 4 * 1024 * 1024);
const ttl = process.env.SOAK_TTL ?? "1m";
const databaseUrl =
  process.env.DATABASE_URL ?? Object.assign(new URL(DEFAULT_DATABASE_URL), { pathname: "/pqc_soak" }).toString();
const USERS = 5_000;
const TENANTS = 50;

await resetPostgres(databaseUrl);
const bare = new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl }) });
const tenantIds: number[] = [];
for (let t = 0; t < TENANTS; t++)
  tenantIds.push(
    (await bare.tenant.create({ data: { slug: `soak-${t}`, name: `Soak ${t}` }, select: { id: true } })).id,
  );
const users = await bare.user.createManyAndReturn({
  data: Array.from({ length: USERS }, (_, i) => ({
    tenantId: tenantIds[i % TENANTS]!,
    email: `soak-${i}@example.test`,
    name: `user ${i.toString(16)} ${(i * 2654435761).toString(16)}`,
  })),
  select: { id: true },
});
await bare.$disconnect();

const server = await RedisServer.start();
const redis = new Redis(server.url);
const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
const workerFile = fileURLToPath(new URL("./soak-worker.ts", import.meta.url));
const latest = new Map<number, SoakSample>();
const first = new Map<number, SoakSample[]>();
const workers: ChildProcess[] = [];
for (let index = 0; index < 2; index++) {
  const settings: SoakWorkerSettings = {
    index,
    databaseUrl,
    redisUrl: server.url,
    prefix: "soak:",
    donePrefix: "soak-check:done:",
    userIds: users.map((user) => user.id),
    tenantIds,
    writeShare: 0.05,
    loops,
    sampleMs: sampleSeconds * 1000,
    l1MaxBytes,
    ttl,
  };
  const child = fork(workerFile, [], {
    execArgv: ["--import", tsx, "--expose-gc"],
    env: { ...process.env, PQC_SOAK_WORKER: JSON.stringify(settings) },
  });
  child.on("message", (message: SoakSample | { type: "ready" }) => {
    if (message.type !== "sample") return;
    latest.set(message.index, message);
    first.set(message.index, [...(first.get(message.index) ?? []), message]);
  });
  workers.push(child);
  await once(child, "message");
}

const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);
/** Redis's key count (the cache's keys and the check's `done:` keys) and memory. */
async function redisUsage(): Promise<{ keys: number; cacheKeys: number; memory: number }> {
  const keys = await redis.dbsize();
  const checkKeys = (await redis.keys("soak-check:*")).length;
  const memory = Number(/used_memory:(\d+)/.exec(await redis.info("memory"))?.[1] ?? 0);
  return { keys, cacheKeys: keys - checkKeys, memory };
}
const redisSeries: number[] = [];
console.log(
  `soak: ${seconds} s, 2 processes x ${loops} loops, ${USERS} users, 5 % writes, ttl ${ttl}, l1 maxSize ${mb(l1MaxBytes)} MB, load ${loadavg()[0]!.toFixed(1)}`,
);
console.log(
  "   t  | process | heap MB | rss MB | l1 MB | l1 entries |   reads | stale | errors | redis keys | redis MB",
);
const timer = setInterval(
  async () => {
    const usage = await redisUsage();
    redisSeries.push(usage.cacheKeys);
    for (const sample of latest.values())
      console.log(
        `${String(Math.round(sample.atMs / 1000)).padStart(5)} | ${String(sample.index).padStart(7)} | ${mb(sample.heapUsed).padStart(7)} | ${mb(sample.rss).padStart(6)} | ${mb(sample.l1Bytes).padStart(5)} | ${String(sample.l1Entries).padStart(10)} | ${String(sample.reads).padStart(7)} | ${String(sample.stale).padStart(5)} | ${String(sample.errors).padStart(6)} | ${String(usage.cacheKeys).padStart(10)} | ${mb(usage.memory).padStart(8)}`,
      );
  },
  sampleSeconds * 1000 + 500,
);
await new Promise((resolve) => setTimeout(resolve, seconds * 1000 + 1000));
clearInterval(timer);
for (const worker of workers) worker.send({ type: "stop" });
await Promise.all(workers.map((worker) => once(worker, "exit")));
redis.disconnect();
await server.kill();

/** Growth of the mean of the last third of `series` over the mean of its second third. */
function growth(series: readonly number[]): number {
  const third = Math.floor(series.length / 3);
  if (third === 0) return 0;
  const mean = (part: readonly number[]) => part.reduce((a, b) => a + b, 0) / part.length;
  return mean(series.slice(2 * third)) / mean(series.slice(third, 2 * third)) - 1;
}
const verdicts: string[] = [];
const pass = (ok: boolean) => (ok ? "PASS" : "FAIL");
for (const [index, samples] of first) {
  const heap = growth(samples.map((s) => s.heapUsed));
  const rss = growth(samples.map((s) => s.rss));
  const l1Max = Math.max(...samples.map((s) => s.l1Bytes));
  const last = samples[samples.length - 1]!;
  verdicts.push(
    `process ${index}: heap growth ${(heap * 100).toFixed(1)} % ${pass(heap < 0.1)}, rss growth ${(rss * 100).toFixed(1)} % ${pass(rss < 0.1)}, ` +
      `l1 max ${mb(l1Max)} / ${mb(l1MaxBytes)} MB ${pass(l1Max <= l1MaxBytes)}, ${last.reads} reads, ${last.writes} writes, ` +
      `stale ${last.stale} ${pass(last.stale === 0)}, errors ${last.errors}`,
  );
}
const keys = growth(redisSeries);
verdicts.push(
  `redis keys: ${redisSeries.join(" ")}; growth ${(keys * 100).toFixed(1)} % ${pass(keys < 0.1)}; load ${loadavg()[0]!.toFixed(1)}`,
);
for (const line of verdicts) console.log(line);
