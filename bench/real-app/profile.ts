/**
 * Where an app process's CPU goes under the real-app workload: starts the two Conduit processes of one mode
 * (`BENCH_CACHE`, default pqc) with V8's sampling profiler on, drives them for `BENCH_SECONDS` (default 20) at
 * `BENCH_READS` (default 0.95), and leaves one .cpuprofile per process in `BENCH_PROFILE_DIR` (default
 * /tmp/pqc-app-profiles; `off`: no profile, throughput only), to read with bench/profile-summary.ts.
 * `BENCH_PQC_OPTIONS` (JSON) is merged over the cache's options, to try a setting.
 *
 *   npx tsx bench/real-app/profile.ts && npx tsx bench/profile-summary.ts /tmp/pqc-app-profiles/*.cpuprofile
 */
import { mkdirSync, rmSync } from "node:fs";
import { createSeededDatabase, databaseName, generateClient, recreateDatabase } from "./database.ts";
import { buildDataset } from "./dataset.ts";
import { timedLoad } from "./load.ts";
import { type CacheMode, freePort, startServers } from "./servers.ts";
import { DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL } from "../../scripts/lib/database.mjs";

const mode = (process.env.BENCH_CACHE ?? "pqc") as CacheMode;
const seconds = Number(process.env.BENCH_SECONDS ?? 20);
const readShare = Number(process.env.BENCH_READS ?? 0.95);
const dir = process.env.BENCH_PROFILE_DIR ?? "/tmp/pqc-app-profiles";
const baseUrl = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
const redisUrl = process.env.REDIS_URL ?? DEFAULT_REDIS_URL;

generateClient();
const data = buildDataset();
const seed = `${databaseName(baseUrl)}_seed`;
await createSeededDatabase(baseUrl, seed, data);
const url = await recreateDatabase(baseUrl, `${databaseName(baseUrl)}_run`, seed);
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
process.env.BENCH_PROFILE = "1";
if (dir !== "off") process.env.BENCH_NODE_ARGS = `--cpu-prof --cpu-prof-dir=${dir}`;
const apps = await startServers({
  mode,
  databaseUrl: url,
  redisUrl,
  prefix: `pqc_profile_${process.pid}_`,
  ports: [await freePort(), await freePort()],
});
const load = { urls: apps.urls, data, readShare, clients: 16 };
await timedLoad({ ...load, seed: 1042, seconds: 5 });
const before = await apps.counts();
const result = await timedLoad({ ...load, seed: 42, seconds });
const after = await apps.counts();
const perRequest = (n: number): string => (n / result.requests).toFixed(2);
console.log(
  `${mode}: ${result.requests} requests, ${result.throughput.toFixed(0)} req/s, app CPU ${perRequest(after.cpuMs - before.cpuMs)} ms/request, ` +
    `${perRequest(after.queries - before.queries)} db statements/request, hits ${after.hits - before.hits}, misses ${after.misses - before.misses}; profiles in ${dir}`,
);
// Automatic admission's decisions at the end, per process: which query shapes the cache stopped caching.
for (const [shape, admitted, ratio] of after.shapes ?? [])
  console.log(
    `  ${admitted ? "cached  " : "bypassed"} hit ratio ${ratio == null ? "  -  " : ratio.toFixed(2)}  ${shape.slice(0, 150)}`,
  );
await apps.stop();
