/**
 * Consistency contract, item 1, across processes: after a mutation through
 * the extended client resolves, no read through any instance sharing the
 * Redis tier returns data from before it.
 *
 * Several worker processes (test/helpers/consistency-worker.ts, each with its
 * own PrismaClient, Redis connections and cache extension, one shared prefix)
 * mix writes and cached reads on a hot set of five Post rows, `views` being
 * each row's version. A writer records a version in Redis (`done:<id>`) only
 * after its update resolved; a reader reads that record, then the row through
 * the cache, and counts a violation when the cache returns an older version.
 * In-process hits, Redis hits and misses must all happen for the check to
 * mean anything, so the test asserts them too.
 *
 * The first test runs long-lived instances that have heard each other's bus
 * heartbeats before the load starts. The second has long-lived readers and a
 * writer process that keeps starting new instances and writes through each
 * from its `$cache.ready()` on: a write must wait for every live instance's
 * acknowledgement even before its own instance has heard their heartbeats.
 */
import { fork, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { describeWith } from "../helpers/describe-with.js";
import { postgresClient, type BareClient } from "../helpers/clients.js";
import type { ParentMessage, WorkerMessage, WorkerResult, WorkerSettings } from "../helpers/consistency-worker.js";
import { connectRedis, DATABASE_URL, deleteKeysUnder, ensurePostgresSchema, REDIS_URL } from "../helpers/services.js";

/** Every worker both reads and writes; 4 processes on a 2-core machine is plenty of interleaving. */
const WORKERS = 4;
const LOOPS_PER_WORKER = 2;
const OPERATIONS_PER_WORKER = 3_000;
const WRITE_RATIO = 0.2;
const HOT_ROWS = 5;
/** Each worker stops after this long whatever its budget, so the test stays bounded. */
const MAX_WORKER_MS = 60_000;
const MIN_TOTAL_OPERATIONS = 10_000;
/** Second test: instances a freshly started writer process goes through, and how long each writes. */
const FRESH_INSTANCES = 16;
const FRESH_WINDOW_MS = 400;
const FRESH_READERS = 3;
const FRESH_READER_LOOPS = 4;

const workerFile = fileURLToPath(new URL("../helpers/consistency-worker.ts", import.meta.url));
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

describeWith(["postgres", "redis"], "multi-process consistency (postgres + redis)", () => {
  const run = `pqc-mpc-${process.pid}-${randomUUID().slice(0, 8)}:`;
  const children: ChildProcess[] = [];
  let bare: BareClient;
  let tenantId: number | undefined;
  let authorId: number | undefined;
  let postIds: number[] = [];

  beforeAll(async () => {
    await ensurePostgresSchema();
    bare = postgresClient();
    const tenant = await bare.tenant.create({ data: { slug: run, name: "multi-process consistency" } });
    tenantId = tenant.id;
    authorId = (await bare.user.create({ data: { tenantId, email: `${run}author@example.test` } })).id;
    for (let i = 0; i < HOT_ROWS; i++) {
      const post = await bare.post.create({ data: { tenantId, slug: `hot-${i}`, title: `hot row ${i}`, views: 0 } });
      postIds.push(post.id);
    }
  });

  // Each test starts from views 0, under its own cache prefix and done keys (both under `run`).
  let scope = run;
  let tests = 0;
  beforeEach(async () => {
    scope = `${run}${++tests}:`;
    await bare.post.updateMany({ where: { tenantId }, data: { views: 0 } });
  });

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    const redis = await connectRedis();
    try {
      await deleteKeysUnder(redis, run);
    } finally {
      redis.disconnect();
    }
    // The tenant cascades to its users, posts, comments and tag links; the tags the workers made are named under `run`.
    if (tenantId !== undefined) await bare.tenant.delete({ where: { id: tenantId } }).catch(() => undefined);
    await bare?.tag.deleteMany({ where: { name: { startsWith: run } } }).catch(() => undefined);
    await bare?.$disconnect();
    postIds = [];
  });

  /** Forks one worker; its "ready", "result" and exit come back as promises. */
  function startWorker(index: number, role: WorkerSettings["role"], overrides: Partial<WorkerSettings> = {}) {
    const settings: WorkerSettings = {
      index,
      role,
      databaseUrl: DATABASE_URL,
      redisUrl: REDIS_URL,
      cachePrefix: `${scope}cache:`,
      donePrefix: scope,
      tenantId: tenantId as number,
      postIds,
      authorId: authorId as number,
      operations: OPERATIONS_PER_WORKER,
      writeRatio: WRITE_RATIO,
      loops: LOOPS_PER_WORKER,
      maxDurationMs: MAX_WORKER_MS,
      freshInstances: FRESH_INSTANCES,
      freshWindowMs: FRESH_WINDOW_MS,
      ...overrides,
    };
    const child = fork(workerFile, [], {
      execArgv: ["--import", tsxLoader],
      env: { ...process.env, PQC_CONSISTENCY_WORKER: JSON.stringify(settings) },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    children.push(child);
    let markReady!: () => void;
    let settle!: (result: WorkerResult) => void;
    let fail!: (error: Error) => void;
    const ready = new Promise<void>((resolve) => (markReady = resolve));
    const result = new Promise<WorkerResult>((resolve, reject) => ((settle = resolve), (fail = reject)));
    child.on("message", (message: WorkerMessage) => {
      if (message.type === "ready") markReady();
      else settle(message);
    });
    child.on("error", (error) => fail(error));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    // A worker that dies without a result fails the test instead of hanging it.
    void exited.then((code) => fail(new Error(`worker ${index} exited with code ${code} before sending its result`)));
    const tell = (message: ParentMessage) => {
      if (child.connected) child.send(message);
    };
    return { child, ready: Promise.race([ready, result.then(() => undefined)]), result, exited, tell };
  }
  type Worker = ReturnType<typeof startWorker>;

  /** Starts the workers together once every one is ready and has heard the others' heartbeats. */
  async function go(workers: Worker[]): Promise<number> {
    await Promise.all(workers.map((w) => w.ready));
    // Every bus heartbeats every lease / 3 (500 ms by default): after 700 ms each instance has
    // heard every other, so the load runs in the steady state, not the start-up handshake.
    await new Promise((resolve) => setTimeout(resolve, 700));
    for (const w of workers) w.tell({ type: "go" });
    return performance.now();
  }

  /** Exit codes, or "still running" for a worker that has not exited 10 s after its result. */
  function exits(workers: Worker[]) {
    return Promise.all(
      workers.map((w) =>
        Promise.race([w.exited, new Promise((resolve) => setTimeout(() => resolve("still running"), 10_000))]),
      ),
    );
  }

  /** Prints per-worker lines and returns the totals. */
  function summarise(results: WorkerResult[]) {
    const total = {
      reads: 0,
      writes: 0,
      links: 0,
      linkReads: 0,
      l1Hits: 0,
      l2Hits: 0,
      misses: 0,
      firstReadsUnshared: 0,
      violations: 0,
    };
    for (const r of results) {
      total.firstReadsUnshared += r.stats.firstReadsUnshared;
      total.reads += r.reads;
      total.writes += r.writes;
      total.links += r.links;
      total.linkReads += r.readsByKind.links;
      total.l1Hits += r.stats.l1Hits;
      total.l2Hits += r.stats.l2Hits;
      total.misses += r.stats.misses;
      total.violations += r.violationCount;
      console.log(
        `[consistency] worker ${r.index} (${r.role}${r.instances > 1 ? `, ${r.instances} instances` : ""}): ${r.reads} reads (${r.readsByKind.findUnique} findUnique, ${r.readsByKind.findMany} findMany, ${r.readsByKind.aggregate} aggregate, ${r.readsByKind.links} links), ${r.writes} writes, ${r.links} link writes in ${(r.elapsedMs / 1000).toFixed(1)} s;` +
          ` l1Hits ${r.stats.l1Hits}, l2Hits ${r.stats.l2Hits}, misses ${r.stats.misses}, invalidations ${r.stats.invalidations}, errors ${r.stats.errors}` +
          `${Object.keys(r.errorCodes).length > 0 ? ` ${JSON.stringify(r.errorCodes)}` : ""}; violations ${r.violationCount}`,
      );
      for (const v of r.violations) console.log(`[consistency]   VIOLATION ${JSON.stringify(v)}`);
      for (const f of r.failures) console.log(`[consistency]   FAILURE in worker ${r.index}: ${f}`);
    }
    return total;
  }

  /** The database agrees with the writers: every done record is the row's final version. */
  async function checkDatabase(writes: number): Promise<void> {
    const rows = await bare.post.findMany({ where: { tenantId }, orderBy: { id: "asc" } });
    const redis = await connectRedis();
    const done = (await redis.mget(...postIds.map((id) => `${scope}done:${id}`))).map((value) => Number(value ?? 0));
    redis.disconnect();
    expect(rows.reduce((sum, row) => sum + row.views, 0)).toBe(writes);
    rows.forEach((row, i) => expect(row.views).toBe(done[i]));
  }

  /** Runs WORKERS mixed workers to their end: their results, the time from "go", exit codes and the totals. */
  async function runMixed(overrides: Partial<WorkerSettings> = {}) {
    const workers = Array.from({ length: WORKERS }, (_, i) => startWorker(i, "mixed", overrides));
    const started = await go(workers);
    const results = await Promise.all(workers.map((w) => w.result));
    const elapsedS = (performance.now() - started) / 1000;
    return { results, elapsedS, exitCodes: await exits(workers), total: summarise(results) };
  }

  it(`${WORKERS} long-lived processes, ${Math.round(WRITE_RATIO * 100)}% writes on ${HOT_ROWS} hot rows: no cached read returns a version older than a resolved write`, async () => {
    const { results, elapsedS, exitCodes, total } = await runMixed();
    const ops = total.reads + total.writes + total.links;
    console.log(
      `[consistency] total: ${ops} ops (${total.reads} reads, ${total.writes} writes, ${total.links} link writes) in ${elapsedS.toFixed(1)} s = ${Math.round(ops / elapsedS)} ops/s;` +
        ` l1Hits ${total.l1Hits}, l2Hits ${total.l2Hits}, misses ${total.misses}; violations ${total.violations}; worker exits ${JSON.stringify(exitCodes)}`,
    );

    expect(results.flatMap((r) => r.failures)).toEqual([]);
    expect(total.violations).toBe(0);
    expect(ops).toBeGreaterThanOrEqual(MIN_TOTAL_OPERATIONS);
    // The relation tags were exercised: links were written and their counts read through the cache.
    expect(total.links).toBeGreaterThan(0);
    expect(total.linkReads).toBeGreaterThan(0);
    expect(total.l1Hits).toBeGreaterThan(0);
    expect(total.l2Hits).toBeGreaterThan(0);
    expect(total.misses).toBeGreaterThan(0);
    await checkDatabase(total.writes);
    expect(exitCodes).toEqual(Array(WORKERS).fill(0));
  }, 120_000);

  it(`with admission "auto" on ${WORKERS} processes (first reads kept in-process unless a reader waits, shapes measured): no cached read returns a version older than a resolved write`, async () => {
    const { results, elapsedS, exitCodes, total } = await runMixed({ admission: "auto" });
    console.log(
      `[consistency] admission auto: ${total.reads} reads, ${total.writes} writes in ${elapsedS.toFixed(1)} s;` +
        ` l1Hits ${total.l1Hits}, l2Hits ${total.l2Hits}, misses ${total.misses}, first reads kept in-process ${total.firstReadsUnshared}; violations ${total.violations}`,
    );
    expect(results.flatMap((r) => r.failures)).toEqual([]);
    expect(total.violations).toBe(0);
    // The new path was taken, and entries still reached Redis (second reads, waiters).
    expect(total.firstReadsUnshared).toBeGreaterThan(0);
    expect(total.l2Hits).toBeGreaterThan(0);
    await checkDatabase(total.writes);
    expect(exitCodes).toEqual(Array(WORKERS).fill(0));
  }, 120_000);

  it(`a process that has just started: its writes, from its first on, are seen by ${FRESH_READERS} long-lived readers`, async () => {
    // The writer starts a new instance (client, Redis connection, extension) ${FRESH_INSTANCES} times, and
    // writes through each from its $cache.ready() on: a deploy, a scale-out, a cron job or a script.
    const readers = Array.from({ length: FRESH_READERS }, (_, i) =>
      startWorker(i, "mixed", { writeRatio: 0, operations: 1e9, loops: FRESH_READER_LOOPS }),
    );
    const writer = startWorker(FRESH_READERS, "fresh-writer");
    const workers = [...readers, writer];
    const started = await go(workers);
    const written = await writer.result;
    for (const r of readers) r.tell({ type: "stop" });
    const results = [...(await Promise.all(readers.map((w) => w.result))), written];
    const elapsedS = (performance.now() - started) / 1000;
    const exitCodes = await exits(workers);
    const total = summarise(results);
    console.log(
      `[consistency] total: ${total.reads} reads, ${total.writes} writes by ${written.instances} fresh instances in ${elapsedS.toFixed(1)} s;` +
        ` l1Hits ${total.l1Hits}, l2Hits ${total.l2Hits}, misses ${total.misses}; violations ${total.violations}; worker exits ${JSON.stringify(exitCodes)}`,
    );

    expect(results.flatMap((r) => r.failures)).toEqual([]);
    expect(total.violations).toBe(0);
    expect(written.instances).toBe(FRESH_INSTANCES);
    expect(total.writes).toBeGreaterThan(0);
    expect(total.l1Hits).toBeGreaterThan(0);
    await checkDatabase(total.writes);
    expect(exitCodes).toEqual(Array(workers.length).fill(0));
  }, 120_000);
});
