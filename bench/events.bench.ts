/**
 * Event-driven invalidation benchmark (docs/events.md, issue 13):
 *
 *   npx tsup && npx tsx bench/events.bench.ts
 *
 * 1. What the triggers add to a write made outside the client: the same
 *    plain-pg UPDATE of 1 row and of 100 rows (one statement), with the
 *    triggers installed and without, in interleaved rounds, before any cache
 *    instance runs in this process (their work would slow the writer's
 *    event loop, not the database).
 * 2. Commit-to-invalidation latency: a plain `pg` connection updates one row
 *    that instance B holds in its in-process tier; the time from sending the
 *    UPDATE until B's read of that row returns the new value. That read
 *    polls (yielding to the event loop between tries), so the figure includes
 *    one database read, the miss that follows the invalidation. Two instances
 *    (A and B) listen on one Redis prefix, as in production.
 * 3. What they add to a write through the cached client (`user.update` by
 *    id): no extra round trip (the trigger runs inside the statement); the
 *    figure is the statement's extra work, and the echo (the listeners bump
 *    the tags the write already bumped) is counted, not timed: it is off the
 *    write's path.
 *
 * A report, not a test. It uses a database of its own (`<DATABASE_URL>_eventsbench`),
 * recreated at the start, and Redis keys under this run's prefix, deleted at the end.
 *
 * Env: DATABASE_URL, REDIS_URL (defaults: scripts/lib/database.mjs).
 */
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { PrismaPg } from "@prisma/adapter-pg";
import { Redis } from "ioredis";
import pg from "pg";
import { DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL, resetPostgres } from "../scripts/lib/database.mjs";
import { PrismaClient } from "../test/generated/postgres/client.ts";
import { deleteKeys } from "../examples/support/redis.ts";
import { cacheExtension } from "./library.ts";
import { medianRound, summarise, timeCalls, type Summary } from "./measure.ts";
import type * as EventsLibrary from "../src/events/index.ts";

const built: string = new URL("../dist/events.js", import.meta.url).href;
const { postgresEvents, postgresEventTriggersSql } = (await import(built)) as typeof EventsLibrary;

const base = new URL(process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL);
base.pathname = `${base.pathname}_eventsbench`;
const URL_ = base.toString();
const REDIS_URL = process.env.REDIS_URL ?? DEFAULT_REDIS_URL;
const SCHEMA = readFileSync(new URL("../prisma/schema.prisma", import.meta.url), "utf8");
const PREFIX = `pqc-bench-events:${process.pid}:`;
const USERS = 200;
const ROUNDS = 5;
const LATENCY_SAMPLES = 60;
const WRITE_SAMPLES = 200;

const sql = new pg.Client({ connectionString: URL_ });
const opened: { prisma: { $cache: { close(): Promise<void> } }; bare: PrismaClient; redis: Redis }[] = [];

async function instance() {
  const bare = new PrismaClient({ adapter: new PrismaPg({ connectionString: URL_ }) });
  const redis = new Redis(REDIS_URL);
  const prisma = bare.$extends(
    cacheExtension({ redis, prefix: PREFIX, events: postgresEvents({ connectionString: URL_ }) }),
  );
  opened.push({ prisma, bare, redis });
  await prisma.$cache.ready();
  return prisma;
}

const installTriggers = () => sql.query(postgresEventTriggersSql({ schema: SCHEMA }));
const dropTriggers = () => sql.query(postgresEventTriggersSql({ schema: SCHEMA, drop: true }));
const yieldToIo = () => new Promise((resolve) => setImmediate(resolve));
const ms = (us: number) => (us / 1000).toFixed(2);
function compare(name: string, withRounds: Summary[], withoutRounds: Summary[]): void {
  const withT = medianRound(withRounds);
  const without = medianRound(withoutRounds);
  console.log(line(`  ${name}, with triggers`, withT));
  console.log(line(`  ${name}, without`, without));
  console.log(
    `  ${"".padEnd(44)} added p50 ${ms(withT.p50 - without.p50)} ms (x${(withT.p50 / without.p50).toFixed(2)})`,
  );
}
const line = (label: string, s: Summary) =>
  `${label.padEnd(46)} p50 ${ms(s.p50).padStart(6)} ms   p99 ${ms(s.p99).padStart(6)} ms   (${s.calls} calls)`;

async function main(): Promise<void> {
  await resetPostgres(URL_);
  await sql.connect();
  await installTriggers();
  const tenant = await sql.query(`INSERT INTO "Tenant"(slug, name) VALUES ('bench', 'bench') RETURNING id`);
  const tenantId = tenant.rows[0].id as number;
  const users = await sql.query(
    `INSERT INTO "User"("tenantId", email, name) SELECT $1, 'u' || g || '@example.com', 'v0' FROM generate_series(1, ${USERS}) g RETURNING id`,
    [tenantId],
  );
  const ids = users.rows.map((row: { id: number }) => row.id);
  console.log(
    `events benchmark: node ${process.version}, ${cpus().length} cores, load ${loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}`,
  );

  // 1. External writes with and without the triggers, interleaved. No cache instance runs in this process yet, so
  // their reactions to the notifications take no CPU from the writer; a plain LISTEN connection stands in for them
  // (with no listener at all, Postgres would queue nothing).
  const standIn = new pg.Client({ connectionString: URL_ });
  await standIn.connect();
  await standIn.query("LISTEN prisma_query_cache");
  const external = {
    "plain pg UPDATE, 1 row": { with: [] as Summary[], without: [] as Summary[] },
    "plain pg UPDATE, 100 rows": { with: [] as Summary[], without: [] as Summary[] },
  };
  const first100 = ids.slice(0, 100);
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of ["with", "without"] as const) {
      await (mode === "with" ? installTriggers() : dropTriggers());
      external["plain pg UPDATE, 1 row"][mode].push(
        summarise(
          await timeCalls(WRITE_SAMPLES, (i) =>
            sql.query(`UPDATE "User" SET visits = visits + 1 WHERE id = $1`, [ids[i % ids.length]]),
          ),
        ),
      );
      external["plain pg UPDATE, 100 rows"][mode].push(
        summarise(
          await timeCalls(WRITE_SAMPLES / 4, () =>
            sql.query(`UPDATE "User" SET visits = visits + 1 WHERE id = ANY($1)`, [first100]),
          ),
        ),
      );
    }
  }
  await standIn.end();
  await installTriggers();
  console.log(`\n1. external write latency, triggers installed vs not (median of ${ROUNDS} interleaved rounds)`);
  for (const [name, modes] of Object.entries(external)) compare(name, modes.with, modes.without);

  const a = await instance();
  const b = await instance();
  // 2. Commit-to-invalidation latency, as B sees it.
  let version = 0;
  const latencyRounds: Summary[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const samples = await timeCalls(LATENCY_SAMPLES, async (i) => {
      const id = ids[i % ids.length] as number;
      const read = () => b.user.findUnique({ where: { id }, select: { name: true }, cache: true });
      await read();
      await read(); // in B's in-process tier now
      const name = `v${++version}`;
      const started = performance.now();
      await sql.query(`UPDATE "User" SET name = $1 WHERE id = $2`, [name, id]);
      while ((await read())?.name !== name) await yieldToIo();
      return performance.now() - started;
    });
    latencyRounds.push(summarise(samples));
  }
  console.log("\n2. commit-to-invalidation (plain-pg UPDATE sent -> instance B reads the new row), 2 instances");
  console.log(line("  UPDATE of 1 row", medianRound(latencyRounds)));

  // 3. Writes through the cached client with and without the triggers, both instances listening.
  const client = { with: [] as Summary[], without: [] as Summary[] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of ["with", "without"] as const) {
      await (mode === "with" ? installTriggers() : dropTriggers());
      client[mode].push(
        summarise(
          await timeCalls(WRITE_SAMPLES, (i) =>
            a.user.update({ where: { id: ids[i % ids.length] as number }, data: { visits: { increment: 1 } } }),
          ),
        ),
      );
    }
  }
  await installTriggers();
  console.log(`\n3. a write through the cached client (user.update by id), 2 instances listening`);
  compare("client user.update", client.with, client.without);

  // The echo: what the listeners do for a write the client already invalidated.
  const before = {
    heard: b.$cache.stats().eventsHeard,
    bumps: [a.$cache.stats().invalidations, b.$cache.stats().invalidations],
  };
  const echoes = 50;
  for (let i = 0; i < echoes; i++) await a.user.update({ where: { id: ids[i] as number }, data: { name: `e${i}` } });
  // Let the last notifications arrive before counting.
  const deadline = Date.now() + 2_000;
  while (b.$cache.stats().eventsHeard - before.heard < echoes && Date.now() < deadline) await yieldToIo();
  const bumps = [a.$cache.stats().invalidations - before.bumps[0]!, b.$cache.stats().invalidations - before.bumps[1]!];
  console.log(
    `   echo of ${echoes} client writes: B heard ${b.$cache.stats().eventsHeard - before.heard} notifications; tag bumps A ${bumps[0]} (its writes + its echo), B ${bumps[1]} (echo); ${(bumps[0]! + bumps[1]!) / echoes} per write`,
  );
}

try {
  await main();
} finally {
  for (const { prisma, bare, redis } of opened) {
    await prisma.$cache.close();
    await bare.$disconnect();
    await deleteKeys(redis, PREFIX);
    redis.disconnect();
  }
  await sql.end().catch(() => undefined);
}
