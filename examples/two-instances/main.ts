/**
 * Two instances sharing Redis (`npm run example:two-instances`): this process is instance A; it starts instance B as
 * a second process (instance-b.ts) on the same database, Redis and key prefix, as two servers of one app would be.
 *
 * What it shows:
 * - B finds what A stored in Redis (a Redis hit), then serves it from its own in-process tier;
 * - a write through A resolves only once B can no longer serve what it changed: B's next read has the new row;
 * - `$cache.getOrSet` computes a value once for both instances, and a write on A makes B compute it again;
 * - both instances' `$cache.stats()`.
 *
 * Needs Redis: `REDIS_URL`, else the local one at redis://127.0.0.1:6379. The database is embedded SQLite, or the
 * Postgres at `DATABASE_URL` (schema from `npm run db:setup`).
 */
import { fork } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import type { CacheStats } from "prisma-query-cache";
import { DEFAULT_REDIS_URL } from "../../scripts/lib/database.mjs";
import { deleteKeys } from "../support/redis.ts";
import { exampleDatabase, seedOnce } from "../support/database.ts";
import type { Traced } from "../support/trace.ts";
import { instanceClient, postsPerAuthor, readUser, type Request } from "./instance.ts";

const REDIS_URL = process.env.REDIS_URL ?? DEFAULT_REDIS_URL;

/** A ready Redis client, or a clear exit: this example has nothing to show without Redis. */
async function connectOrExplain(url: string): Promise<Redis> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 3_000, retryStrategy: () => null });
  // Kept for the message below; without a listener ioredis prints the event with its stack.
  let cause: unknown;
  redis.on("error", (error: unknown) => (cause ??= error));
  try {
    await redis.connect();
    return redis;
  } catch (error) {
    redis.disconnect();
    console.error(
      `This example needs Redis, and none answered at ${url} (${((cause ?? error) as Error).message}).\n` +
        "Start one (redis-server) or set REDIS_URL, then run `npm run example:two-instances` again.",
    );
    process.exit(1);
  }
}

/** A result, strings quoted, padded so that the tier column lines up. */
const shown = (value: unknown): string => (typeof value === "string" ? `"${value}"` : String(value)).padEnd(28);

/** A computation's miss runs `fn`, not a database query. */
const computation = (source: string): string => source.replace("database", "fn");

async function main(): Promise<void> {
  const redis = await connectOrExplain(REDIS_URL);
  const database = await exampleDatabase("two-instances");
  // One fixed prefix per app in production; this run's data may be new (SQLite), so its entries are this run's too.
  const prefix = `pqc-example-two:${process.pid}:`;
  const [acme] = await seedOnce(database.prisma, { tenants: [{ slug: "acme", users: 4 }], postsPerUser: 2 });
  const userId = acme?.userIds[0] as number;
  const a = instanceClient(database.prisma, redis, prefix, "A");
  await a.$cache.ready();

  const b = fork(fileURLToPath(new URL("./instance-b.ts", import.meta.url)), {
    execArgv: ["--import", "tsx"],
    env: { ...process.env, REDIS_URL, EXAMPLE_DATABASE: JSON.stringify(database.location), EXAMPLE_PREFIX: prefix },
  });
  const ask = async <T>(request: Request): Promise<T> => {
    b.send(request);
    const [answer] = (await once(b, "message")) as [T];
    return answer;
  };
  await once(b, "message"); // { ready: true }: B's bus has subscribed
  try {
    console.log(
      `two instances on ${database.description} and Redis ${REDIS_URL}: A (pid ${process.pid}) and B (pid ${b.pid})`,
    );

    console.log(`\n1. the same cached read, user.findUnique({ where: { id: ${userId} }, cache: true }):`);
    const first = await readUser(a, userId);
    console.log(`   A reads it:        ${shown(first.result)} ${first.source} (and stored in Redis)`);
    await a.$cache.settled(); // the Redis write happens after the caller has its result
    for (const label of ["B reads it:       ", "B reads it again: "]) {
      const read = await ask<Traced<string>>({ op: "readUser", id: userId });
      console.log(`   ${label} ${shown(read.result)} ${read.source}`);
    }

    console.log("\n2. a write through A resolves only once B can no longer serve what it changed:");
    const name = `${first.result ?? "?"} (renamed on A)`;
    await a.user.update({ where: { id: userId }, data: { name } });
    console.log(`   A: user.update({ where: { id: ${userId} }, data: { name } }) resolved`);
    const after = await ask<Traced<string>>({ op: "readUser", id: userId });
    console.log(`   B reads it:        ${shown(after.result)} ${after.source}`);

    console.log('\n3. $cache.getOrSet("published-posts-per-author", fn, { models: ["Post", "User"] }):');
    const computedOnA = { count: 0 };
    const onA = await postsPerAuthor(a, computedOnA);
    console.log(`   A asks:            ${shown(onA.result)} ${computation(onA.source)}`);
    await a.$cache.settled();
    const onB = await ask<Traced<number> & { computed: number }>({ op: "postsPerAuthor" });
    console.log(
      `   B asks:            ${shown(onB.result)} ${computation(onB.source)}, fn ran ${onB.computed} times on B`,
    );
    await a.post.updateMany({ where: { published: false }, data: { published: true } });
    console.log("   A publishes every draft (post.updateMany)");
    const again = await ask<Traced<number> & { computed: number }>({ op: "postsPerAuthor" });
    console.log(
      `   B asks:            ${shown(again.result)} ${computation(again.source)}, fn ran ${again.computed} time on B`,
    );

    const stats: CacheStats[] = [a.$cache.stats(), await ask<CacheStats>({ op: "stats" })];
    console.log("\n$cache.stats() of each instance:");
    console.log(`   ${"".padEnd(14)}${"A".padStart(6)}${"B".padStart(6)}`);
    for (const counter of ["l1Hits", "l2Hits", "misses", "invalidations", "l1Entries"] as const)
      console.log(`   ${counter.padEnd(14)}${stats.map((each) => String(each[counter]).padStart(6)).join("")}`);
  } finally {
    if (b.connected) await ask({ op: "close" });
    // close() leaves the invalidation bus; it comes before the Redis client is quit.
    await a.$cache.close();
    await database.close();
    await deleteKeys(redis, prefix);
    await redis.quit();
  }
}

await main();
