/**
 * Proof on a real app: the RealWorld "Conduit" Express + Prisma backend (vendored unchanged in ./app), run as two
 * processes sharing Postgres and Redis, driven over HTTP by a seeded mixed workload at 80/20 and 95/5 read/write
 * mixes, three times per mix: no cache, prisma-query-cache (every model cached by configuration only), and the peer
 * prisma-extension-redis (auto-cache mode). Each run starts on a fresh copy of one seeded database.
 *
 * Two measurements per mix and set-up:
 * - timed runs: `BENCH_CLIENTS` concurrent clients for `BENCH_SECONDS` after `BENCH_WARMUP` seconds of warm-up,
 *   `BENCH_ROUNDS` rounds of the three set-ups in turn, the median round of each kept; throughput, p50/p99 latency,
 *   database statements per request, the app processes' CPU time per request (which, unlike throughput, barely
 *   moves with the machine's load), and the hit ratio the cache counted (hits / (hits + misses));
 * - a replay: the first `BENCH_REPLAY` requests of one seeded stream (on the 10 hottest articles and users), one at
 *   a time, alternating between the two processes, whose every answer is compared with the uncached replay's (see
 *   compare.ts for what is normalised). A control replay, whose only writes are comments, must find differences for
 *   the peer, which does not trace relations: it shows the comparison can fail.
 *
 * `BENCH_MIXES=80/20` runs one mix, `BENCH_MIXES=none` the control alone.
 *
 *   npm run bench:app                       (needs Postgres and Redis; DATABASE_URL / REDIS_URL as for the tests)
 *   BENCH_SECONDS=30 BENCH_CLIENTS=32 npm run bench:app
 *
 * Prints every target as `measured / target PASS|FAIL` and writes docs/real-app-throughput.svg.
 */
import { writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import pg from "pg";
import { barChart } from "./chart.ts";
import { differences } from "./compare.ts";
import { createSeededDatabase, databaseName, dropDatabase, generateClient, recreateDatabase } from "./database.ts";
import { buildDataset, sizes } from "./dataset.ts";
import { type LoadResult, replay, timedLoad } from "./load.ts";
import { type CacheMode, freePort, startServers } from "./servers.ts";
import { type WriteOp, workloadShape } from "./workload.ts";
import { DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL } from "../../scripts/lib/database.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const number = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const settings = {
  seconds: number("BENCH_SECONDS", 20),
  warmup: number("BENCH_WARMUP", 10),
  clients: number("BENCH_CLIENTS", 16),
  rounds: number("BENCH_ROUNDS", 3),
  replay: number("BENCH_REPLAY", 1000),
  // The replays draw from the 10 hottest articles and users only: reads then often follow writes to what they read,
  // which is where a stale answer would show. Over the whole dataset, a read rarely repeats after a relevant write.
  replayFocus: 10,
  processes: 2,
  seed: 42,
};
const baseUrl = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
const redisUrl = process.env.REDIS_URL ?? DEFAULT_REDIS_URL;
const seedDatabase = `${databaseName(baseUrl)}_seed`;
const runDatabase = `${databaseName(baseUrl)}_run`;

const mixes = [
  { name: "80/20", readShare: 0.8, target: 1.2 },
  { name: "95/5", readShare: 0.95, target: 3 },
];
const modes: { mode: CacheMode; label: string }[] = [
  { mode: "none", label: "no cache" },
  { mode: "pqc", label: "prisma-query-cache" },
  { mode: "peer", label: "prisma-extension-redis" },
];

/** A timed run's figures, with the hit ratio of its measured window and what the run left in Redis. */
type Measured = LoadResult & {
  hitRatio: number | undefined;
  queriesPerRequest: number;
  cpuMsPerRequest: number;
  redis: Footprint;
};

/** The keys a run holds in Redis under its prefix, and their memory (`MEMORY USAGE`, summed). */
interface Footprint {
  keys: number;
  bytes: number;
}

const redis = new Redis(redisUrl);
const data = buildDataset();

/** Deletes the keys of one run (its own prefix) from the shared Redis: never a FLUSH. */
async function deleteKeys(prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
    if (keys.length > 0) await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== "0");
}

/** What a run holds in Redis under `prefix` (every key, one pipelined `MEMORY USAGE` each). */
async function footprint(prefix: string): Promise<Footprint> {
  let cursor = "0";
  let keys = 0;
  let bytes = 0;
  do {
    const [next, found] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
    const pipeline = redis.pipeline();
    for (const key of found) pipeline.memory("USAGE", key);
    for (const [, usage] of (await pipeline.exec()) ?? []) bytes += Number(usage ?? 0);
    keys += found.length;
    cursor = next;
  } while (cursor !== "0");
  return { keys, bytes };
}

let runs = 0;
let dumps = 0;

/** Starts the apps of `mode` on a fresh copy of the seeded database, runs `work`, and cleans up after it. */
async function withApps<T>(
  mode: CacheMode,
  work: (apps: Awaited<ReturnType<typeof startServers>>, prefix: string) => Promise<T>,
): Promise<T> {
  // Letters, digits and underscores only: prisma-extension-redis snake-cases its prefix (it would drop a colon).
  const prefix = `pqc_real_app_${process.pid}_${++runs}_`;
  const url = await recreateDatabase(baseUrl, runDatabase, seedDatabase);
  // Ports the system just handed out, each its own (consecutive ports may be taken by anything else running here).
  const ports = new Set<number>();
  while (ports.size < settings.processes) ports.add(await freePort());
  const apps = await startServers({ mode, databaseUrl: url, redisUrl, prefix, ports: [...ports] });
  try {
    return await work(apps, prefix);
  } finally {
    await apps.stop();
    await deleteKeys(prefix);
  }
}

async function timed(mode: CacheMode, readShare: number): Promise<Measured> {
  return withApps(mode, async (apps, prefix) => {
    const load = { urls: apps.urls, data, readShare, clients: settings.clients };
    await timedLoad({ ...load, seed: settings.seed + 1000, seconds: settings.warmup });
    const before = await apps.counts();
    const result = await timedLoad({ ...load, seed: settings.seed, seconds: settings.seconds });
    const after = await apps.counts();
    const hits = after.hits - before.hits;
    const misses = after.misses - before.misses;
    const held = mode === "none" ? { keys: 0, bytes: 0 } : await footprint(prefix);
    return {
      redis: held,
      ...result,
      hitRatio: mode === "none" ? undefined : hits / Math.max(1, hits + misses),
      queriesPerRequest: (after.queries - before.queries) / result.requests,
      cpuMsPerRequest: (after.cpuMs - before.cpuMs) / result.requests,
    };
  });
}

/**
 * Replays one seeded stream without a cache, then with prisma-query-cache and with the peer, and prints how many
 * answers of each differ from the uncached ones (by operation, and the first difference in full).
 */
async function compareReplays(
  readShare: number,
  count: number,
  writes?: Partial<Record<WriteOp, number>>,
): Promise<Map<CacheMode, number>> {
  const replayed = (mode: CacheMode) =>
    withApps(mode, async (apps) => {
      const start = Date.now();
      const focus = settings.replayFocus;
      const answers = await replay({ urls: apps.urls, data, readShare, seed: settings.seed, count, writes, focus });
      return { start, answers, hits: (await apps.counts()).hits };
    });
  const uncached = await replayed("none");
  const found = new Map<CacheMode, number>();
  for (const mode of ["pqc", "peer"] as const) {
    const run = await replayed(mode);
    const differing = differences(uncached.answers, uncached.start, run.answers, run.start);
    found.set(mode, differing.length);
    const byOp = new Map<string, number>();
    for (const difference of differing) byOp.set(difference.request.op, (byOp.get(difference.request.op) ?? 0) + 1);
    const detail = [...byOp].map(([op, n]) => `${op} ${n}`).join(", ");
    console.log(
      `  replay ${mode}: ${differing.length} of ${count} answers differ from the uncached replay${detail ? ` (${detail})` : ""}; ${run.hits} reads answered by the cache`,
    );
    const first = differing[0];
    if (first) {
      const file = join(tmpdir(), `real-app-differences-${mode}-${++dumps}.json`);
      writeFileSync(file, JSON.stringify(differing, null, 2));
      console.log(`    every difference, in full: ${file}`);
      console.log(`    first: #${first.index} ${first.request.method} ${first.request.path}`);
      console.log(`      uncached ${first.expected.status} ${first.expected.body.slice(0, 300)}`);
      console.log(`      ${mode.padEnd(8)} ${first.actual.status} ${first.actual.body.slice(0, 300)}`);
    }
  }
  return found;
}

async function printMachine(): Promise<void> {
  const client = new pg.Client({ connectionString: baseUrl });
  await client.connect();
  const postgres = (await client.query("SHOW server_version")).rows[0].server_version as string;
  await client.end();
  const redisVersion = /redis_version:(\S+)/.exec(await redis.info("server"))?.[1] ?? "?";
  const cpu = cpus();
  console.log(
    `machine: Node ${process.version}, ${cpu[0]?.model.trim() ?? "unknown cpu"}, ${cpu.length} cores, load ${loadavg()
      .map((load) => load.toFixed(2))
      .join(" ")}; Postgres ${postgres}, Redis ${redisVersion} (loopback)`,
  );
}

/** The run whose throughput is the median of `runs` (the lower middle one of an even count). */
function medianByThroughput(runs: Measured[]): Measured {
  const sorted = [...runs].sort((a, b) => a.throughput - b.throughput);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

const ms = (us: number) => (us / 1000).toFixed(1);
const verdict = (pass: boolean) => (pass ? "PASS" : "FAIL");

async function main(): Promise<void> {
  generateClient();
  await createSeededDatabase(baseUrl, seedDatabase, data);
  console.log(
    "real-app: RealWorld Conduit backend (gothinkster/node-express-realworld-example-app @ 30b68e1), Express + Prisma 7 + @prisma/adapter-pg",
  );
  await printMachine();
  console.log(
    `data: ${sizes.users} users, ${sizes.articles} articles, ${sizes.tags} tags, ${sizes.comments} comments, ${sizes.favorites} favourites, ${sizes.follows} follows; ` +
      `workload: ${settings.processes} app processes, ${settings.clients} clients, ${settings.warmup} s warm-up + ${settings.seconds} s measured per run, ${settings.rounds} rounds (median shown), seed ${settings.seed}, ` +
      `${workloadShape.anonymousReads * 100}% anonymous reads; replay: ${settings.replay} requests one at a time across both processes, on the ${settings.replayFocus} hottest articles and users`,
  );
  const targets: string[] = [];
  const rows: string[] = [];
  const groups = [];
  // BENCH_MIXES=none runs the control replay alone (for working on consistency); "80/20" one mix.
  const selected = (process.env.BENCH_MIXES ?? mixes.map((mix) => mix.name).join(",")).split(",");
  for (const mix of mixes.filter((mix) => selected.includes(mix.name))) {
    console.log(`\nmix ${mix.name} (reads/writes)`);
    // Rounds of the three set-ups in turn, the median round of each kept: on a shared machine the load of the
    // other tenants moves from minute to minute, and interleaving spreads it over the three.
    const rounds = new Map<CacheMode, Measured[]>(modes.map(({ mode }) => [mode, []]));
    for (let round = 1; round <= settings.rounds; round++) {
      for (const { mode, label } of modes) {
        const result = await timed(mode, mix.readShare);
        rounds.get(mode)!.push(result);
        const ratio = result.hitRatio === undefined ? "" : `, hit ratio ${result.hitRatio.toFixed(3)}`;
        console.log(
          `  round ${round} ${label.padEnd(24)} ${result.requests} requests, ${result.throughput.toFixed(0)} req/s, p50 ${ms(result.latency.p50)} ms, p99 ${ms(result.latency.p99)} ms, ${result.queriesPerRequest.toFixed(2)} db statements/request, app CPU ${result.cpuMsPerRequest.toFixed(1)} ms/request, ${(100 * result.repeatShare).toFixed(0)}% repeated reads${ratio}` +
            (mode === "none"
              ? ""
              : `, Redis ${result.redis.keys} keys ${(result.redis.bytes / 2 ** 20).toFixed(1)} MB`) +
            (result.serverErrors ? `, ${result.serverErrors} answers >= 500` : ""),
        );
      }
    }
    const results = new Map([...rounds].map(([mode, measured]) => [mode, medianByThroughput(measured)]));
    console.log(`  p50 ms per operation: ${modes.map(({ label }) => label).join(" / ")}`);
    for (const op of results.get("none")!.byOp.keys()) {
      const p50s = modes.map(({ mode }) => results.get(mode)!.byOp.get(op));
      console.log(`    ${op.padEnd(14)} ${p50s.map((summary) => (summary ? ms(summary.p50) : "-")).join(" / ")}`);
    }
    const diffs = await compareReplays(mix.readShare, settings.replay);
    const none = results.get("none")!;
    const pqc = results.get("pqc")!;
    const peer = results.get("peer")!;
    const speedup = pqc.throughput / none.throughput;
    targets.push(
      `${mix.name} throughput cached/uncached: ${speedup.toFixed(2)} / >= ${mix.target} ${verdict(speedup >= mix.target)}`,
      `${mix.name} answers differing from uncached: ${diffs.get("pqc")} / 0 ${verdict(diffs.get("pqc") === 0)}`,
      `${mix.name} (info) peer throughput / uncached: ${(peer.throughput / none.throughput).toFixed(2)}; peer answers differing: ${diffs.get("peer")}`,
    );
    for (const { mode, label } of modes) {
      const r = results.get(mode)!;
      rows.push(
        `| ${mix.name} | ${label} | ${r.throughput.toFixed(0)} | ${(r.throughput / none.throughput).toFixed(2)} | ${ms(r.latency.p50)} | ${ms(r.latency.p99)} | ${r.hitRatio === undefined ? "-" : r.hitRatio.toFixed(3)} | ${mode === "none" ? "-" : diffs.get(mode)} |`,
      );
    }
    groups.push({ label: `${mix.name} reads/writes`, values: modes.map(({ mode }) => results.get(mode)!.throughput) });
  }
  // The control: a replay whose only writes are comments. prisma-extension-redis keeps an article's cached comments
  // (an Article entry) when a Comment is created (it does not trace relations, by its own documentation), so this
  // replay must find differences for it: it shows the comparison catches a stale answer when one is served.
  console.log(`\ncontrol: ${settings.replay / 2} requests, 80/20, the only writes comments`);
  const control = await compareReplays(0.8, settings.replay / 2, { comment: 1 });
  targets.push(
    `control: peer answers differing on a comments-only write mix: ${control.get("peer")} / > 0 ${verdict(control.get("peer")! > 0)}; prisma-query-cache: ${control.get("pqc")} / 0 ${verdict(control.get("pqc") === 0)}`,
  );
  console.log("\ntargets:");
  for (const line of targets) console.log(`  ${line}`);
  console.log("\nmarkdown:");
  console.log("| mix | client | req/s | vs no cache | p50 ms | p99 ms | hit ratio | answers differing |");
  console.log("|---|---|---|---|---|---|---|---|");
  for (const row of rows) console.log(row);
  const svg = barChart({
    title: `Conduit over HTTP: throughput per mix (${settings.processes} processes, ${settings.clients} clients)`,
    unit: "requests per second",
    series: modes.map(({ label }) => label),
    groups,
  });
  writeFileSync(join(root, "docs", "real-app-throughput.svg"), svg);
  await printMachine();
  console.log("wrote docs/real-app-throughput.svg");
}

try {
  await main();
} finally {
  await dropDatabase(baseUrl, runDatabase);
  await dropDatabase(baseUrl, seedDatabase);
  redis.disconnect();
}
