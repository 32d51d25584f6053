/**
 * One process of the stampede benchmark (bench/stampede.bench.ts forks four).
 *
 * It owns a PrismaClient (Postgres through @prisma/adapter-pg), an ioredis
 * client, and a database-query counter: a query extension stacked below the
 * cache, so it counts what the cache lets through to the database. For each
 * round the parent sends `prepare` (a fresh extension instance under a fresh
 * Redis prefix, so the key is cold everywhere), waits for every worker's
 * `ready`, then sends `go` to all of them; each fires its requests at once,
 * all for the same row, and reports their latencies, its database queries and
 * its `$cache.stats()`. It says `answered` as soon as every request has its
 * result, before it settles and closes the round's instance, so that the
 * parent can thaw a frozen Redis (the `frozen` mode) without waiting for work
 * that needs Redis.
 *
 * Not run directly: the parent forks it with tsx's loader (`--import tsx`).
 * The library is the build (`dist/`, see bench/library.ts).
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { PrismaPg } from "@prisma/adapter-pg";
import { DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL } from "../scripts/lib/database.mjs";
import { PrismaClient } from "../test/generated/postgres/client.ts";
import { cacheExtension } from "./library.ts";
import { connectRedis } from "../examples/support/redis.ts";

/**
 * - `lock`: the default cross-process lock (`lock` option left out), cold key;
 * - `lock-written`: the same, but every instance has read the key once, and
 *   one of them then updated the row (the burst follows an invalidation);
 * - `lock-written-primed`: as `lock-written`, in instances that also missed
 *   Redis on other rows just before (their Redis hit rate is low);
 * - `no-lock`: `lock: false`, single-flight within each process only;
 * - `uncached`: no `cache` opt-in: every request is a database query;
 * - `lock-busy`: as `lock` here; the parent runs CPU-burning processes during the round;
 * - `frozen`: as `lock`, on the private Redis of `FROZEN_REDIS_URL`, which the parent freezes (SIGSTOP) before
 *   "go" and thaws once every worker has answered.
 */
export type Mode = "lock" | "lock-written" | "lock-written-primed" | "no-lock" | "uncached" | "lock-busy" | "frozen";

export type ToWorker =
  | {
      kind: "prepare";
      mode: Mode;
      prefix: string;
      id: number;
      requests: number;
      warm: boolean;
      primeIds: number[];
      /** The instance's `redisTimeout`, in ms. */
      redisTimeoutMs: number;
    }
  | { kind: "write" }
  | { kind: "go" }
  | { kind: "sequential"; ids: number[] }
  | { kind: "exit" };

/** The counters of `$cache.stats()` the benchmark prints. */
export interface WorkerStats {
  l1Hits: number;
  l2Hits: number;
  misses: number;
  coalesced: number;
  lockWaits: number;
  errors: number;
}

export type FromWorker =
  | { kind: "ready" }
  | { kind: "written" }
  /** Every request of the burst has its result (the `result` follows once the instance has settled and closed). */
  | { kind: "answered" }
  | {
      kind: "result";
      /** Per request, from the call to its resolution, in ms. */
      latencies: number[];
      /** Database queries during the burst. */
      queries: number;
      /** performance.timeOrigin + performance.now() when the burst started: the parent derives the start skew. */
      startedAt: number;
      /** When each database query of the burst started (same clock as startedAt). */
      queryTimes: number[];
      /** For each of those queries, how many requests of the burst had their result when it started. */
      answeredAtQuery: number[];
      stats: WorkerStats | undefined;
      /** onError reports heard during the round: code and message. */
      errors: { code: string; message: string }[];
      /** The longest event-loop stall during the burst (ms). */
      loopDelayMax: number;
    }
  | { kind: "sequential"; latencies: number[] };

const databaseUrl = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
const redisUrl = process.env.REDIS_URL ?? DEFAULT_REDIS_URL;
/** The parent's private redis-server, which it freezes during `frozen` rounds; the shared one is never stopped. */
const frozenRedisUrl = process.env.FROZEN_REDIS_URL;

const bare = new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl }) });
const redis = await connectRedis(redisUrl);
const frozenRedis = frozenRedisUrl === undefined ? undefined : await connectRedis(frozenRedisUrl);
const database = { queries: 0, times: [] as number[], answered: [] as number[] };
/** Requests of the current burst that have their result. */
let answered = 0;
const counted = bare.$extends({
  query: {
    $allModels: {
      $allOperations: ({ args, query }) => {
        database.queries++;
        database.times.push(performance.timeOrigin + performance.now());
        database.answered.push(answered);
        return query(args);
      },
    },
  },
});

function cachedClient(prefix: string, mode: Mode, redisTimeoutMs: number, errors: { code: string; message: string }[]) {
  const client = mode === "frozen" ? frozenRedis : redis;
  if (client === undefined) throw new Error("a frozen round needs FROZEN_REDIS_URL");
  return counted.$extends(
    cacheExtension({
      redis: client,
      prefix,
      redisTimeout: `${redisTimeoutMs}ms`,
      defaults: { ttl: 60 },
      ...(mode === "no-lock" ? { lock: false as const } : {}),
      onError: (error) => errors.push({ code: error.code, message: error.message }),
    }),
  );
}
type Cached = ReturnType<typeof cachedClient>;

interface Round {
  mode: Mode;
  id: number;
  requests: number;
  cached: Cached | undefined;
  errors: { code: string; message: string }[];
}
let round: Round | undefined;

function send(message: FromWorker): void {
  process.send?.(message);
}

async function prepare(message: Extract<ToWorker, { kind: "prepare" }>): Promise<void> {
  const errors: { code: string; message: string }[] = [];
  const cached =
    message.mode === "uncached"
      ? undefined
      : cachedClient(message.prefix, message.mode, message.redisTimeoutMs, errors);
  if (cached !== undefined) {
    await cached.$cache.ready();
    if (message.warm) await cached.user.findUnique({ where: { id: message.id }, cache: true });
    // Sequential misses on other rows: Redis held none of them, so the instance's Redis hit rate drops.
    for (const id of message.primeIds) await cached.user.findUnique({ where: { id }, cache: true });
    await cached.$cache.settled();
  }
  round = { mode: message.mode, id: message.id, requests: message.requests, cached, errors };
  send({ kind: "ready" });
}

async function burst(): Promise<void> {
  const current = round as Round;
  const { id, cached } = current;
  const read =
    cached === undefined
      ? () => counted.user.findUnique({ where: { id } })
      : () => cached.user.findUnique({ where: { id }, cache: true });
  const before = database.queries;
  const statsBefore = cached?.$cache.stats();
  current.errors.length = 0;
  database.times.length = 0;
  database.answered.length = 0;
  answered = 0;
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const latencies = new Array<number>(current.requests);
  const startedAt = performance.timeOrigin + performance.now();
  const calls: Promise<void>[] = [];
  for (let i = 0; i < current.requests; i++) {
    const fired = performance.now();
    calls.push(
      read().then((row) => {
        latencies[i] = performance.now() - fired;
        answered++;
        if (row?.id !== id) throw new Error(`read ${String(row?.id)}, expected row ${id}`);
      }),
    );
  }
  await Promise.all(calls);
  loop.disable();
  const queries = database.queries - before;
  const queryTimes = database.times.slice(0, 20);
  const answeredAtQuery = database.answered.slice(0, 20);
  send({ kind: "answered" });
  let stats: WorkerStats | undefined;
  if (cached !== undefined) {
    await cached.$cache.settled();
    const after = cached.$cache.stats();
    // The burst's own counts: the warm-up reads of a `lock-written*` round are left out.
    const delta = (key: keyof WorkerStats) => after[key] - (statsBefore?.[key] ?? 0);
    stats = {
      l1Hits: delta("l1Hits"),
      l2Hits: delta("l2Hits"),
      misses: delta("misses"),
      coalesced: delta("coalesced"),
      lockWaits: delta("lockWaits"),
      errors: delta("errors"),
    };
    await cached.$cache.close();
  }
  round = undefined;
  send({
    kind: "result",
    latencies,
    queries,
    queryTimes,
    answeredAtQuery,
    startedAt,
    stats,
    errors: current.errors,
    loopDelayMax: loop.max / 1e6,
  });
}

/**
 * Updates the round's row through the cache: every instance under the prefix hears the invalidation before it resolves.
 */
async function write(): Promise<void> {
  const { id, cached } = round as Round;
  const data = { name: `written ${Date.now()}` };
  if (cached === undefined) await counted.user.update({ where: { id }, data });
  else await cached.user.update({ where: { id }, data });
  send({ kind: "written" });
}

/** One uncached findUnique at a time: the reference latency of the query, without concurrency. */
async function sequential(ids: number[]): Promise<void> {
  const latencies: number[] = [];
  for (const id of ids) {
    const started = performance.now();
    await counted.user.findUnique({ where: { id } });
    latencies.push(performance.now() - started);
  }
  send({ kind: "sequential", latencies });
}

async function exit(): Promise<void> {
  await bare.$disconnect();
  await redis.quit();
  await frozenRedis?.quit();
  process.disconnect();
}

process.on("message", (message: ToWorker) => {
  const task =
    message.kind === "prepare"
      ? prepare(message)
      : message.kind === "write"
        ? write()
        : message.kind === "go"
          ? burst()
          : message.kind === "sequential"
            ? sequential(message.ids)
            : exit();
  task.catch((error: unknown) => {
    console.error(`stampede worker ${process.pid}:`, error);
    process.exit(1);
  });
});
send({ kind: "ready" });
