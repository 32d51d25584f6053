/**
 * One worker process of test/integration/multi-process-consistency.test.ts.
 *
 * Run with `node --import tsx test/helpers/consistency-worker.ts`, forked by
 * the test with an IPC channel and its settings in env `PQC_CONSISTENCY_WORKER`.
 * It reports "ready", waits for "go", works until its budget, its deadline
 * or a "stop" from the parent, and sends its results to the parent.
 *
 * Roles:
 * - "mixed": one PrismaClient + cache extension (own Redis connection, the
 *   shared prefix) for the whole run, mixing writes and cached reads on the
 *   hot rows (`writeRatio` 0 makes it a pure reader);
 * - "fresh-writer": starts `freshInstances` instances one after the other
 *   (a new PrismaClient, Redis connection and cache extension each, as a
 *   process that has just started would), and writes through each for
 *   `freshWindowMs` from its `$cache.ready()` on, then closes it.
 *
 * The check (consistency contract, item 1): a writer increments `views` of a
 * row and, once the update has RESOLVED, records the committed value as
 * `done:<id>` in Redis (a max, never lowered). A reader first reads `done:<id>`
 * (k: a write known to have returned), then reads the row through the cache;
 * a result with `views < k` is data from before a write that had resolved.
 *
 * Link writes check the relation tags the same way: a writer links a row to
 * a post (`comment.create` connecting the post, whose foreign key is on the
 * comment; `post.update` connecting a new tag, an implicit many-to-many) and,
 * once that has resolved, records the post's committed link counts; a cached
 * `_count` of the post's comments and tags read later may not be lower.
 */
import { PrismaPg } from "@prisma/adapter-pg";
import { Redis } from "ioredis";
import { cacheExtension, type CacheError, type CacheStats } from "../../src/index.js";
import { PrismaClient } from "../generated/postgres/client.ts";

/** What the parent passes in env `PQC_CONSISTENCY_WORKER`. */
export interface WorkerSettings {
  index: number;
  role: "mixed" | "fresh-writer";
  databaseUrl: string;
  redisUrl: string;
  /** The cache extension's `prefix`, shared by every worker. */
  cachePrefix: string;
  /** Prefix of the test's own `done:<id>` keys. */
  donePrefix: string;
  tenantId: number;
  postIds: number[];
  /** The user link writes name as their comments' author. */
  authorId: number;
  /** Operations this worker performs at most (reads + writes). */
  operations: number;
  /** "mixed": fraction of operations that are writes. */
  writeRatio: number;
  /** "mixed": concurrent operation loops. */
  loops: number;
  /** The worker stops at this many ms after "go", whatever its budget. */
  maxDurationMs: number;
  /** "fresh-writer": instances started one after the other. */
  freshInstances: number;
  /** "fresh-writer": how long each instance writes, from its `$cache.ready()` on. */
  freshWindowMs: number;
  /** The extension's `admission` (its default, `"all"`, when absent). */
  admission?: "auto";
}

type ReadKind = "findUnique" | "findMany" | "aggregate" | "links";

/** One observed violation of the contract. */
export interface Violation {
  worker: number;
  kind: ReadKind;
  postId: number | null;
  /**
   * The version (`views`; for "aggregate", the sum of them; for "links", the comments plus tags count) known to be
   * committed and resolved before the read began.
   */
  known: number;
  /** What the cached read returned. */
  got: number | null;
  /** The counters' change during the read: which tier answered (approximate when loops > 1). */
  tier: { l1Hits: number; l2Hits: number; misses: number };
  /** ms since "go" when the read started and ended. */
  startedAt: number;
  endedAt: number;
}

/** A worker's results. */
export interface WorkerResult {
  type: "result";
  index: number;
  role: WorkerSettings["role"];
  reads: number;
  /** Writes of `views` (their sum is every hot row's final `views`). */
  writes: number;
  /** Link writes (a comment or a tag linked to a hot row). */
  links: number;
  readsByKind: Record<ReadKind, number>;
  /** Cache instances this worker used (1, or the fresh writer's count). */
  instances: number;
  elapsedMs: number;
  /** Summed over the worker's instances. */
  stats: CacheStats;
  /** Every violation seen; `violations` keeps the first MAX_VIOLATIONS_KEPT of them. */
  violationCount: number;
  violations: Violation[];
  /** Codes reported through `onError`, counted. */
  errorCodes: Record<string, number>;
  failures: string[];
}

/** Messages from a worker to the parent. */
export type WorkerMessage = { type: "ready"; index: number; pid: number } | WorkerResult;

/** Messages from the parent to a worker. */
export type ParentMessage = { type: "go" } | { type: "stop" };

/** Raises the stored value to ARGV[1] when it is larger: `done:<id>` only ever moves forward. */
const RECORD_MAX = `local v = tonumber(redis.call("GET", KEYS[1]) or "0")
if tonumber(ARGV[1]) > v then redis.call("SET", KEYS[1], ARGV[1]) end
return 1`;

const MAX_VIOLATIONS_KEPT = 50;

function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    if (process.send === undefined) return reject(new Error("consistency-worker must be forked with an IPC channel"));
    process.send(message, (error: Error | null) => (error ? reject(error) : resolve()));
  });
}

function describe(error: unknown): string {
  return (error instanceof Error ? (error.stack ?? error.message) : String(error)).slice(0, 2_000);
}

/** A PrismaClient with its own Redis connection and cache extension over the shared prefix. */
function openInstance(settings: WorkerSettings, errorCodes: Record<string, number>) {
  const redis = new Redis(settings.redisUrl, { maxRetriesPerRequest: 1 });
  const bare = new PrismaClient({ adapter: new PrismaPg({ connectionString: settings.databaseUrl }) });
  const prisma = bare.$extends(
    cacheExtension({
      redis,
      prefix: settings.cachePrefix,
      ...(settings.admission === undefined ? {} : { admission: settings.admission }),
      onError: (error: CacheError) => {
        errorCodes[error.code] = (errorCodes[error.code] ?? 0) + 1;
      },
    }),
  );
  return {
    bare,
    prisma,
    async close(): Promise<void> {
      await prisma.$cache.close();
      await bare.$disconnect().catch(() => undefined);
      await redis.quit().catch(() => undefined);
    },
  };
}

type Instance = ReturnType<typeof openInstance>;

const ZERO_STATS: CacheStats = {
  l1Hits: 0,
  l2Hits: 0,
  misses: 0,
  bypassed: 0,
  errors: 0,
  notAdmitted: 0,
  invalidations: 0,
  eventsHeard: 0,
  eventConnects: 0,
  earlyLoads: 0,
  staleHits: 0,
  refreshes: 0,
  refreshFailures: 0,
  coalesced: 0,
  lockWaits: 0,
  firstReadsUnshared: 0,
  scopeHits: 0,
  l1Entries: 0,
  l1Bytes: 0,
  breaker: "off",
  breakerOpens: 0,
  breakerSkips: 0,
};

function addStats(a: CacheStats, b: CacheStats): CacheStats {
  return Object.fromEntries(
    // Counters add up; a state (the breaker's) is the latest instance's.
    Object.entries(a).map(([name, value]) => {
      const other = b[name as keyof CacheStats];
      return [name, typeof value === "number" && typeof other === "number" ? value + other : other];
    }),
  ) as unknown as CacheStats;
}

async function main(): Promise<void> {
  const settings = JSON.parse(process.env.PQC_CONSISTENCY_WORKER ?? "null") as WorkerSettings | null;
  if (settings === null) throw new Error("env PQC_CONSISTENCY_WORKER is missing");
  const { index, tenantId, postIds } = settings;

  const errorCodes: Record<string, number> = {};
  const failures: string[] = [];
  const control = new Redis(settings.redisUrl, { maxRetriesPerRequest: 1 });
  const open: Instance[] = [];
  let stats = ZERO_STATS;
  let instances = 0;
  const doneKey = (id: number) => `${settings.donePrefix}done:${id}`;
  const doneKeys = postIds.map(doneKey);
  const violations: Violation[] = [];
  let violationCount = 0;
  const readsByKind: Record<ReadKind, number> = { findUnique: 0, findMany: 0, aggregate: 0, links: 0 };
  let reads = 0;
  let writes = 0;
  let links = 0;
  const linkKey = (kind: "comments" | "tags", id: number) => `${settings.donePrefix}${kind}:${id}`;
  let started = performance.now();
  const now = () => performance.now() - started;
  let stopped = false;

  const go = new Promise<void>((resolve) => {
    process.on("message", (message: ParentMessage) => {
      if (message.type === "go") resolve();
      else stopped = true;
    });
  });
  const pick = () => postIds[Math.floor(Math.random() * postIds.length)] as number;
  const counters = (prisma: Instance["prisma"]) => {
    const { l1Hits, l2Hits, misses } = prisma.$cache.stats();
    return { l1Hits, l2Hits, misses };
  };
  const violation = (
    prisma: Instance["prisma"],
    v: Omit<Violation, "worker" | "tier" | "endedAt">,
    before: ReturnType<typeof counters>,
  ) => {
    violationCount++;
    if (violations.length >= MAX_VIOLATIONS_KEPT) return;
    const after = counters(prisma);
    violations.push({
      worker: index,
      ...v,
      tier: {
        l1Hits: after.l1Hits - before.l1Hits,
        l2Hits: after.l2Hits - before.l2Hits,
        misses: after.misses - before.misses,
      },
      endedAt: now(),
    });
  };

  const write = async ({ prisma }: Instance) => {
    const id = pick();
    const row = await prisma.post.update({ where: { id }, data: { views: { increment: 1 } }, select: { views: true } });
    // The update has resolved: from now on no cached read may return an older version of this row.
    await control.eval(RECORD_MAX, 1, doneKey(id), row.views);
    writes++;
  };

  /** Links a new comment or a new tag to a hot row, then records the row's committed link count. */
  const link = async ({ prisma, bare }: Instance) => {
    const id = pick();
    let count: number;
    if (Math.random() < 0.5) {
      await prisma.comment.create({
        data: { body: "linked", post: { connect: { id } }, author: { connect: { id: settings.authorId } } },
        select: { id: true },
      });
      count = await bare.comment.count({ where: { postId: id } });
      await control.eval(RECORD_MAX, 1, linkKey("comments", id), count);
    } else {
      // The tag is created below the cache: only the link itself goes through it (a join-table write).
      const tag = await bare.tag.create({ data: { name: `${settings.donePrefix}${index}:${links}:${Math.random()}` } });
      await prisma.post.update({ where: { id }, data: { tags: { connect: { id: tag.id } } }, select: { id: true } });
      count = await bare.tag.count({ where: { posts: { some: { id } } } });
      await control.eval(RECORD_MAX, 1, linkKey("tags", id), count);
    }
    links++;
  };

  const readLinks = async ({ prisma }: Instance) => {
    const id = pick();
    const [comments, tags] = (await control.mget(linkKey("comments", id), linkKey("tags", id))).map((value) =>
      Number(value ?? 0),
    ) as [number, number];
    const before = counters(prisma);
    const startedAt = now();
    const row = await prisma.post.findUnique({
      where: { id },
      select: { _count: { select: { comments: true, tags: true } } },
      cache: { ttl: 60 },
    });
    readsByKind.links++;
    const counts = row?._count;
    if (counts === undefined || counts.comments < comments || counts.tags < tags) {
      const got = counts === undefined ? null : counts.comments + counts.tags;
      violation(prisma, { kind: "links", postId: id, known: comments + tags, got, startedAt }, before);
    }
  };

  const readOne = async ({ prisma }: Instance) => {
    const id = pick();
    const known = Number((await control.get(doneKey(id))) ?? 0);
    const before = counters(prisma);
    const startedAt = now();
    const row = await prisma.post.findUnique({ where: { id }, cache: { ttl: 60 } });
    readsByKind.findUnique++;
    const got = row?.views ?? null;
    if (got === null || got < known)
      violation(prisma, { kind: "findUnique", postId: id, known, got, startedAt }, before);
  };

  const readAll = async ({ prisma }: Instance) => {
    const known = (await control.mget(...doneKeys)).map((value) => Number(value ?? 0));
    const before = counters(prisma);
    const startedAt = now();
    const rows = await prisma.post.findMany({
      where: { tenantId },
      orderBy: { id: "asc" },
      select: { id: true, views: true },
      cache: { ttl: 60 },
    });
    readsByKind.findMany++;
    const byId = new Map(rows.map((row) => [row.id, row.views]));
    postIds.forEach((id, i) => {
      const got = byId.get(id) ?? null;
      const k = known[i] as number;
      if (got === null || got < k)
        violation(prisma, { kind: "findMany", postId: id, known: k, got, startedAt }, before);
    });
  };

  const readSum = async ({ prisma }: Instance) => {
    const known = (await control.mget(...doneKeys)).reduce((sum, value) => sum + Number(value ?? 0), 0);
    const before = counters(prisma);
    const startedAt = now();
    const result = await prisma.post.aggregate({ where: { tenantId }, _sum: { views: true }, cache: { ttl: 60 } });
    readsByKind.aggregate++;
    // Every row's views is at least its done value, so their sum is at least the sum of the done values.
    const got = result._sum.views ?? 0;
    if (got < known) violation(prisma, { kind: "aggregate", postId: null, known, got, startedAt }, before);
  };

  /** Runs `loops` loops of `step` until the budget, the deadline or a stop; the first failure stops them all. */
  const runLoops = async (loops: number, step: () => Promise<void>, until: () => boolean = () => false) => {
    let budget = settings.operations - reads - writes;
    const loop = async () => {
      while (!stopped && budget > 0 && now() < settings.maxDurationMs && !until()) {
        budget--;
        await step();
      }
    };
    const outcomes = await Promise.allSettled(
      Array.from({ length: loops }, () =>
        loop().catch((error: unknown) => {
          stopped = true;
          throw error;
        }),
      ),
    );
    for (const outcome of outcomes) if (outcome.status === "rejected") failures.push(describe(outcome.reason));
  };

  try {
    if (settings.role === "mixed") {
      const instance = openInstance(settings, errorCodes);
      open.push(instance);
      instances = 1;
      // Warm the database connection, then wait for the bus, so in-process hits happen from the start.
      await instance.bare.post.count({ where: { tenantId } });
      await instance.prisma.$cache.ready();
      await send({ type: "ready", index, pid: process.pid });
      await go;
      started = performance.now();
      await runLoops(settings.loops, async () => {
        if (Math.random() < settings.writeRatio) return Math.random() < 0.7 ? write(instance) : link(instance);
        reads++;
        const kind = Math.random();
        if (kind < 0.6) await readOne(instance);
        else if (kind < 0.75) await readAll(instance);
        else if (kind < 0.85) await readSum(instance);
        else await readLinks(instance);
      });
      // Let the last background fills finish before reporting and closing.
      await instance.prisma.$cache.settled();
      stats = instance.prisma.$cache.stats();
    } else {
      await control.ping();
      await send({ type: "ready", index, pid: process.pid });
      await go;
      started = performance.now();
      while (!stopped && instances < settings.freshInstances && now() < settings.maxDurationMs) {
        const instance = openInstance(settings, errorCodes);
        open.push(instance);
        instances++;
        // Connected to the database, subscribed to the bus: a process that has just started serving.
        await instance.bare.post.count({ where: { tenantId } });
        await instance.prisma.$cache.ready();
        const windowEnds = performance.now() + settings.freshWindowMs;
        await runLoops(
          1,
          () => write(instance),
          () => performance.now() >= windowEnds,
        );
        stats = addStats(stats, instance.prisma.$cache.stats());
        open.pop();
        await instance.close();
      }
    }
  } catch (error) {
    failures.push(describe(error));
  }
  try {
    await send({
      type: "result",
      index,
      role: settings.role,
      reads,
      writes,
      links,
      readsByKind,
      instances,
      elapsedMs: now(),
      stats,
      violationCount,
      violations,
      errorCodes,
      failures,
    });
  } finally {
    for (const instance of open) await instance.close();
    await control.quit().catch(() => undefined);
    process.disconnect?.();
  }
}

await main();
