/**
 * Review of 7fe517c (one Redis deadline per read): a lock waiter's takes and
 * looks all draw on one redisTimeout. A wait makes two round trips per poll
 * (a take, then a look; 50 ms apart at most), so the Redis time of a wait
 * grows with the holder's load time, without bound, and a waiter behind a
 * slow load gives up on Redis and loads itself, however healthy Redis is:
 * at a round trip of r ms, after about redisTimeout / (2 r) polls. With the
 * default redisTimeout (250 ms) and an 8 ms round trip (well under the third
 * of it docs/operations.md asks for), the waiter gives up after ~1 s of a
 * 2 s load: two database queries of the slowest queries, the ones the lock
 * exists for. Before 7fe517c each take and look had its own redisTimeout.
 *
 * The waiter reaches Redis through a delaying proxy (4 ms each way); the
 * holder reaches it directly and its database read is held for 2 s.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { CachedPrisma } from "../helpers/clients.js";
import { startDelayingProxy, type DelayingProxy } from "../helpers/delaying-proxy.js";
import { describeWith } from "../helpers/describe-with.js";
import { Harness } from "../helpers/harness.js";
import { ReadGate } from "../helpers/read-gate.js";
import { REDIS_URL } from "../helpers/services.js";
import { postgresTarget } from "../helpers/targets.js";

const DELAY_EACH_WAY_MS = 4;
const HOLD_MS = 2_000;

describeWith(["postgres", "redis"], "review: a lock wait's Redis time under the read budget", () => {
  const env = new Harness(postgresTarget({ redis: true }));
  let proxy: DelayingProxy;
  beforeAll(async () => {
    await env.start();
    proxy = await startDelayingProxy(REDIS_URL);
  });
  afterAll(async () => {
    await env.stop();
    await proxy.close();
  });

  it("a waiter behind a 2 s load, Redis round trip 8 ms, default redisTimeout: it serves the holder's entry (one query)", async () => {
    const w = await env.world("lock-wait-budget");
    const prefix = env.newPrefix();
    const options = { prefix, lock: { wait: "5s" } } as const; // redisTimeout: the default 250 ms
    const gate = new ReadGate();
    const holder = await env.instance({ ...options, over: env.connect(), gate });
    const redis = env.adopt(new Redis(proxy.url, { lazyConnect: true, maxRetriesPerRequest: 1 }));
    redis.on("error", () => undefined);
    await redis.connect();
    proxy.delayEachWay(DELAY_EACH_WAY_MS);
    const waiter = await env.instance({ ...options, over: env.connect(), redis });
    const read = (p: CachedPrisma) =>
      p.user.findUnique({ where: { id: w.users.alice }, select: { email: true }, cache: true });
    const before = holder.database.queries + waiter.database.queries;

    const held = gate.arm((model, operation) => model === "User" && operation === "findUnique");
    const first = read(holder.prisma).then((value) => value);
    await held.arrived; // the holder has the lock and is loading
    const second = read(waiter.prisma).then((value) => value);
    await new Promise((resolve) => setTimeout(resolve, HOLD_MS));
    held.release();
    expect(await second).toEqual(await first);

    expect.soft(waiter.log.codes(), "a healthy Redis is not reported").toEqual([]);
    expect(holder.database.queries + waiter.database.queries - before, "the waiter served the holder's entry").toBe(1);
  });
});
