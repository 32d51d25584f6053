/**
 * A Sentinel failover under load, for bench/sentinel.bench.ts (on the
 * set-up of redis-sentinel.ts): two cached instances connected through the
 * sentinel, one writing `visits` of a row every 50 ms, both reading it
 * through the cache; `SENTINEL FAILOVER` after a second. A read that returns
 * less than what a write had committed and resolved before the read began
 * is stale (consistency contract, item 1).
 */
import { Redis } from "ioredis";
import type { CacheError } from "../../src/index.js";
import { cachedClient, type BareClient, type CachedPrisma } from "./clients.js";
import { pollUntil } from "./poll.js";
import { SENTINEL_MASTER_NAME, type SentinelSetup } from "./redis-sentinel.js";

/** One stale read: when (ms after the failover began), what it returned, and what was known committed. */
export interface StaleRead {
  ms: number;
  got: bigint;
  known: bigint;
}

/** What one failover under load showed. */
export interface FailoverOutcome {
  /** Whether the sentinel promoted another server within 10 s. */
  moved: boolean;
  /** Stale reads before `settleMs` after the failover, and after. */
  staleDuring: StaleRead[];
  staleAfter: StaleRead[];
  /** Reads and cache hits after `settleMs`. */
  readsAfter: number;
  hitsAfter: number;
  /** Reads or writes that threw at the caller. */
  failures: unknown[];
  /** Codes reported through onError. */
  reported: string[];
  writes: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs the load on `rowId`, fails the master over, and watches for `settleMs` + `afterMs` more. Instances and
 * connections are closed before it returns.
 */
export async function failoverUnderLoad(
  setup: SentinelSetup,
  bare: BareClient,
  rowId: number,
  prefix: string,
  { settleMs = 3_000, afterMs = 3_000 } = {},
): Promise<FailoverOutcome> {
  const connections: Redis[] = [];
  const clients: CachedPrisma[] = [];
  const reported: string[] = [];
  const instance = async () => {
    const redis = new Redis({
      sentinels: [{ host: "127.0.0.1", port: setup.sentinelPort }],
      name: SENTINEL_MASTER_NAME,
      failoverDetector: true,
      maxRetriesPerRequest: 1,
    });
    redis.on("error", () => undefined); // failures reach the caller through onError
    connections.push(redis);
    const onError = (error: CacheError) => void reported.push(error.code);
    const { prisma } = await cachedClient(bare, { redis, prefix, onError });
    clients.push(prisma);
    return prisma;
  };
  try {
    const [writer, reader] = [await instance(), await instance()];
    const oldMaster = await setup.masterPort();
    let known = 0n;
    let writes = 0;
    let failoverAt = Number.POSITIVE_INFINITY;
    let phase: "before" | "during" | "after" = "before";
    let stopping = false;
    const outcome: FailoverOutcome = {
      moved: false,
      staleDuring: [],
      staleAfter: [],
      readsAfter: 0,
      hitsAfter: 0,
      failures: [],
      reported,
      writes: 0,
    };
    const readLoop = async (prisma: CachedPrisma) => {
      while (!stopping) {
        const floor = known;
        const hitsBefore = prisma.$cache.stats().l1Hits + prisma.$cache.stats().l2Hits;
        try {
          const got = await prisma.user.findUnique({ where: { id: rowId }, select: { visits: true }, cache: true });
          const visits = got?.visits ?? -1n;
          if (visits < floor) {
            const stale = { ms: Date.now() - failoverAt, got: visits, known: floor };
            (phase === "after" ? outcome.staleAfter : outcome.staleDuring).push(stale);
          }
          if (phase === "after") {
            outcome.readsAfter++;
            if (prisma.$cache.stats().l1Hits + prisma.$cache.stats().l2Hits > hitsBefore) outcome.hitsAfter++;
          }
        } catch (error) {
          outcome.failures.push(error);
        }
        await sleep(2);
      }
    };
    const writeLoop = async () => {
      while (!stopping) {
        try {
          const row = await writer.user.update({
            where: { id: rowId },
            data: { visits: { increment: 1 } },
            select: { visits: true },
          });
          writes++;
          if (row.visits > known) known = row.visits;
        } catch (error) {
          outcome.failures.push(error);
        }
        await sleep(50);
      }
    };
    const loops = [readLoop(reader), readLoop(writer), writeLoop()];
    await sleep(1_000);
    phase = "during";
    failoverAt = Date.now();
    await setup.sentinel.call("SENTINEL", "FAILOVER", SENTINEL_MASTER_NAME);
    outcome.moved =
      (await pollUntil(
        () => setup.masterPort(),
        (port) => port !== oldMaster,
        10_000,
      )) !== oldMaster;
    await sleep(Math.max(0, failoverAt + settleMs - Date.now()));
    phase = "after";
    await sleep(afterMs);
    stopping = true;
    await Promise.all(loops);
    outcome.writes = writes;
    return outcome;
  } finally {
    for (const prisma of clients) await prisma.$cache.close();
    for (const redis of connections) redis.disconnect();
  }
}

/** Resolves once the sentinel sees a replica in sync again (the old master, demoted): only then can it fail over. */
export async function untilReplicaInSync(setup: SentinelSetup, ms = 30_000): Promise<void> {
  const replicas = () =>
    (setup.sentinel.call("SENTINEL", "REPLICAS", SENTINEL_MASTER_NAME) as Promise<string[][]>).catch(() => []);
  const list = await pollUntil(
    replicas,
    (found) => found.some((fields) => fields.join(" ").includes("master-link-status ok")),
    ms,
  );
  if (!list.some((fields) => fields.join(" ").includes("master-link-status ok")))
    throw new Error(`the sentinel saw no replica in sync within ${ms} ms`);
}
