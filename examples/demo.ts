/**
 * A short tour of prisma-query-cache (`npm run demo`): embedded SQLite and the
 * in-process tier, so nothing needs to be running; with REDIS_URL set, the
 * Redis tier too, and a second instance that sees the first one's writes.
 * Prints what each cached read and write did, then each instance's counters
 * with what they mean, closes everything, and exits.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { Redis } from "ioredis";
import { cacheExtension, type CacheError, type CacheStats } from "prisma-query-cache";
import { summarise, timeCalls } from "../bench/measure.ts";
import { connectRedis, deleteKeys } from "./support/redis.ts";
import { seed } from "./support/seed.ts";
import { sqliteDatabase, type ExampleClient } from "./support/database.ts";
import { traced } from "./support/trace.ts";

/** Calls per timed series. */
const CALLS = 1000;
const PLAN = {
  tenants: [
    { slug: "acme", users: 12 },
    { slug: "globex", users: 7 },
  ],
  postsPerUser: 3,
};
/** A prefix of this run only: entries left in Redis by an earlier run are never served. */
const PREFIX = `pqc-demo:${process.pid}:`;

/** The tenant of the current request, as a web framework's middleware would set it. */
const tenantScope = new AsyncLocalStorage<string>();
/**
 * Runs `work` as tenant `slug`. It awaits inside the scope on purpose: Prisma
 * queries are lazy and run (and ask `context`) when awaited, not when called.
 */
const asTenant = <T>(slug: string, work: () => PromiseLike<T>): Promise<T> =>
  tenantScope.run(slug, async () => await work());

function currentTenant(): string {
  const slug = tenantScope.getStore();
  if (slug === undefined) throw new Error("no tenant: run this inside asTenant()");
  return slug;
}

/**
 * The app's client: a tenant filter (an ordinary `query` extension) below
 * the cache, and the cache last. The filter makes results depend on the
 * tenant, so `context` must put the tenant in every key.
 */
function appClient(base: ExampleClient, redis: Redis | undefined) {
  const tenantScoped = base.$extends({
    query: {
      post: {
        findMany: ({ args, query }) => query({ ...args, where: { ...args.where, tenant: { slug: currentTenant() } } }),
      },
    },
  });
  return tenantScoped.$extends(
    cacheExtension({
      ...(redis ? { redis } : {}),
      prefix: PREFIX,
      context: () => ({ tenant: tenantScope.getStore() }),
      onError: reportAbsorbed,
    }),
  );
}

type App = ReturnType<typeof appClient>;

/**
 * The cache absorbs its own failures (the database answers instead) and reports them here. One line each: a slow
 * Redis on a busy machine is worth a note, not a stack trace.
 */
function reportAbsorbed(error: CacheError): void {
  console.log(`   (absorbed, the database answered: ${error.message})`);
}

/** Runs `work` and returns how many tag invalidations it made on `app`. */
async function invalidationsBy(app: App, work: () => PromiseLike<unknown>): Promise<number> {
  const before = app.$cache.stats().invalidations;
  await work();
  return app.$cache.stats().invalidations - before;
}

async function firstVersusRepeated(app: App): Promise<void> {
  const publishedPosts = (cache: boolean) =>
    app.post.findMany({ where: { published: true }, orderBy: { id: "asc" }, cache });
  // Prisma compiles a query shape on first use (tens of ms): do that uncached, so call 1 shows the database, not the
  // compiler.
  await publishedPosts(false);
  console.log("\n1. one cached read, repeated (as acme: post.findMany({ where: { published: true }, cache: true }))");
  for (const call of [1, 2]) {
    const { result, micros, source } = await traced(app, () => publishedPosts(true));
    console.log(`   call ${call}:${micros.toFixed(1).padStart(12)} us  ${source.padEnd(17)} ${result.length} posts`);
  }
  // The Redis write of call 1 runs in the background; the timed loop below keeps the event loop busy, and a timer
  // that cannot fire would count that busy loop as a slow Redis.
  await app.$cache.settled();
  const rest = summarise(await timeCalls(CALLS, () => publishedPosts(true)));
  // p50 first: on a busy machine a few calls wait for the CPU, which the mean shows and the median does not.
  console.log(
    `   calls 3-${CALLS + 2}: p50 ${rest.p50.toFixed(1)} us, mean ${rest.mean.toFixed(1)} us, in-process hits`,
  );
}

async function latency(app: App, userIds: readonly number[]): Promise<void> {
  const read = (cache: boolean) => (i: number) =>
    app.user.findUnique({ where: { id: userIds[i % userIds.length] as number }, cache });
  // Warm both: one miss per user fills the cache, and the JIT sees both paths before they are timed.
  await timeCalls(CALLS, read(false));
  await timeCalls(CALLS, read(true));
  const uncached = summarise(await timeCalls(CALLS, read(false))).mean;
  const cached = summarise(await timeCalls(CALLS, read(true))).mean;
  console.log(`\n2. user.findUnique by id, mean of ${CALLS} calls (ids rotated, after a warm-up)`);
  console.log(`   uncached (SQLite): ${uncached.toFixed(1).padStart(7)} us`);
  console.log(`   cached:            ${cached.toFixed(1).padStart(7)} us   ${(uncached / cached).toFixed(0)}x faster`);
}

async function contextSeparation(app: App): Promise<void> {
  console.log("\n3. the same query as two tenants: the tenant is part of the key");
  for (const slug of ["acme", "globex"]) {
    const posts = await asTenant(slug, () =>
      app.post.findMany({ where: { published: true }, orderBy: { id: "asc" }, cache: true }),
    );
    console.log(`   ${slug.padEnd(7)} ${posts.length} posts, first "${posts[0]?.title}"`);
  }
}

async function mutationIsolation(app: App, userId: number): Promise<void> {
  const first = await app.user.findUnique({ where: { id: userId }, cache: true });
  if (first === null) throw new Error(`user ${userId} is missing`);
  const original = { name: first.name, settings: JSON.stringify(first.settings) };
  first.name = "MUTATED";
  (first.settings as { theme: string }).theme = "MUTATED";
  const next = await app.user.findUnique({ where: { id: userId }, cache: true });
  const intact = next?.name === original.name && JSON.stringify(next?.settings) === original.settings;
  console.log(
    `\n4. the caller set name and settings.theme of its result to "MUTATED"; the next hit returns "${next?.name}", theme "${(next?.settings as { theme: string }).theme}" (${intact ? "intact" : "LEAKED"})`,
  );
}

/** A write through the cached client invalidates what it changed before it resolves; so does the tag API. */
async function writesInvalidate(app: App, userId: number): Promise<void> {
  const readUser = () => app.user.findUnique({ where: { id: userId }, cache: true });
  await readUser(); // cached (section 2 already cached it; this makes sure)
  const hit = await traced(app, readUser);
  const name = `${hit.result?.name ?? "?"} (edited)`;
  const bumped = await invalidationsBy(app, () => app.user.update({ where: { id: userId }, data: { name } }));
  const after = await traced(app, readUser);
  console.log("\n5. a write through the cached client invalidates what it changed, before it resolves:");
  console.log(`   cached read:                 ${`"${hit.result?.name}"`.padEnd(32)} ${hit.source}`);
  console.log(`   app.user.update(...) of it:  invalidations +${bumped} (tags r:User:<id> and m:User)`);
  console.log(`   same read:                   ${`"${after.result?.name}"`.padEnd(32)} ${after.source}`);

  const frontPage = () =>
    app.post.findMany({
      where: { published: true },
      orderBy: { views: "desc" },
      take: 3,
      cache: { tags: ["front-page"] },
    });
  await frontPage();
  const cached = await traced(app, frontPage);
  const cleared = await invalidationsBy(app, () => app.$cache.invalidate({ tags: ["front-page"] }));
  const fresh = await traced(app, frontPage);
  console.log(`   post.findMany({ ..., cache: { tags: ["front-page"] } }): ${cached.source}`);
  console.log(`   $cache.invalidate({ tags: ["front-page"] }): invalidations +${cleared}; same read: ${fresh.source}`);
}

/**
 * A write behind the cache's back (the base client): the cached read keeps the old row until its TTL, a transaction
 * sees the new one.
 */
async function transactionsBypass(app: App, base: ExampleClient, userId: number): Promise<void> {
  await base.user.update({ where: { id: userId }, data: { name: "Renamed behind the cache" } });
  const cached = await app.user.findUnique({ where: { id: userId }, cache: true });
  const before = app.$cache.stats();
  const interactive = await app.$transaction((tx) => tx.user.findUnique({ where: { id: userId }, cache: true }));
  const [batch] = await app.$transaction([app.user.findUnique({ where: { id: userId }, cache: true })]);
  const after = app.$cache.stats();
  console.log("\n6. after a write behind the cache's back (base client: no invalidation), the same read:");
  console.log(`   cached read:                 "${cached?.name}" (old until its TTL)`);
  console.log(`   in $transaction(async tx):   "${interactive?.name}"`);
  console.log(
    `   in $transaction([...]):      "${batch?.name}"   (cache hits +${after.l1Hits + after.l2Hits - before.l1Hits - before.l2Hits}, misses +${after.misses - before.misses})`,
  );
}

/** Concurrent misses of one key share one database query; a request scope dedupes even uncached reads. */
async function noHerd(app: App, userId: number): Promise<void> {
  const cold = () =>
    app.user.findMany({
      where: { id: { in: [userId] } },
      select: { id: true, name: true },
      cache: { ttl: 30, swr: 300 },
    });
  const before = app.$cache.stats();
  await Promise.all(Array.from({ length: 100 }, cold));
  const after = app.$cache.stats();
  const joined = after.coalesced - before.coalesced;
  console.log("\n7. expiry is a ramp, and a miss is never a herd:");
  console.log(
    `   100 concurrent cold reads of one key: ${after.misses - before.misses - joined} database query, ${joined} joined it (single-flight; with Redis, one across processes)`,
  );
  console.log(
    "   cache: { ttl: 30, swr: 300 }: fresh for 30 s, then served at once for 5 min while one background refresh runs",
  );
  const equal = await app.$cache.scope(
    async () =>
      (await app.post.count({ where: { published: true } })) === (await app.post.count({ where: { published: true } })),
  );
  console.log(
    `   in $cache.scope(...), the same uncached count twice: one database query (scopeHits +${app.$cache.stats().scopeHits - after.scopeHits}, equal: ${equal})`,
  );
}

/**
 * With Redis: a second instance B (another process, in production; one
 * extended client per process) finds what A stored, and sees A's writes.
 */
async function secondInstance(app: App, other: App, userId: number): Promise<void> {
  await app.$cache.settled(); // the Redis writes happen after the caller has its result
  await other.$cache.ready(); // B's in-process tier is in use once its invalidation bus has subscribed
  const { micros, source } = await traced(other, () =>
    other.post.findMany({ where: { published: true }, orderBy: { id: "asc" }, cache: true }),
  );
  console.log("\n8. a second instance B sharing Redis and prefix (another process, in production):");
  console.log(`   B, same read as in 1:        ${micros.toFixed(1)} us, ${source}`);
  const readOnB = () => other.user.findUnique({ where: { id: userId }, cache: true });
  await readOnB();
  const before = await traced(other, readOnB);
  await app.user.update({ where: { id: userId }, data: { name: `${before.result?.name ?? "?"} (edited on A)` } });
  const after = await traced(other, readOnB);
  console.log(`   B reads a user:              ${`"${before.result?.name}"`.padEnd(32)} ${before.source}`);
  console.log(`   A updates it, B reads again: ${`"${after.result?.name}"`.padEnd(32)} ${after.source}`);
}

/** What each counter printed at the end means, in the order printed. */
const COUNTERS: ReadonlyArray<[keyof CacheStats, string]> = [
  ["l1Hits", "answered by the in-process tier"],
  ["l2Hits", "answered by Redis"],
  ["misses", "cached reads no tier answered: they went to the database, or joined a read that did"],
  ["coalesced", "misses that joined a read of the same key already running (in 7, 99 of 100)"],
  ["scopeHits", "answered by a request scope ($cache.scope, middleware)"],
  ["bypassed", "reads that skipped the cache on purpose: no `cache` option (2, uncached), in a $transaction (6)"],
  ["errors", "cache failures absorbed: the database answered, onError was told"],
  ["invalidations", "tags bumped by writes through the client and by $cache.invalidate"],
  ["l1Entries", "entries in the in-process tier now"],
  ["l1Bytes", "their estimated size in bytes"],
];

/** Each instance's `$cache.stats()`, side by side, with what each counter means. */
function printStats(clients: readonly App[]): void {
  const stats = clients.map((client) => client.$cache.stats());
  const names = clients.length > 1 ? ["A", "B"] : ["A"];
  console.log(`\n$cache.stats() of ${clients.length > 1 ? "each instance" : "the instance"}:`);
  console.log(`   ${"".padEnd(14)}${names.map((name) => name.padStart(7)).join("")}`);
  for (const [counter, meaning] of COUNTERS) {
    const values = stats.map((each) => String(each[counter]).padStart(7)).join("");
    console.log(`   ${counter.padEnd(14)}${values}  ${meaning}`);
  }
}

async function main(): Promise<void> {
  const database = await sqliteDatabase("demo");
  const base = database.prisma;
  const redis = process.env.REDIS_URL ? await connectRedis(process.env.REDIS_URL) : undefined;
  const clients: App[] = [];
  try {
    const tenants = await seed(base, PLAN);
    const acmeUsers = tenants[0]?.userIds ?? [];
    const app = appClient(base, redis);
    clients.push(app);
    await app.$cache.ready(); // with Redis: the in-process tier is used once the invalidation bus has subscribed
    console.log(
      `prisma-query-cache demo: ${database.description}, tiers: in-process${redis ? ` + Redis ${process.env.REDIS_URL}` : " only (set REDIS_URL to add Redis)"}`,
    );
    console.log(
      `seeded tenants ${PLAN.tenants.map((t) => `${t.slug} (${t.users} users)`).join(" and ")}, ${PLAN.postsPerUser} posts per user`,
    );

    await asTenant("acme", async () => {
      await firstVersusRepeated(app);
      await latency(app, acmeUsers);
    });
    await contextSeparation(app);
    await asTenant("acme", async () => {
      await mutationIsolation(app, acmeUsers[0] as number);
      await writesInvalidate(app, acmeUsers[2] as number);
      await transactionsBypass(app, base, acmeUsers[1] as number);
      await noHerd(app, acmeUsers[4] as number);
      if (redis) {
        const other = appClient(base, redis);
        clients.push(other);
        await secondInstance(app, other, acmeUsers[3] as number);
      }
    });
    printStats(clients);
  } finally {
    // close() leaves the invalidation bus and stops retries; it must come before the Redis client is quit.
    for (const client of clients) await client.$cache.close();
    await database.close();
    if (redis) {
      await deleteKeys(redis, PREFIX);
      await redis.quit();
    }
  }
}

await main();
