/**
 * Instance B of the two-instance example: its own process, Prisma client,
 * Redis connection and in-process tier, on the same database, Redis and
 * prefix as A. Started by main.ts, it answers A's requests (instance.ts)
 * with what it read and which tier answered.
 */
import { connectRedis } from "../support/redis.ts";
import { connect, type DatabaseLocation } from "../support/database.ts";
import { instanceClient, postsPerAuthor, readUser, type Request } from "./instance.ts";

const location = JSON.parse(process.env.EXAMPLE_DATABASE ?? "null") as DatabaseLocation | null;
const redisUrl = process.env.REDIS_URL;
const prefix = process.env.EXAMPLE_PREFIX;
if (location === null || redisUrl === undefined || prefix === undefined || process.send === undefined)
  throw new Error("instance-b.ts is started by examples/two-instances/main.ts (npm run example:two-instances)");
const send = process.send.bind(process);

const base = connect(location);
const redis = await connectRedis(redisUrl);
const b = instanceClient(base, redis, prefix, "B");
await b.$cache.ready();
const computed = { count: 0 };

process.on("message", (request: Request) => {
  void (async () => {
    if (request.op === "readUser") send(await readUser(b, request.id));
    else if (request.op === "postsPerAuthor")
      send({ ...(await postsPerAuthor(b, computed)), computed: computed.count });
    else if (request.op === "stats") send(b.$cache.stats());
    else {
      // close() leaves the invalidation bus; it comes before the Redis client is quit.
      await b.$cache.close();
      await base.$disconnect();
      await redis.quit();
      send({ closed: true });
      process.disconnect();
    }
  })();
});
send({ ready: true });
