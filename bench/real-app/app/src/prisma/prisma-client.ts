/**
 * The one module the Conduit app imports its Prisma client from: the only file of the app the benchmark changed.
 * The published file made a bare `new PrismaClient()`; Prisma 7 needs a driver adapter, and this is where the
 * benchmark decides, through `BENCH_CACHE`, what the client is extended with:
 *
 * - `none`: plain Prisma (the baseline);
 * - `pqc`: prisma-query-cache, every model cached by configuration only (`cacheByDefault`) with automatic admission
 *   (`admission: "auto"`, the set-up docs/expiry.md recommends with `cacheByDefault` on whole models), the Redis at
 *   `REDIS_URL` shared by the app processes under the key prefix `BENCH_PREFIX`;
 * - `peer`: prisma-extension-redis in auto-cache mode, its README's recommended set-up (`type: 'STRING'`: the Redis
 *   here has no RedisJSON module).
 *
 * When the benchmark forked this process (an IPC channel exists), it answers `{ type: "stats" }` with the cache's
 * counters, the number of database statements and its CPU time, so the app's routes stay as published.
 */
import { PrismaPg } from "@prisma/adapter-pg";
import Redis from "ioredis";
import { PrismaExtensionRedis } from "prisma-extension-redis";
// The library's source as the checkout holds it (tsx compiles it), so the benchmark measures the current read path.
import { cacheExtension } from "../../../../../src/index.ts";
import { PrismaClient } from "../../generated/client";

/** Reads: `hits` answered by a cache, `misses` that went to the database; with pqc, admission's decisions. */
interface ReadCounts {
  hits: number;
  misses: number;
  /** Query shapes automatic admission measured: `[shape, admitted, last window's hit ratio]`. */
  shapes?: [string, boolean, number | undefined][];
}

const mode = process.env.BENCH_CACHE ?? "none";
const prefix = process.env.BENCH_PREFIX ?? "conduit-bench:";
const base = new PrismaClient({
  adapter: new PrismaPg({ connectionString: process.env.DATABASE_URL }),
  // Every statement sent to the database is counted, the same way for every mode: what a cache saved is visible.
  log: [{ emit: "event", level: "query" }],
});
let queries = 0;
base.$on("query", () => queries++);

/** The client for `mode`, and how to read its hit counts. */
function extend() {
  if (mode === "none") return { client: base, counts: (): ReadCounts => ({ hits: 0, misses: 0 }) };
  const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
  redis.on("error", () => {}); // failures reach each library's own error path; the bench counts them there
  if (mode === "pqc") {
    const cached = { cacheByDefault: true };
    const client = base.$extends(
      cacheExtension({
        redis,
        prefix,
        defaults: { ttl: 60 },
        models: { User: cached, Article: cached, Comment: cached, Tag: cached },
        admission: "auto",
        // Experiments only (bench/real-app/profile.ts): options merged over the benchmark's.
        ...(process.env.BENCH_PQC_OPTIONS ? JSON.parse(process.env.BENCH_PQC_OPTIONS) : {}),
      }),
    );
    return {
      client,
      counts: (): ReadCounts => {
        const stats = client.$cache.stats();
        // Reads admission sent to the database are misses too: the hit ratio is over every read the app made.
        const shapes = client.$cache
          .admission()
          .map((s): [string, boolean, number | undefined] => [s.shape, s.admitted, s.lastHitRatio]);
        return { hits: stats.l1Hits + stats.l2Hits, misses: stats.misses + stats.notAdmitted, shapes };
      },
    };
  }
  if (mode === "peer") {
    const counts: ReadCounts = { hits: 0, misses: 0 };
    const client = base.$extends(
      PrismaExtensionRedis({
        config: {
          ttl: 60,
          stale: 30,
          type: "STRING",
          auto: { invalidateOnWrite: true, ttl: 60, stale: 30 },
          cacheKey: { prefix },
          onHit: () => counts.hits++,
          onMiss: () => counts.misses++,
        },
        client: redis,
      }),
    );
    return { client, counts: () => counts };
  }
  throw new Error(`BENCH_CACHE must be none, pqc or peer, not ${JSON.stringify(mode)}`);
}

const { client, counts } = extend();

// Under bench/real-app/profile.ts: exit normally on SIGTERM, so that V8 writes the CPU profile it took.
if (process.env.BENCH_PROFILE) process.once("SIGTERM", () => process.exit(0));

process.on("message", (message: { type?: string }) => {
  if (message?.type !== "stats") return;
  const cpu = process.cpuUsage();
  process.send?.({ type: "stats", ...counts(), queries, cpuMs: (cpu.user + cpu.system) / 1000 });
});

// The app's services call the model methods with their own arguments; each extended client keeps that surface, so
// they see it as the client the published module exported.
export default client as unknown as PrismaClient;
